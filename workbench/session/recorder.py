"""Record a run to a session file while it trains.

The training thread only appends references to a bounded deque (and, at every
parameter-changing event and at intervals, a copy of ``run.get_state()``: at most every
:data:`SNAPSHOT_STEPS` steps and only as often as keeps their measured cost under
:data:`SNAPSHOT_COST_SHARE` of the training time, at least every
:data:`SNAPSHOT_SECONDS`); a writer thread encodes the records, merges consecutive chunks
and commits a transaction at least every :data:`COMMIT_SECONDS`. A process killed at any
moment leaves a file that opens, missing at most the records of the last commit period.
"""
from __future__ import annotations

import atexit
import collections
import json
import os
import socket
import sqlite3
import threading
import time
import weakref
from pathlib import Path

import numpy as np

from .. import __version__
from . import format as F

COMMIT_SECONDS = 0.2      # commit at least this often (the issue asks for 250 ms)
SNAPSHOT_STEPS = 1000       # a full state at most every this many steps, and only when
SNAPSHOT_COST_SHARE = 0.01  # snapshots then cost at most this share of the training time
SNAPSHOT_GAP_MAX = 0.03     # (that gap capped at this many seconds: seeks stay short)
SNAPSHOT_SECONDS = 2.0      # a full state at least every this many seconds of training
FINDINGS_SECONDS = 2.0    # store the findings this often (and at close)
QUEUE_ITEMS = 512         # bound on records waiting for the writer (memory stays bounded)
METRIC_FIELDS = ("loss", "lr", "flags", "gnorm", "wnorm", "uratio", "dead", "sat")
METRIC_DTYPES = {"loss": np.float64, "lr": np.float64, "flags": np.int8,
                 **{f: np.float32 for f in ("gnorm", "wnorm", "uratio", "dead", "sat")}}
# Noisy series (loss, gradient and weight norms, update ratios) shrink by only 10-50 %
# under zlib, which costs more CPU (~15 ns a byte) than SQLite spends writing the bytes
# saved (~4 ns a byte): stored raw. The others are XOR-deflated where that pays (constant
# or rarely changing: lr, flags, dead and saturated fractions), chunk by chunk ("auto").
METRIC_CODECS = {"loss": "raw", "gnorm": "raw", "uratio": "raw", "wnorm": "auto", "lr": "auto",
                 "flags": "auto", "dead": "auto", "sat": "auto"}
# Snapshots: all raw (a deflated data order saved 4.5 kB for more CPU than writing it).
SNAPSHOT_CODECS = "raw"
PARAM_EVENTS = ("hparams", "weight")
_CLOSE = object()


def _config_dict(run) -> dict:
    return run.config.to_dict()


_CORE_HASH: str | None = None


def core_hash() -> str:
    """A hash of the core's source: re-runs are bit-exact only with the same core code."""
    global _CORE_HASH
    if _CORE_HASH is None:
        import hashlib
        h = hashlib.sha256()
        core = Path(__file__).resolve().parent.parent / "core"
        for f in sorted(core.glob("*.py")):
            h.update(f.name.encode() + b"\0" + f.read_bytes())
        _CORE_HASH = h.hexdigest()[:16]
    return _CORE_HASH


