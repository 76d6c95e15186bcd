"""Diagnostics actions in the window: "Try the remedy", the sanity checks before training
and the NaN provenance banner.

Every computation here runs off the GUI thread: the remedy run and the sanity checks on
an :class:`~workbench.ui.experiments_view.ExperimentTask` thread, the NaN provenance and
the rewind on the training thread (``runner.submit``), whose results come back through
queued signals. The compute functions are plain functions of their inputs, so they run
synchronously in a test too.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from ..config import RunConfig
from ..run import Run

REMEDY_COLOR = "#2ca02c"
#: Steps of one remedy chunk between two cancel/progress checks.
REMEDY_CHUNK = 2000
#: Event kinds a replay of the run re-applies (the rest are notes, e.g. "rewind").
REPLAYED_EVENTS = ("hparams", "weight")


def describe_patch(patch: dict) -> str:
    """``{"optimizer.lr": 0.3}`` -> ``"lr 0.3"`` (the remedy's label on the plot)."""
    def fmt(v):
        return f"{v:g}" if isinstance(v, float) else str(v)
    return ", ".join(f"{k.split('.')[-1]} {fmt(v)}" for k, v in patch.items())


def _as_dict(f) -> dict:
    return f if isinstance(f, dict) else f.to_dict()


# --- try the remedy ----------------------------------------------------------------------

@dataclass
class RemedyResult:
    """A second run with a finding's patch applied, against the run it remedies.

    Attributes
    ----------
    code : str
        The finding the remedy answers.
    label : str
        ``"remedy: lr 0.3"`` (legend of the overlay).
    patch : dict
    steps, loss : np.ndarray, shape (n,)
        The remedy run's step numbers and mini-batch losses.
    before, after : float
        Full training loss of the current run's parameters and of the remedy run's
        after the same number of steps.
    still_raised : bool
        The remedy run raises the finding too (unresolved at its end).
    findings : list of str
        The remedy run's unresolved finding codes.
    nonfinite_step : int or None
    cancelled : bool
    acc_before, acc_after : float or None
        Training accuracy of both (classification), comparable where the losses are not.
    """
    code: str
    label: str
    patch: dict
    steps: np.ndarray = field(repr=False)
    loss: np.ndarray = field(repr=False)
    before: float
    after: float
    still_raised: bool
    findings: list
    nonfinite_step: int | None = None
    cancelled: bool = False
    acc_before: float | None = None
    acc_after: float | None = None

    @property
    def helped(self) -> bool:
        """The remedy ended with a lower (or finite where the run was not) loss."""
        if not np.isfinite(self.after):
            return False
        return not np.isfinite(self.before) or self.after < self.before

    @property
    def verdict(self) -> str:
        """One line: final loss before and after, and whether the finding is gone."""
        if self.cancelled:
            return f"{self.label}: cancelled after {len(self.steps)} steps"
        n = len(self.steps)
        after = (f"NaN/Inf at step {self.nonfinite_step}" if self.nonfinite_step is not None
                 else f"{self.after:.4g}")
        head = (f"{self.label}: final training loss {self.before:.4g} \u2192 {after} "
                f"after {n} steps")
        if self.acc_before is not None and self.acc_after is not None:
            # the accuracy compares runs whose losses differ (a patched loss function)
            head += (f", train accuracy {100 * self.acc_before:.0f} % \u2192 "
                     f"{100 * self.acc_after:.0f} %")
        word = "helped" if self.helped else "did not help"
        gone = (f"{self.code} still raised" if self.still_raised else f"{self.code} gone")
        return f"{head}: it {word} ({gone})"


def train_remedy(config, dataset, steps: int, theta: np.ndarray, code: str, patch: dict,
                 points=None, progress=None, cancel=None) -> RemedyResult:
    """Train ``config`` with ``patch`` applied (same seed, same data) and compare its
    final training loss with the loss at ``theta``, the current run's parameters.

    Parameters
    ----------
    config : RunConfig or dict
        The current run's configuration.
    dataset : Dataset
        The current run's data (edited points included).
    steps : int
        Steps the current run has done; the remedy trains as many (a patch of
        ``training.epochs`` trains its whole longer schedule: that is the remedy).
    theta : np.ndarray, shape (n_params,)
        The current run's parameters.
    code : str
        The finding answered.
    patch : dict
        Dotted config changes. A patch of ``data.*`` rebuilds the data from the patched
        config (the same ``points`` put back in), so the new features or scaling apply.
    points : (raw (m, 2), labels (m,)) or None
        The user's edited training points, if any.
    progress, cancel
        As for every experiment (``progress(done, total, text)``, a ``threading.Event``).
    """
    base = config if isinstance(config, RunConfig) else RunConfig(config)
    cfg = base.with_changes(patch)
    ds = dataset
    if any(k.startswith("data.") or k == "seed" for k in patch):
        from ..data import load_dataset
        ds = load_dataset(cfg.data, cfg.seed)
        if points is not None:
            ds = ds.with_points(*points)
    run = Run(cfg, dataset=ds)
    if "training.epochs" in patch:
        steps = max(steps, run.total_steps)
    cancelled = False
    while run.step < steps and run.nonfinite is None:
        if cancel is not None and cancel.is_set():
            cancelled = True
            break
        if run.run_steps(min(REMEDY_CHUNK, steps - run.step)) == 0:
            break
        if progress is not None:
            progress(run.step, steps, "remedy")
    if not cancelled:
        run.finish()
    ref = Run(base, dataset=dataset, diagnostics=False)
    ref.network.theta[:] = theta
    ev0 = ref.evaluate()
    ev1 = run.evaluate() if run.nonfinite is None else {"train_loss": float("nan"),
                                                         "train_accuracy": None}
    open_codes = [d["code"] for d in map(_as_dict, run.findings())
                  if d["resolved_step"] is None]
    h = run.history.steps()
    return RemedyResult(code, f"remedy: {describe_patch(patch)}", dict(patch),
                        np.array(h["step"]), np.array(h["loss"], dtype=np.float64),
                        float(ev0["train_loss"]), float(ev1["train_loss"]),
                        code in open_codes, open_codes,
                        None if run.nonfinite is None else run.nonfinite.step, cancelled,
                        ev0["train_accuracy"], ev1["train_accuracy"])


# --- sanity checks -------------------------------------------------------------------------

def sanity_checks(config, progress=None, cancel=None) -> list:
    """:func:`workbench.diagnostics.checks.run_checks` with the task's signature."""
    from ..diagnostics.checks import run_checks
    return run_checks(config)


class ChecksDialog(QtWidgets.QDialog):
    """The sanity checks of a configuration: one row per check with pass/fail and its
    numbers. ``set_checks(list of Check)`` fills it; while they run a busy bar shows."""

    COLUMNS = ("check", "result", "value", "threshold", "what it means")

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("sanity_checks")
        self.setWindowTitle("Sanity checks before training")
        self.checks: list = []
        lay = QtWidgets.QVBoxLayout(self)
        self.intro = QtWidgets.QLabel(
            "Before trusting the training curves: is the loss at initialization what "
            "chance predicts, is the gradient right, can the net memorise 20 samples, "
            "does it beat ignoring its inputs, are the classes linearly separable?")
        self.intro.setWordWrap(True)
        lay.addWidget(self.intro)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 0)
        lay.addWidget(self.progress)
        self.table = QtWidgets.QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.horizontalHeader().sectionResized.connect(
            lambda *_: self.table.resizeRowsToContents())
        lay.addWidget(self.table, 1)
        self.summary = QtWidgets.QLabel("running the checks\u2026")
        self.summary.setWordWrap(True)
        lay.addWidget(self.summary)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.resize(900, 380)

    def set_checks(self, checks: list) -> None:
        self.checks = list(checks)
        self.progress.hide()
        self.table.setRowCount(len(self.checks))
        for i, c in enumerate(self.checks):
            result = ("info" if c.informational and c.passed else
                      "PASS" if c.passed else "FAIL")
            cells = (c.name, result, _num(c.value), _num(c.threshold), c.message)
            for j, text in enumerate(cells):
                it = QtWidgets.QTableWidgetItem(text)
                if j == 1:
                    it.setForeground(QtCore.Qt.GlobalColor.darkGreen if c.passed else
                                     QtCore.Qt.GlobalColor.red)
                    f = it.font()
                    f.setBold(True)
                    it.setFont(f)
                it.setToolTip(c.message)
                self.table.setItem(i, j, it)
        # the numbers fit their columns; the explanation wraps in the rest of the width
        for j in range(len(self.COLUMNS) - 1):
            self.table.resizeColumnToContents(j)
        self.table.resizeRowsToContents()
        failed = [c.name for c in self.checks if not c.passed]
        self.summary.setText("all checks passed" if not failed else
                             f"failed: {', '.join(failed)} \u2014 fix these before you "
                             "trust the training curves")

    def set_error(self, message: str) -> None:
        self.progress.hide()
        self.summary.setText(f"the checks could not run: {message}")

    def result_of(self, name: str):
        """The Check named ``name`` (None before the checks finished)."""
        return next((c for c in self.checks if c.name == name), None)


