"""The spatial panels: decision regions, network graph, backprop walkthrough.

Each test builds a real Run, trains it synchronously, computes the panel's worker views
by calling them with the run (as the Runner would on its thread), feeds a Snapshot and
checks what the plot items hold. Screenshots go to /tmp/shots/ for review.
"""
from __future__ import annotations

import os
import time

import numpy as np
import pytest

pytest.importorskip("pytestqt")
pg = pytest.importorskip("pyqtgraph")
from PySide6 import QtCore, QtWidgets  # noqa: E402

from workbench.run import Run  # noqa: E402
from workbench.run.runner import Snapshot  # noqa: E402
from workbench.ui.bus import UiBus  # noqa: E402
from workbench.ui.context import CLASS_COLORS, RunContext  # noqa: E402
from workbench.ui.panels.backprop import BackpropPanel, backprop, walkthrough_for  # noqa: E402
from workbench.ui.panels.decision import (  # noqa: E402
    ConfusionMode, CurveMode, DecisionPanel, PlaneClassMode, PlaneRegMode, class_scores,
    plane_grid)
from workbench.ui.panels.network_graph import NetworkGraphPanel, column_rows  # noqa: E402

SHOTS = os.environ.get("WB_SHOTS", "/tmp/shots")

SPIRAL = {"seed": 0, "data": {"name": "spiral", "n_samples": 400},
          "model": {"hidden": [[8, "tanh"], [8, "tanh"]]},
          "optimizer": {"lr": 0.03, "momentum": 0.9}}
XOR_PERCEPTRON = {"seed": 0, "data": {"name": "xor_gate", "noise": 0.0},
                  "model": {"hidden": [], "output": "step", "loss": "perceptron"},
                  "optimizer": {"lr": 0.1, "momentum": 0.0}, "training": {"batch_size": 4}}
AND_PERCEPTRON = {**XOR_PERCEPTRON, "data": {"name": "and_gate", "noise": 0.0}}
REG_SINE = {"seed": 0, "data": {"name": "reg_sine", "n_samples": 200, "noise": 0.1},
            "model": {"hidden": [[12, "tanh"]], "output": "linear", "loss": "mse"},
            "optimizer": {"lr": 0.01, "momentum": 0.9}}
REG_PLANE = {"seed": 0, "data": {"name": "reg_gauss", "n_samples": 300},
             "model": {"hidden": [[8, "tanh"]], "output": "linear", "loss": "mse"},
             "optimizer": {"lr": 0.01}}
DIGITS = {"seed": 0, "data": {"name": "digits"},
          "model": {"hidden": [[24, "relu"]], "output": "softmax", "loss": "cross_entropy",
                    "init": "he"},
          "optimizer": {"lr": 0.05, "momentum": 0.9}, "training": {"batch_size": 32}}


# --- helpers ------------------------------------------------------------------------------------
def trained(cfg: dict, steps: int) -> Run:
    run = Run(cfg, diagnostics=False)
    run.run_steps(steps)
    return run


def context(run: Run) -> RunContext:
    return RunContext(config=run.config, dataset=run.dataset, network=run.network.copy())


def snapshot(run: Run, views: dict, seq: int) -> Snapshot:
    return Snapshot(seq=seq, status="paused", step=run.step, epoch=run.epoch,
                    epoch_progress=run.epoch_progress, total_steps=run.total_steps,
                    epochs=run.config.training["epochs"], lr=run.current_lr, hp=dict(run.hp),
                    steps_per_s=0.0, steps=run.history.steps(), evals=run.history.evals(),
                    events=(), theta=run.network.theta.copy(), nonfinite=None, views=views)


def feed(panel, run: Run, seq: int = 1, ctx: RunContext | None = None):
    """Compute the panel's worker views with the run and show them; return the snapshot."""
    if ctx is None:
        ctx = context(run)
        panel.set_context(ctx)
    views = {name: fn(run) for name, (fn, _hz) in panel.worker_views(ctx).items()}
    snap = snapshot(run, views, seq)
    panel.update_snapshot(snap)
    return snap


def shown(qtbot, panel, w=720, h=560):
    qtbot.addWidget(panel)
    panel.resize(w, h)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def shot(panel, name: str) -> None:
    os.makedirs(SHOTS, exist_ok=True)
    QtWidgets.QApplication.processEvents()   # let the layouts settle (colour bars)
    assert panel.grab().save(os.path.join(SHOTS, name))


@pytest.fixture
def bus():
    return UiBus()


@pytest.fixture(scope="module")
def spiral_run():
    return trained(SPIRAL, 2500)


