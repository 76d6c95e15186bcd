"""The diagnostics dock: lists findings, shows evidence, emits the bus signals."""
from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from workbench.run import Run  # noqa: E402
from workbench.ui.bus import UiBus  # noqa: E402
from workbench.ui.panels.diagnostics_panel import DiagnosticsPanel  # noqa: E402

SHOTS = os.environ.get("WB_SHOTS", "/tmp/shots")
DEAD = {"seed": 0, "data": {"name": "circle", "n_samples": 200},
        "model": {"hidden": [[8, "relu"]], "init": "he", "bias_init": -6.0},
        "optimizer": {"name": "adam", "lr": 0.01}, "training": {"epochs": 10}}


def test_panel_lists_selects_and_emits(qtbot):
    run = Run(DEAD)
    run.run_steps(run.total_steps)
    run.finish()
    findings = run.findings()
    assert {"dead_units", "bad_init_loss"} <= {f.code for f in findings}
    bus = UiBus()
    panel = DiagnosticsPanel(bus)
    qtbot.addWidget(panel)
    assert "rules watch" in panel.details.toPlainText()
    panel.update_snapshot(SimpleNamespace(seq=1, findings=findings))
    assert panel.list.count() == len(findings)
    # nothing selected yet: the empty details pane says what selecting does
    assert panel.details.toPlainText().startswith("Select a finding")
    row = [f.code for f in findings].index("dead_units")
    marked, units = [], []
    bus.step_marked.connect(marked.append)
    bus.units_highlighted.connect(units.append)
    panel.list.setCurrentRow(row)
    assert marked == [findings[row].step]
    assert units and all(l == 0 for l, _ in units[0]) and len(units[0]) >= 4
    text = panel.details.toPlainText()
    assert "dead_units" in text and "leaky ReLU" in text
    assert panel.remedy_button.isEnabled()
    with qtbot.waitSignal(bus.remedy_requested) as sig:
        panel.remedy_button.click()
    assert sig.args[0]["patch"]["model.hidden"] == [[8, "leaky_relu"]]
    # the same snapshot again changes nothing; an empty one clears the list
    panel.update_snapshot(SimpleNamespace(seq=1, findings=[]))
    assert panel.list.count() == len(findings)
    panel.update_snapshot(SimpleNamespace(seq=2, findings=[]))
    assert panel.list.count() == 0 and not panel.remedy_button.isEnabled()
    assert "rules watch" in panel.details.toPlainText()


def test_selected_finding_rings_units_on_the_network_graph(qtbot):
    from PySide6 import QtWidgets
    from workbench.ui.context import RunContext
    from workbench.ui.panels.network_graph import NetworkGraphPanel
    from workbench.run.runner import Snapshot
    cfg = dict(DEAD, model={"hidden": [[6, "relu"], [4, "tanh"]], "init": "he",
                            "bias_init": -6.0})
    run = Run(cfg)
    run.run_steps(run.total_steps)
    run.finish()
    bus = UiBus()
    ctx = RunContext(config=run.config, dataset=run.dataset, network=run.network.copy())
    box = QtWidgets.QWidget()
    lay = QtWidgets.QHBoxLayout(box)
    graph, diag = NetworkGraphPanel(bus), DiagnosticsPanel(bus)
    lay.addWidget(graph, 3)
    lay.addWidget(diag, 2)
    qtbot.addWidget(box)
    box.resize(1100, 480)
    box.show()
    qtbot.waitExposed(box)
    for p in (graph, diag):
        p.set_context(ctx)
    views = {n: fn(run) for n, (fn, _hz) in graph.worker_views(ctx).items()}
    snap = Snapshot(seq=1, status="paused", step=run.step, epoch=run.epoch,
                    epoch_progress=run.epoch_progress, total_steps=run.total_steps,
                    epochs=run.config.training["epochs"], lr=run.current_lr,
                    hp=dict(run.hp), steps_per_s=0.0, steps=run.history.steps(),
                    evals=run.history.evals(), events=(), theta=run.network.theta.copy(),
                    nonfinite=None, views=views, findings=tuple(run.findings()))
    graph.update_snapshot(snap)
    diag.update_snapshot(snap)
    codes = [f["code"] for f in diag._findings]
    diag.list.setCurrentRow(codes.index("dead_units"))
    dead = run.findings()[[f.code for f in run.findings()].index("dead_units")]
    ringed = {tuple(np.round(p.pos(), 6)) for p in graph.ring_item.points()}
    assert ringed == {tuple(np.round(graph.node_pos[(l + 1, u)], 6)) for l, u in dead.units}
    os.makedirs(SHOTS, exist_ok=True)
    QtWidgets.QApplication.processEvents()
    assert box.grab().save(os.path.join(SHOTS, "diagnostics_dock_dead_units.png"))


def test_details_leave_out_measurements_the_rule_did_not_use():
    f = {"code": "lr_too_high", "severity": "warning", "step": 100, "resolved_step": None,
         "message": "The learning rate 3 is too high: the loss diverges.",
         "evidence": {"update_ratio": None, "loss_rise": [0.802, 2.91], "lr": 3.0},
         "question": "Should we change the learning rate?", "remedy": "lower it",
         "patch": {"optimizer.lr": 0.3}, "source": "CS231n"}
    html = DiagnosticsPanel._details_html(f)
    assert "loss_rise" in html and "0.802, 2.91" in html and ">3<" in html
    assert "update_ratio" not in html and "None" not in html
