"""Sanity checks before training (``python main.py check CONFIG.json`` and a button).

Each check returns a :class:`Check` (name, passed, value, threshold, message). A failed
check means "fix this before you trust the training curves"; ``separable`` is
informational (a non-separable set is not an error for a network with hidden layers).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from ..config import RunConfig, load_config
from .rules import prior_loss, separability

GRAD_TOL = 1e-5        # relative error of the analytic gradient (float64, central diff.)
OVERFIT_N = 20         # samples the net must be able to memorise
OVERFIT_STEPS = 2000
BASELINE_MARGIN = 0.9  # trained loss must be below this share of the zero-input loss


@dataclass
class Check:
    """The outcome of one sanity check."""
    name: str
    passed: bool
    message: str
    value: float | None = None
    threshold: float | None = None
    detail: dict = field(default_factory=dict)
    informational: bool = False

    def to_dict(self) -> dict:
        return {"name": self.name, "passed": self.passed, "message": self.message,
                "value": self.value, "threshold": self.threshold, "detail": self.detail,
                "informational": self.informational}


def _run(cfg, **kw):
    from ..run import Run
    return Run(cfg, diagnostics=False, **kw)


def check_init_loss(run) -> Check:
    """Loss at initialization against ln C (classification) or Var(y) (regression)."""
    net = run.network
    X, Y, _, _ = run.kernel_data
    L0, _ = net.loss_and_flat_grad(X, Y)
    E = prior_loss(net.loss, np.asarray(Y, np.float64))
    if not E > 0:
        return Check("init_loss", True, f"loss at init {L0:.4g} (no chance level for "
                     f"the {net.loss} loss)", L0, None, informational=True)
    ratio = L0 / E
    ok = math.isfinite(L0) and ratio <= 3.0
    return Check("init_loss", ok, f"loss at init {L0:.4g}, expected about {E:.4g} "
                 f"({ratio:.2f} times)" + ("" if ok else ": the initial outputs are far off"),
                 L0, 3.0 * E, {"expected": E, "ratio": ratio})


def gradient_check(net, X, Y, l1: float = 0.0, l2: float = 0.0, n_coords: int = 30,
                   eps: float = 1e-6, seed: int = 0) -> tuple[float, int]:
    """Largest relative error between the analytic gradient and central differences.

    Compares ``net.loss_and_flat_grad`` with ``(L(w + eps e_i) - L(w - eps e_i)) /
    (2 eps)`` on ``n_coords`` random coordinates (all if fewer), in float64.
    Returns ``(max relative error, index of the worst coordinate)``.
    """
    theta = net.theta
    _, g = net.loss_and_flat_grad(X, Y, l1, l2)
    g = np.array(g, dtype=np.float64)
    rng = np.random.default_rng(seed)
    idx = np.arange(theta.size) if theta.size <= n_coords else \
        rng.choice(theta.size, n_coords, replace=False)
    worst, where = 0.0, -1
    for i in idx:
        old = theta[i]
        theta[i] = old + eps
        lp, _ = net.loss_and_flat_grad(X, Y, l1, l2)
        theta[i] = old - eps
        lm, _ = net.loss_and_flat_grad(X, Y, l1, l2)
        theta[i] = old
        num = (lp - lm) / (2 * eps)
        err = abs(num - g[i]) / max(1e-8, abs(num) + abs(g[i]))
        if err > worst:
            worst, where = err, int(i)
    return worst, where


def check_gradient(run) -> Check:
    """Finite-difference gradient check of the configured network (float64)."""
    from ..core import Network
    cfg = run.config
    net = Network(run.network.n_inputs, run.network.n_outputs, cfg.model, seed=cfg.seed,
                  dtype=np.float64)
    if net.output == "step" or any(a in ("step",) for _, a in net.hidden):
        return Check("gradient", True, "step units have no gradient to check",
                     informational=True)
    n = min(32, run.n_train)
    X, Y, _, _ = run.kernel_data
    X = np.asarray(X[:n], np.float64)
    Y = np.asarray(Y[:n], np.float64)
    # L2 only: the L1 penalty has a kink at 0 where differences and subgradient differ
    err, where = gradient_check(net, X, Y, 0.0, cfg.regularization["l2"])
    ok = err < GRAD_TOL
    return Check("gradient", ok, f"analytic vs numerical gradient: largest relative "
                 f"error {err:.2e}" + ("" if ok else f" at parameter {where}: the "
                                       "backpropagation is wrong"),
                 err, GRAD_TOL, {"parameter": where})


def check_overfit_small(cfg: RunConfig) -> Check:
    """Can the network memorise 20 training samples? (Karpathy's recipe)"""
    from ..data import load_dataset
    from ..run import Run
    ds = load_dataset(cfg.data, cfg.seed)
    n = min(OVERFIT_N, ds.X_train.shape[0])
    small = cfg.with_changes({"training.batch_size": n})
    # the same run on the first n training points only (same network: same seed and size)
    sub = dataclasses.replace(ds, X_train=ds.X_train[:n], y_train=ds.y_train[:n],
                              raw_train=ds.raw_train[:n])
    run = Run(small, dataset=sub, eval_every=OVERFIT_STEPS, diagnostics=False)
    run.run_steps(OVERFIT_STEPS)
    net = run.network
    X, Y, _, _ = run.kernel_data
    loss, _ = net.loss_and_flat_grad(X, Y)
    E = prior_loss(net.loss, np.asarray(Y, np.float64))
    if ds.task == "classification":
        acc = run.evaluate()["train_accuracy"]
        ok = acc is not None and acc >= 0.99
        msg = f"after {run.step} steps on {n} samples: train accuracy {100 * (acc or 0):.0f} %"
        return Check("overfit_small", ok, msg + ("" if ok else ": it cannot even memorise "
                                                 "them (capacity, learning rate or a bug)"),
                     acc, 0.99, {"loss": loss, "n": n})
    ok = math.isfinite(loss) and loss < 0.05 * max(E, 1e-12)
    return Check("overfit_small", ok, f"after {run.step} steps on {n} samples: loss "
                 f"{loss:.3g} ({100 * loss / max(E, 1e-12):.1f} % of Var(y))",
                 loss, 0.05 * E, {"n": n})


def check_baseline(cfg: RunConfig, steps: int | None = None) -> Check:
    """Does training beat an input-free baseline (the same run on zeroed inputs)?"""
    from ..data import load_dataset
    ds = load_dataset(cfg.data, cfg.seed)
    steps = steps or min(3000, 20 * max(1, math.ceil(ds.X_train.shape[0] /
                                                        cfg.training["batch_size"])))
    real = _run(cfg)
    real.run_steps(steps)
    zero = _run(cfg, dataset=_zeroed(ds))
    zero.run_steps(steps)
    a = real.evaluate()
    b = zero.evaluate()
    split = "test" if a["test_loss"] is not None else "train"
    if a[f"{split}_accuracy"] is not None:
        # accuracy: losses like the perceptron's are ~0 for a constant output
        key = f"{split}_accuracy"
        ok = a[key] > b[key] + 0.02
        thr = b[key] + 0.02
    else:
        key = f"{split}_loss"
        ok = math.isfinite(a[key]) and a[key] < BASELINE_MARGIN * b[key]
        thr = BASELINE_MARGIN * b[key]
    return Check("baseline", ok, f"after {steps} steps: {key.replace('_', ' ')} "
                 f"{a[key]:.4g} with the inputs, {b[key]:.4g} with zeroed inputs"
                 + ("" if ok else ": the network does not beat ignoring its inputs"),
                 a[key], thr, {"zero_input": b[key]})


def _zeroed(ds):
    return dataclasses.replace(ds, X_train=np.zeros_like(ds.X_train),
                               X_test=np.zeros_like(ds.X_test))


def check_separable(cfg: RunConfig) -> Check:
    """Is the training set linearly separable (two classes)? Explains the perceptron."""
    from ..data import load_dataset
    ds = load_dataset(cfg.data, cfg.seed)
    if ds.task != "classification" or ds.n_classes != 2:
        return Check("separable", True, "not a two-class problem", informational=True)
    err = separability(ds.X_train, ds.y_train)
    sep = err == 0.0
    linear = not cfg.model["hidden"]
    msg = ("the classes are linearly separable" if sep else
           f"the classes are not linearly separable: the best line misclassifies "
           f"{100 * err:.1f} % of the training points")
    if not sep and linear:
        msg += " (a model without hidden layers cannot fit them)"
    return Check("separable", sep or not linear, msg, err, 0.0,
                 {"separable": sep, "linear_model": linear}, informational=not linear)


def run_checks(config) -> list[Check]:
    """All sanity checks of a configuration, in the order they are reported."""
    cfg = load_config(config)
    run = _run(cfg)
    return [check_init_loss(run), check_gradient(run), check_overfit_small(cfg),
            check_baseline(cfg), check_separable(cfg)]
