"""The configuration dock: a field for every key of the run configuration.

The form is validated as a whole on every edit (the rules of :mod:`workbench.config`,
plus whether the dataset fits the output): each invalid field is outlined and shows its
reason beneath it, and :attr:`ConfigPanel.error` names the first problem so the window
can refuse to start. A valid form that differs from the current configuration is
committed as one change (``config_edited``): the controller turns it into live
hyperparameters or a reset, and into one undo step.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from PySide6 import QtCore, QtWidgets

from .. import config as C
from ..config import MAX_UNITS, ConfigError, RunConfig

#: The fitting output and loss for a dataset (the user can still change them).
TASK_DEFAULTS = {
    "digits": ("softmax", "cross_entropy"),
    "regression": ("linear", "mse"),
    "classification": ("sigmoid", "bce"),
}
N_CLASSES = {"digits": 10}


@dataclass(frozen=True)
class Field:
    """One form field: dotted ``key``, ``kind`` (int, float, choice, bool, path,
    features, hidden), its label, the choices of a ``choice`` and a tooltip."""
    key: str
    kind: str
    label: str
    choices: tuple = ()
    tip: str = ""


SECTIONS: tuple[tuple[str, tuple[Field, ...]], ...] = (
    ("Data", (
        Field("data.name", "choice", "dataset", C.DATASETS, "the data to learn"),
        Field("data.n_samples", "int", "samples", tip="points drawn (train + test)"),
        Field("data.noise", "float", "noise", tip="0 to 0.5 is the useful range"),
        Field("data.test_fraction", "float", "test fraction",
              tip="share held out for testing, in [0, 1)"),
        Field("data.features", "features", "features",
              tip="inputs the model sees, computed from the raw x1, x2"),
        Field("data.scale", "float", "scale", tip="multiplies every input (unscaled "
              "features)"),
        Field("data.noise_features", "int", "noise features",
              tip="extra columns of pure noise (irrelevant features)"),
        Field("data.path", "path", "CSV file", tip="for dataset csv: last column the "
              "target"),
        Field("seed", "int", "seed", tip="the same seed and config give the same run"),
    )),
    ("Model", (
        Field("model.hidden", "hidden", "hidden layers"),
        Field("model.output", "choice", "output", C.OUTPUTS),
        Field("model.loss", "choice", "loss", C.LOSSES),
        Field("model.init", "choice", "init", C.INITS),
        Field("model.init_scale", "float", "init scale"),
        Field("model.bias_init", "float", "bias init"),
    )),
    ("Optimizer", (
        Field("optimizer.name", "choice", "optimizer", C.OPTIMIZERS),
        Field("optimizer.lr", "float", "learning rate", tip="> 0; changes apply live"),
        Field("optimizer.momentum", "float", "momentum"),
        Field("optimizer.nesterov", "bool", "Nesterov"),
        Field("optimizer.decay", "float", "decay", tip="lr_t = lr / (1 + decay t)"),
        Field("optimizer.beta1", "float", "beta1 (Adam)"),
        Field("optimizer.beta2", "float", "beta2 (Adam)"),
        Field("optimizer.rho", "float", "rho (RMSprop)"),
        Field("optimizer.epsilon", "float", "epsilon"),
    )),
    ("Regularization", (
        Field("regularization.l1", "float", "L1", tip="l1 * sum |W| (lasso)"),
        Field("regularization.l2", "float", "L2", tip="l2 * sum W^2 (ridge)"),
    )),
    ("Training", (
        Field("training.batch_size", "int", "batch size"),
        Field("training.epochs", "int", "epochs"),
        Field("training.precision", "choice", "precision", C.PRECISIONS),
    )),
)
FIELDS = {f.key: f for _, fs in SECTIONS for f in fs}

#: When a field means something: a predicate of the form's (partial) values. Fields that
#: do not apply are greyed out, not hidden, so the form does not jump.
APPLIES = {
    "data.n_samples": lambda v: v["data.name"] not in ("digits", "csv"),
    "data.noise": lambda v: v["data.name"] not in ("digits", "csv"),
    "data.path": lambda v: v["data.name"] == "csv",
    "optimizer.momentum": lambda v: v["optimizer.name"] == "sgd",
    "optimizer.nesterov": lambda v: v["optimizer.name"] == "sgd",
    "optimizer.decay": lambda v: v["optimizer.name"] == "sgd",
    "optimizer.beta1": lambda v: v["optimizer.name"] == "adam",
    "optimizer.beta2": lambda v: v["optimizer.name"] == "adam",
    "optimizer.rho": lambda v: v["optimizer.name"] == "rmsprop",
    "optimizer.epsilon": lambda v: v["optimizer.name"] in ("adam", "rmsprop", "adagrad"),
    "optimizer.lr": lambda v: v["optimizer.name"] not in C.EXACT_SOLVERS,
    "training.batch_size": lambda v: v["optimizer.name"] not in C.EXACT_SOLVERS,
}


def task_of(name: str) -> str:
    if name == "digits":
        return "digits"
    if name in C.REGRESSION_1D + C.REGRESSION_2D:
        return "regression"
    return "classification"


def raw_dim_of(name: str) -> int | None:
    if name in C.REGRESSION_1D:
        return 1
    if name in C.CLASSIFICATION_2D + C.GATES + C.REGRESSION_2D:
        return 2
    return None      # digits, csv: features do not apply


def field_of_message(msg: str) -> str | None:
    """The form field a ConfigError message names (its first word is the key)."""
    head = msg.split(" ", 1)[0]
    if head.startswith("model.hidden"):
        return "model.hidden"
    if head in FIELDS:
        return head
    for key in sorted(FIELDS, key=len, reverse=True):
        if f"'{key}'" in msg or msg.startswith(key):
            return key
    return None


def fit_problem(cfg: RunConfig) -> tuple[str, str] | None:
    """(field, reason) when the dataset does not fit the output (digits with one
    sigmoid unit), as :func:`workbench.run.run.output_units` would refuse it."""
    from ..run.run import output_units
    name = cfg["data.name"]
    if name not in N_CLASSES:
        return None
    ds = SimpleNamespace(task="classification", n_classes=N_CLASSES[name], name=name)
    try:
        output_units(ds, cfg["model.loss"])
    except ConfigError as e:
        return "model.loss", str(e)
    return None


# --- editors ------------------------------------------------------------------------------

def narrow_combo(combo: QtWidgets.QComboBox, chars: int = 7) -> None:
    """Let a combo box shrink to about ``chars`` characters (its longest choice,
    "coordinate_descent", otherwise sets its minimum width and, with the dock's fixed
    width, cut the form's right edge); the full name is in the tooltip."""
    combo.setSizeAdjustPolicy(
        QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(chars)
    combo.setToolTip(combo.currentText())
    combo.currentTextChanged.connect(combo.setToolTip)


class FeaturesEditor(QtWidgets.QWidget):
    """Checkboxes for the feature transforms and a polynomial degree."""
    changed = QtCore.Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        grid = QtWidgets.QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(0)
        self._grid = grid
        self.boxes: dict[str, QtWidgets.QCheckBox] = {}
        for i, name in enumerate(C.FEATURES_2D):
            cb = QtWidgets.QCheckBox(name)
            cb.toggled.connect(self.changed)
            self.boxes[name] = cb
            grid.addWidget(cb, i // 3, i % 3)
        row = (len(C.FEATURES_2D) + 2) // 3
        grid.addWidget(QtWidgets.QLabel("poly degree"), row, 0)
        self.poly = QtWidgets.QSpinBox()
        self.poly.setRange(0, 10)
        self.poly.setSpecialValueText("off")
        self.poly.valueChanged.connect(self.changed)
        grid.addWidget(self.poly, row, 1, 1, 2)
        self.note = QtWidgets.QLabel("raw inputs (features do not apply)")
        grid.addWidget(self.note, row + 1, 0, 1, 3)
        self._dim: int | None = 2

    def set_dim(self, dim: int | None) -> None:
        """Show the transforms that exist for 1-D or 2-D raw inputs (None: none)."""
        self._dim = dim
        allowed = C.FEATURES_1D if dim == 1 else C.FEATURES_2D if dim == 2 else ()
        # the boxes shown fill the grid's cells in order (for 1-D inputs the hidden x2
        # boxes left holes: "x1 . x1^2 / . . sin(x1)")
        for cb in self.boxes.values():
            self._grid.removeWidget(cb)
        shown = [cb for name, cb in self.boxes.items() if name in allowed]
        hidden = [cb for name, cb in self.boxes.items() if name not in allowed]
        for i, cb in enumerate(shown + hidden):
            self._grid.addWidget(cb, i // 3, i % 3)
        for name, cb in self.boxes.items():
            cb.setVisible(name in allowed)
        self.poly.setEnabled(dim is not None)
        self.note.setVisible(dim is None)

    def set_value(self, feats) -> None:
        with QtCore.QSignalBlocker(self):
            for cb in self.boxes.values():
                cb.blockSignals(True)
            self.poly.blockSignals(True)
            raw = ("x1",) if self._dim == 1 else ("x1", "x2")
            chosen = list(raw) if feats is None else [f for f in feats if isinstance(f, str)]
            poly = next((int(f["poly"]) for f in (feats or []) if isinstance(f, dict)), 0)
            for name, cb in self.boxes.items():
                cb.setChecked(name in chosen)
            self.poly.setValue(poly)
            for cb in self.boxes.values():
                cb.blockSignals(False)
            self.poly.blockSignals(False)

    def value(self):
        """None for the raw inputs, else the list of transforms (possibly invalid: [])."""
        if self._dim is None:
            return None
        allowed = C.FEATURES_1D if self._dim == 1 else C.FEATURES_2D
        chosen = [n for n in allowed if self.boxes[n].isChecked()]
        poly = self.poly.value()
        raw = ["x1"] if self._dim == 1 else ["x1", "x2"]
        if chosen == raw and poly == 0:
            return None
        return chosen + ([{"poly": poly}] if poly else [])


class LayerEditor(QtWidgets.QWidget):
    """Hidden layers: one row per layer (units, activation, remove), and an add button."""
    changed = QtCore.Signal()
    MAX_UNITS = MAX_UNITS

    def __init__(self, parent=None):
        super().__init__(parent)
        self._box = QtWidgets.QVBoxLayout(self)
        self._box.setContentsMargins(0, 0, 0, 0)
        self._box.setSpacing(2)
        self._rows: list[tuple[QtWidgets.QWidget, QtWidgets.QSpinBox, QtWidgets.QComboBox]] = []
        self._empty = QtWidgets.QLabel("no hidden layer (linear model / perceptron)")
        self._empty.setWordWrap(True)       # else it widens the form past the dock
        self._box.addWidget(self._empty)
        self.add_button = QtWidgets.QPushButton("Add layer")
        self.add_button.setObjectName("addLayer")
        self.add_button.clicked.connect(self._on_add_clicked)
        self._box.addWidget(self.add_button)

    def _add_row(self, units: int, act: str) -> None:
        row = QtWidgets.QWidget()
        lay = QtWidgets.QHBoxLayout(row)
        lay.setContentsMargins(0, 0, 0, 0)
        lab = QtWidgets.QLabel(f"{len(self._rows) + 1}")
        lab.setFixedWidth(14)
        spin = QtWidgets.QSpinBox()
        spin.setRange(1, self.MAX_UNITS)
        spin.setValue(int(units))
        spin.setToolTip("units in this layer")
        spin.setKeyboardTracking(False)
        combo = QtWidgets.QComboBox()
        combo.addItems(C.ACTIVATIONS)
        combo.setCurrentText(act)
        rm = QtWidgets.QToolButton()
        rm.setText("\u2212")
        rm.setToolTip("remove this layer")
        lay.addWidget(lab)
        lay.addWidget(spin, 1)
        lay.addWidget(combo, 2)
        lay.addWidget(rm)
        spin.valueChanged.connect(self.changed)
        combo.currentTextChanged.connect(self.changed)
        rm.clicked.connect(lambda: self._remove(row))
        self._box.insertWidget(self._box.count() - 1, row)
        self._rows.append((row, spin, combo))
        self._empty.setVisible(False)

    def _remove(self, row: QtWidgets.QWidget) -> None:
        self._rows = [r for r in self._rows if r[0] is not row]
        row.setParent(None)
        row.deleteLater()
        for i, (w, _, _) in enumerate(self._rows):
            w.layout().itemAt(0).widget().setText(f"{i + 1}")
        self._empty.setVisible(not self._rows)
        self.changed.emit()

    def _on_add_clicked(self) -> None:
        units, act = (self._rows[-1][1].value(), self._rows[-1][2].currentText()) \
            if self._rows else (8, "tanh")
        self._add_row(units, act)
        self.changed.emit()

    def set_value(self, hidden) -> None:
        for row, _, _ in self._rows:
            row.setParent(None)
            row.deleteLater()
        self._rows = []
        for units, act in hidden:
            self._add_row(units, act)
        self._empty.setVisible(not self._rows)

    def value(self) -> list:
        return [[s.value(), c.currentText()] for _, s, c in self._rows]


# --- the panel ------------------------------------------------------------------------------

class ConfigPanel(QtWidgets.QWidget):
    """Every key of the run configuration, validated at the field.

    Signals
    -------
    config_edited(RunConfig, str): the form is valid and differs from the current
        configuration (the string describes the change for the undo stack).
    validity_changed(object): the first problem (one line) or None when valid.
    """
    config_edited = QtCore.Signal(object, str)
    validity_changed = QtCore.Signal(object)
    object_name = "config"
    title = "Configuration"

    def __init__(self, config: RunConfig | None = None, parent=None):
        super().__init__(parent)
        self.setObjectName("config_widget")
        self._config = config or RunConfig()
        self.editors: dict[str, QtWidgets.QWidget] = {}
        self.error_labels: dict[str, QtWidgets.QLabel] = {}
        self.errors: dict[str, str] = {}
        self._external: tuple[str | None, str] | None = None
        self._loading = False

        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        self.lesson = QtWidgets.QLabel()
        self.lesson.setObjectName("lesson")
        self.lesson.setWordWrap(True)
        self.lesson.setVisible(False)
        outer.addWidget(self.lesson)
        self.general_error = QtWidgets.QLabel()
        self.general_error.setProperty("class", "fieldError")
        self.general_error.setWordWrap(True)
        self.general_error.setVisible(False)
        outer.addWidget(self.general_error)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer.addWidget(scroll, 1)
        body = QtWidgets.QWidget()
        scroll.setWidget(body)
        vbox = QtWidgets.QVBoxLayout(body)
        vbox.setContentsMargins(0, 0, 0, 0)
        for title, fields in SECTIONS:
            group = QtWidgets.QGroupBox(title)
            form = QtWidgets.QFormLayout(group)
            form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            form.setContentsMargins(6, 4, 6, 4)
            form.setVerticalSpacing(3)
            for f in fields:
                ed = self._make_editor(f)
                ed.setObjectName("field_" + f.key)
                if f.tip:
                    ed.setToolTip(f.tip)
                err = QtWidgets.QLabel()
                err.setObjectName("error_" + f.key)
                err.setProperty("class", "fieldError")
                err.setWordWrap(True)
                err.setVisible(False)
                cell = QtWidgets.QWidget()
                cl = QtWidgets.QVBoxLayout(cell)
                cl.setContentsMargins(0, 0, 0, 0)
                cl.setSpacing(1)
                cl.addWidget(ed)
                cl.addWidget(err)
                if f.kind in ("hidden", "features"):
                    form.addRow(QtWidgets.QLabel(f.label))
                    form.addRow(cell)
                else:
                    form.addRow(f.label, cell)
                self.editors[f.key] = ed
                self.error_labels[f.key] = err
            vbox.addWidget(group)
        vbox.addStretch(1)
        self.set_config(self._config)

    # --- building ---------------------------------------------------------------------------
    def _make_editor(self, f: Field) -> QtWidgets.QWidget:
        if f.kind in ("int", "float"):
            ed = QtWidgets.QLineEdit()
            ed.textEdited.connect(lambda _t: self._validate())
            ed.editingFinished.connect(self._commit)
            return ed
        if f.kind == "choice":
            ed = QtWidgets.QComboBox()
            ed.addItems(list(f.choices))
            narrow_combo(ed)
            ed.activated.connect(lambda _i, k=f.key: self._on_choice_activated(k))
            return ed
        if f.kind == "bool":
            ed = QtWidgets.QCheckBox()
            ed.toggled.connect(lambda _b: self._commit())
            return ed
        if f.kind == "path":
            ed = QtWidgets.QWidget()
            lay = QtWidgets.QHBoxLayout(ed)
            lay.setContentsMargins(0, 0, 0, 0)
            line = QtWidgets.QLineEdit()
            line.setPlaceholderText("(only for dataset csv)")
            line.editingFinished.connect(self._commit)
            btn = QtWidgets.QToolButton()
            btn.setText("\u2026")
            btn.setToolTip("choose a CSV file")
            btn.clicked.connect(self._on_browse_clicked)
            lay.addWidget(line, 1)
            lay.addWidget(btn)
            ed.line = line  # type: ignore[attr-defined]
            return ed
        if f.kind == "features":
            ed = FeaturesEditor()
            ed.changed.connect(self._commit)
            return ed
        ed = LayerEditor()
        ed.changed.connect(self._commit)
        return ed

    # --- values ---------------------------------------------------------------------------------
    @property
    def config(self) -> RunConfig:
        """The last configuration set or committed (always valid)."""
        return self._config

    def set_config(self, cfg: RunConfig) -> None:
        """Show ``cfg`` in every field (no signal)."""
        self._config = cfg
        self._loading = True
        try:
            self._update_features_dim(cfg["data.name"])
            for key, f in FIELDS.items():
                self._set_field(f, cfg[key])
        finally:
            self._loading = False
        self._external = None
        self._validate()

    def _set_field(self, f: Field, v: Any) -> None:
        ed = self.editors[f.key]
        with QtCore.QSignalBlocker(ed):
            if f.kind in ("int", "float"):
                ed.setText(_fmt_num(v))
            elif f.kind == "choice":
                ed.setCurrentText(str(v))
            elif f.kind == "bool":
                ed.setChecked(bool(v))
            elif f.kind == "path":
                ed.line.setText(v or "")
            else:
                ed.set_value(v)

    def set_field_text(self, key: str, text: str) -> None:
        """Type ``text`` into a number field and finish editing (tests, scripting)."""
        ed = self.editors[key]
        ed.setText(text)
        self._validate()
        self._commit()

    def _field_value(self, f: Field) -> tuple[Any, str | None]:
        """(value, parse error) of one field."""
        ed = self.editors[f.key]
        if f.kind == "int":
            t = ed.text().strip()
            try:
                v = float(t)
            except ValueError:
                return None, f"{f.key}: '{t}' is not a number"
            if not v.is_integer():
                return None, f"{f.key}: {t} is not a whole number"
            return int(v), None
        if f.kind == "float":
            t = ed.text().strip()
            try:
                v = float(t)
            except ValueError:
                return None, f"{f.key}: '{t}' is not a number"
            if not math.isfinite(v):
                return None, f"{f.key}: {t} is not a finite number"
            return v, None
        if f.kind == "choice":
            return ed.currentText(), None
        if f.kind == "bool":
            return ed.isChecked(), None
        if f.kind == "path":
            t = ed.line.text().strip()
            return (t or None), None
        return ed.value(), None

    def _candidate(self) -> tuple[dict, dict[str, str]]:
        d = self._config.to_dict()
        errors: dict[str, str] = {}
        patch = {}
        for key, f in FIELDS.items():
            v, err = self._field_value(f)
            if err:
                errors[key] = err
            else:
                patch[key] = v
        C.apply_patch(d, patch)
        return d, errors

    def _validate(self) -> RunConfig | None:
        """Mark every invalid field; return the form's config when it is valid."""
        d, errors = self._candidate()
        cfg = None
        for _ in range(len(FIELDS)):
            try:
                cfg = RunConfig(d)
            except ConfigError as e:
                key = field_of_message(str(e))
                if key is None or key in errors:
                    errors["" if key is None else key + "#"] = str(e)
                    break
                errors[key] = str(e)
                C.apply_patch(d, {key: self._config[key]})   # find the next problem
                continue
            prob = fit_problem(cfg)
            if prob and prob[0] not in errors:
                errors[prob[0]] = prob[1]
                cfg = None
            break
        if errors:
            cfg = None
        if self._external is not None:
            key, msg = self._external
            errors.setdefault(key or "", msg)
        self._show_errors(errors)
        return cfg

    def _update_enabled(self) -> None:
        values = {k: self.editors[k].currentText() for k in ("data.name", "optimizer.name")}
        for key, applies in APPLIES.items():
            self.editors[key].setEnabled(applies(values))

    def _show_errors(self, errors: dict[str, str]) -> None:
        self._update_enabled()
        self.errors = {k.rstrip("#"): v for k, v in errors.items()}
        for key, lab in self.error_labels.items():
            msg = self.errors.get(key)
            lab.setText(msg or "")
            lab.setVisible(bool(msg))
            ed = self.editors[key]
            target = ed.line if FIELDS[key].kind == "path" else ed
            if bool(target.property("invalid")) != bool(msg):
                target.setProperty("invalid", bool(msg))
                target.style().unpolish(target)
                target.style().polish(target)
            target.setToolTip(msg or FIELDS[key].tip)
        general = self.errors.get("")
        self.general_error.setText(general or "")
        self.general_error.setVisible(bool(general))
        self.validity_changed.emit(self.error)

    @property
    def error(self) -> str | None:
        """The first problem of the form (one line), or None when it is valid."""
        for key in FIELDS:
            if key in self.errors:
                return self.errors[key]
        return self.errors.get("")

    def show_external_error(self, msg: str | None) -> None:
        """Show a problem found when building the run (e.g. a CSV that cannot be read)
        at the field it names; None clears it."""
        self._external = None if msg is None else (field_of_message(msg), msg)
        self._validate()

    # --- commits ---------------------------------------------------------------------------------
    def _commit(self, text: str | None = None) -> None:
        if self._loading:
            return
        self._external = None
        cfg = self._validate()
        if cfg is None or cfg == self._config:
            return
        if text is None:
            changed = [k for k in FIELDS if cfg[k] != self._config[k]]
            text = "change " + ", ".join(FIELDS[k].label for k in changed)
        self.config_edited.emit(cfg, text)

    def _on_choice_activated(self, key: str) -> None:
        if key == "data.name":
            self._on_dataset_changed()
            return
        self._commit()

    def _on_dataset_changed(self) -> None:
        """A dataset picks a fitting output and loss and drops features it cannot have."""
        name = self.editors["data.name"].currentText()
        old = self._config["data.name"]
        out, loss = TASK_DEFAULTS[task_of(name)]
        if task_of(name) != task_of(old) or name == "digits" or old == "digits":
            self._set_field(FIELDS["model.output"], out)
            self._set_field(FIELDS["model.loss"], loss)
        if raw_dim_of(name) != raw_dim_of(old):
            self._update_features_dim(name)
            self._set_field(FIELDS["data.features"], None)
        self._commit(f"dataset {name}")

    def _update_features_dim(self, name: str) -> None:
        self.editors["data.features"].set_dim(raw_dim_of(name))

    def _on_browse_clicked(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Choose a CSV file", "",
                                                        "CSV files (*.csv *.csv.gz);;All (*)")
        if path:
            self.editors["data.path"].line.setText(path)
            if self.editors["data.name"].currentText() != "csv":
                self.editors["data.name"].setCurrentText("csv")
            self._commit("open CSV")

    def set_lesson(self, text: str | None) -> None:
        self.lesson.setText(text or "")
        self.lesson.setVisible(bool(text))


def _fmt_num(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, int):
        return str(v)
    return f"{v:.10g}"
