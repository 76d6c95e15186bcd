"""The diagnostics actions and the experiments in the window: "Try the remedy" with its
overlay, the sanity checks, the NaN provenance banner and its rewind, and the Run menu's
experiments (offscreen, in-thread experiment workers)."""
from __future__ import annotations

import os

import time

import numpy as np
import pytest
from PySide6 import QtGui

from workbench.ui.experiments_view import (CapacityView, CompareView, LearningCurveView,
                                           RangeTestView, SweepDialog)
from workbench.ui.panels.landscape import LandscapeView

SHOTS = os.environ.get("WB_SHOTS", "/tmp/shots")

#: SGD at lr 3 with momentum 0.9 on moons: lr_too_high (patch: lr 0.3) by step ~100.
LR_HIGH = {"seed": 2, "data": {"name": "moons", "n_samples": 300, "noise": 0.1},
           "model": {"hidden": [[8, "tanh"]]},
           "optimizer": {"name": "sgd", "lr": 3.0, "momentum": 0.9},
           "training": {"epochs": 30, "batch_size": 10}}
#: lr 1 on a line fit: the loss grows to Inf within a few dozen steps.
NAN = {"seed": 0, "data": {"name": "reg_line", "n_samples": 200, "noise": 0.1},
       "model": {"hidden": [], "output": "linear", "loss": "mse"},
       "optimizer": {"name": "sgd", "lr": 1.0, "momentum": 0.0},
       "training": {"epochs": 20, "batch_size": 10}}
XOR_PERCEPTRON = {"data": {"name": "xor_gate", "n_samples": 4, "noise": 0.0,
                           "test_fraction": 0.0},
                  "model": {"hidden": [], "output": "step", "loss": "perceptron",
                            "init": "zeros"},
                  "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.0},
                  "training": {"epochs": 50, "batch_size": 1}}
TINY = {"seed": 1, "data": {"name": "circle", "n_samples": 120},
        "model": {"hidden": [[4, "tanh"]]},
        "optimizer": {"name": "sgd", "lr": 0.3},
        "training": {"epochs": 3, "batch_size": 10}}


@pytest.fixture
def ui_window(make_window, tmp_path):
    """A window whose experiments run in their own thread (no process pool) and record
    under tmp_path."""
    def make(config, **kw):
        win = make_window(config, **kw)
        win.experiments.workers = 0
        win.experiments.out_root = tmp_path / "experiments"
        return win
    return make


def _select(win, code: str, qtbot):
    diag = win.experiments.diag_panel
    win.controller.refresh()
    qtbot.waitUntil(lambda: any(f["code"] == code for f in diag._findings), timeout=10000)
    row = next(i for i, f in enumerate(diag._findings) if f["code"] == code)
    diag.list.setCurrentRow(row)
    return diag.selected()


def test_try_the_remedy_overlays_a_run_with_the_patched_lr(ui_window, qtbot, waits):
    win = ui_window(LR_HIGH)
    c, ui = win.controller, win.experiments
    assert c.step(400)
    waits.steps(win, 400)
    snap = waits.paused(win)
    assert snap.step == 400
    f = _select(win, "lr_too_high", qtbot)
    assert f["patch"] == {"optimizer.lr": 0.3}
    # the finding's experiment is offered too: lr_too_high -> the range test
    assert ui.experiment_button.isVisibleTo(ui.diag_panel)
    assert "range test" in ui.experiment_button.text()
    with qtbot.waitSignal(ui.remedy_finished, timeout=30000) as sig:
        ui.diag_panel.remedy_button.click()
    res = sig.args[0]
    assert res.patch == {"optimizer.lr": 0.3} and res.label == "remedy: lr 0.3"
    assert len(res.steps) == 400 and res.steps[-1] == 400
    # the second run started from the same seed and data: its first loss is the run's
    # first loss (the same initial parameters and the same first mini-batch)
    assert res.loss[0] == pytest.approx(float(snap.steps["loss"][0]), rel=1e-12)
    assert res.after < res.before and res.helped
    overlays = {label: (x, y) for label, x, y in win.experiments.loss_panel.overlays()}
    x, y = overlays["remedy: lr 0.3"]
    np.testing.assert_array_equal(x, res.steps)
    # smoothed as the run's bold curve is; raw when the smoothing is 0
    from workbench.ui.panels.timeaxis import debiased_ema
    loss = ui.loss_panel
    np.testing.assert_allclose(y, debiased_ema(res.loss, loss.smoothing))
    # the remedy is drawn to be compared with: opaque and bold above the mini-batch
    # losses (a fork's parent stays a faint dashed background)
    item = next(i for i, d in loss._overlay_items if d[0] == "remedy: lr 0.3")  # noqa: SLF001
    import pyqtgraph as pg
    pen = pg.mkPen(item.opts["pen"])
    assert pen.color().alpha() == 255 and pen.widthF() >= 2 and item.zValue() > 0
    os.makedirs(SHOTS, exist_ok=True)   # issue 4: the overlay of a run and its remedy
    assert win.grab().save(os.path.join(SHOTS, "remedy_overlay.png"))
    loss.set_smoothing(0.0)
    x, y = {lab: (a, b) for lab, a, b in loss.overlays()}["remedy: lr 0.3"]
    np.testing.assert_array_equal(y, res.loss)
    note = ui.remedy_note.text()
    assert "remedy: lr 0.3" in note and "helped" in note and f"{res.before:.4g}" in note
    # a new run removes the stale comparison
    assert c.reset()
    assert not win.experiments.loss_panel.overlays()


