"""The decision map fills the plane it is shown in, and the perceptron's line is drawn
(or its absence explained) whatever the panel's shape (issue 4 screenshots: white bands
beside a [-5, 5] map in a view reaching +-6; an all-blue XOR plane with no line)."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")
pytest.importorskip("pyqtgraph")
from PySide6 import QtWidgets  # noqa: E402

from workbench.run import Run  # noqa: E402
from workbench.run.runner import Snapshot  # noqa: E402
from workbench.ui.bus import UiBus  # noqa: E402
from workbench.ui.context import RunContext  # noqa: E402
from workbench.ui.panels.decision import DecisionPanel, plane_extent  # noqa: E402

GATE = {"data": {"name": "xor_gate", "n_samples": 4, "noise": 0.0, "test_fraction": 0.0},
        "model": {"hidden": [], "output": "step", "loss": "perceptron", "init": "zeros"},
        "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.0},
        "training": {"batch_size": 1, "epochs": 30}}


def _feed(panel, run: Run, fns: dict, seq: int) -> None:
    """Compute the worker views with the run (as the Runner does) and show them."""
    QtWidgets.QApplication.processEvents()
    views = {name: fn(run) for name, (fn, _hz) in fns.items()}
    panel.update_snapshot(Snapshot(
        seq=seq, status="paused", step=run.step, epoch=run.epoch,
        epoch_progress=run.epoch_progress, total_steps=run.total_steps,
        epochs=run.config.training["epochs"], lr=run.current_lr, hp=dict(run.hp),
        steps_per_s=0.0, steps=run.history.steps(), evals=run.history.evals(),
        events=(), theta=run.network.theta.copy(), nonfinite=None, views=views))
    QtWidgets.QApplication.processEvents()


def _show(qtbot, run: Run, w: int, h: int) -> DecisionPanel:
    panel = DecisionPanel(UiBus())
    qtbot.addWidget(panel)
    panel.resize(w, h)
    panel.show()
    qtbot.waitExposed(panel)
    ctx = RunContext(config=run.config, dataset=run.dataset, network=run.network.copy())
    panel.set_context(ctx)
    panel.fns = panel.worker_views(ctx)      # registered once, as the controller does
    _feed(panel, run, panel.fns, 1)
    _feed(panel, run, panel.fns, 2)   # this map follows the range the laid-out view took
    return panel


def _covers(panel) -> bool:
    (vx0, vx1), (vy0, vy1) = panel.plot.vb.viewRange()
    r = panel.mode.image.mapRectToParent(panel.mode.image.boundingRect())
    return r.left() <= vx0 and r.right() >= vx1 and r.top() <= vy0 and r.bottom() >= vy1


@pytest.mark.parametrize("w,h", [(720, 560), (420, 760), (900, 300)])
def test_map_covers_the_whole_view(qtbot, w, h):
    run = Run({"data": {"n_samples": 200}}, diagnostics=False)
    run.run_steps(50)
    panel = _show(qtbot, run, w, h)
    assert _covers(panel)
    # the view starts on the data, and the map is the model over the grid it shows
    (vx0, vx1), (vy0, vy1) = panel.plot.vb.viewRange()
    x0, x1, y0, y1 = plane_extent(run.dataset)
    assert vx0 <= x0 + 1e-9 and vx1 >= x1 - 1e-9 and vy0 <= y0 + 1e-9 and vy1 >= y1 - 1e-9
    assert panel.mode.extent == panel.mode.value.extent


def test_map_follows_a_zoom(qtbot):
    run = Run({"data": {"name": "reg_gauss", "n_samples": 200},
               "model": {"hidden": [[8, "tanh"]], "output": "linear", "loss": "mse"}},
              diagnostics=False)
    run.run_steps(20)
    panel = _show(qtbot, run, 600, 500)
    panel.plot.vb.scaleBy((2.5, 2.5))           # zoom out: the old map no longer covers
    QtWidgets.QApplication.processEvents()
    assert not _covers(panel)
    run.run_steps(1)                            # the next map, from the worker's fn
    _feed(panel, run, panel.fns, 3)
    assert _covers(panel)
    assert panel.mode.extent == panel.mode.value.extent


def test_xor_perceptron_line_or_why_there_is_none(qtbot):
    run = Run(GATE, diagnostics=False)
    run.run_steps(39)              # w = (0, -0.1), b = 0: the line x2 = 0
    panel = _show(qtbot, run, 500, 450)
    xs, ys = panel.mode.line.getData()
    assert len(xs) == 2 and np.allclose(ys, 0.0)
    assert panel.caption.text().startswith("line ") and "outside" not in panel.caption.text()
    run.run_steps(1)               # w = (0, 0), b = 0.1: every point class 1
    _feed(panel, run, panel.fns, 3)
    xs, _ys = panel.mode.line.getData()
    assert xs is None or len(xs) == 0
    assert "no line, every point is class 1" in panel.caption.text()
    assert np.all(panel.mode.value == 1.0)      # the map shows the 0/1 prediction