# --- decision panel -------------------------------------------------------------------------
def test_decision_map_is_the_models_prediction(qtbot, bus, spiral_run):
    panel = shown(qtbot, DecisionPanel(bus))
    feed(panel, spiral_run)
    mode = panel.mode
    assert isinstance(mode, PlaneClassMode)
    img = mode.image.image
    assert img.shape == (100, 100)
    # the values are the class-1 probability of the trained network at the cell centres
    grid = plane_grid(mode.extent, 100)
    p = spiral_run.network.predict(spiral_run.dataset.transform(grid))[:, 0]
    np.testing.assert_allclose(img.ravel(), p, rtol=0, atol=1e-6)
    assert mode.image.levels is not None and tuple(mode.image.levels) == (0.0, 1.0)
    # orientation: the pixel under a data point holds the prediction at that point
    ds = spiral_run.dataset
    for x, y in ds.raw_train[:40]:
        q = mode.image.mapFromView(QtCore.QPointF(x, y))
        col, row = int(q.x()), int(q.y())
        centre = mode.image.mapToView(QtCore.QPointF(col + 0.5, row + 0.5))
        want = spiral_run.network.predict(
            ds.transform(np.array([[centre.x(), centre.y()]])))[0, 0]
        assert img[row, col] == pytest.approx(want, abs=1e-6)
    # the train scatter holds the train points (filled), the test scatter the test points
    tx, ty = mode.train.getData()
    np.testing.assert_array_equal(np.column_stack([tx, ty]), ds.raw_train)
    sx, sy = mode.test.getData()
    np.testing.assert_array_equal(np.column_stack([sx, sy]), ds.raw_test)
    pts = mode.train.points()
    for pt, c in zip(pts[:20], ds.y_train[:20]):
        assert pt.brush().color().name() == CLASS_COLORS[int(c)]
    for pt, c in zip(mode.test.points()[:20], ds.y_test[:20]):
        assert pt.brush().style() == QtCore.Qt.NoBrush
        assert pt.pen().color().name() == CLASS_COLORS[int(c)]
    shot(panel, "spiral_decision.png")
    header, rows = panel.export_csv()
    assert header == ["x1", "x2", "p_class1"] and len(rows) == 100 * 100
    assert panel.export_item() is panel.plot


def test_decision_skips_unchanged_snapshots_and_follows_training(qtbot, bus):
    run = trained(SPIRAL, 50)
    panel = shown(qtbot, DecisionPanel(bus))
    ctx = context(run)
    panel.set_context(ctx)
    snap = feed(panel, run, seq=1, ctx=ctx)
    before = panel.mode.image.image.copy()
    # the same seq again is not looked at, even with other views in it
    fake = {panel.mode.view_name: np.zeros((100, 100), np.float32)}
    panel.update_snapshot(snapshot(run, fake, seq=snap.seq))
    np.testing.assert_array_equal(panel.mode.image.image, before)
    run.run_steps(400)
    feed(panel, run, seq=2, ctx=ctx)
    after = panel.mode.image.image
    assert np.abs(after - before).max() > 1e-3
    grid_p = class_scores(run.network, ctx.dataset.transform(plane_grid(panel.mode.extent, 100)),
                          2)
    np.testing.assert_allclose(after.ravel(), grid_p, atol=1e-6)


def test_gate_panel_draws_corners_and_the_perceptron_line(qtbot, bus):
    run = trained(XOR_PERCEPTRON, 37)
    panel = shown(qtbot, DecisionPanel(bus), 520, 520)
    feed(panel, run)
    mode = panel.mode
    assert isinstance(mode, PlaneClassMode) and mode.corners is not None
    cx, cy = mode.corners.getData()
    np.testing.assert_array_equal(np.column_stack([cx, cy]), [[0, 0], [0, 1], [1, 0], [1, 1]])
    corner_colors = [p.brush().color().name() for p in mode.corners.points()]
    assert corner_colors == [CLASS_COLORS[t] for t in (0, 1, 1, 0)]
    W, b = run.network.weights[0]
    w1, w2, c = float(W[0, 0]), float(W[0, 1]), float(b[0])
    xs, ys = mode.line.getData()
    assert len(xs) == 2
    # both end points lie on w1 x1 + w2 x2 + b = 0
    np.testing.assert_allclose(w1 * xs + w2 * ys + c, 0.0, atol=1e-9)
    # and the map changes colour across it: z > 0 on the blue side
    img = mode.image.image
    grid = plane_grid(mode.extent, 100)
    z = grid @ np.array([w1, w2]) + c
    assert np.all((img.ravel() > 0.5) == (z > 0))
    shot(panel, "xor_gate_perceptron_decision.png")


def test_and_gate_perceptron_line_separates_the_corners(qtbot, bus):
    run = trained(AND_PERCEPTRON, 200)
    panel = shown(qtbot, DecisionPanel(bus), 520, 520)
    feed(panel, run)
    w1, w2, c = panel.mode.line_coefficients(run.network.theta)
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    side = corners @ np.array([w1, w2]) + c > 0
    assert list(side) == [False, False, False, True]
    shot(panel, "and_gate_perceptron_decision.png")


def test_click_on_the_plane_emits_point_added_and_removed(qtbot, bus, spiral_run):
    panel = shown(qtbot, DecisionPanel(bus))
    feed(panel, spiral_run)
    panel.class_combo.setCurrentIndex(1)
    vb = panel.plot.vb
    target = QtCore.QPointF(1.5, -2.0)
    scene = vb.mapViewToScene(target)
    pix = panel.glw.mapFromScene(scene)
    with qtbot.waitSignal(bus.point_added, timeout=2000) as blocker:
        qtbot.mouseClick(panel.glw.viewport(), QtCore.Qt.LeftButton, pos=pix)
    x, y, cls = blocker.args
    # one screen pixel is about 14/500 data units here
    px = (vb.viewRange()[0][1] - vb.viewRange()[0][0]) / vb.width()
    assert abs(x - 1.5) <= 2 * px and abs(y + 2.0) <= 2 * px and cls == 1
    with qtbot.waitSignal(bus.point_removed, timeout=2000) as blocker:
        qtbot.mouseClick(panel.glw.viewport(), QtCore.Qt.LeftButton,
                         QtCore.Qt.ShiftModifier, pos=pix)
    x, y = blocker.args
    assert abs(x - 1.5) <= 2 * px and abs(y + 2.0) <= 2 * px


