"""Generate the labelled scenario corpus of the diagnostics (the JSON files in
``scenarios/`` are the corpus; this script documents how they were made).

Usage: ``python tests/diagnostics/make_scenarios.py`` (rewrites ``scenarios/*.json``).

History, kept in the splits: the first 94 scenarios were looked at while the rules were
written and tuned; three held-out sets followed (``ho_``, ``ho2_``, ``ho3_``), each
labelled a priori after the rules were frozen and scored once; the first two then
joined the tune split when their failures were studied. ``ho4_`` (155 scenarios written
for issue 4, labelled a priori, committed before they were first run) was scored once
with ``ho3_`` as the test split, then its failures were studied and the rules changed on
them: it joins the tune split too. ``ho5_`` (308 scenarios, issue 4, round 2) was
scored once with ``ho3_`` as the test split (raw results in ``ho5_scored_once.json``),
then its failures were studied and the rules changed on them (round 3): it joins the
tune split too (656 scenarios). ``ho6_`` (620 scenarios, issue 4, round 3, generated
from templates) was scored once with ``ho3_`` as the test split (raw results in
``ho6_scored_once.json``), then its failures and the seed-fragile codes were studied and
the rules changed on them (round 4): it joins the tune split too (1,276 scenarios).
``ho7_`` (1,300 scenarios, issue 4, round 4, generated from templates with a fixed
random generator) was scored once with ``ho3_`` as the test split (raw results in
``ho7_scored_once.json``), then its failures (irrelevant_features recall, overfitting
precision) were studied and the rules changed on them (round 5): it joins the tune
split too (2,576 scenarios). No label of ho6_ or ho7_ was changed. ``ho8_`` (2,664
scenarios, issue 4, round 5, generated from the ho7 templates plus new
irrelevant_features and overfitting rows with a fixed random generator, labelled a
priori from each config alone, committed before it was first run) was scored once with
``ho3_`` as the test split (raw results in ``ho8_scored_once.json``), then its failures
were studied (round 6: no rule changed; the nan template's runs were too short to
overflow, see below): it joins the tune split too (5,240 scenarios), its labels
unchanged. The test split is ``ho3_`` and ``ho9_`` (45 + 5,328 = 5,373 scenarios, more
than half of the corpus of 10,613; ``ho9_`` written for issue 4, round 6, generated from
the ho8 templates, twice as many of each, with a new fixed random generator, labelled a
priori from each config alone, committed before it was first run, never tuned on),
scored once (raw results in ``ho9_scored_once.json``).
"""
import glob
import json
import os
import sys
from pathlib import Path
OUT = str(Path(__file__).resolve().parent / "scenarios")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
S = []

def add(name, cfg, expect, split, why, steps=None):
    d = {"config": cfg, "expect": sorted(expect), "split": split, "why": why}
    if steps:
        d["steps"] = steps
    S.append((name, d))

def c(data, hidden=(), output="sigmoid", loss="bce", opt=None, epochs=30, batch=10,
      seed=0, init=None, reg=None, precision=None):
    cfg = {"seed": seed, "data": data, "model": {"hidden": [list(h) for h in hidden],
           "output": output, "loss": loss}, "optimizer": opt or {"name": "sgd", "lr": 0.03,
           "momentum": 0.9}, "training": {"epochs": epochs, "batch_size": batch}}
    if init:
        cfg["model"].update(init)
    if reg:
        cfg["regularization"] = reg
    if precision:
        cfg["training"]["precision"] = precision
    return cfg

def D(name, n=200, noise=0.0, **kw):
    d = {"name": name, "n_samples": n, "noise": noise}
    d.update(kw)
    return d

T, E = "tune", "test"
ADAM = lambda lr: {"name": "adam", "lr": lr}
SGD = lambda lr, m=0.0: {"name": "sgd", "lr": lr, "momentum": m}
REG = dict(output="linear", loss="mse")

# ---------------- healthy -------------------------------------------------------------
add("healthy_gaussian_logistic", c(D("gaussian", 200), epochs=20), [], T,
    "logistic regression on two separated Gaussians learns them")
add("healthy_linear_logistic_adam", c(D("linear", 200), opt=ADAM(0.05), epochs=30, seed=1), [], E,
    "logistic regression on a linearly separable set")
add("healthy_moons_tanh", c(D("moons", 300, 0.1), [(8, "tanh")], opt=ADAM(0.02), epochs=60, seed=2), [], T,
    "a small tanh net fits moons")
add("healthy_circle_relu", c(D("circle", 300), [(8, "relu")], opt=ADAM(0.02), epochs=40,
    init={"init": "he"}, seed=3), [], E, "a ReLU net fits the circle")
add("healthy_xor_tanh", c(D("xor", 300), [(8, "tanh")], opt=ADAM(0.03), epochs=40, seed=4), [], T,
    "a tanh net fits XOR")
add("healthy_regline_normal_eq", c(D("reg_line", 200, 0.1), opt={"name": "normal_equations"}, epochs=5, **REG), [], E,
    "the normal equations fit a line exactly")
add("healthy_regline_sgd", c(D("reg_line", 200, 0.1), opt=SGD(0.01, 0.5), epochs=30, seed=5, **REG), [], T,
    "gradient descent fits a line")
add("healthy_regsine_tanh", c(D("reg_sine", 200, 0.05), [(16, "tanh")], opt=ADAM(0.02), epochs=150, seed=6, **REG), [], E,
    "a tanh net fits a sine")
add("healthy_digits_relu", c(D("digits", 600), [(32, "relu")], output="softmax", loss="cross_entropy",
    opt=ADAM(0.005), epochs=25, init={"init": "he"}, seed=7), [], T, "a small ReLU net learns the digits")
add("healthy_and_perceptron", c(D("and_gate", 4), output="step", loss="perceptron", opt=SGD(0.1), epochs=30,
    batch=1), [], E, "the perceptron learns AND")
add("healthy_or_perceptron", c(D("or_gate", 4), output="step", loss="perceptron", opt=SGD(0.1), epochs=30,
    batch=1, seed=1), [], T, "the perceptron learns OR")
add("healthy_circle_squares", c(D("circle", 300, features=["x1^2", "x2^2"]), opt=ADAM(0.05), epochs=40, seed=8), [], E,
    "x1^2 and x2^2 make the circle linearly separable")
add("healthy_xor_product", c(D("xor", 300, features=["x1*x2"]), opt=ADAM(0.05), epochs=30, seed=9), [], T,
    "x1*x2 makes XOR linearly separable")
add("healthy_gaussian_sigmoid", c(D("gaussian", 300), [(4, "sigmoid")], opt=SGD(0.1, 0.9), epochs=30, seed=10), [], E,
    "a sigmoid net on Gaussians")
add("healthy_regplane_adam", c(D("reg_plane", 300, 0.0), opt=ADAM(0.05), epochs=40, seed=11, **REG), [], T,
    "linear regression on a plane")
add("healthy_moons_leaky_rmsprop", c(D("moons", 300, 0.1), [(12, "leaky_relu")], opt={"name": "rmsprop", "lr": 0.005},
    epochs=60, init={"init": "he"}, seed=12), [], E, "leaky ReLU net with RMSprop on moons")
add("healthy_circle_elu_nesterov", c(D("circle", 300), [(8, "elu")], opt={"name": "sgd", "lr": 0.01, "momentum": 0.9,
    "nesterov": True}, epochs=40, init={"init": "he"}, seed=13), [], T, "ELU net with Nesterov momentum")
add("healthy_linear_hinge", c(D("linear", 200), output="linear", loss="hinge", opt=SGD(0.01), epochs=30, seed=14), [], E,
    "a linear SVM (hinge loss) on separable data")
add("healthy_gaussian_float32", c(D("gaussian", 300), [(8, "tanh")], opt=ADAM(0.01), epochs=20, seed=15,
    precision="float32"), [], T, "float32 tanh net on Gaussians")
add("healthy_spiral_relu", c(D("spiral", 400), [(24, "relu"), (24, "relu")], opt=ADAM(0.01), epochs=150,
    init={"init": "he"}, seed=16), [], E, "a two-layer ReLU net learns the spiral")

# ---------------- nan / diverging / exploding / lr_too_high ------------------------------
DIV = ["nan_or_inf", "diverging", "lr_too_high", "exploding_gradients"]
add("nan_regline_lr1", c(D("reg_line", 200, 0.1), opt=SGD(1.0), epochs=20, **REG), DIV, T,
    "lr 1 on a line fit: the loss grows exponentially to Inf")
add("nan_regsine_tanh_lr", c(D("reg_sine", 200, 0.1), [(16, "tanh")], opt=SGD(0.5, 0.9), epochs=20, seed=1, **REG), DIV + ["saturated_units"], E,
    "lr 0.5 with momentum on a tanh regression net diverges")
add("nan_regplane_lr", c(D("reg_plane", 300), opt=SGD(0.3, 0.9), epochs=20, seed=2, **REG), DIV, T,
    "momentum SGD at lr 0.3 on a plane fit blows up")
add("div_relu_regression_dies", c(D("reg_gauss", 300), [(16, "relu"), (16, "relu")], opt=SGD(0.2, 0.9), epochs=20,
    init={"init": "he"}, seed=3, **REG), ["diverging", "lr_too_high", "dead_units"], E,
    "a ReLU regression net with too large a step diverges and its units die")
add("nan_regline_adam_scale", c(D("reg_line", 200, 0.1), opt=SGD(0.05), epochs=20, seed=4, **REG) | {}, DIV, T,
    "placeholder replaced below")
S.pop()
add("nan_regline_momentum", c(D("reg_line", 300, 0.2), opt=SGD(0.5, 0.9), epochs=20, seed=5, **REG), DIV, T,
    "momentum 0.9 with lr 0.2 on a line fit diverges")
add("nan_regsine_linear_fb", c(D("reg_sine", 200, 0.1), opt=SGD(0.5), epochs=200, batch=200, seed=6, **REG), DIV, E,
    "full-batch gradient descent above 2/L diverges")

# lr too high but no NaN
add("lrhigh_circle_adam", c(D("circle", 300), [(8, "tanh")], opt=ADAM(1.0), epochs=30, seed=1), ["lr_too_high"], T,
    "Adam at lr 1 makes huge updates")
S[-1][1]["expect"] = sorted(S[-1][1]["expect"] + ["saturated_units"])
add("lrhigh_moons_sgd", c(D("moons", 300, 0.1), [(8, "tanh")], opt=SGD(3.0, 0.9), epochs=30, seed=2), ["lr_too_high"], E,
    "SGD at lr 3 with momentum")
S[-1][1]["expect"] = sorted(S[-1][1]["expect"] + ["saturated_units", "diverging", "oscillating_loss"])
add("lrhigh_regsine_rmsprop", c(D("reg_sine", 300, 0.1), [(16, "tanh")], opt={"name": "rmsprop", "lr": 0.5}, epochs=30,
    seed=3, **REG), ["lr_too_high"], T, "RMSprop at lr 0.5 on a regression net")
S[-1][1]["expect"] = sorted(S[-1][1]["expect"] + ["saturated_units", "oscillating_loss"])
add("lrhigh_xor_adam", c(D("xor", 300), [(8, "tanh")], opt=ADAM(2.0), epochs=30, seed=4), ["lr_too_high"], E,
    "Adam at lr 2 on XOR")
S[-1][1]["expect"] = sorted(S[-1][1]["expect"] + ["saturated_units", "oscillating_loss"])

# ---------------- lr too low --------------------------------------------------------------
add("lrlow_circle_tanh", c(D("circle", 300), [(8, "tanh")], opt=SGD(1e-6), epochs=10, seed=1), ["lr_too_low"], T,
    "lr 1e-6 barely moves the weights")
add("lrlow_moons_adam", c(D("moons", 300, 0.1), [(8, "tanh")], opt=ADAM(1e-7), epochs=10, seed=2), ["lr_too_low"], E,
    "Adam at lr 1e-7")
add("lrlow_regsine", c(D("reg_sine", 200, 0.1), [(16, "tanh")], opt=SGD(1e-6), epochs=10, seed=3, **REG), ["lr_too_low"], T,
    "regression at lr 1e-6")
add("lrlow_spiral_relu", c(D("spiral", 300), [(16, "relu")], opt=SGD(1e-6, 0.5), epochs=10, init={"init": "he"}, seed=4),
    ["lr_too_low"], E, "ReLU net at lr 1e-6")

# ---------------- oscillating --------------------------------------------------------------
import numpy as np
from workbench.data import load_dataset
from workbench.config import RunConfig
def lr_crit(data, seed, frac):
    """frac * 2 / lambda_max of the full-batch MSE Hessian 2 E[[x,1][x,1]^T]."""
    ds = load_dataset(RunConfig({"data": data}).data, seed)
    A = np.hstack([ds.X_train, np.ones((len(ds.X_train), 1))])
    lam = 2 * np.linalg.eigvalsh(A.T @ A / len(A)).max()
    return float(f"{frac * 2 / lam:.4g}")
def osc(name, data, seed, split, frac=0.95):
    add(name, c(data, opt=SGD(lr_crit(data, seed, frac), 0.9), epochs=200, batch=data["n_samples"], seed=seed, **REG),
        ["oscillating_loss", "lr_too_high"], split, "full-batch heavy-ball momentum 0.9 at lr 1.9/L: the loss swings up and down")
osc("osc_reggauss_fb", D("reg_gauss", 200, 0.0), 1, T)
osc("osc_regplane_fb", D("reg_plane", 200, 0.0), 2, E)
osc("osc_regplane_fb3", D("reg_plane", 250, 0.2), 3, T, 1.5)
osc("osc_regplane_fb2", D("reg_plane", 300, 0.1), 4, E)
# ---------------- exploding (deep, large init) -------------------------------------------
add("explode_deep_relu_normal", c(D("reg_gauss", 300), [(16, "relu")] * 5, opt=SGD(0.01), epochs=10,
    init={"init": "normal", "init_scale": 1.0}, seed=1, **REG),
    ["exploding_gradients", "bad_init_loss", "nan_or_inf", "diverging", "lr_too_high"], T,
    "N(0,1) weights in a 6-layer ReLU net multiply the signal at every layer")
add("explode_deep_linear_normal", c(D("reg_plane", 300), [(16, "linear")] * 4, opt=SGD(0.01), epochs=10,
    init={"init": "normal", "init_scale": 1.0}, seed=2, **REG),
    ["exploding_gradients", "bad_init_loss", "nan_or_inf", "diverging", "lr_too_high"], E,
    "a deep linear net with N(0,1) weights")

# ---------------- vanishing ----------------------------------------------------------------
add("vanish_deep_sigmoid_circle", c(D("circle", 300), [(8, "sigmoid")] * 6, opt=SGD(0.1), epochs=20, seed=1),
    ["vanishing_gradients"], T, "seven sigmoid layers: the derivative 0.25 per layer vanishes")
add("vanish_deep_sigmoid_xor", c(D("xor", 300), [(8, "sigmoid")] * 6, opt=SGD(0.1, 0.5), epochs=20, seed=2),
    ["vanishing_gradients"], E, "deep sigmoid net on XOR")
add("vanish_deep_sigmoid_moons", c(D("moons", 300, 0.1), [(6, "sigmoid")] * 7, opt=SGD(0.05), epochs=20, seed=3),
    ["vanishing_gradients"], T, "eight sigmoid layers on moons")
add("vanish_deep_sigmoid_gauss", c(D("gaussian", 300), [(10, "sigmoid")] * 6, opt=SGD(0.1), epochs=20, seed=4),
    ["vanishing_gradients"], E, "deep sigmoid net on Gaussians")

# ---------------- dead units ---------------------------------------------------------------
for i, (ds, sp) in enumerate([("circle", T), ("moons", E), ("spiral", T), ("gaussian", E)]):
    add(f"dead_relu_bias_{ds}", c(D(ds, 300, 0.1 if ds == "moons" else 0.0), [(12, "relu")], opt=ADAM(0.01), epochs=20,
        init={"init": "he", "bias_init": -6.0}, seed=i), ["dead_units"] + ([] if ds == "moons" else ["bad_init_loss"]), sp,
        "a bias of -6 switches every ReLU off on the whole data set")

# ---------------- saturated ----------------------------------------------------------------
add("sat_tanh_scaled_circle", c(D("circle", 300, scale=40.0), [(8, "tanh")], opt=SGD(0.03, 0.9), epochs=20, seed=1),
    ["saturated_units", "unscaled_features"], T, "inputs x40 saturate every tanh unit")
add("sat_sigmoid_scaled_moons", c(D("moons", 300, 0.1, scale=50.0), [(8, "sigmoid")], opt=SGD(0.03), epochs=20, seed=2),
    ["saturated_units", "unscaled_features"], E, "inputs x50 saturate sigmoid units")
add("sat_tanh_scaled_moons", c(D("moons", 300, 0.1, scale=40.0), [(8, "tanh")], opt=SGD(0.03, 0.9), epochs=20, seed=3),
    ["saturated_units", "unscaled_features"], T, "inputs x40 pin tanh units at -1 or +1")
add("sat_tanh_scaled_spiral", c(D("spiral", 300, scale=100.0), [(16, "tanh")], opt=SGD(0.01, 0.9), epochs=20, seed=4),
    ["saturated_units", "unscaled_features"], E, "inputs x100 saturate tanh units")

# ---------------- symmetric init -----------------------------------------------------------
add("sym_zeros_tanh_xor", c(D("xor", 300), [(8, "tanh")], opt=SGD(0.03, 0.9), epochs=20, init={"init": "zeros"}, seed=1),
    ["symmetric_init"], T, "all-zero weights: every hidden unit identical (and no gradient)")
add("sym_constant_tanh_circle", c(D("circle", 300), [(8, "tanh")], opt=SGD(0.03, 0.9), epochs=20,
    init={"init": "constant", "init_scale": 0.1}, seed=2), ["symmetric_init"], E, "constant weights keep units identical")
add("sym_constant_sigmoid_moons", c(D("moons", 300, 0.1), [(6, "sigmoid"), (6, "sigmoid")], opt=SGD(0.1, 0.9), epochs=20,
    init={"init": "constant", "init_scale": 0.05}, seed=3), ["symmetric_init"], T, "constant init in a two-layer sigmoid net")
add("sym_constant_relu_spiral", c(D("spiral", 300), [(12, "relu")], opt=ADAM(0.01), epochs=20,
    init={"init": "constant", "init_scale": 0.1}, seed=4), ["symmetric_init"], E, "constant init with ReLU units")

# ---------------- bad init loss ------------------------------------------------------------
add("badinit_normal5_circle", c(D("circle", 300), [(8, "relu")], opt=ADAM(0.01), epochs=30,
    init={"init": "normal", "init_scale": 3.0}, seed=1), ["bad_init_loss"], T,
    "N(0, 9) weights give huge logits at the start")
add("badinit_bias_regline", c(D("reg_line", 200, 0.1), opt=SGD(0.01, 0.5), epochs=30, init={"bias_init": 20.0}, seed=2, **REG),
    ["bad_init_loss"], E, "a bias of 20 puts the first predictions far from the targets")
add("badinit_normal_gauss", c(D("gaussian", 300), [(16, "relu")], opt=ADAM(0.01), epochs=30,
    init={"init": "normal", "init_scale": 2.0}, seed=3), ["bad_init_loss"], T, "N(0, 4) weights on a ReLU net")
add("badinit_logistic_bias", c(D("linear", 300), opt=ADAM(0.05), epochs=30, init={"bias_init": 8.0}, seed=4),
    ["bad_init_loss"], E, "logistic regression starting at bias 8 (probability 0.9997)")

# ---------------- plateau -------------------------------------------------------------------
add("plateau_small_init_xor", c(D("xor", 300), [(8, "tanh")], opt=SGD(0.01), epochs=40,
    init={"init_scale": 0.001}, seed=1), ["plateau"], T, "tiny weights start at a saddle point")
add("plateau_small_init_circle", c(D("circle", 300), [(8, "tanh")], opt=SGD(0.01), epochs=40,
    init={"init_scale": 0.001}, seed=2), ["plateau"], E, "tiny weights: the loss sits at ln 2")
add("plateau_small_init_spiral", c(D("spiral", 300), [(8, "tanh"), (8, "tanh")], opt=SGD(0.02), epochs=40,
    init={"init_scale": 0.001}, seed=3), ["vanishing_gradients"], T, "a two-layer net from tiny weights: the first layer's gradient is a product of tiny weights")
add("plateau_small_init_xor_sigmoid", c(D("xor", 300), [(8, "sigmoid")], opt=SGD(0.03), epochs=40,
    init={"init_scale": 0.001}, seed=5), ["plateau"], E, "sigmoid units from tiny weights sit at ln 2")
add("plateau_small_init_circle_relu", c(D("circle", 300), [(8, "relu")], opt=SGD(0.01), epochs=40,
    init={"init": "he", "init_scale": 0.001}, seed=6), ["plateau"], T, "ReLU units from tiny weights")
add("plateau_small_init_moons", c(D("moons", 300, 0.1), [(8, "sigmoid")], opt=SGD(0.02), epochs=40,
    init={"init_scale": 0.001}, seed=4), ["plateau"], E, "sigmoid net from tiny weights")

# ---------------- not converged -------------------------------------------------------------
add("nc_regsine_short2", c(D("reg_sine", 300, 0.1), [(16, "tanh")], opt=ADAM(0.005), epochs=8, seed=5, **REG),
    ["not_converged"], T, "eight epochs of Adam at 0.005 are not enough for the sine")
add("nc_regsine_short", c(D("reg_sine", 200, 0.05), [(16, "tanh")], opt=ADAM(0.01), epochs=10, seed=2, **REG),
    ["not_converged"], E, "ten epochs are not enough for the sine")
add("nc_circle_short", c(D("circle", 300), [(8, "tanh")], opt=ADAM(0.003), epochs=6, seed=3),
    ["not_converged"], T, "Adam at 0.003 cut after six epochs")
add("nc_moons_short", c(D("moons", 300, 0.1), [(8, "tanh")], opt=ADAM(0.003), epochs=6, seed=4),
    ["not_converged"], E, "moons cut after six epochs")

# ---------------- overfitting ---------------------------------------------------------------
OF = dict(opt=ADAM(0.01), epochs=400, init={"init": "he"})
add("overfit_spiral_small", c(D("spiral", 60, 0.3, test_fraction=0.5), [(64, "relu"), (64, "relu")], seed=1, **OF),
    ["overfitting"], T, "30 noisy points and 4,000 weights")
add("overfit_circle_small", c(D("circle", 60, 0.5, test_fraction=0.5), [(64, "relu"), (64, "relu")], seed=2, **OF),
    ["overfitting"], E, "30 noisy circle points")
add("overfit_moons_small", c(D("moons", 60, 0.4, test_fraction=0.5), [(64, "relu"), (64, "relu")], seed=3, **OF),
    ["overfitting"], T, "30 noisy moon points")
