"""Replay of a recorded session in the window: the timeline and what drives the panels.

:class:`TimelineWidget` is the bar above the bottom tabs (UI.md): play/pause, speed, a
scrubber with event and finding marks, "continue from here". :class:`ReplayController`
has the window's controller show ``reader.snapshot_at(step)`` in every panel whenever
the timeline moves (coalesced: a fast scrub computes only the newest step), and follows
the live end of a session that is still being written. Everything here lives on the GUI
thread.
"""
from __future__ import annotations

import time
from collections.abc import Sequence

from PySide6 import QtCore, QtGui, QtWidgets

from ..session.format import QUIET_SECONDS, seconds_unwritten
from .context import SEVERITY_COLORS
from .panels.timeaxis import EVENT_COLORS

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)   # 1x: the whole run in BASE_SECONDS
BASE_SECONDS = 20.0
EVENT_COLOR = "#7f7f7f"
QUIET_EVENTS = ("pause", "resume")   # not worth a mark: they change nothing in the run


class _MarkBar(QtWidgets.QWidget):
    """Thin strip above the scrubber with a tick per event (grey) and finding (severity)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFixedHeight(12)
        self.first, self.last = 0, 1
        self.marks: list[tuple[int, str, str]] = []   # (step, colour, tooltip)

    def set_marks(self, first: int, last: int, marks) -> None:
        self.first, self.last = first, max(last, first + 1)
        self.marks = list(marks)
        self.update()

    def _x(self, step: int) -> float:
        # the slider's groove is inset by about half a handle on each side
        inset = 8
        w = max(1, self.width() - 2 * inset)
        return inset + (step - self.first) / (self.last - self.first) * w

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt
        p = QtGui.QPainter(self)
        for step, color, _ in self.marks:
            p.setPen(QtGui.QPen(QtGui.QColor(color), 2))
            x = int(self._x(step))
            p.drawLine(x, 0, x, self.height())
        p.end()

    def mark_near(self, x: float, tol: float = 4.0):
        best = None
        for m in self.marks:
            d = abs(self._x(m[0]) - x)
            if d <= tol and (best is None or d < best[0]):
                best = (d, m)
        return None if best is None else best[1]

    def event(self, e) -> bool:
        if e.type() == QtCore.QEvent.Type.ToolTip:
            m = self.mark_near(e.position().x() if hasattr(e, "position") else e.pos().x())
            if m is not None:
                QtWidgets.QToolTip.showText(e.globalPos(), m[2], self)
            else:
                QtWidgets.QToolTip.hideText()
            return True
        return super().event(e)


class TimelineWidget(QtWidgets.QWidget):
    """Play/pause, speed, a scrubber over the recorded steps with marks, a step label.

    Signals
    -------
    step_changed(int): the shown step changed (scrubbing, playback, :meth:`set_step`).
    fork_requested(int): "Continue from here" at that step.
    """
    step_changed = QtCore.Signal(int)
    fork_requested = QtCore.Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None, hz: float = 30.0):
        super().__init__(parent)
        self.setObjectName("replay_timeline")
        self.first, self.last = 0, 0
        self._play_pos = 0.0
        self._play_clock = 0.0
        self.play_button = QtWidgets.QToolButton(self)
        self.play_button.setObjectName("replay_play")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Play the recorded run from the current step (Space)")
        self.play_button.toggled.connect(self._on_play_toggled)
        self.speed_box = QtWidgets.QComboBox(self)
        self.speed_box.setObjectName("replay_speed")
        for s in SPEEDS:
            self.speed_box.addItem(f"{s:g}\u00d7", s)
        self.speed_box.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_box.setToolTip(f"Playback speed (1\u00d7: the whole run in "
                                  f"{BASE_SECONDS:g} s)")
        self.marks = _MarkBar(self)
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal, self)
        self.slider.setObjectName("replay_scrubber")
        self.slider.setToolTip("Drag to move every panel to the recorded state at that step;"
                               " ticks above mark your changes (grey) and findings")
        self.slider.valueChanged.connect(self._on_slider_changed)
        self.label = QtWidgets.QLabel(self)
        self.label.setObjectName("replay_step")
        self.label.setMinimumWidth(150)
        self.fork_button = QtWidgets.QPushButton("Continue from here\u2026", self)
        self.fork_button.setObjectName("replay_fork")
        self.fork_button.setToolTip("Start a new run from this step with other settings "
                                    "(recorded as a fork of this session)")
        self.fork_button.clicked.connect(lambda: self.fork_requested.emit(self.step))
        bar = QtWidgets.QVBoxLayout()
        bar.setSpacing(0)
        bar.addWidget(self.marks)
        bar.addWidget(self.slider)
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(4, 2, 4, 2)
        row.addWidget(self.play_button)
        row.addWidget(self.speed_box)
        row.addLayout(bar, 1)
        row.addWidget(self.label)
        row.addWidget(self.fork_button)
        self._timer = QtCore.QTimer(self)
        self._timer.setObjectName("replay_playback")
        self._timer.setInterval(max(1, round(1000 / hz)))
        self._timer.timeout.connect(self._on_tick)
        self._update_play_icon()
        self._update_label()

    # --- model ---------------------------------------------------------------------------
    @property
    def step(self) -> int:
        return int(self.slider.value())

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    @property
    def speed(self) -> float:
        return float(self.speed_box.currentData())

    def set_range(self, first: int, last: int) -> None:
        """The recorded steps (the scrubber keeps its step when it is still inside)."""
        self.first, self.last = int(first), int(max(first, last))
        blocked = self.slider.blockSignals(True)
        self.slider.setRange(self.first, self.last)
        self.slider.blockSignals(blocked)
        self.marks.set_marks(self.first, self.last, self.marks.marks)
        self._update_label()

    def set_marks(self, events: Sequence[dict] = (), findings: Sequence = (),
                  hp0: dict | None = None) -> None:
        """Ticks for events (dicts with step, kind, payload) and findings (Finding or dict);
        ``hp0``: the hyperparameters before the first event (for "lr 0.03 -> 0.3")."""
        from .panels.timeaxis import EVENT_LABELS
        marks = []
        hp = dict(hp0 or {})
        for e in events:
            if e["kind"] in QUIET_EVENTS:
                continue
            label = EVENT_LABELS.get(e["kind"])
            # what the loss plot's markers say, not a raw dict ("hparams {'lr': 0.3}")
            text = label(dict(e.get("payload") or {}), hp) if label is not None else \
                f"{e['kind']} {e.get('payload') or ''}".strip()
            marks.append((int(e["step"]), EVENT_COLORS.get(e["kind"], EVENT_COLOR),
                          f"step {e['step']}: {text}"))
        for f in findings:
            get = f.get if isinstance(f, dict) else (lambda k, f=f: getattr(f, k, None))
            if get("step") is None:
                continue
            color = SEVERITY_COLORS.get(str(get("severity")), EVENT_COLOR)
            marks.append((int(get("step")), color, f"step {get('step')}: {get('code')}: "
                                                   f"{get('message')}"))
        self.marks.set_marks(self.first, self.last, marks)

    def set_step(self, step: int) -> None:
        """Move the scrubber (emits step_changed when the step changes)."""
        self.slider.setValue(int(min(max(step, self.first), self.last)))

    def play(self) -> None:
        self.play_button.setChecked(True)

    def pause(self) -> None:
        self.play_button.setChecked(False)

    def stop(self) -> None:
        """Stop playback and its timer (call before closing)."""
        self.pause()
        self._timer.stop()

    # --- handlers ------------------------------------------------------------------------------
    def _on_slider_changed(self, value: int) -> None:
        self._update_label()
        self.step_changed.emit(int(value))

    def _on_play_toggled(self, on: bool) -> None:
        if on:
            if self.step >= self.last:
                self.set_step(self.first)
            self._play_pos = float(self.step)
            self._play_clock = time.monotonic()
            self._timer.start()
        else:
            self._timer.stop()
        self._update_play_icon()

    def _on_tick(self) -> None:
        now = time.monotonic()
        rate = max(1.0, (self.last - self.first) / BASE_SECONDS) * self.speed
        self._play_pos += rate * (now - self._play_clock)
        self._play_clock = now
        target = int(min(self._play_pos, self.last))
        if target != self.step:
            self.set_step(target)
        if target >= self.last:
            self.pause()

    def _update_play_icon(self) -> None:
        style = self.style()
        icon = (QtWidgets.QStyle.StandardPixmap.SP_MediaPause if self.playing else
                QtWidgets.QStyle.StandardPixmap.SP_MediaPlay)
        self.play_button.setIcon(style.standardIcon(icon))

    def _update_label(self) -> None:
        self.label.setText(f"step {self.step:,} / {self.last:,}")


class ReplayController(QtCore.QObject):
    """Drives a window's panels through a recorded session with a timeline.

    The panels are fed by the window's :class:`~workbench.ui.controller.Controller`
    (:meth:`~workbench.ui.controller.Controller.load_replay` gives them the recorded run's
    context, :meth:`~workbench.ui.controller.Controller.show_replay_step` the recorded
    state at a step, with the views the panels compute); this object connects the
    timeline to it, coalesces fast scrubbing, moves the time plots' cursor and follows a
    session that is still being written.

    Parameters
    ----------
    reader : SessionReader
    controller : Controller
        Its panels show the replay from this constructor on.
    timeline : TimelineWidget, optional
        Connected both ways: its steps drive the panels.
    follow_ms : int
        How often a session still being written is checked for new records (0: never).

    Signals
    -------
    snapshot_changed(Snapshot): after the panels got the state of a new step.
    failed(str): the file could not be read (one line); the window shows it.
    writer_quiet(bool): a followed session was not written for :data:`QUIET_S` (True;
        its run may have stopped without closing it) or is written again (False).
    """
    snapshot_changed = QtCore.Signal(object)
    failed = QtCore.Signal(str)
    writer_quiet = QtCore.Signal(bool)
    #: A followed file unchanged this long is said to be quiet (a killed run never closes
    #: its file, and the replay said "still being written" for ever)
    QUIET_S = QUIET_SECONDS

    def __init__(self, reader, controller, timeline: TimelineWidget | None = None,
                 follow_ms: int = 500, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.reader = reader
        self.controller = controller
        self.timeline = timeline
        self.latest = None
        self.quiet = False          # a followed file not written for QUIET_S
        self._pending: int | None = None
        self._flush = QtCore.QTimer(self)
        self._flush.setObjectName("replay_flush")
        self._flush.setSingleShot(True)
        self._flush.setInterval(0)
        self._flush.timeout.connect(self._on_flush)
        self._follow = QtCore.QTimer(self)
        self._follow.setObjectName("replay_follow")
        self._follow.setInterval(max(1, follow_ms))
        self._follow.timeout.connect(self.poll)
        controller.load_replay(reader)          # SessionError: nothing was changed yet
        if timeline is not None:
            timeline.set_range(reader.first_step, reader.last_step)
            self._update_marks()
            timeline.set_step(reader.first_step)
            timeline.step_changed.connect(self.show_step)
        self.show_step_now(reader.first_step)
        if follow_ms and not reader.closed:
            self._follow.start()

    @property
    def following(self) -> bool:
        """True while a session still being written is followed."""
        return self._follow.isActive()

    def _update_marks(self) -> None:
        if self.timeline is not None:
            # every finding raised, also those resolved later: where things went wrong
            from .panels.timeaxis import initial_hparams
            self.timeline.set_marks(self.reader.events(), self.reader.findings(),
                                    initial_hparams(self.reader.config))

    # --- feed --------------------------------------------------------------------------------
    def show_step(self, step: int) -> None:
        """Show ``step`` (coalesced: only the newest request is computed)."""
        self._pending = int(step)
        if not self._flush.isActive():
            self._flush.start()

    def show_step_now(self, step: int):
        """Compute and show ``step`` synchronously; return the Snapshot (None: failed)."""
        from ..session import SessionError
        try:
            snap = self.controller.show_replay_step(step)
        except SessionError as e:
            self.stop()
            # the scrubber goes back to the step the panels still show (it stayed where
            # the failed request left it: "320 / 320" above panels at step 250)
            if self.timeline is not None and self.latest is not None:
                blocked = self.timeline.blockSignals(True)
                self.timeline.set_step(self.latest.step)
                self.timeline.blockSignals(blocked)
            self.failed.emit(str(e))
            return None
        self.latest = snap
        self.controller.bus.cursor_moved.emit(snap.step)
        self.snapshot_changed.emit(snap)
        return snap

    def _on_flush(self) -> None:
        step, self._pending = self._pending, None
        if step is not None:
            self.show_step_now(step)

    def poll(self) -> bool:
        """Read new records of a session still being written; keep the timeline at the
        live end when it was there. True when something new arrived."""
        from ..session import SessionError
        try:
            new = self.reader.refresh()
        except SessionError as e:
            self.stop()
            self.failed.emit(str(e))
            return False
        if self.reader.closed:
            self._follow.stop()
            self._set_quiet(False)
        elif new:
            self._set_quiet(False)
        else:
            self._set_quiet(seconds_unwritten(self.reader.path) >= self.QUIET_S)
        if new and self.timeline is not None:
            at_end = self.timeline.step >= self.timeline.last
            self.timeline.set_range(self.reader.first_step, self.reader.last_step)
            self._update_marks()
            if at_end and not self.timeline.playing:
                self.timeline.set_step(self.reader.last_step)
        return new

    def _set_quiet(self, quiet: bool) -> None:
        if quiet != self.quiet:
            self.quiet = quiet
            self.writer_quiet.emit(quiet)

    def fork(self, step: int, changes: dict | None = None, session=None):
        """A new Run continuing this session from ``step`` with ``changes`` (recorded as a
        fork of it; see :func:`workbench.session.fork`)."""
        from ..session import fork
        return fork(self.reader.path, step, changes, session=session)

    def stop(self) -> None:
        """Stop the timers (and the timeline's playback)."""
        self._flush.stop()
        self._follow.stop()
        if self.timeline is not None:
            self.timeline.stop()

    def close(self) -> None:
        """Stop, disconnect the timeline and close the file."""
        self.stop()
        if self.timeline is not None:
            try:
                self.timeline.step_changed.disconnect(self.show_step)
            except (RuntimeError, TypeError):
                pass
        self.reader.close()
