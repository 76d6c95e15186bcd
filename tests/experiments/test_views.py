"""The experiment views: what they draw equals the results (and screenshots on demand:
set WB_SHOTS_DIR to save them)."""
from __future__ import annotations

import os

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from workbench.experiments.curves import capacity_sweep, learning_curve  # noqa: E402
from workbench.experiments.landscape import landscape, random_slice, record_thetas  # noqa: E402
from workbench.experiments.lr import lr_test, range_test  # noqa: E402
from workbench.run import Run  # noqa: E402

CIRCLE = {"data": {"name": "circle", "n_samples": 200}, "model": {"hidden": [[4, "tanh"]]},
          "training": {"epochs": 20}}


def shot(widget, name: str, size=(900, 600)) -> None:
    d = os.environ.get("WB_SHOTS_DIR")
    if not d:
        return
    os.makedirs(d, exist_ok=True)
    widget.resize(*size)
    widget.show()
    from PySide6 import QtWidgets
    QtWidgets.QApplication.processEvents()
    widget.grab().save(os.path.join(d, name + ".png"))


def test_landscape_view_draws_the_paths_and_the_surface(qtbot):
    from workbench.ui.panels.landscape import LandscapeView
    res = landscape("linear_regression", compare=True, steps=60, lr=0.03)
    v = LandscapeView()
    qtbot.addWidget(v)
    v.show_landscape(res)
    assert list(v.paths) == ["sgd", "momentum", "nesterov"]
    for k, p in res.paths.items():
        np.testing.assert_array_equal(v.path_data(k), p)   # drawn = recorded parameters
    np.testing.assert_allclose(10 ** v.surface, res.loss, rtol=1e-12)
    shot(v, "landscape_three_optimizers")
    nc = landscape("tanh_net")
    v.show_landscape(nc)
    assert len(v.paths) == 2
    shot(v, "landscape_nonconvex_two_starts")
    run = Run({"data": {"name": "xor", "n_samples": 80}, "model": {"hidden": [[6, "tanh"]]}})
    th = record_thetas(run, 200, every=10)
    s = random_slice(run, n=31, thetas=th)
    v.show_slice(s)
    np.testing.assert_array_equal(v.path_data("path (projected)"), s.path)
    shot(v, "landscape_random_slice")


def test_range_test_view_applies_the_suggested_rate(qtbot):
    from workbench.ui.experiments_view import RangeTestView
    res = range_test(CIRCLE, workers=0)
    v = RangeTestView()
    qtbot.addWidget(v)
    v.set_result(res)
    assert v.apply_button.isEnabled()
    with qtbot.waitSignal(v.apply_lr) as sig:
        v.apply_button.click()
    assert sig.args == [res.suggested_lr]
    assert v.sugg_line.value() == pytest.approx(np.log10(res.suggested_lr))
    shot(v, "range_test")


def test_compare_view_after_the_practical_lr_test(qtbot, tmp_path):
    from PySide6 import QtCore
    from workbench.ui.experiments_view import CompareView
    res = lr_test(CIRCLE, seeds=2, workers=0, out=tmp_path / "lr")
    v = CompareView()
    qtbot.addWidget(v)
    v.set_result(res.sweep, res.verdict, color_key="optimizer.lr")
    assert v.model.rowCount() == 6 and len(v.curves) == 6
    colors = v.colors()
    assert colors["run-000"] == colors["run-001"] != colors["run-002"]
    # sortable by any column: by test loss, ascending
    col = [v.model.horizontalHeaderItem(i).text() for i in range(v.model.columnCount())]
    v.table.sortByColumn(col.index("test_loss"), QtCore.Qt.SortOrder.AscendingOrder)
    j = col.index("test_loss")
    vals = [v.proxy.index(i, j).data(QtCore.Qt.ItemDataRole.UserRole) for i in range(6)]
    assert vals == sorted(vals)
    best = min(res.sweep.runs, key=lambda r: r.test_loss)
    assert v.proxy.index(0, 0).data() == best.name
    with qtbot.waitSignal(v.run_activated) as sig:
        v._on_row_activated(v.proxy.index(0, 0))
    assert sig.args[0].endswith(best.session)
    assert sig.args[0].endswith(".wbsession") and os.path.exists(sig.args[0])
    shot(v, "compare_lr_test", (1000, 700))
    # the loss axis has numbers: a log axis over less than a decade labelled none (these
    # losses span 0.095 to 0.88: linear)
    ys = np.concatenate([c.getData()[1] for c in v.curves.values()])
    assert ys.max() < 10 * ys.min() and not v.plot.getAxis("left").logMode
    v.resize(1000, 700)
    v.show()
    qtbot.waitExposed(v)
    assert _labelled_ticks(v.plot, "left")


def _labelled_ticks(plot, name: str) -> list[str]:
    """The tick labels an axis draws over the plot's current view."""
    ax = plot.getAxis(name)
    lo, hi = plot.vb.viewRange()[1 if name in ("left", "right") else 0]
    size = ax.height() if name in ("left", "right") else ax.width()
    ticks = ax._tickLevels if ax._tickLevels is not None else ax.tickValues(lo, hi, size)
    out = []
    for level in ticks:
        if ax._tickLevels is not None:
            out += [label for _v, label in level]
        else:
            spacing, values = level
            out += [t for t in ax.tickStrings(values, ax.autoSIPrefixScale, spacing) if t]
    return out