add("overfit_regsine_small", c(D("reg_sine", 30, 0.4, test_fraction=0.5), [(64, "relu"), (64, "relu")], seed=4, **REG, **OF),
    ["overfitting", "lr_too_high"], E, "15 noisy samples of a sine and a big net (the training loss also jumps up)")

# ---------------- underfitting --------------------------------------------------------------
add("underfit_spiral_tiny", c(D("spiral", 300), [(2, "tanh")], opt=ADAM(0.02), epochs=60, seed=1), ["underfitting"], T,
    "two tanh units cannot draw a spiral")
add("underfit_regsine_one", c(D("reg_sine", 200, 0.05), [(1, "tanh")], opt=ADAM(0.02), epochs=60, seed=2, **REG),
    ["underfitting"], E, "one tanh unit cannot follow a sine")
add("underfit_circle_one", c(D("circle", 300), [(1, "relu")], opt=ADAM(0.02), epochs=60, init={"init": "he"}, seed=3),
    ["underfitting"], T, "one ReLU unit cannot enclose the circle")
add("underfit_regsine_linear", c(D("reg_sine", 200, 0.05), opt=ADAM(0.02), epochs=40, seed=4, **REG), ["underfitting"], E,
    "a straight line through a sine")

# ---------------- not linearly separable ----------------------------------------------------
add("nls_xor_logistic", c(D("xor", 300), opt=ADAM(0.02), epochs=20, seed=1), ["not_linearly_separable"], T,
    "logistic regression cannot fit XOR")
add("nls_circle_logistic", c(D("circle", 300), opt=ADAM(0.02), epochs=20, seed=2), ["not_linearly_separable"], E,
    "a line cannot enclose the circle")
add("nls_xorgate_perceptron", c(D("xor_gate", 4), output="step", loss="perceptron", opt=SGD(0.1), epochs=30, batch=1),
    ["not_linearly_separable"], T, "the perceptron on the XOR gate (Minsky & Papert)")
add("nls_spiral_logistic", c(D("spiral", 300), opt=ADAM(0.02), epochs=20, seed=4), ["not_linearly_separable"], E,
    "a line through a spiral")

# ---------------- unscaled features ----------------------------------------------------------
add("unscaled_gauss_small", c(D("gaussian", 300, scale=0.001), opt=SGD(0.03, 0.9), epochs=20, seed=1),
    ["unscaled_features"], T, "inputs x0.001: gradients on the weights are tiny")
add("unscaled_poly_circle", c(D("circle", 300, features=[{"poly": 4}]), [(8, "tanh")], opt=ADAM(0.01), epochs=30, seed=2),
    ["unscaled_features", "irrelevant_features"], E, "degree-4 monomials reach 1,000 while x1 stays near 3; odd ones carry nothing")
add("unscaled_relu_big", c(D("moons", 300, 0.1, scale=100.0), [(8, "relu")], opt=ADAM(0.01), epochs=30,
    init={"init": "he"}, seed=3), ["unscaled_features", "lr_too_high", "oscillating_loss"], T,
    "inputs x100 into a ReLU net: Adam's steps, fine at scale 1, now swing the loss up and down")
add("unscaled_regplane_big", c(D("reg_plane", 300, scale=50.0), opt=ADAM(0.05), epochs=30, seed=4, **REG),
    ["unscaled_features"], E, "a plane fit on inputs x50")

# ---------------- irrelevant features --------------------------------------------------------
add("irr_gauss_noise", c(D("gaussian", 300, noise_features=4), [(8, "tanh")], opt=ADAM(0.01), epochs=30, seed=1),
    ["irrelevant_features"], T, "four pure-noise input columns")
add("irr_regline_noise", c(D("reg_line", 200, 0.1, noise_features=3), opt=ADAM(0.02), epochs=40, seed=2, **REG),
    ["irrelevant_features"], E, "three noise columns next to x")
add("irr_circle_poly", c(D("circle", 300, features=["x1", "x2", "x1^2", "x2^2"]), opt=ADAM(0.05), epochs=40, seed=3),
    ["irrelevant_features"], T, "x1 and x2 carry nothing once their squares are there")
add("irr_moons_noise", c(D("moons", 300, 0.1, noise_features=5), [(16, "tanh")], opt=ADAM(0.01), epochs=40, seed=4),
    ["irrelevant_features"], E, "five noise columns next to the moons")

# ---------------- output / loss mismatch -----------------------------------------------------
add("mismatch_regline_sigmoid", c(D("reg_line", 200, 0.1), output="sigmoid", loss="mse", opt=ADAM(0.02), epochs=20, seed=1),
    ["output_loss_mismatch"], T, "a sigmoid output cannot reach targets up to 4")
add("mismatch_digits_sigmoid_ce", c(D("digits", 400), [(32, "relu")], output="sigmoid", loss="cross_entropy", opt=ADAM(0.005),
    epochs=10, init={"init": "he"}, seed=2), ["output_loss_mismatch"], E, "cross-entropy needs a softmax output")
add("mismatch_gauss_linear_bce", c(D("gaussian", 300), output="linear", loss="bce", opt=ADAM(0.02), epochs=20, seed=3),
    ["output_loss_mismatch"], T, "a linear output with BCE does not give probabilities")
add("mismatch_moons_softmax_bce", c(D("moons", 300, 0.1), [(8, "tanh")], output="softmax", loss="bce", opt=ADAM(0.02),
    epochs=20, seed=4), ["output_loss_mismatch"], E, "softmax over one unit is always 1")


# ======================= held-out test set =====================================================
# Written after the rules were frozen, labelled a priori, run once. Everything above has
# been looked at while tuning: it is the tune split.
for name, d in S:
    d["split"] = "tune"
H = []
def ho(name, cfg, expect, why, steps=None):
    d = {"config": cfg, "expect": sorted(expect), "split": "test", "why": why}
    if steps:
        d["steps"] = steps
    H.append(("ho_" + name, d))

ho("healthy_moons_relu_adam", c(D("moons", 400, 0.1), [(16, "relu")], opt=ADAM(0.01), epochs=40, init={"init": "he"}, seed=21), [], "a ReLU net fits moons")
ho("healthy_gauss_tanh_sgd", c(D("gaussian", 400), [(4, "tanh")], opt=SGD(0.05, 0.9), epochs=20, seed=22), [], "a tiny tanh net on Gaussians")
ho("healthy_linear_perceptron", c(D("linear", 200), output="step", loss="perceptron", opt=SGD(0.1), epochs=20, batch=1, seed=23), [], "the perceptron on separable points")
ho("healthy_regline_adam", c(D("reg_line", 300, 0.2), opt=ADAM(0.05), epochs=40, seed=24, **REG), [], "Adam fits a line")
ho("healthy_nand_perceptron", c(D("nand_gate", 4), output="step", loss="perceptron", opt=SGD(0.1), epochs=30, batch=1, seed=25), [], "the perceptron learns NAND")
ho("healthy_digits_tanh", c(D("digits", 500), [(32, "tanh")], output="softmax", loss="cross_entropy", opt=ADAM(0.005), epochs=20, seed=26), [], "a tanh net on digits")
ho("healthy_regplane_normal_eq", c(D("reg_plane", 300, 0.1), opt={"name": "normal_equations"}, epochs=5, seed=27, **REG), [], "normal equations on a plane")
ho("healthy_circle_sigmoid_adam", c(D("circle", 400), [(8, "sigmoid")], opt=ADAM(0.02), epochs=50, seed=28), [], "a sigmoid net fits the circle")

ho("nan_reggauss_linear_lr", c(D("reg_gauss", 300), opt=SGD(0.5), epochs=20, seed=29, **REG), DIV, "lr 0.5 far above 2/L")
ho("nan_regsine_linear_lr1", c(D("reg_sine", 300, 0.1), opt=SGD(1.0), epochs=20, seed=30, **REG), DIV, "lr 1 on a line fit of a sine")
ho("lrhigh_spiral_adam", c(D("spiral", 300), [(16, "tanh")], opt=ADAM(1.0), epochs=30, seed=31), ["lr_too_high", "saturated_units", "oscillating_loss"], "Adam at lr 1")
ho("lrhigh_moons_sgd2", c(D("moons", 400, 0.1), [(8, "tanh")], opt=SGD(2.0, 0.9), epochs=30, seed=32), ["lr_too_high", "diverging", "oscillating_loss", "saturated_units"], "SGD at lr 2 with momentum")
ho("lrlow_xor_sgd", c(D("xor", 300), [(8, "tanh")], opt=SGD(1e-6, 0.5), epochs=10, seed=33), ["lr_too_low"], "lr 1e-6")
ho("lrlow_reggauss_adam", c(D("reg_gauss", 300), [(16, "tanh")], opt=ADAM(1e-7), epochs=10, seed=34, **REG), ["lr_too_low"], "Adam at 1e-7")
ho("lrlow_digits_sgd", c(D("digits", 300), [(16, "relu")], output="softmax", loss="cross_entropy", opt=SGD(1e-6), epochs=5, init={"init": "he"}, seed=35), ["lr_too_low"], "digits at lr 1e-6")
osc("ho_osc_reggauss_fb2", D("reg_gauss", 250, 0.0), 36, "test")
osc("ho_osc_regplane_fb4", D("reg_plane", 220, 0.1), 37, "test", 1.2)
H += S[-2:]; del S[-2:]
ho("explode_deep_relu_regsine", c(D("reg_sine", 300), [(12, "relu")] * 5, opt=SGD(0.01), epochs=10, init={"init": "normal", "init_scale": 1.0}, seed=38, **REG),
   ["exploding_gradients", "bad_init_loss", "nan_or_inf", "diverging", "lr_too_high"], "N(0,1) weights in six ReLU layers")
ho("explode_deep_linear_reggauss", c(D("reg_gauss", 300), [(12, "linear")] * 4, opt=SGD(0.01), epochs=10, init={"init": "normal", "init_scale": 1.0}, seed=39, **REG),
   ["exploding_gradients", "bad_init_loss", "nan_or_inf", "diverging", "lr_too_high"], "a deep linear net with N(0,1) weights")
ho("vanish_deep_sigmoid_spiral", c(D("spiral", 300), [(8, "sigmoid")] * 6, opt=SGD(0.1), epochs=20, seed=40), ["vanishing_gradients"], "seven sigmoid layers")
ho("vanish_deep_sigmoid_linear", c(D("linear", 300), [(8, "sigmoid")] * 7, opt=SGD(0.1), epochs=20, seed=41), ["vanishing_gradients"], "eight sigmoid layers")
ho("dead_relu_bias_xor", c(D("xor", 300), [(16, "relu")], opt=ADAM(0.01), epochs=20, init={"init": "he", "bias_init": -8.0}, seed=42), ["dead_units", "bad_init_loss"], "bias -8")
ho("dead_relu_bias_regsine", c(D("reg_sine", 300, 0.1), [(16, "relu")], opt=ADAM(0.01), epochs=20, init={"init": "he", "bias_init": -8.0}, seed=43, **REG), ["dead_units", "bad_init_loss"], "bias -8 in a regression net")
ho("sat_tanh_scaled_xor", c(D("xor", 300, scale=40.0), [(8, "tanh")], opt=SGD(0.03, 0.9), epochs=20, seed=44), ["saturated_units", "unscaled_features"], "inputs x40")
ho("sat_sigmoid_scaled_gauss", c(D("gaussian", 300, scale=60.0), [(8, "sigmoid")], opt=SGD(0.03, 0.9), epochs=20, seed=45), ["unscaled_features"], "inputs x60: saturated, but the Gaussians are still separated")
ho("sym_zeros_relu_moons", c(D("moons", 300, 0.1), [(8, "relu")], opt=ADAM(0.01), epochs=20, init={"init": "zeros"}, seed=46), ["symmetric_init", "dead_units"], "zero init with ReLU")
ho("sym_constant_tanh_spiral", c(D("spiral", 300), [(8, "tanh")], opt=SGD(0.03, 0.9), epochs=20, init={"init": "constant", "init_scale": 0.2}, seed=47), ["symmetric_init"], "constant init")
ho("badinit_normal_moons_relu", c(D("moons", 300, 0.1), [(16, "relu")], opt=ADAM(0.01), epochs=30, init={"init": "normal", "init_scale": 3.0}, seed=48), ["bad_init_loss"], "N(0,9) weights")
ho("badinit_bias_regplane", c(D("reg_plane", 300), opt=ADAM(0.05), epochs=30, init={"bias_init": 10.0}, seed=49, **REG), ["bad_init_loss"], "bias 10")
ho("badinit_logistic_bias_gauss", c(D("gaussian", 300), opt=ADAM(0.05), epochs=30, init={"bias_init": -10.0}, seed=50), ["bad_init_loss"], "bias -10")
ho("plateau_small_init_gauss", c(D("gaussian", 300), [(8, "tanh")], opt=SGD(0.005), epochs=40, init={"init_scale": 1e-4}, seed=51), ["plateau"], "tiny weights")
ho("plateau_small_init_spiral1", c(D("spiral", 300), [(8, "tanh")], opt=SGD(0.01), epochs=40, init={"init_scale": 0.001}, seed=52), ["plateau"], "tiny weights")
ho("nc_regsine_3", c(D("reg_sine", 250, 0.05), [(16, "tanh")], opt=ADAM(0.005), epochs=6, seed=53, **REG), ["not_converged"], "six epochs")
ho("nc_xor_adam", c(D("xor", 300), [(8, "tanh")], opt=ADAM(0.002), epochs=5, seed=54), ["not_converged"], "five epochs at 0.002")
ho("overfit_xor_small", c(D("xor", 60, 0.5, test_fraction=0.5), [(64, "relu"), (64, "relu")], seed=55, **OF), ["overfitting"], "30 noisy XOR points")
ho("overfit_reggauss_small", c(D("reg_gauss", 40, 0.3, test_fraction=0.5), [(64, "relu"), (64, "relu")], seed=56, **REG, **OF), ["overfitting"], "20 noisy samples")
ho("underfit_xor_one", c(D("xor", 300), [(1, "tanh")], opt=ADAM(0.02), epochs=60, seed=57), ["underfitting"], "one unit on XOR")
ho("underfit_reggauss_two", c(D("reg_gauss", 300), [(2, "tanh")], opt=ADAM(0.02), epochs=60, seed=58, **REG), ["underfitting"], "two units on six bumps")
ho("underfit_reggauss_linear", c(D("reg_gauss", 300), opt=ADAM(0.02), epochs=40, seed=59, **REG), ["underfitting"], "a plane through six bumps")
ho("nls_moons_logistic", c(D("moons", 300, 0.1), opt=ADAM(0.02), epochs=20, seed=60), ["not_linearly_separable"], "a line through moons")
ho("nls_circle_perceptron", c(D("circle", 300), output="step", loss="perceptron", opt=SGD(0.1), epochs=10, batch=1, seed=61), ["not_linearly_separable"], "perceptron on a circle")
ho("nls_xor_hinge", c(D("xor", 300), output="linear", loss="hinge", opt=SGD(0.01), epochs=20, seed=62), ["not_linearly_separable"], "linear SVM on XOR")
ho("unscaled_circle_small", c(D("circle", 300, scale=0.005), [(8, "relu")], opt=ADAM(0.01), epochs=30, init={"init": "he"}, seed=63), ["unscaled_features"], "inputs x0.005")
ho("unscaled_regline_big", c(D("reg_line", 300, 0.1, scale=30.0), opt=ADAM(0.05), epochs=30, seed=64, **REG), ["unscaled_features"], "inputs x30")
ho("irr_xor_noise", c(D("xor", 300, noise_features=3), [(16, "tanh")], opt=ADAM(0.01), epochs=40, seed=65), ["irrelevant_features"], "three noise columns")
ho("irr_linear_noise", c(D("linear", 300, noise_features=4), opt=ADAM(0.05), epochs=30, seed=66), ["irrelevant_features"], "four noise columns")
ho("mismatch_regsine_step", c(D("reg_sine", 200, 0.1), [(16, "tanh")], output="step", loss="mse", opt=ADAM(0.01), epochs=20, seed=67), ["output_loss_mismatch"], "a step output for regression")
ho("mismatch_circle_hinge_sigmoid", c(D("circle", 300), [(8, "tanh")], output="sigmoid", loss="hinge", opt=ADAM(0.01), epochs=20, seed=68), ["output_loss_mismatch"], "hinge loss with a sigmoid output")
ho("mismatch_digits_ce_linear", c(D("digits", 400), [(32, "relu")], output="linear", loss="cross_entropy", opt=ADAM(0.005), epochs=10, init={"init": "he"}, seed=69), ["output_loss_mismatch"], "cross-entropy with a linear output")

# ======================= second held-out test set ==========================================
# The first held-out set was run once (figures in the report), then used to fix rules:
# it joins the tune split. This one was written after those fixes, labelled a priori.
for name, d in H:
    d["split"] = "tune"
H2 = []
def ho2(name, cfg, expect, why):
    H2.append(("ho2_" + name, {"config": cfg, "expect": sorted(expect), "split": "test",
                               "why": why}))

ho2("healthy_circle_tanh_adam", c(D("circle", 500), [(12, "tanh")], opt=ADAM(0.01), epochs=40, seed=71), [], "a tanh net fits the circle")
ho2("healthy_xor_relu_adam", c(D("xor", 400), [(16, "relu")], opt=ADAM(0.01), epochs=40, init={"init": "he"}, seed=72), [], "a ReLU net fits XOR")
ho2("healthy_gauss_logistic_sgd", c(D("gaussian", 500, 0.2), opt=SGD(0.01, 0.9), epochs=20, seed=73), [], "logistic regression, momentum")
ho2("healthy_regsine_relu", c(D("reg_sine", 300, 0.05), [(32, "relu")], opt=ADAM(0.01), epochs=150, init={"init": "he"}, seed=74, **REG), [], "a ReLU net fits a sine")
ho2("healthy_or_perceptron2", c(D("or_gate", 4), output="step", loss="perceptron", opt=SGD(0.5), epochs=20, batch=1, seed=75), [], "perceptron OR")
ho2("healthy_linear_logistic_rmsprop", c(D("linear", 400), opt={"name": "rmsprop", "lr": 0.01}, epochs=30, seed=76), [], "RMSprop logistic regression")
ho2("healthy_regline_cd", c(D("reg_line", 300, 0.1), opt={"name": "coordinate_descent"}, epochs=3, seed=77, **REG), [], "coordinate descent on a line")
ho2("healthy_moons_elu_adam", c(D("moons", 400, 0.1), [(16, "elu")], opt=ADAM(0.01), epochs=40, init={"init": "he"}, seed=78), [], "an ELU net on moons")

ho2("nan_regplane_lr2", c(D("reg_plane", 300, 0.1), opt=SGD(2.0), epochs=20, seed=79, **REG), DIV, "lr 2 on a plane fit")
ho2("nan_reggauss_tanh_lr", c(D("reg_gauss", 300), [(16, "tanh")], opt=SGD(0.8, 0.9), epochs=20, seed=80, **REG), DIV + ["saturated_units"], "lr 0.8 with momentum on a tanh regression net")
ho2("lrhigh_circle_adam2", c(D("circle", 400), [(16, "tanh")], opt=ADAM(2.0), epochs=30, seed=81), ["lr_too_high", "saturated_units", "oscillating_loss"], "Adam at lr 2")
ho2("lrhigh_xor_rmsprop", c(D("xor", 400), [(8, "tanh")], opt={"name": "rmsprop", "lr": 1.0}, epochs=30, seed=82), ["lr_too_high", "saturated_units", "oscillating_loss"], "RMSprop at lr 1")
ho2("lrlow_circle_adam", c(D("circle", 400), [(8, "relu")], opt=ADAM(1e-7), epochs=10, init={"init": "he"}, seed=83), ["lr_too_low"], "Adam at 1e-7")
ho2("lrlow_regline_sgd", c(D("reg_line", 300, 0.1), opt=SGD(1e-7), epochs=10, seed=84, **REG), ["lr_too_low"], "a line fit at lr 1e-7")
osc("ho2_osc_regplane_fb5", D("reg_plane", 260, 0.05), 85, "test")
osc("ho2_osc_reggauss_fb3", D("reg_gauss", 280, 0.1), 86, "test", 1.3)
H2 += S[-2:]; del S[-2:]
ho2("explode_deep_relu_regplane", c(D("reg_plane", 300), [(16, "relu")] * 5, opt=SGD(0.01), epochs=10, init={"init": "normal", "init_scale": 1.0}, seed=87, **REG),
    ["exploding_gradients", "bad_init_loss", "nan_or_inf", "diverging", "lr_too_high"], "N(0,1) weights in six ReLU layers")
ho2("explode_deep_linear_regsine", c(D("reg_sine", 300), [(16, "linear")] * 4, opt=SGD(0.01), epochs=10, init={"init": "normal", "init_scale": 1.0}, seed=88, **REG),
    ["exploding_gradients", "bad_init_loss", "nan_or_inf", "diverging", "lr_too_high"], "deep linear net, N(0,1) weights")
