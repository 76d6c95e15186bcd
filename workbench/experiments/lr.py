"""Learning-rate experiments: the practical test (1, 0.1, 0.01) and Smith's range test.

Both are sweeps underneath (:func:`workbench.experiments.sweep.run_sweep`), so they run
on the local pool or a Dask cluster and record their runs as sessions when given a
directory. Each returns plain data and a one-line ``verdict``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..config import load_config
from .grid import make_axis
from .sweep import RunResult, SweepResult, SweepSpec, run_sweep

DEFAULT_LRS = (1.0, 0.1, 0.01)
#: The range test measures the loss's slope over this many decades of lr either side.
SLOPE_SPAN = 0.25


@dataclass
class LRTestResult:
    """The practical learning-rate test.

    Attributes
    ----------
    lrs : list of float
    runs : list of list of RunResult
        ``runs[i]`` the seeds of ``lrs[i]``.
    score : list of float or None
        Mean training loss over the evaluations of each rate (lower learned faster;
        None when the rate diverged).
    diverged : list of bool
    best_lr : float or None
    verdict : str
    sweep : SweepResult
    """
    lrs: list
    runs: list
    score: list
    diverged: list
    best_lr: float | None
    verdict: str
    sweep: SweepResult = field(repr=False)

    def curves(self, i: int) -> dict:
        """The first seed's curves of rate i (``step``, ``loss``, ``eval_step``, ...)."""
        return self.runs[i][0].curves


def _diverged(r: RunResult) -> bool:
    if r.status != "ok":
        return True
    ev = r.curves.get("eval_train_loss")
    if r.train_loss is None or not math.isfinite(r.train_loss):
        return True
    # ended above where it started: the rate made things worse
    return ev is not None and len(ev) > 1 and r.train_loss > float(ev[0])


def _score(r: RunResult) -> float:
    ev = r.curves.get("eval_train_loss")
    return float(np.mean(ev)) if ev is not None and len(ev) else float(r.train_loss)


def lr_test(config, lrs=DEFAULT_LRS, *, momentum: float = 0.0, nesterov: bool = False,
            decay: float = 1e-6, steps: int | None = None, seeds: int = 1,
            workers: int | None = None, dask=None, out=None, progress=None,
            cancel=None) -> LRTestResult:
    """Train ``config`` with plain SGD at each rate and say which learned fastest.

    The slide's test: SGD with ``momentum`` 0, Nesterov off and ``decay`` 1e-6 at
    ``lrs`` (default 1, 0.1, 0.01). A rate *diverged* when its run stopped at NaN/Inf,
    the diagnostics called it diverging, or it ended with a higher training loss than
    it started with. Among the others, the one with the lowest mean training loss over
    its evaluations (the area under its curve) learned fastest.
    """
    base = load_config(config).with_changes({
        "optimizer.name": "sgd", "optimizer.momentum": momentum,
        "optimizer.nesterov": nesterov, "optimizer.decay": decay})
    lrs = [float(v) for v in lrs]
    spec = SweepSpec(base, [make_axis("optimizer.lr", lrs)], seeds=seeds, steps=steps,
                     workers=workers, dask=dask, out=out)
    sweep = run_sweep(spec, progress, cancel)
    runs = [sweep.runs[i * seeds:(i + 1) * seeds] for i in range(len(lrs))]
    diverged, score = [], []
    for group in runs:
        group = [r for r in group if r is not None]
        d = bool(group) and any(_diverged(r) for r in group)  # not run: not diverged
        diverged.append(d)
        score.append(None if d or not group else float(np.mean([_score(r) for r in group])))
    ok = [i for i in range(len(lrs)) if score[i] is not None]
    notes = []
    for i, d in enumerate(diverged):
        if d and runs[i] and runs[i][0] is not None:
            r = runs[i][0]
            how = (f"stopped at NaN/Inf at step {r.extra['nonfinite_step']}"
                   if "nonfinite_step" in r.extra else
                   (r.error if r.status == "error" else "diverged"))
            notes.append(f"lr {lrs[i]:g} {how}")
    if sweep.cancelled:
        verdict = "cancelled before every rate finished"
        best = None
    elif not ok:
        best = None
        verdict = (f"every rate diverged ({'; '.join(notes)}): try rates below "
                   f"{min(lrs):g}")
    else:
        b = min(ok, key=lambda i: score[i])
        best = lrs[b]
        r = runs[b][0]
        ev = r.curves.get("eval_train_loss")
        start = float(ev[0]) if ev is not None and len(ev) else float("nan")
        verdict = (f"lr {best:g} learned fastest without diverging (train loss "
                   f"{start:.3g} -> {r.train_loss:.3g} in {r.steps} steps)")
        if any("lr_too_high" in (g.findings if g is not None else ()) for g in runs[b]):
            # the table flags that rate's own run: say so beside the recommendation
            lower = [lrs[i] for i in ok if lrs[i] < best]
            verdict += ("; but its run was flagged lr_too_high (large or swinging updates)"
                        + (f": lr {max(lower):g} is the safer choice" if lower else ""))
        if notes:
            verdict += "; " + "; ".join(notes)
    return LRTestResult(lrs, runs, score, diverged, best, verdict, sweep)


