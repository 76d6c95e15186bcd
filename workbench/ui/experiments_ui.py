"""The experiments and diagnostics actions of the window's Run menu.

:class:`ExperimentsUi` is attached to the main window once. It adds to the Run menu the
sanity checks, Sweep..., the practical learning-rate test, the LR range test, the
learning curve, the capacity sweep and the loss landscape; it answers the diagnostics
dock's "Try the remedy" (a second run with the finding's patch, its loss overlaid on the
loss plot, a one-line verdict in the dock) and offers the experiment that answers a
finding (:func:`workbench.experiments.remedies.experiment_for`); it shows the NaN
provenance banner when training stops at a non-finite value.

Every experiment is described by an :class:`ExperimentKind` in :data:`EXPERIMENTS`
(its parameters, the compute function and how its result is shown) and runs in an
:class:`ExperimentDialog`: parameters, progress, cancel, then the result view. Long work
runs on :class:`~workbench.ui.experiments_view.ExperimentTask` threads; the window stays
responsive, and closing the window cancels and joins them.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PySide6 import QtCore, QtWidgets

from ..config import ConfigError
from .diagnostics_ui import (REMEDY_COLOR, ChecksDialog, ProvenanceBanner, ProvenanceWatcher,
                             RemedyResult, sanity_checks, train_remedy)
from .experiments_view import (CapacityView, CompareView, ExperimentTask, LearningCurveView,
                               RangeTestView, SweepDialog, add_run_bar,
                               start_run_bar_task)
from .panels.landscape import LandscapeView

log = logging.getLogger(__name__)

#: Overlays of other runs kept when the remedy's is added (their colour is not known).
OTHER_OVERLAY_COLOR = "#7f7f7f"
#: Points of the current run's path drawn on a landscape (the path is thinned to this).
MAX_PATH_POINTS = 400
#: Steps replayed for the landscape of a run that has not trained yet.
UNTRAINED_STEPS = 500


# --- parameters of an experiment ----------------------------------------------------------

@dataclass(frozen=True)
class Param:
    """One editable parameter of an experiment.

    ``kind``: ``floats`` (comma-separated numbers), ``float``, ``int``, ``opt_int``
    (empty: the default of the experiment), ``bool`` (a check box) or ``choice``
    (``choices`` of (value, text)).
    """
    key: str
    label: str
    kind: str
    default: Any
    choices: tuple = ()
    tip: str = ""
    placeholder: str = "the configured epochs"    # what an empty ``opt_int`` means


def _parse(p: Param, text: str):
    text = text.strip()
    try:
        if p.kind == "floats":
            vals = [float(t) for t in text.replace(";", ",").split(",") if t.strip()]
            if not vals:
                raise ValueError
            return vals
        if p.kind == "float":
            return float(text)
        if p.kind == "int":
            v = int(text)
            if v < 1:
                raise ValueError
            return v
        if p.kind == "opt_int":
            if not text:
                return None
            v = int(text)
            if v < 1:
                raise ValueError
            return v
    except ValueError:
        raise ConfigError(f"{p.label}: '{text}' is not "
                          + {"floats": "a comma-separated list of numbers",
                             "float": "a number", "int": "a whole number >= 1",
                             "opt_int": "empty or a whole number >= 1"}[p.kind]) from None
    raise ValueError(f"unknown parameter kind {p.kind}")


class ParamForm(QtWidgets.QWidget):
    """Editors for a list of :class:`Param`; :meth:`values` parses them (ConfigError)."""

    def __init__(self, params: tuple[Param, ...], parent=None):
        super().__init__(parent)
        self.params = params
        self.editors: dict[str, QtWidgets.QWidget] = {}
        lay = QtWidgets.QFormLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        for p in params:
            if p.kind == "bool":
                w = QtWidgets.QCheckBox()
                w.setChecked(bool(p.default))
            elif p.kind == "choice":
                w = QtWidgets.QComboBox()
                for value, text in p.choices:
                    w.addItem(text, value)
                w.setCurrentIndex(max(0, w.findData(p.default)))
            else:
                w = QtWidgets.QLineEdit(_text(p.default))
                if p.kind == "opt_int":
                    w.setPlaceholderText(p.placeholder)
            w.setObjectName(f"param_{p.key}")
            if p.tip:
                w.setToolTip(p.tip)
            self.editors[p.key] = w
            lay.addRow(p.label, w)

    def set_value(self, key: str, value) -> None:
        w = self.editors[key]
        if isinstance(w, QtWidgets.QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QtWidgets.QComboBox):
            w.setCurrentIndex(max(0, w.findData(value)))
        else:
            w.setText(_text(value))

    def values(self) -> dict:
        out = {}
        for p in self.params:
            w = self.editors[p.key]
            if isinstance(w, QtWidgets.QCheckBox):
                out[p.key] = w.isChecked()
            elif isinstance(w, QtWidgets.QComboBox):
                out[p.key] = w.currentData()
            else:
                out[p.key] = _parse(p, w.text())
        return out


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, (list, tuple)):
        return ", ".join(f"{x:g}" for x in v)
    return f"{v:g}" if isinstance(v, float) else str(v)


# --- the experiments -----------------------------------------------------------------------

@dataclass(frozen=True)
class ExperimentKind:
    """An experiment of the Run menu.

    ``make_task(ui, values)`` returns ``(fn, kwargs)`` for an :class:`ExperimentTask`
    (``fn(progress=, cancel=, **kwargs)``, synchronous); ``make_view()`` builds the result
    widget and ``show(view, result)`` fills it.
    """
    name: str
    title: str
    question: str
    params: tuple[Param, ...]
    make_view: Callable[[], QtWidgets.QWidget]
    make_task: Callable[["ExperimentsUi", dict], tuple[Callable, dict]]
    show: Callable[[QtWidgets.QWidget, Any], None]
    shortcut: str | None = None


def _pool(ui: "ExperimentsUi", name: str) -> dict:
    return {"workers": ui.workers, "out": ui.out_dir(name)}


def _lrtest_task(ui, v):
    from ..experiments.lr import lr_test
    return lr_test, dict(config=ui.config(), lrs=v["lrs"], momentum=v["momentum"],
                         nesterov=v["nesterov"], decay=v["decay"], steps=v["steps"],
                         seeds=v["seeds"], **_pool(ui, "lrtest"))


def _show_lrtest(view: CompareView, res) -> None:
    view.set_result(res.sweep, res.verdict, "optimizer.lr")


def _rangetest_task(ui, v):
    from ..experiments.lr import range_test
    return range_test, dict(config=ui.config(), lr_min=v["lr_min"], lr_max=v["lr_max"],
                            steps=v["steps"], **_pool(ui, "rangetest"))


def _curve_task(ui, v):
    from ..experiments.curves import learning_curve
    return learning_curve, dict(config=ui.config(), fractions=v["fractions"],
                                seeds=v["seeds"], steps=v["steps"],
                                **_pool(ui, "learningcurve"))


def _capacity_task(ui, v):
    from ..experiments.curves import capacity_sweep
    return capacity_sweep, dict(config=ui.config(), factors=v["factors"], seeds=v["seeds"],
                                steps=v["steps"], **_pool(ui, "capacity"))


@dataclass
class RunLandscape:
    """The landscape around the window's run: the exact surface (two parameters) or a
    random 2-D slice, and the run's path on it (replayed from the start)."""
    a1: np.ndarray
    a2: np.ndarray
    loss: np.ndarray
    path: np.ndarray
    names: tuple
    title: str
    verdict: str
    slice: Any = field(default=None, repr=False)