ho2("vanish_deep_sigmoid_circle2", c(D("circle", 400), [(10, "sigmoid")] * 7, opt=SGD(0.05, 0.5), epochs=20, seed=89), ["vanishing_gradients"], "eight sigmoid layers")
ho2("vanish_deep_sigmoid_moons2", c(D("moons", 400, 0.1), [(8, "sigmoid")] * 6, opt=SGD(0.1), epochs=20, seed=90), ["vanishing_gradients"], "seven sigmoid layers")
ho2("dead_relu_bias_spiral2", c(D("spiral", 400), [(16, "relu")], opt=ADAM(0.01), epochs=20, init={"init": "he", "bias_init": -8.0}, seed=91), ["dead_units", "bad_init_loss"], "bias -8")
ho2("dead_relu_bias_gauss2", c(D("gaussian", 400), [(16, "relu"), (8, "relu")], opt=ADAM(0.01), epochs=20, init={"init": "he", "bias_init": -8.0}, seed=92), ["dead_units", "bad_init_loss"], "bias -8, two layers")
ho2("sat_tanh_scaled_circle2", c(D("circle", 400, scale=60.0), [(12, "tanh")], opt=SGD(0.01, 0.9), epochs=20, seed=93), ["saturated_units", "unscaled_features"], "inputs x60")
ho2("sat_tanh_scaled_spiral2", c(D("spiral", 400, scale=80.0), [(8, "tanh")], opt=SGD(0.03, 0.9), epochs=20, seed=94), ["saturated_units", "unscaled_features"], "inputs x80")
ho2("sym_zeros_tanh_circle", c(D("circle", 400), [(8, "tanh")], opt=SGD(0.03, 0.9), epochs=20, init={"init": "zeros"}, seed=95), ["symmetric_init"], "zero init")
ho2("sym_constant_tanh_moons", c(D("moons", 400, 0.1), [(8, "tanh"), (8, "tanh")], opt=ADAM(0.01), epochs=20, init={"init": "constant", "init_scale": 0.1}, seed=96), ["symmetric_init"], "constant init, two layers")
ho2("badinit_normal_circle_relu", c(D("circle", 400), [(16, "relu")], opt=ADAM(0.01), epochs=30, init={"init": "normal", "init_scale": 3.0}, seed=97), ["bad_init_loss"], "N(0,9) weights")
ho2("badinit_bias_regsine", c(D("reg_sine", 300, 0.1), [(16, "tanh")], opt=ADAM(0.01), epochs=60, init={"bias_init": 6.0}, seed=98, **REG), ["bad_init_loss"], "bias 6 in a regression net")
ho2("plateau_small_init_circle2", c(D("circle", 400), [(8, "tanh")], opt=SGD(0.01), epochs=40, init={"init_scale": 0.001}, seed=99), ["plateau"], "tiny weights")
ho2("plateau_small_init_xor2", c(D("xor", 400), [(8, "tanh")], opt=SGD(0.01), epochs=40, init={"init_scale": 0.001}, seed=100), ["plateau"], "tiny weights")
ho2("nc_regsine_4", c(D("reg_sine", 300, 0.05), [(16, "tanh")], opt=ADAM(0.005), epochs=7, seed=101, **REG), ["not_converged"], "seven epochs")
ho2("nc_circle_adam", c(D("circle", 400), [(8, "tanh")], opt=ADAM(0.002), epochs=5, seed=102), ["not_converged"], "five epochs at 0.002")
ho2("overfit_circle_small2", c(D("circle", 60, 0.5, test_fraction=0.5), [(64, "relu"), (64, "relu")], seed=103, **OF), ["overfitting"], "30 noisy circle points")
ho2("overfit_spiral_small2", c(D("spiral", 60, 0.3, test_fraction=0.5), [(64, "relu"), (64, "relu")], seed=104, **OF), ["overfitting"], "30 noisy spiral points")
ho2("underfit_circle_one2", c(D("circle", 400), [(1, "tanh")], opt=ADAM(0.02), epochs=60, seed=105), ["underfitting"], "one tanh unit on a circle")
ho2("underfit_regsine_linear2", c(D("reg_sine", 300, 0.05), opt=ADAM(0.02), epochs=40, seed=106, **REG), ["underfitting"], "a line through a sine")
ho2("nls_xor_logistic2", c(D("xor", 400), opt=ADAM(0.02), epochs=20, seed=107), ["not_linearly_separable"], "XOR, logistic")
ho2("nls_circle_hinge", c(D("circle", 400), output="linear", loss="hinge", opt=SGD(0.01), epochs=20, seed=108), ["not_linearly_separable"], "circle, linear SVM")
ho2("unscaled_gauss_big_logistic", c(D("gaussian", 400, scale=200.0), opt=ADAM(0.05), epochs=20, seed=109), ["unscaled_features"], "inputs x200, logistic")
ho2("unscaled_regsine_relu_small", c(D("reg_sine", 300, 0.05, scale=0.002), [(16, "relu")], opt=ADAM(0.01), epochs=30, init={"init": "he"}, seed=110, **REG), ["unscaled_features"], "inputs x0.002")
ho2("irr_circle_noise", c(D("circle", 400, noise_features=4), [(16, "tanh")], opt=ADAM(0.01), epochs=40, seed=111), ["irrelevant_features"], "four noise columns")
ho2("irr_regplane_noise", c(D("reg_plane", 300, 0.05, noise_features=3), opt=ADAM(0.05), epochs=40, seed=112, **REG), ["irrelevant_features"], "three noise columns")
ho2("mismatch_gauss_softmax_bce", c(D("gaussian", 300), [(8, "tanh")], output="softmax", loss="bce", opt=ADAM(0.02), epochs=20, seed=113), ["output_loss_mismatch"], "softmax over one unit")
ho2("mismatch_regline_bce", c(D("reg_plane", 300), output="sigmoid", loss="bce", opt=ADAM(0.02), epochs=20, seed=114), ["output_loss_mismatch"], "BCE on real-valued targets")

# ======================= third held-out test set ===========================================
# The second held-out set was run once (figures in the report), then looked at (one rule
# change: a training-loss rise must last two evaluations): it joins the tune split. This
# one was written after that change, labelled a priori, run once.
for name, d in H2:
    d["split"] = "tune"
H3 = []
def ho3(name, cfg, expect, why):
    H3.append(("ho3_" + name, {"config": cfg, "expect": sorted(expect), "split": "test",
                               "why": why}))

ho3("healthy_gauss_relu_sgd", c(D("gaussian", 400), [(8, "relu")], opt=SGD(0.02, 0.9), epochs=20, init={"init": "he"}, seed=121), [], "a ReLU net on Gaussians")
ho3("healthy_linear_tanh_adam", c(D("linear", 400), [(8, "tanh")], opt=ADAM(0.01), epochs=30, seed=122), [], "a tanh net on separable points")
ho3("healthy_xor_product_sgd", c(D("xor", 400, features=["x1", "x2", "x1*x2"]), opt=SGD(0.01, 0.9), epochs=30, seed=123), ["irrelevant_features"],
    "x1*x2 makes XOR separable. Relabelled (issue 4, after its one scored run; was []): "
    "the label was wrong, not the rule. XOR's class is the sign of x1*x2, so x1 and x2 "
    "carry nothing once x1*x2 is there: the trained weights are -0.02, -0.11 on x1, x2 "
    "against 3.4 on x1*x2, shuffling x1 or x2 changes the loss by 0 and 1e-4 against 13 "
    "for x1*x2, and neither correlates with the class. The finding's remedy (use only "
    "x1*x2) is the right advice; ho4_irr_xor_product_with_raw tests the same a priori")
ho3("healthy_and_perceptron2", c(D("and_gate", 4), output="step", loss="perceptron", opt=SGD(1.0), epochs=30, batch=1, seed=124), [], "perceptron AND, lr 1")
ho3("healthy_regline_normal_eq2", c(D("reg_line", 400, 0.3), opt={"name": "normal_equations"}, epochs=3, seed=125, **REG), [], "normal equations")
ho3("healthy_circle_relu_sgd", c(D("circle", 500), [(16, "relu")], opt=SGD(0.01, 0.9), epochs=40, init={"init": "he"}, seed=126), [], "a ReLU net with momentum on the circle")
ho3("healthy_digits_relu2", c(D("digits", 600), [(48, "relu")], output="softmax", loss="cross_entropy", opt=ADAM(0.003), epochs=25, init={"init": "he"}, seed=127), [], "digits")
ho3("healthy_moons_tanh_sgd", c(D("moons", 400, 0.05), [(12, "tanh")], opt=SGD(0.03, 0.9), epochs=80, seed=128), [], "tanh net with momentum on moons")

ho3("nan_regline_lr2", c(D("reg_line", 300, 0.1), opt=SGD(2.0), epochs=20, seed=129, **REG), DIV, "lr 2")
ho3("nan_regplane_momentum", c(D("reg_plane", 300, 0.1), opt=SGD(0.5, 0.9), epochs=20, seed=130, **REG), DIV, "lr 0.5 with momentum")
ho3("lrhigh_circle_rmsprop", c(D("circle", 400), [(8, "tanh")], opt={"name": "rmsprop", "lr": 2.0}, epochs=30, seed=131), ["lr_too_high", "saturated_units", "oscillating_loss"], "RMSprop at lr 2")
ho3("lrhigh_spiral_sgd", c(D("spiral", 400), [(16, "tanh")], opt=SGD(3.0, 0.9), epochs=30, seed=132), ["lr_too_high", "saturated_units", "oscillating_loss"], "SGD at lr 3")
ho3("lrlow_spiral_adam", c(D("spiral", 400), [(16, "tanh")], opt=ADAM(1e-7), epochs=10, seed=133), ["lr_too_low"], "Adam at 1e-7")
ho3("lrlow_moons_sgd", c(D("moons", 400, 0.1), [(8, "relu")], opt=SGD(1e-6), epochs=10, init={"init": "he"}, seed=134), ["lr_too_low"], "lr 1e-6")
osc("ho3_osc_regplane_fb6", D("reg_plane", 240, 0.0), 135, "test")
osc("ho3_osc_reggauss_fb4", D("reg_gauss", 240, 0.05), 136, "test", 1.4)
H3 += S[-2:]; del S[-2:]
ho3("explode_deep_relu_reggauss2", c(D("reg_gauss", 300), [(12, "relu")] * 6, opt=SGD(0.01), epochs=10, init={"init": "normal", "init_scale": 1.0}, seed=137, **REG),
    ["exploding_gradients", "bad_init_loss", "nan_or_inf", "diverging", "lr_too_high"], "N(0,1) weights in seven ReLU layers")
ho3("explode_deep_linear_regline", c(D("reg_line", 300), [(16, "linear")] * 4, opt=SGD(0.01), epochs=10, init={"init": "normal", "init_scale": 1.0}, seed=138, **REG),
    ["exploding_gradients", "bad_init_loss", "nan_or_inf", "diverging", "lr_too_high"], "deep linear net")
ho3("vanish_deep_sigmoid_xor3", c(D("xor", 400), [(12, "sigmoid")] * 6, opt=SGD(0.1, 0.5), epochs=20, seed=139), ["vanishing_gradients"], "seven sigmoid layers")
ho3("vanish_deep_sigmoid_gauss3", c(D("gaussian", 400), [(8, "sigmoid")] * 7, opt=SGD(0.05), epochs=20, seed=140), ["vanishing_gradients"], "eight sigmoid layers")
ho3("dead_relu_bias_moons3", c(D("moons", 400, 0.1), [(16, "relu")], opt=ADAM(0.01), epochs=20, init={"init": "he", "bias_init": -10.0}, seed=141), ["dead_units", "bad_init_loss"], "bias -10")
ho3("dead_relu_bias_reggauss", c(D("reg_gauss", 300), [(16, "relu")], opt=ADAM(0.01), epochs=20, init={"init": "he", "bias_init": -8.0}, seed=142, **REG), ["dead_units", "bad_init_loss"], "bias -8, regression")
ho3("sat_tanh_scaled_gauss3", c(D("gaussian", 400, 0.3, scale=50.0), [(8, "tanh")], opt=SGD(0.03, 0.9), epochs=20, seed=143), ["unscaled_features"], "inputs x50: saturated, Gaussians still separated")
ho3("sat_tanh_scaled_xor3", c(D("xor", 400, scale=50.0), [(12, "tanh")], opt=SGD(0.01, 0.9), epochs=20, seed=144), ["saturated_units", "unscaled_features"], "inputs x50")
ho3("sat_tanh_bias_circle", c(D("circle", 400), [(8, "tanh")], opt=SGD(0.01), epochs=20, init={"bias_init": 8.0}, seed=145), ["saturated_units", "bad_init_loss"], "bias 8 pins tanh units at +1")
ho3("sym_constant_relu_circle", c(D("circle", 400), [(8, "relu")], opt=ADAM(0.01), epochs=20, init={"init": "constant", "init_scale": 0.2}, seed=146), ["symmetric_init"], "constant init, ReLU")
ho3("sym_zeros_sigmoid_xor", c(D("xor", 400), [(8, "sigmoid")], opt=ADAM(0.01), epochs=20, init={"init": "zeros"}, seed=147), ["symmetric_init"], "zero init, sigmoid")
ho3("badinit_normal_spiral_relu", c(D("spiral", 400), [(16, "relu")], opt=ADAM(0.01), epochs=30, init={"init": "normal", "init_scale": 4.0}, seed=148), ["bad_init_loss"], "N(0,16) weights")
ho3("badinit_bias_reggauss_linear", c(D("reg_gauss", 300), opt=ADAM(0.05), epochs=30, init={"bias_init": 5.0}, seed=149, **REG), ["bad_init_loss", "underfitting"], "bias 5; a plane through six bumps")
ho3("plateau_small_init_moons3", c(D("moons", 400, 0.1), [(8, "tanh")], opt=SGD(0.01), epochs=40, init={"init_scale": 0.001}, seed=150), ["plateau"], "tiny weights")
ho3("plateau_small_init_circle3", c(D("circle", 400), [(12, "sigmoid")], opt=SGD(0.02), epochs=40, init={"init_scale": 0.001}, seed=151), ["plateau"], "tiny weights, sigmoid")
ho3("nc_regsine_5", c(D("reg_sine", 300, 0.05), [(24, "tanh")], opt=ADAM(0.005), epochs=6, seed=152, **REG), ["not_converged"], "six epochs")
ho3("nc_moons_adam3", c(D("moons", 400, 0.1), [(8, "tanh")], opt=ADAM(0.003), epochs=6, seed=153), ["not_converged"], "six epochs at 0.003")
ho3("overfit_moons_small3", c(D("moons", 60, 0.5, test_fraction=0.5), [(64, "relu"), (64, "relu")], seed=154, **OF), ["overfitting"], "30 noisy moon points")
ho3("overfit_xor_small3", c(D("xor", 60, 0.5, test_fraction=0.5), [(64, "relu"), (64, "relu")], seed=155, **OF), ["overfitting"], "30 noisy XOR points")
ho3("underfit_spiral_two", c(D("spiral", 400), [(2, "tanh")], opt=ADAM(0.02), epochs=60, seed=156), ["underfitting"], "two units on a spiral")
ho3("underfit_regsine_two_relu", c(D("reg_sine", 300, 0.05), [(1, "relu")], opt=ADAM(0.02), epochs=60, init={"init": "he"}, seed=157, **REG), ["underfitting"], "one ReLU on a sine")
ho3("nls_spiral_logistic3", c(D("spiral", 400), opt=ADAM(0.02), epochs=20, seed=158), ["not_linearly_separable"], "spiral, logistic")
ho3("nls_xorgate_perceptron3", c(D("xor_gate", 4), output="step", loss="perceptron", opt=SGD(1.0), epochs=30, batch=1, seed=159), ["not_linearly_separable"], "XOR gate")
ho3("unscaled_moons_big_logistic", c(D("moons", 400, 0.1, scale=100.0), opt=ADAM(0.05), epochs=20, seed=160), ["unscaled_features", "not_linearly_separable"], "inputs x100, and moons need a curve")
ho3("unscaled_regline_small", c(D("reg_line", 300, 0.1, scale=0.005), opt=ADAM(0.05), epochs=30, seed=161, **REG), ["unscaled_features"], "inputs x0.005")
ho3("irr_spiral_noise", c(D("gaussian", 400, noise_features=5), opt=ADAM(0.05), epochs=30, seed=162), ["irrelevant_features"], "five noise columns, logistic")
ho3("irr_regsine_noise", c(D("reg_sine", 300, 0.05, noise_features=3), [(16, "tanh")], opt=ADAM(0.01), epochs=80, seed=163, **REG), ["irrelevant_features"], "three noise columns")
ho3("mismatch_xor_mse_linear_ce", c(D("xor", 400), [(8, "tanh")], output="linear", loss="cross_entropy", opt=ADAM(0.02), epochs=20, seed=164), ["output_loss_mismatch"], "cross-entropy with a linear output")
ho3("mismatch_regsine_softmax", c(D("reg_sine", 300, 0.1), [(16, "tanh")], output="softmax", loss="mse", opt=ADAM(0.02), epochs=20, seed=165), ["output_loss_mismatch"], "softmax output for regression")

# Issue 4: false alarms found on the lessons after the figures above (the default demo
# warned oscillating_loss / lr_too_high, seeds 4 and 6 overfitting; the zero-initialised
# gate perceptrons warned irrelevant_features on 4 points, XOR errored diverging). They
# join the tune split: the rules were changed on them.
H4 = []
def fa4(name, cfg, expect, why):
    H4.append(("fa4_" + name, {"config": cfg, "expect": sorted(expect), "split": "tune",
                               "why": why}))

GATE = lambda g: {"data": {"name": g, "n_samples": 4, "noise": 0.0, "test_fraction": 0.0},
                  "model": {"hidden": [], "output": "step", "loss": "perceptron",
                            "init": "zeros"},
                  "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.0},
                  "training": {"batch_size": 1, "epochs": 30}}
fa4("healthy_default_spiral", {}, [], "the default demo: noisy mini-batch SGD that learns (test accuracy 0.97)")
fa4("healthy_default_spiral_seed1", {"seed": 1}, [], "the default demo, seed 1: the loss jumps from 0.26 to 0.56 and falls to 0.10")
fa4("healthy_default_spiral_seed6", {"seed": 6}, [], "the default demo, seed 6: test loss 0.015 -> 0.029 at 99 % test accuracy")
fa4("healthy_and_perceptron_zeros", GATE("and_gate"), [], "the AND lesson: zero-initialised perceptron")
fa4("healthy_nand_perceptron_zeros", GATE("nand_gate"), [], "NAND, zero-initialised perceptron")
fa4("nls_xor_perceptron_zeros", GATE("xor_gate"), ["not_linearly_separable"], "the XOR lesson: the line cycles, the loss never diverges")

# ======================= fourth held-out test set ==========================================
# Issue 4: the test split must be at least half of the corpus. Written after the rules were
# frozen (no threshold has been changed since), labelled a priori from each config alone
# (which failure the config must show, and the findings that necessarily come with it, as
# in the sets above), run once by benchmarks/eval_diagnostics.py; never tuned on.
# Scored once (13:46 UTC 2026-11-26, the lead's uncommitted kernels.py of that time):
# test split 200 scenarios, precision 0.94, recall 0.95, healthy quiet 33 of 35, median
# delay 4 steps; misses: oscillating_loss 0.71, not_converged 0.78, underfitting 0.80,
# lr_too_low 0.90 (recall). One label changed afterwards, with its reason in its "why":
# ho3_healthy_xor_product_sgd.
H5 = []
_seed = iter(range(200, 1000))
def ho4(name, cfg, expect, why):
    H5.append(("ho4_" + name, {"config": cfg, "expect": sorted(expect), "split": "test",
                               "why": why}))

# healthy: no warning expected
ho4("healthy_gauss_logistic_sgd", c(D("gaussian", 300), opt=SGD(0.05, 0.9), epochs=20, seed=next(_seed)), [], "logistic regression on separated Gaussians")
ho4("healthy_gauss_tanh_adam", c(D("gaussian", 250), [(8, "tanh")], opt=ADAM(0.01), epochs=20, batch=16, seed=next(_seed)), [], "a tanh net on Gaussians")
ho4("healthy_linear_logistic_adam2", c(D("linear", 300), opt=ADAM(0.05), epochs=30, seed=next(_seed)), [], "logistic regression on separable points")
ho4("healthy_moons_relu_adam2", c(D("moons", 350, 0.1), [(16, "relu")], opt=ADAM(0.01), epochs=40, init={"init": "he"}, seed=next(_seed)), [], "a ReLU net on moons")
ho4("healthy_moons_tanh_adam2", c(D("moons", 300, 0.05), [(16, "tanh")], opt=ADAM(0.02), epochs=60, seed=next(_seed)), [], "a tanh net on moons")
ho4("healthy_circle_tanh_adam", c(D("circle", 350), [(8, "tanh")], opt=ADAM(0.02), epochs=50, seed=next(_seed)), [], "a tanh net on the circle")
ho4("healthy_circle_relu_adam2", c(D("circle", 300), [(16, "relu")], opt=ADAM(0.01), epochs=50, batch=20, init={"init": "he"}, seed=next(_seed)), [], "a ReLU net on the circle")
ho4("healthy_xor_tanh_adam2", c(D("xor", 350), [(8, "tanh")], opt=ADAM(0.03), epochs=40, seed=next(_seed)), [], "a tanh net on XOR")
ho4("healthy_xor_relu_adam", c(D("xor", 300), [(16, "relu")], opt=ADAM(0.01), epochs=40, init={"init": "he"}, seed=next(_seed)), [], "a ReLU net on XOR")
ho4("healthy_circle_squares2", c(D("circle", 300, features=["x1^2", "x2^2"]), opt=ADAM(0.05), epochs=40, seed=next(_seed)), [], "x1^2, x2^2 separate the circle")
ho4("healthy_xor_product2", c(D("xor", 300, features=["x1*x2"]), opt=ADAM(0.05), epochs=30, seed=next(_seed)), [], "x1*x2 separates XOR")
ho4("healthy_regline_adam2", c(D("reg_line", 250, 0.2), opt=ADAM(0.05), epochs=40, seed=next(_seed), **REG), [], "Adam fits a line")
ho4("healthy_regline_normal_eq3", c(D("reg_line", 150, 0.1), opt={"name": "normal_equations"}, epochs=3, seed=next(_seed), **REG), [], "normal equations on a line")
ho4("healthy_regplane_sgd", c(D("reg_plane", 300, 0.1), opt=SGD(0.01, 0.5), epochs=30, seed=next(_seed), **REG), [], "gradient descent fits a plane")
ho4("healthy_regplane_normal_eq2", c(D("reg_plane", 250, 0.2), opt={"name": "normal_equations"}, epochs=3, seed=next(_seed), **REG), [], "normal equations on a plane")
ho4("healthy_regsine_tanh2", c(D("reg_sine", 200, 0.05), [(16, "tanh")], opt=ADAM(0.02), epochs=150, seed=next(_seed), **REG), [], "a tanh net fits a sine")
ho4("healthy_digits_relu3", c(D("digits", 500), [(32, "relu")], output="softmax", loss="cross_entropy", opt=ADAM(0.005), epochs=25, init={"init": "he"}, seed=next(_seed)), [], "a ReLU net on digits")
ho4("healthy_and_perceptron3", c(D("and_gate", 4), output="step", loss="perceptron", opt=SGD(0.5), epochs=30, batch=1, seed=next(_seed)), [], "the perceptron learns AND")
ho4("healthy_or_perceptron2", c(D("or_gate", 4), output="step", loss="perceptron", opt=SGD(0.2), epochs=30, batch=1, seed=next(_seed)), [], "the perceptron learns OR")
ho4("healthy_linear_perceptron2", c(D("linear", 200), output="step", loss="perceptron", opt=SGD(0.1), epochs=20, batch=1, seed=next(_seed)), [], "the perceptron on separable points")
ho4("healthy_linear_hinge2", c(D("linear", 250), output="linear", loss="hinge", opt=SGD(0.01), epochs=30, seed=next(_seed)), [], "a linear SVM on separable points")
ho4("healthy_gauss_float32_2", c(D("gaussian", 300), [(8, "tanh")], opt=ADAM(0.01), epochs=20, seed=next(_seed), precision="float32"), [], "float32 tanh net on Gaussians")
ho4("healthy_spiral_relu2", c(D("spiral", 400), [(24, "relu"), (24, "relu")], opt=ADAM(0.01), epochs=150, init={"init": "he"}, seed=next(_seed)), [], "a two-layer ReLU net on the spiral")
ho4("healthy_moons_leaky_rmsprop2", c(D("moons", 300, 0.1), [(12, "leaky_relu")], opt={"name": "rmsprop", "lr": 0.005}, epochs=60, init={"init": "he"}, seed=next(_seed)), [], "leaky ReLU with RMSprop on moons")
ho4("healthy_circle_elu_nesterov2", c(D("circle", 300), [(8, "elu")], opt={"name": "sgd", "lr": 0.01, "momentum": 0.9, "nesterov": True}, epochs=40, init={"init": "he"}, seed=next(_seed)), [], "ELU with Nesterov momentum on the circle")
ho4("healthy_gauss_tanh_adagrad", c(D("gaussian", 300), [(8, "tanh")], opt={"name": "adagrad", "lr": 0.1}, epochs=20, seed=next(_seed)), [], "Adagrad on Gaussians")
ho4("healthy_nand_perceptron2", c(D("nand_gate", 4), output="step", loss="perceptron", opt=SGD(0.1), epochs=30, batch=1, seed=next(_seed)), [], "the perceptron learns NAND")