def test_a_click_where_points_cannot_be_added_says_why(qtbot, bus):
    # on a regression fit (or the digits' matrix) a click did nothing and said nothing
    run = trained(REG_SINE, 10)
    panel = shown(qtbot, DecisionPanel(bus), 640, 420)
    feed(panel, run)
    added = []
    bus.point_added.connect(lambda *a: added.append(a))
    centre = panel.glw.mapFromScene(panel.plot.vb.sceneBoundingRect().center())
    with qtbot.waitSignal(bus.message, timeout=2000) as blocker:
        qtbot.mouseClick(panel.glw.viewport(), QtCore.Qt.LeftButton, pos=centre)
    assert "2-D classification data only" in blocker.args[0] and added == []


def test_reg_sine_shows_the_fitted_curve(qtbot, bus):
    run = trained(REG_SINE, 3000)
    panel = shown(qtbot, DecisionPanel(bus), 640, 420)
    feed(panel, run)
    mode = panel.mode
    assert isinstance(mode, CurveMode)
    xs, ys = mode.curve.getData()
    want = run.network.predict(run.dataset.transform(xs.reshape(-1, 1)))[:, 0]
    np.testing.assert_allclose(ys, want, atol=1e-12)
    tx, ty = mode.train.getData()
    np.testing.assert_array_equal(tx, run.dataset.raw_train[:, 0])
    np.testing.assert_array_equal(ty, run.dataset.y_train[:, 0])
    assert len(mode.test.getData()[0]) == len(run.dataset.y_test)
    shot(panel, "reg_sine_decision.png")
    assert panel.export_csv()[0] == ["x1", "prediction"]


def test_2d_regression_shows_the_surface_and_targets(qtbot, bus):
    run = trained(REG_PLANE, 500)
    panel = shown(qtbot, DecisionPanel(bus), 560, 520)
    feed(panel, run)
    mode = panel.mode
    assert isinstance(mode, PlaneRegMode)
    grid = plane_grid(mode.extent, 100)
    want = run.network.predict(run.dataset.transform(grid))[:, 0]
    np.testing.assert_allclose(mode.image.image.ravel(), want, atol=1e-6)
    lo, hi = mode.levels
    assert lo == -hi and hi >= np.abs(run.dataset.y_train).max()
    shot(panel, "reg_gauss_decision.png")


@pytest.mark.parametrize("cfg", [
    {"seed": 0, "data": {"name": "moons", "n_samples": 30_000}, "model": {"hidden": [[4, "tanh"]]}},
    {"seed": 0, "data": {"name": "reg_sine", "n_samples": 30_000},
     "model": {"hidden": [[4, "tanh"]], "output": "linear", "loss": "mse"}},
    {"seed": 0, "data": {"name": "reg_gauss", "n_samples": 30_000},
     "model": {"hidden": [[4, "tanh"]], "output": "linear", "loss": "mse"}},
    {"seed": 0, "data": {"name": "spiral", "n_samples": 30_000, "noise_features": 2},
     "model": {"hidden": [[4, "tanh"]], "output": "linear", "loss": "mse"}},
], ids=["classes", "curve", "surface", "scatter"])
def test_many_points_are_thinned_to_a_fixed_sample_and_said_so(qtbot, bus, cfg):
    """100,000 points, one spot and one brush each, froze the window for 4.5 s."""
    from workbench.ui.panels.decision import MAX_POINTS_DRAWN, drawn
    run = trained(cfg, 3)
    ds = run.dataset
    panel = shown(qtbot, DecisionPanel(bus), 560, 480)
    tic = time.perf_counter()
    feed(panel, run)
    QtWidgets.QApplication.processEvents()
    took = time.perf_counter() - tic
    mode = panel.mode
    n_tr, n_te = len(ds.y_train), len(ds.y_test)
    assert n_tr > MAX_POINTS_DRAWN and n_te > MAX_POINTS_DRAWN
    i = drawn(n_tr)
    assert len(i) == MAX_POINTS_DRAWN and len(np.unique(i)) == len(i)
    np.testing.assert_array_equal(i, drawn(n_tr))            # the same points each time
    x, y = mode.train.getData()
    assert len(x) == MAX_POINTS_DRAWN and len(mode.test.getData()[0]) == MAX_POINTS_DRAWN
    if mode.name == "scatter":        # predictions of the drawn points only
        np.testing.assert_allclose(y, run.network.predict(ds.X_train[i])[:, 0], atol=1e-12)
    elif mode.name == "curve":
        np.testing.assert_array_equal(x, ds.raw_train[i, 0])
        np.testing.assert_array_equal(y, ds.y_train[i, 0])
    else:                             # the drawn points are where the data are
        np.testing.assert_array_equal(np.c_[x, y], ds.raw_train[i, :2])
    if isinstance(mode, PlaneClassMode):      # in the colour of their class
        brushes = [sp.brush().color().name() for sp in mode.train.points()]
        want = [CLASS_COLORS[int(c)] for c in np.ravel(ds.y_train)[i]]
        assert [b.lower() for b in brushes] == [w.lower() for w in want]
    assert f"(drawn: {MAX_POINTS_DRAWN:,} of {n_tr:,} training points)" in panel.caption.text() \
        or f"of {n_tr:,} training points" in panel.caption.toolTip() + panel.caption.text()
    assert took < 5.0, took        # a loose bound: the point is 4.5 s at 100,000


