"""Experiment results in the window: the compare view of a sweep (curves overlaid,
coloured by a swept key, and a table sortable by any column), the range-test plot with
"Apply suggested rate", the learning curve and the capacity sweep.

The views show plain results from :mod:`workbench.experiments`; :class:`ExperimentTask`
runs such a compute function on a background thread with a progress callback and a
cancel flag, and hands the result back on the GUI thread through a signal.
"""
from __future__ import annotations

import threading
from typing import Any, Callable

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from .context import MULTI_COLORS
from .panels.timeaxis import TEST_COLOR, TRAIN_COLOR

SUGGEST_COLOR = "#2ca02c"
DIVERGE_COLOR = "#d62728"



def add_run_bar(owner, lay: QtWidgets.QVBoxLayout, run_text: str, fmt: str) -> None:
    """Add a progress bar, Run and Cancel buttons and a message line to ``lay``.

    Sets ``owner.progress``, ``owner.run_button``, ``owner.cancel_button`` and
    ``owner.message``; the buttons call ``owner.start`` and ``owner.cancel``.
    """
    bar = QtWidgets.QHBoxLayout()
    owner.progress = QtWidgets.QProgressBar()
    owner.progress.setFormat(fmt)
    bar.addWidget(owner.progress, 1)
    owner.run_button = QtWidgets.QPushButton(run_text)
    owner.run_button.clicked.connect(owner.start)
    owner.cancel_button = QtWidgets.QPushButton("Cancel")
    owner.cancel_button.setEnabled(False)
    owner.cancel_button.clicked.connect(owner.cancel)
    bar.addWidget(owner.run_button)
    bar.addWidget(owner.cancel_button)
    lay.addLayout(bar)
    owner.message = QtWidgets.QLabel("")
    owner.message.setWordWrap(True)
    lay.addWidget(owner.message)


def start_run_bar_task(owner, fn, **kw) -> None:
    """Start ``fn`` as ``owner.task`` behind the run bar of :func:`add_run_bar`: its
    signals go to ``owner._on_progressed`` / ``_on_finished`` / ``_on_failed``, Run is
    disabled and Cancel enabled until it ends."""
    owner.task = ExperimentTask(fn, owner, **kw)
    owner.task.progressed.connect(owner._on_progressed)
    owner.task.finished.connect(owner._on_finished)
    owner.task.failed.connect(owner._on_failed)
    owner.run_button.setEnabled(False)
    owner.cancel_button.setEnabled(True)
    owner.task.start()


class ExperimentTask(QtCore.QObject):
    """Run ``fn(progress=..., cancel=..., **kw)`` on a thread; results arrive as signals.

    ``progressed(done, total, text)`` and ``finished(result)`` / ``failed(message)`` are
    emitted from the worker thread and delivered queued on the GUI thread. ``cancel()``
    sets the flag the experiment polls; ``wait()`` joins the thread (call it before the
    window closes).
    """
    progressed = QtCore.Signal(int, int, str)
    finished = QtCore.Signal(object)
    failed = QtCore.Signal(str)

    def __init__(self, fn: Callable[..., Any], parent: QtCore.QObject | None = None, **kw):
        super().__init__(parent)
        self._fn = fn
        self._kw = kw
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._work, name="experiment", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _work(self) -> None:
        def progress(done, total, item):
            self.progressed.emit(int(done), int(total), str(getattr(item, "name", item)))
        try:
            res = self._fn(progress=progress, cancel=self._cancel, **self._kw)
        except Exception as e:  # shown as one line in the window, never a traceback
            self.failed.emit(f"{type(e).__name__}: {e}")
            return
        self.finished.emit(res)


def _verdict_label() -> QtWidgets.QLabel:
    lab = QtWidgets.QLabel("")
    lab.setWordWrap(True)
    lab.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
    f = lab.font()
    f.setBold(True)
    lab.setFont(f)
    return lab


SORT_ROLE = QtCore.Qt.ItemDataRole.UserRole
SESSION_ROLE = QtCore.Qt.ItemDataRole.UserRole + 1