# nan / diverging: linear models far above 2/L
for name, data, opt in (("regline_lr15", D("reg_line", 250, 0.1), SGD(1.5)),
                        ("regplane_mom04", D("reg_plane", 300, 0.1), SGD(0.4, 0.9)),
                        ("regsine_lr12", D("reg_sine", 250, 0.1), SGD(1.2)),
                        ("reggauss_lr06", D("reg_gauss", 300), SGD(0.6)),
                        ("regline_mom03", D("reg_line", 200, 0.3), SGD(0.3, 0.9)),
                        ("regplane_lr1_b20", D("reg_plane", 250), SGD(1.0)),
                        ("reggauss_mom03", D("reg_gauss", 250, 0.1), SGD(0.3, 0.9)),
                        ("regsine_mom05", D("reg_sine", 300, 0.2), SGD(0.5, 0.9))):
    ho4("nan_" + name, c(data, opt=opt, epochs=20, batch=20 if "b20" in name else 10, seed=next(_seed), **REG), DIV,
        f"a linear fit by SGD at lr {opt['lr']:g}, momentum {opt['momentum']:g}, on inputs spanning about [-6, 6]: the step is far above 2/L")

# learning rate too high in tanh classifiers (no NaN: tanh bounds the activations)
LRH = ["lr_too_high", "saturated_units", "oscillating_loss"]
for name, data, h, opt in (("circle_adam15", D("circle", 350), [(8, "tanh")], ADAM(1.5)),
                           ("spiral_rmsprop1", D("spiral", 350), [(16, "tanh")], {"name": "rmsprop", "lr": 1.0}),
                           ("moons_adam2", D("moons", 350, 0.1), [(8, "tanh")], ADAM(2.0)),
                           ("xor_sgd3", D("xor", 350), [(8, "tanh")], SGD(3.0, 0.9)),
                           ("circle_rmsprop2", D("circle", 300), [(12, "tanh")], {"name": "rmsprop", "lr": 2.0}),
                           ("spiral_adam2", D("spiral", 300), [(8, "tanh")], ADAM(2.0)),
                           ("xor_adam1", D("xor", 300), [(12, "tanh")], ADAM(1.0)),
                           ("moons_sgd4", D("moons", 300, 0.1), [(8, "tanh")], SGD(4.0, 0.9))):
    ho4("lrhigh_" + name, c(data, h, opt=opt, epochs=30, seed=next(_seed)), LRH,
        "a rate 100x too large: tanh units pinned at +-1, the loss jumps up and down")

# learning rate too low
for name, data, h, opt, kw in (("circle_sgd", D("circle", 300), [(8, "tanh")], SGD(1e-6), {}),
                               ("moons_relu_sgd", D("moons", 300, 0.1), [(16, "relu")], SGD(1e-6, 0.5), {"init": {"init": "he"}}),
                               ("xor_adam", D("xor", 300), [(8, "tanh")], ADAM(1e-7), {}),
                               ("regsine_sgd", D("reg_sine", 250, 0.1), [(16, "tanh")], SGD(1e-6), REG),
                               ("reggauss_adam", D("reg_gauss", 300), [(16, "tanh")], ADAM(1e-7), REG),
                               ("digits_sgd", D("digits", 300), [(16, "relu")], SGD(1e-6), {"output": "softmax", "loss": "cross_entropy", "init": {"init": "he"}}),
                               ("spiral_adam", D("spiral", 300), [(16, "tanh")], ADAM(1e-7), {}),
                               ("regplane_sgd", D("reg_plane", 300), [(8, "tanh")], SGD(1e-6, 0.9), REG)):
    ho4("lrlow_" + name, c(data, h, opt=opt, epochs=5 if "digits" in name else 10, seed=next(_seed), **kw), ["lr_too_low"],
        f"{opt['name']} at lr {opt['lr']:g}: the weights barely move")

# oscillating: full-batch heavy ball above the stable rate
for name, data, frac in (("regline_fb", D("reg_line", 200, 0.0), 0.95), ("regplane_fb7", D("reg_plane", 260, 0.0), 0.95),
                         ("reggauss_fb5", D("reg_gauss", 280, 0.05), 1.3), ("regsine_fb", D("reg_sine", 220, 0.05), 0.95),
                         ("regplane_fb8", D("reg_plane", 300, 0.2), 1.6)):
    osc("ho4_osc_" + name, data, next(_seed), "test", frac)
    H5.append(S.pop())

# exploding: deep nets with N(0, 1) weights
for name, data, h in (("relu5_regplane", D("reg_plane", 300), [(16, "relu")] * 5),
                      ("relu6_regsine", D("reg_sine", 300), [(12, "relu")] * 6),
                      ("linear4_regline", D("reg_line", 250), [(16, "linear")] * 4),
                      ("linear5_reggauss", D("reg_gauss", 300), [(12, "linear")] * 5),
                      ("linear4_regplane", D("reg_plane", 250), [(12, "linear")] * 4),
                      ("relu5_regsine", D("reg_sine", 250), [(20, "relu")] * 5)):
    ho4("explode_" + name, c(data, h, opt=SGD(0.01), epochs=10, init={"init": "normal", "init_scale": 1.0}, seed=next(_seed), **REG),
        ["exploding_gradients", "bad_init_loss", "nan_or_inf", "diverging", "lr_too_high"],
        f"N(0,1) weights in {len(h)} hidden layers multiply the signal at every layer")

# vanishing: deep sigmoid stacks
for name, data, h, opt in (("circle7", D("circle", 350), [(10, "sigmoid")] * 7, SGD(0.1)),
                           ("moons6", D("moons", 350, 0.1), [(8, "sigmoid")] * 6, SGD(0.1, 0.5)),
                           ("spiral7", D("spiral", 300), [(8, "sigmoid")] * 7, SGD(0.05)),
                           ("xor6", D("xor", 300), [(12, "sigmoid")] * 6, SGD(0.1)),
                           ("gauss8", D("gaussian", 300), [(8, "sigmoid")] * 8, SGD(0.05, 0.5)),
                           ("linear6", D("linear", 300), [(10, "sigmoid")] * 6, SGD(0.1))):
    ho4("vanish_sigmoid_" + name, c(data, h, opt=opt, epochs=20, seed=next(_seed)), ["vanishing_gradients"],
        f"{len(h)} sigmoid layers: each multiplies the gradient by at most 0.25")

# dead ReLU units from a large negative bias
for name, data, h, bias, kw in (("circle", D("circle", 350), [(16, "relu")], -8.0, {}),
                                ("spiral", D("spiral", 350), [(16, "relu")], -10.0, {}),
                                ("xor", D("xor", 300), [(12, "relu")], -8.0, {}),
                                ("gauss2", D("gaussian", 300), [(16, "relu"), (8, "relu")], -9.0, {}),
                                ("regsine", D("reg_sine", 250, 0.05), [(16, "relu")], -8.0, REG),
                                ("regplane", D("reg_plane", 300), [(16, "relu")], -10.0, REG),
                                ("moons2", D("moons", 300, 0.1), [(12, "relu"), (12, "relu")], -8.0, {})):
    ho4("dead_relu_bias_" + name, c(data, h, opt=ADAM(0.01), epochs=20, init={"init": "he", "bias_init": bias}, seed=next(_seed), **kw),
        ["dead_units", "bad_init_loss"], f"bias {bias:g}: every ReLU is off on every input (and the output starts far off)")

# saturated tanh units
for name, data, h, opt, init, extra in (
        ("scaled_circle", D("circle", 350, scale=60.0), [(12, "tanh")], SGD(0.01, 0.9), None, "unscaled_features"),
        ("scaled_spiral", D("spiral", 350, scale=80.0), [(8, "tanh")], SGD(0.03, 0.9), None, "unscaled_features"),
        ("scaled_xor", D("xor", 300, scale=70.0), [(8, "tanh")], SGD(0.01, 0.9), None, "unscaled_features"),
        ("scaled_circle2", D("circle", 300, scale=50.0), [(16, "tanh")], SGD(0.02), None, "unscaled_features"),
        ("bias_moons", D("moons", 350, 0.1), [(8, "tanh")], SGD(0.01), {"bias_init": 8.0}, "bad_init_loss"),
        ("bias_xor", D("xor", 300), [(12, "tanh")], SGD(0.01), {"bias_init": -8.0}, "bad_init_loss"),
        ("bias_spiral", D("spiral", 300), [(8, "tanh")], SGD(0.02), {"bias_init": 9.0}, "bad_init_loss"),
        ("normal5_circle", D("circle", 300), [(8, "tanh")], SGD(0.01), {"init": "normal", "init_scale": 5.0}, "bad_init_loss")):
    ho4("sat_tanh_" + name, c(data, h, opt=opt, epochs=20, init=init, seed=next(_seed)), ["saturated_units", extra],
        "tanh units driven to |z| >> 5: derivative near 0 on almost every input")

# symmetric initialization
for name, data, h, opt, init, kw in (("zeros_tanh_circle", D("circle", 300), [(8, "tanh")], SGD(0.03, 0.9), {"init": "zeros"}, {}),
                                     ("zeros_sigmoid_moons", D("moons", 300, 0.1), [(8, "sigmoid")], ADAM(0.01), {"init": "zeros"}, {}),
                                     ("const_relu_xor", D("xor", 300), [(8, "relu")], ADAM(0.01), {"init": "constant", "init_scale": 0.1}, {}),
                                     ("const_tanh2_spiral", D("spiral", 300), [(8, "tanh"), (8, "tanh")], ADAM(0.01), {"init": "constant", "init_scale": 0.1}, {}),
                                     ("zeros_tanh_regsine", D("reg_sine", 250, 0.05), [(16, "tanh")], ADAM(0.01), {"init": "zeros"}, REG),
                                     ("const_elu_gauss", D("gaussian", 300), [(8, "elu")], ADAM(0.01), {"init": "constant", "init_scale": 0.1}, {}),
                                     ("zeros_sigmoid2_circle", D("circle", 300), [(8, "sigmoid"), (8, "sigmoid")], SGD(0.05, 0.9), {"init": "zeros"}, {})):
    ho4("sym_" + name, c(data, h, opt=opt, epochs=20, init=init, seed=next(_seed), **kw), ["symmetric_init"],
        "identical units get identical gradients and stay identical")

# bad loss at initialization
for name, data, h, opt, init, kw in (("normal3_moons_relu", D("moons", 300, 0.1), [(16, "relu")], ADAM(0.01), {"init": "normal", "init_scale": 3.0}, {}),
                                     ("normal4_xor_relu", D("xor", 300), [(16, "relu")], ADAM(0.01), {"init": "normal", "init_scale": 4.0}, {}),
                                     ("normal3_gauss_relu", D("gaussian", 300), [(16, "relu")], ADAM(0.01), {"init": "normal", "init_scale": 3.0}, {}),
                                     ("normal35_circle_relu", D("circle", 350), [(12, "relu")], ADAM(0.01), {"init": "normal", "init_scale": 3.5}, {}),
                                     ("bias15_regline", D("reg_line", 250, 0.1), None, SGD(0.01, 0.5), {"bias_init": 15.0}, REG),
                                     ("bias20_regplane", D("reg_plane", 300, 0.1), None, ADAM(0.05), {"bias_init": 20.0}, REG),
                                     ("bias_m9_linear_logistic", D("linear", 300), None, ADAM(0.05), {"bias_init": -9.0}, {})):
    ho4("badinit_" + name, c(data, h or (), opt=opt, epochs=30, init=init, seed=next(_seed), **kw), ["bad_init_loss"],
        "the first predictions are far from the targets: the initial loss is many times the expected one")

# plateau: tiny initial weights at the saddle point
for name, data, h, opt, init in (("xor_tanh", D("xor", 350), [(8, "tanh")], SGD(0.01), {}),
                                 ("circle_tanh", D("circle", 300), [(10, "tanh")], SGD(0.01), {}),
                                 ("moons_sigmoid", D("moons", 350, 0.1), [(8, "sigmoid")], SGD(0.02), {}),
                                 ("spiral_tanh", D("spiral", 300), [(8, "tanh")], SGD(0.01), {}),
                                 ("xor_sigmoid", D("xor", 300), [(12, "sigmoid")], SGD(0.03), {}),
                                 ("circle_relu", D("circle", 350), [(8, "relu")], SGD(0.01), {"init": "he"}),
                                 ("moons_tanh", D("moons", 300, 0.1), [(12, "tanh")], SGD(0.01), {})):
    ho4("plateau_small_init_" + name, c(data, h, opt=opt, epochs=40, init={**init, "init_scale": 0.001}, seed=next(_seed)), ["plateau"],
        "weights of 0.001: one hidden layer sits at the saddle point, the loss at the input-free level")

# not converged: cut short while still learning
for name, data, h, opt, ep, kw in (("circle_adam", D("circle", 300), [(8, "tanh")], ADAM(0.003), 6, {}),
                                   ("moons_adam", D("moons", 350, 0.1), [(8, "tanh")], ADAM(0.003), 6, {}),
                                   ("xor_adam", D("xor", 300), [(8, "tanh")], ADAM(0.003), 6, {}),
                                   ("regsine_adam", D("reg_sine", 250, 0.05), [(16, "tanh")], ADAM(0.005), 8, REG),
                                   ("regsine_adam2", D("reg_sine", 300, 0.1), [(24, "tanh")], ADAM(0.004), 6, REG),
                                   ("reggauss_adam", D("reg_gauss", 300), [(16, "tanh")], ADAM(0.005), 8, REG),
                                   ("digits_adam", D("digits", 500), [(32, "relu")], ADAM(0.0005), 3, {"output": "softmax", "loss": "cross_entropy", "init": {"init": "he"}})):
    ho4("nc_" + name, c(data, h, opt=opt, epochs=ep, seed=next(_seed), **kw), ["not_converged"],
        f"{ep} epochs at a modest rate: the loss is still falling when training stops")

# overfitting: a few noisy points and thousands of weights
for name, data, h in (("circle", D("circle", 60, 0.5, test_fraction=0.5), [(64, "relu"), (64, "relu")]),
                      ("circle2", D("circle", 80, 0.6, test_fraction=0.5), [(48, "relu")] * 3),
                      ("spiral", D("spiral", 60, 0.3, test_fraction=0.5), [(64, "relu"), (64, "relu")]),
                      ("moons", D("moons", 60, 0.5, test_fraction=0.5), [(64, "relu"), (64, "relu")]),
                      ("moons2", D("moons", 80, 0.4, test_fraction=0.5), [(48, "relu")] * 3),
                      ("xor", D("xor", 60, 0.5, test_fraction=0.5), [(64, "relu"), (64, "relu")])):
    ho4("overfit_small_" + name, c(data, h, seed=next(_seed), **OF), ["overfitting"],
        f"{data['n_samples'] // 2} noisy training points and thousands of weights")

# underfitting: too small a network
for name, data, h, kw in (("spiral_two_tanh", D("spiral", 350), [(2, "tanh")], {}),
                          ("circle_one_tanh", D("circle", 350), [(1, "tanh")], {}),
                          ("xor_one_tanh", D("xor", 300), [(1, "tanh")], {}),
                          ("spiral_three_relu", D("spiral", 300), [(3, "relu")], {"init": {"init": "he"}}),
                          ("regsine_linear", D("reg_sine", 250, 0.05), [], REG),
                          ("reggauss_linear", D("reg_gauss", 300), [], REG),
                          ("regsine_one_relu", D("reg_sine", 250, 0.05), [(1, "relu")], {**REG, "init": {"init": "he"}})):
    ho4("underfit_" + name, c(data, h, opt=ADAM(0.02), epochs=60, seed=next(_seed), **kw), ["underfitting"],
        "too few units (or none) for this data: the loss stops falling far above zero")

# not linearly separable: linear models on curved classes
for name, data, kw in (("xor_logistic_sgd", D("xor", 300), {"opt": SGD(0.03, 0.9)}),
                       ("circle_logistic", D("circle", 350), {"opt": ADAM(0.02)}),
                       ("spiral_hinge", D("spiral", 300), {"output": "linear", "loss": "hinge", "opt": SGD(0.01)}),
                       ("moons_logistic", D("moons", 300, 0.1), {"opt": ADAM(0.02)}),
                       ("xorgate_perceptron", D("xor_gate", 4), {"output": "step", "loss": "perceptron", "opt": SGD(0.5), "batch": 1, "epochs": 30}),
                       ("circle_perceptron", D("circle", 150), {"output": "step", "loss": "perceptron", "opt": SGD(0.1), "batch": 1}),
                       ("xor_hinge", D("xor", 300), {"output": "linear", "loss": "hinge", "opt": SGD(0.01)})):
    kw = {"epochs": 20, **kw}
    ho4("nls_" + name, c(data, seed=next(_seed), **kw), ["not_linearly_separable"],
        "no line separates these classes: a linear model cannot fit them")

# unscaled features
for name, data, h, opt, kw, extra in (("gauss_x200_logistic", D("gaussian", 300, scale=200.0), [], ADAM(0.05), {}, []),
                                      ("linear_x150_logistic", D("linear", 300, scale=150.0), [], ADAM(0.05), {}, []),
                                      ("regplane_x50", D("reg_plane", 300, scale=50.0), [], ADAM(0.05), REG, []),
                                      ("regline_x0005", D("reg_line", 250, 0.1, scale=0.005), [], ADAM(0.05), REG, []),
                                      ("gauss_x0001_sgd", D("gaussian", 300, scale=0.001), [], SGD(0.03, 0.9), {}, []),
                                      ("regsine_x0002_relu", D("reg_sine", 250, 0.05, scale=0.002), [(16, "relu")], ADAM(0.01), {**REG, "init": {"init": "he"}}, []),
                                      ("moons_x100_logistic", D("moons", 300, 0.1, scale=100.0), [], ADAM(0.05), {}, ["not_linearly_separable"]),
                                      ("reggauss_x40", D("reg_gauss", 300, scale=40.0), [], ADAM(0.05), REG, [])):
    ho4("unscaled_" + name, c(data, h, opt=opt, epochs=30, seed=next(_seed), **kw), ["unscaled_features"] + extra,
        f"inputs multiplied by {data['scale']:g}: feature spreads far from 1")

# irrelevant features
for name, data, h, opt, ep, kw in (("gauss_noise3_logistic", D("gaussian", 300, noise_features=3), [], ADAM(0.05), 30, {}),
                                   ("circle_noise3_tanh", D("circle", 350, noise_features=3), [(16, "tanh")], ADAM(0.01), 40, {}),
                                   ("moons_noise4_tanh", D("moons", 350, 0.1, noise_features=4), [(16, "tanh")], ADAM(0.01), 40, {}),
                                   ("regplane_noise4", D("reg_plane", 300, 0.05, noise_features=4), [], ADAM(0.05), 40, REG),
                                   ("regline_noise2", D("reg_line", 250, 0.1, noise_features=2), [], ADAM(0.02), 40, REG),
                                   ("regsine_noise2_tanh", D("reg_sine", 300, 0.05, noise_features=2), [(16, "tanh")], ADAM(0.01), 80, REG),
                                   ("xor_noise3_tanh", D("xor", 350, noise_features=3), [(16, "tanh")], ADAM(0.01), 40, {}),
                                   ("xor_product_with_raw", D("xor", 300, features=["x1", "x2", "x1*x2"]), [], ADAM(0.05), 30, {})):
    ho4("irr_" + name, c(data, h, opt=opt, epochs=ep, seed=next(_seed), **kw), ["irrelevant_features"],
        "input columns that carry nothing about the target (noise columns; for XOR, x1 and x2 next to x1*x2)")

# output / loss mismatch
for name, data, h, out, loss in (("gauss_softmax_bce", D("gaussian", 300), [(8, "tanh")], "softmax", "bce"),
                                 ("regplane_sigmoid_bce", D("reg_plane", 300), [], "sigmoid", "bce"),
                                 ("xor_linear_ce", D("xor", 300), [(8, "tanh")], "linear", "cross_entropy"),
                                 ("regsine_softmax_mse", D("reg_sine", 250, 0.1), [(16, "tanh")], "softmax", "mse"),
                                 ("circle_linear_bce", D("circle", 300), [(8, "tanh")], "linear", "bce"),
                                 ("digits_sigmoid_ce", D("digits", 300), [(16, "relu")], "sigmoid", "cross_entropy"),
                                 ("regline_sigmoid_mse", D("reg_line", 250, 0.1), [], "sigmoid", "mse"),
                                 ("spiral_softmax_bce", D("spiral", 300), [(8, "tanh")], "softmax", "bce")):
    ho4("mismatch_" + name, c(data, h, output=out, loss=loss, opt=ADAM(0.02), epochs=20, seed=next(_seed)), ["output_loss_mismatch"],
        f"a {out} output with the {loss} loss on this task")

# Issue 4, round 2: ho4 was scored once (figures above); its failures and the scenarios
# whose outcome the lead's tanh kernel change flipped were then studied and the rules
# changed on them (see rules.py, "Issue 4, round 2"): ho4 joins the tune split.
for name, d in H5:
    d["split"] = "tune"

# ======================= fifth held-out test set ===========================================
# Issue 4, round 2: with ho4 in the tune split, the test split (ho3_ + ho5_) must again be
# at least half of the corpus. Written after the round-2 rule changes were made and frozen,
# generated systematically from templates (one per finding code, and healthy runs) crossed
# with data sets, sizes, seeds, architectures, optimizers and precisions; labelled a priori
# from each config alone (the failure the template forces, and the findings that
# necessarily come with it, with the conventions of the sets above); committed before it
# was first run; scored once by benchmarks/eval_diagnostics.py; never tuned on.
H6 = []
_seed5 = iter(range(1000, 5000))
def ho5(name, cfg, expect, why):
    assert not any(n == "ho5_" + name for n, _ in H6), name
    H6.append(("ho5_" + name, {"config": cfg, "expect": sorted(expect), "split": "test",
                               "why": why}))
RMS = lambda lr: {"name": "rmsprop", "lr": lr}
HE = {"init": "he"}
F32 = "float32"

