"""Defects seen in screenshots of the window (issue 3): each test failed before its fix.

- the regression legend covered data points;
- the network graph's layer titles overlapped for layers of 32 and 10 units (digits);
- the status bar said "epoch 214/200" after stepping past the configured end;
- the backprop panel did not refresh when its tab was raised while training was paused;
- the decision caption ran into "click adds class" in a narrow dock ("...input planeclick");
- the network graph's walkthrough label ran past the bottom of the view.
"""
from __future__ import annotations

import sys

import numpy as np
import pytest

pytest.importorskip("pytestqt")
pg = pytest.importorskip("pyqtgraph")
from PySide6 import QtCore, QtWidgets  # noqa: E402

from workbench.run import Run  # noqa: E402
from workbench.run.runner import Snapshot  # noqa: E402
from workbench.ui.bus import UiBus  # noqa: E402
from workbench.ui.context import RunContext  # noqa: E402
from workbench.ui.controller import epoch_text  # noqa: E402
from workbench.ui.panels.base import on_screen  # noqa: E402
from workbench.ui.panels.decision import (  # noqa: E402
    LEGEND_CORNERS, CurveMode, DecisionPanel, ScatterMode, corner_counts)

REG_SINE = {"seed": 0, "data": {"name": "reg_sine", "n_samples": 200, "noise": 0.1},
            "model": {"hidden": [[12, "tanh"]], "output": "linear", "loss": "mse"},
            "optimizer": {"lr": 0.01, "momentum": 0.9}}


def trained(cfg: dict, steps: int) -> Run:
    run = Run(cfg, diagnostics=False)
    run.run_steps(steps)
    return run


def snapshot(run: Run, views: dict, seq: int) -> Snapshot:
    return Snapshot(seq=seq, status="paused", step=run.step, epoch=run.epoch,
                    epoch_progress=run.epoch_progress, total_steps=run.total_steps,
                    epochs=run.config.training["epochs"], lr=run.current_lr, hp=dict(run.hp),
                    steps_per_s=0.0, steps=run.history.steps(), evals=run.history.evals(),
                    events=(), theta=run.network.theta.copy(), nonfinite=None, views=views)


def feed(panel, run: Run, seq: int = 1):
    ctx = RunContext(config=run.config, dataset=run.dataset, network=run.network.copy())
    panel.set_context(ctx)
    views = {name: fn(run) for name, (fn, _hz) in panel.worker_views(ctx).items()}
    panel.update_snapshot(snapshot(run, views, seq))


def points_under(item: pg.GraphicsObject, plot: pg.PlotItem, x, y) -> int:
    """How many data points (view coordinates) lie under ``item`` on screen."""
    vb = plot.getViewBox()
    rect = vb.mapSceneToView(item.mapToScene(item.boundingRect())).boundingRect()
    inside = (x >= rect.left()) & (x <= rect.right()) & (y >= rect.top()) & (y <= rect.bottom())
    return int(np.count_nonzero(inside))


# --- the regression legend -------------------------------------------------------------------------
@pytest.mark.parametrize("cfg, mode", [
    (REG_SINE, CurveMode),
    ({"seed": 0, "data": {"name": "csv_like_reg"}}, ScatterMode),
])
def test_regression_legend_hides_no_data(qtbot, cfg, mode, tmp_path):
    if mode is ScatterMode:      # more than 2 inputs: predicted against true values
        rng = np.random.default_rng(0)
        X = rng.normal(size=(150, 3))
        t = X @ np.array([1.0, -2.0, 0.5]) + rng.normal(0, 0.1, 150)
        path = tmp_path / "reg3.csv"
        np.savetxt(path, np.column_stack([X, t]), delimiter=",", fmt="%.6f",
                   header="x1,x2,x3,target", comments="")
        cfg = {"seed": 0, "data": {"name": "csv", "path": str(path)},
               "model": {"hidden": [[8, "tanh"]], "output": "linear", "loss": "mse"},
               "optimizer": {"lr": 0.01}}
    run = trained(cfg, 400)
    panel = DecisionPanel(UiBus())
    qtbot.addWidget(panel)
    panel.resize(640, 420)
    panel.show()
    qtbot.waitExposed(panel)
    feed(panel, run)
    QtWidgets.QApplication.processEvents()
    assert isinstance(panel.mode, mode)
    legend = panel.plot.legend
    x, y = panel.mode.legend.points()
    vb = panel.plot.getViewBox()
    frac = ((legend.width() + 12) / vb.width(), (legend.height() + 12) / vb.height())
    counts = corner_counts(vb.viewRange(), frac, (x, y))
    if mode is CurveMode:
        # sin(x) is high at the left end: the old top-left legend sat on data
        assert counts[0] > 0
    under = points_under(legend, panel.plot, x, y)
    assert under == min(counts) == 0, (under, counts)
    assert panel.mode.legend.corner == LEGEND_CORNERS[int(np.argmin(counts))]
    panel.grab().save(f"/tmp/wb/shots/ui/legend_{mode.__name__}.png")


