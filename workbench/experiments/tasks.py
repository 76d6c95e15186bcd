"""What a worker does for one run of a sweep: a plain function over plain data.

A *task* is a JSON-shaped dict (so it travels to a process pool or a Dask cluster and
can be written next to the results); :func:`execute_task` trains it with
:class:`workbench.run.Run` exactly as a run alone would be trained, and returns a
*result* dict: the summary row, the final parameters, the curves, and the session file
as bytes when sessions are recorded. It never raises: a failing run comes back with
``status`` ``"error"`` and a one-line ``error``.

Task keys
---------
kind : str
    A key of :data:`TASK_KINDS` (``"train"``, ``"range"``).
name : str
config : dict
    The full run configuration.
steps : int or None
    Steps to train; None trains the configured epochs.
session : bool
    Record a session (when :mod:`workbench.session` provides a ``Recorder``).
data_seed : int or None
    Build the dataset from this seed instead of the config's (learning curves keep the
    data fixed while seeds vary the initialization and the batch order).
train_fraction : float or None
    Train on the first ``ceil(f * n_train)`` samples of one seeded shuffle of the
    training split (see :func:`subset_indices`): nested subsets for every fraction.
range : dict
    For ``kind == "range"``: ``lr_min``, ``lr_max``, ``steps``, ``stop_factor``.
"""
from __future__ import annotations

import dataclasses
import math
import os
import shutil
import tempfile
import time
import traceback
from typing import Any, Callable

import numpy as np

SUBSET_STREAM = 7  # default_rng([data seed, 7]) shuffles the training split for subsets


def session_available() -> bool:
    """Whether runs can be recorded (the session package provides ``Recorder``)."""
    try:
        from ..session import Recorder  # noqa: F401
    except ImportError:
        return False
    return True


def subset_indices(n_train: int, fraction: float, seed: int) -> np.ndarray:
    """Indices of the training samples a run on ``fraction`` of the data uses.

    One shuffle ``default_rng([seed, 7]).permutation(n_train)`` serves every fraction;
    a fraction f keeps its first ``ceil(f * n_train)`` entries (at least one), so the
    subsets of increasing fractions are nested.

    Returns
    -------
    np.ndarray, shape (k,), int64, sorted
    """
    perm = np.random.default_rng([int(seed), SUBSET_STREAM]).permutation(n_train)
    k = max(1, min(n_train, math.ceil(float(fraction) * n_train - 1e-9)))
    return np.sort(perm[:k]).astype(np.int64)


def build_dataset(task: dict):
    """The dataset of a task (None: the Run builds it from the config)."""
    frac = task.get("train_fraction")
    data_seed = task.get("data_seed")
    if frac is None and data_seed is None:
        return None
    from ..data import load_dataset
    cfg = task["config"]
    seed = cfg.get("seed", 0) if data_seed is None else data_seed
    ds = load_dataset(cfg["data"], seed)
    if frac is not None and float(frac) < 1.0:
        idx = subset_indices(ds.X_train.shape[0], float(frac), seed)
        ds = dataclasses.replace(ds, X_train=ds.X_train[idx], y_train=ds.y_train[idx],
                                 raw_train=ds.raw_train[idx])
    return ds


def _train(run, steps: int | None, cancel: Callable[[], bool] | None = None) -> None:
    """Train like ``python main.py train``: in evaluation-sized blocks to the end."""
    total = steps if steps is not None else run.total_steps
    done = 0
    while done < total and run.nonfinite is None:
        if steps is None and run.finished:
            break
        n = run.run_steps(min(total - done, max(1, run.eval_every)))
        done += n
        if n == 0 or (cancel is not None and cancel()):
            break


def _kind_train(run, task: dict, cancel: Callable[[], bool] | None = None) -> dict:
    _train(run, task.get("steps"), cancel)
    return {}


def range_schedule(lr_min: float, lr_max: float, steps: int) -> np.ndarray:
    """lr_i = lr_min (lr_max / lr_min)^(i / (steps - 1)), i = 0 .. steps-1 (shape (steps,))."""
    if steps < 2:
        return np.array([float(lr_min)])
    return float(lr_min) * (float(lr_max) / float(lr_min)) ** (np.arange(steps) / (steps - 1))


def _kind_range(run, task: dict, cancel: Callable[[], bool] | None = None) -> dict:
    """Smith's range test: lr rises exponentially, one ``hparams`` event per step.

    Stops at the first non-finite loss or when the loss exceeds ``stop_factor`` times
    the lowest loss so far (and half the starting loss), whichever comes first, or when
    ``cancel()`` says so.
    """
    p = task["range"]
    lrs = range_schedule(p["lr_min"], p["lr_max"], int(p["steps"]))
    run.schedule([{"step": i, "kind": "hparams", "payload": {"lr": float(lr)}}
                  for i, lr in enumerate(lrs)])
    stop = float(p.get("stop_factor", 4.0))
    block = 8
    best = math.inf
    first = None
    while run.step < len(lrs) and run.nonfinite is None:
        if cancel is not None and cancel():
            break
        n = run.run_steps(min(block, len(lrs) - run.step))
        if n == 0:
            break
        loss = run.history.steps()["loss"][-block:]     # the newest steps only
        if first is None:
            first = float(loss[0])
        if not np.all(np.isfinite(loss[-n:])):
            break
        best = min(best, float(np.min(loss[-n:])))
        recent = float(np.mean(loss))
        # back above half the starting loss after falling to a quarter of it: diverged (a
        # softmax net whose units all died sits at ln C, about its starting loss, and
        # "above the start" kept a digits range test going 13,000 steps past divergence)
        if recent > stop * max(best, 1e-12) and recent > 0.5 * first:
            break
    return {}