# --- range test --------------------------------------------------------------------------

@dataclass
class RangeTestResult:
    """Smith's learning-rate range test.

    Attributes
    ----------
    lr : np.ndarray, shape (m,)
        The rate of each step.
    loss : np.ndarray, shape (m,)
        Each step's mini-batch loss (NaN/Inf kept where it blew up).
    smooth : np.ndarray, shape (m,)
        ``loss`` smoothed by a centred moving average (no lag against ``lr``).
    divergence_lr : float or None
        The rate where the smoothed loss first exceeded ``stop_factor`` times its
        minimum so far (or went non-finite); None when it never diverged.
    steepest_lr : float or None
        The rate where the smoothed loss fell fastest per decade of lr (slope taken over
        :data:`SLOPE_SPAN` decades either side), before its minimum.
    suggested_lr : float
        A tenth of the rate at the minimum of ``smooth`` before the divergence (fastai's
        ``SuggestionMethod.Minimum``); a decade below the divergence when the loss never
        fell; always below ``divergence_lr``.
    verdict : str
    """
    lr: np.ndarray
    loss: np.ndarray
    smooth: np.ndarray
    divergence_lr: float | None
    steepest_lr: float | None
    suggested_lr: float | None
    verdict: str
    run: RunResult | None = field(default=None, repr=False)
    cancelled: bool = False         # stopped by its cancel() before the run ended


