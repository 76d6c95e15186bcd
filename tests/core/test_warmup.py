"""The warm-up: a cold Numba cache is filled by child processes side by side, and building
a run compiles nothing (a run is built on the GUI thread)."""
import sys

import numpy as np
import pytest

from workbench.core import kernels as K
from workbench.core.reference import mean_loss
from workbench.run import Run

W = sys.modules["workbench.core.warmup"]     # the package exports the function by that name


def test_cold_cache_is_detected_per_precision():
    W.warmup(np.float64)
    assert not W.cache_is_cold("float64")        # the tests' cache holds it now
    assert W.cache_is_cold("float16")            # no kernel was ever compiled for it


def test_a_cold_cache_is_filled_by_children_first(monkeypatch):
    calls = []
    monkeypatch.setattr(W, "_done", set())
    monkeypatch.setattr(W, "compile_in_children", lambda key: calls.append(key))
    monkeypatch.setattr(W, "cache_is_cold", lambda key: True)
    W.warmup(np.float64)
    assert calls == ["float64"]
    W.warmup(np.float64)                         # once per precision
    assert calls == ["float64"]
    monkeypatch.setattr(W, "_done", set())
    W.warmup(np.float64, parallel=False)         # asked not to
    monkeypatch.setattr(W, "_done", set())
    monkeypatch.setattr(W, "cache_is_cold", lambda key: False)
    W.warmup(np.float64)                         # warm: loaded here directly
    assert calls == ["float64"]


def test_children_compile_into_the_same_cache(monkeypatch):
    """Real children (from the warm test cache they only load): the parts this process
    needs are waited for, the probes keep compiling in the background."""
    W.warmup(np.float64)
    monkeypatch.setattr(W, "_background", [])
    codes = W.compile_in_children("float64")
    assert {codes[p] for p in W.PARTS} == {0}
    rest = [p for p in W.CHILD_PARTS if p not in W.PARTS]
    assert rest and all(codes[p] is None for p in rest)
    assert len(W._background) == len(rest)
    assert all(p.wait(timeout=120) == 0 for p in W._background)


def test_building_a_run_calls_no_kernel(monkeypatch):
    """The diagnostics' standard-initialization loss is computed in NumPy: on a cold cache
    the loss kernel compiled for 20 s on the GUI thread, which builds the run."""
    called = []

    def refuse(*a, **k):
        called.append(a)
        raise RuntimeError("a kernel was called while building a run")
    for name in ("loss_and_grad", "train_chunk", "evaluate", "predict", "forward_all"):
        monkeypatch.setattr(K, name, refuse)
    run = Run({"model": {"hidden": [[6, "relu"]], "init": "normal", "init_scale": 3.0}})
    assert not called
    assert run.monitor is not None and run.monitor.ref_loss > 0.1   # not the 0.0 fallback


@pytest.mark.parametrize("model,data", [
    ({"hidden": [[5, "tanh"]], "output": "sigmoid", "loss": "bce"}, "spiral"),
    ({"hidden": [[4, "maxout"]], "output": "softmax", "loss": "cross_entropy"}, "digits"),
    ({"hidden": [[3, "elu"]], "output": "linear", "loss": "mse"}, "reg_sine"),
    ({"hidden": [], "output": "step", "loss": "perceptron"}, "and_gate"),
])
def test_numpy_mean_loss_equals_the_kernels(model, data):
    run = Run({"data": {"name": data}, "model": model}, diagnostics=False)
    net = run.network
    kernel, _ = net.loss_and_flat_grad(run._X, run._Y)
    numpy_loss = mean_loss(net.weights, net.activations_names, net.loss, run._X, run._Y,
                           block=7)                 # blocks of rows sum the same
    assert numpy_loss == pytest.approx(kernel, rel=1e-12, abs=1e-15)