# --- the status bar past the end --------------------------------------------------------------------
def test_epoch_text_past_the_planned_end():
    assert epoch_text(3, 200) == "epoch 3/200"
    assert epoch_text(200, 200) == "epoch 200/200"
    assert epoch_text(214, 200) == "epoch 214 (200 planned)"
    assert epoch_text(12_000, 10_000) == "epoch 12,000 (10,000 planned)"


def test_status_bar_after_stepping_past_the_end(make_window, waits):
    cfg = {"data": {"name": "circle", "n_samples": 100}, "model": {"hidden": [[4, "tanh"]]},
           "training": {"epochs": 2, "batch_size": 10}}
    win = make_window(cfg)
    c = win.controller
    spe = c.run.steps_per_epoch
    assert c.step(4 * spe)
    waits.steps(win, 4 * spe)
    snap = waits.paused(win)
    c.refresh()
    win.controller.snapshot_changed.emit(snap)
    assert snap.epoch > snap.epochs == 2
    text = win.epoch_label.text()
    assert text == f"epoch {snap.epoch} (2 planned)"
    # the fixed-width label shows the whole text
    assert win.epoch_label.fontMetrics().horizontalAdvance(text) <= win.epoch_label.width()


# --- the network graph's layer titles ---------------------------------------------------------------
DIGITS = {"seed": 0, "data": {"name": "digits"},
          "model": {"hidden": [[32, "relu"]], "output": "softmax", "loss": "cross_entropy"},
          "optimizer": {"lr": 0.05}}


def _shown_network(qtbot, size, cfg, steps=5):
    """A network graph panel of ``size`` on screen, fed ``cfg`` trained ``steps`` steps;
    returns the panel and its bus."""
    from workbench.ui.panels.network_graph import NetworkGraphPanel
    bus = UiBus()
    panel = NetworkGraphPanel(bus)
    qtbot.addWidget(panel)
    panel.resize(*size)
    panel.show()
    qtbot.waitExposed(panel)
    feed(panel, trained(cfg, steps))
    QtWidgets.QApplication.processEvents()
    return panel, bus


def _titles_inside(panel) -> bool:
    view = panel.plot.getViewBox().sceneBoundingRect()
    return all(view.contains(t.mapRectToScene(t.boundingRect())) for t in panel.titles)


@pytest.mark.parametrize("size", [(420, 330), (330, 300), (900, 600)])
def test_network_layer_titles_do_not_overlap(qtbot, size):
    panel, _bus = _shown_network(qtbot, size, DIGITS)
    labels = [t.toPlainText() for t in panel.titles]
    assert labels == ["inputs", "relu \u00d732", "softmax \u00d710"]
    vb = panel.plot.getViewBox()
    view = vb.sceneBoundingRect()
    rects = [t.mapRectToScene(t.boundingRect()) for t in panel.titles]
    for r, text in zip(rects, labels):           # every title is on screen, whole
        assert view.contains(r), (text, r, view)
    for i, a in enumerate(rects):                # no two titles share pixels
        for b, other in zip(rects[i + 1:], labels[i + 1:]):
            assert not a.intersects(b), (labels[i], other)
    panel.grab().save(f"/tmp/wb/shots/ui/network_titles_{size[0]}x{size[1]}.png")


@pytest.mark.parametrize("size", [(380, 290), (420, 330), (900, 600)])
def test_network_walkthrough_label_stays_inside_the_view(qtbot, size):
    # seen at 1440 x 900: "backprop step 1 input" under a 16-unit layer was cut in half
    cfg = {"seed": 0, "data": {"name": "spiral", "n_samples": 100},
           "model": {"hidden": [[16, "tanh"], [16, "tanh"]]}}
    panel, bus = _shown_network(qtbot, size, cfg)
    bus.walkthrough_changed.emit({"columns": [0], "name": "1 input"})
    QtWidgets.QApplication.processEvents()
    assert panel.band_label.toPlainText() == "backprop step 1 input"
    assert panel.band_label_fits()
    assert _titles_inside(panel)        # growing down kept the titles in


