"""The controller's frame budget: panel repaints are timed and counted with the updates,
costly panels are staggered over ticks, the step axis moves with each panel's own update,
and long curves are drawn at about one min/max pair per pixel column."""
from __future__ import annotations

import time

import numpy as np
import pytest

pytest.importorskip("pytestqt")
pg = pytest.importorskip("pyqtgraph")
from PySide6 import QtCore, QtWidgets  # noqa: E402

from workbench.run import Run  # noqa: E402
from workbench.ui.bus import UiBus  # noqa: E402
from workbench.ui.controller import Controller  # noqa: E402
from workbench.ui.panels import curves, timeaxis as T  # noqa: E402
from workbench.ui.panels.base import Panel  # noqa: E402

from test_panels_curves import SMALL, make, snapshot  # noqa: E402

PAINT_S = 0.004


class _SlowItem(pg.GraphicsObject):
    """An item whose paint takes PAINT_S seconds (a costly plot)."""

    def boundingRect(self):
        return QtCore.QRectF(0, 0, 1, 1)

    def paint(self, p, *args):
        time.sleep(PAINT_S)


class _SlowPanel(Panel):
    """A panel with one plot view that is slow to paint; it records its updates."""
    object_name = "slow"

    def __init__(self, bus, name):
        super().__init__(bus)
        self.object_name = name
        self.view = pg.GraphicsLayoutWidget(self)
        self.view.addPlot().addItem(_SlowItem())
        lay = QtWidgets.QVBoxLayout(self)
        lay.addWidget(self.view)
        self.updates: list[int] = []

    def update_snapshot(self, snap) -> None:
        self.updates.append(snap.seq)
        self.view.scene().update()


def test_paint_meter_times_each_views_paint(qtbot):
    panel = _SlowPanel(UiBus(), "a")
    qtbot.addWidget(panel)
    panel.resize(300, 200)
    panel.show()
    qtbot.waitExposed(panel)
    panel.paint_meter.watch()
    panel.paint_meter.watch()            # idempotent: one filter per viewport
    panel.paint_meter.log = []
    panel.view.viewport().update()
    qtbot.waitUntil(lambda: len(panel.paint_meter.log) >= 1, timeout=2000)
    assert min(panel.paint_meter.log) >= 1000 * PAINT_S
    assert panel.paint_meter.estimate() >= 1000 * PAINT_S


class _GroupPanel(_SlowPanel):
    """Like the time plots: 5 Hz while more than two of its group are on screen."""
    max_hz = 5.0
    rate_group = "plots"
    few_on_screen = 2
    max_hz_few = None


def _controller_over(qtbot, names, cls=_SlowPanel):
    """A controller over slow panels side by side on screen, and their host widget (keep
    it: the host owns the controller and the panels)."""
    bus = UiBus()
    host = QtWidgets.QWidget()
    qtbot.addWidget(host)
    lay = QtWidgets.QHBoxLayout(host)
    panels = [cls(bus, n) for n in names]
    for p in panels:
        lay.addWidget(p)
    host.resize(900, 300)
    host.show()
    qtbot.waitExposed(host)
    c = Controller(bus, SMALL, panels, parent=host)
    c.start_up()
    return c, panels, host


def _wait_paused(qtbot, c: Controller) -> None:
    qtbot.waitUntil(lambda: c.runner.latest() is not None
                    and c.runner.latest().status == "paused", timeout=30000)


