"""The time-plot panels: loss, accuracy, gradient norms, update ratios, activations and
the weight/gradient histograms, with their shared step axis and event markers.

Each test trains a real Run synchronously, builds a Snapshot from its history (as the
Runner publishes it) and checks what the plot items hold. One test drives a real Runner
thread with the histogram worker view.
"""
from __future__ import annotations

import math
import os

import numpy as np
import pytest

pytest.importorskip("pytestqt")
pg = pytest.importorskip("pyqtgraph")
from PySide6 import QtWidgets  # noqa: E402

from workbench.run import Run  # noqa: E402
from workbench.run.runner import Runner, Snapshot  # noqa: E402
from workbench.ui.bus import UiBus  # noqa: E402
from workbench.ui.context import RunContext, layer_color  # noqa: E402
from workbench.ui.panels import curves, histograms as H, timeaxis as T  # noqa: E402

SHOTS = os.environ.get("WB_SHOTS", "/tmp/shots")
SMALL = {"seed": 0, "data": {"name": "circle", "n_samples": 200},
         "model": {"hidden": [[6, "tanh"], [4, "relu"]]},
         "optimizer": {"lr": 0.03, "momentum": 0.9}, "training": {"epochs": 1000}}
CURVE_CLASSES = (curves.LossPanel, curves.AccuracyPanel, curves.GradientsPanel,
                 curves.UpdateRatioPanel, curves.ActivationsPanel)
ALL_CLASSES = CURVE_CLASSES + (H.WeightsPanel,)


# --- helpers ------------------------------------------------------------------------------
def snapshot(run: Run, seq: int, views: dict | None = None, steps: dict | None = None,
             status: str = "paused") -> Snapshot:
    """What Runner._publish would publish for ``run`` now."""
    return Snapshot(
        seq=seq, status=status, step=run.step, epoch=run.epoch,
        epoch_progress=run.epoch_progress, total_steps=run.total_steps,
        epochs=run.config.training["epochs"], lr=run.current_lr, hp=dict(run.hp),
        steps_per_s=0.0, steps=steps if steps is not None else run.history.steps(),
        evals=run.history.evals(), events=tuple(e.to_dict() for e in run.events),
        theta=run.network.theta.copy(), nonfinite=run.nonfinite, views=views or {})


def context(run: Run) -> RunContext:
    return RunContext(config=run.config, dataset=run.dataset, network=run.network.copy())


def make(qtbot, cls, run: Run, bus: UiBus | None = None, show: bool = False):
    panel = cls(bus or UiBus())
    qtbot.addWidget(panel)
    panel.resize(900, 320)
    panel.set_context(context(run))
    if show:
        panel.show()
    return panel


@pytest.fixture
def run_with_event():
    """300 steps, a learning-rate change, 200 more steps."""
    run = Run(SMALL, diagnostics=False)
    run.run_steps(300)
    run.set_hyperparameters(lr=0.3)
    run.run_steps(200)
    return run


def pen_color(item: pg.PlotDataItem) -> str:
    return pg.mkPen(item.opts["pen"]).color().name()


# --- loss ------------------------------------------------------------------------------------
def test_loss_curves_equal_the_history(qtbot, run_with_event):
    run = run_with_event
    panel = make(qtbot, curves.LossPanel, run)
    panel.set_smoothing(0.0)
    snap = snapshot(run, 1)
    panel.update_snapshot(snap)
    x, y = panel.curve_data("train_step")
    assert len(x) == len(y) == run.step == 500
    np.testing.assert_array_equal(x, np.arange(1, 501))
    np.testing.assert_array_equal(y, snap.steps["loss"])
    # smoothing 0: the "smoothed" curve is the raw data, and it is hidden
    xs, ys = panel.curve_data("train_smooth")
    np.testing.assert_array_equal(ys, snap.steps["loss"])
    assert not panel._curves["train_smooth"].isVisible()
    # evaluations at their steps
    ev = snap.evals
    assert len(ev["step"]) >= 3
    for name, key in (("train_eval", "train_loss"), ("test_eval", "test_loss")):
        ex, ey = panel.curve_data(name)
        np.testing.assert_array_equal(ex, ev["step"])
        np.testing.assert_array_equal(ey, ev[key])
    # more steps: the same items hold the longer history
    items = dict(panel._curves)
    run.run_steps(100)
    panel.update_snapshot(snapshot(run, 2))
    assert panel._curves == items
    assert len(panel.curve_data("train_step")[0]) == 600