def test_sanity_checks_report_xor_not_separable(ui_window, qtbot):
    win = ui_window(XOR_PERCEPTRON)
    dlg = win.experiments.sanity_checks()
    assert dlg.isVisible()
    qtbot.waitUntil(lambda: bool(dlg.checks), timeout=30000)
    sep = dlg.result_of("separable")
    assert sep is not None and not sep.passed
    assert "not linearly separable" in sep.message and "hidden" in sep.message
    row = [c.name for c in dlg.checks].index("separable")
    assert dlg.table.item(row, 1).text() == "FAIL"
    assert dlg.table.item(row, 2).text() == f"{sep.value:.4g}"     # the misclassified share
    assert "separable" in dlg.summary.text()
    dlg.task.wait(5)


def test_nan_stop_shows_provenance_and_rewinds(ui_window, qtbot, waits):
    win = ui_window(NAN)
    c, ui = win.controller, win.experiments
    assert c.start()
    qtbot.waitUntil(lambda: c.latest is not None and c.latest.status == "nonfinite",
                    timeout=20000)
    nf = c.latest.nonfinite
    qtbot.waitUntil(lambda: ui.provenance.provenance is not None, timeout=10000)
    prov = ui.provenance.provenance
    assert prov.step == nf.step
    assert ui.banner.shown and ui.banner_bar.isVisible()
    text = ui.banner.label.text()
    assert f"step {nf.step}" in text and prov.what in text
    # its colours follow the theme (a fixed light pink glared in the dark theme)
    assert _main_lightness(ui.banner) > 200
    win.set_theme("dark")
    assert _main_lightness(ui.banner) < 100
    win.set_theme("light")
    # the run itself stays where it stopped until the user rewinds
    assert c.run.nonfinite is not None and c.run.step == nf.step
    assert ui.banner.rewind_button.isEnabled()
    with qtbot.waitSignal(ui.provenance.rewound, timeout=10000) as sig:
        ui.banner.rewind_button.click()
    assert sig.args[0] == nf.step - 1
    snap = waits.paused(win)
    assert snap.step == nf.step - 1 and snap.nonfinite is None
    assert np.all(np.isfinite(snap.theta)) and np.all(np.isfinite(c.run.network.theta))
    assert not ui.banner.shown
    loss = next(p for p in win.panels if p.object_name == "loss")
    c.refresh()
    assert loss.curve_data("train_step")[0].max() == nf.step - 1


def _main_lightness(widget) -> int:
    """The lightness (0-255) of the colour covering most of the widget's pixels."""
    import collections
    img = widget.grab().toImage()
    counts = collections.Counter(img.pixel(x, y) for x in range(0, img.width(), 3)
                                 for y in range(0, img.height(), 3))
    from PySide6 import QtGui
    return QtGui.QColor.fromRgb(counts.most_common(1)[0][0]).lightness()


