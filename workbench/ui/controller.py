"""The controller: owns the Run and its Runner, feeds the panels from the latest snapshot.

Threading: training runs on the Runner's thread. This object lives on the GUI thread; a
~30 Hz QTimer reads ``runner.latest()`` (never blocks) and hands the snapshot to every
panel. Nothing here is called by the worker, and the worker never touches a widget.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

import numpy as np
from PySide6 import QtCore
from PySide6.QtGui import QUndoStack

from ..config import ConfigError, RunConfig
from ..data import DataError, load_dataset
from ..run import Run
from ..run.run import _CFG_PATH, LIVE_KEYS
from ..run.runner import COMPILING, Runner, Snapshot
from .bus import UiBus
from .context import RunContext
from .panels.base import Panel, on_screen
from .undo import Points, State, StateCommand

log = logging.getLogger(__name__)

#: Config paths that can change while the run trains (everything else rebuilds it).
LIVE_PATHS = {_CFG_PATH[k]: k for k in LIVE_KEYS}


def live_changes(old: RunConfig, new: RunConfig) -> dict | None:
    """The live hyperparameter changes from ``old`` to ``new``, or None when a
    structural key (anything but lr, momentum, nesterov, decay, l1, l2, batch size)
    differs."""
    a, b = old.to_dict(), new.to_dict()
    for cfg in (a, b):
        for path in LIVE_PATHS:
            sec, key = path.split(".")
            cfg[sec].pop(key)
    if a != b:
        return None
    return {k: new[p] for p, k in LIVE_PATHS.items() if new[p] != old[p]}


class Controller(QtCore.QObject):
    """The run behind the window, its undo stack and the panel feed.

    Parameters
    ----------
    bus : UiBus
    config : RunConfig or dict, optional
    panels : sequence of Panel
    hz : float
        Rate of the GUI timer that polls the runner.

    Signals
    -------
    snapshot_changed(Snapshot): after the panels got a new snapshot (status bar).
    run_changed(RunContext): a new run was built (structure may have changed).
    state_changed(): the config or the points changed (widgets resynchronise).
    build_failed(str): the config could not be built into a run (one line).
    """
    snapshot_changed = QtCore.Signal(object)
    run_changed = QtCore.Signal(object)
    state_changed = QtCore.Signal()
    build_failed = QtCore.Signal(str)
    message = QtCore.Signal(str)
    #: recording the run to its session file failed (one line; emitted on the GUI thread)
    recording_failed = QtCore.Signal(str)

    def __init__(self, bus: UiBus, config=None, panels: Sequence[Panel] = (),
                 hz: float = 30.0, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.bus = bus
        self.panels: list[Panel] = list(panels)
        self.undo_stack = QUndoStack(self)
        #: Asked before a structural change resets a run that is training; the window
        #: sets it to a message box (tests replace it).
        self.confirm_reset: Callable[[str], bool] = lambda text: True
        #: Why the last rebuild failed (one line), or None.
        self.last_build_error: str | None = None
        self._finishing: list[threading.Thread] = []    # replaced runs closing their files
        #: Why the run may not start (an invalid field), or None.
        self.blocked_reason: str | None = None
        #: Skip panels that are not visible (closed dock, hidden tab); they catch up
        #: when shown. The benchmark turns this off to measure every panel.
        self.skip_hidden = True
        self.panel_cost_ms: dict[str, float] = {}     # exponential mean per panel
        #: Length of one kernel call on the worker: commands wait at most this long, and
        #: longer calls lose less time to the GIL hand-over with the GUI thread.
        self.chunk_seconds = 0.03
        #: What the panels updated in one timer tick may cost together (None: no
        #: limit): their updates and the repaint of their views that follows in the
        #: same pass of the event loop (:class:`~.panels.base.PaintMeter`), each counted
        #: as its running mean. The most overdue panels go first; one that does not
        #: fit waits for a later tick (the first panel of a tick always goes), so the
        #: costly panels are staggered over ticks instead of all repainting at once.
        self.frame_budget_ms: float | None = 12.0
        #: At most this many panels are updated per tick.
        self.max_panels_per_tick = 5
        #: When panels were left over for the budget, the next tick comes after as long
        #: as this one's panels cost (their paint included) instead of a whole timer
        #: interval: short passes of the event loop, as many as keep the GUI thread
        #: at most about half busy with panels.
        self.continue_ticks = True
        self._soon = QtCore.QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self._soon.timeout.connect(self._on_tick)
        self._panel_time: dict[int, float] = {}
        #: When a dict, every update's cost (ms) is appended per panel (benchmarks).
        self.cost_log: dict[str, list[float]] | None = None
        for panel in self.panels:
            panel.paint_meter.watch()
        self.panel_errors: dict[str, str] = {}
        self._panel_seq: dict[int, int] = {}
        self._shown: dict[int, bool] = {}     # on screen at the last tick, per panel
        #: Per panel on screen at the last tick: the updates a second it may take
        #: (:meth:`Panel.rate_cap`; None: every tick).
        self.rate_caps: dict[str, float | None] = {}
        self._last_seq = -1
        self._state = State(RunConfig(config) if not isinstance(config, RunConfig) else config)
        self.run: Run | None = None
        self.runner: Runner | None = None
        self.replay = None          # a SessionReader while a recorded session is shown
        #: ``fn(config) -> path or None``: where each new run records its session (None:
        #: record nothing). The window sets it (workbench.ui.sessions_ui).
        self.session_path: Callable[[RunConfig], object] | None = None
        self._finished: Run | None = None
        self._replay_views: dict = {}
        self.ctx: RunContext | None = None
        self.latest: Snapshot | None = None
        self._timer = QtCore.QTimer(self)
        self._timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self._timer.setInterval(max(1, round(1000 / hz)))
        self._timer.timeout.connect(self._on_tick)
        bus.point_added.connect(self._on_point_added)
        bus.point_removed.connect(self._on_point_removed)
        bus.hparams_requested.connect(self._on_hparams_requested)
        bus.weight_edit_requested.connect(self._on_weight_edit_requested)
        bus.message.connect(self.message)

    # --- state ---------------------------------------------------------------------------
    @property
    def config(self) -> RunConfig:
        """The configuration the user set (live hyperparameters included)."""
        return self._state.config

    @property
    def points(self) -> Points | None:
        return self._state.points

    @property
    def state(self) -> State:
        return self._state

    @property
    def playing(self) -> bool:
        return self.runner is not None and self.runner.playing

    def start_up(self) -> bool:
        """Build the first run and start polling (call once the panels are attached)."""
        ok = self._rebuild()
        self._timer.start()
        return ok

    def change_state(self, new: State, text: str) -> bool:
        """A user action: apply ``new`` and push it on the undo stack.

        A structural change while training asks first (``confirm_reset``); returns
        False when the user declined or the new state cannot be built (nothing changes).
        """
        old = self._state
        if new.config == old.config and new.points is old.points and self.replay is None:
            return True
        live = live_changes(old.config, new.config) \
            if new.points is old.points and self.replay is None else None
        if live is None and self.playing and not self.confirm_reset(
                f"{text} rebuilds the network and restarts training. Reset the run?"):
            self.state_changed.emit()   # widgets go back to the current values
            return False
        if not self.apply_state(new):
            self.state_changed.emit()
            return False
        self.undo_stack.push(StateCommand(self, old, new, text, applied=True))
        return True

    def change_config(self, patch: dict, text: str | None = None) -> bool:
        """Apply dotted-path changes (``{"optimizer.lr": 0.1}``) as one undoable step."""
        try:
            cfg = self.config.with_changes(patch)
        except ConfigError as e:
            self.message.emit(str(e))
            self.state_changed.emit()
            return False
        pts = self.points if all(not k.startswith("data.") and k != "seed" for k in patch) \
            else None
        return self.change_state(State(cfg, pts), text or _describe(patch))

    def apply_state(self, new: State) -> bool:
        """Make ``new`` the current state: live changes go to the run at its next step
        boundary (recorded as an event); anything else rebuilds the run."""
        old = self._state
        live = live_changes(old.config, new.config) \
            if new.points is old.points and self.replay is None else None
        self._state = new
        if live is not None and self.run is not None:
            if live:
                try:
                    self.run.set_hyperparameters(**live)
                except ConfigError as e:
                    self._state = old
                    self.message.emit(str(e))
                    return False
                self._apply_now_if_paused()
            self.state_changed.emit()
            return True
        keep_playing = self.playing and new.points is not old.points and \
            new.config == old.config
        if not self._rebuild():
            self._state = old
            return False
        if keep_playing:
            self.start()
        self.state_changed.emit()
        return True

    # --- the run ------------------------------------------------------------------------------
    def _build(self, state: State) -> Run:
        cfg = state.config
        ds = load_dataset(cfg.data, cfg.seed)
        if state.points is not None:
            ds = ds.with_points(state.points.raw, state.points.labels)
        path = self.session_path(cfg) if self.session_path is not None else None
        if path is not None:
            from ..session import SessionError
            try:
                return Run(cfg, dataset=ds, session=path)
            except SessionError as e:    # the run trains anyway, unrecorded
                self.recording_failed.emit(str(e))
        return Run(cfg, dataset=ds)

    def _rebuild(self) -> bool:
        self.last_build_error = None
        try:
            run = self._build(self._state)
        except (ConfigError, DataError) as e:
            self.last_build_error = str(e)
        except MemoryError:
            self.last_build_error = ("not enough memory to build this run: fewer samples, "
                                     "features or units")
        except Exception as e:  # noqa: BLE001 - the window stays, with the previous run
            log.exception("building the run failed")
            self.last_build_error = f"cannot build this run: {type(e).__name__}: {e}"
        if self.last_build_error is not None:
            self.build_failed.emit(self.last_build_error)
            return False
        self._install(run)
        return True

    def adopt_run(self, run: Run, config: RunConfig | None = None, text: str = "") -> None:
        """Train ``run`` (built elsewhere: a fork, a run from saved weights) in the window,
        paused at its current step. ``config``: the configuration the form shows (default
        ``run.current_config()``; pass it when hyperparameter changes are still queued).
        Clears the undo stack: undoing to the previous run's state would rebuild it from
        scratch, not return to it."""
        self._state = State(config if config is not None else run.current_config())
        self.undo_stack.clear()
        self._install(run)
        self.state_changed.emit()
        if text:
            self.message.emit(text)

    def _finish_run(self, wait: bool = False) -> None:
        """Close the session file of the current run (its thread has stopped): the
        diagnostics' final hooks, the last findings and the file's closing record, on a
        thread of its own unless ``wait`` (the hooks measure with the trained net, a
        permutation importance up to 0.15 s, and on a cold cache compiled the probe
        kernels: 11 s of a frozen window at a change of precision)."""
        run = self.run
        if run is not None and run.recorder is not None and run is not self._finished:
            self._finished = run      # finish once (shutdown may be called twice)
            if wait:
                _finish_quietly(run)
                return
            t = threading.Thread(target=_finish_quietly, args=(run,), daemon=True,
                                 name="workbench-finish")
            t.start()
            self._finishing = [x for x in self._finishing if x.is_alive()] + [t]

    def wait_finished(self, timeout: float = 30.0) -> bool:
        """Wait until the runs replaced so far have closed their session files."""
        end = time.monotonic() + timeout
        for t in self._finishing:
            t.join(max(0.0, end - time.monotonic()))
        self._finishing = [t for t in self._finishing if t.is_alive()]
        return not self._finishing

    def _install(self, run: Run) -> None:
        if self._stop_runner():
            self._finish_run()
        if self.replay is not None:     # a new run ends the replay
            self.replay = None
            self.blocked_reason = None
        if run.recorder is not None:
            # called on the recorder's writer thread: the signal queues it to the GUI
            run.recorder.add_error_listener(self.recording_failed.emit)
        self.run = run
        # the hyperparameters in force at the run's first step: a fork starts from its
        # parent's (its markers read "lr 0.3 -> 0.01", not the config's "lr 0.03 -> 0.01")
        self.ctx = RunContext(run.config, run.dataset, run.network.copy(),
                              extra={"hp0": dict(run.hp)})
        self.runner = Runner(run, publish_hz=30.0, chunk_seconds=self.chunk_seconds,
                             findings=run.findings)
        for panel in self.panels:
            for name, (fn, hz) in panel.worker_views(self.ctx).items():
                self.runner.add_view(name, fn, hz)
            self._call_panel(panel, "set_context", self.ctx)
            panel.paint_meter.watch()       # views a panel built for this run
        self._panel_seq.clear()
        self._last_seq = -1
        # starts the thread: compiles (first launch), evaluates, computes the views
        self.runner.submit(lambda run: None)
        self.run_changed.emit(self.ctx)
        self._on_tick()

    def _stop_runner(self, timeout: float = 2.0) -> bool:
        if self.runner is None:
            return True
        ok = self.runner.stop(timeout)
        if not ok:
            log.warning("training thread did not stop within %.1f s", timeout)
        return ok

    def shutdown(self, timeout: float = 2.0) -> bool:
        """Stop polling, stop the training thread and join it; True when it ended."""
        self._timer.stop()
        self._soon.stop()
        ok = self._stop_runner(timeout)
        if ok:
            self._finish_run(wait=True)      # the session file is complete
        # a replaced run still closing its file gets a moment (its records are on disk
        # already; the recorder's exit handler closes the file if it is not done)
        if not self.wait_finished(max(timeout, 3.0)):
            log.warning("a replaced run's session file was still closing at shutdown")
        return ok

    # --- commands ------------------------------------------------------------------------------
    def start(self) -> bool:
        """Train until paused or the configured epochs are done (refused while blocked)."""
        if self.blocked_reason:
            self.message.emit(f"cannot start: {self.blocked_reason}")
            return False
        if self.runner is None:
            return False
        self.runner.play()
        return True

    def pause(self) -> None:
        if self.runner is not None:
            self.runner.pause()

    def toggle(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.start()

    def step(self, n: int = 1) -> bool:
        """Train exactly ``n`` mini-batch steps, then pause."""
        if self.blocked_reason:
            self.message.emit(f"cannot step: {self.blocked_reason}")
            return False
        if self.runner is None:
            return False
        self.runner.step(n)
        return True

    def step_epoch(self) -> bool:
        return self.step(self.run.steps_per_epoch) if self.run is not None else False

    def reset(self) -> bool:
        """Rebuild the run from the current state: step 0, fresh parameters, paused."""
        return self._rebuild()

    def set_live(self, text: str | None = None, **changes) -> bool:
        """Change live hyperparameters (lr, momentum, ...) as one undoable step."""
        patch = {_CFG_PATH[k]: v for k, v in changes.items()}
        return self.change_config(patch, text)

    # --- replay ---------------------------------------------------------------------------------
    def load_replay(self, reader) -> None:
        """Show a recorded session instead of training (``reader``: an open
        :class:`workbench.session.SessionReader`). The panels get the recorded snapshots
        of :meth:`show_replay_step`; training commands are refused."""
        if self._stop_runner():
            self._finish_run()
        self.runner = None
        self.replay = reader
        self._state = State(reader.config)
        self.run = reader.new_run(diagnostics=False)
        self.ctx = RunContext(self.run.config, self.run.dataset, self.run.network.copy(),
                              replay=True)
        self._replay_views = {}
        for panel in self.panels:
            self._replay_views.update(panel.worker_views(self.ctx))
            self._call_panel(panel, "set_context", self.ctx)
        self.blocked_reason = (f"this is the replay of {reader.path.name}; "
                               "File > New run trains a new one")
        self._panel_seq.clear()
        self.run_changed.emit(self.ctx)
        self.state_changed.emit()
        self.show_replay_step(reader.first_step)

    def show_replay_step(self, step: int):
        """Feed every panel the recorded state at ``step`` (views computed here, on the GUI
        thread, from the recomputed state); returns the snapshot."""
        import dataclasses
        reader = self.replay
        snap = reader.snapshot_at(step)
        self.run.set_state(reader.state_at(snap.step))
        views = {}
        for name, (fn, _hz) in self._replay_views.items():
            try:
                views[name] = fn(self.run)
            except Exception as e:  # noqa: BLE001 - a broken view must not stop replay
                views[name] = e
        snap = dataclasses.replace(snap, views=views)
        self.latest = snap
        for panel in self.panels:
            self._panel_seq[id(panel)] = snap.seq
            self._call_panel(panel, "update_snapshot", snap)
        self.snapshot_changed.emit(snap)
        return snap

    # --- the panel feed (GUI thread) -----------------------------------------------------------
    def _on_tick(self) -> None:
        """Feed the newest snapshot to the panels that have not shown it yet.

        The GUI thread must never be blocked for long, so the panels updated in one
        tick may cost about :attr:`frame_budget_ms` together, their repaint included:
        the most overdue go first and the rest get their turn on the next ticks (with
        many costly panels on screen each one then refreshes a little less often,
        instead of every timer of the window firing late).
        """
        if self.runner is None:
            return
        snap = self.runner.latest()
        if snap is None:
            return
        fresh = snap.seq != self._last_seq
        self._last_seq = snap.seq
        shown = {id(p): not self.skip_hidden or on_screen(p) for p in self.panels}
        for p in self.panels:
            if shown[id(p)] and not self._shown.get(id(p), True):
                # a tab raised: give it the newest snapshot again, even one it has seen
                # while off screen (it may have deferred the work)
                self._panel_seq.pop(id(p), None)
        self._shown = shown
        now = time.perf_counter()
        limited = self.frame_budget_ms is not None
        groups: dict[str, int] = {}
        for p in self.panels:
            if shown[id(p)] and p.rate_group is not None:
                groups[p.rate_group] = groups.get(p.rate_group, 0) + 1
        cap = {id(p): p.rate_cap(groups.get(p.rate_group, 0)) for p in self.panels}
        self.rate_caps = {p.object_name: cap[id(p)] for p in self.panels if shown[id(p)]}
        due = [p for p in self.panels
               if shown[id(p)] and self._panel_seq.get(id(p)) != snap.seq
               and not (limited and cap[id(p)] and
                        now - self._panel_time.get(id(p), 0.0) < 1.0 / cap[id(p)])]
        # round robin by due time: a panel is due one period (1 / its rate cap, or a
        # timer interval) after its last update; the most overdue goes first
        tick_s = self._timer.interval() / 1000.0
        due.sort(key=lambda p: self._panel_time.get(id(p), 0.0) +
                 (1.0 / cap[id(p)] if cap[id(p)] else tick_s))
        start = time.perf_counter()
        planned = 0.0           # ms: updates done, plus the repaints they will cause
        n = 0
        left = False
        for panel in due:
            if limited:
                est = self.panel_cost_ms.get(panel.object_name, 0.0) + \
                    panel.paint_meter.estimate()
                if n and (n >= self.max_panels_per_tick or
                          planned + est > self.frame_budget_ms):
                    left = True
                    continue    # a cheaper panel further down may still fit
            self._panel_seq[id(panel)] = snap.seq
            tic = time.perf_counter()
            self._call_panel(panel, "update_snapshot", snap)
            toc = time.perf_counter()
            self._panel_time[id(panel)] = toc
            ms = 1000.0 * (toc - tic)
            n += 1
            planned += ms + panel.paint_meter.estimate()
            if self.cost_log is not None:
                self.cost_log.setdefault(panel.object_name, []).append(ms)
            prev = self.panel_cost_ms.get(panel.object_name)
            self.panel_cost_ms[panel.object_name] = ms if prev is None else 0.9 * prev + 0.1 * ms
        if self.cost_log is not None and due:
            self.cost_log.setdefault("__tick__", []).append(
                1000.0 * (time.perf_counter() - start))
        if left and self.continue_ticks and self._timer.isActive():
            self._soon.start(max(1, min(round(planned), self._timer.interval())))
        if fresh:
            self.latest = snap
            self.snapshot_changed.emit(snap)

    def refresh(self) -> None:
        """Feed the newest snapshot to every panel now, visible or not, whatever the
        frame budget (tests, export, screenshots)."""
        skip, self.skip_hidden = self.skip_hidden, False
        budget, self.frame_budget_ms = self.frame_budget_ms, None
        self._panel_seq.clear()
        self._last_seq = -1
        try:
            self._on_tick()
        finally:
            self.skip_hidden = skip
            self.frame_budget_ms = budget

    def _call_panel(self, panel: Panel, method: str, arg) -> None:
        # a broken panel must not take the window down; it is reported once
        try:
            getattr(panel, method)(arg)
        except Exception as e:  # noqa: BLE001
            key = f"{panel.object_name}.{method}"
            if key not in self.panel_errors:
                log.exception("panel %s failed in %s", panel.object_name, method)
                self.panel_errors[key] = f"{type(e).__name__}: {e}"
                self.message.emit(f"panel {panel.title} failed: {type(e).__name__}: {e}")

    @property
    def compiling(self) -> bool:
        return self.latest is not None and self.latest.status == COMPILING

    # --- requests from panels -------------------------------------------------------------------
    def _base_points(self) -> Points | None:
        if self.points is not None:
            return self.points
        if self.run is None:
            return None
        ds = self.run.dataset
        return Points(ds.raw_train, np.asarray(ds.y_train))

    def _points_editable(self) -> bool:
        ds = self.run.dataset if self.run is not None else None
        return ds is not None and ds.task == "classification" and ds.raw_dim == 2

    def _on_point_added(self, x: float, y: float, cls: int) -> None:
        if not self._points_editable():
            self.message.emit("points can be added only on 2-D classification data")
            return
        n_classes = int(self.run.dataset.n_classes or 2)
        if not 0 <= int(cls) < n_classes:
            self.message.emit(f"class {cls} does not exist here (0..{n_classes - 1})")
            return
        base = self._base_points()
        pts = Points(np.vstack([base.raw, [[x, y]]]),
                     np.append(base.labels, int(cls)).astype(base.labels.dtype))
        self.change_state(State(self.config, pts), f"add point ({x:.2f}, {y:.2f})")

    def _on_point_removed(self, x: float, y: float) -> None:
        if not self._points_editable():
            return
        base = self._base_points()
        if len(base.labels) <= 1:
            self.message.emit("the last training point cannot be removed")
            return
        d = np.hypot(base.raw[:, 0] - x, base.raw[:, 1] - y)
        i = int(np.argmin(d))
        span = float(np.ptp(base.raw, axis=0).max()) or 1.0
        if d[i] > 0.05 * span:
            return   # no point near the click
        keep = np.arange(len(d)) != i
        self.change_state(State(self.config, Points(base.raw[keep], base.labels[keep])),
                          f"remove point ({base.raw[i, 0]:.2f}, {base.raw[i, 1]:.2f})")

    def _on_hparams_requested(self, changes: dict) -> None:
        self.set_live(**changes)

    def _on_weight_edit_requested(self, layer: int, row: int, col: int, value: float) -> None:
        if self.run is None:
            return
        try:
            self.run.set_weight(layer, row, col, value)
        except ValueError as e:
            self.message.emit(str(e))
            return
        self._apply_now_if_paused()

    def _apply_now_if_paused(self) -> None:
        # queued commands apply at the next step boundary; while paused that boundary is
        # now, so the worker applies them at once (the event gets the current step)
        if not self.playing and self.runner is not None:
            self.runner.submit(lambda run: run.apply_pending())


def epoch_text(epoch: int, epochs: int) -> str:
    """The status bar's epoch: "epoch 12/200", and past the configured end (steps taken
    after the run finished) "epoch 214 (200 planned)", never "214/200"."""
    if epochs and epoch > epochs:
        return f"epoch {epoch:,} ({epochs:,} planned)"
    return f"epoch {epoch:,}/{epochs:,}"


def _describe(patch: dict) -> str:
    return ", ".join(f"{k.split('.')[-1]} = {v}" for k, v in patch.items())


def _finish_quietly(run: Run) -> None:
    try:
        run.finish()
    except Exception:  # noqa: BLE001 - a failed final write must not block a rebuild
        log.exception("finishing the run failed")
        return
    _drop_if_untrained(run)


def _drop_if_untrained(run: Run) -> None:
    """Delete the session file of a run that trained no step: every window start, config
    opened and field edited recorded one, and the sessions folder and its recent list
    filled with runs that hold nothing to replay."""
    rec = run.recorder
    if rec is None or run.step != run.history.first_step or rec.error:
        return
    from ..session.format import remove_files
    try:
        remove_files(rec.path)
    except OSError:
        log.warning("could not remove the empty session %s", rec.path)