def test_budget_counts_repaints_and_staggers_costly_panels(qtbot):
    c, panels, _host = _controller_over(qtbot, ("a", "b", "c"))
    try:
        _wait_paused(qtbot, c)
        for p in panels:
            p.updates.clear()
            # an update costs nothing here, its repaint 8 ms: two do not fit in 12 ms
            p.paint_meter.ms = {0: 8.0}
        c.frame_budget_ms = 12.0
        c._timer.stop()       # noqa: SLF001 - ticks driven by hand
        c._panel_seq.clear()  # noqa: SLF001 - every panel has the snapshot to show
        c._on_tick()          # noqa: SLF001
        assert sum(len(p.updates) for p in panels) == 1
        c._on_tick()          # noqa: SLF001
        c._on_tick()          # noqa: SLF001
        # round robin: each panel got the snapshot once, one per tick
        assert [len(p.updates) for p in panels] == [1, 1, 1]
        # without the repaints counted, one tick would have updated all three
        for p in panels:
            p.paint_meter.ms = {}
        c._panel_seq.clear()  # noqa: SLF001
        c._on_tick()          # noqa: SLF001
        assert [len(p.updates) for p in panels] == [2, 2, 2]
    finally:
        c.shutdown()


@pytest.mark.parametrize("n, caps, updates", [(2, None, 2), (3, 5.0, 1)])
def test_few_panels_of_a_rate_group_refresh_every_tick(qtbot, n, caps, updates):
    # two time plots on screen (one tab in the default layout) follow every tick; three
    # or more side by side fall back to their max_hz
    c, panels, _host = _controller_over(qtbot, "abc"[:n], _GroupPanel)
    try:
        _wait_paused(qtbot, c)
        c._timer.stop()       # noqa: SLF001 - ticks driven by hand
        for p in panels:
            p.updates.clear()
            p.paint_meter.ms = {}
        c._panel_time.clear()     # noqa: SLF001 - none updated lately
        for _ in range(2):    # two ticks, each with a snapshot the panels have not shown
            c._panel_seq.clear()  # noqa: SLF001
            c._on_tick()          # noqa: SLF001
        assert c.rate_caps == {name: caps for name in "abc"[:n]}
        assert [len(p.updates) for p in panels] == [updates] * n
        # a panel outside any group keeps its own max_hz whatever is on screen
        assert _SlowPanel(UiBus(), "x").rate_cap(0) is None
    finally:
        c.shutdown()


def test_panels_left_over_get_a_tick_soon_after(qtbot):
    c, panels, _host = _controller_over(qtbot, ("a", "b"))
    try:
        _wait_paused(qtbot, c)
        for p in panels:
            p.updates.clear()
            p.paint_meter.ms = {0: 8.0}
        c._panel_seq.clear()  # noqa: SLF001
        c._on_tick()          # noqa: SLF001
        assert c._soon.isActive() and c._soon.interval() <= 12   # noqa: SLF001
        # the second panel is shown well before the 33 ms timer's next tick
        qtbot.waitUntil(lambda: all(p.updates for p in panels), timeout=1000)
    finally:
        c.shutdown()
    assert not c._soon.isActive()   # noqa: SLF001


def test_step_axis_moves_with_each_panels_own_update(qtbot):
    run = Run(SMALL, diagnostics=False)
    run.run_steps(400)
    bus = UiBus()
    a = make(qtbot, curves.LossPanel, run, bus, show=True)
    b = make(qtbot, curves.AccuracyPanel, run, bus, show=True)
    a.update_snapshot(snapshot(run, 1))
    b.update_snapshot(snapshot(run, 1))
    before = b.plot.getViewBox().viewRange()[0]
    run.run_steps(1600)
    a.update_snapshot(snapshot(run, 2))
    hi = T.step_ceil(1.15 * run.step)
    assert a.plot.getViewBox().viewRange()[0] == pytest.approx([0, hi])
    # the other panel's plot keeps its range (no repaint) until its own update
    assert b.plot.getViewBox().viewRange()[0] == pytest.approx(before)
    b.update_snapshot(snapshot(run, 2))
    assert b.plot.getViewBox().viewRange()[0] == pytest.approx([0, hi])