def run_landscape(config, dataset, events, steps: int, n: int = 61, progress=None,
                  cancel=None) -> RunLandscape:
    """Replay ``config`` on ``dataset`` for ``steps`` steps (re-applying the recorded
    ``events``) and compute the loss landscape around its path.

    Two-parameter models get the exact surface over a box around the whole path; larger
    nets a slice through the final parameters along two random layer-normalized
    directions (Li et al., 2018) with the path projected on it.
    """
    from ..experiments.landscape import batch_loss, random_slice, record_thetas
    from ..run import Run
    run = Run(config, dataset=dataset, diagnostics=False)
    run.schedule([e for e in events if e.get("kind") in ("hparams", "weight")])
    every = max(1, steps // MAX_PATH_POINTS)
    thetas = record_thetas(run, steps, every=every)
    if progress is not None:
        progress(1, 2, "path")
    thetas = thetas[np.all(np.isfinite(thetas), axis=1)]
    net = run.network
    if net.layout.n_params == 2:
        lo, hi = thetas.min(axis=0), thetas.max(axis=0)
        pad = np.maximum(0.25 * (hi - lo), 0.5)
        a1 = np.linspace(lo[0] - pad[0], hi[0] + pad[0], n)
        a2 = np.linspace(lo[1] - pad[1], hi[1] + pad[1], n)
        P1, P2 = np.meshgrid(a1, a2, indexing="xy")
        X, y = run.train_data
        L = batch_loss(net, np.column_stack([P1.ravel(), P2.ravel()]), X, net.targets(y),
                       run.hp["l1"], run.hp["l2"]).reshape(n, n)
        end = float(batch_loss(net, thetas[-1:], X, net.targets(y), run.hp["l1"],
                               run.hp["l2"])[0])
        verdict = (f"exact loss surface of the run's two parameters; the path of "
                   f"{run.step} steps ends at ({thetas[-1, 0]:.3g}, {thetas[-1, 1]:.3g}) "
                   f"with loss {end:.4g}")
        out = RunLandscape(a1, a2, L, thetas, ("w", "b"), "the current run", verdict)
    else:
        s = random_slice(run, thetas=thetas, n=n)
        c = s.loss.shape[0] // 2
        verdict = (f"loss at the current parameters {s.loss[c, c]:.4g}; the path of "
                   f"{run.step} steps projected on the plane (on average "
                   f"{100 * float(np.mean(s.off_plane[:-1])) if len(s.off_plane) > 1 else 0:.0f}"
                   " % of each offset lies off it)")
        out = RunLandscape(s.a1, s.a2, s.loss, s.path, ("direction 1", "direction 2"),
                           "2-D slice along random layer-normalized directions", verdict, s)
    if progress is not None:
        progress(2, 2, "surface")
    return out


def _landscape_task(ui, v):
    from ..experiments.landscape import landscape
    if v["model"] == "current":
        c = ui.controller
        snap = c.latest
        steps = snap.step if snap is not None and snap.step > 0 else \
            min(UNTRAINED_STEPS, c.run.total_steps)
        events = list(snap.events) if snap is not None else []
        return run_landscape, dict(config=c.run.config, dataset=c.run.dataset,
                                   events=events, steps=steps)
    # starts: the model's own (a good and, for non-convex models, a bad one)
    return landscape, dict(name=v["model"], compare=v["compare"],
                           lr=v["lr"] or None, steps=v["steps"])


def _show_landscape(view: LandscapeView, res) -> None:
    if isinstance(res, RunLandscape):
        view.clear_paths()
        view.set_surface(res.a1, res.a2, res.loss, res.names)
        view.set_path("path", res.path)
        view.mark(res.path[-1], "current parameters", symbol="+", color="#ffffff")
        view.plot.setTitle(res.title)
        view.verdict.setText(res.verdict)
    else:
        view.show_landscape(res)


def _compare_view() -> CompareView:
    v = CompareView()
    # "optimizer.lr" must be readable in the colour-key box
    v.color_key.setSizeAdjustPolicy(
        QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
    return v


def _range_view() -> RangeTestView:
    from .experiments_view import DIVERGE_COLOR, SUGGEST_COLOR
    v = RangeTestView()
    # the lines' labels in their lines' colours (the default grey is hard to read)
    v.sugg_line.label.setColor(SUGGEST_COLOR)
    v.div_line.label.setColor(DIVERGE_COLOR)
    return v


LR_PARAMS = (
    Param("lrs", "learning rates", "floats", (1.0, 0.1, 0.01), tip="the slide's 1, 0.1, 0.01"),
    Param("momentum", "momentum", "float", 0.0),
    Param("nesterov", "Nesterov", "bool", False),
    Param("decay", "decay", "float", 1e-6),
    Param("steps", "steps per run", "opt_int", None),
    Param("seeds", "seeds per rate", "int", 1),
)

LANDSCAPE_MODELS = (("current", "the current run (exact for two parameters, else a slice)"),
                    ("linear_regression", "1-D linear regression (convex)"),
                    ("sigmoid_unit", "a sigmoid unit with MSE (non-convex)"),
                    ("tanh_net", "a 1-1-1 tanh net (non-convex)"))

#: The Run menu's experiments, in menu order.
EXPERIMENTS: dict[str, ExperimentKind] = {k.name: k for k in (
    ExperimentKind(
        "lrtest", "Learning-rate test",
        "Which learning rate learns fastest without diverging? (plain SGD at each rate)",
        LR_PARAMS, _compare_view, _lrtest_task, _show_lrtest),
    ExperimentKind(
        "rangetest", "Learning-rate range test",
        "Smith's range test: one short run with the rate rising exponentially until the "
        "loss diverges; the suggested rate can be applied to the current run.",
        (Param("lr_min", "from lr", "float", 1e-5), Param("lr_max", "to lr", "float", 10.0),
         Param("steps", "steps", "int", 300)),
        _range_view, _rangetest_task, lambda view, res: view.set_result(res)),
    ExperimentKind(
        "learningcurve", "Learning curve",
        "Do we need more data? The config trained on growing shares of its training set.",
        (Param("fractions", "shares of the training set", "floats", (0.1, 0.25, 0.5, 1.0)),
         Param("seeds", "seeds per share", "int", 3),
         Param("steps", "steps per run", "opt_int", None)),
        LearningCurveView, _curve_task, lambda view, res: view.set_result(res)),
    ExperimentKind(
        "capacity", "Capacity sweep",
        "Should we change the architecture? Hidden widths halved, kept, doubled and "
        "quadrupled, and one layer fewer and more.",
        (Param("factors", "width factors", "floats", (0.5, 1.0, 2.0, 4.0)),
         Param("seeds", "seeds per architecture", "int", 1),
         Param("steps", "steps per run", "opt_int", None)),
        CapacityView, _capacity_task, lambda view, res: view.set_result(res)),
    ExperimentKind(
        "landscape", "Loss landscape",
        "The loss over two parameters and the optimizer's path on it; for larger nets a "
        "slice along two random directions.",
        (Param("model", "model", "choice", "current", LANDSCAPE_MODELS),
         Param("compare", "compare SGD, momentum, Nesterov", "bool", False),
         Param("lr", "learning rate (0: the model's)", "float", 0.0),
         Param("steps", "steps", "opt_int", None,
               placeholder="the model's default; the current run: the steps it has done")),
        LandscapeView, _landscape_task, _show_landscape),
)}


class ExperimentDialog(QtWidgets.QDialog):
    """One experiment: its parameters, Run / Cancel, progress, and the result view.

    Non-modal; closing it cancels a running experiment and joins its thread.
    ``experiment_finished(result)`` is emitted when a result is shown.
    """
    experiment_finished = QtCore.Signal(object)

    def __init__(self, kind: ExperimentKind, ui: "ExperimentsUi",
                 parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.kind = kind
        self.ui = ui
        self.task: ExperimentTask | None = None
        self.result = None
        self.setObjectName(f"experiment_{kind.name}")
        self.setWindowTitle(kind.title)
        lay = QtWidgets.QVBoxLayout(self)
        q = QtWidgets.QLabel(kind.question)
        q.setWordWrap(True)
        lay.addWidget(q)
        self.form = ParamForm(kind.params)
        lay.addWidget(self.form)
        add_run_bar(self, lay, "Run", "%v / %m")
        self.view = kind.make_view()
        lay.addWidget(self.view, 1)
        self.resize(900, 700)

    @property
    def running(self) -> bool:
        return self.task is not None

    def start(self) -> bool:
        """Start the experiment on a thread; False (with a message) on bad input."""
        if self.task is not None:
            return False
        try:
            fn, kw = self.kind.make_task(self.ui, self.form.values())
        except (ConfigError, ValueError) as e:
            self.message.setText(f"cannot start: {e}")
            return False
        self.progress.setRange(0, 0)
        self.message.setText("running\u2026")
        start_run_bar_task(self, fn, **kw)
        return True

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.message.setText("cancelling\u2026")

    def _on_progressed(self, done: int, total: int, text: str) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self.message.setText(f"running\u2026 {done} of {total} done ({text})")

    def _end_task(self, complete: bool = True) -> None:
        if self.task is not None:
            self.task.wait(30)
            self.task.deleteLater()
        self.task = None
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if self.progress.maximum() == 0:      # no progress was reported: a busy bar
            self.progress.setRange(0, 1)
        if complete:
            self.progress.setValue(self.progress.maximum())

    def _on_finished(self, result) -> None:
        sweep = getattr(result, "sweep", None)
        cancelled = bool(getattr(sweep, "cancelled", False)
                         or getattr(result, "cancelled", False))
        done, total = self.progress.value(), self.progress.maximum()
        # a cancelled experiment said "done" with a full bar
        self._end_task(complete=not cancelled)
        self.result = result
        try:
            self.kind.show(self.view, result)
        except Exception as e:  # noqa: BLE001 - one line, the window keeps working
            log.exception("showing the %s failed", self.kind.name)
            self.message.setText(f"the result could not be shown: {type(e).__name__}: {e}")
            return
        where = (f"; runs recorded in {sweep.out}" if sweep is not None
                 and getattr(sweep, "out", None) is not None else "")
        if cancelled:
            self.message.setText(f"cancelled after {max(done, 0)} of {total} runs{where}")
        else:
            self.message.setText(f"done{where}")
        self.experiment_finished.emit(result)

    def _on_failed(self, message: str) -> None:
        self._end_task()
        self.message.setText(f"the experiment could not run: {message}")

    def done(self, r: int) -> None:  # closing: stop the experiment and join its thread
        if self.task is not None:
            self.task.cancel()
            self._end_task()
        super().done(r)


# --- the window's side ----------------------------------------------------------------------

class ExperimentsUi(QtCore.QObject):
    """Wires the experiments and the diagnostics actions into a :class:`MainWindow`.

    Attributes
    ----------
    workers : int or None
        Processes per experiment (None: the core count; 0: in the experiment's thread).
    out_root : Path or None
        Where experiments record their runs (one folder per experiment, sessions
        included, so a sweep's rows open in replay); None keeps results in memory.
    dialogs : dict of str to QDialog
        The open experiment dialogs by name (``sweep``, ``checks`` and
        :data:`EXPERIMENTS` names).
    remedy : RemedyResult or None
        The last remedy run's result.
    """
    remedy_finished = QtCore.Signal(object)

    def __init__(self, window):
        super().__init__(window)
        self.win = window
        self.controller = window.controller
        self.bus = window.bus
        self.workers: int | None = None
        self.out_root: Path | None = _default_out_root()
        self.dialogs: dict[str, QtWidgets.QDialog] = {}
        self.actions: dict[str, Any] = {}
        self.remedy: RemedyResult | None = None
        self._remedy_task: ExperimentTask | None = None
        self._remedy_for = None
        self._overlay_labels: set[str] = set()
        self.loss_panel = _panel(window, "loss")
        slider = getattr(self.loss_panel, "smoothing_slider", None)
        if slider is not None:
            slider.valueChanged.connect(self._on_smoothing_changed)
        self.diag_panel = _panel(window, "diagnostics")
        self._extend_diagnostics_dock()
        self.banner = ProvenanceBanner()
        bar = QtWidgets.QToolBar("Non-finite values")
        bar.setObjectName("nan_banner_bar")
        bar.setMovable(False)
        bar.setFloatable(False)
        bar.addWidget(self.banner)
        self.banner.container = bar
        window.addToolBarBreak(QtCore.Qt.ToolBarArea.TopToolBarArea)
        window.addToolBar(QtCore.Qt.ToolBarArea.TopToolBarArea, bar)
        bar.toggleViewAction().setVisible(False)
        bar.hide()
        self.banner_bar = bar
        self.provenance = ProvenanceWatcher(self.controller, self.banner, self)
        self.bus.remedy_requested.connect(self.try_remedy)
        self.controller.run_changed.connect(self._on_run_changed)

    # --- menu ---------------------------------------------------------------------------
    def install(self, menu: QtWidgets.QMenu) -> None:
        """Add the diagnostics and experiment actions to ``menu`` (the Run menu)."""
        menu.addSeparator()
        self.actions["checks"] = self._add(menu, "Sanity &checks\u2026", self.sanity_checks,
                                           "loss at init, gradient check, overfit 20 "
                                           "samples, input-free baseline, separability")
        menu.addSeparator()
        self.actions["sweep"] = self._add(menu, "S&weep\u2026", self.open_sweep,
                                          "many runs over a grid of config values")
        for kind in EXPERIMENTS.values():
            self.actions[kind.name] = self._add(
                menu, kind.title + "\u2026", lambda n=kind.name: self.open_experiment(n),
                kind.question)

    def _add(self, menu, text, slot, tip):
        a = menu.addAction(text)
        a.setStatusTip(tip)
        a.setToolTip(tip)
        a.triggered.connect(lambda _c=False: slot())
        return a

    def config(self):
        """The configuration the experiments start from (the one the user set)."""
        return self.controller.config

    def out_dir(self, name: str) -> Path | None:
        """A fresh folder for one experiment's runs (None: in memory only)."""
        if self.out_root is None:
            return None
        import time
        root = Path(self.out_root)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = root / f"{name}-{stamp}"
        i = 1
        while path.exists():
            i += 1
            path = root / f"{name}-{stamp}-{i}"
        return path

    # --- experiments ---------------------------------------------------------------------
    def open_experiment(self, name: str, start: bool = True, **values) -> ExperimentDialog:
        """Open (or raise) the dialog of an experiment of :data:`EXPERIMENTS`; with
        ``start`` it runs at once with its defaults (``values`` override them)."""
        dlg = self.dialogs.get(name)
        if dlg is None:
            dlg = ExperimentDialog(EXPERIMENTS[name], self, self.win)
            if name == "rangetest":
                dlg.view.apply_lr.connect(self._apply_lr)
            self.dialogs[name] = dlg
        for k, v in values.items():
            dlg.form.set_value(k, v)
        dlg.show()
        dlg.raise_()
        if start and not dlg.running:
            dlg.start()
        return dlg

    def _apply_lr(self, lr: float) -> None:
        self.bus.hparams_requested.emit({"lr": float(lr)})
        self.controller.message.emit(f"learning rate set to {lr:.3g} (range test)")

    def open_sweep(self) -> SweepDialog:
        dlg = self.dialogs.get("sweep")
        if dlg is None:
            root = None
            if self.out_root is not None:
                root = Path(self.out_root)
                root.mkdir(parents=True, exist_ok=True)
            dlg = SweepDialog(self.config(), out_dir=root, parent=self.win)
            if self.workers is not None:
                dlg.workers.setValue(self.workers)
            dlg.run_activated.connect(self.win.open_replay)
            self.dialogs["sweep"] = dlg
        dlg.show()
        dlg.raise_()
        return dlg

    def sanity_checks(self) -> ChecksDialog:
        """Run the sanity checks of the current config on a thread; results in a dialog."""
        old = self.dialogs.pop("checks", None)
        if old is not None:
            old.task.wait(60)      # the checks cannot be interrupted; they are short
            old.done(0)
            old.deleteLater()
        dlg = ChecksDialog(self.win)
        task = ExperimentTask(sanity_checks, dlg, config=self.config())
        task.finished.connect(dlg.set_checks)
        task.failed.connect(dlg.set_error)
        task.finished.connect(lambda _r: task.wait(5))
        dlg.task = task
        self.dialogs["checks"] = dlg
        dlg.show()
        task.start()
        return dlg

    # --- try the remedy -------------------------------------------------------------------
    def try_remedy(self, finding) -> bool:
        """Train a second run with ``finding``'s patch (same seed, same data) for as many
        steps as the current run has done, on a thread; its loss is then overlaid."""
        f = finding if isinstance(finding, dict) else finding.to_dict()
        c = self.controller
        snap = c.latest
        if not f.get("patch") or c.run is None or snap is None:
            return False
        if snap.step <= 0:
            self._note("train the run first: the remedy runs as many steps as it has")
            return False
        if self._remedy_task is not None:
            self._remedy_task.cancel()
            self._remedy_task.wait(30)
        try:
            c.run.config.with_changes(f["patch"])
        except ConfigError as e:
            self._note(f"the remedy cannot be applied: {e}")
            return False
        task = ExperimentTask(train_remedy, self, config=c.run.config, dataset=c.run.dataset,
                              steps=int(snap.step), theta=np.array(snap.theta),
                              code=f["code"], patch=dict(f["patch"]),
                              points=None if c.points is None else
                              (c.points.raw, c.points.labels))
        task.progressed.connect(lambda d, t, _s: self._note(
            f"remedy running\u2026 step {d} of {t}"))
        task.finished.connect(self._on_remedy_finished)
        task.failed.connect(lambda m: self._on_remedy_failed(m))
        self._remedy_task = task
        self._remedy_for = id(c.run)
        self._note(f"remedy running\u2026 ({f['code']}: "
                   f"{', '.join(f'{k} = {v}' for k, v in f['patch'].items())})")
        task.start()
        return True

    def _finish_remedy_task(self) -> None:
        if self._remedy_task is not None:
            self._remedy_task.wait(30)
            self._remedy_task.deleteLater()
        self._remedy_task = None

    def _on_remedy_finished(self, res: RemedyResult) -> None:
        self._finish_remedy_task()
        if self._remedy_for != id(self.controller.run):
            return        # the run was rebuilt meanwhile: the comparison is void
        self.remedy = res
        self.set_remedy_overlay(res)
        self._note(res.verdict)
        self.remedy_finished.emit(res)

    def _on_remedy_failed(self, message: str) -> None:
        self._finish_remedy_task()
        self._note(f"the remedy run failed: {message}")

    def set_remedy_overlay(self, res: RemedyResult | None) -> None:
        """Overlay the remedy's loss on the loss plot (None: remove it); other overlays
        stay. The remedy's mini-batch losses are smoothed like the run's bold curve (the
        panel's smoothing), so the two trends compare like with like."""
        p = self.loss_panel
        if p is None or not hasattr(p, "set_overlays"):
            return
        keep = [(label, x, y, OTHER_OVERLAY_COLOR) for label, x, y in p.overlays()
                if label not in self._overlay_labels]
        self._overlay_labels = set()
        if res is not None:
            keep.append((res.label, res.steps, self.remedy_curve(res), REMEDY_COLOR, True))
            self._overlay_labels.add(res.label)
        p.set_overlays(keep)

    def remedy_curve(self, res: RemedyResult) -> np.ndarray:
        """The remedy's losses (n,) as the loss plot shows the run's: smoothed with its
        current smoothing weight (raw when it is 0)."""
        from .panels.timeaxis import debiased_ema
        w = float(getattr(self.loss_panel, "smoothing", 0.0) or 0.0)
        return debiased_ema(res.loss, w) if w > 0 else res.loss

    def _on_smoothing_changed(self, _value) -> None:
        if self.remedy is not None and self._overlay_labels:
            self.set_remedy_overlay(self.remedy)

    def _on_run_changed(self, _ctx) -> None:
        if self._overlay_labels:
            self.set_remedy_overlay(None)
            self._note("")
        if self._remedy_task is not None:
            self._remedy_task.cancel()

    # --- the diagnostics dock ---------------------------------------------------------------
    def _extend_diagnostics_dock(self) -> None:
        """A verdict line and an "experiment" button under the dock's remedy button."""
        p = self.diag_panel
        self.remedy_note = QtWidgets.QLabel("")
        self.remedy_note.setObjectName("diagnostics_remedy_verdict")
        self.remedy_note.setWordWrap(True)
        self.remedy_note.setTextInteractionFlags(
            QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.experiment_button = QtWidgets.QPushButton("")
        self.experiment_button.setObjectName("diagnostics_experiment")
        self.experiment_button.hide()
        self.experiment_button.clicked.connect(self._on_experiment_clicked)
        if p is None:
            return
        p.layout().addWidget(self.experiment_button)
        p.layout().addWidget(self.remedy_note)
        p.list.currentRowChanged.connect(self._on_finding_selected)

    def _note(self, text: str) -> None:
        self.remedy_note.setText(text)

    def _experiment_name(self, code: str) -> str | None:
        from ..experiments.remedies import experiment_for
        hit = experiment_for(code)
        if hit is None:
            return None
        by_fn = {"capacity_sweep": "capacity", "learning_curve": "learningcurve",
                 "range_test": "rangetest", "lr_test": "lrtest"}
        return by_fn.get(getattr(hit[1], "__name__", ""))

    def _on_finding_selected(self, _row: int) -> None:
        f = self.diag_panel.selected() if self.diag_panel is not None else None
        name = self._experiment_name(f["code"]) if f else None
        self.experiment_button.setVisible(name is not None)
        if name is not None:
            self.experiment_button.setText(f"Run the {EXPERIMENTS[name].title.lower()}")
            self.experiment_button.setToolTip(EXPERIMENTS[name].question)

    def _on_experiment_clicked(self) -> None:
        f = self.diag_panel.selected() if self.diag_panel is not None else None
        name = self._experiment_name(f["code"]) if f else None
        if name is not None:
            self.open_experiment(name)

    # --- closing --------------------------------------------------------------------------
    def shutdown(self, timeout: float = 30.0) -> None:
        """Cancel every experiment and join its thread; close the dialogs."""
        if self._remedy_task is not None:
            self._remedy_task.cancel()
            self._finish_remedy_task()
        for dlg in list(self.dialogs.values()):
            task = getattr(dlg, "task", None)
            if task is not None:
                task.cancel()
                task.wait(timeout)
            dlg.done(0)
        self.dialogs.clear()


def _panel(window, name: str):
    return next((p for p in window.panels if p.object_name == name), None)


def _default_out_root() -> Path | None:
    try:
        import platformdirs
    except ImportError:
        return None
    return Path(platformdirs.user_data_dir("workbench")) / "experiments"