# healthy (56): well-posed models at sensible rates, two seeds each (the second in float32
# for the nets), no warning expected
for name, data, h, opt, ep, kw in (
        ("gauss_logistic_sgd", D("gaussian", 300), [], SGD(0.05, 0.9), 20, {}),
        ("gauss_logistic_adam", D("gaussian", 200), [], ADAM(0.05), 20, {}),
        ("linear_logistic_adam", D("linear", 300), [], ADAM(0.05), 30, {}),
        ("linear_logistic_sgd", D("linear", 250), [], SGD(0.05, 0.9), 30, {}),
        ("gauss_tanh4_sgd", D("gaussian", 300), [(4, "tanh")], SGD(0.05, 0.9), 20, {}),
        ("gauss_tanh8_adam", D("gaussian", 400), [(8, "tanh")], ADAM(0.01), 20, {}),
        ("moons_tanh16_adam", D("moons", 300, 0.1), [(16, "tanh")], ADAM(0.02), 60, {}),
        ("moons_relu16_adam", D("moons", 350, 0.1), [(16, "relu")], ADAM(0.01), 40, {"init": HE}),
        ("circle_tanh8_adam", D("circle", 300), [(8, "tanh")], ADAM(0.02), 50, {}),
        ("circle_relu16_adam", D("circle", 350), [(16, "relu")], ADAM(0.01), 50, {"init": HE}),
        ("circle_sigmoid8_adam", D("circle", 300), [(8, "sigmoid")], ADAM(0.02), 50, {}),
        ("xor_tanh8_adam", D("xor", 300), [(8, "tanh")], ADAM(0.03), 40, {}),
        ("xor_relu16_adam", D("xor", 350), [(16, "relu")], ADAM(0.01), 40, {"init": HE}),
        ("moons_leaky_rmsprop", D("moons", 300, 0.1), [(12, "leaky_relu")], RMS(0.005), 60, {"init": HE}),
        ("circle_elu_nesterov", D("circle", 300), [(8, "elu")], {"name": "sgd", "lr": 0.01, "momentum": 0.9, "nesterov": True}, 40, {"init": HE}),
        ("gauss_tanh_adagrad", D("gaussian", 300), [(8, "tanh")], {"name": "adagrad", "lr": 0.1}, 20, {}),
        ("circle_squares_logistic", D("circle", 300, features=["x1^2", "x2^2"]), [], ADAM(0.05), 40, {}),
        ("regline_adam", D("reg_line", 250, 0.2), [], ADAM(0.05), 40, REG),
        ("regline_sgd", D("reg_line", 300, 0.1), [], SGD(0.01, 0.5), 30, REG),
        ("regplane_adam", D("reg_plane", 300, 0.1), [], ADAM(0.05), 40, REG),
        ("regplane_normal_eq", D("reg_plane", 250, 0.1), [], {"name": "normal_equations"}, 3, REG),
        ("regline_normal_eq", D("reg_line", 200, 0.2), [], {"name": "normal_equations"}, 3, REG),
        ("regsine_tanh16_adam", D("reg_sine", 200, 0.05), [(16, "tanh")], ADAM(0.02), 150, REG),
        ("digits_relu32_adam", D("digits", 500), [(32, "relu")], ADAM(0.005), 25, {"output": "softmax", "loss": "cross_entropy", "init": HE}),
        ("linear_hinge_sgd", D("linear", 250), [], SGD(0.01), 30, {"output": "linear", "loss": "hinge"}),
        ("linear_perceptron", D("linear", 200), [], SGD(0.1), 20, {"output": "step", "loss": "perceptron", "batch": 1}),
        ("and_perceptron", D("and_gate", 4), [], SGD(0.1), 30, {"output": "step", "loss": "perceptron", "batch": 1}),
        ("or_perceptron", D("or_gate", 4), [], SGD(0.2), 30, {"output": "step", "loss": "perceptron", "batch": 1})):
    for k in range(2):
        kw2 = dict(kw)
        if k == 1 and h and ep <= 60:
            kw2["precision"] = F32
        ho5(f"healthy_{name}_{k}", c(data, h, opt=opt, epochs=ep, seed=next(_seed5), **kw2), [],
            "a well-posed model at a sensible rate" + (" (float32)" if "precision" in kw2 else ""))

# nan / diverging (16): linear least squares by SGD far above 2/L (inputs span about
# [-6, 6], so 2/L is about 0.08)
for i, (ds, lr, mom) in enumerate([(ds, lr, mom) for ds in ("reg_line", "reg_plane", "reg_sine", "reg_gauss")
                                   for lr, mom in ((0.8, 0.0), (1.5, 0.0), (0.3, 0.9), (0.5, 0.9))]):
    ho5(f"nan_{ds.replace('_', '')}_lr{lr:g}_m{mom:g}",
        c(D(ds, (200, 250, 300)[i % 3], 0.1), opt=SGD(lr, mom), epochs=20, batch=(10, 20)[i % 2], seed=next(_seed5),
          precision=F32 if i % 4 == 3 else None, **REG), DIV,
        f"a linear fit by SGD at lr {lr:g}, momentum {mom:g}: the step is far above 2/L, the loss grows to Inf")

# learning rate far too high in tanh classifiers (12): no NaN, tanh bounds the activations
for i, (ds, opt) in enumerate([(ds, opt) for ds in ("circle", "moons", "xor", "spiral")
                               for opt in (ADAM(2.0), RMS(1.5), ADAM(1.5))]):
    ho5(f"lrhigh_{ds}_{opt['name']}{opt['lr']:g}",
        c(D(ds, (300, 350)[i % 2], 0.1 if ds == "moons" else 0.0), [((8, 12)[i % 2], "tanh")], opt=opt, epochs=30,
          seed=next(_seed5)), LRH, "a rate 100x too large: tanh units pinned at +-1, the loss jumps up and down")

# learning rate too low (16)
for i, (ds, h, opt, kw) in enumerate([
        ("circle", [(8, "tanh")], SGD(1e-6), {}), ("moons", [(8, "tanh")], ADAM(1e-7), {}),
        ("xor", [(12, "tanh")], SGD(1e-6, 0.9), {}), ("spiral", [(16, "relu")], SGD(1e-6), {"init": HE}),
        ("gaussian", [(8, "sigmoid")], ADAM(1e-7), {}), ("moons", [(16, "relu")], RMS(1e-7), {"init": HE}),
        ("circle", [(8, "tanh"), (8, "tanh")], ADAM(1e-7), {}), ("xor", [(8, "elu")], SGD(1e-6), {"init": HE}),
        ("reg_sine", [(16, "tanh")], SGD(1e-6), REG), ("reg_gauss", [(16, "tanh")], ADAM(1e-7), REG),
        ("reg_plane", [(8, "tanh")], SGD(1e-6, 0.9), REG), ("reg_sine", [(16, "relu")], RMS(1e-7), {**REG, "init": HE}),
        ("digits", [(16, "relu")], SGD(1e-6), {"output": "softmax", "loss": "cross_entropy", "init": HE}),
        ("spiral", [(12, "tanh")], ADAM(1e-7), {"precision": F32}),
        ("circle", [(16, "relu")], SGD(1e-6, 0.5), {"init": HE, "precision": F32}),
        ("reg_gauss", [(12, "tanh")], SGD(1e-6), {**REG, "precision": F32})]):
    ho5(f"lrlow_{ds.replace('_', '')}_{h[0][1]}{len(h)}_{opt['name']}_{i}",
        c(D(ds, 300, 0.1 if ds in ("moons", "reg_sine") else 0.0), h, opt=opt, epochs=5 if ds == "digits" else 10,
          seed=next(_seed5), **kw), ["lr_too_low"], f"{opt['name']} at lr {opt['lr']:g}: the weights barely move")

# oscillating (12): full-batch heavy-ball momentum above the stable rate
for i, (ds, n, noise, frac) in enumerate([("reg_plane", 220, 0.0, 0.95), ("reg_plane", 280, 0.1, 1.2), ("reg_plane", 320, 0.05, 1.5),
                                          ("reg_gauss", 220, 0.0, 0.95), ("reg_gauss", 260, 0.1, 1.3), ("reg_gauss", 300, 0.05, 1.6),
                                          ("reg_line", 240, 0.0, 0.95), ("reg_line", 260, 0.1, 1.3), ("reg_line", 300, 0.2, 1.5),
                                          ("reg_sine", 240, 0.05, 0.95), ("reg_sine", 260, 0.1, 1.2), ("reg_sine", 300, 0.0, 1.5)]):
    osc(f"ho5_osc_{ds.replace('_', '')}_fb{i}", D(ds, n, noise), next(_seed5), "test", frac)
    H6.append(S.pop())

# exploding (10): deep nets with N(0, 1) weights
for i, (ds, h) in enumerate([("reg_plane", [(16, "relu")] * 5), ("reg_sine", [(16, "relu")] * 6),
                             ("reg_gauss", [(12, "relu")] * 5), ("reg_line", [(20, "relu")] * 5),
                             ("reg_plane", [(16, "linear")] * 4), ("reg_sine", [(12, "linear")] * 5),
                             ("reg_gauss", [(16, "linear")] * 4), ("reg_line", [(12, "linear")] * 6),
                             ("reg_plane", [(24, "relu")] * 6), ("reg_gauss", [(20, "linear")] * 5)]):
    ho5(f"explode_{ds.replace('_', '')}_{h[0][1]}{len(h)}x{h[0][0]}",
        c(D(ds, (250, 300)[i % 2]), h, opt=SGD(0.01), epochs=10, init={"init": "normal", "init_scale": 1.0},
          seed=next(_seed5), **REG),
        ["exploding_gradients", "bad_init_loss", "nan_or_inf", "diverging", "lr_too_high"],
        f"N(0,1) weights in {len(h)} hidden layers multiply the signal at every layer")

# vanishing (12): deep sigmoid stacks
for i, (ds, h, opt) in enumerate([("circle", [(8, "sigmoid")] * 6, SGD(0.1)), ("moons", [(10, "sigmoid")] * 7, SGD(0.05)),
                                  ("xor", [(8, "sigmoid")] * 7, SGD(0.1, 0.5)), ("spiral", [(12, "sigmoid")] * 6, SGD(0.1)),
                                  ("gaussian", [(6, "sigmoid")] * 8, SGD(0.05)), ("linear", [(8, "sigmoid")] * 6, SGD(0.1, 0.5)),
                                  ("circle", [(12, "sigmoid")] * 7, SGD(0.05, 0.5)), ("moons", [(8, "sigmoid")] * 8, SGD(0.1)),
                                  ("xor", [(10, "sigmoid")] * 6, SGD(0.05)), ("spiral", [(8, "sigmoid")] * 7, SGD(0.05, 0.5)),
                                  ("gaussian", [(12, "sigmoid")] * 6, SGD(0.1)), ("circle", [(6, "sigmoid")] * 8, SGD(0.1))]):
    ho5(f"vanish_sigmoid{len(h)}_{ds}_{i}", c(D(ds, (300, 350)[i % 2], 0.1 if ds == "moons" else 0.0), h, opt=opt,
        epochs=20, seed=next(_seed5), precision=F32 if i % 4 == 3 else None), ["vanishing_gradients"],
        f"{len(h)} sigmoid layers: each multiplies the gradient by at most 0.25")

# dead ReLU units (16): a large negative bias switches every unit off on every input
for i, (ds, h, bias, kw) in enumerate([(ds, h, bias, REG if ds.startswith("reg") else {})
                                       for ds, h in (("circle", [(16, "relu")]), ("spiral", [(12, "relu")]),
                                                     ("xor", [(16, "relu"), (8, "relu")]), ("gaussian", [(12, "relu")]),
                                                     ("moons", [(16, "relu")]), ("reg_sine", [(16, "relu")]),
                                                     ("reg_plane", [(12, "relu"), (12, "relu")]), ("reg_gauss", [(16, "relu")]))
                                       for bias in (-8.0, -10.0)]):
    ho5(f"dead_relu_bias{-bias:g}_{ds.replace('_', '')}_{len(h)}", c(D(ds, (300, 350)[i % 2], 0.1 if ds == "moons" else 0.0),
        h, opt=(ADAM(0.01), SGD(0.05, 0.9))[i % 2], epochs=20, init={"init": "he", "bias_init": bias}, seed=next(_seed5), **kw),
        ["dead_units", "bad_init_loss"], f"bias {bias:g}: every ReLU is off on every input (and the output starts far off)")

# saturated tanh / sigmoid units (16)
for i, (ds, scale, h, opt) in enumerate([("circle", 50.0, [(8, "tanh")], SGD(0.01, 0.9)), ("spiral", 80.0, [(12, "tanh")], SGD(0.02)),
                                         ("xor", 60.0, [(8, "tanh")], SGD(0.01, 0.9)), ("moons", 70.0, [(16, "tanh")], SGD(0.02)),
                                         ("circle", 100.0, [(12, "sigmoid")], SGD(0.03)), ("moons", 50.0, [(8, "sigmoid")], SGD(0.03)),
                                         ("spiral", 40.0, [(16, "tanh")], SGD(0.01, 0.9)), ("xor", 90.0, [(12, "tanh")], SGD(0.02))]):
    ho5(f"sat_{h[0][1]}_x{scale:g}_{ds}", c(D(ds, 300, 0.1 if ds == "moons" else 0.0, scale=scale), h, opt=opt, epochs=20,
        seed=next(_seed5)), ["saturated_units", "unscaled_features"], f"inputs x{scale:g} drive every unit to |z| >> 5")
for i, (ds, init, h) in enumerate([("moons", {"bias_init": 8.0}, [(8, "tanh")]), ("xor", {"bias_init": -9.0}, [(12, "tanh")]),
                                   ("spiral", {"bias_init": 8.0}, [(16, "tanh")]), ("circle", {"bias_init": -8.0}, [(8, "tanh")]),
                                   ("circle", {"init": "normal", "init_scale": 5.0}, [(8, "tanh")]),
                                   ("xor", {"init": "normal", "init_scale": 6.0}, [(12, "tanh")]),
                                   ("moons", {"init": "normal", "init_scale": 5.0}, [(16, "tanh")]),
                                   ("gaussian", {"bias_init": 9.0}, [(8, "tanh")])]):
    ho5(f"sat_tanh_init{i}_{ds}", c(D(ds, 300, 0.1 if ds == "moons" else 0.0), h, opt=SGD(0.01), epochs=20, init=init,
        seed=next(_seed5)), ["saturated_units", "bad_init_loss"],
        "a huge bias or N(0, 25+) weights pin tanh units at -1 or +1 and the output starts far off")

# symmetric initialization (14)
for i, (ds, h, opt, init) in enumerate([(ds, h, opt, init)
                                        for (ds, h, opt) in (("circle", [(8, "tanh")], SGD(0.03, 0.9)), ("moons", [(8, "sigmoid")], ADAM(0.01)),
                                                             ("xor", [(8, "relu")], ADAM(0.01)), ("spiral", [(8, "tanh"), (8, "tanh")], ADAM(0.01)),
                                                             ("gaussian", [(8, "elu")], ADAM(0.01)), ("reg_sine", [(16, "tanh")], ADAM(0.01)),
                                                             ("circle", [(12, "sigmoid"), (12, "sigmoid")], SGD(0.05, 0.9)))
                                        for init in ({"init": "zeros"}, {"init": "constant", "init_scale": 0.1})]):
    ho5(f"sym_{init['init']}_{h[0][1]}{len(h)}_{ds.replace('_', '')}_{i}",
        c(D(ds, 300, 0.1 if ds == "moons" else (0.05 if ds == "reg_sine" else 0.0)), h, opt=opt, epochs=20, init=init,
          seed=next(_seed5), **(REG if ds.startswith("reg") else {})), ["symmetric_init"],
        "identical units get identical gradients and stay identical")

# bad loss at initialization (14)
for i, (ds, h, opt, init, kw) in enumerate([
        ("moons", [(16, "relu")], ADAM(0.01), {"init": "normal", "init_scale": 3.0}, {}),
        ("xor", [(16, "relu")], ADAM(0.01), {"init": "normal", "init_scale": 4.0}, {}),
        ("gaussian", [(12, "relu")], ADAM(0.01), {"init": "normal", "init_scale": 3.5}, {}),
        ("circle", [(16, "relu")], ADAM(0.01), {"init": "normal", "init_scale": 4.0}, {}),
        ("spiral", [(16, "relu")], ADAM(0.01), {"init": "normal", "init_scale": 4.0}, {}),
        ("moons", [(24, "relu")], ADAM(0.005), {"init": "normal", "init_scale": 3.0}, {"precision": F32}),
        ("reg_line", [], SGD(0.01, 0.5), {"bias_init": 15.0}, REG),
        ("reg_plane", [], ADAM(0.05), {"bias_init": 20.0}, REG),
        ("reg_line", [], ADAM(0.05), {"bias_init": -18.0}, REG),
        ("reg_plane", [], SGD(0.01, 0.5), {"bias_init": -15.0}, REG),
        ("linear", [], ADAM(0.05), {"bias_init": 9.0}, {}),
        ("gaussian", [], ADAM(0.05), {"bias_init": -9.0}, {}),
        ("linear", [], SGD(0.05, 0.9), {"bias_init": -10.0}, {}),
        ("gaussian", [], ADAM(0.05), {"bias_init": 10.0}, {"precision": F32})]):
    ho5(f"badinit_{ds.replace('_', '')}_{i}", c(D(ds, 300, 0.1 if ds in ("moons", "reg_line", "reg_plane") else 0.0), h, opt=opt,
        epochs=30, init=init, seed=next(_seed5), **kw), ["bad_init_loss"],
        "the first predictions are far from the targets: the initial loss is many times the expected one")

# plateau (16): one hidden layer from weights of 0.001 sits at the saddle point
for i, (ds, h, opt, init) in enumerate([(ds, h, opt, init)
                                        for ds in ("xor", "circle", "moons", "spiral")
                                        for h, opt, init in (([(8, "tanh")], SGD(0.01), {}), ([(8, "sigmoid")], SGD(0.02), {}),
                                                             ([(12, "tanh")], SGD(0.01, 0.5), {}), ([(8, "relu")], SGD(0.01), HE))]):
    ho5(f"plateau_small_init_{ds}_{h[0][1]}{h[0][0]}_{i}", c(D(ds, (300, 350)[i % 2], 0.1 if ds == "moons" else 0.0), h, opt=opt,
        epochs=40, init={**init, "init_scale": 0.001}, seed=next(_seed5)), ["plateau"],
        "weights of 0.001: one hidden layer sits at the saddle point, the loss at the input-free level")

# not converged (16): cut short while still learning at a modest rate
for i, (ds, h, opt, ep, kw) in enumerate([
        ("circle", [(8, "tanh")], ADAM(0.003), 6, {}), ("moons", [(8, "tanh")], ADAM(0.003), 6, {}),
        ("xor", [(8, "tanh")], ADAM(0.003), 6, {}), ("spiral", [(16, "tanh")], ADAM(0.003), 6, {}),
        ("circle", [(12, "tanh")], ADAM(0.002), 8, {"precision": F32}), ("moons", [(12, "tanh")], ADAM(0.002), 8, {"precision": F32}),
        ("xor", [(16, "relu")], ADAM(0.002), 5, {"init": HE}), ("circle", [(16, "relu")], ADAM(0.002), 5, {"init": HE}),
        ("reg_sine", [(16, "tanh")], ADAM(0.005), 8, REG), ("reg_sine", [(24, "tanh")], ADAM(0.004), 6, REG),
        ("reg_gauss", [(16, "tanh")], ADAM(0.005), 8, REG), ("reg_gauss", [(24, "tanh")], ADAM(0.004), 6, REG),
        ("reg_sine", [(16, "tanh")], ADAM(0.005), 8, {**REG, "precision": F32}),
        ("reg_gauss", [(16, "relu")], ADAM(0.004), 6, {**REG, "init": HE}),
        ("digits", [(32, "relu")], ADAM(0.0005), 3, {"output": "softmax", "loss": "cross_entropy", "init": HE}),
        ("digits", [(32, "tanh")], ADAM(0.0005), 3, {"output": "softmax", "loss": "cross_entropy"})]):
    ho5(f"nc_{ds.replace('_', '')}_{h[0][1]}{h[0][0]}_{i}", c(D(ds, (300, 350)[i % 2] if ds != "digits" else 500,
        0.1 if ds in ("moons", "reg_sine") else 0.0), h, opt=opt, epochs=ep, seed=next(_seed5), **kw), ["not_converged"],
        f"{ep} epochs at a modest rate: the loss is still falling when training stops")

# overfitting (12): a few noisy points and thousands of weights, 400 epochs
for i, (ds, n, noise, h) in enumerate([(ds, n, noise, h)
                                       for ds, noise in (("circle", 0.5), ("spiral", 0.3), ("moons", 0.45), ("xor", 0.5))
                                       for n, h in ((60, [(64, "relu"), (64, "relu")]), (80, [(48, "relu")] * 3),
                                                    (70, [(96, "relu"), (32, "relu")]))]):
    ho5(f"overfit_small_{ds}_{n}_{len(h)}", c(D(ds, n, noise, test_fraction=0.5), h, seed=next(_seed5), **OF), ["overfitting"],
        f"{n // 2} noisy training points and thousands of weights")

# underfitting (14): too few units (or none) for the data
for i, (ds, h, kw) in enumerate([("spiral", [(2, "tanh")], {}), ("spiral", [(3, "relu")], {"init": HE}),
                                 ("spiral", [(2, "sigmoid")], {}), ("circle", [(1, "tanh")], {}),
                                 ("circle", [(1, "relu")], {"init": HE}), ("xor", [(1, "tanh")], {}),
                                 ("xor", [(1, "sigmoid")], {}), ("moons", [(1, "tanh")], {}),
                                 ("reg_sine", [], REG), ("reg_gauss", [], REG),
                                 ("reg_sine", [(1, "relu")], {**REG, "init": HE}), ("reg_sine", [(1, "tanh")], REG),
                                 ("reg_gauss", [(1, "tanh")], REG), ("spiral", [(2, "tanh")], {"precision": F32})]):
    ho5(f"underfit_{ds.replace('_', '')}_{len(h) and h[0][0]}{len(h) and h[0][1] or 'linear'}_{i}",
        c(D(ds, (300, 350)[i % 2], 0.05 if ds == "reg_sine" else (0.1 if ds == "moons" else 0.0)), h, opt=ADAM(0.02), epochs=60,
          seed=next(_seed5), **kw), ["underfitting"], "too few units (or none) for this data: the loss stops falling far above zero")

# not linearly separable (14): linear models on curved classes
for i, (ds, kw) in enumerate([(ds, kw) for ds in ("xor", "circle", "spiral")
                              for kw in ({"opt": ADAM(0.02)}, {"opt": SGD(0.03, 0.9)},
                                         {"output": "linear", "loss": "hinge", "opt": SGD(0.01)},
                                         {"output": "step", "loss": "perceptron", "opt": SGD(0.1), "batch": 1})]
                             + [("xor_gate", {"output": "step", "loss": "perceptron", "opt": SGD(0.3), "batch": 1, "epochs": 30}),
                                ("xor_gate", {"output": "step", "loss": "perceptron", "opt": SGD(1.0), "batch": 1, "epochs": 30})]):
    kw = {"epochs": 20, **kw}
    n = 4 if ds == "xor_gate" else (150 if kw.get("loss") == "perceptron" else 300)
    ho5(f"nls_{ds.replace('_', '')}_{kw.get('loss', 'bce')}_{i}", c(D(ds, n), seed=next(_seed5), **kw), ["not_linearly_separable"],
        "no line separates these classes: a linear model cannot fit them")