@pytest.mark.parametrize("size", [(560, 320), (800, 600), (1100, 620)])
def test_network_input_names_stay_inside_the_view(qtbot, size):
    # seen in the deep-network screenshot: "x1" and "x2" cut at the left edge
    cfg = {"seed": 0, "data": {"name": "spiral", "n_samples": 100},
           "model": {"hidden": [[16, "relu"]] * 7 + [[40, "tanh"]]}}
    panel, _bus = _shown_network(qtbot, size, cfg)
    assert [t.toPlainText() for t in panel.input_names] == ["x1", "x2"]
    assert panel.input_names_fit()
    assert _titles_inside(panel)        # growing left kept the titles in


def test_network_labels_in_a_view_squeezed_to_nothing_raise_nothing(qtbot):
    # a dock squeezed to no height (seen under a banner that grew) has no pixel scale:
    # fitting the labels then asked for the range [nan, nan], dozens of times a second
    errors = []
    panel, _bus = _shown_network(qtbot, (420, 330), DIGITS)
    vb = panel.plot.getViewBox()
    hook, sys.excepthook = sys.excepthook, lambda *exc: errors.append(exc)
    try:
        for squeezed in ((np.nan, np.nan), (0.004, 0.0)):    # what such a view reports
            vb.viewPixelSize = lambda s=squeezed: s
            panel._grow_view(left_px=10, bottom_px=10, top_px=10)
            panel._fit_labels()
            QtWidgets.QApplication.processEvents()
        del vb.viewPixelSize
    finally:
        sys.excepthook = hook
    assert errors == []
    assert np.all(np.isfinite(vb.targetRange()))
    panel.resize(420, 330)
    QtWidgets.QApplication.processEvents()
    assert _titles_inside(panel)


@pytest.mark.parametrize("size", [(1440, 900), (1200, 800)])
def test_network_graph_fills_its_view_once_the_window_is_laid_out(make_window, size):
    # label fitting while the docks were first laid out (a narrow network dock) once
    # grew the view for good and left the graph a third of the dock's width
    import json
    from pathlib import Path
    cfg = json.loads((Path(__file__).parents[2] / "resources" / "examples" /
                      "default_spiral.json").read_text())
    win = make_window(cfg, size=size)
    for _ in range(5):
        QtWidgets.QApplication.processEvents()
    panel = next(p for p in win.panels if p.object_name == "network")
    vb = panel.plot.getViewBox()
    view = vb.sceneBoundingRect()
    xs = [vb.mapViewToScene(QtCore.QPointF(*xy)).x() for xy in panel.node_pos.values()]
    assert max(xs) - min(xs) > 0.55 * view.width(), (max(xs) - min(xs), view.width())
    assert panel.input_names_fit() and _titles_inside(panel)


# --- the backprop panel when its tab is raised while paused ----------------------------------------
def _shown_loss(win, panel) -> float:
    return float(panel.walkthrough.loss)


@pytest.mark.parametrize("raise_at_once", [True, False])
def test_backprop_refreshes_when_its_tab_is_raised_while_paused(make_window, waits, qtbot,
                                                                raise_at_once):
    from workbench.ui.panels.backprop import walkthrough_for
    cfg = {"seed": 0, "data": {"name": "circle", "n_samples": 200},
           "model": {"hidden": [[6, "tanh"]]}, "optimizer": {"lr": 0.3},
           "training": {"epochs": 1000}}
    win = make_window(cfg)
    c = win.controller
    bp = next(p for p in win.panels if p.object_name == "backprop")
    assert win.tabifiedDockWidgets(win.docks["backprop"])
    win.docks["loss"].raise_()
    qtbot.waitUntil(lambda: not on_screen(bp), timeout=2000)     # in a background tab
    if not raise_at_once:
        # shown first, then trained: the last snapshot arrives inside the rate limit
        win.docks["backprop"].raise_()
        qtbot.waitUntil(lambda: on_screen(bp), timeout=2000)
    before = _shown_loss(win, bp)
    assert c.step(150)
    waits.steps(win, 150)
    snap = waits.paused(win)
    assert snap.step == 150
    if raise_at_once:
        win.docks["backprop"].raise_()
    net = c.ctx.network.copy()
    net.theta[:] = snap.theta
    ds = c.run.dataset
    want = walkthrough_for(net, ds.X_train, ds.y_train, bp.sample.value()).loss
    assert want != pytest.approx(before)      # training changed the sample's loss
    qtbot.waitUntil(lambda: _shown_loss(win, bp) == pytest.approx(want), timeout=3000)


