"""Run: learning on the course's problems, events at exact steps, determinism, NaN stop."""
import os
import sys
import threading
import time

import numpy as np
import pytest

from workbench.config import ConfigError
from workbench.run import Run, Runner

GATE = {"hidden": [], "output": "step", "loss": "perceptron", "init": "zeros"}
PERCEPTRON_SGD = {"name": "sgd", "lr": 1.0, "momentum": 0.0}
# The named spiral config of the tests and the README: 2 -> 24 tanh -> 24 tanh -> 1 sigmoid.
SPIRAL_MLP = {"data": {"name": "spiral", "n_samples": 500, "noise": 0.1},
              "model": {"hidden": [[24, "tanh"], [24, "tanh"]]},
              "optimizer": {"lr": 0.03, "momentum": 0.9}, "training": {"epochs": 300}}


def gate_run(name, epochs=100):
    return Run({"data": {"name": name, "noise": 0.0}, "model": GATE,
                "optimizer": PERCEPTRON_SGD, "training": {"batch_size": 1, "epochs": epochs}},
               diagnostics=False)


@pytest.mark.parametrize("gate", ["and_gate", "or_gate", "nand_gate"])
def test_perceptron_learns_linearly_separable_gates(gate):
    run = gate_run(gate)
    assert run.n_train == 4 and run.test_data[0].shape[0] == 0
    run.run_steps(run.total_steps)
    ev = run.evaluate()
    assert ev["train_accuracy"] == 1.0 and ev["train_loss"] == 0.0
    assert ev["test_loss"] is None


def test_perceptron_never_learns_xor():
    run = gate_run("xor_gate", epochs=1000)
    accs = []
    for _ in range(100):
        run.run_steps(40)
        accs.append(run.evaluate()["train_accuracy"])
    # some corner is always misclassified (the weights even cycle back through zero,
    # where the perceptron loss is 0 but every point sits on the boundary)
    assert max(accs) <= 0.75


def test_mlp_solves_xor():
    run = Run({"data": {"name": "xor_gate", "noise": 0.0}, "model": {"hidden": [[4, "tanh"]]},
               "optimizer": {"lr": 0.3}, "training": {"batch_size": 4, "epochs": 500}},
              diagnostics=False)
    run.run_steps(run.total_steps)
    assert run.evaluate()["train_accuracy"] == 1.0


def test_mlp_reaches_95_percent_on_spiral():
    run = Run(SPIRAL_MLP, diagnostics=False)
    run.run_steps(run.total_steps)
    assert run.evaluate()["test_accuracy"] >= 0.95


def test_default_config_visibly_learns():
    run = Run({}, diagnostics=False)
    start = run.evaluate()
    run.run_steps(run.total_steps)
    end = run.evaluate()
    assert start["test_accuracy"] < 0.75
    assert end["test_accuracy"] >= 0.9
    assert end["train_loss"] < 0.5 * start["train_loss"]


def test_digits_softmax_learns():
    run = Run({"data": {"name": "digits"}, "model": {"hidden": [[32, "relu"]],
               "output": "softmax", "loss": "cross_entropy", "init": "he"},
               "optimizer": {"lr": 0.05}, "training": {"batch_size": 32, "epochs": 5}},
              diagnostics=False)
    assert run.network.n_outputs == 10
    run.run_steps(run.total_steps)
    assert run.evaluate()["test_accuracy"] > 0.9


def test_digits_with_one_sigmoid_unit_is_refused_with_the_fix():
    with pytest.raises(ConfigError, match="cross_entropy"):
        Run({"data": {"name": "digits"}, "model": {"loss": "bce"}})


def test_same_config_same_parameters_bit_for_bit():
    a, b = Run({"seed": 3}), Run({"seed": 3})
    a.run_steps(500)
    b.run_steps(200)
    b.run_steps(300)
    assert a.network.theta.tobytes() == b.network.theta.tobytes()
    c = Run({"seed": 4})
    c.run_steps(500)
    assert not np.array_equal(a.network.theta, c.network.theta)