def _num(v) -> str:
    if v is None:
        return ""
    return f"{v:.4g}" if isinstance(v, float) else str(v)


# --- NaN provenance ------------------------------------------------------------------------

def provenance_of(run: Run):
    """Where ``run``'s first non-finite value came from, computed on a copy so that the
    run itself stays where it stopped until the user rewinds it (call on the thread that
    owns the run). None when the run has no non-finite value or cannot be replayed."""
    from ..diagnostics.provenance import nan_provenance
    nf = run.nonfinite
    keep = run.failed_chunk_state    # the state the failing chunk started from
    if nf is None or keep is None:
        return None
    twin = Run(run.config, dataset=run.dataset, diagnostics=False)
    twin.set_state(keep)
    twin.nonfinite = nf
    twin.failed_chunk_state = keep   # what rewind_to_finite restores
    return nan_provenance(twin)


class ProvenanceBanner(QtWidgets.QFrame):
    """A banner above the panels: training stopped at a non-finite value, with where it
    came from and a button to rewind to the last finite parameters."""
    rewind_requested = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("nan_provenance")
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        # colours per theme in resources/style.qss (a fixed light pink glared in the dark)
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        self.label = QtWidgets.QLabel("")
        self.label.setWordWrap(True)
        # a tool bar lays out without height-for-width: the label's height is set from
        # its width on every resize (resizeEvent), or it would be sized for a narrow one
        self.label.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding,
                                 QtWidgets.QSizePolicy.Policy.Fixed)
        self.label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.label, 1)
        self.rewind_button = QtWidgets.QPushButton("Rewind to last finite parameters")
        self.rewind_button.setObjectName("nan_rewind")
        self.rewind_button.clicked.connect(self.rewind_requested)
        lay.addWidget(self.rewind_button)
        self.close_button = QtWidgets.QToolButton()
        self.close_button.setText("\u2715")
        self.close_button.setToolTip("hide this message")
        self.close_button.clicked.connect(self.dismiss)
        lay.addWidget(self.close_button)
        self.provenance: Any = None
        #: The widget shown and hidden with the banner (a tool bar holding it), or None.
        # (not hidden here: a widget hidden when added to a tool bar gets a disabled
        # action there, which disables the widget for good)
        self.container: QtWidgets.QWidget | None = None

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_label()

    #: The banner shows at most this many lines of its text (the rest scrolls by
    #: selecting it); a narrow window must not give the whole window to it.
    MAX_LINES = 6

    def _fit_label(self) -> None:
        """Give the label the height of its text at its present width. Measured on a
        document of its own: QLabel.heightForWidth of a label with a fixed height
        returned that height plus a little, so each fit grew the banner (130 px for two
        lines, then 230, then 420 px: the docks below were squeezed to nothing)."""
        w = self.label.width()
        if w <= 50:
            return
        doc = QtGui.QTextDocument()
        doc.setDocumentMargin(0)
        doc.setDefaultFont(self.label.font())
        doc.setHtml(self.label.text())
        doc.setTextWidth(w)
        line = QtGui.QFontMetrics(self.label.font()).lineSpacing()
        h = min(int(np.ceil(doc.size().height())), self.MAX_LINES * line) + 2
        if h != self.label.height():
            self.label.setFixedHeight(h)

    def _set_shown(self, shown: bool) -> None:
        # a widget inside a tool bar must stay visible itself; its bar comes and goes
        (self.container or self).setVisible(shown)

    @property
    def shown(self) -> bool:
        return (self.container or self).isVisible()

    def dismiss(self) -> None:
        self._set_shown(False)

    def show_provenance(self, prov, step: int) -> None:
        self.provenance = prov
        if prov is None:
            text = (f"<b>Training stopped at step {step}: a value became NaN or "
                    "infinite.</b>")
        else:
            where = "the loss" if prov.layer is None else f"layer {prov.layer + 1}"
            what = "loss" if prov.layer is None else f"{prov.what} of {where}"
            detail = prov.message.removeprefix(f"step {prov.step}: ")
            advice = ("set that weight to a smaller value" if prov.detail.get("hand_set")
                      else "lower the learning rate")
            text = (f"<b>Training stopped at step {prov.step}: the {html.escape(what)} "
                    f"went non-finite first.</b> {html.escape(detail[:1].upper() + detail[1:])}"
                    f". Rewind, then {advice} before you continue.")
        self.label.setText(text)
        self.rewind_button.setEnabled(True)
        self._set_shown(True)
        self._fit_label()