@pytest.fixture(scope="module")
def digits_run():
    return trained(DIGITS, 600)


def test_digits_show_a_confusion_matrix_and_misclassified_strip(qtbot, bus, digits_run):
    run = digits_run
    panel = shown(qtbot, DecisionPanel(bus), 640, 640)
    feed(panel, run)
    mode = panel.mode
    assert isinstance(mode, ConfusionMode)
    C = mode.counts
    assert C.shape == (10, 10)
    assert C.sum() == len(run.dataset.y_test)
    acc = run.evaluate()["test_accuracy"]
    assert np.trace(C) / C.sum() == pytest.approx(acc)
    np.testing.assert_array_equal(C.sum(axis=1), np.bincount(run.dataset.y_test, minlength=10))
    assert mode.image.image.shape == (10, 10)
    assert mode.texts[3][3].toPlainText() == (str(C[3, 3]) if C[3, 3] else "")
    # the strip shows the first misclassified test digits with "true->pred"
    pred = np.argmax(run.network.predict(run.dataset.X_test), axis=1)
    wrong = np.flatnonzero(pred != run.dataset.y_test)
    assert wrong.size > 0
    i = wrong[0]
    assert mode.strip_texts[0].toPlainText() == f"{run.dataset.y_test[i]}->{pred[i]}"
    np.testing.assert_allclose(mode.strip.image[:, :8],
                               run.dataset.raw_test[i].reshape(8, 8) / mode.strip_level)
    header, rows = panel.export_csv()
    assert sum(r[2] for r in rows) == len(run.dataset.y_test)
    shot(panel, "digits_decision.png")


# --- network graph ---------------------------------------------------------------------------
def test_network_graph_nodes_edges_and_maps(qtbot, bus, spiral_run):
    run = spiral_run
    panel = shown(qtbot, NetworkGraphPanel(bus), 900, 520)
    feed(panel, run)
    units = [int(u) for u in run.network.layout.units]
    # one node per unit
    assert len(panel.nodes.points()) == sum(units)
    assert sorted(panel.node_pos) == sorted((c, r) for c, u in enumerate(units)
                                            for r in range(u))
    # edge colours follow the weight signs
    lookup = {}
    for l, (W, _b) in enumerate(run.network.weights):
        for j in range(W.shape[0]):
            for k in range(W.shape[1]):
                a, b = panel.node_pos[(l, k)], panel.node_pos[(l + 1, j)]
                lookup[(round(a[1], 6), round(b[1], 6), l)] = W[j, k]
    counted = 0
    for (sign, _bucket), item in panel.edge_items.items():
        pen_color = item.opts["pen"].color().name()
        assert pen_color == CLASS_COLORS[sign]
        x, y = item.getData()
        if x is None:
            continue
        for i in range(0, len(x), 2):
            l = int(round(x[i] / panel.dx))
            w = lookup[(round(y[i], 6), round(y[i + 1], 6), l)]
            assert (w > 0) == bool(sign)
            counted += 1
    assert counted == sum(units[i] * units[i + 1] for i in range(len(units) - 1))
    # the output node's map is the decision map (sigmoid 0..1 drawn as -1..1)
    out_img = panel.col_images[-1].image
    assert out_img.shape == (32, 32)
    grid = plane_grid(panel_extent(run), 32)
    p = run.network.predict(run.dataset.transform(grid))[:, 0]
    np.testing.assert_allclose(out_img.ravel(), 2 * p - 1, atol=1e-6)
    # a hidden column holds one 32x32 map per unit, NaN between them
    h1 = panel.col_images[1].image
    assert h1.shape == ((units[1] - 1) * 40 + 32, 32)
    assert np.isnan(h1[32:40]).all() and np.isfinite(h1[:32]).all()
    shot(panel, "spiral_network.png")


def panel_extent(run):
    from workbench.ui.panels.decision import plane_extent
    return plane_extent(run.dataset)