class Recorder:
    """Listen to a :class:`~workbench.run.Run` and write everything to a session file.

    Parameters
    ----------
    path : str or Path
        The ``.wbsession`` file. An existing session file there is replaced; any other
        existing file is refused (SessionError), never overwritten.
    run : Run
        The run to record; its current state is the first snapshot, written before this
        constructor returns (so the file exists and opens from the first record on).
    origin : str
        ``"scratch"`` (the config alone reproduces the run), ``"fork"`` or ``"weights"``
        (the first snapshot is the starting point).
    parent : str, optional
        The parent session of a fork.
    fork_step : int, optional
        The parent step the fork starts from.

    Attributes
    ----------
    error : str or None
        Why recording stopped (disk full, read-only, ...), one line; records after it are
        dropped, everything committed before stays. :meth:`add_error_listener` tells the
        window at once, so it can show the message and pause training.
    blocked_seconds : float
        Time the training thread waited on a full queue (the writer fell behind).
    writer_cpu_seconds : float
        CPU time of the writer thread (encoding and writing).
    """

    def __init__(self, path, run, *, origin: str = "scratch", parent: str | None = None,
                 fork_step: int | None = None, extra_meta: dict | None = None,
                 overwrite: bool = False):
        self.path = Path(path)
        self._overwrite = overwrite
        self.error: str | None = None
        self.blocked_seconds = 0.0
        self.records_dropped = 0
        self.commits = 0
        self.writer_cpu_seconds = 0.0   # CPU time the writer thread spent encoding/writing
        # The training thread appends to a deque (no lock, no wake-up of the writer: waking
        # it per record made the two threads trade the GIL on every chunk); the writer
        # sleeps COMMIT_SECONDS, then takes everything at once.
        self._items: collections.deque = collections.deque()
        self._wake = threading.Event()
        self._space = threading.Condition()
        self._closed = False
        self._n_applied = 0
        self._n_events = 0
        self._snap_step = run.step
        self._snap_time = time.monotonic()
        self._snap_due = False
        self._snap_cost = 0.0     # seconds one snapshot costs (both threads, running mean)
        self._snap_writer_cost = 0.0
        self._findings_time = time.monotonic()
        self._error_listeners: list = []
        self._run_ref = weakref.ref(run)
        meta = {"format": F.FORMAT_VERSION, "app": "workbench", "app_version": __version__,
                "created": time.time(), "host": socket.gethostname(),
                "config": _config_dict(run), "origin": origin, "parent": parent,
                "fork_step": fork_step, "n_layers": run.network.n_layers,
                "n_params": int(run.network.layout.n_params), "n_train": run.n_train,
                "first_step": run.step, "dtype": run.dtype.name, "closed": None,
                "core": core_hash()}
        meta.update(extra_meta or {})
        self._create(meta, run.get_state(), run.step, run)
        self._thread = threading.Thread(target=self._writer, name="workbench-session",
                                        daemon=True)
        self._thread.start()
        # flush on interpreter exit even when nobody calls finish()
        ref = weakref.ref(self)
        self._atexit = lambda: (r := ref()) is not None and r.close()
        atexit.register(self._atexit)
        # a run dropped without finish(): stop the writer after what it already has
        weakref.finalize(run, Recorder._stop_writer, self._items, self._wake)

    # --- creation --------------------------------------------------------------------------
    @staticmethod
    def _check_not_recording(p: Path) -> None:
        """Refuse to replace the session file ``p`` when it looks recorded right now: not
        closed, and the file or its write-ahead log changed within
        :data:`format.QUIET_SECONDS` (a file a killed run left unclosed is older and is
        taken)."""
        try:
            closed = _closed(p)
        except Exception:  # noqa: BLE001 - unreadable: not ours to protect
            return
        if closed:
            return
        if F.seconds_unwritten(p) < F.QUIET_SECONDS:
            raise F.SessionError(f"{p} is being recorded by another run; not overwritten")

    def _create(self, meta: dict, state: dict, step: int, run) -> None:
        p = self.path
        if not p.parent.is_dir():
            raise F.SessionError(f"cannot create session file {p}: the folder {p.parent} "
                                 "does not exist")
        if p.exists() or p.is_symlink():
            # never replace what is there: a device (``--out /dev/null`` as root replaced
            # the device with a file), a folder, another file, or a recorded session (a
            # second ``train --out`` of the same name replaced the first run's recording
            # while it trained); an empty regular file (a name made by mktemp) is taken
            if not p.is_file() or p.is_symlink():
                raise F.SessionError(f"{p} exists and is not a regular file; not overwritten")
            if p.stat().st_size:
                if F.is_session_file(p):
                    if not self._overwrite:
                        raise F.SessionError(f"{p} already holds a recorded session; choose "
                                             "another name, delete it, or overwrite it "
                                             "(--overwrite)")
                    self._check_not_recording(p)
                else:
                    raise F.SessionError(f"{p} exists and is not a session file; "
                                         "not overwritten")
        # build the file under a temporary name so a crash never leaves half a header
        tmp = p.with_name(p.name + f".tmp{os.getpid()}")
        F.remove_files(tmp)
        try:
            conn = F.create(tmp)
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO meta VALUES (?, ?)",
                             [(k, json.dumps(v)) for k, v in meta.items()])
            directory, blob = F.encode_arrays(state, SNAPSHOT_CODECS)
            conn.execute("INSERT INTO snapshots (step, n_applied, reason, time, arrays, data)"
                         " VALUES (?, 0, 'start', ?, ?, ?)", (step, time.time(), directory,
                                                              blob))
            custom = _custom_dataset(run)
            if custom is not None:
                conn.execute("INSERT INTO blobs VALUES ('dataset', ?, ?, ?)", custom)
            conn.execute("COMMIT")
            conn.close()
            for q in F.side_files(p):
                q.unlink(missing_ok=True)
            os.replace(tmp, p)
        except (sqlite3.Error, OSError) as e:
            tmp.unlink(missing_ok=True)
            raise F.SessionError(f"cannot create session file {p}: {e}") from None

    # --- listener interface (training thread) ---------------------------------------------
    def _put(self, item) -> None:
        if self.error is not None or self._closed:
            self.records_dropped += 1
            return
        if len(self._items) >= QUEUE_ITEMS:
            # backpressure: only when the disk is slower than training for a long while
            tic = time.perf_counter()
            self._wake.set()
            with self._space:
                while len(self._items) >= QUEUE_ITEMS and self.error is None:
                    self._space.wait(0.1)
            self.blocked_seconds += time.perf_counter() - tic
        self._items.append(item)

    def _snapshot(self, run, reason: str) -> None:
        tic = time.perf_counter()
        self._put(("snapshot", run.step, self._n_applied, reason, time.time(),
                   run.get_state()))
        self._snap_step = run.step
        self._snap_time = time.monotonic()
        self._snap_due = False
        cost = time.perf_counter() - tic + self._snap_writer_cost
        self._snap_cost = cost if not self._snap_cost else 0.8 * self._snap_cost + 0.2 * cost

    def _snapshot_gap(self) -> float:
        """Seconds of training between two interval snapshots: long enough that they cost
        at most SNAPSHOT_COST_SHARE of it, short enough that a seek stays quick."""
        if SNAPSHOT_COST_SHARE <= 0:
            return 0.0
        return min(self._snap_cost / SNAPSHOT_COST_SHARE, SNAPSHOT_GAP_MAX)

    def on_chunk(self, run, chunk) -> None:
        self._put(("chunk", chunk, time.time()))
        if self._snap_due or run.nonfinite is not None:
            self._snapshot(run, "interval")
            return
        steps = run.step - self._snap_step
        if steps > 0:
            elapsed = time.monotonic() - self._snap_time
            if elapsed >= SNAPSHOT_SECONDS or (steps >= SNAPSHOT_STEPS
                                               and elapsed >= self._snapshot_gap()):
                self._snapshot(run, "interval")

    def on_evaluation(self, run, row: dict) -> None:
        self._put(("eval", dict(row), time.time()))
        if time.monotonic() - self._findings_time >= FINDINGS_SECONDS:
            self._put_findings(run)

    def on_event(self, run, event) -> None:
        self._n_events += 1
        self._put(("event", event.step, event.time or time.time(), event.kind,
                   dict(event.payload)))
        if event.kind in PARAM_EVENTS:
            # applied on the training thread just before the next chunk: state is exact
            self._n_applied += 1
            self._snapshot(run, "event")
        else:
            # pause/resume may come from another thread: snapshot at the next chunk end
            self._snap_due = True

    def _put_findings(self, run) -> None:
        self._findings_time = time.monotonic()
        try:
            found = [f.to_dict() if hasattr(f, "to_dict") else dict(f) for f in run.findings()]
        except Exception as e:  # a broken rule must not stop the recording
            found = [{"code": "recorder_error", "severity": "info", "step": run.step,
                      "message": f"findings unavailable: {e}"}]
        self._put(("findings", run.step, time.time(), found))

    def add_error_listener(self, fn) -> None:
        """Call ``fn(message)`` (on the writer thread) when recording fails."""
        self._error_listeners.append(fn)

    @property
    def healthy(self) -> bool:
        return self.error is None

    def close(self, run=None, timeout: float = 10.0) -> None:
        """Write the final state and findings, mark the file closed, stop the writer."""
        if self._closed:
            return
        if run is None:
            run = self._run_ref()
        if run is not None:
            if run.step != self._snap_step or self._snap_due:
                self._snapshot(run, "close")
            self._put_findings(run)
            self._put(("meta", {"closed": time.time(), "last_step": run.step}))
        self._closed = True
        self._items.append(_CLOSE)
        self._wake.set()
        self._thread.join(timeout)
        atexit.unregister(self._atexit)

    @staticmethod
    def _stop_writer(items, wake) -> None:
        items.append(_CLOSE)
        wake.set()

    # --- writer thread ---------------------------------------------------------------------
    def _writer(self) -> None:
        conn = None
        try:
            conn = F.connect(self.path)
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(f"PRAGMA wal_autocheckpoint = {F.WAL_PAGES}")
        except (sqlite3.Error, OSError) as e:
            self._fail(e)
        done = False
        while not done:
            self._wake.wait(COMMIT_SECONDS)
            self._wake.clear()
            batch = []
            items = self._items
            while items:
                item = items.popleft()
                if item is _CLOSE:
                    done = True
                    break
                batch.append(item)
            with self._space:
                self._space.notify_all()
            if not batch:
                continue
            if conn is not None and self.error is None:
                try:
                    cpu = time.thread_time()
                    self._write(conn, batch)
                    self.writer_cpu_seconds += time.thread_time() - cpu
                    self.commits += 1
                except (sqlite3.Error, OSError, TypeError, ValueError) as e:
                    self._fail(e)
            else:
                self.records_dropped += len(batch)
        if conn is not None:
            try:
                conn.close()   # checkpoints the WAL into the main file
            except sqlite3.Error:
                pass

    def _fail(self, e: BaseException) -> None:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        if "full" in msg:
            why = "the disk is full"
        elif "readonly" in msg or "read-only" in msg or "permission" in msg.lower():
            why = "the file or its folder is read-only"
        else:
            why = msg
        self.error = (f"recording to {self.path} stopped: {why}; everything recorded "
                      "before is kept")
        # drop what waits and unblock a training thread waiting for room
        self.records_dropped += len(self._items)
        self._items.clear()
        with self._space:
            self._space.notify_all()
        for fn in self._error_listeners:
            try:
                fn(self.error)
            except Exception:
                pass

    def _write(self, conn: sqlite3.Connection, batch: list) -> None:
        conn.execute("BEGIN")
        try:
            pending: list = []   # consecutive chunks merged into one row
            evals: list = []

            def flush_chunks():
                if not pending:
                    return
                # same dtypes as History: per-layer fields float32 (a value beyond its
                # range becomes inf there too), loss and lr float64
                with np.errstate(over="ignore", invalid="ignore"):
                    arrays = {f: np.concatenate([getattr(c, f) for c, _ in pending]).astype(
                        METRIC_DTYPES[f], copy=False) for f in METRIC_FIELDS}
                directory, blob = F.encode_arrays(arrays, METRIC_CODECS)
                conn.execute("INSERT INTO chunks (start, count, time, arrays, data) "
                             "VALUES (?, ?, ?, ?, ?)",
                             (pending[0][0].start, int(arrays["loss"].shape[0]),
                              pending[-1][1], directory, blob))
                pending.clear()

            for item in batch:
                kind = item[0]
                if kind == "chunk":
                    chunk, t = item[1], item[2]
                    if chunk.n == 0:
                        continue
                    if pending and pending[-1][0].start + pending[-1][0].n != chunk.start:
                        flush_chunks()
                    pending.append((chunk, t))
                    continue
                # other records do not break a run of chunks: one transaction, any order
                if kind == "snapshot":
                    _, step, n_applied, reason, t, state = item
                    cpu = time.thread_time()
                    directory, blob = F.encode_arrays(state, SNAPSHOT_CODECS)
                    conn.execute("INSERT INTO snapshots (step, n_applied, reason, time, "
                                 "arrays, data) VALUES (?, ?, ?, ?, ?, ?)",
                                 (step, n_applied, reason, t, directory, blob))
                    # what the writer spends on one: the training thread's cadence uses it
                    # (the commit's share of the page writes is not counted: it is shared)
                    self._snap_writer_cost = time.thread_time() - cpu
                elif kind == "eval":
                    _, row, t = item
                    evals.append((int(row["step"]), t, _json(row)))
                elif kind == "event":
                    _, step, t, ev_kind, payload = item
                    conn.execute("INSERT INTO events (step, time, kind, payload) "
                                 "VALUES (?, ?, ?, ?)",
                                 (int(step), t, ev_kind, _json(payload)))
                elif kind == "findings":
                    _, step, t, found = item
                    conn.execute("INSERT INTO findings (step, time, findings) VALUES (?, ?, ?)",
                                 (int(step), t, _json(found)))
                elif kind == "meta":
                    conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                                     [(k, json.dumps(v)) for k, v in item[1].items()])
            flush_chunks()
            # one statement for all rows: each statement hands the GIL to the training
            # thread and back, which costs it most on a busy machine
            for i in range(0, len(evals), 300):
                part = evals[i:i + 300]
                conn.execute("INSERT INTO evaluations (step, time, row) VALUES "
                             + ", ".join(["(?, ?, ?)"] * len(part)),
                             [v for r in part for v in r])
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