def test_smoothing_is_the_debiased_ema(qtbot, run_with_event):
    # by hand, w = 0.5: m1 = 0.5 -> 0.5 / 0.5 = 1; m2 = 0.25 + 1 = 1.25 -> 1.25 / 0.75;
    # NaN is shown as is and skipped; m3 = 0.625 + 2 = 2.625 -> 2.625 / 0.875 = 3
    y = np.array([1.0, 2.0, np.nan, 4.0])
    out = T.debiased_ema(y, 0.5)
    np.testing.assert_allclose(out[[0, 1, 3]], [1.0, 1.25 / 0.75, 3.0], rtol=1e-14)
    assert math.isnan(out[2])
    np.testing.assert_array_equal(T.debiased_ema(y, 0.0), y)
    # a constant stays constant (the debiasing removes the pull to the zero start)
    np.testing.assert_allclose(T.debiased_ema(np.full(50, 0.7), 0.9), 0.7, rtol=1e-12)
    # the incremental cache equals one pass over the whole series
    rng = np.random.default_rng(0)
    z = rng.random(1000)
    cache = T.EMACache()
    for n in (10, 11, 400, 1000):
        part = cache.update(z[:n], 0.8)
    np.testing.assert_allclose(part, T.debiased_ema(z, 0.8), rtol=1e-12)
    # a new series of the same length is noticed (a rewind, a new run)
    z2 = z.copy()
    z2[999] += 1.0
    np.testing.assert_allclose(cache.update(z2, 0.8), T.debiased_ema(z2, 0.8), rtol=1e-12)

    run = run_with_event
    panel = make(qtbot, curves.LossPanel, run)
    panel.set_smoothing(0.9)
    panel.update_snapshot(snapshot(run, 1))
    loss = run.history.steps()["loss"]
    np.testing.assert_allclose(panel.curve_data("train_smooth")[1],
                               T.debiased_ema(loss, 0.9), rtol=1e-12)
    np.testing.assert_array_equal(panel.curve_data("train_step")[1], loss)
    assert panel._curves["train_smooth"].isVisible()
    # the raw curve is faint behind the trend
    assert pg.mkPen(panel._curves["train_step"].opts["pen"]).color().alpha() < 255


def test_log_toggle_switches_the_axis(qtbot, run_with_event):
    run = run_with_event
    panel = make(qtbot, curves.LossPanel, run)
    panel.update_snapshot(snapshot(run, 1))
    axis = panel.plot.getAxis("left")
    assert not axis.logMode
    panel.log_box.setChecked(True)
    assert axis.logMode
    assert all(c.opts["logMode"][1] for c in panel._curves.values())
    panel.log_box.setChecked(False)
    assert not axis.logMode and not panel._curves["train_step"].opts["logMode"][1]


def test_step_curve_clips_to_the_view_maps_log_y_and_dots_few_points(qtbot):
    """StepCurve, the time plots' bare curve: what it draws is the part of the series in
    view (a point either side), log10 of it on a log axis with values <= 0 as gaps, and
    dots only while there are few points."""
    w = pg.PlotWidget()
    qtbot.addWidget(w)
    w.resize(600, 300)
    c = T.StepCurve(pen="b", name="loss")
    w.getPlotItem().addItem(c)
    x = np.arange(1.0, 10001.0)
    y = np.linspace(-1.0, 3.0, x.size)
    y[5000] = np.nan
    w.getPlotItem().setXRange(2000, 3000, padding=0)
    c.setData(x, y)
    dx, dy = c.getData()
    assert dx[0] == 1999 and dx[-1] == 3001          # the view and one point either side
    np.testing.assert_array_equal(dy, y[1998:3001])
    ox, oy = c.getOriginalDataset()
    assert ox.size == 10000 and np.isnan(oy[5000])
    w.getPlotItem().setXRange(4990, 5010, padding=0)  # the view moved: drawn again
    dx, dy = c.getData()
    assert dx[0] == 4989 and dx[-1] == 5011 and np.isnan(dy[dx == 5001]).all()
    w.getPlotItem().setLogMode(y=True)
    assert c.opts["logMode"] == [False, True]
    w.getPlotItem().setXRange(0, 10001, padding=0)
    dx, dy = c.getData()
    assert dx.size == 10000
    pos = y > 0
    np.testing.assert_allclose(dy[pos], np.log10(y[pos]))
    assert np.isnan(dy[~pos]).all()                   # <= 0 and NaN: gaps on a log axis
    e = T.StepCurve(pen="r", name="test")
    e.set_dots("o", 7, "r", None, max_dots=5)
    w.getPlotItem().addItem(e)
    e.setData([1.0, 2.0, 3.0], [0.5, np.nan, 0.2])
    assert e.dots_shown() and len(e.dots.data) == 2   # a dot per finite point
    assert e.opts["antialias"]
    e.setData(np.arange(6.0), np.ones(6))
    assert not e.dots_shown() and not e.opts["antialias"]


