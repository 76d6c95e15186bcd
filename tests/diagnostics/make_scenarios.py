"""Generate the labelled scenario corpus of the diagnostics (the JSON files in
``scenarios/`` are the corpus; this script documents how they were made).

Usage: ``python tests/diagnostics/make_scenarios.py`` (rewrites ``scenarios/*.json``).

History, kept in the splits: the first 94 scenarios were looked at while the rules were
written and tuned; three held-out sets followed (``ho_``, ``ho2_``, ``ho3_``), each
labelled a priori after the rules were frozen and scored once; the first two then
joined the tune split when their failures were studied. Only ``ho3_`` is the test split.
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
ho3("healthy_xor_product_sgd", c(D("xor", 400, features=["x1", "x2", "x1*x2"]), opt=SGD(0.01, 0.9), epochs=30, seed=123), [], "x1*x2 makes XOR separable")
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

for f in glob.glob(OUT + "/*.json"):
    os.remove(f)
for name, d in S + H + H2 + H3 + H4:
    with open(f"{OUT}/{name}.json", "w") as fh:
        json.dump(d, fh, indent=1)
print(len(S) + len(H) + len(H2) + len(H4), "tune +", len(H3), "test scenarios")