def test_network_graph_click_shows_weights_and_typed_weight_is_requested(qtbot, bus,
                                                                          spiral_run):
    run = spiral_run
    panel = shown(qtbot, NetworkGraphPanel(bus), 900, 520)
    feed(panel, run)
    # a real click on hidden-2 unit 3
    qtbot.waitUntil(lambda: panel.plot.vb.width() > 100)
    QtWidgets.QApplication.processEvents()
    x, y = panel.node_pos[(2, 3)]
    scene = panel.plot.vb.mapViewToScene(QtCore.QPointF(x, y))
    qtbot.mouseClick(panel.glw.viewport(), QtCore.Qt.LeftButton,
                     pos=panel.glw.mapFromScene(scene))
    assert panel.selected == (2, 3)
    W, b = run.network.weights[1]
    assert panel.table.rowCount() == 1 + W.shape[1]
    assert float(panel.table.item(0, 1).text()) == pytest.approx(b[3], rel=1e-3)
    assert float(panel.table.item(5, 1).text()) == pytest.approx(W[3, 4], rel=1e-3)
    assert "saturated" in panel.node_stats.text()
    # type a weight: w from unit 4 of hidden 1 into unit 3 of hidden 2
    panel.edit_target.setCurrentIndex(5)
    panel.edit_value.clear()
    qtbot.keyClicks(panel.edit_value, "-1.25")
    with qtbot.waitSignal(bus.weight_edit_requested, timeout=2000) as blocker:
        qtbot.mouseClick(panel.edit_button, QtCore.Qt.LeftButton)
    assert blocker.args == [1, 3, 4, -1.25]
    # and the bias
    panel.edit_target.setCurrentIndex(0)
    panel.edit_value.setText("0.5")
    with qtbot.waitSignal(bus.weight_edit_requested, timeout=2000) as blocker:
        panel.edit_button.click()
    assert blocker.args == [1, 3, -1, 0.5]
    # the run applies it at its next step boundary (what the window does with the signal)
    run2 = trained(SPIRAL, 10)
    bus.weight_edit_requested.connect(run2.set_weight)
    panel.edit_button.click()
    run2.run_steps(1)
    ev = run2.events[-1]
    assert ev.kind == "weight" and ev.step == 10
    assert ev.payload == {"layer": 1, "row": 3, "col": -1, "value": 0.5}
    assert abs(run2.network.weights[1][1][3] - 0.5) < 0.05   # then one update moved it
    # a half-typed number and Return: a reason in red that the unit's statistics, which
    # follow training, do not overwrite (they replaced it within a second)
    sent = []
    bus.weight_edit_requested.connect(lambda *a: sent.append(a))
    for typed, reason in (("1e", "'1e' is not a number"), ("abc", "'abc' is not a number"),
                          ("inf", "finite")):
        panel.edit_value.clear()
        qtbot.keyClicks(panel.edit_value, typed)
        assert panel.edit_value.text() == typed           # nothing swallowed as typed
        qtbot.keyClick(panel.edit_value, QtCore.Qt.Key_Return)
        assert reason in panel.edit_status.text() and panel.edit_value.property("invalid")
        feed(panel, run, seq=7 + len(typed), ctx=panel.ctx)     # training goes on
        assert reason in panel.edit_status.text()
    assert sent == []
    panel.edit_value.setText("0.25")
    qtbot.keyClick(panel.edit_value, QtCore.Qt.Key_Return)     # Return applies, as Set
    assert len(sent) == 1 and sent[0][-1] == 0.25
    assert "set to 0.25" in panel.edit_status.text() and not panel.edit_value.property("invalid")


def test_network_graph_dead_units_and_highlights(qtbot, bus):
    cfg = {"seed": 1, "data": {"name": "circle", "n_samples": 200},
           "model": {"hidden": [[6, "relu"]], "bias_init": -30.0},
           "optimizer": {"lr": 0.01}}
    run = trained(cfg, 20)
    panel = shown(qtbot, NetworkGraphPanel(bus), 700, 420)
    feed(panel, run)
    off = run.unit_stats["off"][:6] / run.unit_stats["n"]
    assert (off >= 0.99).all()      # every unit dead with a bias of -30
    assert len(panel.dead_item.points()) == 6
    bus.units_highlighted.emit([(0, 2), (0, 5)])
    ringed = {tuple(np.round(p.pos(), 6)) for p in panel.ring_item.points()}
    assert ringed == {tuple(np.round(panel.node_pos[(1, u)], 6)) for u in (2, 5)}
    shot(panel, "circle_dead_relu_network.png")


def test_network_graph_wide_layers_show_a_plus_n_node(qtbot, bus, digits_run):
    panel = shown(qtbot, NetworkGraphPanel(bus), 900, 560)
    feed(panel, digits_run)
    assert column_rows(64) == (16, 48)
    assert len(panel.nodes.points()) == 16 + 16 + 10
    texts = [it.toPlainText() for it in panel.plot.items if isinstance(it, pg.TextItem)]
    assert "+48" in texts and "+8" in texts
    # no input plane: no maps, nodes filled by bias
    assert all(img is None for img in panel.col_images)
    shot(panel, "digits_network.png")
    header, rows = panel.export_csv()
    assert len(rows) == digits_run.network.layout.n_params