def smooth_loss(loss: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average of ``loss`` over ``window`` steps (shorter at the ends).

    Non-finite entries and everything after them stay non-finite.
    """
    loss = np.asarray(loss, dtype=np.float64)
    m = loss.shape[0]
    out = np.full(m, np.nan)
    bad = np.flatnonzero(~np.isfinite(loss))
    end = int(bad[0]) if bad.size else m
    if end == 0:
        return out
    h = max(0, window // 2)
    c = np.concatenate([[0.0], np.cumsum(loss[:end])])
    i = np.arange(end)
    lo = np.maximum(0, i - h)
    hi = np.minimum(end, i + h + 1)
    out[:end] = (c[hi] - c[lo]) / (hi - lo)
    out[end:] = np.inf
    return out


def analyse_range(lr: np.ndarray, loss: np.ndarray, stop_factor: float = 4.0,
                  window: int | None = None) -> tuple:
    """Find the divergence point, the steepest descent and the suggestion.

    Returns
    -------
    (smooth, divergence_lr, steepest_lr, suggested_lr)
    """
    lr = np.asarray(lr, dtype=np.float64)
    m = lr.shape[0]
    window = window or max(3, m // 25)
    sm = smooth_loss(loss, window)
    div_i = None
    best = math.inf
    for i in range(m):
        if not math.isfinite(sm[i]):
            div_i = i
            break
        if sm[i] > stop_factor * best and i > window:
            div_i = i
            break
        best = min(best, sm[i])
    div_lr = float(lr[div_i]) if div_i is not None else None
    end = div_i if div_i is not None else m
    steep = None
    if end >= 3:
        seg = sm[:end]
        i_min = int(np.argmin(seg))
        # the slope per decade over a quarter of a decade either side: mini-batch noise
        # makes the slope between neighbouring steps meaningless
        loglr = np.log10(lr[:i_min + 1])
        per_decade = m / max(np.log10(lr[-1] / lr[0]), 1e-12)
        k = max(1, int(round(per_decade * SLOPE_SPAN)))
        if i_min >= 2 * k:
            s = seg[:i_min + 1]
            slope = (s[2 * k:] - s[:-2 * k]) / (loglr[2 * k:] - loglr[:-2 * k])
            j = int(np.argmin(slope))
            if slope[j] < 0:
                steep = float(lr[j + k])
    # The suggestion: a tenth of the rate at the minimum of the smoothed loss. This is
    # fastai's documented rule (Learner.lr_find, SuggestionMethod.Minimum: "the learning
    # rate at the minimum loss, divided by 10"; S. Gugger, "How do you find a good
    # learning rate", 2018: "an order of magnitude before the minimum"), after Smith,
    # "Cyclical learning rates for training neural networks" (WACV 2017, sec. 3.3). The
    # steepest descent point is kept for display only: on a noisy mini-batch curve it can
    # sit decades below the minimum (the spiral: 0.002 while the loss bottoms near 0.2).
    i_min = int(np.argmin(sm[:end])) if end >= 1 else None
    if i_min is not None and i_min > 0:
        sugg = float(lr[i_min]) / 10.0
    elif div_lr is not None:
        sugg = div_lr / 10.0
    else:
        sugg = None
    return sm, div_lr, steep, sugg


def range_test(config, *, lr_min: float = 1e-5, lr_max: float = 10.0, steps: int = 300,
               stop_factor: float = 4.0, workers: int | None = None, dask=None, out=None,
               progress=None, cancel=None) -> RangeTestResult:
    """Smith (2017): one short run whose rate rises exponentially from ``lr_min`` to
    ``lr_max`` over ``steps`` steps (one recorded ``hparams`` event per step), stopped
    once the loss diverges; suggests a rate (see :class:`RangeTestResult`)."""
    if not (0 < lr_min < lr_max):
        raise ValueError(f"the range test needs 0 < lr_min < lr_max, got {lr_min:g} and "
                         f"{lr_max:g}")
    base = load_config(config).with_changes({"optimizer.lr": float(lr_min)})
    spec = SweepSpec(base, [], steps=steps, workers=workers, dask=dask, out=out,
                     task={"kind": "range", "range": {"lr_min": float(lr_min),
                                                      "lr_max": float(lr_max),
                                                      "steps": int(steps),
                                                      "stop_factor": float(stop_factor)}})
    sweep = run_sweep(spec, progress, cancel)
    r = sweep.runs[0]
    if r is None or r.status == "error" or "loss" not in r.curves:
        why = "cancelled" if r is None else (r.error or "the run failed")
        return RangeTestResult(np.zeros(0), np.zeros(0), np.zeros(0), None, None, None,
                               f"range test did not finish: {why}", r,
                               cancelled=bool(sweep.cancelled))
    lr = np.asarray(r.curves["lr"], dtype=np.float64)
    loss = np.asarray(r.curves["loss"], dtype=np.float64)
    sm, div, steep, sugg = analyse_range(lr, loss, stop_factor)
    if sugg is None:
        verdict = (f"the loss never diverged up to lr {lr[-1]:.3g}: raise lr_max "
                   f"(the range test needs to see divergence)")
    else:
        how = ("a decade below divergence" if div is not None and sugg == div / 10.0
               else "a tenth of the rate at the minimum of the loss")
        verdict = (f"suggested lr {sugg:.3g} ({how}); the loss diverges from lr "
                   f"{div:.3g}" if div is not None else
                   f"suggested lr {sugg:.3g} ({how}); no divergence up to {lr[-1]:.3g}")
    return RangeTestResult(lr, loss, sm, div, steep, sugg, verdict, r)