def test_a_long_decision_caption_is_elided_beside_the_class_picker(qtbot):
    cfg = {"seed": 0, "data": {"name": "moons", "n_samples": 100},
           "model": {"hidden": [[4, "tanh"]]}}
    panel = DecisionPanel(UiBus())
    qtbot.addWidget(panel)
    feed(panel, trained(cfg, 5))
    panel.resize(330, 300)
    panel.show()
    qtbot.waitExposed(panel)
    cap = panel.caption
    assert cap.text() == "P(class 1) over the input plane" == cap.toolTip()
    shown = cap.elided_text()
    assert shown != cap.text() and shown.endswith("\u2026")       # ends in an ellipsis
    assert cap.fontMetrics().horizontalAdvance(shown) <= cap.contentsRect().width()
    gap = panel.class_label.geometry().left() - cap.geometry().right()
    assert gap >= 6                               # not touching the class picker
    panel.resize(900, 300)
    QtWidgets.QApplication.processEvents()
    assert cap.elided_text() == cap.text()        # room enough: the whole caption


# --- the configuration panel's width ---------------------------------------------------------------
@pytest.mark.parametrize("example", ["xor_perceptron", "default_spiral"])
def test_configuration_fields_are_not_cut_at_the_docks_right_edge(make_window, example):
    # "no hidden layer (linear model / perceptron)" made the form wider than its dock, and
    # with no horizontal scroll bar the combo boxes and the CSV button were cut on the right
    import json
    from pathlib import Path
    cfg = json.loads((Path(__file__).parents[2] / "resources" / "examples" /
                      f"{example}.json").read_text())
    win = make_window(cfg, size=(1440, 900))
    for _ in range(5):
        QtWidgets.QApplication.processEvents()
    scroll = win.config_panel.findChild(QtWidgets.QScrollArea)
    body = scroll.widget()
    assert body.minimumSizeHint().width() <= scroll.viewport().width()
    assert body.width() <= scroll.viewport().width()


def test_one_dimensional_features_fill_the_first_row_in_order(qtbot):
    # for 1-D inputs the hidden x2 boxes left holes: "x1 . x1^2" then ". . sin(x1)"
    from workbench.config import FEATURES_1D, FEATURES_2D, load_config
    from workbench.ui.config_panel import ConfigPanel
    panel = ConfigPanel(load_config(REG_SINE))
    qtbot.addWidget(panel)
    panel.resize(260, 900)
    panel.show()
    qtbot.waitExposed(panel)
    ed = panel.findChild(QtWidgets.QWidget, "field_data.features")
    spots = [(ed.boxes[n].y(), ed.boxes[n].x()) for n in FEATURES_1D]
    assert all(b.isVisible() == (n in FEATURES_1D) for n, b in ed.boxes.items())
    assert len({y for y, _ in spots}) == 1 and spots == sorted(spots)
    ed.set_dim(2)                       # and back to the 2-D grid's order
    QtWidgets.QApplication.processEvents()
    spots = [(ed.boxes[n].y(), ed.boxes[n].x()) for n in FEATURES_2D]
    assert spots == sorted(spots) and all(ed.boxes[n].isVisible() for n in FEATURES_2D)


def test_about_names_the_numeric_libraries_a_bug_report_needs(make_window, monkeypatch):
    from PySide6 import QtWidgets
    shown = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "about",
                        staticmethod(lambda parent, title, text: shown.append(text)))
    win = make_window({})
    win.show_about()
    assert len(shown) == 1
    text = shown[0]
    import numba
    assert f"Numba {numba.__version__}" in text and "BLAS:" in text
    assert "scipy&#x27;s openblas" in text or "scipy's openblas" in text


def test_backprop_controls_fit_their_dock_at_1440_px(make_window, qtbot):
    # the digits' raw inputs beside the sample number pushed "5 gradients" and ">"
    # behind a horizontal scroll bar
    win = make_window(DIGITS, size=(1440, 900))
    win.docks["backprop"].raise_()
    bp = next(p for p in win.panels if p.object_name == "backprop")
    qtbot.waitUntil(lambda: bp.isVisible() and bp.width() > 0, timeout=5000)
    bp.set_step(4)
    qtbot.waitUntil(lambda: "raw (" in bp.sample_label.text(), timeout=5000)
    # the label gives way: the row no longer sets the dock's width (it needed 921 px)
    assert bp.minimumSizeHint().width() < 800
    assert bp.minimumSizeHint().width() <= bp.width()
    right = bp.next_button.mapTo(bp, bp.next_button.rect().topRight())
    assert bp.rect().contains(right)