# --- backprop -----------------------------------------------------------------------------------
@pytest.mark.parametrize("cfg", [
    SPIRAL,
    DIGITS,
    {"data": {"name": "circle", "n_samples": 60},
     "model": {"hidden": [[5, "maxout"], [4, "elu"], [3, "leaky_relu"]], "output": "softmax",
               "loss": "mse"}},
    {"data": {"name": "moons", "n_samples": 60},
     "model": {"hidden": [[5, "sigmoid"], [4, "relu"]], "output": "linear", "loss": "hinge"}},
    {"data": {"name": "reg_gauss", "n_samples": 60},
     "model": {"hidden": [[5, "tanh"]], "output": "linear", "loss": "mse"}},
    XOR_PERCEPTRON,
], ids=["spiral-bce", "digits-ce", "maxout-softmax-mse", "hinge", "regression", "perceptron"])
@pytest.mark.parametrize("l1,l2", [(0.0, 0.0), (0.003, 0.01)])
def test_backprop_numbers_match_loss_and_grad(cfg, l1, l2):
    run = trained(cfg, 30)
    net = run.network
    X, y = run.train_data
    for i in (0, 1, len(y) - 1):
        wt = walkthrough_for(net, X, y, i, l1, l2)
        loss, grads = net.loss_and_grad(X[i:i + 1], y[i:i + 1], l1=l1, l2=l2)
        assert wt.loss + wt.penalty == pytest.approx(loss, rel=1e-12, abs=1e-12)
        for (dW, db), gW, gb in zip(grads, wt.dW, wt.db):
            np.testing.assert_allclose(gW, dW, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(gb, db, rtol=1e-10, atol=1e-12)
        zs, as_ = net.forward(X[i:i + 1])
        for l in range(net.n_layers):
            np.testing.assert_allclose(wt.zs[l], zs[l][0], rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(wt.as_[l], as_[l][0], rtol=1e-12, atol=1e-12)


def test_backprop_is_the_textbook_formula_on_a_tiny_net():
    # 1 input -> 1 sigmoid -> 1 linear output, mse: every number by hand
    W1, b1, W2, b2 = np.array([[2.0]]), np.array([0.5]), np.array([[-1.5]]), np.array([0.25])
    wt = backprop([(W1, b1), (W2, b2)], ["sigmoid", "linear"], "mse",
                  np.array([1.0]), np.array([1.0]))
    a1 = 1 / (1 + np.exp(-2.5))
    out = -1.5 * a1 + 0.25
    d2 = 2 * (out - 1.0)
    d1 = -1.5 * d2 * a1 * (1 - a1)
    assert wt.loss == pytest.approx((out - 1) ** 2)
    assert wt.deltas[1][0] == pytest.approx(d2) and wt.deltas[0][0] == pytest.approx(d1)
    assert wt.dW[1][0, 0] == pytest.approx(d2 * a1) and wt.dW[0][0, 0] == pytest.approx(d1)


def test_backprop_panel_steps_through_the_five_steps(qtbot, bus, spiral_run):
    run = spiral_run
    panel = shown(qtbot, BackpropPanel(bus), 1100, 320)
    feed(panel, run)
    panel.sample.setValue(7)
    X, y = run.train_data
    _loss, grads = run.network.loss_and_grad(X[7:8], y[7:8])
    texts = []
    for step in range(5):
        panel.set_step(step)
        texts.append(panel.text.toPlainText())
        assert panel.step_buttons.checkedId() == step
    assert "x   = [" in texts[0]
    assert texts[1].count("  z = ") == run.network.n_layers
    assert "delta_L" in texts[2]
    assert texts[3].count("delta = ") == run.network.n_layers
    # the last layer's gradient printed in step 5 is loss_and_grad's
    db_out = grads[-1][1][0]
    assert f"{db_out: .4g}" in texts[4]
    bars_h = panel.bars.opts["height"]
    np.testing.assert_allclose(bars_h[:8], grads[0][1][:8], rtol=1e-10, atol=1e-12)
    shot(panel, "spiral_backprop.png")
    panel.set_step(1)
    shot(panel, "spiral_backprop_feedforward.png")
    header, rows = panel.export_csv()
    assert header[-1] == "db" and len(rows) == sum(run.network.layout.rows)
    # next/previous clamp at the ends
    panel.set_step(4)
    panel.next_button.click()
    assert panel.step == 4


# --- cost per frame -----------------------------------------------------------------------------
def test_gui_update_cost_per_frame(qtbot, bus):
    """Each panel's GUI-side update with a fresh view is a few ms at most."""
    run = trained(SPIRAL, 100)
    panels = [shown(qtbot, cls(bus), 700, 500)
              for cls in (DecisionPanel, NetworkGraphPanel, BackpropPanel)]
    costs = {}
    for panel in panels:
        ctx = context(run)
        panel.set_context(ctx)
        fns = panel.worker_views(ctx)
        times = []
        for k in range(12):
            run.run_steps(20)
            views = {n: fn(run) for n, (fn, _hz) in fns.items()}
            snap = snapshot(run, views, seq=k + 1)
            if isinstance(panel, BackpropPanel):
                panel._last_refresh = 0.0   # force the throttled recompute: worst case
            tic = time.perf_counter()
            panel.update_snapshot(snap)
            times.append(time.perf_counter() - tic)
        costs[panel.object_name] = 1000 * float(np.median(times[2:]))
    print("GUI update ms per frame (median):", costs)
    assert costs["decision"] < 5.0
    assert costs["network"] < 8.0


# --- through the real worker thread and from replay -----------------------------------------
def test_views_computed_by_the_runner_reach_the_panels(qtbot, bus):
    from workbench.run.runner import Runner
    run = Run(SPIRAL, diagnostics=False)
    ctx = context(run)
    decision, graph = DecisionPanel(bus), NetworkGraphPanel(bus)
    for panel in (decision, graph):
        qtbot.addWidget(panel)
        panel.set_context(ctx if panel is decision else context(run))
    runner = Runner(run)
    try:
        for panel in (decision, graph):
            for name, (fn, hz) in panel.worker_views(panel.ctx).items():
                runner.add_view(name, fn, hz)
        runner.step(300)
        assert runner.wait_idle(30)
        snap = runner.latest()
        assert snap.step == 300
        decision.update_snapshot(snap)
        graph.update_snapshot(snap)
    finally:
        assert runner.stop(2.0)
    grid = plane_grid(decision.mode.extent, 100)
    p = run.network.predict(run.dataset.transform(grid))[:, 0]
    np.testing.assert_allclose(decision.mode.image.image.ravel(), p, atol=1e-6)
    out = graph.col_images[-1].image
    # the graph's unit maps cover the data plane; the decision map its (larger) view
    p32 = run.network.predict(run.dataset.transform(plane_grid(panel_extent(run), 32)))
    np.testing.assert_allclose(out.ravel(), 2 * p32[:, 0] - 1, atol=1e-6)


def test_replay_snapshots_without_views_are_drawn_from_theta(qtbot, bus, spiral_run):
    run = spiral_run
    ctx = context(run)
    ctx.replay = True
    decision = shown(qtbot, DecisionPanel(bus))
    decision.set_context(ctx)
    graph = shown(qtbot, NetworkGraphPanel(bus))
    graph.set_context(ctx)
    snap = snapshot(run, {}, seq=5)
    decision.update_snapshot(snap)
    graph.update_snapshot(snap)
    grid = plane_grid(decision.mode.extent, 100)
    p = run.network.predict(run.dataset.transform(grid))[:, 0]
    np.testing.assert_allclose(decision.mode.image.image.ravel(), p, atol=1e-6)
    assert np.isfinite(graph.col_images[2].image).any()
    # in replay the plane is not clickable (the data belong to the recorded run)
    assert not decision.class_combo.isVisible()


def test_live_snapshots_without_views_wait_for_the_worker(qtbot, bus, spiral_run, monkeypatch):
    """A live run's maps come from its worker: computed here, the first float32 maps
    compiled the float32 kernels on the GUI thread (34 s on a cold cache)."""
    from workbench.core import network as network_mod
    run = spiral_run
    decision = shown(qtbot, DecisionPanel(bus))
    decision.set_context(context(run))
    graph = shown(qtbot, NetworkGraphPanel(bus))
    graph.set_context(context(run))

    def no_kernels_here(*a, **k):
        raise AssertionError("a kernel called on the GUI thread")
    monkeypatch.setattr(network_mod.Network, "predict", no_kernels_here)
    monkeypatch.setattr(network_mod.Network, "forward", no_kernels_here)
    snap = snapshot(run, {}, seq=5)
    decision.update_snapshot(snap)
    graph.update_snapshot(snap)
    assert decision.mode.image.image is None or not np.isfinite(decision.mode.image.image).any()
    monkeypatch.undo()
    views = {name: fn(run) for name, (fn, _hz) in decision.worker_views(decision.ctx).items()}
    decision.update_snapshot(snapshot(run, views, seq=6))     # the worker's view arrives
    assert np.isfinite(decision.mode.image.image).all()


# --- CSV data ---------------------------------------------------------------------------------
def _write_csv(path, X, y, fmt_y="%d"):
    with open(path, "w") as f:
        f.write(",".join(f"x{i + 1}" for i in range(X.shape[1])) + ",target\n")
        for row, t in zip(X, y):
            f.write(",".join(f"{v:.6f}" for v in row) + "," + (fmt_y % t) + "\n")


def test_csv_three_classes_in_the_plane_show_argmax_colours(qtbot, bus, tmp_path):
    rng = np.random.default_rng(0)
    centres = np.array([[-3.0, -2.0], [3.0, -2.0], [0.0, 3.0]])
    y = np.repeat([0, 1, 2], 40)
    X = centres[y] + rng.normal(0, 0.8, (120, 2))
    path = tmp_path / "three.csv"
    _write_csv(path, X, y)
    cfg = {"data": {"name": "csv", "path": str(path)},
           "model": {"hidden": [[8, "tanh"]], "output": "softmax", "loss": "cross_entropy"},
           "optimizer": {"lr": 0.05}}
    run = trained(cfg, 300)
    panel = shown(qtbot, DecisionPanel(bus), 560, 480)
    feed(panel, run)
    mode = panel.mode
    assert isinstance(mode, PlaneClassMode) and mode.n_classes == 3
    grid = plane_grid(mode.extent, 100)
    want = np.argmax(run.network.predict(run.dataset.transform(grid)), axis=1)
    np.testing.assert_array_equal(mode.image.image.ravel(), want)
    assert set(np.unique(want)) == {0, 1, 2}
    assert panel.class_combo.count() == 3
    shot(panel, "csv_three_classes_decision.png")


def test_csv_with_more_inputs_shows_confusion_or_predicted_vs_true(qtbot, bus, tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(150, 3))
    path = tmp_path / "cls.csv"
    _write_csv(path, X, (X[:, 0] + X[:, 2] > 0).astype(int))
    run = trained({"data": {"name": "csv", "path": str(path)}}, 200)
    panel = shown(qtbot, DecisionPanel(bus), 480, 420)
    feed(panel, run)
    assert isinstance(panel.mode, ConfusionMode) and panel.mode.strip is None
    assert panel.mode.counts.shape == (2, 2)
    assert panel.mode.counts.sum() == len(run.dataset.y_test)
    path = tmp_path / "reg.csv"
    _write_csv(path, X, X @ np.array([1.0, -2.0, 0.5]) + 0.3, fmt_y="%.6f")
    run = trained({"data": {"name": "csv", "path": str(path)},
                   "model": {"hidden": [], "output": "linear", "loss": "mse"},
                   "optimizer": {"lr": 0.02}}, 400)
    panel = shown(qtbot, DecisionPanel(bus), 480, 420)
    feed(panel, run)
    from workbench.ui.panels.decision import ScatterMode
    assert isinstance(panel.mode, ScatterMode)
    tx, ty = panel.mode.test.getData()
    np.testing.assert_array_equal(tx, run.dataset.y_test[:, 0])
    np.testing.assert_allclose(ty, run.network.predict(run.dataset.X_test)[:, 0])
    shot(panel, "csv_regression_decision.png")


def test_deep_wide_network_stays_readable(qtbot, bus):
    cfg = {"seed": 0, "data": {"name": "circle", "n_samples": 200},
           "model": {"hidden": [[16, "relu"]] * 7 + [[40, "tanh"]], "init": "he"},
           "optimizer": {"lr": 0.01}}
    run = trained(cfg, 100)
    panel = shown(qtbot, NetworkGraphPanel(bus), 1100, 620)
    feed(panel, run)
    assert len(panel.nodes.points()) == 2 + 16 * 8 + 1
    n_edges = sum(len(it.getData()[0]) for it in panel.edge_items.values()
                  if it.getData()[0] is not None) // 2
    assert n_edges == 2 * 16 + 16 * 16 * 6 + 16 * 16 + 16
    # the "+24" of the collapsed rows sits on a patch of the canvas colour (the edges to
    # the last rows shown ran through it), and follows a change of theme
    (more,) = panel.extra_labels
    assert more.toPlainText() == "+24"
    bg = pg.mkColor(pg.getConfigOption("background"))
    assert more.fill.style() != QtCore.Qt.BrushStyle.NoBrush and more.fill.color() == bg
    shot(panel, "deep_network.png")
    from workbench.ui.app import PLOT_COLORS, recolor_canvases
    dark = pg.mkColor(PLOT_COLORS["dark"][0])
    recolor_canvases(panel, dark)
    assert dark != bg and more.fill.color() == dark
    recolor_canvases(panel, bg)
    assert more.fill.color() == bg


def test_help_a_broken_view_and_a_diverged_perceptron(qtbot, bus):
    for cls in (DecisionPanel, NetworkGraphPanel, BackpropPanel):
        panel = cls(bus)
        qtbot.addWidget(panel)
        assert len(cls.help_text) > 200
        assert panel.help_button.toolTip() == cls.help_text == panel.toolTip()
    run = trained(XOR_PERCEPTRON, 8)
    panel = shown(qtbot, DecisionPanel(bus), 400, 400)
    feed(panel, run, seq=1)
    panel.update_snapshot(snapshot(run, {"decision.plane": RuntimeError("boom")}, seq=2))
    assert "boom" in panel.caption.text()
    run.network.theta[:] = np.nan
    panel.update_snapshot(snapshot(run, {}, seq=3))
    xs, _ys = panel.mode.line.getData()
    assert xs is None or len(xs) == 0


def test_backprop_steps_shade_their_columns_on_the_graph(qtbot, bus, spiral_run):
    graph = shown(qtbot, NetworkGraphPanel(bus), 800, 480)
    feed(graph, spiral_run)
    bp = shown(qtbot, BackpropPanel(bus), 900, 300)
    with qtbot.waitSignal(bus.walkthrough_changed, timeout=2000):
        feed(bp, spiral_run)
    L = spiral_run.network.n_layers
    want = {0: [0], 1: list(range(L + 1)), 2: [L], 3: [3, 2, 1], 4: [1, 2, 3]}
    for step, cols in want.items():
        with qtbot.waitSignal(bus.walkthrough_changed, timeout=2000) as blocker:
            bp.set_step(step)
        assert blocker.args[0]["columns"] == cols
        assert [c for c, b in enumerate(graph.bands) if b.isVisible()] == sorted(cols)
    bp.set_step(2)
    shot(graph, "spiral_network_backprop_step3.png")


def test_backprop_text_never_shows_minus_zero():
    # a ReLU's zero gradient times a negative number printed as "-0"
    from workbench.ui.panels.backprop import _fmt_vec
    assert "-0 " not in _fmt_vec(np.array([-0.0, 1.0])) + " "
    assert _fmt_vec(np.array([-0.0, -1.5])).split() == ["[", "0", "-1.5]"]
