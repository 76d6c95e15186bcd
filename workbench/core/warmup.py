"""Compile every training kernel once (from Numba's cache when it is warm).

A cold cache (a new install, a changed kernel) costs about 40 s of compiling the
training and evaluation kernels per precision on a 2-core machine, and 30 s more for the
probes a window computes later (activations of every unit, gradients, histograms, the
diagnostics' reduction); Numba compiles one function at a time per process (its compiler
lock). So a cold :func:`warmup` has two child processes compile the training and the
evaluation kernels into the cache side by side and waits for them, starts a third for
the probes that runs on in the background (:data:`CHILD_PARTS`), and loads what training
needs here from the cache. A warm cache is loaded directly.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np

_done: set[str] = set()
_lock = threading.Lock()
#: children still compiling in the background (kept so they are reaped, not zombies)
_background: list[subprocess.Popen] = []
#: what :func:`warmup` loads in this process: what a training step and an evaluation use
PARTS = ("train", "eval")
#: what the children compile on a cold cache, one part each (measured here: about 24, 19
#: and 28 s)
CHILD_PARTS = ("train", "eval", "probes")
CHILD_TIMEOUT_S = 900.0
_ROOT = Path(__file__).resolve().parents[2]


def warmup(dtype=np.float64, parallel: bool = True) -> None:
    """Run a tiny training step and evaluation so later calls do not compile.

    Safe to call from any thread and more than once; only the first call per dtype works.
    ``parallel``: on a cold cache, compile in child processes first (see above).
    """
    key = np.dtype(dtype).name
    with _lock:
        if key in _done:
            return
        if parallel and (os.cpu_count() or 1) >= 2 and cache_is_cold(key):
            compile_in_children(key)
        for part in PARTS:
            compile_part(part, key)
        _done.add(key)


def _tiny(dtype):
    from .network import Network
    net = Network(2, 1, {"hidden": [[2, "tanh"]], "output": "sigmoid", "loss": "bce"},
                  dtype=dtype)
    return net, np.zeros((4, 2), dtype=dtype), np.zeros((4, 1), dtype=dtype)


def compile_part(part: str, dtype_name: str, in_child: bool = False) -> None:
    """Call the kernels of one part with tiny arrays of ``dtype_name`` (which compiles them,
    or loads them from the cache); ``in_child``: also what the rest of the process would
    compile later (the diagnostics' reduction)."""
    from . import kernels as K
    dtype = np.dtype(dtype_name)
    net, X, Y = _tiny(dtype)
    lay = net.layout
    if part == "train":
        P = lay.n_params
        z = np.zeros(4 * int(lay.zcum[-1]), dtype)
        a = np.zeros(4 * int(lay.acum[-1]), dtype)
        d = np.zeros(K.dbuf_size(4, lay.zcum, lay.units, lay.rows), dtype)
        yb = np.zeros(4, dtype)
        o1 = np.zeros(1)
        o2 = np.zeros((1, lay.n_layers))
        K.train_chunk(X, Y, net.theta, np.zeros(P, dtype), np.zeros(P, dtype),
                      np.zeros(P, dtype), *lay.args(), 1, 0, np.zeros(K.N_HP),
                      np.arange(4, dtype=np.int64), np.zeros(4, np.int64),
                      np.zeros(1, np.uint64), 4, 0, -1, z, a, d, yb,
                      np.zeros(K.ibuf_size(4, lay.units, lay.rows), np.int64), o1, o2,
                      o2.copy(),
                      o2.copy(), o2.copy(), o2.copy(), np.zeros(1, np.int8))
        if in_child:                    # the diagnostics' per-chunk reduction
            from .reductions import compile_reduce_chunk
            compile_reduce_chunk()
    elif part == "eval":
        off = np.zeros(3, np.int64)
        K.evaluate(net.theta, *lay.args(), 1, 0.0, 0.0, X, Y, 1, True, 256, off, off.copy())
        net.predict(X)
    elif part == "probes":
        net.forward(X)
        net.loss_and_flat_grad(X, Y)
        net.histograms()
    else:
        raise ValueError(f"unknown warm-up part {part!r}")


def cache_is_cold(dtype_name: str) -> bool:
    """True when Numba's cache holds no valid entry for the training kernel in
    ``dtype_name`` (none yet, or one for an older kernels.py). False when it cannot tell
    (another Numba, caching off): then nothing is compiled twice."""
    from . import kernels as K
    try:
        index = K.train_chunk._cache._cache_file._load_index()
    except Exception:   # noqa: BLE001 - Numba internals: any failure means "cannot tell"
        return False
    return not any(dtype_name in str(key) for key in index)


def compile_in_children(dtype_name: str) -> dict[str, int | None]:
    """Compile the :data:`PARTS` into Numba's cache in one child process each, side by
    side, and wait for them; then start one more child for the rest of
    :data:`CHILD_PARTS` and leave it compiling in the background (what it compiles is
    loaded from the cache when first used, or compiled here if that comes first).
    Returns the exit codes (None: still running). A child that fails or hangs only costs
    time: its kernels then compile here."""
    code = ("import sys; sys.path.insert(0, {root!r}); "
            "from workbench.core.warmup import compile_part; "
            "compile_part({part!r}, {dtype!r}, in_child=True)")

    def start(part):
        return subprocess.Popen([sys.executable, "-c", code.format(
            root=str(_ROOT), part=part, dtype=dtype_name)], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    procs = {p: start(p) for p in PARTS}
    codes: dict[str, int | None] = {}
    for part, proc in procs.items():
        try:
            codes[part] = proc.wait(timeout=CHILD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            codes[part] = proc.wait()
    for part in CHILD_PARTS:
        if part not in procs:
            proc = start(part)
            _background.append(proc)
            codes[part] = None
    return codes


def wait_for_background(timeout: float | None = None) -> None:
    """Wait for the children still compiling in the background (a benchmark that times
    what comes next)."""
    for proc in _background:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
