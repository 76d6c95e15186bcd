"""Sweeps: any config keys over a grid, crossed with seeds, run in parallel.

``run_sweep(spec, progress=None, cancel=None)`` runs synchronously in the calling
thread (the window calls it from a worker thread; tests call it directly) and returns a
:class:`SweepResult`. With ``spec.out`` set, the directory gets, as results arrive:

- ``sweep.json``: the spec (base config, axes, seeds, steps, task options), format 1;
- ``summary.csv``: one row per run (see :data:`RESULT_COLUMNS`), rewritten at most once
  a second while the sweep runs (:data:`SUMMARY_SECONDS`) and at its end;
- ``runs/<name>.json`` and ``runs/<name>.npz``: the row, the findings in full, the final
  parameters and the curves (loaded back with ``allow_pickle=False``);
- ``<name>.wbsession``: the run's session file, when sessions can be recorded.

A run whose ``runs/<name>.json`` exists (and did not error) is finished: resuming the
directory (:func:`resume_sweep`, ``sweep --resume DIR``) runs only the others.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..config import ConfigError, load_config
from .backends import SweepError, connect_dask, execute
from .grid import Axis, RunSpec, columns, expand

FORMAT_VERSION = 1
#: Seconds between rewrites of summary.csv while a sweep runs.
SUMMARY_SECONDS = 1.0
RESULT_COLUMNS = ("status", "train_loss", "test_loss", "train_accuracy", "test_accuracy",
                  "steps", "wall_s", "findings", "error", "session")


@dataclass
class SweepSpec:
    """What to sweep and where to run it.

    Parameters
    ----------
    base : dict or RunConfig or path
        The configuration every run starts from.
    axes : list of Axis
        The swept keys (:func:`workbench.experiments.grid.parse_axis`, ``make_axis``).
    seeds : int
        Seeds per grid point (base seed + 0 .. seeds-1).
    steps : int or None
        Steps per run; None trains the configured epochs.
    workers : int or None
        Local processes (None: the core count; 0 or 1: in the calling thread).
    dask : str or distributed.Client or None
        Run on this Dask cluster instead of the local pool.
    out : path or None
        Directory for the summary, results and sessions (None: keep in memory only).
    sessions : bool
        Record each run to a session file in ``out`` (when recording is available).
    task : dict
        Extra task options for every run (``kind``, ``data_seed``, ``range``, ...; see
        :mod:`workbench.experiments.tasks`).
    """
    base: Any
    axes: list[Axis] = field(default_factory=list)
    seeds: int = 1
    steps: int | None = None
    workers: int | None = None
    dask: Any = None
    out: str | Path | None = None
    sessions: bool = True
    task: dict = field(default_factory=dict)

    def runs(self) -> list[RunSpec]:
        return expand(self.base, self.axes, self.seeds)

    def columns(self) -> list[str]:
        return columns(self.axes, self.seeds)

    def identity(self) -> dict:
        """The part of the spec that decides the runs' results (stored in sweep.json)."""
        return {"base": load_config(self.base).to_dict(),
                "axes": [a.to_dict() for a in self.axes], "seeds": self.seeds,
                "steps": self.steps, "task": self.task}


@dataclass
class RunResult:
    """One run of a sweep: what was swept and what came out."""
    index: int
    name: str
    changes: dict
    texts: dict
    status: str
    error: str | None = None
    train_loss: float | None = None
    test_loss: float | None = None
    train_accuracy: float | None = None
    test_accuracy: float | None = None
    steps: int = 0
    wall_s: float = 0.0
    findings: list = field(default_factory=list)
    finding_details: list = field(default_factory=list)
    theta: np.ndarray | None = None
    curves: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    session: str | None = None
    resumed: bool = False

    def row(self, cols: list[str]) -> dict:
        """The summary row: swept values as given, then the results."""
        r = {"run": self.name}
        for c in cols:
            r[c] = self.texts.get(c, "")
        r.update(status=self.status, train_loss=self.train_loss, test_loss=self.test_loss,
                 train_accuracy=self.train_accuracy, test_accuracy=self.test_accuracy,
                 steps=self.steps, wall_s=round(self.wall_s, 4),
                 findings=" ".join(self.findings), error=self.error or "",
                 session=self.session or "")
        return r