# --- markers, mark, cursor ---------------------------------------------------------------------
def test_hparams_event_draws_a_labelled_marker_on_every_plot(qtbot, run_with_event):
    run = run_with_event
    bus = UiBus()
    panels = [make(qtbot, cls, run, bus) for cls in ALL_CLASSES]
    snap = snapshot(run, 1)
    for p in panels:
        p.update_snapshot(snap)
        assert p.marker_steps() == [300], p.object_name
        assert p.marker_labels() == ["lr 0.03 -> 0.3"], p.object_name
        for m in p._markers:          # every time plot of the panel (two for weights)
            assert m.steps() == [300]
    # rebuilt only when the list grows
    lines = list(panels[0]._markers[0]._lines)
    run.run_steps(10)
    panels[0].update_snapshot(snapshot(run, 2))
    assert panels[0]._markers[0]._lines == lines
    run.set_weight(0, 1, 0, 0.5)
    run.set_hyperparameters(momentum=0.0, lr=0.1)
    run.run_steps(10)
    panels[0].update_snapshot(snapshot(run, 3))
    assert panels[0].marker_steps() == [300, 510]
    assert panels[0].marker_labels() == [
        "lr 0.03 -> 0.3", "w[1](1,0) = 0.5; momentum 0.9 -> 0, lr 0.3 -> 0.1"]


def test_event_labels_registry():
    hp0 = {"lr": 0.3, "nesterov": False, "batch_size": 10}
    events = [{"step": 5, "kind": "hparams", "payload": {"lr": 0.03}},
              {"step": 7, "kind": "pause", "payload": {}},          # no marker
              {"step": 9, "kind": "hparams", "payload": {"nesterov": True, "batch_size": 32}},
              {"step": 12, "kind": "weight", "payload": {"layer": 1, "row": 0, "col": -1,
                                                          "value": -2.0}},
              {"step": 40, "kind": "rewind", "payload": {"from_step": 44, "to_step": 40}}]
    assert T.label_events(events, hp0) == [
        (5, "hparams", "lr 0.3 -> 0.03"),
        (9, "hparams", "nesterov off -> on, batch_size 10 -> 32"),
        (12, "weight", "b[2](0) = -2"),
        (40, "rewind", "rewind from 44 (non-finite)")]


def test_finding_mark_and_replay_cursor_on_every_plot(qtbot, run_with_event):
    run = run_with_event
    bus = UiBus()
    panels = [make(qtbot, cls, run, bus) for cls in ALL_CLASSES]
    for p in panels:
        p.update_snapshot(snapshot(run, 1))
    bus.step_marked.emit(123)
    bus.cursor_moved.emit(456)
    for p in panels:
        assert all(m.mark_step == 123 and m.cursor_step == 456 for m in p._markers)
    bus.cursor_moved.emit(-1)
    for p in panels:
        assert all(m.cursor_step is None and m.mark_step == 123 for m in p._markers)


# --- the other curves ----------------------------------------------------------------------------
def test_accuracy_at_evaluation_steps_on_a_fixed_axis(qtbot, run_with_event):
    run = run_with_event
    panel = make(qtbot, curves.AccuracyPanel, run)
    snap = snapshot(run, 1)
    panel.update_snapshot(snap)
    for name, key in (("train_eval", "train_acc"), ("test_eval", "test_acc")):
        x, y = panel.curve_data(name)
        np.testing.assert_array_equal(x, snap.evals["step"])
        np.testing.assert_array_equal(y, snap.evals[key])
    lo, hi = panel.plot.getViewBox().viewRange()[1]
    assert lo <= 0.0 and 1.0 <= hi < 1.1
    # regression: no accuracy, and the panel says so
    reg = Run({"data": {"name": "reg_line", "n_samples": 60},
               "model": {"hidden": [], "output": "linear", "loss": "mse"}}, diagnostics=False)
    reg.run_steps(20)
    rp = make(qtbot, curves.AccuracyPanel, reg)
    rp.update_snapshot(snapshot(reg, 1))
    assert "regression" in rp.note.toPlainText()
    assert np.isnan(rp.curve_data("test_eval")[1]).all()


def test_no_test_curve_in_the_legend_without_a_test_split(qtbot):
    # the logic gates have no test points; their legends listed "test (evaluation)"
    gate = Run({"data": {"name": "and_gate", "n_samples": 4, "noise": 0.0,
                         "test_fraction": 0.0},
                "model": {"hidden": [], "output": "step", "loss": "perceptron"}},
               diagnostics=False)
    gate.run_steps(8)
    spiral = Run({"data": {"name": "spiral", "n_samples": 60}}, diagnostics=False)
    spiral.run_steps(8)
    for cls in (curves.LossPanel, curves.AccuracyPanel):
        for run, has_test in ((gate, False), (spiral, True)):
            p = make(qtbot, cls, run)
            p.update_snapshot(snapshot(run, 1))
            names = [label.text for _sample, label in p.plot.legend.items]
            assert any(n.startswith("test") for n in names) == has_test, (cls, names)
            assert any(n.startswith("train") for n in names)