# unscaled features (14)
for i, (ds, scale, h, opt, kw) in enumerate([
        ("gaussian", 200.0, [], ADAM(0.05), {}), ("linear", 150.0, [], ADAM(0.05), {}),
        ("gaussian", 100.0, [], ADAM(0.02), {}), ("linear", 300.0, [], ADAM(0.05), {"precision": F32}),
        ("reg_plane", 50.0, [], ADAM(0.05), REG), ("reg_gauss", 40.0, [], ADAM(0.05), REG),
        ("reg_line", 60.0, [], ADAM(0.05), REG), ("reg_plane", 100.0, [], ADAM(0.05), REG),
        ("reg_line", 0.005, [], ADAM(0.05), REG), ("reg_plane", 0.003, [], ADAM(0.05), REG),
        ("gaussian", 0.001, [], SGD(0.03, 0.9), {}), ("linear", 0.002, [], SGD(0.03, 0.9), {}),
        ("reg_sine", 0.002, [(16, "relu")], ADAM(0.01), {**REG, "init": HE}),
        ("gaussian", 0.003, [(8, "relu")], ADAM(0.01), {"init": HE})]):
    ho5(f"unscaled_{ds.replace('_', '')}_x{scale:g}_{i}", c(D(ds, 300, 0.1 if ds.startswith("reg") else 0.0, scale=scale), h, opt=opt,
        epochs=30, seed=next(_seed5), **kw), ["unscaled_features"], f"inputs multiplied by {scale:g}: feature spreads far from 1")

# irrelevant features (14): pure-noise columns next to the real ones
for i, (ds, nf, h, opt, ep, kw) in enumerate([
        ("gaussian", 3, [], ADAM(0.05), 30, {}), ("gaussian", 5, [(8, "tanh")], ADAM(0.01), 30, {}),
        ("linear", 4, [], ADAM(0.05), 30, {}), ("linear", 2, [(8, "tanh")], ADAM(0.01), 30, {}),
        ("circle", 3, [(16, "tanh")], ADAM(0.01), 40, {}), ("circle", 4, [(16, "relu")], ADAM(0.01), 40, {"init": HE}),
        ("moons", 3, [(16, "tanh")], ADAM(0.01), 40, {}), ("moons", 5, [(16, "relu")], ADAM(0.01), 40, {"init": HE}),
        ("xor", 2, [(16, "tanh")], ADAM(0.01), 40, {}), ("xor", 4, [(16, "tanh")], ADAM(0.01), 40, {"precision": F32}),
        ("reg_plane", 3, [], ADAM(0.05), 40, REG), ("reg_line", 4, [], ADAM(0.02), 40, REG),
        ("reg_plane", 5, [], ADAM(0.05), 40, {**REG, "precision": F32}),
        ("reg_sine", 3, [(16, "tanh")], ADAM(0.01), 80, REG)]):
    ho5(f"irr_{ds.replace('_', '')}_noise{nf}_{len(h)}_{i}", c(D(ds, 350, 0.05 if ds.startswith("reg") else (0.1 if ds == "moons" else 0.0),
        noise_features=nf), h, opt=opt, epochs=ep, seed=next(_seed5), **kw), ["irrelevant_features"],
        f"{nf} pure-noise input columns carry nothing about the target")

# output / loss mismatch (14)
for i, (ds, h, out, loss) in enumerate([
        ("gaussian", [(8, "tanh")], "softmax", "bce"), ("moons", [], "softmax", "bce"),
        ("circle", [(8, "tanh")], "linear", "bce"), ("xor", [(8, "relu")], "linear", "bce"),
        ("spiral", [(8, "tanh")], "linear", "cross_entropy"), ("gaussian", [], "linear", "cross_entropy"),
        ("digits", [(16, "relu")], "sigmoid", "cross_entropy"), ("digits", [(16, "tanh")], "linear", "cross_entropy"),
        ("reg_line", [], "sigmoid", "mse"), ("reg_plane", [(8, "tanh")], "sigmoid", "mse"),
        ("reg_sine", [(16, "tanh")], "softmax", "mse"), ("reg_gauss", [], "softmax", "mse"),
        ("reg_plane", [], "sigmoid", "bce"), ("reg_sine", [], "sigmoid", "mse")]):
    ho5(f"mismatch_{ds.replace('_', '')}_{out}_{loss}_{i}", c(D(ds, 300, 0.1 if ds in ("moons", "reg_line", "reg_sine") else 0.0), h,
        output=out, loss=loss, opt=ADAM(0.02), epochs=20, seed=next(_seed5)), ["output_loss_mismatch"],
        f"a {out} output with the {loss} loss on this task")

# Scored once (14:19 UTC 2026-11-26, rules of commit afa73f2): test split (ho3 + ho5, 353
# scenarios) precision 0.934, recall 0.958, healthy quiet 63 of 63, median delay 12 steps;
# recall below 0.9: oscillating_loss 0.82, underfitting 0.82. (The template block above was
# drafted while the round-2 rule changes were being made; nothing in it was run before its
# commit 51fb215, made after the rules were frozen.) Two labels were plainly wrong, for
# reasons stated from the config alone; corrected afterwards, each with its reason:
RELABEL5 = {
    "ho5_mismatch_moons_softmax_bce_1": ("not_linearly_separable",
        "no hidden layer on moons: a linear model cannot separate the moons (the corpus "
        "labels every linear model on moons so, e.g. ho4_nls_moons_logistic)"),
    "ho5_sym_zeros_relu1_xor_4": ("dead_units",
        "zero weights and zero biases make every ReLU output exactly 0 on every input, "
        "with zero gradient: dead by the rule's definition from step 0"),
}
for name, d in H6:
    if name in RELABEL5:
        code, reason = RELABEL5[name]
        d["expect"] = sorted(d["expect"] + [code])
        d["why"] += f". Relabelled after its one scored run (added {code}): {reason}"

# Issue 4, round 3: ho5 was scored once (figures above, raw results in
# ho5_scored_once.json); its failures and the seed-fragile scenarios were then studied
# and the rules changed on them (see rules.py, "Issue 4, round 3"): ho5 joins the tune
# split.
for name, d in H6:
    d["split"] = "tune"

# ======================= sixth held-out test set ===========================================
# Issue 4, round 3: with ho5 in the tune split (656 scenarios), the test split (ho3_ +
# ho6_) must again be at least half of the corpus: ho6_ has 620 scenarios. Written while
# the round-3 rule changes were being made, generated from templates (one per finding
# code, and healthy runs) crossed with data sets, sizes, seeds, architectures, optimizers
# and precisions drawn by a fixed random generator; labelled a priori from each config
# alone (the failure the template forces, and the findings that necessarily come with it,
# with the conventions of the sets above); committed before it was first run; scored
# once by benchmarks/eval_diagnostics.py; never tuned on.
import random
H7 = []
_rng6 = random.Random(6)
_seed6 = iter(range(6000, 9000))
def ho6(name, cfg, expect, why):
    name = f"ho6_{name}_{len(H7)}"
    assert not any(n == name for n, _ in H7), name
    H7.append((name, {"config": cfg, "expect": sorted(expect), "split": "test", "why": why}))
pick = _rng6.choice
CLS2 = ("circle", "moons", "xor", "spiral", "gaussian")
def _noise(ds):
    return 0.1 if ds in ("moons", "reg_line", "reg_plane") else (0.05 if ds == "reg_sine" else 0.0)

# healthy (120): well-posed models at sensible rates
HEALTHY6 = (
    ("gaussian", [], SGD(0.05, 0.9), 20, {}), ("gaussian", [], ADAM(0.05), 20, {}),
    ("linear", [], ADAM(0.05), 30, {}), ("linear", [], SGD(0.05, 0.9), 30, {}),
    ("gaussian", [(4, "tanh")], SGD(0.05, 0.9), 20, {}), ("gaussian", [(8, "tanh")], ADAM(0.01), 20, {}),
    ("moons", [(16, "tanh")], ADAM(0.02), 60, {}), ("moons", [(16, "relu")], ADAM(0.01), 40, {"init": HE}),
    ("circle", [(8, "tanh")], ADAM(0.02), 50, {}), ("circle", [(16, "relu")], ADAM(0.01), 50, {"init": HE}),
    ("circle", [(8, "sigmoid")], ADAM(0.02), 50, {}), ("xor", [(8, "tanh")], ADAM(0.03), 40, {}),
    ("xor", [(16, "relu")], ADAM(0.01), 40, {"init": HE}), ("moons", [(12, "leaky_relu")], RMS(0.005), 60, {"init": HE}),
    ("circle", [(8, "elu")], {"name": "sgd", "lr": 0.01, "momentum": 0.9, "nesterov": True}, 40, {"init": HE}),
    ("gaussian", [(8, "tanh")], {"name": "adagrad", "lr": 0.1}, 20, {}),
    ("reg_line", [], ADAM(0.05), 40, REG), ("reg_line", [], SGD(0.01, 0.5), 30, REG),
    ("reg_plane", [], ADAM(0.05), 40, REG), ("reg_plane", [], {"name": "normal_equations"}, 3, REG),
    ("reg_sine", [(16, "tanh")], ADAM(0.02), 150, REG),
    ("digits", [(32, "relu")], ADAM(0.005), 25, {"output": "softmax", "loss": "cross_entropy", "init": HE}),
    ("linear", [], SGD(0.01), 30, {"output": "linear", "loss": "hinge"}),
    ("linear", [], SGD(0.1), 20, {"output": "step", "loss": "perceptron", "batch": 1}),
    ("and_gate", [], SGD(0.1), 30, {"output": "step", "loss": "perceptron", "batch": 1}),
    ("or_gate", [], SGD(0.2), 30, {"output": "step", "loss": "perceptron", "batch": 1}),
    ("moons", [(16, "tanh"), (16, "tanh")], ADAM(0.01), 50, {}),
    ("circle", [(16, "relu"), (16, "relu")], ADAM(0.01), 40, {"init": HE}),
    ("spiral", [(32, "relu"), (32, "relu")], ADAM(0.01), 150, {"init": HE}))
for i in range(120):
    ds, h, opt, ep, kw = HEALTHY6[i % len(HEALTHY6)]
    kw = dict(kw)
    n = 4 if ds.endswith("_gate") else (500 if ds == "digits" else pick((200, 250, 300, 350, 400)))
    if i >= len(HEALTHY6) and h and ep <= 60 and i % 2:
        kw["precision"] = F32
    ho6(f"healthy_{ds.replace('_', '')}_{len(h)}{h[0][1] if h else 'linear'}_{opt['name']}",
        c(D(ds, n, _noise(ds)), h, opt=opt, epochs=ep, seed=next(_seed6), **kw), [],
        "a well-posed model at a sensible rate" + (" (float32)" if "precision" in kw else ""))

# nan / diverging (28): linear least squares by SGD far above 2/L
for i in range(28):
    ds = ("reg_line", "reg_plane", "reg_sine", "reg_gauss")[i % 4]
    lr, mom = pick(((0.8, 0.0), (1.0, 0.0), (1.5, 0.0), (2.0, 0.0), (0.3, 0.9), (0.5, 0.9), (0.4, 0.8)))
    ho6(f"nan_{ds.replace('_', '')}_lr{lr:g}_m{mom:g}",
        c(D(ds, pick((200, 250, 300)), 0.1), opt=SGD(lr, mom), epochs=20, batch=pick((10, 20)), seed=next(_seed6),
          precision=F32 if i % 5 == 4 else None, **REG), DIV,
        f"a linear fit by SGD at lr {lr:g}, momentum {mom:g}: the step is far above 2/L, the loss grows to Inf")

# learning rate far too high in tanh classifiers (24)
for i in range(24):
    ds = ("circle", "moons", "xor", "spiral")[i % 4]
    opt = pick((ADAM(2.0), ADAM(3.0), RMS(1.5), RMS(2.0), ADAM(1.5)))
    ho6(f"lrhigh_{ds}_{opt['name']}{opt['lr']:g}",
        c(D(ds, pick((300, 350, 400)), _noise(ds)), [(pick((8, 12, 16)), "tanh")], opt=opt, epochs=30, seed=next(_seed6)),
        LRH, "a rate 100x too large: tanh units pinned at +-1, the loss jumps up and down")

# learning rate too low (32)
LOW6 = (("circle", [(8, "tanh")], SGD(1e-6), {}), ("moons", [(8, "tanh")], ADAM(1e-7), {}),
        ("xor", [(12, "tanh")], SGD(1e-6, 0.9), {}), ("spiral", [(16, "relu")], SGD(1e-6), {"init": HE}),
        ("gaussian", [(8, "sigmoid")], ADAM(1e-7), {}), ("moons", [(16, "relu")], RMS(1e-7), {"init": HE}),
        ("circle", [(8, "tanh"), (8, "tanh")], ADAM(1e-7), {}), ("xor", [(8, "elu")], SGD(1e-6), {"init": HE}),
        ("reg_sine", [(16, "tanh")], SGD(1e-6), REG), ("reg_gauss", [(16, "tanh")], ADAM(1e-7), REG),
        ("reg_plane", [(8, "tanh")], SGD(1e-6, 0.9), REG), ("reg_sine", [(16, "relu")], RMS(1e-7), {**REG, "init": HE}),
        ("spiral", [(12, "tanh")], ADAM(1e-7), {}), ("circle", [(16, "relu")], SGD(1e-6, 0.5), {"init": HE}),
        ("reg_gauss", [(12, "tanh")], SGD(1e-6), REG), ("moons", [(12, "sigmoid")], SGD(1e-6, 0.5), {}))
for i in range(32):
    ds, h, opt, kw = LOW6[i % len(LOW6)]
    kw = dict(kw, precision=F32) if i >= len(LOW6) and i % 3 == 0 else kw
    ho6(f"lrlow_{ds.replace('_', '')}_{h[0][1]}{len(h)}_{opt['name']}",
        c(D(ds, pick((250, 300, 350)), _noise(ds)), h, opt=opt, epochs=10, seed=next(_seed6), **kw), ["lr_too_low"],
        f"{opt['name']} at lr {opt['lr']:g}: the weights barely move")

# oscillating (24): full-batch heavy-ball momentum above the stable rate
for i in range(24):
    ds = ("reg_plane", "reg_gauss", "reg_line", "reg_sine")[i % 4]
    frac = pick((0.95, 1.1, 1.2, 1.3, 1.5))
    osc(f"ho6_osc_{ds.replace('_', '')}_fb{i}", D(ds, pick((200, 240, 280, 320)), pick((0.0, 0.05, 0.1))), next(_seed6),
        "test", frac)
    H7.append(S.pop())

# exploding (20): deep nets with N(0, 1) weights
for i in range(20):
    ds = ("reg_plane", "reg_sine", "reg_gauss", "reg_line")[i % 4]
    h = [(pick((12, 16, 20, 24)), ("relu", "linear")[i % 2])] * pick((4, 5, 6))
    ho6(f"explode_{ds.replace('_', '')}_{h[0][1]}{len(h)}x{h[0][0]}",
        c(D(ds, pick((250, 300))), h, opt=SGD(0.01), epochs=10, init={"init": "normal", "init_scale": 1.0},
          seed=next(_seed6), **REG),
        ["exploding_gradients", "bad_init_loss", "nan_or_inf", "diverging", "lr_too_high"],
        f"N(0,1) weights in {len(h)} hidden layers multiply the signal at every layer")

# vanishing (28): deep sigmoid stacks
for i in range(28):
    ds = ("circle", "moons", "xor", "spiral", "gaussian", "linear")[i % 6]
    h = [(pick((6, 8, 10, 12)), "sigmoid")] * pick((6, 7, 8))
    ho6(f"vanish_sigmoid{len(h)}_{ds}", c(D(ds, pick((300, 350)), _noise(ds)), h,
        opt=pick((SGD(0.1), SGD(0.05), SGD(0.1, 0.5), SGD(0.05, 0.5))), epochs=20, seed=next(_seed6),
        precision=F32 if i % 4 == 3 else None), ["vanishing_gradients"],
        f"{len(h)} sigmoid layers: each multiplies the gradient by at most 0.25")

# dead ReLU units (28): a large negative bias switches every unit off on every input
DEADH = (("circle", [(16, "relu")]), ("spiral", [(12, "relu")]), ("xor", [(16, "relu"), (8, "relu")]),
         ("gaussian", [(12, "relu")]), ("moons", [(16, "relu")]), ("reg_sine", [(16, "relu")]),
         ("reg_plane", [(12, "relu"), (12, "relu")]))
for i in range(28):
    ds, h = DEADH[i % len(DEADH)]
    bias = pick((-8.0, -10.0, -12.0))
    ho6(f"dead_relu_bias{-bias:g}_{ds.replace('_', '')}_{len(h)}", c(D(ds, pick((300, 350)), _noise(ds)), h,
        opt=pick((ADAM(0.01), SGD(0.05, 0.9), ADAM(0.005))), epochs=20, init={"init": "he", "bias_init": bias},
        seed=next(_seed6), **(REG if ds.startswith("reg") else {})),
        ["dead_units", "bad_init_loss"], f"bias {bias:g}: every ReLU is off on every input (and the output starts far off)")

# saturated tanh / sigmoid units (28)
for i in range(14):
    ds = ("circle", "spiral", "xor", "moons")[i % 4]
    scale = pick((50.0, 60.0, 80.0, 100.0))
    h = [(pick((8, 12, 16)), pick(("tanh", "tanh", "sigmoid")))]
    ho6(f"sat_{h[0][1]}_x{scale:g}_{ds}", c(D(ds, 300, _noise(ds), scale=scale), h,
        opt=pick((SGD(0.01, 0.9), SGD(0.02), SGD(0.03))), epochs=20, seed=next(_seed6)),
        ["saturated_units", "unscaled_features"], f"inputs x{scale:g} drive every unit to |z| >> 5")
for i in range(14):
    ds = ("moons", "xor", "spiral", "circle", "gaussian")[i % 5]
    init = pick(({"bias_init": 9.0}, {"bias_init": -9.0}, {"bias_init": 10.0}, {"init": "normal", "init_scale": 6.0}))
    ho6(f"sat_tanh_init_{ds}", c(D(ds, 300, _noise(ds)), [(pick((8, 12, 16)), "tanh")], opt=SGD(0.01), epochs=20,
        init=init, seed=next(_seed6)), ["saturated_units", "bad_init_loss"],
        "a huge bias or N(0, 36) weights pin tanh units at -1 or +1 and the output starts far off")

# symmetric initialization (28)
SYM6 = (("circle", [(8, "tanh")], SGD(0.03, 0.9)), ("moons", [(8, "sigmoid")], ADAM(0.01)),
        ("xor", [(12, "tanh")], ADAM(0.01)), ("gaussian", [(8, "elu")], ADAM(0.01)),
        ("reg_sine", [(16, "tanh")], ADAM(0.01)), ("spiral", [(16, "sigmoid")], SGD(0.05, 0.9)))
for i in range(28):
    ds, h, opt = SYM6[i % len(SYM6)]
    init = pick(({"init": "zeros"}, {"init": "constant", "init_scale": 0.1}, {"init": "constant", "init_scale": 0.05}))
    ho6(f"sym_{init['init']}_{h[0][1]}_{ds.replace('_', '')}",
        c(D(ds, pick((250, 300)), _noise(ds)), h, opt=opt, epochs=20, init=init, seed=next(_seed6),
          **(REG if ds.startswith("reg") else {})), ["symmetric_init"],
        "identical units get identical gradients and stay identical")

# bad loss at initialization (28)
BAD6 = (("moons", [(16, "relu")], ADAM(0.01), {"init": "normal", "init_scale": 3.0}, {}),
        ("xor", [(16, "relu")], ADAM(0.01), {"init": "normal", "init_scale": 4.0}, {}),
        ("gaussian", [(12, "relu")], ADAM(0.01), {"init": "normal", "init_scale": 3.5}, {}),
        ("circle", [(16, "relu")], ADAM(0.01), {"init": "normal", "init_scale": 4.0}, {}),
        ("spiral", [(16, "relu")], ADAM(0.01), {"init": "normal", "init_scale": 4.0}, {}),
        ("reg_line", [], SGD(0.01, 0.5), {"bias_init": 15.0}, REG),
        ("reg_plane", [], ADAM(0.05), {"bias_init": 20.0}, REG),
        ("reg_line", [], ADAM(0.05), {"bias_init": -18.0}, REG),
        ("linear", [], ADAM(0.05), {"bias_init": 9.0}, {}),
        ("gaussian", [], ADAM(0.05), {"bias_init": -10.0}, {}),
        ("linear", [], SGD(0.05, 0.9), {"bias_init": -10.0}, {}))
for i in range(28):
    ds, h, opt, init, kw = BAD6[i % len(BAD6)]
    kw = dict(kw, precision=F32) if i % 7 == 6 else kw
    ho6(f"badinit_{ds.replace('_', '')}", c(D(ds, pick((250, 300, 350)), _noise(ds)), h, opt=opt, epochs=30, init=init,
        seed=next(_seed6), **kw), ["bad_init_loss"],
        "the first predictions are far from the targets: the initial loss is many times the expected one")

# plateau (28): one hidden layer from weights of 0.001 sits at the saddle point
PLAT6 = (([(8, "tanh")], SGD(0.01), {}), ([(8, "sigmoid")], SGD(0.02), {}), ([(12, "tanh")], SGD(0.01, 0.5), {}),
         ([(8, "relu")], SGD(0.01), HE), ([(16, "tanh")], SGD(0.005), {}))
for i in range(28):
    ds = ("xor", "circle", "moons", "spiral")[i % 4]
    h, opt, init = PLAT6[i % len(PLAT6)]
    ho6(f"plateau_small_init_{ds}_{h[0][1]}{h[0][0]}", c(D(ds, pick((300, 350)), _noise(ds)), h, opt=opt, epochs=40,
        init={**init, "init_scale": 0.001}, seed=next(_seed6)), ["plateau"],
        "weights of 0.001: one hidden layer sits at the saddle point, the loss at the input-free level")

# not converged (32): cut short while still learning at a modest rate
NC6 = (("circle", [(8, "tanh")], ADAM(0.003), 6, {}), ("moons", [(8, "tanh")], ADAM(0.003), 6, {}),
       ("xor", [(8, "tanh")], ADAM(0.003), 6, {}), ("circle", [(12, "tanh")], ADAM(0.002), 8, {}),
       ("xor", [(16, "relu")], ADAM(0.002), 5, {"init": HE}), ("circle", [(16, "relu")], ADAM(0.002), 5, {"init": HE}),
       ("reg_sine", [(16, "tanh")], ADAM(0.005), 8, REG), ("reg_sine", [(24, "tanh")], ADAM(0.004), 6, REG),
       ("reg_gauss", [(16, "tanh")], ADAM(0.005), 8, REG), ("reg_gauss", [(16, "relu")], ADAM(0.004), 6, {**REG, "init": HE}),
       ("digits", [(32, "relu")], ADAM(0.0005), 3, {"output": "softmax", "loss": "cross_entropy", "init": HE}),
       ("digits", [(32, "tanh")], ADAM(0.0005), 3, {"output": "softmax", "loss": "cross_entropy"}))
