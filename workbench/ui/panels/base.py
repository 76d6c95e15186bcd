"""The panel interface every dock implements."""
from __future__ import annotations

import time
from typing import Any, Callable, ClassVar

from PySide6 import QtCore, QtGui, QtWidgets

from ..bus import UiBus
from ..context import RunContext


def on_screen(widget: QtWidgets.QWidget) -> bool:
    """Whether any pixel of ``widget`` can be seen. A dock in a background tab is not
    hidden by QMainWindow (isVisible() stays True, no showEvent when its tab is raised):
    it is moved out of the window, so its visible region is empty."""
    return widget.isVisible() and not widget.visibleRegion().isEmpty()


def clear_layout(glw) -> None:
    """Empty a pyqtgraph ``GraphicsLayoutWidget`` and delete what it held, now.

    ``glw.clear()`` only takes the plots out of the scene. A plot that anything still
    referenced (a lambda connected to its own view box keeps its owner, and the owner the
    plot) then lived on, unparented, until the process ended, and PySide's clean-up at exit
    crashed deleting it: a segmentation fault after the last test had passed, which failed
    CI. Deleting the C++ side at once leaves no such plot; a stale Python reference only
    holds a dead wrapper.
    """
    from shiboken6 import delete, isValid
    items = list(glw.ci.items)
    glw.clear()
    for item in items:
        if isValid(item):
            delete(item)


class PaintMeter(QtCore.QObject):
    """How long a panel's plot views take to paint (wall ms, exponential mean per view).

    Qt paints every view made dirty since the last paint in one pass of the event loop,
    so a panel's update costs its repaint too, usually more than the update itself; the
    controller's frame budget counts both (:meth:`estimate`). The meter is an event filter
    on each view's viewport that runs the paint itself, between two clock readings.
    """
    PROPERTY = "_wb_paint_meter"

    def __init__(self, panel: QtWidgets.QWidget):
        # The panel is the parent, reached through parent(): a Python reference back to
        # it made a cycle (panel -> meter -> panel) that the garbage collector freed at
        # some later moment, and a pyqtgraph scene then painted an item already gone
        # (a segfault in QGraphicsScene::itemsBoundingRect after tests/experiments).
        super().__init__(panel)
        self.ms: dict[int, float] = {}      # id(viewport) -> exponential mean
        #: When a list, every paint's duration (ms) is appended (benchmarks).
        self.log: list[float] | None = None

    def watch(self) -> None:
        """Time the plot views the panel holds now (idempotent; call after building)."""
        import pyqtgraph as pg
        panel = self.parent()
        if panel is None:
            return
        for view in panel.findChildren(pg.GraphicsView):
            vp = view.viewport()
            if vp is not None and not vp.property(self.PROPERTY):
                vp.setProperty(self.PROPERTY, True)
                vp.installEventFilter(self)
                # a view the panel replaces no longer counts in the estimate
                key = id(vp)
                vp.destroyed.connect(lambda *_, key=key: self.ms.pop(key, None))

    def estimate(self) -> float:
        """The expected cost (ms) of repainting the panel's views once."""
        return sum(self.ms.values())

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() != QtCore.QEvent.Type.Paint:
            return False
        view = obj.parent()
        if not hasattr(view, "viewportEvent"):
            return False
        tic = time.perf_counter()
        try:
            view.viewportEvent(event)      # what the scroll area's own filter would do
        finally:
            ms = 1000.0 * (time.perf_counter() - tic)
            key = id(obj)
            prev = self.ms.get(key)
            self.ms[key] = ms if prev is None else 0.8 * prev + 0.2 * ms
            if self.log is not None:
                self.log.append(ms)
        return True


class Panel(QtWidgets.QWidget):
    """A dock's content.

    Lifecycle (all on the GUI thread): ``set_context(ctx)`` when a run is created or its
    structure changes (rebuild plot items once); ``update_snapshot(snap)`` at about 30 Hz
    with the newest snapshot (update items in place with setData/setImage, cheap: a few
    ms at most; skip work when ``snap.seq`` has not changed). Heavy computations are
    declared by :meth:`worker_views` and run by the Runner off the GUI thread at a
    bounded rate (while training, on its view thread from a copy of the run's state:
    ``run.network``, ``run.gradient``, ``run.step``, ``run.unit_stats``); their results
    arrive in ``snap.views[name]``.
    """
    object_name: ClassVar[str] = "panel"
    title: ClassVar[str] = "Panel"
    help_text: ClassVar[str] = ""
    area: ClassVar[str] = "bottom"      # "central", "left", "right", "bottom", "below_central"
    #: At most this many updates a second while training (None: every GUI tick). Each
    #: update also repaints the panel, which costs more than the update itself.
    max_hz: ClassVar[float | None] = None
    #: Panels of the same ``rate_group`` share the GUI thread's repaint time: while at
    #: most ``few_on_screen`` of them are on screen, each may refresh at ``max_hz_few``
    #: (None: every GUI tick) instead of ``max_hz``.
    rate_group: ClassVar[str | None] = None
    few_on_screen: ClassVar[int] = 0
    max_hz_few: ClassVar[float | None] = None

    def rate_cap(self, on_screen_in_group: int) -> float | None:
        """Updates a second this panel may take while training, given how many panels of
        its ``rate_group`` are on screen (None: every GUI tick)."""
        if self.rate_group is not None and on_screen_in_group <= self.few_on_screen:
            return self.max_hz_few
        return self.max_hz

    def __init__(self, bus: UiBus, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.bus = bus
        self.ctx: RunContext | None = None
        self.setObjectName(self.object_name + "_widget")
        self.setToolTip(self.help_text)
        self.paint_meter = PaintMeter(self)

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


class ElidedLabel(QtWidgets.QLabel):
    """A one-line label that ends in "..." where it is narrower than its text (a long
    caption must neither widen its dock nor run into the widget beside it); ``text()``
    and the tooltip keep the whole text."""

    def __init__(self, text: str = "", parent: QtWidgets.QWidget | None = None):
        super().__init__(text, parent)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored,
                           QtWidgets.QSizePolicy.Policy.Preferred)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        super().setText(text)
        self.setToolTip(text)

    def elided_text(self) -> str:
        """The text as drawn at the label's width."""
        return self.fontMetrics().elidedText(self.text(), QtCore.Qt.TextElideMode.ElideRight,
                                             max(0, self.contentsRect().width()))

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        p = QtGui.QPainter(self)
        p.setPen(self.palette().color(self.foregroundRole()))
        p.drawText(self.contentsRect(), int(QtCore.Qt.AlignmentFlag.AlignLeft |
                                            QtCore.Qt.AlignmentFlag.AlignVCenter),
                   self.elided_text())
        p.end()
