"""The forward pass of the panels' worker views, in NumPy.

The views evaluate the network on a fixed grid of points (the decision map: 10,000 cells;
the per-unit maps: 1,024) ten times a second while the run trains, on the training
thread. The core's kernels are built for mini-batches: on 10,000 rows their blocked
loops cost 5-10 times what one BLAS matrix product per layer costs (measured on W2,
2 -> 64 -> 64 -> 1: 40-300 ms against 6-28 ms), and that time is taken from training.
Here each layer is one ``a @ W.T + b`` in the network's dtype, so the values equal
:meth:`Network.predict` to rounding (1e-16 in float64).

BLAS runs on one thread here: the views run on the training thread while the GUI
thread paints, and a second BLAS thread fighting them for the cores made the 64 x 64
product 6 times slower (12 ms against 1.9 ms on 2 busy cores).
"""
from __future__ import annotations

import numpy as np

from ...core.reference import activate

_CONTROLLER = None


def _one_blas_thread():
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


def forward(net, X: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Return per layer the pre-activations ``z_l`` (n, rows_l) and outputs ``a_l``
    (n, units_l) of every row of ``X``, like :meth:`Network.forward`."""
    a = np.asarray(X, dtype=net.dtype)
    zs, as_ = [], []
    with _one_blas_thread():
        for (W, b), act in zip(net.weights, net.activations_names):
            z = a @ W.T
            z += b
            a = activate(act, z)
            zs.append(z)
            as_.append(a)
    return zs, as_


def predict(net, X: np.ndarray) -> np.ndarray:
    """Return the outputs f(z_L) (n, n_outputs), like :meth:`Network.predict`."""
    return forward(net, X)[1][-1]