@dataclass
class SweepResult:
    """All runs of a sweep, in grid order (``runs[i]`` None when it did not run)."""
    spec: SweepSpec
    columns: list[str]
    runs: list[RunResult | None]
    cancelled: bool = False
    out: Path | None = None
    wall_s: float = 0.0

    @property
    def done(self) -> list[RunResult]:
        return [r for r in self.runs if r is not None]

    @property
    def failed(self) -> list[RunResult]:
        return [r for r in self.done if r.status == "error"]

    def rows(self) -> list[dict]:
        return [r.row(self.columns) for r in self.done]

    def resume_hint(self) -> str:
        if self.out is None:
            return ""
        return f"python main.py sweep --resume {self.out}"


# --- files ----------------------------------------------------------------------------

def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return "nan" if math.isnan(v) else repr(v)
    return str(v)


def write_summary(path: Path, cols: list[str], results: list[RunResult]) -> None:
    """Write summary.csv atomically (a reader never sees half a file)."""
    header = ["run"] + cols + list(RESULT_COLUMNS)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in sorted(results, key=lambda r: r.index):
        row = r.row(cols)
        w.writerow([_fmt(row[h]) for h in header])
    tmp = path.with_suffix(".csv.tmp")
    tmp.write_text(buf.getvalue())
    os.replace(tmp, path)


def read_summary(path: str | Path) -> list[dict]:
    """Rows of a summary.csv as dicts of strings."""
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _json_safe(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_safe(x) for x in v]
    if isinstance(v, np.generic):
        return _json_safe(v.item())
    if isinstance(v, np.ndarray):
        return _json_safe(v.tolist())
    return v


def _save_run(out: Path, r: RunResult) -> None:
    runs = out / "runs"
    runs.mkdir(exist_ok=True)
    arrays = {f"curve_{k}": np.asarray(v) for k, v in r.curves.items()}
    if r.theta is not None:
        arrays["theta"] = np.asarray(r.theta)
    tmp = runs / f"{r.name}.tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, runs / f"{r.name}.npz")
    meta = {"version": FORMAT_VERSION, "index": r.index, "name": r.name,
            "changes": r.changes, "texts": r.texts, "status": r.status, "error": r.error,
            "train_loss": r.train_loss, "test_loss": r.test_loss,
            "train_accuracy": r.train_accuracy, "test_accuracy": r.test_accuracy,
            "steps": r.steps, "wall_s": r.wall_s, "findings": r.findings,
            "finding_details": r.finding_details, "extra": r.extra, "session": r.session}
    tmpj = runs / f"{r.name}.json.tmp"
    tmpj.write_text(json.dumps(_json_safe(meta)))
    os.replace(tmpj, runs / f"{r.name}.json")


def load_run(out: str | Path, name: str) -> RunResult:
    """Load one finished run of a sweep directory (no pickles)."""
    out = Path(out)
    meta = json.loads((out / "runs" / f"{name}.json").read_text())
    curves, theta = {}, None
    npz = out / "runs" / f"{name}.npz"
    if npz.exists():
        with np.load(npz, allow_pickle=False) as z:
            for k in z.files:
                if k == "theta":
                    theta = z[k]
                elif k.startswith("curve_"):
                    curves[k[6:]] = z[k]
    fields = {k: meta.get(k) for k in ("status", "error", "train_loss", "test_loss",
                                        "train_accuracy", "test_accuracy", "session")}
    return RunResult(index=int(meta["index"]), name=meta["name"], changes=meta["changes"],
                     texts=meta["texts"], steps=int(meta.get("steps") or 0),
                     wall_s=float(meta.get("wall_s") or 0.0),
                     findings=list(meta.get("findings") or []),
                     finding_details=list(meta.get("finding_details") or []),
                     extra=dict(meta.get("extra") or {}), theta=theta, curves=curves,
                     resumed=True, **fields)