def test_per_layer_curves_hold_the_history_in_layer_colours(qtbot, run_with_event):
    run = run_with_event
    bus = UiBus()
    snap = snapshot(run, 1)
    s = snap.steps
    L = run.network.n_layers
    grad = make(qtbot, curves.GradientsPanel, run, bus)
    ratio = make(qtbot, curves.UpdateRatioPanel, run, bus)
    act = make(qtbot, curves.ActivationsPanel, run, bus)
    for p in (grad, ratio, act):
        p.update_snapshot(snap)
    for l in range(L):
        for p, field in ((grad, "gnorm"), (ratio, "uratio")):
            x, y = p.curve_data(f"layer{l}")
            np.testing.assert_array_equal(x, s["step"])
            np.testing.assert_array_equal(y, s[field][:, l])
            assert pen_color(p._curves[f"layer{l}"]) == layer_color(l)
    for l in range(L - 1):              # hidden layers
        np.testing.assert_array_equal(act.curve_data(f"dead{l}")[1], s["dead"][:, l])
        np.testing.assert_array_equal(act.curve_data(f"sat{l}")[1], s["sat"][:, l])
        assert pen_color(act._curves[f"dead{l}"]) == layer_color(l)
    assert f"dead{L - 1}" not in act.curve_names()
    # log axes for norms and ratios, the 1e-3 band in data units on both scales
    assert grad.plot.getAxis("left").logMode and ratio.plot.getAxis("left").logMode
    assert ratio.band_region() == pytest.approx((1e-4, 1e-2))
    assert ratio.target.value() == pytest.approx(-3.0)
    ratio.log_box.setChecked(False)
    assert ratio.band_region() == pytest.approx((1e-4, 1e-2))
    assert ratio.target.value() == pytest.approx(1e-3)
    # the target's label stays readable over the curves (it sat under the data)
    from PySide6 import QtCore
    assert ratio.target.zValue() > max(c.zValue() for c in ratio._curves.values())
    assert ratio.target.label.fill.style() != QtCore.Qt.BrushStyle.NoBrush


@pytest.mark.parametrize("cls", CURVE_CLASSES)
def test_a_legend_wider_than_its_plot_steps_aside(qtbot, run_with_event, cls):
    """Docks side by side can make a plot narrower than its legend, which then stuck out
    over the axis, cut off: it hides, and comes back when the plot is wide again."""
    run = run_with_event
    p = make(qtbot, cls, run, show=True)
    p.update_snapshot(snapshot(run, 1))
    legend, vb = p.plot.legend, p.plot.getViewBox()
    qtbot.waitUntil(lambda: vb.width() > 400)
    assert legend.isVisible() and legend.width() > 40
    p.resize(int(legend.width()) + 60, 320)         # the view is narrower than that
    qtbot.wait(100)
    # the loss panel's row of controls keeps it wider than its legend; the per-layer
    # panels (the screenshot that showed cut-off legends) get narrower
    assert legend.isVisible() == (legend.width() + 18 <= vb.width())
    if cls is not curves.LossPanel:
        assert not legend.isVisible()
    p.resize(900, 320)
    qtbot.waitUntil(legend.isVisible)


@pytest.mark.parametrize("lo,hi,width", [(0, 80_000, 90), (0, 80_000, 160), (-2_000, 100_000, 80),
                                         (0, 1_500, 60), (0, 120_000, 700), (0, 37, 50)])
def test_step_axis_labels_never_run_into_each_other(qtbot, lo, hi, width):
    """A plot in a narrow dock printed "40000" and "60000" into each other: the labels
    that are drawn (pyqtgraph drops one that sticks out of the axis) are now a gap apart,
    at 1, 2, 5 x 10^k, and at least one is drawn."""
    axis = T.StepAxis("bottom")
    levels = axis.tickSpacing(float(lo), float(hi), float(width))
    spacing = levels[0][0]
    assert len(levels) == 2 and levels[1][0] < spacing
    m = spacing / 10.0 ** math.floor(math.log10(spacing) + 1e-9)
    assert min(abs(m - k) for k in (1.0, 2.0, 5.0)) < 1e-9
    labels = axis.drawn_labels(float(lo), float(hi), float(width), spacing)
    assert labels
    for (xa, wa), (xb, wb) in zip(labels, labels[1:]):
        assert xb - xa >= (wa + wb) / 2 + 4
    if width >= 500:                    # a wide plot keeps pyqtgraph's own choice
        assert spacing == pg.AxisItem("bottom").tickSpacing(float(lo), float(hi),
                                                             float(width))[0][0]
    else:                               # where pyqtgraph's labels collided
        own = pg.AxisItem("bottom").tickSpacing(float(lo), float(hi), float(width))[0][0]
        own_labels = axis.drawn_labels(float(lo), float(hi), float(width), own)
        assert spacing > own or all(b[0] - a[0] >= (a[1] + b[1]) / 2 + 4
                                    for a, b in zip(own_labels, own_labels[1:]))


