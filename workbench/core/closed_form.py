"""Exact solvers for linear models: normal equations (ridge) and coordinate descent (lasso).

Both minimize the objective gradient descent minimizes for a linear model with MSE loss:

    J(W, b) = 1/n sum_i ||W x_i + b - y_i||^2 + l2 ||W||^2 + l1 ||W||_1

(biases are not penalized), so full-batch gradient descent converges to what they return.
"""
from __future__ import annotations

import numpy as np


def _center(X: np.ndarray, Y: np.ndarray):
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if Y.ndim == 1:
        Y = Y[:, None]
    xm = X.mean(axis=0)
    ym = Y.mean(axis=0)
    return X - xm, Y - ym, xm, ym


def normal_equations(X: np.ndarray, Y: np.ndarray, l2: float = 0.0):
    """Solve the (ridge) normal equations.

    (Xc^T Xc / n + l2 I) W^T = Xc^T Yc / n on centered data, b = ybar - W xbar.
    With l2 = 0 a least-squares solve (``lstsq``) also handles rank-deficient X.

    Parameters
    ----------
    X : ndarray, shape (n, d)
    Y : ndarray, shape (n, k) or (n,)
    l2 : float

    Returns
    -------
    W : ndarray, shape (k, d)
    b : ndarray, shape (k,)
    """
    Xc, Yc, xm, ym = _center(X, Y)
    n, d = Xc.shape
    if l2 == 0.0:
        Wt = np.linalg.lstsq(Xc, Yc, rcond=None)[0]
    else:
        A = Xc.T @ Xc / n + l2 * np.eye(d)
        Wt = np.linalg.solve(A, Xc.T @ Yc / n)
    W = Wt.T
    return W, ym - W @ xm


def _soft(x: float, t: float) -> float:
    return np.sign(x) * max(abs(x) - t, 0.0)


def coordinate_descent(X: np.ndarray, Y: np.ndarray, l1: float = 0.0, l2: float = 0.0,
                       tol: float = 1e-12, max_sweeps: int = 100000):
    """Minimize J by cyclic coordinate descent (lasso, or elastic net with l2).

    For coordinate j: rho = 2/n x_j . (r + x_j w_j), w_j = S(rho, l1) / (2/n ||x_j||^2 +
    2 l2) with S the soft threshold; sweeps repeat until no coefficient changes by more
    than ``tol``.

    Returns
    -------
    W : ndarray, shape (k, d)
    b : ndarray, shape (k,)
    """
    Xc, Yc, xm, ym = _center(X, Y)
    n, d = Xc.shape
    k = Yc.shape[1]
    W = np.zeros((k, d))
    col_sq = (Xc * Xc).sum(axis=0) * (2.0 / n) + 2.0 * l2
    for out in range(k):
        w = W[out]
        r = Yc[:, out].copy()
        for _ in range(max_sweeps):
            change = 0.0
            for j in range(d):
                if col_sq[j] == 0.0:
                    continue
                xj = Xc[:, j]
                rho = (2.0 / n) * (xj @ r) + (col_sq[j] - 2.0 * l2) * w[j]
                new = _soft(rho, l1) / col_sq[j]
                delta = new - w[j]
                if delta != 0.0:
                    r -= delta * xj
                    w[j] = new
                    change = max(change, abs(delta))
            if change < tol:
                break
    return W, ym - W @ xm
