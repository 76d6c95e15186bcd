"""Experiments: landscapes, paths, range test, LR test, learning curve, capacity."""
from __future__ import annotations

import json

import numpy as np
import pytest

from workbench.cli import main
from workbench.config import RunConfig
from workbench.core import Network
from workbench.data import load_dataset
from workbench.experiments.curves import capacity_sweep, learning_curve
from workbench.experiments.landscape import (MODELS, batch_loss, build_model, landscape,
                                             optimizer_path, project, random_slice,
                                             record_thetas, surface)
from workbench.experiments.lr import lr_test, range_test
from workbench.experiments.tasks import subset_indices
from workbench.run import Run, output_units


# --- landscapes ------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(MODELS))
def test_surface_equals_the_loss_computed_directly(name):
    m = build_model(name)
    a1, a2, L = surface(m, n=41)
    X, y = m.dataset.X_train, m.dataset.y_train
    rng = np.random.default_rng(0)
    for _ in range(6):
        i, j = rng.integers(0, 41, 2)
        net = m.network((a1[i], a2[j]))
        direct, _ = net.loss_and_grad(X, y)
        assert L[j, i] == pytest.approx(direct, rel=1e-12, abs=1e-14)
        for k, v in m.fixed.items():  # the fixed parameters stay fixed
            assert net.theta[k] == v


@pytest.mark.parametrize("model,data,l1,l2", [
    ({"hidden": [[5, "relu"], [3, "tanh"]], "output": "sigmoid", "loss": "bce"},
     {"name": "spiral", "n_samples": 60}, 0.01, 0.02),
    ({"hidden": [[3, "maxout"], [4, "elu"]], "output": "linear", "loss": "mse"},
     {"name": "reg_plane", "n_samples": 60}, 0.0, 0.01),
    ({"hidden": [[4, "leaky_relu"]], "output": "softmax", "loss": "cross_entropy"},
     {"name": "xor", "n_samples": 60}, 0.0, 0.0),
    ({"hidden": [], "output": "step", "loss": "perceptron"}, {"name": "gaussian"}, 0, 0),
    ({"hidden": [[3, "sigmoid"]], "output": "linear", "loss": "hinge"},
     {"name": "moons", "n_samples": 60}, 0.05, 0.0),
])
def test_batch_loss_matches_the_kernels_for_any_net(model, data, l1, l2):
    ds = load_dataset(RunConfig({"data": data}).data, 0)
    net = Network(ds.X_train.shape[1], output_units(ds, model["loss"]), model, seed=1)
    rng = np.random.default_rng(3)
    thetas = net.theta[None] + rng.normal(0, 0.5, (5, net.layout.n_params))
    got = batch_loss(net, thetas, ds.X_train, net.targets(ds.y_train), l1, l2)
    for th, g in zip(thetas, got):
        net.theta[:] = th
        assert g == pytest.approx(net.loss_and_grad(ds.X_train, ds.y_train, l1, l2)[0],
                                  rel=1e-11)


def test_path_equals_the_recorded_parameters_of_a_run():
    m = build_model("linear_regression")
    path = optimizer_path(m, (-0.5, -2.5), steps=25, lr=0.05)
    assert path.shape == (26, 2)
    # the same run trained in one call (one kernel chunk) ends where the path ends
    cfg = m.config.with_changes({"training.batch_size": m.dataset.X_train.shape[0]})
    run = Run(cfg, dataset=m.dataset)
    run.set_weight(0, 0, 0, -0.5)
    run.set_weight(0, 0, -1, -2.5)
    thetas = record_thetas(run, 25, every=5)  # row 0: before the queued start applies
    np.testing.assert_array_equal(path[5::5], thetas[1:])
    assert [e.kind for e in run.events] == ["weight", "weight"]
    # and each step is the slide's gradient-descent update, worked by hand
    x, y = m.dataset.X_train[:, 0], m.dataset.y_train[:, 0]
    w, w0 = -0.5, -2.5
    for t in range(1, 26):
        r = w * x + w0 - y
        w, w0 = w - 0.05 * np.mean(2 * r * x), w0 - 0.05 * np.mean(2 * r)
        np.testing.assert_allclose(path[t], [w, w0], rtol=1e-12, atol=1e-12)


