"""The toolbar: run commands and the hyperparameters that change while training runs.

Start, Pause, Step, Epoch and Reset are the window's actions (shared with the Run menu).
The learning rate has a log-scale slider and a text field; momentum, Nesterov, decay, L1,
L2 and the batch size have their own fields. Every change goes to the controller as one
undoable step and reaches the run at its next step boundary, recorded as an event (the
time plots draw it as a marker). A slider drag commits once, on release.
"""
from __future__ import annotations

import math

from PySide6 import QtCore, QtWidgets

from ..config import MAX_BATCH, ConfigError
from ..run.run import _CFG_PATH
from .config_panel import APPLIES
from .controller import Controller

LR_MIN_EXP, LR_MAX_EXP = -5.0, 1.0     # slider range 1e-5 .. 10
LR_TICKS_PER_DECADE = 100


def lr_to_tick(lr: float) -> int:
    e = min(LR_MAX_EXP, max(LR_MIN_EXP, math.log10(lr)))
    return round((e - LR_MIN_EXP) * LR_TICKS_PER_DECADE)


def tick_to_lr(tick: int) -> float:
    return float(f"{10 ** (LR_MIN_EXP + tick / LR_TICKS_PER_DECADE):.3g}")


class LiveControls(QtWidgets.QToolBar):
    """Toolbar with the run actions and the live hyperparameters.

    Parameters
    ----------
    controller : Controller
    actions : sequence of QAction
        Start, Pause, Step, Epoch, Reset (owned by the window).
    """

    def __init__(self, controller: Controller, actions, parent=None):
        super().__init__("Run controls", parent)
        self.setObjectName("live_controls")
        self.setMovable(False)
        self.controller = controller
        for a in actions:
            self.addAction(a)
        self.addSeparator()

        self.lr_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.lr_slider.setObjectName("lr_slider")
        self.lr_slider.setRange(0, round((LR_MAX_EXP - LR_MIN_EXP) * LR_TICKS_PER_DECADE))
        self.lr_slider.setFixedWidth(140)
        self.lr_slider.setToolTip("learning rate (log scale, 1e-5 to 10); applies live")
        self.lr_slider.sliderMoved.connect(self._on_lr_slider_moved)
        self.lr_slider.sliderReleased.connect(self._on_lr_slider_released)
        self.lr_slider.valueChanged.connect(self._on_lr_slider_value_changed)
        self.lr_edit = self._line("lr", 62, "learning rate (> 0)")
        self.addWidget(_label("lr"))
        self.addWidget(self.lr_slider)
        self.addWidget(self.lr_edit)

        self.momentum = self._line("momentum", 46, "momentum (0 to < 1 usually)")
        self.nesterov = QtWidgets.QCheckBox("Nesterov")
        self.nesterov.setObjectName("live_nesterov")
        self.nesterov.toggled.connect(self._on_nesterov_toggled)
        self.decay = self._line("decay", 50, "lr_t = lr / (1 + decay t)")
        self.l1 = self._line("l1", 50, "L1 penalty l1 * sum |W|")
        self.l2 = self._line("l2", 50, "L2 penalty l2 * sum W^2")
        self.batch = QtWidgets.QSpinBox()
        self.batch.setObjectName("live_batch_size")
        self.batch.setRange(1, MAX_BATCH)
        self.batch.setKeyboardTracking(False)
        self.batch.setToolTip("mini-batch size; applies at the next step")
        self.batch.valueChanged.connect(self._on_batch_changed)
        for lab, w in (("mom", self.momentum), (None, self.nesterov), ("decay", self.decay),
                       ("L1", self.l1), ("L2", self.l2), ("batch", self.batch)):
            if lab:
                self.addWidget(_label(lab))
            self.addWidget(w)
        self._edits = {"lr": self.lr_edit, "momentum": self.momentum, "decay": self.decay,
                       "l1": self.l1, "l2": self.l2}
        self._shown: dict | None = None     # replay: the recorded values at the step
        controller.state_changed.connect(self._update_values)
        controller.run_changed.connect(lambda _ctx: self._update_values())
        self._update_values()

    def _line(self, key: str, width: int, tip: str) -> QtWidgets.QLineEdit:
        ed = QtWidgets.QLineEdit()
        ed.setObjectName("live_" + key)
        ed.setFixedWidth(width)
        ed.setToolTip(tip)
        ed.setProperty("help", tip)
        ed.editingFinished.connect(lambda k=key: self._on_edit_finished(k))
        return ed

    # --- from the controller -------------------------------------------------------------
    def show_values(self, hp: dict | None) -> None:
        """Replay: show ``hp`` (the hyperparameters in force at the replayed step, keys as
        ``Run.hp``), read only. None: back to the run's own values, editable."""
        self._shown = dict(hp) if hp is not None else None
        ro = hp is not None
        for ed in self._edits.values():
            ed.setReadOnly(ro)
            if ro:
                ed.clearFocus()
        for w in (self.lr_slider, self.nesterov, self.batch):
            w.setEnabled(not ro)
        self._update_values()

    def _value(self, key: str):
        if self._shown is not None and key in self._shown:
            return self._shown[key]
        return self.controller.config[_CFG_PATH[key]]

    def _update_values(self) -> None:
        self._enable_what_applies()
        for key, ed in self._edits.items():
            if not ed.hasFocus() or ed.property("invalid") or self._shown is not None:
                ed.setText(f"{self._value(key):.6g}")
            _mark(ed, None)
        with QtCore.QSignalBlocker(self.lr_slider):
            if not self.lr_slider.isSliderDown():
                self.lr_slider.setValue(lr_to_tick(self._value("lr")))
        with QtCore.QSignalBlocker(self.nesterov):
            self.nesterov.setChecked(bool(self._value("nesterov")))
        with QtCore.QSignalBlocker(self.batch):
            self.batch.setValue(int(self._value("batch_size")))

    def _enable_what_applies(self) -> None:
        """Grey out what the optimizer does not use, as the configuration dock does (an
        exact solver has no learning rate or batch; only SGD has momentum and decay)."""
        if self._shown is not None:
            return            # replay: read only already
        cfg = self.controller.config
        widgets = {"lr": (self.lr_edit, self.lr_slider), "momentum": (self.momentum,),
                   "nesterov": (self.nesterov,), "decay": (self.decay,),
                   "batch_size": (self.batch,)}
        for key, ws in widgets.items():
            applies = APPLIES.get(_CFG_PATH[key])
            on = applies is None or bool(applies(cfg))
            for w in ws:
                w.setEnabled(on)

    # --- user edits ------------------------------------------------------------------------
    def apply(self, key: str, value, text: str | None = None) -> bool:
        """Send one live change to the controller (validated; marked when refused)."""
        if text is None:
            text = f"{key} = {value}" if isinstance(value, (bool, int)) else \
                f"{key} = {value:g}"
        return self.controller.set_live(text, **{key: value})

    def _on_edit_finished(self, key: str) -> None:
        if self._shown is not None:
            return            # replay: read only
        ed = self._edits[key]
        t = ed.text().strip()
        try:
            v = float(t)
            if not math.isfinite(v):
                raise ValueError
        except ValueError:
            self._refuse(ed, f"{key}: '{t}' is not a number")
            return
        if v == self.controller.config[_CFG_PATH[key]]:
            _mark(ed, None)
            return
        try:
            self.controller.config.with_changes({_CFG_PATH[key]: v})
        except ConfigError as e:
            self._refuse(ed, str(e))
            return
        _mark(ed, None)
        self.apply(key, v)

    def _refuse(self, ed: QtWidgets.QLineEdit, reason: str) -> None:
        """Mark the field and say why where it is seen (the status bar), not only in
        its tooltip; the run keeps its value."""
        _mark(ed, reason)
        self.controller.message.emit(f"not applied: {reason}")

    def _on_lr_slider_moved(self, tick: int) -> None:
        # while dragging only the text follows; the run gets the value on release
        self.lr_edit.setText(f"{tick_to_lr(tick):.3g}")

    def _on_lr_slider_released(self) -> None:
        lr = tick_to_lr(self.lr_slider.value())
        if lr != self.controller.config["optimizer.lr"]:
            self.apply("lr", lr)

    def _on_lr_slider_value_changed(self, tick: int) -> None:
        if self.lr_slider.isSliderDown():
            return       # a drag: committed once, on release
        lr = tick_to_lr(tick)
        if lr != self.controller.config["optimizer.lr"]:
            self.apply("lr", lr)

    def _on_nesterov_toggled(self, on: bool) -> None:
        self.apply("nesterov", bool(on))

    def _on_batch_changed(self, v: int) -> None:
        if v != self.controller.config["training.batch_size"]:
            self.apply("batch_size", int(v), f"batch size = {v}")


def _label(text: str) -> QtWidgets.QLabel:
    lab = QtWidgets.QLabel(f" {text} ")
    return lab


def _mark(ed: QtWidgets.QWidget, msg: str | None) -> None:
    """Mark a field invalid with ``msg`` as its tooltip, or valid with its own help back
    (the reason of an old refusal stayed as the tooltip for good)."""
    if bool(ed.property("invalid")) != bool(msg):
        ed.setProperty("invalid", bool(msg))
        ed.style().unpolish(ed)
        ed.style().polish(ed)
    helptip = ed.property("help") or ""
    ed.setToolTip(f"{msg}\n\n{helptip}".strip() if msg else helptip)
