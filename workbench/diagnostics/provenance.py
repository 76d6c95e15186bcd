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


def _batch(run) -> tuple[np.ndarray, np.ndarray]:
    """The mini-batch the failing step used (the run is positioned just before it).

    Reads the run through its public state (``get_state``: counters, data order, RNG)
    and data (``dataset``, ``network.targets``), as the kernel sees them."""
    from ..core import kernels as K
    state = run.get_state()
    pos = int(state["counters"][K.C_POS])
    perm = state["perm"]
    n = run.n_train
    if pos == 0:
        # the epoch's shuffle happens inside the step: replay it on the copies
        K.shuffle_inplace(perm, state["rng"])
    B = min(run.hp["batch_size"], n - pos)
    idx = perm[pos:pos + B]
    ds = run.dataset
    X = np.ascontiguousarray(ds.X_train[idx], dtype=run.dtype)
    return X, run.network.targets(ds.y_train[idx])


def nan_provenance(run) -> Provenance | None:
    """Replay the failing step of ``run`` and name what went non-finite first.

    The run is rewound to the last finite parameters (``run.rewind_to_finite()``) and
    stays there, so the user can continue with a lower learning rate.
    Returns None when the run has no non-finite value.
    """
    nf = run.nonfinite
    if nf is None:
        return None
    prov = _provenance(run, nf.step)
    hand = _hand_set_before(run, nf.step)
    if hand is not None:
        # a weight typed by hand just before: that, not the learning rate, is the cause
        # (the banner told the student to lower the learning rate after a typed 1e308)
        prov.message += (f"; a weight of layer {hand['layer'] + 1} had been set by hand "
                         f"to {hand['value']:.3g} at step {hand['step']}: that value, not "
                         "the learning rate, is the likely cause")
        prov.detail["hand_set"] = hand
    return prov


#: A weight typed this many steps or fewer before the failing step is named in it.
HAND_SET_STEPS = 10


def _hand_set_before(run, bad_step: int) -> dict | None:
    """The last weight set by hand within :data:`HAND_SET_STEPS` steps before
    ``bad_step`` (its payload with the step), or None."""
    for e in reversed(getattr(run, "events", ())):
        if e.kind == "weight" and bad_step - HAND_SET_STEPS <= e.step < bad_step:
            return {**e.payload, "step": e.step}
    return None


def _provenance(run, bad_step: int) -> Provenance:
    run.rewind_to_finite()
    net = run.network
    names = net.activations_names
    theta = net.theta
    if not np.all(np.isfinite(theta)):
        l = _first_bad_layer(net, theta)
        return Provenance(bad_step, "weights", l, f"step {bad_step}: the weights of layer "
                          f"{l + 1} were already non-finite before the step", {})
    X, Y = _batch(run)
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
    gnorm = [_norm(np.concatenate([dW.ravel(), db])) for dW, db in grads]
    wnorm = [_norm(W) for W, _ in net.weights]
    lr = run.current_lr
    # the layer whose step was largest against its weights (log10: norms may overflow)
    rel = [g + np.log10(lr) - max(w, -300.0) for g, w in zip(gnorm, wnorm)]
    l = int(np.argmax(rel))
    g = gnorm[l]
    if g > _LOG10_MAX:
        what = (f"the gradient norm of layer {l + 1} ({names[l]}) overflowed to inf "
                f"(every component was finite, the largest {_maxabs(grads[l][0]):.3g}; the "
                f"norm is about 1e{g:.0f}, beyond the largest float64, 1.8e308)")
    else:
        what = f"the largest gradient norm was {10 ** g:.3g}, in layer {l + 1} ({names[l]})"
    return Provenance(bad_step, "update", l, f"step {bad_step}: the loss ({loss:.3g}) and "
                      f"every gradient were finite, but {what}; the update by lr {lr:.3g} "
                      "made the weights overflow to inf",
                      {"loss": loss, "gradient_norms": [_plain_norm(v) for v in gnorm],
                       "weight_norms": [_plain_norm(v) for v in wnorm],
                       "log10_gradient_norms": gnorm,
                       "log10_weight_norms": wnorm,
                       "gradient_norm_overflow": bool(g > _LOG10_MAX)})


_LOG10_MAX = float(np.log10(np.finfo(np.float64).max))


def _plain_norm(lg: float) -> float | None:
    """A norm from its log10; None where it overflows float64."""
    return None if lg > _LOG10_MAX else float(10 ** lg)


def _norm(a: np.ndarray) -> float:
    """log10 of the Euclidean norm of ``a`` without overflow (-inf for zeros): the
    largest |value| times the norm of the rescaled array."""
    a = np.asarray(a, dtype=np.float64).ravel()
    m = float(np.max(np.abs(a))) if a.size else 0.0
    if m == 0.0 or not np.isfinite(m):
        return -np.inf if m == 0.0 else np.inf
    return float(np.log10(m) + np.log10(np.linalg.norm(a / m)))


def _maxabs(a: np.ndarray) -> float:
    f = a[np.isfinite(a)]
    return float(np.max(np.abs(f))) if f.size else float("nan")


def _first_bad_layer(net, flat: np.ndarray) -> int:
    for l in range(net.n_layers):
        if not np.all(np.isfinite(flat[net.layer_slice(l)])):
            return l
    return 0