def test_path_with_fixed_parameters_steps_only_the_free_ones():
    m = build_model("tanh_net")
    path = optimizer_path(m, (0.5, 0.5), steps=40, lr=0.1, momentum=0.9, nesterov=True)
    x, y = m.dataset.X_train[:, 0], m.dataset.y_train[:, 0]
    p, v = np.array([0.5, 0.5]), np.zeros(2)
    for t in range(1, 41):
        h = np.tanh(p[0] * x + 1.0)
        r = p[1] * h - y
        g = np.array([np.mean(2 * r * p[1] * (1 - h ** 2) * x), np.mean(2 * r * h)])
        v = 0.9 * v - 0.1 * g           # Keras Nesterov: v = m v - lr g; w += m v - lr g
        p = p + 0.9 * v - 0.1 * g
        np.testing.assert_allclose(path[t], p, rtol=1e-10, atol=1e-12)


# the sigmoid unit has two true local minima; the tanh net's poor basin is a valley that
# keeps sloping gently towards w1 -> -inf (tanh saturates), so its slope is only small
@pytest.mark.parametrize("name,flat", [("sigmoid_unit", 2e-3), ("tanh_net", 0.05)])
def test_non_convex_two_starts_reach_two_different_minima(name, flat):
    res = landscape(name, n=21)
    (ka, pa), (kb, pb) = res.paths.items()
    ea, eb = pa[-1], pb[-1]
    assert np.linalg.norm(ea - eb) > 1.0
    la, lb = res.end_loss[ka], res.end_loss[kb]
    assert lb > la * 1.1  # the bad start settles in a poorer basin
    m = res.model
    for e in (ea, eb):
        net = m.network(e)
        _, g = net.loss_and_flat_grad(m.dataset.X_train, m.dataset.y_train)
        assert np.linalg.norm(g[list(m.free)]) < flat  # settled: (almost) no slope left
    # the good one is a strict local minimum of the surface
    ring = ea + 0.05 * np.array([[1, 0], [-1, 0], [0, 1], [0, -1], [1, 1], [-1, -1]])
    assert np.all(m.loss_at(ring) > la)
    assert "non-convex" in res.verdict


def test_convex_case_reaches_the_normal_equation_optimum_and_optimizers_compare():
    res = landscape("linear_regression", n=21)
    opt = res.optimum
    (p,) = res.paths.values()
    np.testing.assert_allclose(p[-1], opt, atol=1e-3)
    L = res.loss
    assert L.min() >= res.model.loss_at(opt[None])[0] - 1e-12
    cmp = landscape("linear_regression", compare=True, n=11, steps=60)
    assert list(cmp.paths) == ["sgd", "momentum", "nesterov"]
    assert all(np.array_equal(v[0], cmp.paths["sgd"][0]) for v in cmp.paths.values())
    assert not np.allclose(cmp.paths["momentum"], cmp.paths["nesterov"])
    # a rate above 2 / (largest curvature) overshoots: the path leaves the surface
    big = optimizer_path(res.model, (-0.5, -2.5), steps=30, lr=0.15)
    assert np.abs(big[-1, 0] - opt[0]) > np.abs(big[1, 0] - opt[0])


def test_random_slice_is_layer_normalized_and_projects_paths():
    cfg = {"data": {"name": "xor", "n_samples": 60}, "model": {"hidden": [[6, "tanh"]]},
           "regularization": {"l2": 0.001}}
    run = Run(cfg)
    thetas = record_thetas(run, 60, every=10)
    s = random_slice(run, n=11, thetas=thetas)
    net = run.network
    for d in (s.d1, s.d2):
        for l in range(net.n_layers):
            sl = net.layer_slice(l)
            assert np.linalg.norm(d[sl]) == pytest.approx(np.linalg.norm(net.theta[sl]))
    assert s.loss[5, 5] == pytest.approx(run.evaluate()["train_loss"], rel=1e-12)
    np.testing.assert_allclose(s.path[-1], [0, 0], atol=1e-12)
    pts = s.center + 0.3 * s.d1 - 0.7 * s.d2
    c, rel = project(pts[None], s.center, s.d1, s.d2)
    np.testing.assert_allclose(c[0], [0.3, -0.7], atol=1e-10)
    assert rel[0] < 1e-10


# --- learning rates ------------------------------------------------------------------------

LINREG = {"data": {"name": "reg_line", "n_samples": 100, "test_fraction": 0.3},
          "model": {"hidden": [], "output": "linear", "loss": "mse"},
          "optimizer": {"momentum": 0.0}, "training": {"batch_size": 70, "epochs": 40}}


def critical_lr(cfg) -> float:
    """Full-batch gradient descent on the MSE diverges above n / lambda_max(X~^T X~)."""
    ds = load_dataset(RunConfig(cfg).data, 0)
    X = np.hstack([ds.X_train, np.ones((len(ds.X_train), 1))])
    return 1.0 / np.linalg.eigvalsh(X.T @ X / len(X)).max()