def load_sweep(out: str | Path) -> SweepResult:
    """Open a sweep directory: its spec and every finished run (the compare view)."""
    out = Path(out)
    spec = spec_from_dir(out)
    specs = spec.runs()
    runs: list[RunResult | None] = [None] * len(specs)
    for s in specs:
        if (out / "runs" / f"{s.name}.json").exists():
            runs[s.index] = load_run(out, s.name)
    return SweepResult(spec, spec.columns(), runs, out=out)


def spec_from_dir(out: str | Path) -> SweepSpec:
    """The SweepSpec stored in ``out/sweep.json``.

    Raises
    ------
    SweepError
        No sweep there, or a file this version cannot read.
    """
    p = Path(out) / "sweep.json"
    try:
        d = json.loads(p.read_text())
    except FileNotFoundError:
        raise SweepError(f"{out} is not a sweep directory: it has no sweep.json") from None
    except (OSError, json.JSONDecodeError) as e:
        raise SweepError(f"cannot read {p}: {e}") from None
    if not isinstance(d, dict) or d.get("version") != FORMAT_VERSION:
        raise SweepError(f"{p} has an unknown format version {d.get('version')!r} "
                         f"(this program reads {FORMAT_VERSION})")
    try:
        return SweepSpec(base=d["base"], axes=[Axis.from_dict(a) for a in d["axes"]],
                         seeds=int(d["seeds"]), steps=d["steps"], out=Path(out),
                         sessions=bool(d.get("sessions", True)), task=d.get("task") or {})
    except (KeyError, TypeError, ValueError, ConfigError) as e:
        raise SweepError(f"{p} is damaged: {e}") from None


def default_out(prefix: str = "sweep") -> Path:
    return Path.cwd() / f"{prefix}-{time.strftime('%Y%m%d-%H%M%S')}"


# --- running ---------------------------------------------------------------------------

def _as_cancel(cancel) -> Callable[[], bool]:
    if cancel is None:
        return lambda: False
    if hasattr(cancel, "is_set"):
        return cancel.is_set
    return cancel


def _make_task(spec: SweepSpec, rs: RunSpec, sessions: bool) -> dict:
    task = {"kind": "train", "name": rs.name, "config": rs.config, "steps": spec.steps,
            "session": sessions}
    task.update(spec.task)
    task.update(rs.extra)
    return task


def _from_result(rs: RunSpec, res: dict) -> RunResult:
    return RunResult(index=rs.index, name=rs.name, changes=rs.changes, texts=rs.texts,
                     status=res["status"], error=res.get("error"),
                     train_loss=res.get("train_loss"), test_loss=res.get("test_loss"),
                     train_accuracy=res.get("train_accuracy"),
                     test_accuracy=res.get("test_accuracy"), steps=int(res.get("steps", 0)),
                     wall_s=float(res.get("wall_s", 0.0)),
                     findings=list(res.get("findings") or []),
                     finding_details=list(res.get("finding_details") or []),
                     theta=res.get("theta"), curves=dict(res.get("curves") or {}),
                     extra=dict(res.get("extra") or {}))


def run_sweep(spec: SweepSpec, progress: Callable | None = None, cancel=None,
              resume: bool = False) -> SweepResult:
    """Run every run of ``spec`` and return the results (synchronously).

    Parameters
    ----------
    spec : SweepSpec
    progress : callable, optional
        ``progress(done, total, run_result)`` in the calling thread after each run
        (``done`` and ``total`` count the runs this call executes).
    cancel : threading.Event or callable, optional
        Polled a few times a second; when set, runs not finished are dropped (they stay
        to be resumed) and the result says ``cancelled``.
    resume : bool
        ``spec.out`` holds this sweep already: run only what is not finished.

    Raises
    ------
    ConfigError
        Unknown grid key, bad seeds.
    SweepError
        Dask missing or unreachable; ``out`` holds a different sweep.
    """
    t0 = time.perf_counter()
    specs = spec.runs()
    cols = spec.columns()
    # reach the cluster before anything is written: a wrong address leaves no directory
    client, owned = connect_dask(spec.dask) if spec.dask is not None else (None, False)
    try:
        return _run_sweep(spec, specs, cols, client, progress, cancel, resume, t0)
    finally:
        if owned:
            client.close()


