"""Exact re-runs (verify) and forks of recorded sessions."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import format as F
from .reader import STATE_ARRAYS, SessionReader
from .recorder import PARAM_EVENTS, Recorder, core_hash


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of :func:`verify`.

    ``ok`` is True when every stored snapshot was reproduced bit for bit; otherwise
    ``step`` and ``array`` name the first snapshot and array that differ (``index`` the
    first differing element, ``stored`` and ``rerun`` its two values).
    """
    ok: bool
    checked: int
    total: int
    first_step: int
    last_step: int
    step: int | None = None
    array: str | None = None
    index: int | None = None
    stored: float | None = None
    rerun: float | None = None
    message: str = ""

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Bit-for-bit equality (NaN payloads included)."""
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _first_difference(a: np.ndarray, b: np.ndarray):
    """Index and values of the first element whose bytes differ (None when shapes differ)."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return None, None, None
    fa, fb = a.reshape(-1), b.reshape(-1)
    ne = np.flatnonzero((fa.view(np.uint8).reshape(fa.size, -1)
                         != fb.view(np.uint8).reshape(fb.size, -1)).any(axis=1))
    if ne.size == 0:
        return None, None, None
    i = int(ne[0])
    return i, fa[i].item(), fb[i].item()


class _Checker:
    """Listener on the re-run: compares each stored snapshot at the moment it was taken."""

    def __init__(self, reader: SessionReader, snaps, applied: int):
        self.reader = reader
        self.snaps = list(snaps)
        self.applied = applied
        self.checked = 0
        self.failure: dict | None = None

    def on_event(self, run, event) -> None:
        if event.kind in PARAM_EVENTS:
            self.applied += 1
            self.compare_due(run)

    def compare_due(self, run) -> None:
        while self.failure is None and self.snaps and self.snaps[0].step == run.step \
                and self.snaps[0].n_applied == self.applied:
            self.compare(run, self.snaps.pop(0))

    def compare(self, run, info) -> None:
        try:
            stored = self.reader.snapshot_state(info)
        except F.SessionError as e:
            self.failure = {"step": info.step, "array": getattr(e, "array", "snapshot"),
                            "index": None, "stored": None, "rerun": None,
                            "why": f"the stored snapshot cannot be read: {e}"}
            return
        mine = run.get_state()
        self.checked += 1
        for name in STATE_ARRAYS:
            if not _same(stored[name], mine[name]):
                i, a, b = _first_difference(stored[name], mine[name])
                self.failure = {"step": info.step, "array": name, "index": i,
                                "stored": a, "rerun": b}
                return


def verify(path, progress=None) -> VerifyResult:
    """Re-execute a session's configuration and events and compare every stored snapshot.

    A session recorded from scratch is re-run from its configuration (the step-0
    snapshot checks the initialization too); a fork or a run started from weights is
    re-run from its first snapshot. Arrays compared, bit for bit: theta, vel, acc,
    counters, rng, perm, hp.

    Parameters
    ----------
    path : str or Path
    progress : callable, optional
        ``progress(done_steps, total_steps)``.

    Raises
    ------
    SessionError
        The file cannot be read.
    """
    with SessionReader(path) as reader:
        snaps = sorted(reader.snapshots(), key=lambda s: s.id)
        if not snaps:
            raise F.SessionError(f"{reader.path} holds no snapshot to verify")
        last = max(s.step for s in snaps)
        first = snaps[0]
        run = reader.new_run(eval_every=2 ** 62)
        applied = 0
        if reader.origin != "scratch":
            run.set_state(reader.snapshot_state(first))
            run.history.first_step = run.step
            applied = first.n_applied
        checker = _Checker(reader, snaps, applied)
        run.add_listener(checker)
        run.schedule(reader.param_events()[applied:])
        total = len(snaps)
        while checker.failure is None and checker.snaps:
            checker.compare_due(run)
            if checker.failure is not None or not checker.snaps:
                break
            nxt = checker.snaps[0]
            if nxt.step > run.step:
                reader.advance(run, nxt.step)
                if run.step < nxt.step:
                    checker.failure = {"step": nxt.step, "array": "counters", "index": 0,
                                       "stored": float(nxt.step), "rerun": float(run.step),
                                       "why": f"the re-run stopped at step {run.step} "
                                              "(non-finite value)"}
                    break
                if progress is not None:
                    progress(run.step - first.step, last - first.step)
            elif nxt.step == run.step and nxt.n_applied > checker.applied:
                before = checker.applied
                run.apply_pending()
                if checker.applied == before:
                    checker.failure = {"step": nxt.step, "array": "hp", "index": None,
                                       "stored": None, "rerun": None,
                                       "why": "a recorded event is missing"}
            else:
                checker.failure = {"step": nxt.step, "array": "counters", "index": 0,
                                   "stored": float(nxt.step), "rerun": float(run.step),
                                   "why": "the snapshot cannot be reached (rewound run?)"}
        f = checker.failure
        if f is None:
            return VerifyResult(True, checker.checked, total, first.step, last,
                                message=f"pass: {checker.checked} snapshots from step "
                                        f"{first.step} to {last} reproduced bit for bit")
        why = f.get("why")
        if why:
            msg = f"FAIL at step {f['step']}: {f['array']} differs ({why})"
        elif f["index"] is not None:
            msg = (f"FAIL at step {f['step']}: {f['array']} differs (first at element "
                   f"{f['index']}: stored {f['stored']!r}, re-run {f['rerun']!r})")
        else:
            msg = f"FAIL at step {f['step']}: {f['array']} differs (shape or dtype)"
        if reader.meta.get("core") not in (None, core_hash()):
            msg += "; note: the session was recorded by a different version of the core"
        return VerifyResult(False, checker.checked, total, first.step, last, f["step"],
                            f["array"], f["index"], f["stored"], f["rerun"], msg)