DATASET_ARRAYS = ("X_train", "y_train", "X_test", "y_test", "raw_train", "raw_test")


def _custom_dataset(run) -> tuple[str, str, bytes] | None:
    """(info JSON, directory, blob) of the run's dataset when the configuration alone does
    not rebuild it (points edited by hand; a CSV file that may change), else None."""
    import dataclasses
    ds = run.dataset
    if run.config.data["name"] != "csv":
        from ..data import load_dataset
        try:
            base = load_dataset(run.config.data, run.config.seed)
            if all(np.array_equal(getattr(base, k), getattr(ds, k)) for k in DATASET_ARRAYS):
                return None
        except Exception:
            pass
    info = {f.name: getattr(ds, f.name) for f in dataclasses.fields(ds)
            if f.name not in DATASET_ARRAYS}
    directory, blob = F.encode_arrays({k: np.asarray(getattr(ds, k)) for k in DATASET_ARRAYS})
    return json.dumps(_plain(info)), directory, blob


def _json_default(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


_ENCODER = json.JSONEncoder(allow_nan=False, default=_json_default)


def _json(obj) -> str:
    """JSON text of ``obj`` with NaN/Inf as null; fast when there is none (evaluations)."""
    try:
        return _ENCODER.encode(obj)
    except (ValueError, TypeError):
        return json.dumps(_plain(obj))


def _plain(obj):
    """JSON-safe copy: numpy scalars and arrays to Python, NaN/Inf to None."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _plain(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and (obj != obj or obj in (float("inf"), float("-inf"))):
        return None
    return obj


def _closed(p: Path) -> bool:
    """Whether the session file ``p`` says it was closed (its meta 'closed'), read
    without opening a reader."""
    conn = F.connect(p, readonly=True)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'closed'").fetchone()
    finally:
        conn.close()
    return row is not None and json.loads(row[0]) is not None