# --- histograms ---------------------------------------------------------------------------------
def test_histogram_rows_grow_and_the_current_one_counts_every_parameter(qtbot):
    run = Run(SMALL, diagnostics=False)
    ctx = context(run)
    fn, hz = H.WeightsPanel.worker_views(ctx)[H.VIEW_NAME]
    assert hz <= 10
    panel = make(qtbot, H.WeightsPanel, run)
    seq = 0
    for k in range(6):
        run.run_steps(40)
        seq += 1
        panel.update_snapshot(snapshot(run, seq, {H.VIEW_NAME: fn(run)}))
        seq += 1                     # a snapshot without a new computation adds no row
        panel.update_snapshot(snapshot(run, seq, {H.VIEW_NAME: panel._snap.views[H.VIEW_NAME]}))
        steps, counts, R = panel.rows("weights", 0)
        assert len(steps) == k + 1 and counts.shape == (k + 1, H.N_BINS)
    np.testing.assert_array_equal(steps, 40 * np.arange(1, 7))
    for l in range(run.network.n_layers):
        panel.set_layer(l)
        sl = run.network.layer_slice(l)
        n_params = sl.stop - sl.start
        for kind, flat in (("weights", run.network.theta), ("gradients", run.gradient)):
            centers, counts = panel.curve_data(f"{kind}_current")
            assert counts.sum() == n_params
            # the bars are the histogram of the layer's values on a symmetric range
            R = panel.rows(kind, l)[2]
            assert np.abs(flat[sl]).max() <= R
            np.testing.assert_array_equal(counts, H.count_bins(flat[sl], R))
            assert centers[0] == pytest.approx(-R + R / H.N_BINS)
        img = panel.image_data("weights")
        assert img.shape[1] == H.N_BINS and img.min() >= 0 and img.max() <= 1
        assert tuple(panel.images["weights"].levels) == (0.0, 1.0)
    header, rows = panel.export_csv()
    assert header[0] == "step" and len(rows) == 2 * 6 * H.N_BINS
    # a rewound run drops the rows after the step it went back to
    panel.update_snapshot(snapshot(run, seq + 1, {H.VIEW_NAME: {
        **fn(run), "step": 100}}))
    assert list(panel.rows("weights", 0)[0]) == [40, 80, 100]


def test_histogram_range_is_stable_and_rebinning_keeps_counts():
    r = H.HistogramRanges(patience=3)
    assert r.update("w", 0.3) == 0.5             # next power of two above 1.05 * 0.3
    assert r.update("w", 0.9) == 1.0             # grows at once
    assert r.update("w", 0.05) == 1.0            # shrinks only after patience calls
    assert r.update("w", 0.05) == 1.0
    assert r.update("w", 0.05) == 0.125          # twice the need
    assert r.update("w", 0.0) == 0.125           # all zero: stays (needs patience)
    store = H.RowStore(bins=8, capacity=4)
    store.add(1, np.array([0, 1, 2, 3, 3, 2, 1, 0], float), 1.0)
    store.add(2, np.array([0, 0, 0, 5, 5, 0, 0, 0], float), 1.0)
    store.add(3, np.zeros(8), 2.0)               # doubling merges old bins exactly
    np.testing.assert_allclose(store.counts[0], [0, 0, 1, 5, 5, 1, 0, 0])
    np.testing.assert_allclose(store.counts[1], [0, 0, 0, 5, 5, 0, 0, 0])
    assert store.rebins == 1 and store.n == 3
    store.add(4, np.zeros(8), 2.0)
    store.add(5, np.zeros(8), 2.0)               # full: every other row is kept
    assert list(store.steps[:store.n]) == [1, 3, 5]
    store.add(6, np.zeros(8), 0.5)               # shrinking drops what is outside
    assert store.counts[0].sum() == pytest.approx(10.0)    # |v| < 0.5 held 5 + 5
    img, s0, s1 = store.image(upto=8, columns=4)
    assert img.shape == (4, 8) and (s0, s1) == (1, 8)


