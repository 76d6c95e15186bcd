"""Diagnostics: rules on a fast subset of the corpus, remedies, sanity checks, NaN
provenance, the finding contract and the CLI."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from workbench.config import load_config
from workbench.diagnostics import Finding, Monitor
from workbench.diagnostics.checks import (check_gradient, check_separable, gradient_check,
                                          run_checks)
from workbench.diagnostics.evaluation import load_scenarios, run_scenario, score
from workbench.diagnostics.provenance import nan_provenance
from workbench.diagnostics.rules import RULES, THRESHOLDS
from workbench.run import Run

ROOT = Path(__file__).resolve().parents[2]
SCEN = Path(__file__).parent / "scenarios"
CODES = ("nan_or_inf", "diverging", "lr_too_high", "lr_too_low", "oscillating_loss",
         "exploding_gradients", "vanishing_gradients", "dead_units", "saturated_units",
         "symmetric_init", "bad_init_loss", "plateau", "not_converged", "overfitting",
         "underfitting", "not_linearly_separable", "unscaled_features",
         "irrelevant_features", "output_loss_mismatch")
ALL = {s["name"]: s for s in load_scenarios(SCEN)}


def train(cfg, steps=None):
    run = Run(cfg)
    total = steps or run.total_steps
    while run.step < total and run.nonfinite is None:
        if run.run_steps(min(total - run.step, run.eval_every)) == 0:
            break
    run.finish()
    return run


def codes(run):
    return {f.code for f in run.findings()}


# --- corpus and registry ----------------------------------------------------------------
def test_registry_covers_every_code_with_source_and_question():
    assert set(RULES) == set(CODES)
    for r in RULES.values():
        assert r.source and r.question.endswith("?")
    assert all(len(v) == 3 for v in THRESHOLDS.values())


def test_corpus_shape():
    scs = list(ALL.values())
    assert len(scs) >= 60
    healthy = [s for s in scs if not s["expect"]]
    assert len(healthy) >= 15
    for code in CODES:
        assert sum(code in s["expect"] for s in scs) >= 3, code
    for s in scs:
        assert s["split"] in ("tune", "test") and s["why"]
        assert set(s["expect"]) <= set(CODES)
        load_config(s["config"])        # every scenario is a valid run


FAST = ["healthy_gaussian_logistic", "healthy_xor_tanh", "healthy_regline_sgd",
        "healthy_and_perceptron", "nan_regline_lr1", "lrlow_circle_tanh",
        "vanish_deep_sigmoid_circle", "dead_relu_bias_circle", "sym_zeros_tanh_xor",
        "badinit_bias_regline", "nls_xor_logistic", "unscaled_regplane_big",
        "mismatch_regline_sigmoid", "plateau_small_init_xor", "nc_regsine_short",
        "underfit_regsine_one", "irr_gauss_noise", "osc_regplane_fb",
        "sat_tanh_scaled_circle", "overfit_spiral_small",
        # issue 4, round 2: a loss that falls in stairs, a slow noisy descent cut short, a
        # run that starts fitted at lr 1e-7, a linear model with near-zero best weights
        "ho4_osc_regline_fb", "ho4_nc_circle_adam", "ho2_lrlow_regline_sgd",
        "ho4_underfit_reggauss_linear",
        # issue 4, round 3: a swing up and back between few evaluations, one tanh unit
        # no better than a line, a linear fit whose ceiling is below UF_R2 (not "more
        # epochs"), ReLU units off because the inputs are tiny (unscaled, not dead), the
        # perceptron cycling on the XOR gate (not separable, not oscillating). (Adam 2 on
        # XOR, the same run with seed 1078: seed 4, "lrhigh_xor_adam", ends since the
        # vectorised sigmoid of session 18 at 93 % / 82 % accuracy with its test loss at
        # 0.95 from 0.33: by the rule's measures it overfits as well, gap 0.106 > 0.08;
        # the corpus rates did not move)
        "ho5_lrhigh_xor_adam2", "ho5_underfit_moons_1tanh_7",
        "ho5_underfit_reggauss_0linear_9",
        "ho4_unscaled_regsine_x0002_relu", "ho5_nls_xorgate_perceptron_13",
        # issue 4, round 4: a one-unit hidden layer on data no line fits is a capacity
        # ceiling: its dead ReLU, its slow creep, its shrinking tanh weights all read as
        # underfitting (not dead_units, not_converged, plateau)
        "ho6_underfit_circle_1relu_490", "ho6_underfit_circle_1sigmoid_485",
        "ho6_underfit_reggauss_1tanh_483", "ho4_underfit_regsine_one_relu",
        # issue 4, round 5: 5 noise columns on moons overfit at 80 % test accuracy (the
        # noise columns are named, not overfitting); a healthy ReLU spiral whose test loss
        # rises at 99 % / 96 % accuracy and Adam 3 on XOR swinging its test loss (neither
        # overfits: their train-test accuracy gap is small). (Seed 1223 of the moons ended
        # its run with a test loss a hair above ln 2, 0.697, once its last step was
        # evaluated: no better than guessing by its loss, so not a measure of its inputs;
        # seed 1213 overfits to 0.35.)
        "ho7_irr_moons_noise5_1_1213", "ho7_healthy_spiral_2relu_adam_28",
        "ho7_lrhigh_xor_adam3_394"]


@pytest.mark.parametrize("name", FAST)
def test_fast_subset_finds_exactly_the_expected_codes(name):
    r = run_scenario(ALL[name])
    assert set(r["found"]) == set(r["expect"]), r


def test_score_counts():
    res = [{"name": "a", "split": "tune", "expect": ["plateau"], "found": {"plateau": 5},
            "severity": {"plateau": "warning"}, "steps": 9},
           {"name": "b", "split": "tune", "expect": [], "found": {"dead_units": 0},
            "severity": {"dead_units": "warning"}, "steps": 9}]
    s = score(res)
    assert s["per_code"]["plateau"]["recall"] == 1.0
    assert s["per_code"]["dead_units"]["precision"] == 0.0
    assert s["false_alarm_rate"] == 1.0 and s["precision"] == 0.5


# --- the compiled chunk reduction ---------------------------------------------------------
def test_upper_median_matches_numpy_partition_with_nan_and_inf():
    from workbench.core.reductions import _upper_median
    rng = np.random.default_rng(0)
    buf = np.zeros(64)
    for n in (1, 2, 3, 7, 20, 63, 64):
        for _ in range(40):
            a = rng.choice([0.0, 1.0, 2.0, np.inf, np.nan, -np.inf], n) \
                if rng.random() < 0.3 else rng.normal(size=n)
            want = np.partition(a, n // 2)[n // 2]
            got = _upper_median(a, buf)
            assert got == want or (np.isnan(got) and np.isnan(want)), (a, got, want)


class _Chunks:
    def __init__(self):
        self.chunks = []

    def on_chunk(self, run, chunk):
        self.chunks.append(chunk)


@pytest.mark.parametrize("name", ["healthy_xor_tanh", "nan_regline_lr1", "osc_regplane_fb",
                                  "explode_deep_relu_normal", "lrlow_circle_tanh"])
def test_compiled_chunk_stats_equal_the_numpy_reference(name):
    """Monitor._chunk_stats (one compiled call) gives exactly what the plain numpy
    version gives, chunk by chunk, state included (NaN, full batch, doubling norms)."""
    import dataclasses
    run = Run(ALL[name]["config"])
    rec = _Chunks()
    run.add_listener(rec)
    run.run_steps(min(run.total_steps, 600), max_chunk=37)   # many small chunks
    run.set_hyperparameters(lr=run.hp["lr"])
    run.run_steps(200)
    a, b = Monitor(run), Monitor(run)
    for c in rec.chunks:
        x, y = a._chunk_stats(c), b._chunk_stats_numpy(c)
        for f in dataclasses.fields(x):
            u, v = getattr(x, f.name), getattr(y, f.name)
            if isinstance(v, np.ndarray):
                np.testing.assert_array_equal(u, v)
            else:
                assert u == v or (u != u and v != v), (c.start, f.name, u, v)
        for k in ("ur_recent", "g_recent", "doublings", "prev_block"):
            assert a.state.get(k) == b.state.get(k), (c.start, k)
    assert len(rec.chunks) > 5 or (rec.chunks and run.nonfinite is not None)


# --- findings: contract, severity, resolution -------------------------------------------
def test_finding_fields_and_severity():
    run = train(ALL["nan_regline_lr1"]["config"])
    fs = {f.code: f for f in run.findings()}
    assert fs["nan_or_inf"].severity == "error" and fs["diverging"].severity == "error"
    assert fs["lr_too_high"].severity == "warning"
    d = fs["nan_or_inf"].to_dict()
    assert set(d) >= {"code", "severity", "step", "resolved_step", "message", "evidence",
                      "remedy", "patch", "question", "source"}
    assert d["patch"] == {"optimizer.lr": 0.1}
    assert "from 1 to 0.1" in d["remedy"]
    json.dumps(d)                            # plain JSON types only
    assert fs["nan_or_inf"].step == run.nonfinite.step


def test_resolved_finding_is_kept():
    cfg = load_config(ALL["lrlow_circle_tanh"]["config"]).with_changes(
        {"training.epochs": 40})
    run = Run(cfg)
    run.run_steps(6 * run.eval_every)
    assert "lr_too_low" in codes(run)
    run.set_hyperparameters(lr=0.03)
    run.run_steps(6 * run.eval_every)
    f = [f for f in run.findings() if f.code == "lr_too_low"][0]
    assert f.resolved_step is not None and f.resolved_step > f.step


def test_monitor_is_a_listener_and_exported():
    run = Run(ALL["healthy_gaussian_logistic"]["config"])
    assert isinstance(run.monitor, Monitor)
    assert all(isinstance(f, Finding) for f in run.findings())


# --- remedies actually help ------------------------------------------------------------
def remedy_of(run, code):
    f = [f for f in run.findings() if f.code == code][0]
    assert f.patch, f
    return run.config.with_changes(f.patch)


def test_remedy_lr_too_high_removes_divergence():
    run = train(ALL["nan_regline_lr1"]["config"])
    fixed = train(remedy_of(run, "lr_too_high"))
    assert fixed.nonfinite is None
    assert not codes(fixed) & {"nan_or_inf", "diverging", "lr_too_high"}


def test_remedy_dead_units_revives_them():
    run = train(ALL["dead_relu_bias_circle"]["config"])
    before = run.evaluations[-1]["eval_dead"][0]
    fixed = train(remedy_of(run, "dead_units"))
    assert before > 0.5 and "dead_units" not in codes(fixed)
    assert fixed.evaluate()["train_accuracy"] > run.evaluate()["train_accuracy"] + 0.2


def test_remedy_symmetric_init_breaks_symmetry():
    run = train(ALL["sym_zeros_tanh_xor"]["config"])
    fixed = train(remedy_of(run, "symmetric_init"))
    assert "symmetric_init" not in codes(fixed)
    assert fixed.evaluate()["train_loss"] < 0.5 * run.evaluate()["train_loss"]


def test_remedy_not_linearly_separable_adds_the_feature():
    run = train(ALL["nls_xor_logistic"]["config"])
    cfg = remedy_of(run, "not_linearly_separable")
    assert "x1*x2" in cfg.data["features"]
    fixed = train(cfg)
    assert fixed.evaluate()["train_accuracy"] > 0.95 > run.evaluate()["train_accuracy"]


def test_remedy_output_loss_mismatch():
    run = train(ALL["mismatch_regline_sigmoid"]["config"])
    fixed = train(remedy_of(run, "output_loss_mismatch"))
    assert not codes(fixed)
    assert fixed.evaluate()["train_loss"] < 0.1 * run.evaluate()["train_loss"]


def test_remedy_lr_too_low_and_vanishing():
    run = train(ALL["lrlow_circle_tanh"]["config"])
    fixed = train(remedy_of(run, "lr_too_low"))
    assert "lr_too_low" not in codes(fixed)
    assert fixed.evaluate()["train_loss"] < 0.9 * run.evaluate()["train_loss"]
    run = train(ALL["vanish_deep_sigmoid_circle"]["config"])
    fixed = train(remedy_of(run, "vanishing_gradients"))
    assert "vanishing_gradients" not in codes(fixed)
    assert fixed.evaluate()["train_accuracy"] > run.evaluate()["train_accuracy"] + 0.2


def test_remedy_unscaled_features():
    run = train(ALL["sat_tanh_scaled_circle"]["config"])
    fixed = train(remedy_of(run, "unscaled_features"))
    assert not codes(fixed) & {"unscaled_features", "saturated_units"}
    assert fixed.evaluate()["train_accuracy"] > run.evaluate()["train_accuracy"] + 0.2


# --- sanity checks ------------------------------------------------------------------------
def test_xor_reported_not_separable_and_gaussian_separable():
    xor = load_config({"data": {"name": "xor_gate"}, "model": {"hidden": [],
                       "output": "step", "loss": "perceptron"}})
    c = check_separable(xor)
    assert not c.passed and c.value > 0 and "not linearly separable" in c.message
    gate = load_config({"data": {"name": "and_gate"}, "model": {"hidden": [],
                        "output": "step", "loss": "perceptron"}})
    assert check_separable(gate).passed and check_separable(gate).value == 0.0


def test_gradient_check_passes_and_catches_a_broken_gradient(monkeypatch):
    from workbench.core import Network
    cfg = load_config({"data": {"name": "circle", "n_samples": 100},
                       "model": {"hidden": [[5, "tanh"], [4, "sigmoid"]]}})
    run = Run(cfg, diagnostics=False)
    assert check_gradient(run).passed
    real = Network.loss_and_flat_grad

    def broken(self, X, y, l1=0.0, l2=0.0):
        loss, g = real(self, X, y, l1, l2)
        g = g.copy()
        g[self.layer_slice(0)] *= 1.5          # a backprop bug in the first layer
        return loss, g

    monkeypatch.setattr(Network, "loss_and_flat_grad", broken)
    c = check_gradient(run)
    assert not c.passed and c.value > 0.1


@pytest.mark.parametrize("act,loss,out", [("tanh", "bce", "sigmoid"),
                                          ("sigmoid", "mse", "linear"),
                                          ("elu", "cross_entropy", "softmax")])
def test_gradient_check_is_tight_on_smooth_nets(act, loss, out):
    from workbench.core import Network
    rng = np.random.default_rng(0)
    X = rng.normal(size=(16, 3))
    k = 3 if loss == "cross_entropy" else 1
    net = Network(3, k, {"hidden": [[4, act], [3, act]], "output": out, "loss": loss},
                  seed=1)
    y = rng.integers(0, k, 16) if k > 1 else rng.integers(0, 2, (16, 1)).astype(float)
    err, _ = gradient_check(net, X, net.targets(y), l2=0.01, n_coords=1000)
    assert err < 1e-7


def test_run_checks_healthy_and_failing():
    good = run_checks({"data": {"name": "gaussian", "n_samples": 200},
                       "model": {"hidden": [[8, "tanh"]]}, "training": {"epochs": 5}})
    assert all(c.passed for c in good), [c.to_dict() for c in good]
    bad = {c.name: c for c in run_checks({"data": {"name": "xor", "n_samples": 200},
                                          "model": {"hidden": []}})}
    assert not bad["separable"].passed and not bad["overfit_small"].passed


# --- NaN provenance ---------------------------------------------------------------------
def test_nan_provenance_names_step_layer_and_quantity():
    run = Run(ALL["nan_regline_lr1"]["config"])
    run.run_steps(run.total_steps)
    bad = run.nonfinite.step
    p = nan_provenance(run)
    assert p.step == bad
    assert p.what in ("weights", "activations", "loss", "gradients", "update")
    assert p.layer == 0 and str(bad) in p.message
    assert run.step == bad - 1 and np.all(np.isfinite(run.network.theta))


def test_nan_provenance_update_message_has_no_overflowed_norm():
    # the gradient of a line fit at lr 1 reaches 2e154 per component: squaring it for
    # the norm used to overflow and the message said "largest gradient norm inf"
    run = Run(ALL["nan_regline_lr1"]["config"])
    run.run_steps(run.total_steps)
    p = nan_provenance(run)
    assert p.what == "update"
    assert "norm inf" not in p.message and "every gradient were finite" in p.message
    assert "made the weights overflow to inf" in p.message
    g = p.detail["gradient_norms"][0]
    assert 1e150 < g < 1e160 and p.detail["gradient_norm_overflow"] is False
    json.dumps(p.to_dict(), allow_nan=False)


def test_nan_provenance_names_a_weight_typed_by_hand():
    # a bias typed as 1e308 overflowed the next step; the banner told the student to
    # lower the learning rate
    cfg = {"seed": 0, "data": {"name": "spiral", "n_samples": 100},
           "model": {"hidden": [[4, "tanh"]]}, "optimizer": {"lr": 0.03, "momentum": 0.9}}
    run = Run(cfg)
    run.run_steps(20)
    run.set_weight(1, 0, -1, 1e308)
    run.run_steps(50)
    assert run.nonfinite is not None and run.nonfinite.step <= 25
    p = nan_provenance(run)
    assert p.detail["hand_set"] == {"layer": 1, "row": 0, "col": -1, "value": 1e308,
                                    "step": 20}
    assert "set by hand to 1e+308 at step 20" in p.message
    assert "not the learning rate" in p.message
    # a failure long after a typed weight is the training's own
    run2 = Run(ALL["nan_regline_lr1"]["config"])
    run2.run_steps(1)
    run2.set_weight(0, 0, 0, 0.5)
    run2.run_steps(run2.total_steps)
    assert run2.nonfinite.step > 1 + 10
    assert "hand_set" not in nan_provenance(run2).detail


def test_norm_without_overflow_and_its_words():
    from workbench.diagnostics.provenance import _LOG10_MAX, _norm, _plain_norm
    big = np.full(4, 1.5e308)                  # finite values, norm 3e308 > float max
    assert _norm(big) == pytest.approx(np.log10(3.0) + 308)
    assert _norm(big) > _LOG10_MAX and _plain_norm(_norm(big)) is None
    assert _norm(np.array([3.0, 4.0])) == pytest.approx(np.log10(5.0))
    assert _norm(np.zeros(3)) == -np.inf


def test_nan_provenance_activation_overflow():
    cfg = {"data": {"name": "reg_gauss", "n_samples": 200},
           "model": {"hidden": [[16, "relu"]] * 5, "output": "linear", "loss": "mse",
                     "init": "normal", "init_scale": 1.0},
           "optimizer": {"lr": 0.01, "momentum": 0.0}, "training": {"epochs": 10}}
    run = Run(cfg)
    run.run_steps(run.total_steps)
    assert run.nonfinite is not None
    p = nan_provenance(run)
    assert p.step == run.step + 1 and p.message


# --- CLI and layering --------------------------------------------------------------------
def cli(*args):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_cli_diagnose_and_check(tmp_path):
    p = tmp_path / "c.json"
    p.write_text(json.dumps(ALL["nan_regline_lr1"]["config"]))
    r = cli("diagnose", str(p), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert {"nan_or_inf", "diverging"} <= {f["code"] for f in out["findings"]}
    assert out["nan_provenance"]["step"] == out["nonfinite"]["step"]
    r = cli("diagnose", str(p))
    assert r.returncode == 0 and "[error] nan_or_inf" in r.stdout
    q = tmp_path / "x.json"
    q.write_text(json.dumps({"data": {"name": "xor", "n_samples": 100},
                             "model": {"hidden": []}}))
    r = cli("check", str(q), "--json")
    assert r.returncode == 1 and not json.loads(r.stdout)["passed"]
    r = cli("check", str(tmp_path / "missing.json"))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    r = cli("diagnose", str(tmp_path / "missing.wbsession"))
    assert r.returncode == 2 and "missing.wbsession" in r.stderr


def test_diagnostics_layer_imports_no_qt_or_numba():
    for f in (ROOT / "workbench" / "diagnostics").glob("*.py"):
        text = f.read_text()
        assert "PySide6" not in text and "import numba" not in text, f


def test_symmetric_init_resolves_when_a_weight_edit_breaks_symmetry():
    run = Run(ALL["sym_zeros_tanh_xor"]["config"])
    run.run_steps(run.eval_every)
    assert "symmetric_init" in codes(run)
    run.set_weight(0, 0, 0, 0.5)
    run.run_steps(run.eval_every)
    f = [f for f in run.findings() if f.code == "symmetric_init"][0]
    assert f.step == 0 and f.resolved_step == run.step


def test_monitor_warmup_compiles_the_reduction_once_from_any_thread():
    import threading
    from workbench.diagnostics import monitor as M
    M.Monitor._warm = False
    ts = [threading.Thread(target=M.Monitor.warmup) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert M.Monitor._warm
    M.Monitor.warmup()                  # a second call is a no-op
    sigs = list(M.RD.reduce_chunk.signatures)
    assert sigs                          # compiled (or loaded) for the chunk's types
    run = Run(ALL["healthy_xor_tanh"]["config"])
    run.run_steps(run.eval_every)
    assert list(M.RD.reduce_chunk.signatures) == sigs   # no new compilation in the run


def test_diagnostics_read_only_the_runs_public_state():
    for f in list((ROOT / "workbench" / "diagnostics").glob("*.py")) + \
            [ROOT / "workbench" / "ui" / "diagnostics_ui.py"]:
        text = f.read_text()
        for private in ("run._", "twin._"):
            assert private not in text, (f.name, private)


def test_overfit_small_trains_on_twenty_points_only():
    from workbench.diagnostics.checks import check_overfit_small
    cfg = load_config({"data": {"name": "spiral", "n_samples": 300},
                       "model": {"hidden": [[32, "tanh"], [32, "tanh"]]}})
    c = check_overfit_small(cfg)
    assert c.detail["n"] == 20 and c.passed, c.to_dict()
    lin = check_overfit_small(load_config({"data": {"name": "xor", "n_samples": 300},
                                           "model": {"hidden": []}}))
    assert not lin.passed and lin.value < 0.99


def test_full_batch_swings_see_zigzags_and_stairs_not_a_smooth_descent():
    from workbench.diagnostics.monitor import _full_batch_swings
    stairs = np.array([3.45, 2.79, 2.78, 2.25, 2.25, 1.83, 1.83, 1.49, 1.48, 1.20, 1.19,
                       0.97, 0.97, 0.79, 0.78, 0.64, 0.63])
    alt, _, st = _full_batch_swings(stairs)
    assert alt == 0.0 and st == 1.0
    zigzag = np.array([1.0, 0.8, 0.9, 0.7, 0.8, 0.6, 0.7, 0.5, 0.6, 0.4, 0.5, 0.3, 0.4])
    alt, amp, st = _full_batch_swings(zigzag)
    assert alt >= 0.4 and amp > 0.1
    smooth = 2.0 * 0.9 ** np.arange(20)
    assert _full_batch_swings(smooth)[0] == 0.0 and _full_batch_swings(smooth)[2] == 0.0


def test_eval_swings_need_a_rise_and_a_fall():
    class Ctx:
        step = 0
        eval_alternation = Monitor.eval_alternation
    ctx = Ctx()
    ctx.train_losses = [22.5, 0.749, 0.524, 0.523, 0.5230001, 0.523]   # a fall, then flat
    alt, amp, _ = ctx.eval_alternation()
    assert alt >= 0.5 and amp < 1e-3
    ctx.train_losses = [0.235, 0.283, 0.273, 0.867, 0.89, 0.591]         # swings
    assert ctx.eval_alternation()[1] > 0.25


def test_mini_batch_swing_needs_a_round_trip_above_the_input_free_loss():
    from workbench.diagnostics.rules import _swing

    class Ctx:
        def __init__(self, level):
            self.state, self._level = {}, level

        def level(self):
            return self._level

    def swings(losses, level=0.693):
        ctx = Ctx(level)
        return [_swing(ctx, {"train_loss": v}) for v in losses]
    # Adam at lr 2 on XOR: 0.87 -> 1.97 -> 0.58 (ln 2 = 0.69)
    assert swings([0.869, 1.97, 0.581, 0.366, 0.395, 0.167]) == \
        [False, False, True, False, False, False]
    # a healthy mini-batch run wiggling below the input-free loss
    assert not any(swings([0.69, 0.37, 0.50, 0.39, 0.54, 0.30]))
    # a peak only 1.56x the input-free loss (logistic regression on x300 inputs)
    assert not any(swings([4.48, 0.845, 0.0961, 0.071, 0.189, 1.08, 0.0689]))
    # a blow-up that comes part way back is divergence, not a swing
    assert not any(swings([36.3, 1.47e22, 3.63e17, 8.83e12, 2.12e8], level=0.0754))


def test_exploding_by_doublings_when_the_chunk_has_no_finite_norm():
    from types import SimpleNamespace as NS
    from workbench.diagnostics.rules import r_exploding
    ctx = NS(state={"doublings": 5}, n_layers=3, model={"init": "xavier", "init_scale": 1.0},
             hp={"lr": 0.5})
    cs = NS(ratio=None, first_bad=None, bad_what=(), gmax=None, end=40)
    v = r_exploding(ctx, cs)
    assert v.holds and "doubled 5 checks in a row" in v.message


def test_irrelevant_noise_columns_found_by_the_data_when_the_net_learned_nothing():
    # a linear model on the six Gaussian bumps learns nothing (best affine fit R^2 about
    # 0.05): x1 and x2 are as useless to it as the noise, so the data are asked
    r = train(load_config(ALL["ho7_irr_reggauss_noise4_0_1237"]["config"]))
    f = [f for f in r.findings() if f.code == "irrelevant_features"]
    assert f and f[0].evidence["measured_by"] == "data"
    assert sorted(f[0].evidence["features"]) == ["noise1", "noise2", "noise3", "noise4"]
    assert f[0].patch == {"data.noise_features": 0}


def test_knn_unused_keeps_the_columns_that_carry_the_target():
    from workbench.data import load_dataset
    from workbench.diagnostics.rules import knn_unused
    ds = load_dataset({"name": "reg_gauss", "n_samples": 300, "noise_features": 3}, 5)
    unused = knn_unused(ds.X_train, ds.y_train.reshape(-1, 1).astype(float), 5)
    assert unused.tolist() == [False, False, True, True, True]
    # XOR: neither input says anything alone, together they say everything
    ds = load_dataset({"name": "xor", "n_samples": 300, "noise_features": 2}, 6)
    Y = ds.y_train.reshape(-1, 1).astype(float)
    assert knn_unused(ds.X_train, Y, 6).tolist() == [False, False, True, True]
    # too few points, or no column that fits the target: no opinion
    assert knn_unused(ds.X_train[:40], Y[:40], 6) is None
    rng = np.random.default_rng(0)
    assert knn_unused(rng.normal(size=(200, 3)), rng.normal(size=(200, 1)), 0) is None


@pytest.mark.parametrize("name", ["lrlow_circle_tanh", "vanish_deep_sigmoid_circle"])
def test_the_evidence_does_not_depend_on_how_the_steps_were_chunked(name):
    """The medians of the update ratios and gradient norms look at the last WINDOW steps
    across chunks: a run trained in chunks of 7 steps (a window's publishing, a short
    last stretch before the final evaluation) measures what one chunk per evaluation
    does, evaluation by evaluation (the per-chunk medians had made the lr_too_low
    remedy of a 10-step last chunk ten times smaller)."""
    class Evidence:
        def __init__(self):
            self.states = []

        def on_chunk(self, run, chunk):
            pass

        def on_event(self, run, event):
            pass

        def on_evaluation(self, run, row):
            st = run.monitor.state
            self.states.append((row["step"], st.get("ur_recent"), st.get("g_recent")))

    seen = []
    for chunk in (None, 7):
        run = Run(ALL[name]["config"])
        rec = Evidence()
        run.add_listener(rec)
        total = min(run.total_steps, 400)
        while run.step < total and run.nonfinite is None:
            n = min(total - run.step, run.eval_every)
            if run.run_steps(n, **({} if chunk is None else {"max_chunk": chunk})) == 0:
                break
        seen.append(rec.states)
    assert len(seen[0]) >= 3 and seen[0] == seen[1]
