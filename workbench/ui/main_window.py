"""The main window: docks for the configuration and every panel, menus, toolbar and
status bar, around a :class:`~workbench.ui.controller.Controller`.

Layout (UI.md): configuration on the left, diagnostics on the right, the decision
regions and the network graph side by side at the top, the time plots tabbed at the
bottom. Every dock has an object name; the layout is saved in QSettings under a version
key (a new :data:`LAYOUT_VERSION` ignores old layouts) and View > Reset layout restores
the default.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from ..config import ConfigError, RunConfig
from ..run.runner import COMPILING, ERROR, FINISHED, NONFINITE, PAUSED, RUNNING, STOPPED
from . import app as app_mod
from .bus import UiBus
from .config_panel import ConfigPanel
from .controller import Controller, epoch_text
from .examples import EXAMPLES, BY_NAME
from .live_controls import LiveControls
from .sessions_ui import SessionsUi
from .panels.base import Panel
from .undo import State

log = logging.getLogger(__name__)

LAYOUT_VERSION = 1
#: A panel whose minimum size exceeds this (width, height) is put in a scroll area.
MAX_MIN_SIZE = (460, 360)
A = QtCore.Qt.DockWidgetArea
AREAS = {"left": A.LeftDockWidgetArea, "right": A.RightDockWidgetArea,
         "bottom": A.BottomDockWidgetArea, "central": A.TopDockWidgetArea,
         "below_central": A.TopDockWidgetArea}

STATUS_TEXT = {COMPILING: "compiling kernels (first launch only)\u2026", RUNNING: "training",
               PAUSED: "paused", FINISHED: "finished", NONFINITE: "diverged (NaN)",
               STOPPED: "stopped", ERROR: "error", "idle": "ready", "replay": "replay"}

SHORTCUTS = (("Space", "start / pause"), ("S", "one step (mini-batch)"), ("E", "one epoch"),
             ("R", "reset the run"), ("Ctrl+Z / Ctrl+Shift+Z, Ctrl+Y", "undo / redo"),
             ("Ctrl+N", "new run (defaults)"), ("Ctrl+O / Ctrl+S", "open / save config"),
             ("Ctrl+Shift+O", "open a recorded session"),
             ("Ctrl+E", "export the current plot"),
             ("Ctrl+Shift+E", "export the current plot's data (CSV)"), ("Ctrl+Q", "quit"),
             ("F1", "this list"))


class MainWindow(QtWidgets.QMainWindow):
    """The workbench window.

    Parameters
    ----------
    config : RunConfig, dict or None
        The run to open (None: the default demo).
    settings : QSettings, optional
        Where layout and theme are kept (tests pass a private file).
    restore_layout : bool
        Restore the saved layout (off for screenshots, so they are reproducible).
    panel_classes : sequence of Panel subclasses, optional
        Default: :data:`workbench.ui.panels.registry.PANEL_CLASSES`.
    theme : str, optional
        ``light``, ``dark`` or ``system``; default: the saved choice.
    """

    def __init__(self, config=None, settings: QtCore.QSettings | None = None,
                 restore_layout: bool = True, panel_classes: Sequence[type[Panel]] | None = None,
                 theme: str | None = None):
        super().__init__()
        self.setObjectName("workbench_main")
        self.setWindowTitle(app_mod.APP_NAME)
        self.setDockNestingEnabled(True)
        self.settings = settings if settings is not None else QtCore.QSettings()
        # the theme first: panels read pyqtgraph's colours when they build their items
        self.theme = theme or str(self.settings.value("theme", "system"))
        app_mod.apply_theme(self.theme)
        if panel_classes is None:
            from .panels.registry import PANEL_CLASSES
            panel_classes = PANEL_CLASSES
        self.bus = UiBus(self)
        self.panels: list[Panel] = [cls(self.bus) for cls in panel_classes]
        cfg = config if isinstance(config, RunConfig) else RunConfig(config)
        self.controller = Controller(self.bus, cfg, self.panels, parent=self)
        self.controller.confirm_reset = lambda text: self.ask("Reset the run?", text)
        self.docks: dict[str, QtWidgets.QDockWidget] = {}
        # before the first run is built: every run records itself to a session file
        self.sessions = SessionsUi(self)
        self.replay_bar = self.sessions.bar
        self.current_panel: Panel | None = None
        self._closing = False

        self.config_panel = ConfigPanel(cfg)
        self._make_actions()
        self._make_docks()
        self.live_controls = LiveControls(self.controller, self.run_actions, self)
        self.addToolBar(QtCore.Qt.ToolBarArea.TopToolBarArea, self.live_controls)
        self._make_menus()
        self._make_status_bar()
        self._connect()
        # Run menu experiments, "Try the remedy", sanity checks, NaN provenance banner
        from .experiments_ui import ExperimentsUi
        self.experiments = ExperimentsUi(self)
        self.experiments.install(self.menus["Run"])
        app_mod.apply_theme(self.theme, self)
        self._theme_actions[self.theme].setChecked(True)
        self._needs_sizes = not (restore_layout and self.restore_layout())
        if self._needs_sizes:
            self.resize(1440, 900)
        QtWidgets.QApplication.instance().installEventFilter(self)
        self.controller.start_up()
        self._on_validity_changed(self.config_panel.error)

    # --- construction ----------------------------------------------------------------------
    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QtGui.QAction:
        a = QtGui.QAction(text, self)
        if shortcut is not None:
            a.setShortcut(QtGui.QKeySequence(shortcut))
        if tip:
            a.setToolTip(tip)
            a.setStatusTip(tip)
        a.triggered.connect(lambda _checked=False: slot())
        self.addAction(a)   # shortcuts work while the menu bar is hidden too
        return a

    def _make_actions(self) -> None:
        c = self.controller
        St = QtWidgets.QStyle.StandardPixmap
        icon = self.style().standardIcon
        self.act_start = self._action("Start", c.start, None, "train (Space toggles)")
        self.act_start.setIcon(icon(St.SP_MediaPlay))
        self.act_pause = self._action("Pause", c.pause, None, "pause (Space toggles)")
        self.act_pause.setIcon(icon(St.SP_MediaPause))
        self.act_toggle = self._action("Start / Pause", c.toggle, "Space", "start or pause")
        self.act_step = self._action("Step", c.step, "S", "train one mini-batch step")
        self.act_step.setIcon(icon(St.SP_MediaSkipForward))
        self.act_epoch = self._action("Epoch", c.step_epoch, "E", "train one epoch")
        self.act_epoch.setIcon(icon(St.SP_MediaSeekForward))
        self.act_reset = self._action("Reset", c.reset, "R",
                                      "rebuild the network from the config (step 0)")
        self.act_reset.setIcon(icon(St.SP_BrowserReload))
        self.run_actions = (self.act_start, self.act_pause, self.act_step, self.act_epoch,
                            self.act_reset)
        self.act_undo = c.undo_stack.createUndoAction(self, "Undo")
        self.act_undo.setShortcut(QtGui.QKeySequence("Ctrl+Z"))
        self.act_redo = c.undo_stack.createRedoAction(self, "Redo")
        self.act_redo.setShortcuts([QtGui.QKeySequence("Ctrl+Shift+Z"),
                                    QtGui.QKeySequence("Ctrl+Y")])
        self.addAction(self.act_undo)
        self.addAction(self.act_redo)

    def _make_docks(self) -> None:
        for corner, area in ((QtCore.Qt.Corner.TopLeftCorner, A.LeftDockWidgetArea),
                             (QtCore.Qt.Corner.BottomLeftCorner, A.LeftDockWidgetArea),
                             (QtCore.Qt.Corner.TopRightCorner, A.RightDockWidgetArea),
                             (QtCore.Qt.Corner.BottomRightCorner, A.RightDockWidgetArea)):
            self.setCorner(corner, area)
        # the form is unreadable narrower than this (labels and values get cut)
        self._dock(self.config_panel, "config", "Configuration").setMinimumWidth(260)
        for panel in self.panels:
            self._dock(panel, panel.object_name, panel.title)
        self._place_docks()

    def _place_docks(self) -> None:
        """Put every dock where the default layout has it (UI.md)."""
        cfg_dock = self.docks["config"]
        self.addDockWidget(A.LeftDockWidgetArea, cfg_dock)
        first: dict[str, QtWidgets.QDockWidget] = {}
        for panel in self.panels:
            dock = self.docks[panel.object_name]
            area = panel.area if panel.area in AREAS else "bottom"
            if area in first:
                self.tabifyDockWidget(first[area], dock)
            elif area == "below_central" and "central" in first:
                self.addDockWidget(AREAS[area], dock)
                self.splitDockWidget(first["central"], dock, QtCore.Qt.Orientation.Horizontal)
                first[area] = dock
            elif area == "left":
                self.addDockWidget(A.LeftDockWidgetArea, dock)
                self.splitDockWidget(cfg_dock, dock, QtCore.Qt.Orientation.Vertical)
                first[area] = dock
            else:
                self.addDockWidget(AREAS[area], dock)
                first[area] = dock
        for dock in first.values():
            dock.raise_()
        self._first_docks = first

    def _apply_default_sizes(self) -> None:
        """Configuration and diagnostics about 300 px wide, the decision map about
        square, the time plots about a third of the height."""
        H = QtCore.Qt.Orientation.Horizontal
        V = QtCore.Qt.Orientation.Vertical
        f = self._first_docks
        W = max(800, self.width())
        side = 290
        right = [f["right"]] if "right" in f else []
        middle = [f[k] for k in ("central", "below_central") if k in f]
        rest = W - side * (1 + len(right))
        widths = [int(rest * 0.55), rest - int(rest * 0.55)] if len(middle) == 2 else [rest]
        # one area at a time: Qt scales sizes given for several areas in one call
        self.resizeDocks([self.docks["config"]], [side], H)
        if right:
            self.resizeDocks(right, [side], H)
        if len(middle) == 2:
            self.resizeDocks(middle, widths, H)
        if middle and "bottom" in f:
            top = int(0.6 * (max(600, self.height()) - 110))
            self.resizeDocks([middle[0], f["bottom"]], [top, self.height() - 110 - top], V)

    def _dock(self, widget: QtWidgets.QWidget, name: str, title: str) -> QtWidgets.QDockWidget:
        dock = QtWidgets.QDockWidget(title, self)
        dock.setObjectName(name + "_dock")
        hint = widget.minimumSizeHint()
        if hint.width() > MAX_MIN_SIZE[0] or hint.height() > MAX_MIN_SIZE[1]:
            # a panel that needs more room than a dock gets must not squeeze the rest of
            # the window: it scrolls instead
            scroll = QtWidgets.QScrollArea()
            scroll.setObjectName(name + "_scroll")
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
            scroll.setWidget(widget)
            dock.setWidget(scroll)
        else:
            dock.setWidget(widget)
        help_text = getattr(widget, "help_text", "")
        if help_text:
            dock.setToolTip(help_text)
            dock.toggleViewAction().setStatusTip(help_text)
        self.docks[name] = dock
        return dock

    def _make_menus(self) -> None:
        mb = self.menuBar()
        self.menus: dict[str, QtWidgets.QMenu] = {}
        f = mb.addMenu("&File")
        self.menus["File"] = f
        f.addAction(self._action("&New run", self.new_run, "Ctrl+N",
                                 "a new run with the default configuration"))
        f.addAction(self._action("&Open config\u2026", self.open_config_dialog, "Ctrl+O"))
        f.addAction(self._action("&Save config\u2026", self.save_config_dialog, "Ctrl+S"))
        self.sessions.add_file_actions(f)
        f.addSeparator()
        f.addAction(self._action("&Export plot (PNG/SVG)\u2026", self.export_plot_dialog,
                                 "Ctrl+E", "the plot you last clicked"))
        f.addAction(self._action("Export plot &data (CSV)\u2026", self.export_csv_dialog,
                                 "Ctrl+Shift+E", "the data of the plot you last clicked"))
        f.addSeparator()
        f.addAction(self._action("&Quit", self.close, "Ctrl+Q"))

        e = mb.addMenu("&Edit")
        self.menus["Edit"] = e
        e.addAction(self.act_undo)
        e.addAction(self.act_redo)

        r = mb.addMenu("&Run")
        self.menus["Run"] = r
        r.addAction(self.act_toggle)
        for a in self.run_actions:
            r.addAction(a)

        v = mb.addMenu("&View")
        self.menus["View"] = v
        for dock in self.docks.values():
            v.addAction(dock.toggleViewAction())
        v.addSeparator()
        v.addAction(self._action("Reset &layout", self.reset_layout))
        theme_menu = v.addMenu("&Theme")
        group = QtGui.QActionGroup(self)
        self._theme_actions: dict[str, QtGui.QAction] = {}
        for name in app_mod.THEMES:
            a = QtGui.QAction(name.capitalize(), self, checkable=True)
            a.triggered.connect(lambda _c=False, n=name: self.set_theme(n))
            group.addAction(a)
            theme_menu.addAction(a)
            self._theme_actions[name] = a

        x = mb.addMenu("E&xamples")
        self.menus["Examples"] = x
        for ex in EXAMPLES:
            a = QtGui.QAction(ex.title, self)
            a.setStatusTip(ex.text)
            a.triggered.connect(lambda _c=False, n=ex.name: self.open_example(n))
            x.addAction(a)

        h = mb.addMenu("&Help")
        self.menus["Help"] = h
        h.addAction(self._action("&Shortcuts", self.show_shortcuts, "F1"))
        h.addAction(self._action("&About", self.show_about))

    def _make_status_bar(self) -> None:
        sb = self.statusBar()
        self.status_label = QtWidgets.QLabel(STATUS_TEXT["idle"])
        self.status_label.setObjectName("runStatus")
        self.step_label = QtWidgets.QLabel("step 0")
        self.epoch_label = QtWidgets.QLabel("epoch 0/0")
        self.rate_label = QtWidgets.QLabel("0 steps/s")
        self.lr_label = QtWidgets.QLabel("lr -")
        self.nan_label = QtWidgets.QLabel("NaN: none")
        self.nan_label.setObjectName("nanIndicator")
        self.nan_label.setToolTip("where training first produced NaN or Inf")
        self.progress = QtWidgets.QProgressBar()
        self.progress.setObjectName("epochProgress")
        self.progress.setRange(0, 1000)
        self.progress.setFormat("%p% of epochs")
        # fixed widths: a label that grows with its number would change the status bar's
        # size hint on every frame and make the whole window re-layout (docks jitter)
        widest = {self.status_label: STATUS_TEXT[COMPILING], self.step_label: "step 99,999,999",
                  self.epoch_label: "epoch 99,999 (9,999 planned)", self.rate_label: "9,999,999 steps/s",
                  self.lr_label: "lr 9.99e-05", self.nan_label: "NaN at step 99,999,999"}
        for w in (self.status_label, self.step_label, self.epoch_label, self.rate_label,
                  self.lr_label, self.nan_label, self.progress):
            if w in widest:   # fixed in both directions, or Qt still posts layout requests
                w.setFixedSize(w.fontMetrics().horizontalAdvance(widest[w]) + 16,
                               w.fontMetrics().height() + 6)
            else:
                w.setFixedSize(w.sizeHint().expandedTo(QtCore.QSize(180, 0)).width(),
                               w.sizeHint().height())
            sb.addPermanentWidget(w)

    def _connect(self) -> None:
        c = self.controller
        c.snapshot_changed.connect(self._on_snapshot_changed)
        c.state_changed.connect(self._on_state_changed)
        c.run_changed.connect(self._on_run_changed)
        c.build_failed.connect(self._on_build_failed)
        c.message.connect(lambda m: self.statusBar().showMessage(m, 8000))
        self.config_panel.config_edited.connect(self._on_config_edited)
        self.config_panel.validity_changed.connect(self._on_validity_changed)

    # --- slots ------------------------------------------------------------------------------------
    def _on_config_edited(self, cfg: RunConfig, text: str) -> None:
        if self.sessions.replay is not None and not self.ask(
                "End the replay?", "Changing the configuration ends the replay and builds a "
                "new run from it (the session file stays as it is). Go on?"):
            self.config_panel.set_config(self.controller.config)   # the edit is dropped
            return
        old = self.controller.config
        same_data = cfg.data == old.data and cfg.seed == old.seed
        self.controller.change_state(State(cfg, self.controller.points if same_data else None),
                                     text)

    def _on_state_changed(self) -> None:
        self.config_panel.set_config(self.controller.config)

    def _on_run_changed(self, ctx) -> None:
        if self.controller.replay is None and self.sessions.replay is None:
            self._on_validity_changed(self.config_panel.error)   # actions back on
        self.config_panel.show_external_error(None)
        decision = next((p for p in self.panels if p.object_name == "decision"), None)
        mode = getattr(decision, "mode", None)
        if mode is not None and "decision" in self.docks:
            self.docks["decision"].setWindowTitle(mode.dock_title)
        n = ctx.dataset.X_train.shape[0]
        self.setWindowTitle(f"{app_mod.APP_NAME} \u2014 {ctx.dataset.name}, "
                            f"{_arch(ctx)} ({n} training points)")

    def set_replay_actions(self, replay: bool) -> None:
        """In a replay, Reset and Undo/Redo are off: they rebuilt a run from the form and
        silently threw the replay away (R, Ctrl+Z). File > New run and the form still
        leave it (the form asks first). Called by the sessions UI as a replay starts and
        ends."""
        c = self.controller
        self.act_reset.setEnabled(not replay)
        self.act_undo.setEnabled(not replay and c.undo_stack.canUndo())
        self.act_redo.setEnabled(not replay and c.undo_stack.canRedo())

    def _on_build_failed(self, msg: str) -> None:
        self.config_panel.show_external_error(msg)
        self.statusBar().showMessage(msg, 10000)

    def _on_validity_changed(self, error: str | None) -> None:
        if self.controller.replay is not None:
            return        # a replay cannot train whatever the form says
        self.controller.blocked_reason = error
        for a in (self.act_start, self.act_step, self.act_epoch, self.act_toggle):
            a.setEnabled(error is None)
        tip = "fix the configuration first: " + error if error else "train (Space toggles)"
        self.act_start.setToolTip(tip)
        if error:
            self.controller.pause()
            self._set_status_text("invalid configuration", "invalid")
            self.status_label.setToolTip(error)
        else:
            if self.statusBar().currentMessage().startswith(("cannot start", "cannot step")):
                self.statusBar().clearMessage()      # fixed: the old reason goes
            if self.controller.latest is not None:
                self._on_snapshot_changed(self.controller.latest)

    def _set_status_text(self, text: str, state: str) -> None:
        self.status_label.setText(text)
        if self.status_label.property("state") != state:
            self.status_label.setProperty("state", state)
            self.status_label.style().unpolish(self.status_label)
            self.status_label.style().polish(self.status_label)

    def _on_snapshot_changed(self, snap) -> None:
        if self.controller.blocked_reason is None or self.controller.replay is not None:
            text = STATUS_TEXT.get(snap.status, snap.status)
            if snap.status == ERROR and snap.message:
                text = f"error: {snap.message}"
            self._set_status_text(text, snap.status)
            self.status_label.setToolTip(snap.message or text)
        self.step_label.setText(f"step {snap.step:,}")
        self.epoch_label.setText(epoch_text(snap.epoch, snap.epochs))
        # a replay does not train: no rate to show
        self.rate_label.setText("\u2014 steps/s" if snap.status == "replay" else
                                f"{snap.steps_per_s:,.0f} steps/s")
        self.lr_label.setText(f"lr {snap.lr:.3g}")
        bad = snap.nonfinite is not None
        self.nan_label.setText(f"NaN at step {snap.nonfinite.step:,}" if bad else "NaN: none")
        if bool(self.nan_label.property("bad")) != bad:
            self.nan_label.setProperty("bad", bad)
            self.nan_label.style().unpolish(self.nan_label)
            self.nan_label.style().polish(self.nan_label)
        frac = snap.step / snap.total_steps if snap.total_steps else 0.0
        self.progress.setValue(int(1000 * min(1.0, frac)))
        playing = self.controller.playing
        self.act_start.setEnabled(not playing and self.controller.blocked_reason is None
                                  and self.controller.replay is None)
        self.act_pause.setEnabled(playing)

    # --- file ------------------------------------------------------------------------------------
    def new_run(self) -> None:
        self.config_panel.set_lesson(None)
        self.controller.change_state(State(RunConfig()), "new run")

    def open_config(self, path: str | Path) -> bool:
        """Open a run configuration; a bad file gives one line and changes nothing."""
        try:
            cfg = RunConfig.load(path)
        except ConfigError as e:
            self.inform("Cannot open the configuration", str(e))
            return False
        self.config_panel.set_lesson(None)
        self.controller.last_build_error = None
        if self.controller.change_state(State(cfg), f"open {Path(path).name}"):
            return True
        if self.controller.last_build_error:     # (not when the user declined the reset)
            self.inform("Cannot open the configuration",
                        f"{Path(path).name}: {self.controller.last_build_error}")
        return False

    def save_config(self, path: str | Path) -> bool:
        try:
            self.controller.config.save(path)
        except OSError as e:
            self.inform("Cannot save the configuration", f"{path}: {e.strerror or e}")
            return False
        self.statusBar().showMessage(f"saved {path}", 5000)
        return True

    def open_config_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Open a run configuration", "", "Run configurations (*.json);;All (*)")
        if path:
            self.open_config(path)

    def save_config_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Save the run configuration", "run.json", "Run configurations (*.json)")
        if path:
            self.save_config(path)

    def _export_panel(self) -> Panel | None:
        cands = [p for p in self.panels if p.export_item() is not None]
        if self.current_panel in cands:
            return self.current_panel
        visible = [p for p in cands if p.isVisible()]
        return (visible or cands or [None])[0]

    def export_plot(self, path: str | Path, panel: Panel | None = None) -> bool:
        """Export a panel's plot as PNG or SVG (by the file's suffix)."""
        import pyqtgraph.exporters as ex
        panel = panel or self._export_panel()
        item = panel.export_item() if panel is not None else None
        if item is None:
            self.inform("Nothing to export", "click on a plot first; this panel has none")
            return False
        path = Path(path)
        if not path.suffix:
            path = path.with_suffix(".png")         # a name without one: a PNG image
        suffix = path.suffix.lower().lstrip(".")
        images = {bytes(f).decode().lower() for f in QtGui.QImageWriter.supportedImageFormats()}
        if suffix != "svg" and suffix not in images:
            self.inform("Export failed", f"{path}: .{suffix} is not an image format; use "
                        ".png or .svg")
            return False
        if not path.parent.is_dir():
            self.inform("Export failed", f"{path}: the folder {path.parent} does not exist")
            return False
        try:
            if suffix == "svg":
                ex.SVGExporter(item).export(str(path))
                ok = path.is_file()
            else:
                # pyqtgraph's ImageExporter ignores QImage.save's answer: save it here
                ok = ex.ImageExporter(item).export(toBytes=True).save(str(path))
        except Exception as e:  # noqa: BLE001 - exporter errors vary; report, keep working
            self.inform("Export failed", f"{path}: {type(e).__name__}: {e}")
            return False
        if not ok:
            self.inform("Export failed", f"{path}: could not be written (a folder of that "
                        "name, or no permission to write there?)")
            return False
        self.statusBar().showMessage(f"exported {panel.title} to {path}", 5000)
        return True

    def export_csv(self, path: str | Path, panel: Panel | None = None) -> bool:
        """Write a panel's data (its ``export_csv`` header and rows) as CSV."""
        import csv
        panel = panel or self._export_panel()
        data = panel.export_csv() if panel is not None else None
        if data is None:
            self.inform("Nothing to export", "this panel has no data to export")
            return False
        header, rows = data
        try:
            with open(path, "w", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(header)
                w.writerows(rows)
        except OSError as e:
            self.inform("Export failed", f"{path}: {e.strerror or e}")
            return False
        self.statusBar().showMessage(f"exported {panel.title} data to {path}", 5000)
        return True

    def export_plot_dialog(self) -> None:
        panel = self._export_panel()
        if panel is None:
            self.inform("Nothing to export", "no panel has a plot")
            return
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, f"Export {panel.title}", f"{panel.object_name}.png",
            "PNG image (*.png);;SVG drawing (*.svg)")
        if path:
            self.export_plot(path, panel)

    def export_csv_dialog(self) -> None:
        panel = self._export_panel()
        if panel is None:
            return
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, f"Export {panel.title} data", f"{panel.object_name}.csv", "CSV (*.csv)")
        if path:
            self.export_csv(path, panel)

    # --- replay -----------------------------------------------------------------------------------
    def open_replay(self, path: str | Path) -> bool:
        """Show a recorded session: the panels follow a timeline instead of a run."""
        return self.sessions.open(path)

    def open_replay_dialog(self) -> None:
        self.sessions.open_dialog()

    # --- examples, view, help ---------------------------------------------------------------------
    def open_example(self, name: str) -> bool:
        ex = BY_NAME[name]
        ok = self.controller.change_state(State(ex.run_config()), f"example: {ex.title}")
        if ok:
            self.config_panel.set_lesson(f"<b>{ex.title}</b><br>{ex.text}")
            self.docks["config"].show()
        return ok

    def set_theme(self, theme: str) -> None:
        self.theme = theme
        self.settings.setValue("theme", theme)
        app_mod.apply_theme(theme, self)
        self._theme_actions[theme].setChecked(True)

    def reset_layout(self) -> None:
        """Every dock back to its default place and size, shown."""
        self.sessions.unplace_bar()
        for dock in self.docks.values():
            # docked first: Qt ignored setFloating(False) on a dock already removed, and
            # floated docks stayed floating after a reset
            dock.setFloating(False)
            self.removeDockWidget(dock)
        self._place_docks()
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.show()
        for dock in self._first_docks.values():
            dock.raise_()
        self._apply_default_sizes()
        self.sessions.place_bar()      # in replay: the timeline above the bottom tabs

    def save_layout(self) -> None:
        key = f"layout/v{LAYOUT_VERSION}"
        self.settings.setValue(f"{key}/state", self.saveState(LAYOUT_VERSION))
        self.settings.setValue(f"{key}/geometry", self.saveGeometry())
        self.settings.sync()

    def restore_layout(self) -> bool:
        """Restore the layout saved for this :data:`LAYOUT_VERSION` (False: none)."""
        key = f"layout/v{LAYOUT_VERSION}"
        geo = self.settings.value(f"{key}/geometry")
        state = self.settings.value(f"{key}/state")
        if geo is None or state is None:
            return False
        self.restoreGeometry(geo)
        return bool(self.restoreState(state, LAYOUT_VERSION))

    def show_shortcuts(self) -> None:
        rows = "".join(f"<tr><td><b>{k}</b></td><td>&nbsp;{v}</td></tr>" for k, v in SHORTCUTS)
        QtWidgets.QMessageBox.information(self, "Shortcuts", f"<table>{rows}</table>")

    def show_about(self) -> None:
        import html

        from ..core.threads import describe, numeric_libraries
        from .panels.registry import IMPORT_PROBLEMS
        extra = "".join(f"<br>panel {k} not loaded: {v}" for k, v in IMPORT_PROBLEMS.items())
        QtWidgets.QMessageBox.about(
            self, "About", f"<b>{app_mod.APP_NAME}</b><br>Train small neural networks and "
            "see why they do or do not learn: loss, gradients, update ratios, dead units, "
            "decision regions and the network itself, live while it trains." + extra
            + f"<br><br><small>{html.escape(describe(numeric_libraries()))}</small>")

    # --- dialogs (tests replace these) ----------------------------------------------------------
    def ask(self, title: str, text: str) -> bool:
        B = QtWidgets.QMessageBox.StandardButton
        return QtWidgets.QMessageBox.question(self, title, text, B.Yes | B.No, B.No) == B.Yes

    def inform(self, title: str, text: str) -> None:
        QtWidgets.QMessageBox.warning(self, title, text)

    # --- events --------------------------------------------------------------------------------------
    def eventFilter(self, obj, event) -> bool:
        if event.type() == QtCore.QEvent.Type.ShortcutOverride and _widget_keeps_key(obj,
                                                                                   event):
            event.accept()      # the key goes to the widget, not to a window shortcut
            return True
        # remember the panel the user last clicked: File > Export acts on it
        if event.type() == QtCore.QEvent.Type.MouseButtonPress and isinstance(
                obj, QtWidgets.QWidget):
            w = obj
            while w is not None and not isinstance(w, Panel):
                w = w.parentWidget()
            if w is not None and w in self.panels:
                self.current_panel = w
        return False

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        if self._needs_sizes:     # the default layout, sized for the window as shown
            self._needs_sizes = False
            self._apply_default_sizes()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        if self.controller.playing and not self.ask(
                "Quit while training?", "Training is running. Stop it and close the window?"):
            event.ignore()
            return
        self.shutdown()
        event.accept()

    def shutdown(self, timeout: float = 2.0) -> bool:
        """Save the layout, stop training and join its thread (idempotent)."""
        if self._closing:
            return True
        self._closing = True
        app = QtWidgets.QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self.statusBar().clearMessage()      # stops the status bar's message timer
        self.sessions.shutdown()
        self.experiments.shutdown()
        try:
            self.save_layout()
        except Exception:  # noqa: BLE001 - settings trouble must not block closing
            log.exception("could not save the layout")
        return self.controller.shutdown(timeout)


def _widget_keeps_key(widget, event: QtGui.QKeyEvent) -> bool:
    """Whether a key that is also a window shortcut (Space, S, E, R) belongs to the
    focused widget: Space toggles a check box or presses a button (it started training
    instead, and Nesterov stayed as it was), and a letter typed in a combo box or a list
    jumps to an entry (R in the optimizer box reset the run). Text fields keep their
    keys by themselves."""
    mods = event.modifiers() & ~QtCore.Qt.KeyboardModifier.KeypadModifier
    if mods not in (QtCore.Qt.KeyboardModifier.NoModifier,
                    QtCore.Qt.KeyboardModifier.ShiftModifier):
        return False
    key = event.key()
    W = QtWidgets
    if key == QtCore.Qt.Key.Key_Space:
        return isinstance(widget, (W.QAbstractButton, W.QComboBox, W.QAbstractItemView))
    if event.text().isalnum():
        return isinstance(widget, (W.QComboBox, W.QAbstractItemView))
    return False


def _arch(ctx) -> str:
    net = ctx.network
    parts = [str(net.n_inputs)] + [f"{u} {a}" for u, a in net.hidden] + \
        [f"{net.n_outputs} {net.output}"]
    return " \u2192 ".join(parts)
