"""Finite-difference gradient checks of the kernels in float64."""
import itertools

import numpy as np
import pytest

from workbench.core import Network
from workbench.core import reference as R

HIDDEN = ["linear", "step", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "maxout"]
# (loss, output, n_outputs) pairs; every loss with the outputs it is used with.
HEADS = [("mse", "linear", 2), ("mse", "sigmoid", 1), ("mse", "softmax", 3),
         ("mse", "step", 1), ("bce", "sigmoid", 1), ("bce", "linear", 1),
         ("cross_entropy", "softmax", 3), ("perceptron", "step", 1),
         ("perceptron", "linear", 1), ("hinge", "linear", 1)]


def _data(loss, k, n=7, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    if loss == "cross_entropy":
        y = rng.integers(0, k, n)
    elif loss == "mse":
        y = rng.normal(size=(n, k))
    else:
        y = rng.integers(0, 2, (n, 1)).astype(float)
    return X, y


def numeric_grad(net, X, y, l1, l2, eps=1e-6):
    th = net.theta
    num = np.zeros_like(th)
    for i in range(th.size):
        old = th[i]
        th[i] = old + eps
        lp = net.loss_and_flat_grad(X, y, l1, l2)[0]
        th[i] = old - eps
        lm = net.loss_and_flat_grad(X, y, l1, l2)[0]
        th[i] = old
        num[i] = (lp - lm) / (2 * eps)
    return num


def rel_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12)


@pytest.mark.parametrize("act,depth", list(itertools.product(HIDDEN, [1, 2, 3, 4])))
def test_gradient_matches_finite_differences(act, depth):
    """Every activation x loss x depth 1-4: relative error below 1e-7."""
    if depth == 1 and act != "linear":
        pytest.skip("depth 1 has no hidden layer; covered once")
    for (loss, out, k), l2 in zip(HEADS, itertools.cycle([0.0, 0.01])):
        hidden = [[3, act]] * (depth - 1)
        net = Network(3, k, {"hidden": hidden, "output": out, "loss": loss,
                             "init": "normal", "init_scale": 0.7, "bias_init": 0.1}, seed=3)
        X, y = _data(loss, k)
        loss_k, g = net.loss_and_flat_grad(X, y, 0.0, l2)
        num = numeric_grad(net, X, y, 0.0, l2)
        assert rel_error(num, g) < 1e-7, (act, depth, loss, out, rel_error(num, g))
        # and the independent NumPy backprop agrees
        Y = net.targets(y)
        ref_loss, ref_grads = R.loss_and_grad(net.weights, net.activations_names, loss, X, Y,
                                              0.0, l2)
        ref = np.concatenate([np.concatenate([dW.ravel(), db]) for dW, db in ref_grads])
        assert abs(ref_loss - loss_k) < 1e-12 * max(1.0, abs(ref_loss))
        assert np.allclose(ref, g, rtol=1e-10, atol=1e-12)


def test_l1_penalty_gradient_away_from_zero():
    net = Network(3, 1, {"hidden": [[4, "tanh"]], "output": "sigmoid", "loss": "bce",
                         "init": "normal"}, seed=1)
    X, y = _data("bce", 1)
    _, g = net.loss_and_flat_grad(X, y, 0.05, 0.02)
    assert rel_error(numeric_grad(net, X, y, 0.05, 0.02), g) < 1e-7


def test_penalty_counts_weights_not_biases():
    net = Network(2, 1, {"hidden": [], "output": "linear", "loss": "mse", "init": "zeros",
                         "bias_init": 5.0})
    X = np.zeros((3, 2))
    y = np.full((3, 1), 5.0)
    loss, _ = net.loss_and_grad(X, y, l1=1.0, l2=1.0)
    assert loss == 0.0
    net.weights[0][0][...] = [[2.0, -1.0]]
    loss, _ = net.loss_and_grad(X, y, l1=0.5, l2=0.1)
    assert loss == pytest.approx(0.1 * 5 + 0.5 * 3)


def test_loss_definitions_by_hand():
    """Spot values of each loss from DESIGN.md, computed from z."""
    net = Network(1, 1, {"hidden": [], "output": "linear", "loss": "bce", "init": "zeros"})
    net.weights[0][0][...] = 1.0
    X = np.array([[2.0], [-1.0]])
    y = np.array([[1.0], [1.0]])
    loss, _ = net.loss_and_grad(X, y)
    assert loss == pytest.approx(np.mean([np.log1p(np.exp(-2.0)), np.log1p(np.exp(1.0))]))
    for name, expect in [("perceptron", np.mean([0, 1.0])), ("hinge", np.mean([0, 2.0]))]:
        net = Network(1, 1, {"hidden": [], "output": "linear", "loss": name, "init": "zeros"})
        net.weights[0][0][...] = 1.0
        assert net.loss_and_grad(X, y)[0] == pytest.approx(expect)
    # the perceptron still moves on the boundary (t z = 0)
    net = Network(1, 1, {"hidden": [], "output": "step", "loss": "perceptron", "init": "zeros"})
    _, g = net.loss_and_grad(np.array([[3.0]]), np.array([[1.0]]))
    assert g[0][0][0, 0] == -3.0 and g[0][1][0] == -1.0
