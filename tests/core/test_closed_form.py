"""Exact solvers against numpy.linalg.lstsq, the ridge formula and the lasso conditions."""
import numpy as np
import pytest

from workbench.core import coordinate_descent, normal_equations
from workbench.run import Run


def _problem(n=60, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * [1, 2, 0.5, 3][:d]
    w = np.array([1.5, -2.0, 0.0, 0.3][:d])
    y = X @ w + 0.7 + 0.1 * rng.normal(size=n)
    return X, y[:, None]


def test_normal_equations_equal_lstsq():
    X, y = _problem()
    W, b = normal_equations(X, y)
    A = np.hstack([X, np.ones((len(X), 1))])
    sol = np.linalg.lstsq(A, y, rcond=None)[0][:, 0]
    assert np.allclose(W[0], sol[:-1], atol=1e-12)
    assert b[0] == pytest.approx(sol[-1], abs=1e-12)


def test_ridge_formula():
    X, y = _problem()
    l2 = 0.3
    W, b = normal_equations(X, y, l2=l2)
    n = len(X)
    Xc = X - X.mean(0)
    yc = y - y.mean(0)
    expect = np.linalg.inv(Xc.T @ Xc + n * l2 * np.eye(X.shape[1])) @ Xc.T @ yc
    assert np.allclose(W[0], expect[:, 0], atol=1e-12)
    # stationarity of J = 1/n ||Xw + b - y||^2 + l2 ||w||^2
    r = X @ W[0] + b[0] - y[:, 0]
    assert np.allclose(2 / n * X.T @ r + 2 * l2 * W[0], 0, atol=1e-12)
    assert abs(r.mean()) < 1e-12


def test_lasso_optimality_conditions():
    X, y = _problem(d=4)
    l1 = 0.4
    W, b = coordinate_descent(X, y, l1=l1)
    n = len(X)
    r = y[:, 0] - X @ W[0] - b[0]
    corr = 2 / n * X.T @ r
    w = W[0]
    nz = w != 0
    assert nz.any() and (~nz).any(), "this problem has zero and non-zero coefficients"
    assert np.allclose(corr[nz], l1 * np.sign(w[nz]), atol=1e-9)
    assert np.all(np.abs(corr[~nz]) <= l1 + 1e-9)


def test_lasso_without_l1_is_least_squares():
    X, y = _problem()
    W, b = coordinate_descent(X, y, l1=0.0)
    W2, b2 = normal_equations(X, y)
    assert np.allclose(W, W2, atol=1e-9) and np.allclose(b, b2, atol=1e-9)


@pytest.mark.parametrize("l2", [0.0, 0.05])
def test_full_batch_gradient_descent_converges_to_exact(l2):
    cfg = {"data": {"name": "reg_line", "n_samples": 80, "noise": 0.3, "test_fraction": 0.0},
           "model": {"hidden": [], "output": "linear", "loss": "mse", "init": "zeros"},
           "optimizer": {"name": "sgd", "lr": 0.02, "momentum": 0.5},
           "regularization": {"l2": l2}, "training": {"batch_size": 80}}
    gd = Run(cfg, diagnostics=False)
    gd.run_steps(3000)
    exact = Run({**cfg, "optimizer": {"name": "normal_equations"}}, diagnostics=False)
    assert exact.run_steps(5) == 5
    assert np.allclose(gd.network.theta, exact.network.theta, atol=1e-9)
    W, b = exact.network.weights[0]
    assert W[0, 0] == pytest.approx(0.8, abs=0.1) and b[0] == pytest.approx(0.2, abs=0.2)


def test_coordinate_descent_run_fits_once_then_stays():
    cfg = {"data": {"name": "reg_plane", "n_samples": 100, "noise": 0.1},
           "model": {"hidden": [], "output": "linear", "loss": "mse"},
           "optimizer": {"name": "coordinate_descent"}, "regularization": {"l1": 0.01}}
    run = Run(cfg, diagnostics=False)
    run.run_steps(1)
    after_one = run.network.theta.copy()
    run.run_steps(10)
    assert run.step == 11
    assert np.array_equal(after_one, run.network.theta)
    X, y = run.train_data
    W, b = coordinate_descent(X, y, l1=0.01)
    assert np.allclose(run.network.weights[0][0], W) and np.allclose(run.network.weights[0][1], b)