def live_changes(changes: dict | None) -> dict:
    """Normalise changes given as live names (``lr``) or config keys (``optimizer.lr``)."""
    from ..run.run import _CFG_PATH, LIVE_KEYS
    by_path = {v: k for k, v in _CFG_PATH.items()}
    out = {}
    for k, v in (changes or {}).items():
        key = by_path.get(k, k)
        if key not in LIVE_KEYS:
            raise F.SessionError(f"'{k}' cannot change in a fork; these can: "
                                 + ", ".join(LIVE_KEYS))
        out[key] = v
    return out


def default_fork_path(parent, step: int) -> Path:
    """``<parent stem>.fork<step>[-k].wbsession`` next to the parent, a new name."""
    p = Path(parent)
    stem = p.name[:-len(F.SUFFIX)] if p.name.endswith(F.SUFFIX) else p.stem
    for k in range(1, 10000):
        cand = p.with_name(f"{stem}.fork{step}{'' if k == 1 else f'-{k}'}{F.SUFFIX}")
        if not cand.exists():
            return cand
    raise F.SessionError(f"no free name for a fork of {p}")


def fork(path, step: int, changes: dict | None = None, session=None,
         diagnostics: bool = True):
    """Start a new run from a recorded session's state at ``step`` with changes.

    The child starts from exactly the parent's state after ``step`` steps (parameters,
    optimizer state, data order, RNG); the changes apply at its first step boundary and
    are recorded as an ``hparams`` event. Without changes its steps are the parent's.

    Parameters
    ----------
    path : str or Path
        The parent session.
    step : int
    changes : dict, optional
        Live hyperparameters, by live name (``lr``) or config key (``optimizer.lr``).
    session : path, None or False
        The child's session file; None: next to the parent (see
        :func:`default_fork_path`); False: do not record.
    diagnostics : bool

    Returns
    -------
    Run
        Not started; call ``run_steps`` (or hand it to a Runner).
    """
    live = live_changes(changes)
    with SessionReader(path) as reader:
        step = int(step)
        if not reader.first_step <= step <= reader.last_step:
            raise F.SessionError(f"step {step} is outside the recorded steps "
                                 f"{reader.first_step}..{reader.last_step} of {reader.path}")
        run = reader.run_at(step, diagnostics=diagnostics)
        parent = str(Path(reader.path).resolve())
    if live:
        try:
            run.set_hyperparameters(**live)
        except Exception as e:
            raise F.SessionError(f"fork: {e}") from None
    if session is not False:
        target = default_fork_path(path, step) if session is None else Path(session)
        run.recorder = Recorder(target, run, origin="fork", parent=parent, fork_step=step)
        run.add_listener(run.recorder)
    run.record_event("fork", {"parent": parent, "step": step, "changes": live})
    return run
