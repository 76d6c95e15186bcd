"""The replay timeline: play, speed and a scrubber over a recorded session's steps."""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from .controller import Controller

SPEEDS = (("0.25x", 0.25), ("1x", 1.0), ("4x", 4.0), ("16x", 16.0))
PLAY_SECONDS = 30.0     # at 1x a whole session plays in about this long
PLAY_HZ = 15


class ReplayBar(QtWidgets.QToolBar):
    """Timeline of a replay; every position shown is the recorded state at that step."""

    def __init__(self, controller: Controller, parent=None):
        super().__init__("Replay", parent)
        self.setObjectName("replay_bar")
        self.controller = controller
        self.reader = None
        self.play_button = QtWidgets.QToolButton()
        self.play_button.setText("Play")
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self._on_play_toggled)
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setObjectName("replay_slider")
        self.slider.setTracking(True)
        self.slider.valueChanged.connect(self._on_slider_changed)
        self.label = QtWidgets.QLabel("step 0")
        self.label.setMinimumWidth(110)
        self.speed = QtWidgets.QComboBox()
        for text, _ in SPEEDS:
            self.speed.addItem(text)
        self.speed.setCurrentIndex(1)
        self.addWidget(self.play_button)
        self.addWidget(self.speed)
        self.addWidget(self.slider)
        self.addWidget(self.label)
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(int(1000 / PLAY_HZ))
        self._timer.timeout.connect(self._on_play_tick)

    def set_reader(self, reader) -> None:
        self.stop()
        self.reader = reader
        with QtCore.QSignalBlocker(self.slider):
            self.slider.setRange(reader.first_step, reader.last_step)
            self.slider.setValue(reader.first_step)
        self.label.setText(f"step {reader.first_step:,} / {reader.last_step:,}")

    def seek(self, step: int) -> None:
        """Show the recorded state at ``step``."""
        self.slider.setValue(int(step))
        if self.slider.value() == int(step):
            self._on_slider_changed(int(step))

    def _on_slider_changed(self, step: int) -> None:
        if self.reader is None or self.controller.replay is None:
            return
        snap = self.controller.show_replay_step(step)
        self.label.setText(f"step {snap.step:,} / {self.reader.last_step:,}")

    def _on_play_toggled(self, on: bool) -> None:
        self.play_button.setText("Pause" if on else "Play")
        if on:
            if self.slider.value() >= self.slider.maximum():
                self.slider.setValue(self.slider.minimum())
            self._timer.start()
        else:
            self._timer.stop()

    def _on_play_tick(self) -> None:
        span = max(1, self.slider.maximum() - self.slider.minimum())
        stride = max(1, round(span / (PLAY_SECONDS * PLAY_HZ) * SPEEDS[
            self.speed.currentIndex()][1]))
        nxt = min(self.slider.maximum(), self.slider.value() + stride)
        self.slider.setValue(nxt)
        if nxt >= self.slider.maximum():
            self.play_button.setChecked(False)

    def stop(self) -> None:
        self._timer.stop()
        with QtCore.QSignalBlocker(self.play_button):
            self.play_button.setChecked(False)
            self.play_button.setText("Play")