def test_range_test_suggestion_lies_below_the_known_divergence_point():
    crit = critical_lr(LINREG)
    res = range_test(LINREG, workers=0)
    assert res.suggested_lr is not None and res.suggested_lr < crit
    assert crit < res.divergence_lr < 10 * crit  # detected above, and not far above
    assert res.lr[0] == pytest.approx(1e-5) and np.all(np.diff(res.lr) > 0)
    ratio = res.lr[1:] / res.lr[:-1]
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-9)  # exponential per step
    assert len(res.lr) < 300  # stopped once it diverged
    assert res.run.extra == {} or "nonfinite_step" in res.run.extra
    assert "suggested lr" in res.verdict


def test_range_suggestion_is_a_tenth_of_the_minimum_not_the_steepest_point():
    # a synthetic range-test curve like the spiral's: a steep drop around lr 3e-3, a slow
    # further decline to the minimum near lr 0.2, divergence above 1 (mini-batch noise)
    from workbench.experiments.lr import analyse_range
    lr = np.logspace(-5, 1, 300)
    x = np.log10(lr)
    loss = 0.7 - 0.35 / (1 + np.exp(-6 * (x + 2.5)))          # steepest at 3e-3
    loss -= 0.15 * np.clip((x + 2) / 1.3, 0, 1)                # slow decline to 0.2
    loss += 0.2 * np.exp(4 * (x - 0.0)) * (x > -0.7)           # rises, then diverges
    loss += np.random.default_rng(0).normal(0, 0.01, lr.shape)
    sm, div, steep, sugg = analyse_range(lr, loss)
    i_min = int(np.argmin(sm[:np.searchsorted(lr, div)]))
    assert 1e-3 < steep < 1e-2                                 # the steep drop
    assert 0.1 < lr[i_min] < 0.4                               # the bottom of the curve
    assert sugg == pytest.approx(lr[i_min] / 10)               # fastai's Minimum rule
    assert sugg > 3 * steep and sugg < div
    # a curve that only rises: no minimum inside the range, a decade below divergence
    sm, div, steep, sugg = analyse_range(lr, 0.5 + 0.01 * np.arange(300) ** 1.5)
    assert div is not None and sugg == pytest.approx(div / 10)


def test_lr_test_picks_the_fastest_rate_that_does_not_diverge():
    res = lr_test(LINREG, workers=0)
    assert res.lrs == [1.0, 0.1, 0.01]
    assert res.diverged == [True, False, False]
    assert res.best_lr == 0.1
    assert res.verdict.startswith("lr 0.1 learned fastest without diverging")
    assert "lr 1 " in res.verdict
    r = res.runs[0][0]
    assert "nan_or_inf" in r.findings or r.status == "diverged"
    cfg = res.sweep.runs[1].changes
    assert cfg == {"optimizer.lr": 0.1}
    assert res.sweep.spec.base["optimizer.decay"] == 1e-6


