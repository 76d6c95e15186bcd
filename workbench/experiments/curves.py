""""Do we need more data?" and "should we change the architecture?": the learning curve
and the capacity sweep, both sweeps underneath, each with a one-line verdict."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..config import load_config
from ..core import Layout
from ..data import load_dataset
from ..run import output_units
from .grid import Axis, make_axis
from .sweep import SweepResult, SweepSpec, run_sweep
from .tasks import subset_indices

DEFAULT_FRACTIONS = (0.1, 0.25, 0.5, 1.0)
#: Relative changes below this count as "flat" (a 10 % lower test loss is a real gain).
FLAT = 0.10
#: ... and so do absolute changes below this (near zero loss, 10 % is noise).
FLAT_ABS = 0.03


def _mean_std(vals: list) -> tuple[float, float]:
    v = np.array([x if x is not None else np.nan for x in vals], dtype=np.float64)
    if v.size == 0 or np.all(np.isnan(v)):
        return float("nan"), float("nan")
    return float(np.nanmean(v)), float(np.nanstd(v))


def _group(sweep: SweepResult, n_points: int, seeds: int, key: str):
    mean, std = [], []
    for i in range(n_points):
        grp = [r for r in sweep.runs[i * seeds:(i + 1) * seeds] if r is not None]
        m, s = _mean_std([getattr(r, key) for r in grp])
        mean.append(m)
        std.append(s)
    return np.array(mean), np.array(std)


@dataclass
class LearningCurveResult:
    """Final losses against the training-set size (seeds averaged).

    Attributes
    ----------
    fractions : np.ndarray, shape (k,)
    n_train : np.ndarray, shape (k,), int
        Training samples used at each fraction.
    subsets : list of np.ndarray
        The training indices used at each fraction (nested: one shuffle).
    train_loss, test_loss, train_std, test_std : np.ndarray, shape (k,)
    verdict : str
    """
    fractions: np.ndarray
    n_train: np.ndarray
    subsets: list
    train_loss: np.ndarray
    test_loss: np.ndarray
    train_std: np.ndarray
    test_std: np.ndarray
    verdict: str
    sweep: SweepResult = field(repr=False)


def learning_curve_verdict(n: np.ndarray, tr: np.ndarray, te: np.ndarray) -> str:
    """Say whether more data would help, from the losses at increasing sizes.

    More data helps while the test loss still falls over the last doubling (by more than
    :data:`FLAT`) and the train/test gap is closing. When the test loss is flat, a
    large gap points at regularization, a small one at the model or the features.
    """
    if np.any(~np.isfinite(te)):
        return "no test loss to compare (set data.test_fraction above 0)"
    if len(te) < 2:
        return (f"one training-set size only (train {tr[-1]:.3g}, test {te[-1]:.3g}): "
                "give two or more fractions to see whether more data helps")
    gap = te - tr
    tol = max(FLAT * abs(te[-1]), FLAT_ABS)
    falling = te[-2] - te[-1] > tol
    closing = gap[-1] < gap[0] - tol
    if falling and closing:
        return (f"more data helps: the test loss is still falling ({te[-2]:.3g} -> "
                f"{te[-1]:.3g} from {n[-2]} to {n[-1]} samples) and the train/test gap is "
                f"closing ({gap[0]:.3g} -> {gap[-1]:.3g})")
    if falling:
        return (f"more data helps a little: the test loss still falls ({te[-2]:.3g} -> "
                f"{te[-1]:.3g}) but the gap does not close ({gap[0]:.3g} -> {gap[-1]:.3g})")
    if gap[-1] > tol:
        return (f"the test loss no longer falls ({te[-2]:.3g} -> {te[-1]:.3g}) with a gap of "
                f"{gap[-1]:.3g}: more data of this kind will help little; regularize")
    return (f"both curves flat and close (train {tr[-1]:.3g}, test {te[-1]:.3g}): more "
            "data will not help; change the architecture or the features")


def learning_curve(config, fractions=DEFAULT_FRACTIONS, *, seeds: int = 3,
                   steps: int | None = None, workers: int | None = None, dask=None,
                   out=None, progress=None, cancel=None) -> LearningCurveResult:
    """Train ``config`` on growing fractions of its training set.

    The data stay those of the config's seed; one shuffle of the training split
    (:func:`workbench.experiments.tasks.subset_indices`) gives nested subsets, and the
    ``seeds`` repetitions vary the initialization and the batch order. Every size trains
    the same number of steps (``steps``, default the config's epochs on the full set),
    so small sets are not under-trained.
    """
    cfg = load_config(config)
    fr = sorted(float(f) for f in fractions)
    ds = load_dataset(cfg.data, cfg.seed)
    n_full = ds.X_train.shape[0]
    if steps is None:
        steps = cfg.training["epochs"] * math.ceil(n_full / cfg.training["batch_size"])
    spec = SweepSpec(cfg, [make_axis("train_fraction", fr)], seeds=seeds, steps=steps,
                     workers=workers, dask=dask, out=out, task={"data_seed": cfg.seed})
    sweep = run_sweep(spec, progress, cancel)
    subsets = [subset_indices(n_full, f, cfg.seed) for f in fr]
    n = np.array([len(s) for s in subsets])
    tr, trs = _group(sweep, len(fr), seeds, "train_loss")
    te, tes = _group(sweep, len(fr), seeds, "test_loss")
    verdict = ("cancelled before every size finished" if sweep.cancelled
               else learning_curve_verdict(n, tr, te))
    return LearningCurveResult(np.array(fr), n, subsets, tr, te, trs, tes, verdict, sweep)


# --- capacity ------------------------------------------------------------------------------

@dataclass
class CapacityResult:
    """Final losses against the parameter count of wider, narrower, deeper, shallower nets.

    Attributes
    ----------
    labels : list of str
        ``x0.5``, ``x1`` (the config), ``x2``, ``x4``, ``-1 layer``, ``+1 layer``.
    hidden : list
        The ``model.hidden`` of each variant.
    n_params : np.ndarray, shape (k,), int
    train_loss, test_loss : np.ndarray, shape (k,)
    verdict : str
        Starts with ``underfitting``, ``good fit`` or ``overfitting``.
    """
    labels: list
    hidden: list
    n_params: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray
    verdict: str
    sweep: SweepResult = field(repr=False)

    @property
    def order(self) -> np.ndarray:
        """Indices sorting the variants by parameter count (for plotting)."""
        return np.argsort(self.n_params, kind="stable")


def capacity_variants(hidden: list, factors=(0.5, 1, 2, 4)) -> list[tuple[str, list]]:
    """The architectures of the capacity sweep, the config's own first (label ``x1``).

    Widths scaled by each factor (at least one unit), then one hidden layer fewer (when
    there is one) and one more (a copy of the last; a tanh layer of 4 units for a model
    without hidden layers). Duplicates are dropped.
    """
    out: list[tuple[str, list]] = []
    seen = []

    def add(label, h):
        if h not in seen:
            seen.append(h)
            out.append((label, h))
    add("x1", [list(x) for x in hidden])
    for f in factors:
        if f == 1:
            continue
        if hidden:
            add(f"x{f:g}", [[max(1, int(round(u * f))), a] for u, a in hidden])
        else:
            add(f"x{f:g}", [[max(1, int(round(4 * f))), "tanh"]])
    if hidden:
        add("-1 layer", [list(x) for x in hidden[:-1]])
        add("+1 layer", [list(x) for x in hidden] + [list(hidden[-1])])
    else:
        add("+1 layer", [[4, "tanh"]])
    return out


def capacity_verdict(labels, n_params, tr, te) -> str:
    """Underfitting when a bigger net tests clearly better (by more than :data:`FLAT` of
    the loss and :data:`FLAT_ABS`), overfitting when a smaller one does, good fit when
    the config is that close to the best. Without a test split, the training loss
    decides."""
    use = te if np.all(np.isfinite(te)) else tr
    base = 0
    best = int(np.nanargmin(use))
    tol = max(FLAT * abs(use[base]), FLAT_ABS)
    if use[best] < use[base] - tol:
        if n_params[best] > n_params[base]:
            return (f"underfitting: the bigger net {labels[best]} ({n_params[best]} "
                    f"parameters) reaches test loss {use[best]:.3g} against "
                    f"{use[base]:.3g}: enlarge the network")
        return (f"overfitting: the smaller net {labels[best]} ({n_params[best]} "
                f"parameters) reaches test loss {use[best]:.3g} against {use[base]:.3g} "
                f"(train {tr[base]:.3g}): shrink the network, regularize or get more data")
    return (f"good fit: the current size ({n_params[base]} parameters, test loss "
            f"{use[base]:.3g}) is within {tol:.2g} of the best variant")


def capacity_sweep(config, factors=(0.5, 1, 2, 4), *, seeds: int = 1,
                   steps: int | None = None, workers: int | None = None, dask=None,
                   out=None, progress=None, cancel=None) -> CapacityResult:
    """Train the config's architecture narrower, wider, shallower and deeper."""
    cfg = load_config(config)
    variants = capacity_variants(cfg.model["hidden"], factors)
    labels = [v[0] for v in variants]
    hidden = [v[1] for v in variants]
    ds = load_dataset(cfg.data, cfg.seed)
    k = output_units(ds, cfg.model["loss"])
    n_params = np.array([Layout.build(ds.X_train.shape[1], k, h, cfg.model["output"]).n_params
                         for h in hidden])
    axis = make_axis("model.hidden", hidden)
    axis = Axis(axis.key, axis.values, tuple(labels))  # the summary shows x2, +1 layer
    spec = SweepSpec(cfg, [axis], seeds=seeds, steps=steps, workers=workers, dask=dask,
                     out=out)
    sweep = run_sweep(spec, progress, cancel)
    tr, _ = _group(sweep, len(hidden), seeds, "train_loss")
    te, _ = _group(sweep, len(hidden), seeds, "test_loss")
    verdict = ("cancelled before every size finished" if sweep.cancelled
               else capacity_verdict(labels, n_params, tr, te))
    return CapacityResult(labels, hidden, n_params, tr, te, verdict, sweep)
