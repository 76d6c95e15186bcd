"""The panel interface every dock implements."""
from __future__ import annotations

from typing import Any, Callable, ClassVar

from PySide6 import QtWidgets

from ..bus import UiBus
from ..context import RunContext


def on_screen(widget: QtWidgets.QWidget) -> bool:
    """Whether any pixel of ``widget`` can be seen. A dock in a background tab is not
    hidden by QMainWindow (isVisible() stays True, no showEvent when its tab is raised):
    it is moved out of the window, so its visible region is empty."""
    return widget.isVisible() and not widget.visibleRegion().isEmpty()


class Panel(QtWidgets.QWidget):
    """A dock's content.

    Lifecycle (all on the GUI thread): ``set_context(ctx)`` when a run is created or its
    structure changes (rebuild plot items once); ``update_snapshot(snap)`` at about 30 Hz
    with the newest snapshot (update items in place with setData/setImage, cheap: a few
    ms at most; skip work when ``snap.seq`` has not changed). Heavy computations are
    declared by :meth:`worker_views` and run on the training thread by the Runner at a
    bounded rate; their results arrive in ``snap.views[name]``.
    """
    object_name: ClassVar[str] = "panel"
    title: ClassVar[str] = "Panel"
    help_text: ClassVar[str] = ""
    area: ClassVar[str] = "bottom"      # "central", "left", "right", "bottom", "below_central"
    #: At most this many updates a second while training (None: every GUI tick). Each
    #: update also repaints the panel, which costs more than the update itself.
    max_hz: ClassVar[float | None] = None

    def __init__(self, bus: UiBus, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.bus = bus
        self.ctx: RunContext | None = None
        self.setObjectName(self.object_name + "_widget")
        self.setToolTip(self.help_text)

    def set_context(self, ctx: RunContext) -> None:
        self.ctx = ctx

    def update_snapshot(self, snap) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    @staticmethod
    def worker_views(ctx: RunContext) -> dict[str, tuple[Callable[[Any], Any], float]]:
        """name -> (fn(run), hz): computed on the worker, delivered in snap.views[name]."""
        return {}

    def export_item(self):
        """The pyqtgraph item (PlotItem or GraphicsScene) for PNG/SVG export, or None."""
        return None

    def export_csv(self) -> tuple[list[str], list[list[float]]] | None:
        """Header and rows of the data shown, for File > Export data as CSV."""
        return None