def test_nan_banner_keeps_the_height_of_its_text(ui_window, qtbot):
    """Shown again after each new event (the lesson's advice: lower the learning rate,
    press Start), the banner grew every time (130, 230, 420 px for two lines) and
    squeezed the docks until the network graph's view had no pixel size."""
    win = ui_window(NAN)
    c, ui = win.controller, win.experiments
    assert c.start()
    qtbot.waitUntil(lambda: ui.provenance.provenance is not None, timeout=20000)
    qtbot.waitUntil(lambda: ui.banner.label.width() > 50, timeout=5000)
    label = ui.banner.label
    line = label.fontMetrics().lineSpacing()
    first = label.height()
    assert line <= first <= ui.banner.MAX_LINES * line + 2
    for k in range(3):                      # what the lesson tells the student to do
        c.set_live(f"lr = {0.01 * (k + 1)}", lr=0.01 * (k + 1))
        c.start()
        ui.banner.show_provenance(ui.provenance.provenance, c.latest.step)
        qtbot.wait(150)
        assert label.height() == first
    doc = QtGui.QTextDocument()
    doc.setDocumentMargin(0)
    doc.setDefaultFont(label.font())
    doc.setHtml(label.text())
    doc.setTextWidth(label.width())
    assert abs(label.height() - 2 - doc.size().height()) <= 1
    # a narrow window: more lines, still at most MAX_LINES of them
    win.resize(420, 700)
    qtbot.wait(150)
    assert first < label.height() <= ui.banner.MAX_LINES * line + 2


def test_run_menu_experiments_open_their_views(ui_window, qtbot):
    win = ui_window(TINY)
    ui = win.experiments
    titles = [a.text() for a in win.menus["Run"].actions()]
    for t in ("Sanity &checks\u2026", "S&weep\u2026", "Learning-rate test\u2026",
              "Learning-rate range test\u2026", "Learning curve\u2026",
              "Capacity sweep\u2026", "Loss landscape\u2026"):
        assert t in titles
    views = {"lrtest": CompareView, "rangetest": RangeTestView,
             "learningcurve": LearningCurveView, "capacity": CapacityView,
             "landscape": LandscapeView}
    for name, cls in views.items():
        dlg = ui.open_experiment(name, start=False)
        assert isinstance(dlg.view, cls) and dlg.isVisible()
    ui.actions["sweep"].trigger()
    assert isinstance(ui.dialogs["sweep"], SweepDialog) and ui.dialogs["sweep"].isVisible()


def test_practical_lr_test_completes_in_the_compare_view(ui_window, qtbot):
    win = ui_window(TINY)
    ui = win.experiments
    ui.actions["lrtest"].trigger()          # one click: the slide's 1, 0.1, 0.01
    dlg = ui.dialogs["lrtest"]
    with qtbot.waitSignal(dlg.experiment_finished, timeout=60000) as sig:
        pass
    res = sig.args[0]
    assert res.lrs == [1.0, 0.1, 0.01]
    view = dlg.view
    assert view.model.rowCount() == 3
    assert view.color_key.currentText() == "optimizer.lr"
    assert set(view.curves) == {r.name for r in res.sweep.done}
    assert view.verdict.text() == res.verdict and "lr" in res.verdict
    assert res.sweep.out is not None and res.sweep.out.parent == ui.out_root
    # each run's findings are written beside its curve
    for r in res.sweep.done:
        if r.findings:
            assert view.curves[r.name].note.textItem.toPlainText() == " ".join(r.findings)


def test_range_test_suggestion_applies_to_the_run(ui_window, qtbot):
    win = ui_window(TINY)
    ui = win.experiments
    dlg = ui.open_experiment("rangetest", start=False, steps=120)
    with qtbot.waitSignal(dlg.experiment_finished, timeout=60000) as sig:
        assert dlg.start()
    res = sig.args[0]
    assert res.suggested_lr is not None and dlg.view.apply_button.isEnabled()
    dlg.view.apply_button.click()
    qtbot.waitUntil(lambda: win.controller.config["optimizer.lr"] ==
                    pytest.approx(res.suggested_lr), timeout=5000)
    qtbot.waitUntil(lambda: win.controller.run.hp["lr"] == pytest.approx(res.suggested_lr),
                    timeout=5000)