def test_cli_lrtest_and_rangetest_json(tmp_path, capsys):
    p = tmp_path / "c.json"
    p.write_text(json.dumps(LINREG))
    assert main(["lrtest", str(p), "--workers", "0", "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["best_lr"] == 0.1 and obj["diverged"] == [True, False, False]
    assert main(["rangetest", str(p), "--workers", "0", "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["suggested_lr"] < critical_lr(LINREG)
    assert main(["rangetest", str(p), "--lr-min", "1", "--lr-max", "0.1"]) == 2
    assert "lr_min < lr_max" in capsys.readouterr().err
    # "never diverged up to lr inf" was a verdict, not a refusal
    assert main(["rangetest", str(p), "--lr-max", "inf"]) == 2
    assert "--lr-max inf is not allowed" in capsys.readouterr().err


def test_lr_test_names_a_flagged_fastest_rate():
    # it recommended lr 1 while the table flagged lr 1's own run lr_too_high
    cfg = {"data": {"name": "spiral", "n_samples": 200},
           "training": {"epochs": 20, "batch_size": 10}}
    res = lr_test(cfg, steps=200, workers=0)
    assert res.best_lr == 1.0 and "lr_too_high" in res.runs[0][0].findings
    assert "flagged lr_too_high" in res.verdict and "lr 0.1 is the safer choice" in res.verdict


@pytest.mark.parametrize("args,needle", [
    (["--grid", "-3"], "--grid -3 is not allowed"),           # was numpy's own message
    (["--grid", "100000"], "--grid 100000 is not allowed"),   # was 75 GiB, MemoryError
    (["--steps", "0"], "--steps 0 is not allowed"),           # concluded "non-convex"
    (["--start", "nan,1"], "--start 'nan,1'"),
    (["--lr", "inf"], "--lr inf is not allowed")])
def test_cli_landscape_refuses_bad_arguments(capsys, args, needle):
    assert main(["landscape", "linear_regression", *args]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1


def test_cli_workers_at_most_the_processors(tmp_path, capsys, monkeypatch):
    # 1000 was accepted: a large grid would have started 1000 processes, each with Numba
    from workbench.experiments import backends
    monkeypatch.setattr(backends, "default_workers", lambda: 2)
    p = tmp_path / "c.json"
    p.write_text(json.dumps(LINREG))
    for cmd in (["sweep", str(p), "--grid", "seed=1,2"], ["lrtest", str(p)]):
        assert main([*cmd, "--workers", "3"]) == 2
        assert "--workers 3 is not allowed: 0 to 2" in capsys.readouterr().err


# --- learning curve and capacity -------------------------------------------------------

OVERFIT_DATA = {"seed": 0, "data": {"name": "spiral", "n_samples": 300, "noise": 0.3},
                "model": {"hidden": [[32, "tanh"], [32, "tanh"]]},
                "training": {"epochs": 60, "batch_size": 10}}
UNDERFIT = {"data": {"name": "circle", "n_samples": 200}, "model": {"hidden": []},
            "training": {"epochs": 20}}


def test_learning_curve_runs_use_nested_subsets_of_one_shuffle():
    res = learning_curve(UNDERFIT, seeds=2, workers=0, steps=50)
    ds = load_dataset(RunConfig(UNDERFIT).data, 0)
    n = ds.X_train.shape[0]
    perm = np.random.default_rng([0, 7]).permutation(n)
    for f, idx in zip(res.fractions, res.subsets):
        np.testing.assert_array_equal(idx, np.sort(perm[:int(np.ceil(f * n))]))
    for a, b in zip(res.subsets, res.subsets[1:]):
        assert set(a) < set(b)
    assert list(res.n_train) == [14, 35, 70, 140]
    runs = res.sweep.runs
    assert [r.extra["n_train"] for r in runs] == [14, 14, 35, 35, 70, 70, 140, 140]
    assert [r.changes["seed"] for r in runs] == [0, 1] * 4
    # the run at 25 %, seed 1, is exactly a run on that subset of the same data
    import dataclasses
    idx = res.subsets[1]
    sub = dataclasses.replace(ds, X_train=ds.X_train[idx], y_train=ds.y_train[idx],
                              raw_train=ds.raw_train[idx])
    ref = Run(RunConfig(UNDERFIT).with_changes({"seed": 1}), dataset=sub)
    ref.run_steps(50)
    np.testing.assert_array_equal(runs[3].theta, ref.network.theta)
    assert subset_indices(n, 1.0, 0).size == n


@pytest.mark.slow
def test_verdicts_on_configs_built_to_overfit_and_to_underfit():
    over = learning_curve(OVERFIT_DATA, seeds=2, workers=0)
    assert over.verdict.startswith("more data helps"), over.verdict
    assert over.test_loss[0] - over.train_loss[0] > 1.0  # a big gap at 10 %
    under = learning_curve(UNDERFIT, seeds=2, workers=0)
    assert "more data will not help" in under.verdict, under.verdict
    small = capacity_sweep({"data": {"name": "circle", "n_samples": 200},
                            "model": {"hidden": [[1, "tanh"]]}, "training": {"epochs": 20}},
                           workers=0)
    assert small.verdict.startswith("underfitting"), small.verdict
    assert small.labels == ["x1", "x2", "x4", "-1 layer", "+1 layer"]
    big = capacity_sweep({"data": {"name": "gaussian", "n_samples": 100, "noise": 0.3},
                          "model": {"hidden": [[16, "tanh"], [16, "tanh"]]},
                          "training": {"epochs": 300}}, workers=0)
    assert big.verdict.startswith("overfitting"), big.verdict
    assert big.train_loss[0] < 0.01 < big.test_loss[0]
    good = capacity_sweep({"data": {"name": "gaussian", "n_samples": 200},
                           "model": {"hidden": [[2, "tanh"]]}, "training": {"epochs": 10}},
                          workers=0)
    assert good.verdict.startswith("good fit"), good.verdict