class ProvenanceWatcher(QtCore.QObject):
    """Shows the provenance banner once per non-finite stop of the window's run.

    Watches the controller's snapshots; on status ``nonfinite`` it asks the training
    thread for :func:`provenance_of` and shows the answer in ``banner``; the banner's
    rewind button calls ``run.rewind_to_finite()`` on the training thread.
    """
    _computed = QtCore.Signal(object, object)     # key, Provenance or an error text
    rewound = QtCore.Signal(int)                  # the step the run went back to

    def __init__(self, controller, banner: ProvenanceBanner, parent=None):
        super().__init__(parent)
        self.controller = controller
        self.banner = banner
        self._seen: set = set()
        self.provenance = None
        self._computed.connect(self._on_computed)
        controller.snapshot_changed.connect(self._on_snapshot_changed)
        controller.run_changed.connect(lambda _ctx: self.banner.dismiss())
        banner.rewind_requested.connect(self.rewind)

    def _on_snapshot_changed(self, snap) -> None:
        c = self.controller
        if snap.status != "nonfinite" or snap.nonfinite is None or c.runner is None \
                or c.replay is not None:
            return
        key = (id(c.run), snap.nonfinite.step, len(snap.events))
        if key in self._seen:
            return
        self._seen.add(key)
        self.banner.show_provenance(None, snap.nonfinite.step)

        def work(run, key=key, emit=self._computed.emit):
            try:
                emit(key, provenance_of(run))
            except Exception as e:  # noqa: BLE001 - reported as one line in the banner
                emit(key, f"{type(e).__name__}: {e}")
        c.runner.submit(work)

    def _on_computed(self, key, prov) -> None:
        if key[0] != id(self.controller.run):
            return          # a new run was built meanwhile
        if isinstance(prov, str):
            self.banner.label.setText(self.banner.label.text() +
                                      f" (provenance unavailable: {html.escape(prov)})")
            return
        self.provenance = prov
        self.banner.show_provenance(prov, key[1])

    def rewind(self) -> None:
        """Go back to the parameters of the last finite step (on the training thread)."""
        c = self.controller
        if c.runner is None:
            return
        self.banner.rewind_button.setEnabled(False)
        self.rewound.connect(self._after_rewind, QtCore.Qt.ConnectionType.SingleShotConnection)
        emit = self.rewound.emit
        c.runner.submit(lambda run: emit(run.rewind_to_finite()))

    def _after_rewind(self, step: int) -> None:
        self.banner.dismiss()
        self.controller.refresh()
        self.controller.message.emit(f"rewound to step {step}, the last finite parameters")