def test_hyperparameter_change_applies_at_the_next_step_and_replays_exactly():
    live = Run({}, diagnostics=False)
    live.run_steps(70)
    live.set_hyperparameters(lr=0.3, batch_size=7, momentum=0.5)
    assert live.hp["lr"] == 0.03        # queued, not applied mid-step
    live.run_steps(1)
    assert live.hp["lr"] == 0.3
    ev = [e for e in live.events if e.kind == "hparams"]
    assert len(ev) == 1 and ev[0].step == 70 and ev[0].payload["batch_size"] == 7
    assert live.history.steps()["lr"][70] == 0.3 and live.history.steps()["lr"][69] == 0.03
    live.set_weight(0, 1, 0, 0.25)
    live.run_steps(129)
    again = Run({}, diagnostics=False)
    again.schedule([e.to_dict() for e in live.events])
    again.run_steps(200)
    assert again.network.theta.tobytes() == live.network.theta.tobytes()
    assert [(e.step, e.kind) for e in again.events] == [(e.step, e.kind) for e in live.events]


def test_bad_live_values_are_refused_with_one_line():
    run = Run({}, diagnostics=False)
    with pytest.raises(ConfigError, match="optimizer.lr"):
        run.set_hyperparameters(lr=0)
    with pytest.raises(ConfigError, match="batch_size"):
        run.set_hyperparameters(batch_size=0)
    with pytest.raises(ConfigError, match="live"):
        run.set_hyperparameters(epochs=3)


def test_run_stops_at_first_nonfinite_value_and_rewinds():
    cfg = {"data": {"name": "reg_line", "noise": 0.1},
           "model": {"hidden": [[8, "relu"]], "output": "linear", "loss": "mse"},
           "optimizer": {"lr": 5.0, "momentum": 0.9}, "training": {"batch_size": 10}}
    run = Run(cfg, diagnostics=False)
    done = run.run_steps(5000)
    assert done < 5000 and run.nonfinite is not None
    assert run.nonfinite.step == run.step
    flags = run.history.steps()["flags"]
    assert flags[-1] != 0 and np.all(flags[:-1] == 0)
    assert run.run_steps(10) == 0
    bad = run.nonfinite.step
    run.rewind_to_finite()
    assert run.step == bad - 1 and run.nonfinite is None
    assert np.all(np.isfinite(run.network.theta))
    assert run.history.n_steps == bad - 1


def test_per_step_metrics_are_consistent():
    run = Run({"model": {"hidden": [[6, "relu"], [5, "sigmoid"]]}}, diagnostics=False)
    before = run.network.theta.copy()
    run.run_steps(1)
    h = run.history.steps()
    net = run.network
    for l in range(net.n_layers):
        sl = net.layer_slice(l)
        g = run.gradient[sl]
        assert h["gnorm"][0, l] == pytest.approx(np.linalg.norm(g), rel=1e-5)
        assert h["wnorm"][0, l] == pytest.approx(np.linalg.norm(net.theta[sl]), rel=1e-5)
        upd = np.linalg.norm(net.theta[sl] - before[sl]) / np.linalg.norm(before[sl])
        assert h["uratio"][0, l] == pytest.approx(upd, rel=1e-5)
    assert 0.0 <= h["dead"][0, 0] <= 1.0 and h["sat"][0, 0] == 0.0


def test_history_keeps_every_evaluation_row():
    """Evaluation rows: None (no accuracy in regression, no test split) is NaN, the per-layer
    fractions are rows, and the arrays grow past their first capacity without loss."""
    from workbench.run.history import History
    h = History(2)
    rows = [{"step": 10 * i, "epoch": i / 3, "train_loss": 1.0 / (i + 1), "test_loss": None,
             "train_acc": None, "test_acc": 0.5, "eval_dead": [0.25 * (i % 5), 0.0],
             "eval_sat": [0.0, 1.0]} for i in range(1500)]      # capacity starts at 1024
    for r in rows:
        h.append_evaluation(r)
    e = h.evals()
    assert h.n_evals == 1500
    assert np.array_equal(e["step"], 10.0 * np.arange(1500))
    assert np.array_equal(e["train_loss"], 1.0 / np.arange(1, 1501))
    assert np.isnan(e["test_loss"]).all() and np.isnan(e["train_acc"]).all()
    assert e["eval_dead"].shape == (1500, 2) and e["eval_dead"].dtype == np.float32
    assert np.array_equal(e["eval_dead"][:, 0], 0.25 * (np.arange(1500) % 5))
    assert np.array_equal(e["eval_sat"], np.tile([0.0, 1.0], (1500, 1)))
    h.truncate(100)                                     # rewinds keep steps <= 100
    assert h.n_evals == 11


def test_dead_relu_layer_is_reported_dead():
    run = Run({"model": {"hidden": [[8, "relu"]], "bias_init": -50.0}}, diagnostics=False)
    run.run_steps(3)
    h = run.history.steps()
    assert np.all(h["dead"][:, 0] == 1.0)
    assert run.evaluations[0]["eval_dead"][0] == 1.0