def _cell(value) -> QtGui.QStandardItem:
    """A read-only table cell showing ``value`` and sorting by it (numbers as numbers;
    a missing number sorts last)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        text = "" if value is None else str(value)
        key = text
    else:
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        key = float(value) if np.isfinite(value) else float("inf")
    it = QtGui.QStandardItem(text)
    it.setEditable(False)
    it.setData(key, SORT_ROLE)
    return it


class CompareView(QtWidgets.QWidget):
    """Runs of a sweep side by side: training-loss curves overlaid, coloured by one swept
    key (chosen above the plot), and a table of every run sortable by any column.

    Double-clicking a row emits ``run_activated(session_path)`` (the window opens it in
    replay); ``run_selected(name)`` highlights its curve.
    """
    run_activated = QtCore.Signal(str)
    run_selected = QtCore.Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.result = None
        lay = QtWidgets.QVBoxLayout(self)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(QtWidgets.QLabel("colour by"))
        self.color_key = QtWidgets.QComboBox()
        self.color_key.currentTextChanged.connect(self._on_color_key_changed)
        top.addWidget(self.color_key)
        self.metric_box = QtWidgets.QComboBox()
        self.metric_box.addItems(["train loss (per evaluation)", "test loss (per evaluation)",
                              "mini-batch loss (per step)",
                              "train accuracy (per evaluation)",
                              "test accuracy (per evaluation)"])
        self.metric_box.currentIndexChanged.connect(lambda _: self._update_curves())
        top.addWidget(self.metric_box)
        top.addStretch(1)
        lay.addLayout(top)
        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        self.plot_widget = pg.PlotWidget()
        self.plot: pg.PlotItem = self.plot_widget.getPlotItem()
        self.plot.setLogMode(y=True)
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", "loss")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        # bottom left: loss curves start high on the left and end low on the right
        self.legend = self.plot.addLegend(offset=(10, -10))
        split.addWidget(self.plot_widget)
        self.table = QtWidgets.QTableView()
        self.model = QtGui.QStandardItemModel(self)
        self.proxy = QtCore.QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.doubleClicked.connect(self._on_row_activated)
        self.table.clicked.connect(self._on_row_clicked)
        split.addWidget(self.table)
        split.setSizes([300, 200])
        lay.addWidget(split, 1)
        self.verdict = _verdict_label()
        lay.addWidget(self.verdict)
        self.curves: dict[str, pg.PlotDataItem] = {}

    def set_result(self, result, verdict: str = "", color_key: str | None = None) -> None:
        """Show a :class:`workbench.experiments.SweepResult`."""
        self.result = result
        self.verdict.setText(verdict)
        self.color_key.blockSignals(True)
        self.color_key.clear()
        self.color_key.addItems(result.columns or ["run"])
        if color_key:
            self.color_key.setCurrentText(color_key)
        self.color_key.blockSignals(False)
        self._fill_table()
        self._update_curves()

    # --- table ---------------------------------------------------------------------------
    HEAD = ["run", "status", "train_loss", "test_loss", "train_accuracy", "test_accuracy",
            "steps", "wall_s", "findings"]

    def _fill_table(self) -> None:
        res = self.result
        cols = ["run"] + res.columns + self.HEAD[1:]
        self.model.clear()
        self.model.setHorizontalHeaderLabels(cols)
        for r in res.done:
            row = r.row(res.columns)
            items = []
            for c in cols:
                v = row.get(c)
                if c in res.columns:  # swept numbers sort as numbers, shown as given
                    ch = r.changes.get(c)
                    num = isinstance(ch, (int, float)) and not isinstance(ch, bool)
                    it = _cell(v)
                    if num:
                        it.setData(float(ch), SORT_ROLE)
                else:
                    it = _cell(v)
                if c == "status" and v != "ok":
                    it.setForeground(QtGui.QBrush(QtGui.QColor(DIVERGE_COLOR)))
                items.append(it)
            items[0].setData(r.session or "", SESSION_ROLE)
            self.model.appendRow(items)
        self.table.sortByColumn(0, QtCore.Qt.SortOrder.AscendingOrder)
        self.table.resizeColumnsToContents()

    def _row_name(self, index) -> tuple[str, str]:
        """(run name, session file) of a row of the (sorted) table."""
        src = self.proxy.mapToSource(index)
        it = self.model.item(src.row(), 0)
        return it.text(), it.data(SESSION_ROLE) or ""

    def _on_row_clicked(self, index) -> None:
        name, _ = self._row_name(index)
        for k, c in self.curves.items():
            c.setPen(pg.mkPen(c.base_color, width=3.5 if k == name else 1.3))
        self.run_selected.emit(name)

    def _on_row_activated(self, index) -> None:
        name, session = self._row_name(index)
        if session and self.result is not None and self.result.out is not None:
            self.run_activated.emit(str(self.result.out / session))

    # --- curves ---------------------------------------------------------------------------
    def _on_color_key_changed(self, key: str) -> None:
        self._update_curves()

    def _values(self, key: str) -> list[str]:
        seen = []
        for r in self.result.done:
            v = r.texts.get(key, r.name)
            if v not in seen:
                seen.append(v)
        return seen

    def colors(self) -> dict[str, str]:
        """Run name -> colour, by the value of the colour key."""
        key = self.color_key.currentText()
        vals = self._values(key)
        if len(vals) <= len(MULTI_COLORS):
            lut = {v: MULTI_COLORS[i] for i, v in enumerate(vals)}
        else:
            cmap = pg.colormap.get("viridis")
            lut = {v: cmap.map(i / max(1, len(vals) - 1), mode="qcolor").name()
                   for i, v in enumerate(vals)}
        return {r.name: lut[r.texts.get(key, r.name)] for r in self.result.done}

    def _update_curves(self) -> None:
        if self.result is None:
            return
        for c in self.curves.values():
            self.plot.removeItem(c)
            if getattr(c, "note", None) is not None:    # the findings label goes too
                self.plot.removeItem(c.note)
        self.curves = {}
        self.legend.clear()
        key = self.color_key.currentText()
        colors = self.colors()
        labelled = set()
        which = self.metric_box.currentIndex()
        acc = which >= 3            # accuracy: a fraction on a linear axis
        series = []
        for r in self.result.done:
            cv = r.curves
            if which == 2:
                x, y = cv.get("step"), cv.get("loss")
            elif acc:
                x = cv.get("eval_step")
                y = cv.get("eval_train_acc" if which == 3 else "eval_test_acc")
            else:
                x = cv.get("eval_step")
                y = cv.get("eval_train_loss" if which == 0 else "eval_test_loss")
            if x is None or y is None or not len(x):
                continue
            y = np.asarray(y, dtype=np.float64)
            series.append((r, x, y, np.isfinite(y) & ((y >= 0) if acc else (y > 0))))
        # a log axis only for losses spanning a decade: within one, pyqtgraph's log axis
        # labels no tick at all (the LR test's 0.61-0.65 showed an axis without numbers)
        ys = np.concatenate([y[ok] for _r, _x, y, ok in series]) if series else np.zeros(0)
        log = not acc and ys.size > 0 and float(ys.max()) > 10.0 * float(ys.min())
        self.plot.setLogMode(y=log)
        self.plot.setLabel("left", "accuracy" if acc else "loss")
        for r, x, y, ok in series:
            val = r.texts.get(key, r.name)
            name = f"{key} = {val}" if val not in labelled else None
            labelled.add(val)
            c = self.plot.plot(np.asarray(x)[ok], y[ok], pen=pg.mkPen(colors[r.name],
                                                                      width=1.3), name=name)
            c.base_color = colors[r.name]
            self.curves[r.name] = c
            if r.findings:
                t = pg.TextItem(" ".join(r.findings), color=colors[r.name], anchor=(1, 1))
                t.setPos(float(np.asarray(x)[ok][-1]) if ok.any() else 0.0,
                         float(np.log10(y[ok][-1]) if log else y[ok][-1]) if ok.any()
                         else 0.0)
                self.plot.addItem(t)
                c.note = t

    def export_item(self):
        return self.plot


class RangeTestView(QtWidgets.QWidget):
    """Loss against learning rate (log axis), smoothed, with the suggested rate and the
    divergence point; "Apply suggested rate" emits ``apply_lr(rate)``."""
    apply_lr = QtCore.Signal(float)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        lay = QtWidgets.QVBoxLayout(self)
        self.plot_widget = pg.PlotWidget()
        self.plot: pg.PlotItem = self.plot_widget.getPlotItem()
        self.plot.setLogMode(x=True, y=False)
        self.plot.setLabel("bottom", "learning rate")
        self.plot.setLabel("left", "mini-batch loss")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.addLegend(offset=(10, 10))
        self.raw = self.plot.plot([], [], pen=pg.mkPen((150, 150, 150), width=1), name="loss")
        self.smooth = self.plot.plot([], [], pen=pg.mkPen(TRAIN_COLOR, width=2.5),
                                     name="smoothed")
        self.sugg_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(SUGGEST_COLOR, width=2),
                                         label="suggested", labelOpts={"position": 0.9})
        self.div_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(DIVERGE_COLOR, width=2,
                                                                style=QtCore.Qt.PenStyle.DashLine),
                                        label="diverges", labelOpts={"position": 0.8})
        for line in (self.sugg_line, self.div_line):     # shown by set_result
            line.setVisible(False)
            self.plot.addItem(line)
        lay.addWidget(self.plot_widget, 1)
        row = QtWidgets.QHBoxLayout()
        self.verdict = _verdict_label()
        row.addWidget(self.verdict, 1)
        self.apply_button = QtWidgets.QPushButton("Apply suggested rate")
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self._on_apply_clicked)
        row.addWidget(self.apply_button)
        lay.addLayout(row)
        self.result = None

    def set_result(self, res) -> None:
        """Show a :class:`workbench.experiments.lr.RangeTestResult`."""
        self.result = res
        lr, loss, sm = res.lr, res.loss, res.smooth
        ok = np.isfinite(loss)
        self.raw.setData(lr[ok], loss[ok])
        oks = np.isfinite(sm)
        self.smooth.setData(lr[oks], sm[oks])
        if oks.any():
            hi = float(np.nanmax(sm[oks]))
            lo = float(np.nanmin(sm[oks]))
            self.plot.setYRange(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
        # the lines stay in the plot and are hidden when there is no value: one taken out
        # of the plot lived on outside any scene (what PySide's clean-up at exit crashed
        # deleting, for plots)
        for line, v in ((self.sugg_line, res.suggested_lr), (self.div_line, res.divergence_lr)):
            if v is not None:
                line.setValue(np.log10(v))
            line.setVisible(v is not None)
        self.apply_button.setEnabled(res.suggested_lr is not None)
        if res.suggested_lr is not None:
            self.apply_button.setText(f"Apply suggested rate {res.suggested_lr:.3g}")
        self.verdict.setText(res.verdict)

    def _on_apply_clicked(self) -> None:
        if self.result is not None and self.result.suggested_lr is not None:
            self.apply_lr.emit(float(self.result.suggested_lr))

    def export_item(self):
        return self.plot


def _loss_pair_plot(xlabel: str, log_x: bool,
                    legend: bool = True) -> tuple[pg.PlotWidget, pg.PlotItem]:
    w = pg.PlotWidget()
    p = w.getPlotItem()
    p.setLogMode(x=log_x, y=False)
    p.setLabel("bottom", xlabel)
    p.setLabel("left", "final loss")
    p.getAxis("left").enableAutoSIPrefix(False)
    p.showGrid(x=True, y=True, alpha=0.2)
    if legend:
        p.addLegend(offset=(-5, 5))
    return w, p


class LearningCurveView(QtWidgets.QWidget):
    """Final train and test loss against the number of training samples (seed mean and
    spread), with the verdict: would more data help?"""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        lay = QtWidgets.QVBoxLayout(self)
        self.plot_widget, self.plot = _loss_pair_plot("training samples", False)
        sym = {"symbol": "o", "symbolSize": 7}
        self.train = self.plot.plot([], [], pen=pg.mkPen(TRAIN_COLOR, width=2), name="train",
                                    symbolBrush=TRAIN_COLOR, **sym)
        self.test = self.plot.plot([], [], pen=pg.mkPen(TEST_COLOR, width=2), name="test",
                                   symbolBrush=TEST_COLOR, **sym)
        self.bars = [pg.ErrorBarItem(pen=pg.mkPen(c)) for c in (TRAIN_COLOR, TEST_COLOR)]
        for b in self.bars:
            self.plot.addItem(b)
        lay.addWidget(self.plot_widget, 1)
        self.verdict = _verdict_label()
        lay.addWidget(self.verdict)

    def set_result(self, res) -> None:
        """Show a :class:`workbench.experiments.curves.LearningCurveResult`."""
        n = res.n_train.astype(np.float64)
        self.train.setData(n, res.train_loss)
        self.test.setData(n, res.test_loss)
        for b, y, s in ((self.bars[0], res.train_loss, res.train_std),
                        (self.bars[1], res.test_loss, res.test_std)):
            b.setData(x=n, y=np.nan_to_num(y), height=2 * np.nan_to_num(s))
        self.verdict.setText(res.verdict)

    def export_item(self):
        return self.plot


class CapacityView(QtWidgets.QWidget):
    """Final train and test loss against the parameter count of each architecture."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        lay = QtWidgets.QVBoxLayout(self)
        self.plot_widget, self.plot = _loss_pair_plot("parameters", True, legend=False)
        sym = {"symbol": "o", "symbolSize": 7}
        self.train = self.plot.plot([], [], pen=pg.mkPen(TRAIN_COLOR, width=2),
                                    symbolBrush=TRAIN_COLOR, **sym)
        self.test = self.plot.plot([], [], pen=pg.mkPen(TEST_COLOR, width=2),
                                   symbolBrush=TEST_COLOR, **sym)
        self.labels: list[pg.TextItem] = []
        # the legend goes to the corner with the fewest points (it covered the "x4" label)
        from .panels.decision import LegendPlacer
        self._xy = (np.zeros(0), np.zeros(0))
        self.legend = LegendPlacer(self.plot, lambda: self._xy)
        self.plot.legend.addItem(self.train, "train")
        self.plot.legend.addItem(self.test, "test")
        lay.addWidget(self.plot_widget, 1)
        self.verdict = _verdict_label()
        lay.addWidget(self.verdict)

    def set_result(self, res) -> None:
        """Show a :class:`workbench.experiments.curves.CapacityResult`."""
        o = res.order
        p = res.n_params[o].astype(np.float64)
        self.train.setData(p, res.train_loss[o])
        self.test.setData(p, res.test_loss[o])
        for t in self.labels:
            self.plot.removeItem(t)
        self.labels = []
        for i in o:
            t = pg.TextItem(res.labels[i], anchor=(0.5, 1.2), color="#555")
            y = res.test_loss[i] if np.isfinite(res.test_loss[i]) else res.train_loss[i]
            t.setPos(np.log10(float(res.n_params[i])), float(y))
            self.plot.addItem(t)
            self.labels.append(t)
        # ticks at the variants' parameter counts: the log axis's own minor labels
        # ("7.10^1 8.10^1 9.10^1 10^2") ran into each other
        counts = sorted({int(n) for n in res.n_params})
        self.plot.getAxis("bottom").setTicks(
            [[(float(np.log10(n)), f"{n:,}") for n in counts], []])
        lx = np.log10(p)
        self._xy = (np.concatenate([lx, lx]),
                    np.concatenate([res.train_loss[o], res.test_loss[o]]).astype(np.float64))
        self.legend.place()
        self.verdict.setText(res.verdict)

    def export_item(self):
        return self.plot


