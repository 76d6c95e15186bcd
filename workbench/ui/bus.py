"""Signals between panels and the window (all objects live on the GUI thread)."""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class UiBus(QObject):
    """One per window. Panels emit and listen; the window forwards to the run.

    step_marked(int): mark this step on every time plot (a finding was selected).
    cursor_moved(int): replay cursor at this step (-1: none).
    units_highlighted(object): list of (layer, unit) to ring on the network graph.
    weight_edit_requested(int, int, int, float): layer, row, col (-1 bias), value.
    hparams_requested(object): dict of live hyperparameter changes.
    point_added(float, float, int): raw x1, x2 and class of a training point to add
        (a click on the input plane; the window rebuilds the run, undoably).
    point_removed(float, float): remove the training point nearest to raw (x1, x2)
        (shift-click; nothing happens when no point is near).
    walkthrough_changed(object): the backprop walkthrough's position, a dict
        {"step": 0..4, "name": str, "columns": [graph columns, 0 = inputs]}, or None;
        the network graph shades those columns.
    message(str): a line for the status bar (a panel explaining why a click did nothing).
    """
    step_marked = Signal(int)
    cursor_moved = Signal(int)
    units_highlighted = Signal(object)
    weight_edit_requested = Signal(int, int, int, float)
    hparams_requested = Signal(object)
    remedy_requested = Signal(object)   # a Finding: start a run with its patch applied
    point_added = Signal(float, float, int)
    point_removed = Signal(float, float)
    walkthrough_changed = Signal(object)
    message = Signal(str)