def _run_sweep(spec, specs, cols, client, progress, cancel, resume, t0) -> SweepResult:
    out = Path(spec.out) if spec.out is not None else None
    results: list[RunResult | None] = [None] * len(specs)
    if out is not None:
        if out.exists() and not out.is_dir():
            raise SweepError(f"--out {out} is a file, not a folder; choose a folder for the "
                             "sweep's sessions and summary")
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise SweepError(f"--out {out}: cannot create the folder "
                             f"({e.strerror or e})") from None
        meta = out / "sweep.json"
        ident = {"version": FORMAT_VERSION, **spec.identity(), "sessions": spec.sessions}
        if meta.exists():
            old = spec_from_dir(out)
            if not resume:
                raise SweepError(f"{out} holds a sweep already; resume it with "
                                 f"--resume {out} or choose another --out")
            if _json_safe(old.identity()) != _json_safe(spec.identity()):
                raise SweepError(f"{out} holds a different sweep (other config, grid, "
                                 "seeds or steps); resume it without changing them")
            for rs in specs:
                if (out / "runs" / f"{rs.name}.json").exists():
                    r = load_run(out, rs.name)
                    if r.status != "error":
                        results[rs.index] = r
        else:
            meta.write_text(json.dumps(_json_safe(ident), indent=1) + "\n")
    elif resume:
        raise SweepError("resuming needs the sweep's directory (out)")

    sessions = bool(spec.sessions and out is not None)
    todo, by_name = [], {}
    for rs in specs:
        if results[rs.index] is not None:
            continue
        if rs.config is None:  # invalid combination: reported, never started
            results[rs.index] = RunResult(rs.index, rs.name, rs.changes, rs.texts,
                                          status="error", error=f"ConfigError: {rs.error}")
            if out is not None:
                _save_run(out, results[rs.index])
            continue
        todo.append(_make_task(spec, rs, sessions))
        by_name[rs.name] = rs
    total = len(todo)
    done = 0
    if out is not None:
        write_summary(out / "summary.csv", cols, [r for r in results if r is not None])

    written = [time.perf_counter()]

    def on_result(res: dict) -> None:
        nonlocal done
        rs = by_name[res["name"]]
        r = _from_result(rs, res)
        if out is not None:
            blob = res.get("session")
            if blob:
                p = out / f"{rs.name}.wbsession"
                tmp = out / f".{rs.name}.wbsession.tmp"
                tmp.write_bytes(blob)
                os.replace(tmp, p)
                r.session = p.name
            _save_run(out, r)
        results[rs.index] = r
        # the summary is rewritten whole: at most once a second (and once at the end),
        # else a sweep of n runs wrote n^2 rows (10,000 quick runs took over 200 s);
        # each run's own record above is written at once
        if out is not None and time.perf_counter() - written[0] >= SUMMARY_SECONDS:
            write_summary(out / "summary.csv", cols, [x for x in results if x is not None])
            written[0] = time.perf_counter()
        done += 1
        if progress is not None:
            progress(done, total, r)

    finished = False
    try:
        finished = execute(todo, on_result, _as_cancel(cancel), spec.workers, client)
    except KeyboardInterrupt:
        finished = False
    finally:
        if out is not None:
            write_summary(out / "summary.csv", cols, [x for x in results if x is not None])
    return SweepResult(spec, cols, results, cancelled=not finished, out=out,
                       wall_s=time.perf_counter() - t0)


def finished_names(out: str | Path) -> set[str]:
    """Names of the runs a sweep directory holds as finished (not failed to start)."""
    runs = Path(out) / "runs"
    done = set()
    for p in runs.glob("*.json") if runs.is_dir() else []:
        try:
            if json.loads(p.read_text()).get("status") != "error":
                done.add(p.stem)
        except (OSError, json.JSONDecodeError):
            continue
    return done


def resume_sweep(out: str | Path, progress: Callable | None = None, cancel=None,
                 workers: int | None = None, dask=None) -> SweepResult:
    """Resume the sweep stored in ``out``: run only the runs not finished there."""
    spec = spec_from_dir(out)
    spec.workers, spec.dask = workers, dask
    return run_sweep(spec, progress, cancel, resume=True)