def test_histogram_image_is_step_by_value_whatever_the_global_axis_order(qtbot):
    old = pg.getConfigOption("imageAxisOrder")
    pg.setConfigOptions(imageAxisOrder="row-major")     # what the application sets
    try:
        run = Run(SMALL, diagnostics=False)
        fn = H.WeightsPanel.worker_views(context(run))[H.VIEW_NAME][0]
        panel = make(qtbot, H.WeightsPanel, run)
        for k in range(1, 4):
            run.run_steps(100)
            panel.update_snapshot(snapshot(run, k, {H.VIEW_NAME: fn(run)}))
    finally:
        pg.setConfigOptions(imageAxisOrder=old)
    item = panel.images["weights"]
    assert item.axisOrder == "col-major"
    R = panel.rows("weights", 0)[2]
    rect = item.mapRectToParent(item.boundingRect())
    assert (rect.left(), rect.right()) == pytest.approx((100, 301))     # steps along x
    assert (rect.top(), rect.bottom()) == pytest.approx((-R, R))        # values along y
    img = panel.image_data("weights")
    assert img.shape == (201, H.N_BINS)
    # the first columns show the first row, the last ones the newest
    steps, counts, _ = panel.rows("weights", 0)
    scale = 1.0 / math.log1p(18)
    np.testing.assert_allclose(img[0], np.log1p(counts[0]) * scale, rtol=1e-6)
    np.testing.assert_allclose(img[-1], np.log1p(counts[-1]) * scale, rtol=1e-6)
    # extreme values do not break the range rule
    r = H.HistogramRanges()
    assert r.update("x", 1.7e308) > 1e300 and r.update("y", math.inf) == H.R_MIN


def test_histograms_from_a_real_runner_thread(qtbot):
    run = Run(SMALL, diagnostics=False)
    ctx = context(run)
    runner = Runner(run)
    for name, (fn, hz) in H.WeightsPanel.worker_views(ctx).items():
        runner.add_view(name, fn, hz)
    panel = make(qtbot, H.WeightsPanel, run)
    loss = make(qtbot, curves.LossPanel, run)
    try:
        runner.step(300)
        assert runner.wait_idle(30)
        snap = runner.latest()
        panel.update_snapshot(snap)
        loss.update_snapshot(snap)
    finally:
        assert runner.stop(2.0)
    assert snap.step == 300
    assert panel.rows("weights", 0)[0][-1] == 300
    assert panel.curve_data("gradients_current")[1].sum() == 6 * 2 + 6   # 2 inputs + bias
    assert len(loss.curve_data("train_step")[0]) == 300


def test_histograms_without_a_worker_view_fall_back_to_the_weights(qtbot):
    run = Run(SMALL, diagnostics=False)
    panel = make(qtbot, H.WeightsPanel, run)
    panel.fallback_hz = math.inf
    run.run_steps(50)
    panel.update_snapshot(snapshot(run, 1))
    assert panel.curve_data("weights_current")[1].sum() == 6 * 2 + 6
    assert panel.curve_data("gradients_current")[1].size == 0


# --- robustness and cost ------------------------------------------------------------------------
def test_nan_and_inf_in_the_history_do_not_crash(qtbot):
    run = Run({"data": {"name": "reg_line", "n_samples": 100},
               "model": {"hidden": [[4, "tanh"]], "output": "linear", "loss": "mse"},
               "optimizer": {"lr": 5.0}}, diagnostics=False)
    done = run.run_steps(500)
    assert run.nonfinite is not None and done < 500
    ctx = context(run)
    fn = H.WeightsPanel.worker_views(ctx)[H.VIEW_NAME][0]
    steps = dict(run.history.steps())
    loss = steps["loss"].copy()
    loss[10:20] = np.nan                         # NaN as well as the run's own inf
    steps["loss"] = loss
    bus = UiBus()
    panels = [make(qtbot, cls, run, bus, show=True) for cls in ALL_CLASSES]
    snap = snapshot(run, 1, {H.VIEW_NAME: fn(run)}, steps=steps, status="nonfinite")
    for p in panels:
        p.update_snapshot(snap)
        if p.log_box is not None:
            p.log_box.setChecked(not p.log_box.isChecked())
        p.repaint()
    lp = panels[0]
    np.testing.assert_array_equal(lp.curve_data("train_step")[1], loss)
    assert np.isnan(lp.curve_data("train_smooth")[1][10:20]).all()
    assert "non-finite at step" in lp.nan_label.text()
    assert panels[-1].curve_data("weights_current")[1].sum() <= run.network.layout.n_params