#: Task kinds: each trains a built Run as the task asks (stopping early when its
#: ``cancel()`` says so) and returns extra result data.
TASK_KINDS: dict[str, Callable[..., dict]] = {
    "train": _kind_train,
    "range": _kind_range,
}


def _curves(run, final: dict) -> dict[str, np.ndarray]:
    """Per-step and per-evaluation curves; the evaluation curves end with the final
    summary (``final``) when the last evaluation was before the last step."""
    s = run.history.steps()
    e = run.history.evals()
    out = {"step": np.asarray(s["step"]), "loss": np.array(s["loss"]),
           "lr": np.array(s["lr"])}
    last = {"step": run.step, "train_loss": final["train_loss"],
            "test_loss": final["test_loss"], "train_acc": final["train_accuracy"],
            "test_acc": final["test_accuracy"]}
    add = len(e["step"]) == 0 or int(e["step"][-1]) != run.step
    for k in ("step", "train_loss", "test_loss", "train_acc", "test_acc"):
        v = np.array(e[k], dtype=np.float64)
        if add:
            v = np.append(v, np.nan if last[k] is None else float(last[k]))
        out["eval_" + k] = v
    return out


def _codes(findings) -> list[str]:
    codes = []
    for f in findings:
        c = getattr(f, "code", None) or (f.get("code") if isinstance(f, dict) else None)
        if c and c not in codes:
            codes.append(c)
    return codes


def execute_task(task: dict, cancel: Callable[[], bool] | None = None) -> dict:
    """Train one task and return its result (never raises; see the module docstring).

    ``cancel()``, polled between blocks of steps, stops it early; the result then has
    ``status`` ``"cancelled"`` and nothing else (the range test is one run: Cancel in
    the window waited 17 s for it to end)."""
    try:  # compile (or load) the kernels before the clock starts: wall_s is training
        from ..core import warmup
        warmup(np.dtype(task["config"]["training"]["precision"]), parallel=False)
    except Exception:  # a bad config is reported below, by the run itself
        pass
    t0 = time.perf_counter()
    res: dict[str, Any] = {"name": task.get("name", ""), "status": "error", "error": None,
                           "train_loss": None, "test_loss": None, "train_accuracy": None,
                           "test_accuracy": None, "steps": 0, "wall_s": 0.0,
                           "findings": [], "finding_details": [], "theta": None,
                           "curves": {}, "extra": {}, "session": None,
                           "session_note": None}
    tmpdir = None
    try:
        from ..core import warmup
        from ..run import Run
        kind = TASK_KINDS[task.get("kind", "train")]
        session = None
        if task.get("session"):
            if session_available():
                tmpdir = tempfile.mkdtemp(prefix="wb-sweep-")
                session = os.path.join(tmpdir, "run.wbsession")
            else:
                res["session_note"] = "session recording is not available"
        ds = build_dataset(task)
        run = Run(task["config"], dataset=ds, session=session)
        warmup(run.dtype, parallel=False)
        if task.get("train_fraction") is not None:
            res["extra"]["n_train"] = int(run.n_train)
        res["extra"].update(kind(run, task, cancel) or {})
        if cancel is not None and cancel():
            run.finish()
            res["status"] = "cancelled"
            return res
        run.finish()
        s = run.summary()
        for k in ("train_loss", "test_loss", "train_accuracy", "test_accuracy"):
            res[k] = s[k]
        res["steps"] = run.step
        details = [f.to_dict() if hasattr(f, "to_dict") else dict(f) for f in run.findings()]
        codes = _codes(details)
        if run.nonfinite is not None and "nan_or_inf" not in codes:
            codes.append("nan_or_inf")
        res["findings"] = codes
        res["finding_details"] = details
        res["theta"] = run.network.theta.copy()
        res["curves"] = _curves(run, s)
        res["status"] = ("diverged" if run.nonfinite is not None or "diverging" in codes
                         else "ok")
        if run.nonfinite is not None:
            res["extra"]["nonfinite_step"] = run.nonfinite.step
        if session is not None and os.path.exists(session):
            with open(session, "rb") as fh:
                res["session"] = fh.read()
    except Exception as e:  # a failing run is reported, never fatal to the sweep
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        res["error"] = f"{type(e).__name__}: {msg}"
        res["traceback"] = traceback.format_exc(limit=8)
    finally:
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)
    res["wall_s"] = time.perf_counter() - t0
    return res


# --- worker set-up -------------------------------------------------------------------

def init_pool_worker() -> None:
    """Process-pool initializer: one BLAS thread, Ctrl-C left to the parent, kernels
    compiled (or loaded from Numba's cache) once, here (the pool's workers are the
    parallelism: no compile children per worker)."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from threadpoolctl import threadpool_limits
    threadpool_limits(1)
    from ..core import warmup
    warmup(np.float64, parallel=False)


_DASK_READY = False


def execute_task_dask(task: dict) -> dict:
    """:func:`execute_task` on a Dask worker: kernels warmed once per worker process,
    BLAS limited to one thread while the run trains."""
    global _DASK_READY
    from threadpoolctl import threadpool_limits
    if not _DASK_READY:
        from ..core import warmup
        warmup(np.float64, parallel=False)
        _DASK_READY = True
    with threadpool_limits(1):
        return execute_task(task)
