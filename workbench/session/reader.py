"""Read a session file: configuration, events, metrics, evaluations, findings, states.

A file that is still being written can be opened; :meth:`SessionReader.refresh` reads what
the writer committed since (follow the live end). Any state between snapshots is
recomputed from the nearest snapshot at or before it by re-running the recorded events:
the kernels are deterministic, so the state is the one the run had.
"""
from __future__ import annotations

import dataclasses
import itertools
import json
import sqlite3
from pathlib import Path

import numpy as np

from ..config import ConfigError, RunConfig, load_config
from . import format as F
from .recorder import PARAM_EVENTS

STATE_ARRAYS = ("theta", "vel", "acc", "counters", "rng", "perm", "hp")
LAYER_FIELDS = ("gnorm", "wnorm", "uratio", "dead", "sat")
REPLAY = "replay"           # Snapshot.status of a replayed state
_NEVER = 2 ** 62            # eval_every of replay runs: evaluations cost and change nothing
_seq = itertools.count(1)


@dataclasses.dataclass(frozen=True)
class SnapshotInfo:
    """One stored snapshot: ``n_applied`` parameter events were applied when it was taken."""
    id: int
    step: int
    n_applied: int
    reason: str
    time: float


class SessionReader:
    """An open session file.

    Parameters
    ----------
    path : str or Path
    quick_check : bool
        Run SQLite's structural check on open (refuses damaged files early; a few ms per
        MB).

    Raises
    ------
    SessionError
        One line naming the file and the problem: missing, empty, not SQLite, another
        program's database, a newer format, damaged.
    """

    def __init__(self, path, quick_check: bool = True):
        self.path = Path(path)
        F.check_header(self.path)
        try:
            try:
                self._conn = F.connect(self.path)
            except sqlite3.OperationalError:
                self._conn = F.connect(self.path, readonly=True)
            self.version = F.check_identity(self._conn, self.path, quick_check)
            if self.version < F.FORMAT_VERSION:
                self.version = F.migrate(self._conn, self.version, self.path)
            self.meta = self._read_meta()
        except sqlite3.Error as e:
            self._close_quietly()
            raise F.db_error(self.path, e) from None
        except F.SessionError:
            self._close_quietly()
            raise
        except F.CONTENT_ERRORS as e:       # e.g. quick_check's answer not UTF-8
            self._close_quietly()
            raise F.damaged(self.path, e) from None
        try:
            self.config: RunConfig = load_config(self.meta["config"])
        except (ConfigError, KeyError, TypeError) as e:
            self._close_quietly()
            raise F.SessionError(f"{self.path} is damaged (its configuration: {e})") from None
        try:
            self._read_contents()
        except F.CONTENT_ERRORS as e:
            self._close_quietly()
            raise F.damaged(self.path, e) from None

    def _read_contents(self) -> None:
        self.first_step = int(self.meta.get("first_step") or 0)
        self.n_layers = int(self.meta.get("n_layers") or 0)
        self._last = {t: 0 for t in ("events", "chunks", "evaluations", "snapshots",
                                     "findings")}
        self._events: list[dict] = []
        self._chunks: list[tuple[int, dict]] = []
        self._evals: list[dict] = []
        self._snaps: list[SnapshotInfo] = []
        self._findings: list[tuple[int, list]] = []
        self._metrics_cache: dict | None = None
        self._evals_cache: dict | None = None
        self._replay = None            # (run, base snapshot id)
        self._dataset = None
        self.refresh()

    # --- opening and following ----------------------------------------------------------------
    def _close_quietly(self) -> None:
        try:
            self._conn.close()
        except Exception:
            pass

    def close(self) -> None:
        self._close_quietly()

    def __enter__(self) -> "SessionReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _read_meta(self) -> dict:
        meta = {}
        for k, v in self._conn.execute("SELECT key, value FROM meta"):
            try:
                meta[k] = json.loads(v)
            except (json.JSONDecodeError, TypeError):
                raise F.SessionError(f"{self.path} is damaged (meta {k!r} is not JSON)") \
                    from None
        if meta.get("app") != "workbench" or "config" not in meta:
            raise F.SessionError(f"{self.path} is damaged (no workbench metadata)")
        return meta

    def _rows(self, table: str, cols: str):
        return self._conn.execute(f"SELECT id, {cols} FROM {table} WHERE id > ? ORDER BY id",
                                  (self._last[table],)).fetchall()

    def refresh(self) -> bool:
        """Read what was committed since the last call; True when something new arrived."""
        try:
            new = self._refresh()
        except sqlite3.Error as e:
            raise F.db_error(self.path, e) from None
        if new:
            self._metrics_cache = None
            self._evals_cache = None
        return new

    def _refresh(self) -> bool:
        new = False
        if self.meta.get("closed") is None:
            self.meta = self._read_meta()
        for rid, step, t, kind, payload in self._rows("events", "step, time, kind, payload"):
            try:
                p = json.loads(payload)
            except json.JSONDecodeError:
                raise F.SessionError(f"{self.path} is damaged (event {rid})") from None
            self._events.append({"id": rid, "step": int(step), "time": float(t),
                                 "kind": str(kind), "payload": p})
            self._last["events"] = rid
            new = True
        for rid, start, count, directory, blob in self._rows(
                "chunks", "start, count, arrays, data"):
            arrays = F.decode_arrays(directory, blob, f"{self.path} (metrics row {rid})")
            if any(arrays.get(f) is None or arrays[f].shape[0] != count
                   for f in ("loss", "lr", "flags") + LAYER_FIELDS):
                raise F.SessionError(f"{self.path} is damaged (metrics row {rid})")
            self._chunks.append((int(start), arrays))
            self._last["chunks"] = rid
            new = True
        for rid, _step, row in self._rows("evaluations", "step, row"):
            try:
                r = json.loads(row)
            except json.JSONDecodeError:
                raise F.SessionError(f"{self.path} is damaged (evaluation {rid})") from None
            self._evals.append(r)
            self._last["evaluations"] = rid
            new = True
        for rid, step, n_applied, reason, t in self._rows(
                "snapshots", "step, n_applied, reason, time"):
            self._snaps.append(SnapshotInfo(rid, int(step), int(n_applied), str(reason),
                                            float(t)))
            self._last["snapshots"] = rid
            new = True
        for rid, step, found in self._rows("findings", "step, findings"):
            try:
                self._findings.append((int(step), json.loads(found)))
            except json.JSONDecodeError:
                raise F.SessionError(f"{self.path} is damaged (findings {rid})") from None
            self._last["findings"] = rid
            new = True
        return new

    # --- what was recorded ---------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        """True when the recording ended normally (False: still live, or killed)."""
        return self.meta.get("closed") is not None

    @property
    def origin(self) -> str:
        return self.meta.get("origin") or "scratch"

    @property
    def parent(self) -> str | None:
        return self.meta.get("parent")

    @property
    def fork_step(self) -> int | None:
        return self.meta.get("fork_step")

    @property
    def app_version(self) -> str:
        return str(self.meta.get("app_version"))

    @property
    def size(self) -> int:
        """Bytes on disk (main file plus write-ahead log)."""
        wal = F.side_files(self.path)[0]
        return self.path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)

    def events(self, upto: int | None = None) -> list[dict]:
        """Events in order: dicts with id, step, time, kind, payload."""
        if upto is None:
            return list(self._events)
        return [e for e in self._events if e["step"] <= upto]

    def param_events(self) -> list[dict]:
        """The events that change parameters (re-applied by re-runs), in order."""
        return [e for e in self._events if e["kind"] in PARAM_EVENTS]

    def snapshots(self) -> list[SnapshotInfo]:
        """The stored snapshots in the order taken, less those a rewind made obsolete
        (taken after the step a rewind went back to, before the rewind)."""
        rewinds = [e for e in self._events if e["kind"] == "rewind"]
        if not rewinds:
            return list(self._snaps)
        return [s for s in self._snaps
                if not any(s.time < e["time"] and s.step > e["payload"].get("to_step", 0)
                           for e in rewinds)]

    def advance(self, run, step: int) -> None:
        """Train a re-run to ``step``, redoing the recorded rewinds where it stops at a
        non-finite value (as the user did)."""
        rewinds = {int(e["payload"].get("from_step", -1)) for e in self._events
                   if e["kind"] == "rewind"}
        while run.step < step:
            run.run_steps(step - run.step)
            if run.step < step and run.nonfinite is not None \
                    and run.nonfinite.step in rewinds:
                rewinds.discard(run.nonfinite.step)
                run.rewind_to_finite()
                continue
            break

    def snapshot_state(self, info: SnapshotInfo) -> dict[str, np.ndarray]:
        """The arrays of one stored snapshot (what Run.get_state() returned)."""
        try:
            row = self._conn.execute("SELECT arrays, data FROM snapshots WHERE id = ?",
                                     (info.id,)).fetchone()
        except sqlite3.Error as e:
            raise F.db_error(self.path, e) from None
        if row is None:
            raise F.SessionError(f"{self.path} is damaged (snapshot {info.id} missing)")
        state = F.decode_arrays(row[0], row[1], f"{self.path} (snapshot at step {info.step})")
        missing = [k for k in STATE_ARRAYS if k not in state]
        if missing:
            raise F.SessionError(f"{self.path} is damaged (snapshot at step {info.step} "
                                 f"lacks {', '.join(missing)})")
        return state

    def metrics(self) -> dict[str, np.ndarray]:
        """Every step's metrics, like ``History.steps()``: loss, lr, flags (n,), gnorm,
        wnorm, uratio, dead, sat (n, L) and step (n,) with the 1-based step numbers."""
        if self._metrics_cache is None:
            parts: dict[str, list] = {f: [] for f in ("loss", "lr", "flags") + LAYER_FIELDS}
            end = self.first_step
            for start, arrays in self._chunks:
                if start < end:   # the run was rewound: later records replace earlier ones
                    self._truncate_parts(parts, start - self.first_step)
                    end = start
                elif start > end:
                    raise F.SessionError(f"{self.path} is damaged (steps {end + 1} to "
                                         f"{start} missing)")
                for f in parts:
                    parts[f].append(arrays[f])
                end = start + arrays["loss"].shape[0]
            L = max(self.n_layers, 1)
            out = {}
            for f, lst in parts.items():
                if lst:
                    out[f] = np.concatenate(lst)
                else:
                    shape = (0, L) if f in LAYER_FIELDS else (0,)
                    out[f] = np.zeros(shape, np.int8 if f == "flags" else np.float64)
            out["step"] = np.arange(self.first_step + 1, self.first_step + out["loss"].shape[0]
                                    + 1)
            for a in out.values():
                a.flags.writeable = False
            self._metrics_cache = out
        return self._metrics_cache

    @staticmethod
    def _truncate_parts(parts: dict, n: int) -> None:
        for lst in parts.values():
            if lst:
                whole = np.concatenate(lst)[:n]
                lst[:] = [whole]

    @property
    def last_step(self) -> int:
        """The last step with recorded metrics (or snapshot)."""
        m = self.metrics()
        last = self.first_step + int(m["loss"].shape[0])
        snaps = self.snapshots()
        if snaps:
            last = max(last, max(s.step for s in snaps))
        return last

    def evaluation_rows(self) -> list[dict]:
        """Evaluations as recorded (step, epoch, train_loss, test_loss, train_acc, ...)."""
        rows: list[dict] = []
        for r in self._evals:
            while rows and rows[-1]["step"] >= r["step"]:   # rewound
                rows.pop()
            rows.append(r)
        return rows

    def evaluations(self) -> dict[str, np.ndarray]:
        """Evaluations as arrays, like ``History.evals()`` (NaN where not defined)."""
        if self._evals_cache is None:
            rows = self.evaluation_rows()
            out = {}
            for f in ("step", "train_loss", "test_loss", "train_acc", "test_acc"):
                out[f] = np.array([np.nan if r.get(f) is None else float(r[f]) for r in rows],
                                  np.float64)
            L = max(self.n_layers, 1)
            for f in ("eval_dead", "eval_sat"):
                out[f] = np.array([[np.nan if v is None else v for v in (r.get(f) or [])]
                                   or [np.nan] * L for r in rows],
                                  np.float32).reshape(len(rows), -1) if rows else \
                    np.zeros((0, L), np.float32)
            for a in out.values():
                a.flags.writeable = False
            self._evals_cache = out
        return self._evals_cache

    def findings(self) -> list[dict]:
        """The findings of the last stored list (the run's findings when it ended)."""
        return list(self._findings[-1][1]) if self._findings else []

    def findings_at(self, step: int) -> list[dict]:
        """Findings raised at or before ``step`` and not resolved by then."""
        latest: dict = {}
        for _, found in self._findings:
            for f in found:
                latest[(f.get("code"), f.get("step"), f.get("source"))] = f
        out = []
        for f in latest.values():
            s, r = f.get("step"), f.get("resolved_step")
            if s is not None and s <= step and (r is None or r > step):
                out.append(f)
        return sorted(out, key=lambda f: (f.get("step") or 0))

    def nonfinite_step(self) -> int | None:
        """The first step whose flags report a non-finite value, or None."""
        flags = self.metrics()["flags"]
        bad = np.flatnonzero(flags)
        return None if bad.size == 0 else self.first_step + int(bad[0]) + 1

    # --- states -----------------------------------------------------------------------------------
    def dataset(self):
        """The dataset of the run: the one stored in the file (points placed by hand, CSV
        data), else rebuilt from the configuration."""
        if self._dataset is None:
            from ..data import Dataset, DataError, load_dataset
            try:
                row = self._conn.execute("SELECT info, arrays, data FROM blobs WHERE name = "
                                         "'dataset'").fetchone()
            except sqlite3.Error as e:
                raise F.db_error(self.path, e) from None
            if row is not None:
                arrays = F.decode_arrays(row[1], row[2], f"{self.path} (its data set)")
                try:
                    self._dataset = Dataset(**json.loads(row[0]), **arrays)
                except (TypeError, ValueError) as e:
                    raise F.SessionError(f"{self.path} is damaged (its data set: {e})") \
                        from None
            else:
                try:
                    self._dataset = load_dataset(self.config.data, self.config.seed)
                except (DataError, ConfigError, OSError) as e:
                    raise F.SessionError(f"{self.path}: the data set of this session "
                                         f"cannot be rebuilt ({e})") from None
        return self._dataset

    def new_run(self, diagnostics: bool = False, **kw):
        """A fresh Run of the recorded configuration (not positioned)."""
        from ..run import Run
        try:
            return Run(self.config, dataset=self.dataset(), diagnostics=diagnostics, **kw)
        except ConfigError as e:
            raise F.SessionError(f"{self.path}: its configuration cannot be run here ({e})") \
                from None

    def _base_snapshot(self, step: int) -> SnapshotInfo:
        best = None
        for s in self.snapshots():
            if s.step <= step and (best is None or (s.step, s.id) >= (best.step, best.id)):
                best = s
        if best is None:
            raise F.SessionError(f"{self.path} has no state at or before step {step}")
        return best

    def _positioned_run(self, step: int):
        """The cached replay run, moved to ``step`` (events due at ``step`` applied)."""
        step = int(step)
        if step < self.first_step:
            raise F.SessionError(f"step {step} is before the first step of {self.path} "
                                 f"({self.first_step})")
        base = self._base_snapshot(step)
        cached = self._replay
        if cached is not None and base.step <= cached.step <= step:
            run = cached
        else:
            run = self.new_run(eval_every=_NEVER)
            run.set_state(self.snapshot_state(base))
            run.history.first_step = run.step
            run.schedule([e for e in self.param_events()][base.n_applied:])
            self._replay = run
        if step > run.step:
            self.advance(run, step)
        run.apply_pending()
        return run

    def state_at(self, step: int) -> dict[str, np.ndarray]:
        """The full state after ``step`` steps and the events recorded at that step.

        The nearest snapshot at or before ``step``, then the recorded run recomputed
        forward to it (deterministic kernels: bit for bit what the run had).

        Returns
        -------
        dict of np.ndarray
            theta (P,), vel (P,), acc (P,), counters (4,) int64, rng (1,) uint64,
            perm (n_train,) int64, hp (7,).
        """
        return self._positioned_run(step).get_state()

    def run_at(self, step: int, diagnostics: bool = True):
        """A new Run (not recording) in the state of step ``step``."""
        run = self.new_run(diagnostics=diagnostics)
        run.set_state(self.state_at(step))
        run.history.first_step = run.step
        return run

    def snapshot_at(self, step: int):
        """What the window's panels need at ``step``: a :class:`workbench.run.Snapshot`
        with the step and evaluation arrays truncated to it, theta at it, the events up
        to it and the findings active at it (``views`` empty, ``status`` "replay")."""
        from ..run import NonFinite, Snapshot
        step = max(self.first_step, min(int(step), self.last_step))
        run = self._positioned_run(step)
        m = self.metrics()
        n = max(0, min(step - self.first_step, m["loss"].shape[0]))
        steps = {k: v[:n] for k, v in m.items()}
        ev = self.evaluations()
        k = int(np.searchsorted(ev["step"], step, side="right"))
        evals = {f: v[:k] for f, v in ev.items()}
        bad = np.flatnonzero(steps["flags"])
        nonfinite = (NonFinite(self.first_step + int(bad[0]) + 1, int(steps["flags"][bad[0]]))
                     if bad.size else None)
        epochs = int(self.config.training["epochs"])
        return Snapshot(
            seq=next(_seq), status=REPLAY, step=run.step, epoch=run.epoch,
            # scaled so that step / total_steps is the share of the epochs done ("% of
            # epochs"), also after a batch-size change (steps per epoch changed)
            epoch_progress=run.epoch_progress,
            total_steps=max(run.step, round(run.step * epochs / run.epoch_progress))
            if run.epoch_progress > 0 else epochs * run.steps_per_epoch,
            epochs=epochs, lr=run.current_lr, hp=dict(run.hp), steps_per_s=0.0,
            steps=steps, evals=evals,
            events=tuple({k2: e[k2] for k2 in ("step", "kind", "payload", "time")}
                         for e in self._events if e["step"] <= step),
            theta=run.network.theta.copy(), nonfinite=nonfinite,
            # as they stood at the step: a resolution recorded later is not known yet
            findings=tuple(_finding({**f, "resolved_step": None})
                           for f in self.findings_at(step)), views={},
            message=f"replay of {self.path.name}", time=0.0)

    def check(self) -> list[str]:
        """Consistency problems of what is committed (empty when all is well)."""
        problems = []
        try:
            m = self.metrics()
            last = self.last_step
            for s in self.snapshots():
                st = self.snapshot_state(s)
                if int(st["counters"][K_STEP]) != s.step:
                    problems.append(f"snapshot {s.id} says step {int(st['counters'][0])}, "
                                    f"stored as {s.step}")
            for r in self.evaluation_rows():
                if r["step"] > last:
                    problems.append(f"evaluation at step {r['step']} after the last step {last}")
            if m["loss"].shape[0] and int(m["step"][-1]) != self.first_step + m["loss"].shape[0]:
                problems.append("step numbers are not contiguous")
        except F.SessionError as e:
            problems.append(str(e))
        return problems


K_STEP = 0  # index of the step counter in Run.get_state()["counters"] (kernels.C_STEP)


def _finding(d: dict):
    """A Finding object when the diagnostics' class accepts the stored fields, else the dict."""
    try:
        from ..diagnostics import Finding
        names = {f.name for f in dataclasses.fields(Finding)}
        return Finding(**{k: v for k, v in d.items() if k in names})
    except Exception:
        return d


def open_session(path, quick_check: bool = True) -> SessionReader:
    """Open a session file for reading (see :class:`SessionReader`)."""
    return SessionReader(path, quick_check=quick_check)