def test_saturated_sigmoid_layer_is_reported_saturated():
    run = Run({"model": {"hidden": [[8, "sigmoid"]], "init": "normal", "init_scale": 40.0}},
              diagnostics=False)
    run.run_steps(3)
    assert run.history.steps()["sat"][:, 0].mean() > 0.5


def test_runner_steps_pauses_and_stops_without_blocking():
    run = Run({}, diagnostics=False)
    runner = Runner(run)
    runner.step(5)
    assert runner.wait_idle(60)
    assert run.step == 5 and runner.latest().step == 5
    snap = runner.latest()
    assert len(snap.steps["loss"]) == 5 and snap.status == "paused"
    runner.play()
    deadline = threading.Event()
    while run.step < 200:
        deadline.wait(0.01)
    runner.pause()
    assert runner.wait_idle(10)
    s1 = run.step
    deadline.wait(0.05)
    assert run.step == s1
    assert runner.stop(2.0)
    assert not runner.alive


def test_views_while_training_come_from_a_frozen_copy_on_the_view_thread():
    from workbench.run.runner import VIEW_THREAD_NICE, FrozenRun
    run = Run({"training": {"epochs": 1000}}, diagnostics=False)
    runner = Runner(run)
    calls = []

    nice = {}

    def view(src):
        calls.append((threading.current_thread().name, type(src).__name__, src.step))
        if sys.platform.startswith("linux"):
            nice[threading.current_thread().name] = os.getpriority(
                os.PRIO_PROCESS, threading.get_native_id())
        if isinstance(src, FrozenRun):
            # a copy: the training thread goes on changing the run's own parameters
            assert src.network.theta is not run.network.theta
            assert src.gradient is not run.gradient
            theta = src.network.theta.copy()
            threading.Event().wait(0.02)
            assert np.array_equal(theta, src.network.theta)
        return src.step

    runner.add_view("probe", view, hz=50.0)
    runner.play()
    deadline = threading.Event()
    end = time.monotonic() + 20
    while sum(c[0] == "workbench-views" for c in calls) < 3 and time.monotonic() < end:
        deadline.wait(0.01)
    runner.pause()
    assert runner.wait_idle(10)
    threads = {(name, kind) for name, kind, _ in calls}
    assert ("workbench-views", "FrozenRun") in threads
    # once training stops, the views are computed from the run itself, up to date
    assert calls[-1][:2] == ("workbench-run", "Run") and calls[-1][2] == run.step
    assert runner.latest().views["probe"] == run.step
    if sys.platform.startswith("linux"):   # the views yield the cores to training
        assert nice["workbench-views"] == min(19, nice["workbench-run"] + VIEW_THREAD_NICE)
    assert runner.stop(2.0)
    assert not any(t.name == "workbench-views" for t in threading.enumerate())


def test_epochs_bound_the_threaded_run():
    run = Run({"training": {"epochs": 3}}, diagnostics=False)
    runner = Runner(run)
    runner.play()
    assert runner.wait_idle(60)
    assert run.epoch == 3 and runner.latest().status == "finished"
    runner.stop()


def test_total_steps_keeps_progress_after_a_batch_size_change():
    run = Run({"data": {"name": "spiral", "n_samples": 200},
               "training": {"epochs": 4, "batch_size": 10}}, diagnostics=False)
    assert run.total_steps == 4 * run.steps_per_epoch
    run.run_steps(20)
    run.set_hyperparameters(batch_size=20)
    run.run_steps(5)
    assert abs(run.step / run.total_steps - run.epoch_progress / 4) < 0.01
    run.run_steps(run.steps_to_finish + 30)  # past the end: never above 100 %
    assert run.total_steps == run.step


class _Order:
    def __init__(self):
        self.calls = []

    def on_chunk(self, run, chunk):
        self.calls.append(("chunk", chunk.start, chunk.n))

    def on_evaluation(self, run, row):
        self.calls.append(("eval", row["step"], row["train_loss"], row["test_loss"]))

    def on_event(self, run, ev):
        self.calls.append(("event", ev.step, ev.kind))


