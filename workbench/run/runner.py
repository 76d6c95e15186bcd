"""Drive a Run from a background thread (plain ``threading``; no Qt here).

The worker publishes an immutable :class:`Snapshot` after each chunk, at most about 30
times a second (latest wins); readers call :meth:`Runner.latest` at any time without
blocking the training thread. Heavy views (decision grid, histograms, per-unit maps) are
registered as plain functions of the run and computed on the worker's side at a bounded
rate: while training, on the worker's view thread from a copy of what they read
(:class:`FrozenRun`) as the next chunk trains; when training stops, on the worker itself
from the run.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .run import Run

IDLE, COMPILING, RUNNING, PAUSED, FINISHED, NONFINITE, STOPPED, ERROR = (
    "idle", "compiling", "running", "paused", "finished", "nonfinite", "stopped", "error")


@dataclass(frozen=True)
class Snapshot:
    """The state of a run at one moment, safe to read from any thread."""
    seq: int
    status: str
    step: int
    epoch: int
    epoch_progress: float
    total_steps: int
    epochs: int
    lr: float
    hp: dict
    steps_per_s: float
    steps: dict          # read-only per-step arrays (History.steps())
    evals: dict          # read-only evaluation arrays (History.evals())
    events: tuple
    theta: np.ndarray
    nonfinite: Any
    findings: tuple = ()
    views: dict = field(default_factory=dict)
    message: str = ""
    time: float = 0.0


@dataclass
class View:
    fn: Callable[[Run], Any]
    interval: float
    last: float = -1e9
    value: Any = None


class FrozenRun:
    """What the worker views read, copied from a run at a step boundary: the network
    (parameters copied), the gradient, the step and the unit statistics of the last
    evaluation (a dict the run replaces, never changes). The views of a training run
    are computed from it on the view thread while the next chunk trains."""
    __slots__ = ("network", "gradient", "step", "unit_stats")

    def __init__(self, run: Run):
        self.network = run.network.copy()
        self.gradient = run.gradient.copy()
        self.step = run.step
        self.unit_stats = run.unit_stats


#: How much nicer than the process the view thread runs (Linux): with the GUI, the
#: training thread, the evaluations and the views on two cores, the views then take what
#: the other three leave. bench_ui, three interleaved pairs, live/headless 0.671 /
#: 0.695 / 0.594 at the process's priority, 0.708 / 0.754 / 0.688 at +10, the views at
#: the same rates (decision map 12 a second) and p99 lateness no worse. (The evaluation
#: thread at +10 made no difference: the worker waits for its results.)
VIEW_THREAD_NICE = 10


def _lower_this_threads_priority(nice: int) -> None:
    """Raise the calling thread's nice value by ``nice`` (Linux only: there a thread is a
    task with its own priority; elsewhere PRIO_PROCESS with a thread id would name a
    process, so nothing is done)."""
    if not sys.platform.startswith("linux") or nice <= 0:
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))
    except (AttributeError, OSError):
        pass


class _ViewThread:
    """The worker's helper: computes views off the training thread, one job at a time.
    ``idle`` is set while no job is queued or running."""

    def __init__(self):
        import queue
        self._q: "queue.SimpleQueue" = queue.SimpleQueue()
        self.idle = threading.Event()
        self.idle.set()
        self._thread = threading.Thread(target=self._loop, name="workbench-views",
                                        daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        _lower_this_threads_priority(VIEW_THREAD_NICE)
        while True:
            job = self._q.get()
            if job is None:
                return
            try:
                job()
            except Exception:  # noqa: BLE001 - the views catch their own; never die
                pass
            finally:
                self.idle.set()

    def submit(self, job: Callable[[], None]) -> None:
        self.idle.clear()
        self._q.put(job)

    def close(self, timeout: float = 2.0) -> None:
        self._q.put(None)
        self._thread.join(timeout)


class Runner:
    """A Run on its own thread with start, pause, single step, epoch step and stop.

    Parameters
    ----------
    run : Run
    publish_hz : float
        Upper bound on snapshots published per second.
    chunk_seconds : float
        Target duration of one kernel call, so commands apply promptly.
    findings : callable, optional
        ``findings()`` returns the current findings (a tuple) to put in each snapshot.
    """

    def __init__(self, run: Run, publish_hz: float = 30.0, chunk_seconds: float = 0.015,
                 findings: Callable[[], tuple] | None = None):
        self.run = run
        self._period = 1.0 / publish_hz
        self._chunk_seconds = chunk_seconds
        self._findings = findings
        self._views: dict[str, View] = {}
        self._cv = threading.Condition()
        self._playing = False
        self._budget = 0           # steps requested by step()/step_epoch()
        self._stop = False
        self._status = IDLE
        self._message = ""
        self._thread: threading.Thread | None = None
        self._seq = 0
        self._latest: Snapshot | None = None
        self._rate = 0.0           # steps per second while training (no compile)
        self._busy = False         # the worker is inside a command right now
        self._tasks: list[Callable[[Run], Any]] = []
        self._view_thread: _ViewThread | None = None
        self.error: BaseException | None = None
        self._publish(force=True)

    # --- views --------------------------------------------------------------------------
    def add_view(self, name: str, fn: Callable[[Run], Any], hz: float) -> None:
        """Compute ``fn(run)`` on the worker at most ``hz`` times a second."""
        self._views[name] = View(fn, 1.0 / hz)

    # --- commands (any thread) --------------------------------------------------------------
    def start(self) -> None:
        """Start the worker thread (paused until :meth:`play` or a step command)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="workbench-run",
                                            daemon=True)
            self._thread.start()

    def play(self) -> None:
        with self._cv:
            self._playing = True
            self._cv.notify_all()
        self.start()

    def pause(self) -> None:
        with self._cv:
            self._playing = False
            self._budget = 0
            self._cv.notify_all()

    def toggle(self) -> None:
        if self._playing:
            self.pause()
        else:
            self.play()

    @property
    def playing(self) -> bool:
        return self._playing

    def step(self, n: int = 1) -> None:
        """Train exactly ``n`` more steps, then pause."""
        with self._cv:
            self._playing = False
            self._budget += int(n)
            self._cv.notify_all()
        self.start()

    def step_epoch(self) -> None:
        self.step(self.run.steps_per_epoch)

    def submit(self, task: Callable[[Run], Any]) -> None:
        """Run ``task(run)`` on the worker at the next step boundary."""
        with self._cv:
            self._tasks.append(task)
            self._cv.notify_all()
        self.start()

    def stop(self, timeout: float = 2.0) -> bool:
        """Stop the worker and join it; True when it ended within ``timeout``."""
        with self._cv:
            self._stop = True
            self._playing = False
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def latest(self) -> Snapshot:
        """The newest snapshot (never blocks)."""
        return self._latest  # type: ignore[return-value]

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until no steps are pending and not playing (tests, scripts)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._cv:
                busy = self._playing or self._budget > 0 or self._tasks or self._busy
            if not busy and self._status != COMPILING:
                return True
            time.sleep(0.005)
        return False

    # --- worker -------------------------------------------------------------------------------
    def _loop(self) -> None:
        run = self.run
        try:
            self._status = COMPILING
            self._publish(force=True)
            from ..core.warmup import warmup
            warmup(run.dtype)
            if run.monitor is not None:
                type(run.monitor).warmup()   # the diagnostics' compiled reductions
            self._status = PAUSED
            if run.step == 0 and run._evaluated_at < 0:
                run.run_steps(0)
            self._update_views(force=True)      # the first picture, before any step
            self._publish(force=True)
            last_pub = 0.0
            while True:
                with self._cv:
                    idle = not self._stop and not self._playing and self._budget <= 0 \
                        and not self._tasks
                if idle and self._status == RUNNING:
                    # paused between two chunks: say so before waiting
                    self._status = self._stopped_status(run)
                    self._update_views(force=True)
                    self._publish(force=True)
                with self._cv:
                    while not self._stop and not self._playing and self._budget <= 0 \
                            and not self._tasks:
                        self._cv.wait(0.2)
                    if self._stop:
                        break
                    tasks, self._tasks = self._tasks, []
                    playing, budget = self._playing, self._budget
                    self._busy = True
                for task in tasks:
                    task(run)
                if tasks and not playing and budget <= 0:
                    self._update_views(force=True)
                    self._publish(force=True)
                    self._busy = False
                    continue
                if playing and run.finished:
                    with self._cv:
                        self._playing = False
                    self._status = NONFINITE if run.nonfinite else FINISHED
                    run.evaluate_final()            # the trained model, not the cadence's
                    self._update_views(force=True)
                    self._publish(force=True)
                    self._busy = False
                    continue
                if run.nonfinite is not None:
                    with self._cv:
                        self._playing = False
                        self._budget = 0
                    self._status = NONFINITE
                    self._publish(force=True)
                    self._busy = False
                    continue
                n = max(1, int(self._rate * self._chunk_seconds)) if self._rate else 16
                if not playing:
                    n = min(n, budget)
                else:
                    n = min(n, max(1, run.steps_to_finish))
                self._status = RUNNING
                tic = time.perf_counter()
                done = run.run_steps(n)
                dt = time.perf_counter() - tic
                if done:
                    inst = done / max(dt, 1e-9)
                    self._rate = inst if not self._rate else 0.7 * self._rate + 0.3 * inst
                with self._cv:
                    if not self._playing:
                        self._budget = max(0, self._budget - done)
                    still = self._playing or self._budget > 0
                if run.nonfinite is not None:
                    self._status = NONFINITE
                    with self._cv:
                        self._playing = False
                        self._budget = 0
                    still = False
                elif not still:
                    self._status = self._stopped_status(run)
                now = time.monotonic()
                self._update_views(force=not still, training=still)
                if not still or now - last_pub >= self._period:
                    self._publish(force=True)
                    last_pub = now
                self._busy = False
            self._close_view_thread()
            self._status = STOPPED
            self._publish(force=True)
        except BaseException as e:  # keep the app alive; the snapshot says what happened
            self._close_view_thread()
            self.error = e
            self._status = ERROR
            self._message = f"{type(e).__name__}: {e}"
            with self._cv:
                self._playing = False
                self._budget = 0
            self._publish(force=True)

    def _update_views(self, force: bool = False, training: bool = False) -> None:
        """Compute the views that are due (``force``: all of them, from the run, once any
        job on the view thread is done). While ``training``, the due views are handed to
        the view thread with a :class:`FrozenRun` and the worker goes on; their values
        land in the snapshot published after they are done. A job still running then
        makes the views wait for the next boundary (the rate bound stays)."""
        now = time.monotonic()
        vt = self._view_thread
        if force or not training:
            if vt is not None:
                vt.idle.wait()
            due = [v for v in self._views.values() if force or now - v.last >= v.interval]
            self._compute(due, self.run, now)
            return
        due = [v for v in self._views.values() if now - v.last >= v.interval]
        if not due or (vt is not None and not vt.idle.is_set()):
            return
        if vt is None:
            vt = self._view_thread = _ViewThread()
        frozen = FrozenRun(self.run)
        vt.submit(lambda: self._compute(due, frozen, now))

    @staticmethod
    def _compute(views: list[View], source, now: float) -> None:
        for v in views:
            try:
                value = v.fn(source)
            except Exception as e:  # a broken view must not stop training
                value = e
            v.value = value
            v.last = now

    @staticmethod
    def _stopped_status(run) -> str:
        """FINISHED once the planned epochs are done (the last step evaluated, so the
        curves end at the trained model), else PAUSED."""
        if not run.finished:
            return PAUSED
        run.evaluate_final()
        return FINISHED

    def _close_view_thread(self) -> None:
        if self._view_thread is not None:
            self._view_thread.close()
            self._view_thread = None

    def _publish(self, force: bool = False) -> None:
        run = self.run
        self._seq += 1
        status = self._status
        if status in (PAUSED, IDLE) and run.finished:
            status = NONFINITE if run.nonfinite else FINISHED
        self._latest = Snapshot(
            seq=self._seq, status=status, step=run.step, epoch=run.epoch,
            epoch_progress=run.epoch_progress, total_steps=run.total_steps,
            epochs=run.config.training["epochs"], lr=run.current_lr, hp=dict(run.hp),
            steps_per_s=self._rate, steps=run.history.steps(), evals=run.history.evals(),
            events=tuple(e.to_dict() for e in run.events), theta=run.network.theta.copy(),
            nonfinite=run.nonfinite,
            findings=tuple(self._findings()) if self._findings else (),
            views={k: v.value for k, v in self._views.items()},
            message=self._message, time=time.time())
