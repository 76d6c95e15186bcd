"""NaN provenance: where and in what the first non-finite value appeared.

When ``run.nonfinite`` is set the run stopped at the first step with a non-finite loss,
gradient or weight. :func:`nan_provenance` replays that step from the last finite
state, layer by layer, and names the first quantity that went non-finite, in the order
the computation makes them: the weights it started from, then per layer the
pre-activations z and activations a (forward), the loss, then per layer the gradients
(backward), then the updated weights.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Provenance:
    """The first non-finite value of a run."""
    step: int
    what: str                # "weights", "activations", "loss", "gradients", "update"
    layer: int | None        # 0-based layer index (None for the loss)
    message: str
    detail: dict

    def to_dict(self) -> dict:
        return {"step": self.step, "what": self.what, "layer": self.layer,
                "message": self.message, "detail": self.detail}


def _batch(run, state) -> tuple[np.ndarray, np.ndarray]:
    """The mini-batch the failing step used (the run is positioned just before it)."""
    pos = int(run._counters[2])  # noqa: SLF001 - C_POS
    n = run.n_train
    if pos == 0:
        # the epoch's shuffle happens inside the step: replay it on a copy
        from ..core import kernels as K
        perm = run._perm.copy()  # noqa: SLF001
        rng = run._rng.copy()  # noqa: SLF001
        K.shuffle_inplace(perm, rng)
    else:
        perm = run._perm  # noqa: SLF001
    B = min(run.hp["batch_size"], n - pos)
    idx = perm[pos:pos + B]
    return run._X[idx], run._Y[idx]  # noqa: SLF001


def nan_provenance(run) -> Provenance | None:
    """Replay the failing step of ``run`` and name what went non-finite first.

    The run is rewound to the last finite parameters (``run.rewind_to_finite()``) and
    stays there, so the user can continue with a lower learning rate.
    Returns None when the run has no non-finite value.
    """
    nf = run.nonfinite
    if nf is None:
        return None
    bad_step = nf.step
    run.rewind_to_finite()
    net = run.network
    names = net.activations_names
    theta = net.theta
    if not np.all(np.isfinite(theta)):
        l = _first_bad_layer(net, theta)
        return Provenance(bad_step, "weights", l, f"step {bad_step}: the weights of layer "
                          f"{l + 1} were already non-finite before the step", {})
    X, Y = _batch(run, None)
    zs, as_ = net.forward(X)
    for l, (z, a) in enumerate(zip(zs, as_)):
        for what, arr in (("pre-activations", z), ("activations", a)):
            if not np.all(np.isfinite(arr)):
                bad = int(np.sum(~np.isfinite(arr)))
                return Provenance(bad_step, "activations", l,
                                  f"step {bad_step}: the {what} of layer {l + 1} "
                                  f"({names[l]}) overflowed first ({bad} values); "
                                  f"largest finite |z| before: {_maxabs(z):.3g}",
                                  {"quantity": what, "count": bad,
                                   "max_abs_z": _maxabs(z)})
    loss, grads = net.loss_and_grad(X, Y, run.hp["l1"], run.hp["l2"])
    if not np.isfinite(loss):
        return Provenance(bad_step, "loss", None, f"step {bad_step}: the loss became "
                          f"{loss} although every activation was finite "
                          f"(largest |output| {_maxabs(as_[-1]):.3g})",
                          {"loss": loss, "max_abs_output": _maxabs(as_[-1])})
    for l in range(len(grads) - 1, -1, -1):        # backward order: last layer first
        dW, db = grads[l]
        if not (np.all(np.isfinite(dW)) and np.all(np.isfinite(db))):
            return Provenance(bad_step, "gradients", l, f"step {bad_step}: the gradient "
                              f"of layer {l + 1} ({names[l]}) became non-finite first "
                              f"(backpropagating from the output)", {"loss": loss})
    # everything of the forward/backward pass is finite: the update overflowed
    with np.errstate(over="ignore"):      # norms of huge finite values may overflow
        gnorm = [float(np.linalg.norm(np.concatenate([dW.ravel(), db])))
                 for dW, db in grads]
        wnorm = [float(np.linalg.norm(W)) for W, _ in net.weights]
    l = int(np.argmax(np.array(gnorm) * run.current_lr / np.maximum(wnorm, 1e-300)))
    return Provenance(bad_step, "update", l, f"step {bad_step}: loss and gradients were "
                      f"finite (loss {loss:.3g}, largest gradient norm {max(gnorm):.3g} in "
                      f"layer {l + 1}) but the update by lr {run.current_lr:.3g} made the "
                      "weights overflow", {"loss": loss, "gradient_norms": gnorm,
                                           "weight_norms": wnorm})


def _maxabs(a: np.ndarray) -> float:
    f = a[np.isfinite(a)]
    return float(np.max(np.abs(f))) if f.size else float("nan")


def _first_bad_layer(net, flat: np.ndarray) -> int:
    for l in range(net.n_layers):
        if not np.all(np.isfinite(flat[net.layer_slice(l)])):
            return l
    return 0