for i in range(32):
    ds, h, opt, ep, kw = NC6[i % len(NC6)]
    kw = dict(kw, precision=F32) if i >= len(NC6) and i % 2 else kw
    ho6(f"nc_{ds.replace('_', '')}_{h[0][1]}{h[0][0]}", c(D(ds, 500 if ds == "digits" else pick((300, 350)), _noise(ds)),
        h, opt=opt, epochs=ep, seed=next(_seed6), **kw), ["not_converged"],
        f"{ep} epochs at a modest rate: the loss is still falling when training stops")

# overfitting (24): a few noisy points and thousands of weights, 400 epochs
for i in range(24):
    ds, noise = (("circle", 0.5), ("spiral", 0.3), ("moons", 0.45), ("xor", 0.5))[i % 4]
    n, h = pick(((60, [(64, "relu"), (64, "relu")]), (80, [(48, "relu")] * 3), (70, [(96, "relu"), (32, "relu")]),
                 (60, [(128, "relu")] * 2)))
    ho6(f"overfit_small_{ds}_{n}_{len(h)}", c(D(ds, n, noise, test_fraction=0.5), h, seed=next(_seed6), **OF), ["overfitting"],
        f"{n // 2} noisy training points and thousands of weights")

# underfitting (32): too few units (or none) for the data
UF6 = (("spiral", [(2, "tanh")], {}), ("spiral", [(3, "relu")], {"init": HE}), ("spiral", [(2, "sigmoid")], {}),
       ("circle", [(1, "tanh")], {}), ("circle", [(1, "relu")], {"init": HE}), ("xor", [(1, "tanh")], {}),
       ("xor", [(1, "sigmoid")], {}), ("reg_sine", [], REG), ("reg_gauss", [], REG),
       ("reg_sine", [(1, "relu")], {**REG, "init": HE}), ("reg_sine", [(1, "tanh")], REG), ("reg_gauss", [(1, "tanh")], REG),
       ("spiral", [(1, "tanh")], {}), ("circle", [(1, "sigmoid")], {}))
for i in range(32):
    ds, h, kw = UF6[i % len(UF6)]
    kw = dict(kw, precision=F32) if i >= len(UF6) and i % 3 == 0 else kw
    ho6(f"underfit_{ds.replace('_', '')}_{len(h) and h[0][0]}{len(h) and h[0][1] or 'linear'}",
        c(D(ds, pick((300, 350)), _noise(ds)), h, opt=ADAM(0.02), epochs=60, seed=next(_seed6), **kw), ["underfitting"],
        "too few units (or none) for this data: the loss stops falling far above zero")

# not linearly separable (32): linear models on curved classes
for i in range(32):
    ds = ("xor", "circle", "spiral", "xor_gate")[i % 4]
    if ds == "xor_gate":
        kw = {"output": "step", "loss": "perceptron", "opt": SGD(pick((0.1, 0.3, 1.0))), "batch": 1, "epochs": 30}
    else:
        kw = pick(({"opt": ADAM(0.02)}, {"opt": SGD(0.03, 0.9)}, {"output": "linear", "loss": "hinge", "opt": SGD(0.01)},
                   {"output": "step", "loss": "perceptron", "opt": SGD(0.1), "batch": 1}))
    kw = {"epochs": 20, **kw}
    n = 4 if ds == "xor_gate" else (150 if kw.get("loss") == "perceptron" else pick((250, 300)))
    ho6(f"nls_{ds.replace('_', '')}_{kw.get('loss', 'bce')}", c(D(ds, n), seed=next(_seed6), **kw), ["not_linearly_separable"],
        "no line separates these classes: a linear model cannot fit them")

# unscaled features (28)
US6 = (("gaussian", 200.0, [], ADAM(0.05), {}), ("linear", 150.0, [], ADAM(0.05), {}),
       ("reg_plane", 50.0, [], ADAM(0.05), REG), ("reg_gauss", 40.0, [], ADAM(0.05), REG),
       ("reg_line", 60.0, [], ADAM(0.05), REG), ("reg_line", 0.005, [], ADAM(0.05), REG),
       ("reg_plane", 0.003, [], ADAM(0.05), REG), ("gaussian", 0.001, [], SGD(0.03, 0.9), {}),
       ("linear", 0.002, [], SGD(0.03, 0.9), {}), ("gaussian", 0.003, [(8, "relu")], ADAM(0.01), {"init": HE}))
for i in range(28):
    ds, scale, h, opt, kw = US6[i % len(US6)]
    kw = dict(kw, precision=F32) if i >= len(US6) and i % 3 == 0 else kw
    ho6(f"unscaled_{ds.replace('_', '')}_x{scale:g}", c(D(ds, pick((250, 300, 350)), 0.1 if ds.startswith("reg") else 0.0,
        scale=scale), h, opt=opt, epochs=30, seed=next(_seed6), **kw), ["unscaled_features"],
        f"inputs multiplied by {scale:g}: feature spreads far from 1")

# irrelevant features (28): pure-noise columns next to the real ones
IRR6 = (("gaussian", [], ADAM(0.05), 30, {}), ("gaussian", [(8, "tanh")], ADAM(0.01), 30, {}),
        ("linear", [], ADAM(0.05), 30, {}), ("linear", [(8, "tanh")], ADAM(0.01), 30, {}),
        ("circle", [(16, "tanh")], ADAM(0.01), 40, {}), ("moons", [(16, "tanh")], ADAM(0.01), 40, {}),
        ("xor", [(16, "tanh")], ADAM(0.01), 40, {}), ("reg_plane", [], ADAM(0.05), 40, REG),
        ("reg_line", [], ADAM(0.02), 40, REG), ("reg_gauss", [], ADAM(0.05), 40, REG))
for i in range(28):
    ds, h, opt, ep, kw = IRR6[i % len(IRR6)]
    nf = pick((2, 3, 4, 5))
    kw = dict(kw, precision=F32) if i >= len(IRR6) and i % 3 == 0 else kw
    ho6(f"irr_{ds.replace('_', '')}_noise{nf}_{len(h)}", c(D(ds, pick((300, 350, 400)), _noise(ds), noise_features=nf), h,
        opt=opt, epochs=ep, seed=next(_seed6), **kw), ["irrelevant_features"],
        f"{nf} pure-noise input columns carry nothing about the target")

# output / loss mismatch (28)
MM6 = (("gaussian", [(8, "tanh")], "softmax", "bce"), ("circle", [(8, "tanh")], "softmax", "bce"),
       ("circle", [(8, "tanh")], "linear", "bce"), ("xor", [(8, "relu")], "linear", "bce"),
       ("spiral", [(8, "tanh")], "linear", "cross_entropy"), ("gaussian", [], "linear", "cross_entropy"),
       ("digits", [(16, "tanh")], "linear", "cross_entropy"), ("reg_line", [], "sigmoid", "mse"),
       ("reg_plane", [(8, "tanh")], "sigmoid", "mse"), ("reg_sine", [(16, "tanh")], "softmax", "mse"),
       ("reg_gauss", [], "softmax", "mse"), ("reg_plane", [], "sigmoid", "bce"), ("linear", [], "softmax", "bce"))
for i in range(28):
    ds, h, out, loss = MM6[i % len(MM6)]
    ho6(f"mismatch_{ds.replace('_', '')}_{out}_{loss}", c(D(ds, 400 if ds == "digits" else pick((250, 300)), _noise(ds)), h,
        output=out, loss=loss, opt=ADAM(0.02), epochs=20, seed=next(_seed6)), ["output_loss_mismatch"],
        f"a {out} output with the {loss} loss on this task")

# Scored once (14:40 UTC 2026-11-26, rules of commit 16696d8, corpus of commit 5ca1246;
# raw results in ho6_scored_once.json): test split (ho3 + ho6, 665 scenarios) precision
# 0.962, recall 0.966, healthy quiet 125 of 127, median delay 12 steps; recall below 0.9:
# underfitting 0.89 (1 relu unit dead, 1 sigmoid unit still creeping down, 1 tanh unit on
# reg_gauss read as plateau / not converged). No ho6 label was changed.

# Issue 4, round 4: ho6 was scored once (figures above, raw results in
# ho6_scored_once.json); its failures (underfitting) and the seed-fragile codes of the
# tune split were then studied and the rules changed on them (see rules.py, "Issue 4,
# round 4"): ho6 joins the tune split (1,276 scenarios).
for name, d in H7:
    d["split"] = "tune"

# ======================= seventh held-out test set =========================================
# Issue 4, round 4: with ho6 in the tune split (1,276 scenarios), the test split (ho3_ +
# ho7_) must again be at least half of the corpus: ho7_ has 1,300 scenarios. Written while
# the round-4 rule changes were being checked, generated from the templates of ho6 (one
# table per finding code, and healthy runs; a few rows added) crossed with data sets,
# sizes, seeds, architectures, optimizers and precisions drawn by a new fixed random
# generator (seed 7; scenario seeds 10000 on, none of them used before); labelled a priori
# from each config alone, with the conventions of the sets above; committed before it was
# first run; scored once by benchmarks/eval_diagnostics.py; never tuned on.
H8 = []
_rng7 = random.Random(7)
_seed7 = iter(range(10000, 14000))
pick7 = _rng7.choice
def ho7(name, cfg, expect, why):
    name = f"ho7_{name}_{len(H8)}"
    assert not any(n == name for n, _ in H8), name
    H8.append((name, {"config": cfg, "expect": sorted(expect), "split": "test", "why": why}))

# healthy (300)
HEALTHY7 = HEALTHY6 + (
    ("gaussian", [(6, "relu")], ADAM(0.01), 20, {"init": HE}), ("moons", [(16, "elu")], ADAM(0.01), 40, {"init": HE}),
    ("linear", [(4, "tanh")], SGD(0.05, 0.9), 30, {}), ("circle", [(12, "leaky_relu")], ADAM(0.01), 50, {"init": HE}),
    ("xor", [(12, "tanh")], RMS(0.01), 40, {}), ("gaussian", [], RMS(0.02), 20, {}),
    ("digits", [(24, "tanh")], ADAM(0.005), 25, {"output": "softmax", "loss": "cross_entropy"}))
for i in range(300):
    ds, h, opt, ep, kw = HEALTHY7[i % len(HEALTHY7)]
    kw = dict(kw)
    n = 4 if ds.endswith("_gate") else (500 if ds == "digits" else pick7((220, 260, 300, 340, 380)))
    if i >= len(HEALTHY7) and h and ep <= 60 and _rng7.random() < 0.4:
        kw["precision"] = F32
    ho7(f"healthy_{ds.replace('_', '')}_{len(h)}{h[0][1] if h else 'linear'}_{opt['name']}",
        c(D(ds, n, _noise(ds)), h, opt=opt, epochs=ep, seed=next(_seed7), **kw), [],
        "a well-posed model at a sensible rate" + (" (float32)" if "precision" in kw else ""))

# nan / diverging (56): linear least squares by SGD far above 2/L
for i in range(56):
    ds = ("reg_line", "reg_plane", "reg_sine", "reg_gauss")[i % 4]
    lr, mom = pick7(((0.8, 0.0), (1.0, 0.0), (1.5, 0.0), (2.0, 0.0), (0.3, 0.9), (0.5, 0.9), (0.4, 0.8), (1.2, 0.5)))
    ho7(f"nan_{ds.replace('_', '')}_lr{lr:g}_m{mom:g}",
        c(D(ds, pick7((180, 220, 260, 300)), 0.1), opt=SGD(lr, mom), epochs=20, batch=pick7((10, 16, 20)),
          seed=next(_seed7), precision=F32 if _rng7.random() < 0.2 else None, **REG), DIV,
        f"a linear fit by SGD at lr {lr:g}, momentum {mom:g}: the step is far above 2/L, the loss grows to Inf")

# learning rate far too high in tanh classifiers (48)
for i in range(48):
    ds = ("circle", "moons", "xor", "spiral")[i % 4]
    opt = pick7((ADAM(2.0), ADAM(3.0), RMS(1.5), RMS(2.0), ADAM(1.5), RMS(3.0)))
    ho7(f"lrhigh_{ds}_{opt['name']}{opt['lr']:g}",
        c(D(ds, pick7((300, 350, 400)), _noise(ds)), [(pick7((8, 10, 12, 16)), "tanh")], opt=opt, epochs=30,
          seed=next(_seed7)), LRH, "a rate 100x too large: tanh units pinned at +-1, the loss jumps up and down")

# learning rate too low (64)
LOW7 = LOW6 + (("gaussian", [(8, "tanh")], SGD(1e-6, 0.5), {}), ("moons", [(12, "elu")], ADAM(1e-7), {"init": HE}))
for i in range(64):
    ds, h, opt, kw = LOW7[i % len(LOW7)]
    kw = dict(kw, precision=F32) if _rng7.random() < 0.3 else kw
    ho7(f"lrlow_{ds.replace('_', '')}_{h[0][1]}{len(h)}_{opt['name']}",
        c(D(ds, pick7((240, 280, 320, 360)), _noise(ds)), h, opt=opt, epochs=pick7((8, 10, 12)), seed=next(_seed7),
          **kw), ["lr_too_low"], f"{opt['name']} at lr {opt['lr']:g}: the weights barely move")

# oscillating (48): full-batch heavy-ball momentum above the stable rate
for i in range(48):
    ds = ("reg_plane", "reg_gauss", "reg_line", "reg_sine")[i % 4]
    frac = pick7((0.95, 1.05, 1.1, 1.2, 1.3, 1.4, 1.5))
    osc(f"ho7_osc_{ds.replace('_', '')}_fb{i}", D(ds, pick7((200, 230, 260, 290, 320)), pick7((0.0, 0.05, 0.1))),
        next(_seed7), "test", frac)
    H8.append(S.pop())

# exploding (40): deep nets with N(0, 1) weights
for i in range(40):
    ds = ("reg_plane", "reg_sine", "reg_gauss", "reg_line")[i % 4]
    h = [(pick7((12, 16, 20, 24)), ("relu", "linear")[i % 2])] * pick7((4, 5, 6))
    ho7(f"explode_{ds.replace('_', '')}_{h[0][1]}{len(h)}x{h[0][0]}",
        c(D(ds, pick7((250, 300))), h, opt=SGD(0.01), epochs=10, init={"init": "normal", "init_scale": 1.0},
          seed=next(_seed7), **REG),
        ["exploding_gradients", "bad_init_loss", "nan_or_inf", "diverging", "lr_too_high"],
        f"N(0,1) weights in {len(h)} hidden layers multiply the signal at every layer")

# vanishing (56): deep sigmoid stacks
for i in range(56):
    ds = ("circle", "moons", "xor", "spiral", "gaussian", "linear")[i % 6]
    h = [(pick7((6, 8, 10, 12)), "sigmoid")] * pick7((6, 7, 8))
    ho7(f"vanish_sigmoid{len(h)}_{ds}", c(D(ds, pick7((300, 350)), _noise(ds)), h,
        opt=pick7((SGD(0.1), SGD(0.05), SGD(0.1, 0.5), SGD(0.05, 0.5))), epochs=20, seed=next(_seed7),
        precision=F32 if _rng7.random() < 0.25 else None), ["vanishing_gradients"],
        f"{len(h)} sigmoid layers: each multiplies the gradient by at most 0.25")

# dead ReLU units (56): a large negative bias switches every unit off on every input
DEAD7 = DEADH + (("moons", [(12, "relu"), (12, "relu")]), ("circle", [(24, "relu")]))
for i in range(56):
    ds, h = DEAD7[i % len(DEAD7)]
    bias = pick7((-8.0, -10.0, -12.0))
    ho7(f"dead_relu_bias{-bias:g}_{ds.replace('_', '')}_{len(h)}", c(D(ds, pick7((300, 350)), _noise(ds)), h,
        opt=pick7((ADAM(0.01), SGD(0.05, 0.9), ADAM(0.005))), epochs=20, init={"init": "he", "bias_init": bias},
        seed=next(_seed7), **(REG if ds.startswith("reg") else {})),
        ["dead_units", "bad_init_loss"], f"bias {bias:g}: every ReLU is off on every input (and the output starts far off)")

# saturated tanh / sigmoid units (56)
for i in range(28):
    ds = ("circle", "spiral", "xor", "moons")[i % 4]
    scale = pick7((50.0, 60.0, 80.0, 100.0))
    h = [(pick7((8, 12, 16)), pick7(("tanh", "tanh", "sigmoid")))]
    ho7(f"sat_{h[0][1]}_x{scale:g}_{ds}", c(D(ds, 300, _noise(ds), scale=scale), h,
        opt=pick7((SGD(0.01, 0.9), SGD(0.02), SGD(0.03))), epochs=20, seed=next(_seed7)),
        ["saturated_units", "unscaled_features"], f"inputs x{scale:g} drive every unit to |z| >> 5")
for i in range(28):
    ds = ("moons", "xor", "spiral", "circle", "gaussian")[i % 5]
    init = pick7(({"bias_init": 9.0}, {"bias_init": -9.0}, {"bias_init": 10.0}, {"init": "normal", "init_scale": 6.0}))
    ho7(f"sat_tanh_init_{ds}", c(D(ds, 300, _noise(ds)), [(pick7((8, 12, 16)), "tanh")], opt=SGD(0.01), epochs=20,
        init=init, seed=next(_seed7)), ["saturated_units", "bad_init_loss"],
        "a huge bias or N(0, 36) weights pin tanh units at -1 or +1 and the output starts far off")

# symmetric initialization (56)
SYM7 = SYM6 + (("moons", [(12, "tanh")], SGD(0.03, 0.9)), ("circle", [(8, "sigmoid")], ADAM(0.01)))
for i in range(56):
    ds, h, opt = SYM7[i % len(SYM7)]
    init = pick7(({"init": "zeros"}, {"init": "constant", "init_scale": 0.1}, {"init": "constant", "init_scale": 0.05}))
    ho7(f"sym_{init['init']}_{h[0][1]}_{ds.replace('_', '')}",
        c(D(ds, pick7((250, 300)), _noise(ds)), h, opt=opt, epochs=20, init=init, seed=next(_seed7),
          **(REG if ds.startswith("reg") else {})), ["symmetric_init"],
        "identical units get identical gradients and stay identical")

# bad loss at initialization (56)
for i in range(56):
    ds, h, opt, init, kw = BAD6[i % len(BAD6)]
    kw = dict(kw, precision=F32) if _rng7.random() < 0.15 else kw
    ho7(f"badinit_{ds.replace('_', '')}", c(D(ds, pick7((250, 300, 350)), _noise(ds)), h, opt=opt, epochs=30, init=init,
        seed=next(_seed7), **kw), ["bad_init_loss"],
        "the first predictions are far from the targets: the initial loss is many times the expected one")

# plateau (56): one hidden layer from weights of 0.001 sits at the saddle point
for i in range(56):
    ds = ("xor", "circle", "moons", "spiral")[i % 4]
    h, opt, init = PLAT6[i % len(PLAT6)]
    ho7(f"plateau_small_init_{ds}_{h[0][1]}{h[0][0]}", c(D(ds, pick7((300, 350)), _noise(ds)), h, opt=opt, epochs=40,
        init={**init, "init_scale": 0.001}, seed=next(_seed7)), ["plateau"],
        "weights of 0.001: one hidden layer sits at the saddle point, the loss at the input-free level")

# not converged (64): cut short while still learning at a modest rate
for i in range(64):
    ds, h, opt, ep, kw = NC6[i % len(NC6)]
    kw = dict(kw, precision=F32) if _rng7.random() < 0.3 else kw
    ho7(f"nc_{ds.replace('_', '')}_{h[0][1]}{h[0][0]}", c(D(ds, 500 if ds == "digits" else pick7((300, 350)),
        _noise(ds)), h, opt=opt, epochs=ep, seed=next(_seed7), **kw), ["not_converged"],
        f"{ep} epochs at a modest rate: the loss is still falling when training stops")

# overfitting (48): a few noisy points and thousands of weights, 400 epochs
for i in range(48):
    ds, noise = (("circle", 0.5), ("spiral", 0.3), ("moons", 0.45), ("xor", 0.5))[i % 4]
    n, h = pick7(((60, [(64, "relu"), (64, "relu")]), (80, [(48, "relu")] * 3), (70, [(96, "relu"), (32, "relu")]),
                  (60, [(128, "relu")] * 2)))
    ho7(f"overfit_small_{ds}_{n}_{len(h)}", c(D(ds, n, noise, test_fraction=0.5), h, seed=next(_seed7), **OF),
        ["overfitting"], f"{n // 2} noisy training points and thousands of weights")

# underfitting (64): too few units (or none) for the data
for i in range(64):
    ds, h, kw = UF6[i % len(UF6)]
    kw = dict(kw, precision=F32) if _rng7.random() < 0.3 else kw
    ho7(f"underfit_{ds.replace('_', '')}_{len(h) and h[0][0]}{len(h) and h[0][1] or 'linear'}",
        c(D(ds, pick7((280, 320, 360)), _noise(ds)), h, opt=pick7((ADAM(0.02), ADAM(0.03))), epochs=60,
          seed=next(_seed7), **kw), ["underfitting"],
        "too few units (or none) for this data: the loss stops falling far above zero")

# not linearly separable (64): linear models on curved classes
for i in range(64):
    ds = ("xor", "circle", "spiral", "xor_gate")[i % 4]
    if ds == "xor_gate":
        kw = {"output": "step", "loss": "perceptron", "opt": SGD(pick7((0.1, 0.3, 1.0))), "batch": 1, "epochs": 30}
    else:
        kw = pick7(({"opt": ADAM(0.02)}, {"opt": SGD(0.03, 0.9)}, {"output": "linear", "loss": "hinge", "opt": SGD(0.01)},
                    {"output": "step", "loss": "perceptron", "opt": SGD(0.1), "batch": 1}))
    kw = {"epochs": 20, **kw}
    n = 4 if ds == "xor_gate" else (150 if kw.get("loss") == "perceptron" else pick7((250, 300)))
    ho7(f"nls_{ds.replace('_', '')}_{kw.get('loss', 'bce')}", c(D(ds, n), seed=next(_seed7), **kw),
        ["not_linearly_separable"], "no line separates these classes: a linear model cannot fit them")

# unscaled features (56)
for i in range(56):
    ds, scale, h, opt, kw = US6[i % len(US6)]
    kw = dict(kw, precision=F32) if _rng7.random() < 0.25 else kw
    ho7(f"unscaled_{ds.replace('_', '')}_x{scale:g}", c(D(ds, pick7((250, 300, 350)), 0.1 if ds.startswith("reg")
        else 0.0, scale=scale), h, opt=opt, epochs=30, seed=next(_seed7), **kw), ["unscaled_features"],
        f"inputs multiplied by {scale:g}: feature spreads far from 1")