def test_learning_curve_and_capacity_views(qtbot):
    from workbench.ui.experiments_view import CapacityView, LearningCurveView
    lc = learning_curve(CIRCLE, seeds=2, workers=0)
    v = LearningCurveView()
    qtbot.addWidget(v)
    v.set_result(lc)
    x, y = v.test.getData()
    np.testing.assert_array_equal(x, lc.n_train)
    np.testing.assert_array_equal(y, lc.test_loss)
    assert v.verdict.text() == lc.verdict
    shot(v, "learning_curve")
    cap = capacity_sweep(CIRCLE, workers=0)
    c = CapacityView()
    qtbot.addWidget(c)
    c.set_result(cap)
    x, y = c.train.getData()
    assert list(x) == sorted(x) and len(c.labels) == len(cap.labels)
    # ticks at the variants' parameter counts (the log axis's minor labels overlapped)
    assert _labelled_ticks(c.plot, "bottom") == [f"{n:,}" for n in sorted(set(cap.n_params))]
    shot(c, "capacity")


def _lr_test_held_after_each_run(progress, cancel, **kw):
    """lr_test whose worker waits (up to 10 s) after each finished run until the GUI has
    answered: the three runs of CIRCLE take about 15 ms, less than the round trip of a
    queued signal on a busy machine, which once made the cancel below arrive too late."""
    def held(done, total, item):
        progress(done, total, item)
        cancel.wait(10)
    return lr_test(progress=held, cancel=cancel, **kw)


def test_experiment_task_runs_on_a_thread_and_cancels(qtbot):
    from workbench.ui.experiments_view import ExperimentTask
    first = ExperimentTask(lr_test, config=CIRCLE, workers=0)
    seen = []
    first.progressed.connect(lambda d, t, s: seen.append((d, t)))
    with qtbot.waitSignal(first.finished, timeout=30000) as sig:
        first.start()
    assert first.wait(5)
    assert sig.args[0].best_lr is not None and seen[-1] == (3, 3)
    second = ExperimentTask(_lr_test_held_after_each_run, config=CIRCLE, workers=0)
    second.progressed.connect(lambda d, t, s: second.cancel())
    with qtbot.waitSignal(second.finished, timeout=30000) as sig:
        second.start()
    assert second.wait(5)
    # the cancel reaches the worker through the GUI thread's event queue, after the
    # first run: the sweep stops there
    assert sig.args[0].sweep.cancelled and len(sig.args[0].sweep.done) == 1


def test_landscape_panel_draws_a_two_parameter_run_live(qtbot):
    from workbench.core import Network
    from workbench.run import Runner
    from workbench.ui.bus import UiBus
    from workbench.ui.context import RunContext
    from workbench.ui.panels.landscape import LandscapePanel
    cfg = {"data": {"name": "reg_line", "n_samples": 60},
           "model": {"hidden": [], "output": "linear", "loss": "mse"},
           "optimizer": {"lr": 0.01, "momentum": 0.0}}
    run = Run(cfg)
    net = Network(1, 1, run.config.model, seed=0)
    net.theta[:] = run.network.theta
    panel = LandscapePanel(UiBus())
    qtbot.addWidget(panel)
    panel.set_context(RunContext(run.config, run.dataset, net))
    assert LandscapePanel.applicable(panel.ctx) and panel.view.extent is not None
    runner = Runner(run)
    runner.start()
    try:
        seen = []
        for _ in range(3):
            runner.step(7)
            assert runner.wait_idle(20)
            snap = runner.latest()
            panel.update_snapshot(snap)
            seen.append(np.array(snap.theta))
    finally:
        assert runner.stop(5)
    np.testing.assert_array_equal(panel.view.path_data("path"), np.array(seen))
    assert seen[-1][0] != seen[0][0]
    shot(panel, "landscape_panel_live", (700, 500))


def test_sweep_dialog_runs_a_grid_and_shows_it_in_the_compare_view(qtbot, tmp_path):
    from workbench.ui.experiments_view import SweepDialog
    dlg = SweepDialog(CIRCLE, out_dir=tmp_path)
    qtbot.addWidget(dlg)
    dlg.add_axis("optimizer.momentum", "0, 0.9")
    dlg.steps.setValue(60)
    dlg.workers.setValue(0)
    with qtbot.waitSignal(dlg.sweep_finished, timeout=60000) as sig:
        assert dlg.start()
    res = sig.args[0]
    assert len(res.done) == 6 and not res.cancelled
    assert res.columns == ["optimizer.lr", "optimizer.momentum"]
    assert dlg.compare.model.rowCount() == 6
    assert res.out.parent == tmp_path and (res.out / "summary.csv").exists()
    assert dlg.progress.value() == 6
    shot(dlg, "sweep_dialog", (900, 800))
    # a bad key is one line in the dialog, nothing starts
    dlg.grid.cellWidget(0, 0).setCurrentText("optimizer.lrr")
    assert not dlg.start()
    assert dlg.message.text().startswith("cannot start: unknown config key 'optimizer.lrr'")
    dlg.reject()
