"""Undo/redo for every change of the run's description (config and hand-edited points).

A :class:`StateCommand` holds the state before and after one user action; the
controller applies a state by resetting the run (structural change) or by sending live
hyperparameters to it. One slider drag is one command: the slider commits once, when it
is released.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from PySide6.QtGui import QUndoCommand

from ..config import RunConfig

if TYPE_CHECKING:  # pragma: no cover
    from .controller import Controller


class Points(NamedTuple):
    """The training points of a run edited by hand: raw inputs (m, 2) and labels (m,)."""
    raw: np.ndarray
    labels: np.ndarray


class State(NamedTuple):
    """What a run is built from: its configuration and, if edited, its training points."""
    config: RunConfig
    points: Points | None = None


class StateCommand(QUndoCommand):
    """Change the run's state from ``old`` to ``new`` (undo: back to ``old``).

    Parameters
    ----------
    controller : Controller
    old, new : State
    text : str
        Shown in Edit > Undo <text>.
    applied : bool
        True when ``new`` is already in effect (the first redo, which QUndoStack.push
        calls, then does nothing).
    """

    def __init__(self, controller: "Controller", old: State, new: State, text: str,
                 applied: bool = False):
        super().__init__(text)
        self._controller = controller
        self.old = old
        self.new = new
        self._skip = applied

    def redo(self) -> None:
        if self._skip:
            self._skip = False
            return
        self._controller.apply_state(self.new)

    def undo(self) -> None:
        self._controller.apply_state(self.old)