class SweepDialog(QtWidgets.QDialog):
    """Run > Sweep: a small grid editor (keys, values, seeds, steps, where to run), the
    progress of the sweep, and its results in a :class:`CompareView`.

    ``sweep_finished(result)`` is emitted with the :class:`SweepResult`; a row
    double-clicked in the compare view is forwarded as ``run_activated(session_path)``.
    Closing the dialog cancels a running sweep and waits for its thread.
    """
    sweep_finished = QtCore.Signal(object)
    run_activated = QtCore.Signal(str)

    def __init__(self, config, out_dir=None, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        from ..config import all_keys, load_config
        from ..experiments import default_workers
        from ..experiments.grid import VIRTUAL_KEYS
        self.setWindowTitle("Sweep")
        self.config = load_config(config)
        self.out_dir = out_dir
        self.task: ExperimentTask | None = None
        self.result = None
        lay = QtWidgets.QVBoxLayout(self)
        self.grid = QtWidgets.QTableWidget(0, 2)
        self.grid.setHorizontalHeaderLabels(["key", "values (comma-separated)"])
        self.grid.horizontalHeader().setStretchLastSection(True)
        self.grid.setColumnWidth(0, 240)
        self._keys = all_keys() + list(VIRTUAL_KEYS)
        lay.addWidget(self.grid)
        rows = QtWidgets.QHBoxLayout()
        add = QtWidgets.QPushButton("Add key")
        add.clicked.connect(lambda: self.add_axis("optimizer.lr", "1, 0.1, 0.01"))
        rem = QtWidgets.QPushButton("Remove key")
        rem.clicked.connect(self._on_remove_clicked)
        rows.addWidget(add)
        rows.addWidget(rem)
        rows.addStretch(1)
        lay.addLayout(rows)
        form = QtWidgets.QFormLayout()
        self.seeds = QtWidgets.QSpinBox()
        self.seeds.setRange(1, 100)
        form.addRow("seeds per grid point", self.seeds)
        self.steps = QtWidgets.QSpinBox()
        self.steps.setRange(0, 10_000_000)
        self.steps.setSpecialValueText("the configured epochs")
        form.addRow("steps per run", self.steps)
        self.where = QtWidgets.QComboBox()
        self.where.addItems(["this computer", "a Dask cluster"])
        form.addRow("run on", self.where)
        self.workers = QtWidgets.QSpinBox()
        self.workers.setRange(0, 256)
        self.workers.setValue(default_workers())
        form.addRow("worker processes", self.workers)
        self.address = QtWidgets.QLineEdit()
        self.address.setPlaceholderText("tcp://host:8786")
        form.addRow("Dask scheduler", self.address)
        lay.addLayout(form)
        self.where.currentIndexChanged.connect(self._on_where_changed)
        self._on_where_changed(0)
        add_run_bar(self, lay, "Run sweep", "%v / %m runs")
        self.compare = CompareView()
        self.compare.run_activated.connect(self.run_activated)
        lay.addWidget(self.compare, 1)
        self.add_axis("optimizer.lr", "1, 0.1, 0.01")

    def add_axis(self, key: str, values: str) -> None:
        r = self.grid.rowCount()
        self.grid.insertRow(r)
        box = QtWidgets.QComboBox()
        box.setEditable(True)
        box.addItems(self._keys)
        box.setCurrentText(key)
        self.grid.setCellWidget(r, 0, box)
        self.grid.setItem(r, 1, QtWidgets.QTableWidgetItem(values))

    def _on_remove_clicked(self) -> None:
        r = self.grid.currentRow()
        self.grid.removeRow(r if r >= 0 else self.grid.rowCount() - 1)

    def _on_where_changed(self, i: int) -> None:
        self.workers.setEnabled(i == 0)
        self.address.setEnabled(i == 1)

    def spec(self):
        """The SweepSpec the editor describes (ConfigError for a bad key or value)."""
        from ..experiments import SweepSpec, parse_axis
        axes = []
        for r in range(self.grid.rowCount()):
            key = self.grid.cellWidget(r, 0).currentText().strip()
            item = self.grid.item(r, 1)
            axes.append(parse_axis(f"{key}={item.text() if item else ''}"))
        dask = self.address.text().strip() if self.where.currentIndex() == 1 else None
        if self.where.currentIndex() == 1 and not dask:
            from ..config import ConfigError
            raise ConfigError("enter the Dask scheduler's address, e.g. tcp://host:8786")
        return SweepSpec(self.config, axes, seeds=self.seeds.value(),
                         steps=self.steps.value() or None,
                         workers=self.workers.value(), dask=dask, out=self._out())

    def _out(self):
        if self.out_dir is None:
            return None
        from ..experiments.sweep import default_out
        import os
        from pathlib import Path
        here = os.getcwd()
        try:
            os.chdir(self.out_dir)
            return Path(default_out())
        finally:
            os.chdir(here)

    def start(self) -> bool:
        """Start the sweep on a background thread; False (with a message) on bad input."""
        from ..config import ConfigError
        from ..experiments import SweepError, run_sweep
        try:
            spec = self.spec()
            total = len(spec.runs())
        except (ConfigError, SweepError) as e:
            self.message.setText(f"cannot start: {e}")
            return False
        self.progress.setRange(0, total)
        self.progress.setValue(0)
        self.message.setText(f"running {total} runs ...")
        start_run_bar_task(self, run_sweep, spec=spec)
        return True

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.message.setText("cancelling: the runs that finished are kept ...")

    def _on_progressed(self, done: int, total: int, text: str) -> None:
        self.progress.setValue(done)

    def _on_finished(self, result) -> None:
        self.result = result
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        n = len(result.done)
        text = f"{n} of {len(result.runs)} runs finished"
        if result.failed:
            text += f", {len(result.failed)} failed"
        if result.cancelled and result.out is not None:
            text += f"; cancelled: resume with {result.resume_hint()}"
        if result.out is not None:
            text += f"; results in {result.out}"
        self.message.setText(text)
        self.compare.set_result(result)
        self.task.wait(5)
        self.sweep_finished.emit(result)

    def _on_failed(self, message: str) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.message.setText(f"the sweep could not run: {message}")
        self.task.wait(5)

    def done(self, r: int) -> None:  # closing: stop the sweep and join its thread
        if self.task is not None:
            self.task.cancel()
            self.task.wait(30)
        super().done(r)