def test_shared_step_axis_follows_until_the_user_zooms(qtbot, run_with_event):
    run = run_with_event
    bus = UiBus()
    a = make(qtbot, curves.LossPanel, run, bus)
    b = make(qtbot, curves.GradientsPanel, run, bus)
    w = make(qtbot, H.WeightsPanel, run, bus)
    plots = a.time_plots() + b.time_plots() + w.time_plots()
    for p in (a, b, w):
        p.update_snapshot(snapshot(run, 1))
    # the axis runs from 0 to a round number beyond the newest step (room to grow into)
    assert T.step_axis_group(bus).hi == 750          # step 500: 1.15 x 500 -> 750
    for p in plots:
        assert p.getViewBox().viewRange()[0] == pytest.approx([0, 750])
    # the user zooms one plot: all follow, and training no longer moves the range
    vb = b.plot.getViewBox()
    vb.setXRange(100, 200, padding=0)
    vb.sigRangeChangedManually.emit([True, True])
    assert not T.step_axis_group(bus).follow
    run.run_steps(50)
    for p in (a, b, w):
        p.update_snapshot(snapshot(run, 2))
    for p in plots:
        assert p.getViewBox().viewRange()[0] == pytest.approx([100, 200])
    # "Reset view": follow the run again
    a.reset_view()
    for p in plots:
        assert p.getViewBox().viewRange()[0] == pytest.approx([0, 750])
    # it rescales only when the run reaches the end
    run.run_steps(60)                                   # step 610
    for p in (a, b, w):
        p.update_snapshot(snapshot(run, 3))
    assert T.step_axis_group(bus).hi == 750
    run.run_steps(150)                                  # step 760: 1.15 x 760 -> 1000
    for p in (a, b, w):
        p.update_snapshot(snapshot(run, 4))
    assert T.step_axis_group(bus).hi == 1000
    for p in plots:
        assert p.getViewBox().viewRange()[0] == pytest.approx([0, 1000])
    # a plot of the window's own (a replay timeline) joins the panels' axis
    ext = pg.PlotWidget()
    qtbot.addWidget(ext)
    assert T.link_step_axis(ext.getPlotItem(), a.plot) is T.step_axis_group(bus)
    assert ext.getViewBox().viewRange()[0] == pytest.approx([0, 1000])
    ext.getViewBox().setXRange(300, 400, padding=0)
    assert a.plot.getViewBox().viewRange()[0] == pytest.approx([300, 400])
    a.reset_view()
    # a panel on another bus (another window) is not linked
    other = make(qtbot, curves.LossPanel, run, UiBus())
    other.update_snapshot(snapshot(run, 1))
    vb.setXRange(10, 20, padding=0)
    assert other.plot.getViewBox().viewRange()[0] == pytest.approx([0, 1000])
    assert a.plot.getViewBox().viewRange()[0] == pytest.approx([10, 20])
    assert [T.nice_ceil(v) for v in (7, 10, 11, 575, 2600, 0.03)] == [
        8, 10, 12, 600, 3000, 0.03]
    # the step axis's ends: six a decade (each move redraws every time plot's axes)
    assert [T.step_ceil(v) for v in (7, 10, 11, 575, 2600, 3450, 8626)] == [
        7.5, 10, 15, 750, 3000, 5000, 10000]


def test_long_history_is_decimated_without_losing_peaks():
    rng = np.random.default_rng(1)
    y = rng.random(100_000)
    y[54_321] = 50.0                              # one spike
    d = T.PeakDecimator(max_buckets=2048)
    for n in (5_000, 5_001, 60_000, 100_000):      # grows like a history
        x, yd = d.update(y[:n], x0=1.0)
    assert 1024 <= d.nb <= 2048 and len(yd) <= 2 * 2048 + d.b
    assert yd.max() == 50.0 and np.nanmin(yd) == y.min()
    full_min = np.fmin.reduce(y[:d.nb * d.b].reshape(d.nb, d.b), axis=1)
    np.testing.assert_array_equal(yd[0:2 * d.nb:2], full_min)
    np.testing.assert_array_equal(yd[2 * d.nb:], y[d.nb * d.b:])   # the tail as it is
    assert x[0] == pytest.approx(1 + (d.b - 1) / 2)


def test_long_history_panel_feeds_decimated_data_but_reports_the_full_series(qtbot):
    run = Run({**SMALL, "training": {"epochs": 10_000}}, diagnostics=False)
    run.run_steps(20_000)
    panel = make(qtbot, curves.GradientsPanel, run, show=True)
    panel.update_snapshot(snapshot(run, 1))
    x, y = panel.curve_data("layer0")
    assert len(x) == 20_000
    dx, dy = panel.displayed_data("layer0")
    assert len(dx) < 5_000
    assert np.nanmax(dy) == np.nanmax(y)
    # zooming into 300 steps: the plot gets the full-resolution series
    panel.plot.getViewBox().setXRange(1000, 1300, padding=0)
    assert len(panel.displayed_data("layer0")[0]) == 20_000


