"""Compile every training kernel once (from Numba's cache when it is warm)."""
from __future__ import annotations

import threading

import numpy as np

_done: set[str] = set()
_lock = threading.Lock()


def warmup(dtype=np.float64) -> None:
    """Run a tiny training step, evaluation and probe so later calls do not compile.

    Safe to call from any thread and more than once; only the first call per dtype works.
    """
    key = np.dtype(dtype).name
    with _lock:
        if key in _done:
            return
        from . import kernels as K
        from .network import Network
        net = Network(2, 1, {"hidden": [[2, "tanh"]], "output": "sigmoid", "loss": "bce"},
                      dtype=dtype)
        X = np.zeros((4, 2), dtype=dtype)
        Y = np.zeros((4, 1), dtype=dtype)
        lay = net.layout
        P = lay.n_params
        z = np.zeros(4 * int(lay.zcum[-1]), dtype)
        a = np.zeros(4 * int(lay.acum[-1]), dtype)
        d = np.zeros(4 * (int(lay.zcum[-1]) + int(lay.units.max())), dtype)
        yb = np.zeros(4, dtype)
        o1 = np.zeros(1)
        o2 = np.zeros((1, lay.n_layers))
        K.train_chunk(X, Y, net.theta, np.zeros(P, dtype), np.zeros(P, dtype),
                      np.zeros(P, dtype), *lay.args(), 1, 0, np.zeros(K.N_HP),
                      np.arange(4, dtype=np.int64), np.zeros(4, np.int64),
                      np.zeros(1, np.uint64), 4, 0, -1, z, a, d, yb, o1, o2, o2.copy(),
                      o2.copy(), o2.copy(), o2.copy(), np.zeros(1, np.int8))
        off = np.zeros(3, np.int64)
        K.evaluate(net.theta, *lay.args(), 1, 0.0, 0.0, X, Y, 1, True, 256, off, off.copy())
        net.predict(X)
        _done.add(key)