def test_coarsened_decimation_is_min_and_max_of_bucket_groups():
    rng = np.random.default_rng(3)
    y = rng.random(40_000)
    y[12_345] = 9.0
    y[23_456] = -9.0
    d = T.PeakDecimator(max_buckets=2048)
    d.update(y[:30_000])
    x, yd = d.update(y, x0=1.0, coarsen=4)
    nb, b = d.nb // 4, d.b * 4
    ref = y[:nb * b].reshape(nb, b)
    np.testing.assert_array_equal(yd[0:2 * nb:2], ref.min(axis=1))
    np.testing.assert_array_equal(yd[1:2 * nb:2], ref.max(axis=1))
    np.testing.assert_array_equal(yd[2 * nb:], y[nb * b:])       # the rest as it is
    assert x[0] == pytest.approx(1 + (b - 1) / 2) and yd.max() == 9.0 and yd.min() == -9.0
    # coarsen=1 is the plain decimation
    x1, y1 = d.update(y, x0=1.0)
    assert len(y1) == 2 * d.nb + (len(y) - d.nb * d.b)


@pytest.fixture(scope="module")
def long_run():
    """30,000 steps: per-step curves long enough to be decimated."""
    run = Run({**SMALL, "training": {"epochs": 10_000}}, diagnostics=False)
    run.run_steps(30_000)
    return run


def _shown(qtbot, cls, run, width: int):
    """A panel of ``cls`` on screen, ``width`` pixels wide, showing ``run``."""
    panel = make(qtbot, cls, run, show=True)
    panel.resize(width, 300)
    qtbot.waitExposed(panel)
    panel.update_snapshot(snapshot(run, 1))
    return panel


def test_long_curves_are_drawn_at_about_a_pair_per_pixel(qtbot, long_run):
    panel = _shown(qtbot, curves.GradientsPanel, long_run, 400)
    x, y = panel.curve_data("layer0")
    dx, dy = panel.displayed_data("layer0")
    width = panel.plot.getViewBox().width()
    lod = panel._lod["layer0"]    # noqa: SLF001
    # one min/max pair per pixel column or coarser than half a pixel, plus the tail
    assert len(dx) <= 2 * 2 * width + 2 * lod.b
    assert len(dx) >= width / 2
    assert np.nanmax(dy) == np.nanmax(y) and np.nanmin(dy) == np.nanmin(y)


def test_histogram_count_axis_moves_only_when_the_bars_leave_it(qtbot):
    from workbench.ui.panels.histograms import WeightsPanel
    plot = pg.PlotItem()
    plot.getViewBox().enableAutoRange(x=False)
    seen = []
    for top in (37, 45, 30, 19, 60):
        WeightsPanel._steady_counts(plot, float(top))      # noqa: SLF001
        seen.append(plot.getViewBox().viewRange()[0][1])
    # 37 -> 0..50; 45 and 30 fit; 19 fills less than 40 %: 0..25; 60 leaves it: 0..80
    assert seen == pytest.approx([50, 50, 50, 25, 80])


def test_dashed_curves_keep_a_pair_per_pixel_in_a_narrow_plot(qtbot, long_run):
    # wide and dashed pens are decimated earlier, but drawn as finely as thin ones: at
    # six pixels a bucket a narrow plot showed the saturated fraction as a zigzag
    panel = _shown(qtbot, curves.ActivationsPanel, long_run, 260)
    width = panel.plot.getViewBox().width()
    dx, _ = panel.displayed_data("sat0")
    assert panel._lod_on["sat0"] >= 1      # noqa: SLF001 - decimated
    assert len(dx) >= width


def test_a_replaced_view_leaves_the_paint_estimate(qtbot):
    panel = _SlowPanel(UiBus(), "a")
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    panel.paint_meter.watch()
    panel.view.viewport().update()
    qtbot.waitUntil(lambda: panel.paint_meter.estimate() > 0, timeout=2000)
    old = panel.view
    panel.view = pg.GraphicsLayoutWidget(panel)
    panel.layout().replaceWidget(old, panel.view)
    old.deleteLater()
    qtbot.waitUntil(lambda: not panel.paint_meter.ms, timeout=2000)