def test_unchanged_seq_costs_nothing_and_hidden_tabs_catch_up(qtbot, run_with_event):
    run = run_with_event
    calls = []
    panel = make(qtbot, curves.LossPanel, run)
    orig = panel._update_data
    panel._update_data = lambda snap: (calls.append(snap.seq), orig(snap))
    snap = snapshot(run, 7)
    panel.update_snapshot(snap)
    panel.update_snapshot(snap)
    assert calls == [7]
    # in a window on screen, a panel in a background tab waits until it is shown
    win = QtWidgets.QTabWidget()
    qtbot.addWidget(win)
    first, hidden = curves.AccuracyPanel(UiBus()), curves.GradientsPanel(UiBus())
    for p in (first, hidden):
        p.set_context(context(run))
    win.addTab(first, "accuracy")
    win.addTab(hidden, "gradients")
    win.show()
    qtbot.waitExposed(win)
    hidden.update_snapshot(snapshot(run, 8))
    assert hidden._seq is None                   # deferred
    win.setCurrentWidget(hidden)
    assert hidden._seq == 8                       # caught up when shown
    assert len(hidden.curve_data("layer0")[0]) == run.step


def test_panel_metadata_help_and_export(qtbot, run_with_event):
    run = run_with_event
    names = []
    for cls in ALL_CLASSES:
        p = make(qtbot, cls, run)
        assert p.area == "bottom" and len(p.help_text) > 80
        assert p.toolTip() == p.help_text and p.help.toolTip() == p.help_text
        assert p.export_item() is not None
        names.append(p.object_name)
        if cls is not H.WeightsPanel:
            assert p.export_csv() is None        # nothing shown yet
            p.update_snapshot(snapshot(run, 1))
            header, rows = p.export_csv()
            assert header[0] == "step" and len(header) == 1 + len(p.curve_names())
            steps = np.unique(np.concatenate([p.curve_data(n)[0] for n in p.curve_names()]))
            np.testing.assert_array_equal(np.array(rows)[:, 0], steps)
        # axes say what they show
        plot = p.time_plots()[-1]
        assert plot.getAxis("left").labelText and "step" in plot.getAxis("bottom").labelText
    assert names == ["loss", "accuracy", "gradients", "update_ratio", "activations", "weights"]
    assert curves.GradientNormPanel is curves.GradientsPanel


def test_screenshots(qtbot):
    """Renders each panel to SHOTS/panel_<name>.png for review: a run fed snapshot by
    snapshot as the window would, with an lr change, a hand-set weight and a finding."""
    run = Run({**SMALL, "data": {"name": "spiral", "n_samples": 300},
               "model": {"hidden": [[8, "tanh"], [8, "tanh"]]}}, diagnostics=False)
    ctx = context(run)
    fn = H.WeightsPanel.worker_views(ctx)[H.VIEW_NAME][0]
    bus = UiBus()
    os.makedirs(SHOTS, exist_ok=True)
    panels = [make(qtbot, cls, run, bus, show=True) for cls in ALL_CLASSES]
    for k in range(1, 81):
        run.run_steps(25)
        if k == 40:
            run.set_hyperparameters(lr=0.1, momentum=0.5)
        if k == 60:
            run.set_weight(0, 0, 0, 1.5)
        snap = snapshot(run, k, {H.VIEW_NAME: fn(run)})
        for p in panels:
            p.update_snapshot(snap)
    bus.step_marked.emit(1500)
    QtWidgets.QApplication.processEvents()      # let the toolbars lay out their labels
    for p in panels:
        img = p.grab()
        assert not img.isNull()
        img.save(os.path.join(SHOTS, f"panel_{p.object_name}.png"))


@pytest.mark.parametrize("height", [130, 400])
def test_neighbouring_event_labels_do_not_overprint_in_a_short_plot(qtbot, height):
    # three events close together: their labels sit on three heights at least a label
    # apart, also in a plot as short as one row of the weight histograms
    w = pg.PlotWidget()
    qtbot.addWidget(w)
    w.resize(500, height)
    w.setXRange(0, 300, padding=0)
    w.setYRange(0, 1, padding=0)
    markers = T.EventMarkers(w.getPlotItem())
    markers.set_events([(100, "hparams", "lr 0.03 -> 0.1, momentum 0.9 -> 0.5"),
                        (110, "weight", "w[1](0,0) = 1.5"),
                        (120, "hparams", "batch 10 -> 32")])
    w.show()
    qtbot.waitExposed(w)
    QtWidgets.QApplication.processEvents()
    rects = [line.label.sceneBoundingRect() for line in markers._lines]  # noqa: SLF001
    assert len(rects) == 3
    for i in range(3):
        for j in range(i + 1, 3):
            assert not rects[i].intersects(rects[j]), (i, j, rects[i], rects[j])
    # they stay apart after the plot is made shorter
    w.resize(500, 110)
    QtWidgets.QApplication.processEvents()
    rects = [line.label.sceneBoundingRect() for line in markers._lines]  # noqa: SLF001
    assert not rects[0].intersects(rects[1]) and not rects[1].intersects(rects[2])