# irrelevant features (56): pure-noise columns next to the real ones
for i in range(56):
    ds, h, opt, ep, kw = IRR6[i % len(IRR6)]
    nf = pick7((2, 3, 4, 5))
    kw = dict(kw, precision=F32) if _rng7.random() < 0.25 else kw
    ho7(f"irr_{ds.replace('_', '')}_noise{nf}_{len(h)}", c(D(ds, pick7((300, 350, 400)), _noise(ds),
        noise_features=nf), h, opt=opt, epochs=ep, seed=next(_seed7), **kw), ["irrelevant_features"],
        f"{nf} pure-noise input columns carry nothing about the target")

# output / loss mismatch (56)
for i in range(56):
    ds, h, out, loss = MM6[i % len(MM6)]
    ho7(f"mismatch_{ds.replace('_', '')}_{out}_{loss}", c(D(ds, 400 if ds == "digits" else pick7((250, 300)),
        _noise(ds)), h, output=out, loss=loss, opt=pick7((ADAM(0.02), ADAM(0.01))), epochs=20, seed=next(_seed7)),
        ["output_loss_mismatch"], f"a {out} output with the {loss} loss on this task")

# Scored once (15:20 UTC 2026-11-26, rules of commit 6e4ff6f, corpus of commit 5abbd23;
# raw results in ho7_scored_once.json): test split (ho3 + ho7, 1,345 scenarios) precision
# 0.967, recall 0.966, healthy quiet 304 of 307, median delay 12 steps; recall below 0.9:
# irrelevant_features 0.88 (reg_gauss with noise columns read as lr_too_high /
# oscillating / underfitting; moons with 5 noise columns read as overfitting); precision
# below 0.9: overfitting 0.89 (lr 3 runs on moons / XOR, a healthy 2-layer ReLU spiral).
# No ho7 label was changed; nothing was tuned on it.

# Issue 4, round 5: ho7 was scored once (figures above, raw results in
# ho7_scored_once.json); its failures (irrelevant_features recall, overfitting
# precision) were then studied and the rules changed on them (see rules.py, "Issue 4,
# round 5"): ho7 joins the tune split too (2,576 scenarios).
for name, d in H8:
    d["split"] = "tune"

# ======================= eighth held-out test set ==========================================
# Issue 4, round 5: with ho7 in the tune split (2,576 scenarios), the test split (ho3_ +
# ho8_) must again be at least half of the corpus: ho8_ has 2,664 scenarios. Written while
# the round-5 rule changes were being checked, generated from the templates of ho7 (twice
# as many of each) plus new rows for irrelevant_features (spiral, circle and XOR ReLU
# nets, tanh regressions of a sine and a plane, digits, leaky ReLU with RMSprop, logistic
# regression by momentum SGD; 1 to 8 noise columns; 250 to 600 samples) and overfitting
# (tanh nets, label noise on the linear set, noisy regressions of the Gaussian bumps and
# the plane; 40 to 100 samples), crossed with data sets, sizes, seeds, architectures,
# optimizers and precisions drawn by a new fixed random generator (seed 8; scenario seeds
# 20000 on, none of them used before); labelled a priori from each config alone, with the
# conventions of the sets above; committed before it was first run; scored once by
# benchmarks/eval_diagnostics.py; never tuned on.
def held_out(tag, rng_seed, first_seed, times=1, nan_epochs=20):
    """One held-out set from the templates of ho8 (``times`` as many of each), drawn by
    ``random.Random(rng_seed)`` with scenario seeds from ``first_seed`` on. ``nan_epochs``:
    the epochs of the linear fits far above 2/L (labelled nan_or_inf)."""
    made = []
    rng = random.Random(rng_seed)
    seeds = iter(range(first_seed, first_seed + 10000 * times))
    pick = rng.choice

    def ho(name, cfg, expect, why):
        name = f"{tag}_{name}_{len(made)}"
        assert not any(n == name for n, _ in made), name
        made.append((name, {"config": cfg, "expect": sorted(expect), "split": "test", "why": why}))


    # healthy (600)
    HEALTHY8 = HEALTHY7                  # the templates of ho7 (above)
    for i in range(600 * times):
        ds, h, opt, ep, kw = HEALTHY8[i % len(HEALTHY8)]
        kw = dict(kw)
        n = 4 if ds.endswith("_gate") else (500 if ds == "digits" else pick((220, 260, 300, 340, 380)))
        if i >= len(HEALTHY8) and h and ep <= 60 and rng.random() < 0.4:
            kw["precision"] = F32
        ho(f"healthy_{ds.replace('_', '')}_{len(h)}{h[0][1] if h else 'linear'}_{opt['name']}",
            c(D(ds, n, _noise(ds)), h, opt=opt, epochs=ep, seed=next(seeds), **kw), [],
            "a well-posed model at a sensible rate" + (" (float32)" if "precision" in kw else ""))

    # nan / diverging (112): linear least squares by SGD far above 2/L
    for i in range(112 * times):
        ds = ("reg_line", "reg_plane", "reg_sine", "reg_gauss")[i % 4]
        lr, mom = pick(((0.8, 0.0), (1.0, 0.0), (1.5, 0.0), (2.0, 0.0), (0.3, 0.9), (0.5, 0.9), (0.4, 0.8), (1.2, 0.5)))
        ho(f"nan_{ds.replace('_', '')}_lr{lr:g}_m{mom:g}",
            c(D(ds, pick((180, 220, 260, 300)), 0.1), opt=SGD(lr, mom), epochs=nan_epochs, batch=pick((10, 16, 20)),
              seed=next(seeds), precision=F32 if rng.random() < 0.2 else None, **REG), DIV,
            f"a linear fit by SGD at lr {lr:g}, momentum {mom:g}: the step is far above 2/L, the loss grows to Inf")

    # learning rate far too high in tanh classifiers (96)
    for i in range(96 * times):
        ds = ("circle", "moons", "xor", "spiral")[i % 4]
        opt = pick((ADAM(2.0), ADAM(3.0), RMS(1.5), RMS(2.0), ADAM(1.5), RMS(3.0)))
        ho(f"lrhigh_{ds}_{opt['name']}{opt['lr']:g}",
            c(D(ds, pick((300, 350, 400)), _noise(ds)), [(pick((8, 10, 12, 16)), "tanh")], opt=opt, epochs=30,
              seed=next(seeds)), LRH, "a rate 100x too large: tanh units pinned at +-1, the loss jumps up and down")

    # learning rate too low (128)
    LOW8 = LOW7
    for i in range(128 * times):
        ds, h, opt, kw = LOW8[i % len(LOW8)]
        kw = dict(kw, precision=F32) if rng.random() < 0.3 else kw
        ho(f"lrlow_{ds.replace('_', '')}_{h[0][1]}{len(h)}_{opt['name']}",
            c(D(ds, pick((240, 280, 320, 360)), _noise(ds)), h, opt=opt, epochs=pick((8, 10, 12)), seed=next(seeds),
              **kw), ["lr_too_low"], f"{opt['name']} at lr {opt['lr']:g}: the weights barely move")

    # oscillating (96): full-batch heavy-ball momentum above the stable rate
    for i in range(96 * times):
        ds = ("reg_plane", "reg_gauss", "reg_line", "reg_sine")[i % 4]
        frac = pick((0.95, 1.05, 1.1, 1.2, 1.3, 1.4, 1.5))
        osc(f"{tag}_osc_{ds.replace('_', '')}_fb{i}", D(ds, pick((200, 230, 260, 290, 320)), pick((0.0, 0.05, 0.1))),
            next(seeds), "test", frac)
        made.append(S.pop())

    # exploding (80): deep nets with N(0, 1) weights
    for i in range(80 * times):
        ds = ("reg_plane", "reg_sine", "reg_gauss", "reg_line")[i % 4]
        h = [(pick((12, 16, 20, 24)), ("relu", "linear")[i % 2])] * pick((4, 5, 6))
        ho(f"explode_{ds.replace('_', '')}_{h[0][1]}{len(h)}x{h[0][0]}",
            c(D(ds, pick((250, 300))), h, opt=SGD(0.01), epochs=10, init={"init": "normal", "init_scale": 1.0},
              seed=next(seeds), **REG),
            ["exploding_gradients", "bad_init_loss", "nan_or_inf", "diverging", "lr_too_high"],
            f"N(0,1) weights in {len(h)} hidden layers multiply the signal at every layer")

    # vanishing (112): deep sigmoid stacks
    for i in range(112 * times):
        ds = ("circle", "moons", "xor", "spiral", "gaussian", "linear")[i % 6]
        h = [(pick((6, 8, 10, 12)), "sigmoid")] * pick((6, 7, 8))
        ho(f"vanish_sigmoid{len(h)}_{ds}", c(D(ds, pick((300, 350)), _noise(ds)), h,
            opt=pick((SGD(0.1), SGD(0.05), SGD(0.1, 0.5), SGD(0.05, 0.5))), epochs=20, seed=next(seeds),
            precision=F32 if rng.random() < 0.25 else None), ["vanishing_gradients"],
            f"{len(h)} sigmoid layers: each multiplies the gradient by at most 0.25")

    # dead ReLU units (112): a large negative bias switches every unit off on every input
    DEAD8 = DEAD7
    for i in range(112 * times):
        ds, h = DEAD8[i % len(DEAD8)]
        bias = pick((-8.0, -10.0, -12.0))
        ho(f"dead_relu_bias{-bias:g}_{ds.replace('_', '')}_{len(h)}", c(D(ds, pick((300, 350)), _noise(ds)), h,
            opt=pick((ADAM(0.01), SGD(0.05, 0.9), ADAM(0.005))), epochs=20, init={"init": "he", "bias_init": bias},
            seed=next(seeds), **(REG if ds.startswith("reg") else {})),
            ["dead_units", "bad_init_loss"], f"bias {bias:g}: every ReLU is off on every input (and the output starts far off)")

    # saturated tanh / sigmoid units (112)
    for i in range(56 * times):
        ds = ("circle", "spiral", "xor", "moons")[i % 4]
        scale = pick((50.0, 60.0, 80.0, 100.0))
        h = [(pick((8, 12, 16)), pick(("tanh", "tanh", "sigmoid")))]
        ho(f"sat_{h[0][1]}_x{scale:g}_{ds}", c(D(ds, 300, _noise(ds), scale=scale), h,
            opt=pick((SGD(0.01, 0.9), SGD(0.02), SGD(0.03))), epochs=20, seed=next(seeds)),
            ["saturated_units", "unscaled_features"], f"inputs x{scale:g} drive every unit to |z| >> 5")
    for i in range(56 * times):
        ds = ("moons", "xor", "spiral", "circle", "gaussian")[i % 5]
        init = pick(({"bias_init": 9.0}, {"bias_init": -9.0}, {"bias_init": 10.0}, {"init": "normal", "init_scale": 6.0}))
        ho(f"sat_tanh_init_{ds}", c(D(ds, 300, _noise(ds)), [(pick((8, 12, 16)), "tanh")], opt=SGD(0.01), epochs=20,
            init=init, seed=next(seeds)), ["saturated_units", "bad_init_loss"],
            "a huge bias or N(0, 36) weights pin tanh units at -1 or +1 and the output starts far off")

    # symmetric initialization (112)
    SYM8 = SYM7
    for i in range(112 * times):
        ds, h, opt = SYM8[i % len(SYM8)]
        init = pick(({"init": "zeros"}, {"init": "constant", "init_scale": 0.1}, {"init": "constant", "init_scale": 0.05}))
        ho(f"sym_{init['init']}_{h[0][1]}_{ds.replace('_', '')}",
            c(D(ds, pick((250, 300)), _noise(ds)), h, opt=opt, epochs=20, init=init, seed=next(seeds),
              **(REG if ds.startswith("reg") else {})), ["symmetric_init"],
            "identical units get identical gradients and stay identical")

    # bad loss at initialization (112)
    for i in range(112 * times):
        ds, h, opt, init, kw = BAD6[i % len(BAD6)]
        kw = dict(kw, precision=F32) if rng.random() < 0.15 else kw
        ho(f"badinit_{ds.replace('_', '')}", c(D(ds, pick((250, 300, 350)), _noise(ds)), h, opt=opt, epochs=30, init=init,
            seed=next(seeds), **kw), ["bad_init_loss"],
            "the first predictions are far from the targets: the initial loss is many times the expected one")

    # plateau (112): one hidden layer from weights of 0.001 sits at the saddle point
    for i in range(112 * times):
        ds = ("xor", "circle", "moons", "spiral")[i % 4]
        h, opt, init = PLAT6[i % len(PLAT6)]
        ho(f"plateau_small_init_{ds}_{h[0][1]}{h[0][0]}", c(D(ds, pick((300, 350)), _noise(ds)), h, opt=opt, epochs=40,
            init={**init, "init_scale": 0.001}, seed=next(seeds)), ["plateau"],
            "weights of 0.001: one hidden layer sits at the saddle point, the loss at the input-free level")

    # not converged (128): cut short while still learning at a modest rate
    for i in range(128 * times):
        ds, h, opt, ep, kw = NC6[i % len(NC6)]
        kw = dict(kw, precision=F32) if rng.random() < 0.3 else kw
        ho(f"nc_{ds.replace('_', '')}_{h[0][1]}{h[0][0]}", c(D(ds, 500 if ds == "digits" else pick((300, 350)),
            _noise(ds)), h, opt=opt, epochs=ep, seed=next(seeds), **kw), ["not_converged"],
            f"{ep} epochs at a modest rate: the loss is still falling when training stops")

    # overfitting (128): a few noisy points and thousands of weights, 400 epochs; new rows
    # (issue 4, round 5): tanh nets, label noise on the linear set, noisy regressions (the
    # convention of ho_overfit_reggauss_small), 40-100 samples
    OF8 = (("circle", 0.5, "relu", {}), ("spiral", 0.3, "relu", {}), ("moons", 0.45, "relu", {}), ("xor", 0.5, "relu", {}),
           ("linear", 0.8, "relu", {}), ("circle", 0.5, "tanh", {}), ("moons", 0.45, "tanh", {}), ("xor", 0.5, "tanh", {}),
           ("reg_gauss", 0.3, "relu", REG), ("reg_plane", 0.6, "relu", REG))
    for i in range(128 * times):
        ds, noise, act, kw = OF8[i % len(OF8)]
        n, h = pick(((40, [(64, act), (64, act)]), (50, [(64, act), (64, act)]), (60, [(64, act), (64, act)]),
                      (80, [(48, act)] * 3), (70, [(96, act), (32, act)]), (60, [(128, act)] * 2), (100, [(128, act)] * 2)))
        of = dict(OF, init=OF["init"] if act == "relu" else None)
        ho(f"overfit_small_{ds.replace('_', '')}_{act}_{n}_{len(h)}", c(D(ds, n, noise, test_fraction=0.5), h,
            seed=next(seeds), **of, **kw), ["overfitting"],
            f"{n // 2} noisy training points and thousands of {act} weights")

    # underfitting (128): too few units (or none) for the data
    for i in range(128 * times):
        ds, h, kw = UF6[i % len(UF6)]
        kw = dict(kw, precision=F32) if rng.random() < 0.3 else kw
        ho(f"underfit_{ds.replace('_', '')}_{len(h) and h[0][0]}{len(h) and h[0][1] or 'linear'}",
            c(D(ds, pick((280, 320, 360)), _noise(ds)), h, opt=pick((ADAM(0.02), ADAM(0.03))), epochs=60,
              seed=next(seeds), **kw), ["underfitting"],
            "too few units (or none) for this data: the loss stops falling far above zero")

    # not linearly separable (128): linear models on curved classes
    for i in range(128 * times):
        ds = ("xor", "circle", "spiral", "xor_gate")[i % 4]
        if ds == "xor_gate":
            kw = {"output": "step", "loss": "perceptron", "opt": SGD(pick((0.1, 0.3, 1.0))), "batch": 1, "epochs": 30}
        else:
            kw = pick(({"opt": ADAM(0.02)}, {"opt": SGD(0.03, 0.9)}, {"output": "linear", "loss": "hinge", "opt": SGD(0.01)},
                        {"output": "step", "loss": "perceptron", "opt": SGD(0.1), "batch": 1}))
        kw = {"epochs": 20, **kw}
        n = 4 if ds == "xor_gate" else (150 if kw.get("loss") == "perceptron" else pick((250, 300)))
        ho(f"nls_{ds.replace('_', '')}_{kw.get('loss', 'bce')}", c(D(ds, n), seed=next(seeds), **kw),
            ["not_linearly_separable"], "no line separates these classes: a linear model cannot fit them")

    # unscaled features (112)
    for i in range(112 * times):
        ds, scale, h, opt, kw = US6[i % len(US6)]
        kw = dict(kw, precision=F32) if rng.random() < 0.25 else kw
        ho(f"unscaled_{ds.replace('_', '')}_x{scale:g}", c(D(ds, pick((250, 300, 350)), 0.1 if ds.startswith("reg")
            else 0.0, scale=scale), h, opt=opt, epochs=30, seed=next(seeds), **kw), ["unscaled_features"],
            f"inputs multiplied by {scale:g}: feature spreads far from 1")

    # irrelevant features (144): pure-noise columns next to the real ones; new rows (issue 4,
    # round 5): other data sets and nets, 1 to 8 noise columns, 250 to 600 samples
    IRR8 = IRR6 + (
        ("spiral", [(32, "relu"), (32, "relu")], ADAM(0.01), 150, {"init": HE}),
        ("circle", [(16, "relu")], ADAM(0.01), 40, {"init": HE}), ("xor", [(16, "relu")], ADAM(0.01), 40, {"init": HE}),
        ("reg_sine", [(16, "tanh")], ADAM(0.01), 80, REG), ("reg_plane", [(8, "tanh")], ADAM(0.01), 40, REG),
        ("digits", [(32, "relu")], ADAM(0.005), 25, {"output": "softmax", "loss": "cross_entropy", "init": HE}),
        ("moons", [(12, "leaky_relu")], RMS(0.005), 60, {"init": HE}), ("gaussian", [], SGD(0.05, 0.9), 20, {}))
    for i in range(144 * times):
        ds, h, opt, ep, kw = IRR8[i % len(IRR8)]
        nf = pick((1, 2, 3, 4, 6, 8))
        kw = dict(kw, precision=F32) if rng.random() < 0.25 else kw
        ho(f"irr_{ds.replace('_', '')}_noise{nf}_{len(h)}", c(D(ds, 500 if ds == "digits" else
            pick((250, 300, 400, 500, 600)), _noise(ds), noise_features=nf), h, opt=opt, epochs=ep, seed=next(seeds),
            **kw), ["irrelevant_features"], f"{nf} pure-noise input columns carry nothing about the target")

    # output / loss mismatch (112)
    for i in range(112 * times):
        ds, h, out, loss = MM6[i % len(MM6)]
        ho(f"mismatch_{ds.replace('_', '')}_{out}_{loss}", c(D(ds, 400 if ds == "digits" else pick((250, 300)),
            _noise(ds)), h, output=out, loss=loss, opt=pick((ADAM(0.02), ADAM(0.01))), epochs=20, seed=next(seeds)),
            ["output_loss_mismatch"], f"a {out} output with the {loss} loss on this task")
    return made


H9 = held_out("ho8", 8, 20000)


# Scored once (16:39 UTC 2026-11-26, rules of commit 11a0088, corpus of commit 0596f8c;
# raw results in ho8_scored_once.json): test split (ho3 + ho8, 2,709 scenarios) precision
# 0.963, recall 0.965, healthy quiet 605 of 607, median delay 12 steps; recall below 0.9:
# nan_or_inf 0.87 (19 linear fits by momentum SGD on 126-210 training points, 90-140
# steps: the loss reached 1e150-1e250, not Inf, before training ended, so the a priori
# "grows to Inf" did not happen; 6 deep N(0, 1) ReLU nets on the plane whose units died
# before overflow); irrelevant_features 0.93 (2 x 32 ReLU spirals with noise columns and
# 8 noise columns on circle / moons overfit and generalise too little for their
# importances to be read: overfitting instead); precision below 0.9: not_converged 0.85.
# No ho8 label was changed; nothing was tuned on it.

# Issue 4, round 6: ho8 was scored once (figures above, raw results in
# ho8_scored_once.json); its failures were then studied. No rule changed. 19 of the 25
# nan_or_inf misses were the nan template's, not the rules': its momentum rows (lr 0.3 to
# 0.5, momentum 0.8 or 0.9) overflowed in float64 after 150 to 335 steps where they
# overflowed at all, and 20 epochs of 126 to 210 training points in batches of 16 or 20
# end after 140 to 220 steps, so "the loss grows to Inf" was not true of those runs. The
# template now trains 60 epochs (at least 420 steps); a run stops at its first NaN or Inf
# anyway. ho8 joins the tune split (5,240 scenarios); its labels stay as they were.
for name, d in H9:
    d["split"] = "tune"

# ======================= ninth held-out test set ==========================================
# Issue 4, round 6: with ho8 in the tune split (5,240 scenarios), the test split (ho3_ +
# ho9_) must again be at least half of the corpus: ho9_ has 5,328 scenarios, generated
# from the templates of ho8 (twice as many of each; the nan rows train 60 epochs, above),
# drawn by a new fixed random generator (seed 9; scenario seeds 30000 on, none of them used
# before); labelled a priori from each config alone, with the conventions of the sets
# above; committed before it was first run; scored once by benchmarks/eval_diagnostics.py;
# never tuned on.
H10 = held_out("ho9", 9, 30000, times=2, nan_epochs=60)

# Scored once (07:03 UTC 2026-11-27, rules of commit 11a0088, corpus of commit cebd931;
# raw results in ho9_scored_once.json): test split (ho3 + ho9, 5,373 scenarios) precision
# 0.963, recall 0.976, healthy quiet 1,203 of 1,207, median delay 12 steps; every code's
# recall at least 0.9: the lowest irrelevant_features 0.918, plateau 0.942, dead_units
# 0.947, bad_init_loss 0.950; nan_or_inf 0.977 (the 9 misses: deep N(0, 1) ReLU nets whose
# units died before the signal overflowed; the nan rows, now 60 epochs, all overflowed);
# precision below 0.9: not_converged 0.848. Same run, tune split (5,240): precision 0.967,
# recall 0.968. No ho9 label was changed; nothing was tuned on it.

for f in glob.glob(OUT + "/*.json"):
    os.remove(f)
ALL = S + H + H2 + H3 + H4 + H5 + H6 + H7 + H8 + H9 + H10
for name, d in ALL:
    with open(f"{OUT}/{name}.json", "w") as fh:
        json.dump(d, fh, indent=1)
print(sum(d["split"] == "tune" for _, d in ALL), "tune +", sum(d["split"] == "test" for _, d in ALL),
      "test scenarios")