def test_cancel_stops_a_range_test_part_way(ui_window, qtbot):
    # the range test is one run, and cancel was only read between runs: Cancel waited
    # 17 s for 30,000 steps, then said "done" with a full bar (closing waited 21 s)
    win = ui_window({"data": {"name": "digits"}, "model": {
        "hidden": [[64, "relu"], [64, "relu"]], "output": "softmax", "loss": "cross_entropy"},
        "optimizer": {"lr": 1e-6}})
    ui = win.experiments
    dlg = ui.open_experiment("rangetest", start=False, steps=200000)
    assert dlg.start()
    qtbot.waitUntil(lambda: dlg.progress.maximum() > 0 or "running" in dlg.message.text(),
                    timeout=20000)
    qtbot.wait(300)
    tic = time.monotonic()
    with qtbot.waitSignal(dlg.experiment_finished, timeout=10000):
        dlg.cancel()
    assert time.monotonic() - tic < 5.0
    assert dlg.message.text().startswith("cancelled")
    assert dlg.progress.value() < dlg.progress.maximum()
    assert "did not finish" in dlg.result.verdict


def test_landscape_of_the_current_run_and_bad_input(ui_window, qtbot, waits):
    win = ui_window(TINY)
    c, ui = win.controller, win.experiments
    assert c.step(30)
    waits.steps(win, 30)
    waits.paused(win)
    dlg = ui.open_experiment("landscape", start=False)
    dlg.form.editors["steps"].setText("-3")
    assert not dlg.start() and "cannot start" in dlg.message.text()
    dlg.form.set_value("steps", None)
    with qtbot.waitSignal(dlg.experiment_finished, timeout=60000) as sig:
        assert dlg.start()
    res = sig.args[0]
    # a 2-8... net: the slice through the current parameters, with the replayed path
    assert res.slice is not None and len(res.path) >= 2
    np.testing.assert_allclose(res.slice.center, c.run.network.theta, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dlg.view.path_data("path"), res.path)


def test_sweep_results_open_in_replay(ui_window, qtbot):
    win = ui_window(TINY)
    ui = win.experiments
    dlg = ui.open_sweep()
    dlg.grid.item(0, 1).setText("0.3, 0.03")
    dlg.steps.setValue(20)
    with qtbot.waitSignal(dlg.sweep_finished, timeout=60000) as sig:
        assert dlg.start()
    res = sig.args[0]
    assert len(res.done) == 2 and res.out.parent == ui.out_root
    view = dlg.compare
    assert view.model.rowCount() == 2
    index = view.proxy.index(0, 0)
    name = view.proxy.data(index)
    session = next(r.session for r in res.done if r.name == name)
    assert session
    view.table.doubleClicked.emit(index)        # opens that run in replay
    qtbot.waitUntil(lambda: win.controller.replay is not None, timeout=10000)
    assert win.controller.replay.path == res.out / session


def test_a_data_remedy_rebuilds_the_data_from_the_patched_config():
    from workbench.run import Run
    from workbench.ui.diagnostics_ui import train_remedy
    cfg = {"seed": 93, "data": {"name": "circle", "n_samples": 400, "noise": 0.0,
                                "scale": 60.0},
           "model": {"hidden": [[12, "tanh"]], "output": "sigmoid", "loss": "bce"},
           "optimizer": {"name": "sgd", "lr": 0.01, "momentum": 0.9},
           "training": {"epochs": 20, "batch_size": 10}}
    run = Run(cfg)
    run.run_steps(300)
    f = next(f.to_dict() for f in run.findings() if f.code == "unscaled_features")
    assert f["patch"] == {"data.scale": 1.0}
    res = train_remedy(run.config, run.dataset, run.step, run.network.theta.copy(),
                       f["code"], f["patch"])
    assert len(res.steps) == 300 and not res.still_raised
    assert res.after < res.before and res.acc_after > res.acc_before + 0.2
    assert "train accuracy" in res.verdict and "unscaled_features gone" in res.verdict


def test_banner_advice_follows_the_cause(qtbot):
    from workbench.diagnostics.provenance import Provenance
    from workbench.ui.diagnostics_ui import ProvenanceBanner
    banner = ProvenanceBanner()
    qtbot.addWidget(banner)
    msg = "step 21: the loss (0.7) and every gradient were finite, but ..."
    banner.show_provenance(Provenance(21, "update", 1, msg, {}), 21)
    assert "lower the learning rate" in banner.label.text()
    banner.show_provenance(Provenance(21, "update", 1, msg, {"hand_set": {"value": 1e308}}), 21)
    assert "set that weight to a smaller value" in banner.label.text()
    assert "learning rate before" not in banner.label.text()