def test_an_exact_solvers_fit_is_evaluated():
    # the first step of normal equations is the fit: the curves show it at once,
    # not at the next point of the cadence (every 15 steps here), and only once
    ridge = Run({"data": {"name": "reg_sine", "n_samples": 30, "features": [{"poly": 9}],
                          "scale": 0.2},
                 "model": {"hidden": [], "output": "linear", "loss": "mse"},
                 "optimizer": {"name": "normal_equations"},
                 "training": {"epochs": 1, "batch_size": 21}}, diagnostics=False)
    assert ridge.eval_every > 2
    ridge.run_steps(3)
    ev = ridge.history.evals()
    assert list(ev["step"]) == [0, 1] and ev["train_loss"][1] < 0.1 * ev["train_loss"][0]
    assert ev["test_loss"][1] == pytest.approx(ridge.evaluate()["test_loss"], rel=1e-12)


@pytest.mark.parametrize("chunk", [7, 4096])
def test_overlapped_evaluations_match_inline_ones(chunk, monkeypatch):
    from workbench.run import run as run_module
    started = []
    real = run_module.Run._start_evaluation
    monkeypatch.setattr(run_module.Run, "_start_evaluation",
                        lambda self: started.append(self.step) or real(self))
    cfg = {"data": {"name": "spiral", "n_samples": 300}, "training": {"epochs": 12}}
    seen = []
    for overlap in (False, True):
        run = Run(cfg, eval_every=25)
        run.overlap_evaluations = overlap
        order = _Order()
        run.add_listener(order)
        run.schedule([{"step": 50, "kind": "hparams", "payload": {"lr": 0.01}}])
        run.run_steps(60, max_chunk=chunk)
        run.set_hyperparameters(momentum=0.5)   # queued at step 60: an evaluation is due
        run.run_steps(140, max_chunk=chunk)
        seen.append((order.calls, run.network.theta.copy(),
                     [f.to_dict() for f in run.findings()], run.unit_stats,
                     run.evaluations))
    (calls0, theta0, f0, us0, ev0), (calls1, theta1, f1, us1, ev1) = seen
    assert calls0 == calls1
    # the helper thread works out the rows and unit counts that the inline path does
    assert ev0 == ev1 and us0["n"] == us1["n"]
    assert np.array_equal(us0["off"], us1["off"]) and np.array_equal(us0["sat"], us1["sat"])
    assert us1["off"].sum() > 0 or us1["sat"].sum() > 0
    assert [c[1] for c in calls0 if c[0] == "eval"] == list(range(0, 201, 25))
    assert np.array_equal(theta0, theta1)
    assert f0 == f1
    assert len(started) >= 5     # the overlapped path ran (for the second run)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork()")
def test_a_forked_child_evaluates_on_its_own_thread():
    """The evaluation thread does not survive fork(): a child that trains after its
    parent trained must start its own instead of waiting on a dead one."""
    import os
    import signal
    cfg = {"data": {"name": "spiral", "n_samples": 200}, "training": {"epochs": 50}}
    Run(cfg, eval_every=10, diagnostics=False).run_steps(50)   # the parent's thread exists
    pid = os.fork()
    if pid == 0:  # child: exit 0 only if overlapped evaluations complete
        try:
            run = Run(cfg, eval_every=10, diagnostics=False)
            run.run_steps(50)
            os._exit(0 if len(run.evaluations) == 6 else 3)
        except BaseException:
            os._exit(4)
    deadline = __import__("time").monotonic() + 60
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if __import__("time").monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError("the forked child hung on the parent's evaluation thread")
        __import__("time").sleep(0.05)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def test_finish_evaluates_the_last_step_once():
    """The cadence evaluates every eval_every steps; the end of training evaluates the
    last step too, so the last row is the trained model (the default demo's cadence
    stopped 153 steps short of its 7,000), and only once."""
    run = Run({"data": {"n_samples": 200}, "training": {"epochs": 3}}, diagnostics=False)
    run.run_steps(run.total_steps)
    assert run.total_steps % run.eval_every != 0
    assert run.evaluations[-1]["step"] < run.step
    run.finish()
    assert run.evaluations[-1]["step"] == run.step
    assert run.evaluations[-1]["test_acc"] == run.evaluate()["test_accuracy"]
    n = len(run.evaluations)
    run.finish()
    assert len(run.evaluations) == n


def test_runner_evaluates_the_last_step_when_the_epochs_are_done():
    run = Run({"data": {"n_samples": 200}, "training": {"epochs": 3}}, diagnostics=False)
    assert run.total_steps % run.eval_every != 0
    runner = Runner(run)
    runner.play()
    assert runner.wait_idle(60)
    assert runner.latest().status == "finished"
    runner.stop()
    assert run.evaluations[-1]["step"] == run.step
