"""Sessions in the window: every run recorded, replay, fork, compare, weights, reports.

:class:`SessionsUi` is attached to the :class:`~workbench.ui.main_window.MainWindow` right
after its controller is made. It

- has every run the window trains record itself to the sessions folder
  (:func:`sessions_folder`: ``$WORKBENCH_SESSIONS_DIR``, else the ``sessions/dir``
  setting, else :func:`workbench.session.sessions_dir`); a failed recording pauses
  training and says why in the status bar;
- opens a session in replay (File > Open session, Open recent, drag and drop, ``python
  main.py replay``) with the :class:`~workbench.ui.replay.TimelineWidget` and forks it
  ("Continue from here"), overlaying the parent's loss on the child's;
- compares sessions in the experiments' :class:`~workbench.ui.experiments_view.CompareView`;
- exports weights and HTML reports and starts runs from saved weights.

Every failure is one line in a message box (``window.inform``) or the status bar.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Sequence

import numpy as np
from PySide6 import QtCore, QtWidgets

from ..config import ConfigError, RunConfig
from .app import APP_NAME
from .panels.timeaxis import HP_PATHS, debiased_ema
from .replay import ReplayController, TimelineWidget

log = logging.getLogger(__name__)

ENV_DIR = "WORKBENCH_SESSIONS_DIR"
SETTINGS_DIR = "sessions/dir"
N_RECENT = 10
PARENT_COLOR = "#7f7f7f"
SUFFIX = ".wbsession"


def sessions_folder(settings: QtCore.QSettings | None = None, create: bool = True) -> Path:
    """Where the window records its runs: ``$WORKBENCH_SESSIONS_DIR``, else the
    ``sessions/dir`` setting, else the user's data directory (platformdirs)."""
    from ..session import sessions_dir
    d = os.environ.get(ENV_DIR) or (settings.value(SETTINGS_DIR) if settings else None)
    if not d:
        return sessions_dir(create=create)
    p = Path(str(d)).expanduser()
    if create:
        p.mkdir(parents=True, exist_ok=True)
    return p


# --- the fork dialog -----------------------------------------------------------------------
class ForkDialog(QtWidgets.QDialog):
    """The live hyperparameters of the replayed step, editable; :meth:`changes` gives the
    ones the user changed (by live name: ``lr``, ``momentum``, ...)."""

    def __init__(self, hp: dict, step: int, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("fork_dialog")
        self.setWindowTitle(f"Continue from step {step:,}")
        self.hp = dict(hp)
        form = QtWidgets.QFormLayout(self)
        form.addRow(QtWidgets.QLabel(
            f"A new run starts from the recorded state after step {step:,} (weights, "
            "optimizer state, data order) with these settings, recorded as a fork."))
        self.fields: dict[str, QtWidgets.QWidget] = {}
        for name in HP_PATHS:
            v = hp.get(name)
            if name == "nesterov":
                w = QtWidgets.QCheckBox()
                w.setChecked(bool(v))
            elif name == "batch_size":
                w = QtWidgets.QSpinBox()
                w.setRange(1, 1_000_000)
                w.setValue(int(v or 1))
            else:
                w = QtWidgets.QLineEdit("" if v is None else f"{float(v):g}")
            w.setObjectName(f"fork_{name}")
            self.fields[name] = w
            form.addRow(name, w)
        self.error = QtWidgets.QLabel("")
        self.error.setStyleSheet("color: #d62728")
        form.addRow(self.error)
        B = QtWidgets.QDialogButtonBox.StandardButton
        box = QtWidgets.QDialogButtonBox(B.Ok | B.Cancel)
        box.button(B.Ok).setText("Start run")
        box.accepted.connect(self._on_accept)
        box.rejected.connect(self.reject)
        form.addRow(box)

    def values(self) -> dict:
        """Every field's value (ValueError naming the field for a bad number)."""
        out = {}
        for name, w in self.fields.items():
            if isinstance(w, QtWidgets.QCheckBox):
                out[name] = w.isChecked()
            elif isinstance(w, QtWidgets.QSpinBox):
                out[name] = int(w.value())
            else:
                try:
                    out[name] = float(w.text())
                except ValueError:
                    raise ValueError(f"{name}: {w.text()!r} is not a number") from None
        return out

    def changes(self) -> dict:
        """The values that differ from the recorded ones."""
        return {k: v for k, v in self.values().items() if v != self.hp.get(k)}

    def _on_accept(self) -> None:
        try:
            self.changes()
        except ValueError as e:
            self.error.setText(str(e))
            return
        self.accept()


# --- compare ---------------------------------------------------------------------------------
def _fmt_value(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def compare_result(paths: Sequence) -> "object":
    """A :class:`workbench.experiments.sweep.SweepResult` of recorded sessions, for the
    :class:`~workbench.ui.experiments_view.CompareView`: one run per file (named by its
    file), the configuration keys whose values differ as the columns, the curves from
    :meth:`SessionReader.metrics` and :meth:`SessionReader.evaluations`.

    Raises
    ------
    SessionError
        One line naming the first file that cannot be read.
    """
    from ..config import all_keys
    from ..experiments.sweep import RunResult, SweepResult
    from ..session import open_session
    rows = []
    for p in paths:
        with open_session(p) as r:
            m, e = r.metrics(), r.evaluations()
            last = {k: (float(v[-1]) if len(v) else None) for k, v in e.items()
                    if k in ("train_loss", "test_loss", "train_acc", "test_acc")}
            curves = {"step": np.array(m["step"]), "loss": np.array(m["loss"]),
                      "lr": np.array(m["lr"])}
            for k in ("step", "train_loss", "test_loss", "train_acc", "test_acc"):
                curves["eval_" + k] = np.array(e[k], dtype=np.float64)
            codes = []
            for f in r.findings():
                c = f.get("code") if isinstance(f, dict) else None
                if c and c not in codes:
                    codes.append(c)
            meta = r.meta
            wall = float(meta["closed"] - meta["created"]) \
                if meta.get("closed") and meta.get("created") else 0.0
            rows.append((Path(p), r.config, last, curves, codes, r.last_step, wall))
    keys = [k for k in all_keys()
            if len({repr(_get(cfg, k)) for _, cfg, *_ in rows}) > 1]
    runs = []
    for i, (p, cfg, last, curves, codes, steps, wall) in enumerate(rows):
        name = p.name[:-len(SUFFIX)] if p.name.endswith(SUFFIX) else p.stem
        changes = {k: _get(cfg, k) for k in keys}
        ok = all(v is None or np.isfinite(v) for v in last.values())
        runs.append(RunResult(
            index=i, name=name, changes=changes,
            texts={k: _fmt_value(v) for k, v in changes.items()},
            status="ok" if ok else "diverged", train_loss=last.get("train_loss"),
            test_loss=last.get("test_loss"), train_accuracy=last.get("train_acc"),
            test_accuracy=last.get("test_acc"), steps=steps, wall_s=wall, findings=codes,
            curves=curves, session=str(p.resolve())))
    # out "/" : the view joins out / session, and the sessions are absolute paths
    return SweepResult(spec=None, columns=keys, runs=runs, out=Path(os.sep))


def _get(cfg: RunConfig, key: str):
    try:
        v = cfg[key]
    except (KeyError, TypeError):
        return None
    return tuple(map(tuple, v)) if isinstance(v, list) and v and isinstance(v[0], list) \
        else (tuple(v) if isinstance(v, list) else v)


class CompareWindow(QtWidgets.QDialog):
    """A non-modal window around the experiments' CompareView for recorded sessions."""

    def __init__(self, result, parent: QtWidgets.QWidget | None = None):
        from .experiments_view import CompareView
        super().__init__(parent)
        self.setObjectName("compare_sessions")
        self.setWindowTitle(f"Compare {len(result.done)} sessions")
        self.setModal(False)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.view = CompareView(self)
        lay.addWidget(self.view)
        key = result.columns[0] if result.columns else None
        self.view.set_result(result, verdict="", color_key=key)
        self.resize(1000, 680)


# --- the window's session features ------------------------------------------------------------
class SessionsUi(QtCore.QObject):
    """Session features of a :class:`~workbench.ui.main_window.MainWindow`.

    Parameters
    ----------
    window : MainWindow
        Needs ``controller``, ``settings``, ``panels``, ``inform``, ``statusBar()``.
    record : bool
        Record every run the window trains (the window's default).
    """

    def __init__(self, window, record: bool = True):
        super().__init__(window)
        self.win = window
        self.controller = window.controller
        self.record = record
        self.replay: ReplayController | None = None
        self.compare_windows: list[CompareWindow] = []
        self._overlay_owner = None          # the run whose overlays we set (a fork)
        self.timeline = TimelineWidget()
        self.timeline.fork_requested.connect(self.continue_from)
        # a dock of its own, without title bar, at the foot of the top dock area: right
        # above the bottom tabs (UI.md); a toolbar would sit below every dock
        self.bar = QtWidgets.QDockWidget("Replay timeline", window)
        self.bar.setObjectName("replay_bar")
        self.bar.setFeatures(QtWidgets.QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
        self.bar.setTitleBarWidget(QtWidgets.QWidget(self.bar))
        self.timeline.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding,
                                    QtWidgets.QSizePolicy.Policy.Fixed)
        self.bar.setWidget(self.timeline)
        self.bar.hide()
        c = self.controller
        c.session_path = self._session_path
        c.recording_failed.connect(self._on_recording_failed)
        c.run_changed.connect(self._on_run_changed)
        window.setAcceptDrops(True)
        window.installEventFilter(self)

    # --- recording ---------------------------------------------------------------------------
    @property
    def folder(self) -> Path:
        """The sessions folder (not created here: a dialog may show it before any run)."""
        return sessions_folder(self.win.settings, create=False)

    def _session_path(self, config: RunConfig):
        if not self.record:
            return None
        from ..session import new_session_path
        where = self.folder
        try:
            return new_session_path(config, folder=where)
        except OSError as e:
            self._on_recording_failed(f"not recording: cannot write sessions to {where} "
                                      f"({e.strerror or e})")
            return None

    def _on_recording_failed(self, message: str) -> None:
        """Training pauses; the status bar says why (one line)."""
        self.controller.pause()
        line = " ".join(str(message).split())
        self.last_error = line
        self.win.statusBar().showMessage(line)
        log.warning("%s", line)

    @property
    def session_file(self) -> Path | None:
        """The file the current run records to (None: not recording)."""
        run = self.controller.run
        rec = getattr(run, "recorder", None) if self.controller.replay is None else None
        return None if rec is None else Path(rec.path)

    def recent(self) -> list[Path]:
        from ..session import recent_sessions
        try:
            return recent_sessions(N_RECENT, folder=self.folder)
        except OSError:
            return []

    # --- menus ------------------------------------------------------------------------------------
    def add_file_actions(self, menu: QtWidgets.QMenu) -> None:
        """Open session, Open recent, Compare, weights and report into the File menu."""
        act = self.win._action
        menu.addAction(act("Open &session\u2026", self.open_dialog, "Ctrl+Shift+O",
                           "replay a recorded .wbsession file in the panels"))
        self.recent_menu = menu.addMenu("Open &recent")
        self.recent_menu.setObjectName("recent_menu")
        self.recent_menu.aboutToShow.connect(self.fill_recent_menu)
        menu.addAction(act("&Compare sessions\u2026", self.compare_dialog, None,
                           "overlay the curves of several recorded sessions"))
        menu.addSeparator()
        menu.addAction(act("Export &weights (.npz/.json)\u2026", self.export_weights_dialog,
                           None, "the current network's weights, layer by layer"))
        menu.addAction(act("Start from &weights\u2026", self.start_from_weights_dialog, None,
                           "a new run of this configuration starting from saved weights"))
        menu.addAction(act("Export &report (HTML)\u2026", self.export_report_dialog, None,
                           "one self-contained HTML file of the current or replayed "
                           "session"))

    def fill_recent_menu(self) -> None:
        m = self.recent_menu
        m.clear()
        files = self.recent()
        if not files:
            a = m.addAction("(no recorded sessions yet)")
            a.setEnabled(False)
        for p in files:
            a = m.addAction(p.name)
            a.setToolTip(str(p))
            a.triggered.connect(lambda _c=False, p=p: self.open(p))
        m.addSeparator()
        m.addAction(f"Folder: {self.folder}").setEnabled(False)

    # --- replay -----------------------------------------------------------------------------------
    def open(self, path) -> bool:
        """Replay a session in every panel; a bad file gives one line, nothing changes."""
        from ..session import SessionError, open_session
        path = Path(path)
        if self.session_file is not None and path.resolve() == self.session_file.resolve():
            self.win.inform("Cannot open the session",
                            f"{path.name} is the run training now")
            return False
        try:
            reader = open_session(path)
        except SessionError as e:
            self.win.inform("Cannot open the session", str(e))
            return False
        old = self.replay
        from ..session.format import CONTENT_ERRORS, damaged
        try:
            self.replay = ReplayController(reader, self.controller, self.timeline,
                                           parent=self)
        except (SessionError, *CONTENT_ERRORS) as e:
            reader.close()
            self.replay = old
            if not isinstance(e, SessionError):
                e = damaged(path, e)
            self.win.inform("Cannot open the session", str(e))
            return False
        if old is not None:
            old.close()
        self.replay.failed.connect(lambda msg: self.win.inform("Cannot read the session", msg))
        # the live controls show the hyperparameters in force at the step (read only);
        # the configuration form keeps the run's starting settings
        self.replay.snapshot_changed.connect(self._show_live_values)
        if self.replay.latest is not None:
            self._show_live_values(self.replay.latest)
        self._clear_overlays()
        self.place_bar()
        self._replay_lesson(path, reader, quiet=False)
        self.replay.writer_quiet.connect(
            lambda quiet, path=path, reader=reader: self._replay_lesson(path, reader, quiet))
        self.win.setWindowTitle(f"{APP_NAME} \u2014 replay {path.name}")
        for a in (self.win.act_start, self.win.act_step, self.win.act_epoch,
                  self.win.act_toggle):
            a.setEnabled(False)
        self.win.set_replay_actions(True)
        return True

    def _replay_lesson(self, path: Path, reader, quiet: bool) -> None:
        """The replay's note above the form: what is shown, and whether the file is still
        being written (or was not written for a while: its run may have stopped)."""
        if reader.closed:
            live = ""
        elif quiet:
            live = (" (not closed, and not written for a while: the run recording it may "
                    "have stopped; new records still appear if it goes on)")
        else:
            live = " (still being written: follows the live end)"
        parent = f"<br>fork of {Path(reader.parent).name} at step {reader.fork_step:,}" \
            if reader.parent and reader.fork_step is not None else ""
        self.win.config_panel.set_lesson(
            f"<b>Replay of {path.name}</b>{live}{parent}<br>Drag the timeline or press play; "
            "\u201cContinue from here\u201d trains a fork; File > New run trains anew.")

    def unplace_bar(self) -> None:
        """Take the timeline out of the window's layout (View > Reset layout places the
        panels' docks first, then calls :meth:`place_bar`)."""
        if self.win.dockWidgetArea(self.bar) != QtCore.Qt.DockWidgetArea.NoDockWidgetArea:
            self.win.removeDockWidget(self.bar)

    def place_bar(self) -> None:
        """In replay, show the timeline below every dock of the top area (the plots), so
        right above the bottom tabs, over their whole width."""
        win, bar = self.win, self.bar
        self.unplace_bar()
        if self.replay is None:
            bar.hide()
            return
        A = QtCore.Qt.DockWidgetArea
        bar.setFloating(False)
        win.addDockWidget(A.TopDockWidgetArea, bar, QtCore.Qt.Orientation.Vertical)
        bar.show()
        h = self.timeline.sizeHint().height()
        win.resizeDocks([bar], [h], QtCore.Qt.Orientation.Vertical)

    def open_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self.win, "Open a recorded session", str(self.folder),
            f"Sessions (*{SUFFIX});;All (*)")
        if path:
            self.open(path)

    def seek(self, step: int):
        """Move the timeline to ``step`` and show it now; the snapshot shown."""
        if self.replay is None:
            return None
        self.timeline.set_step(step)
        return self.replay.show_step_now(self.timeline.step)

    def _show_live_values(self, snap) -> None:
        live = getattr(self.win, "live_controls", None)
        if live is not None and self.replay is not None:
            live.show_values(snap.hp)

    def _end_replay(self) -> None:
        if self.replay is not None:
            self.replay.close()
            self.replay = None
        live = getattr(self.win, "live_controls", None)
        if live is not None:
            live.show_values(None)
        self.bar.hide()
        self.controller.bus.cursor_moved.emit(-1)
        self.win.set_replay_actions(False)

    def _on_run_changed(self, ctx) -> None:
        if self.controller.replay is None and self.replay is not None:
            self._end_replay()
        if self._overlay_owner is not None and self.controller.run is not self._overlay_owner:
            self._clear_overlays()

    # --- fork ---------------------------------------------------------------------------------------
    def ask_fork_changes(self, hp: dict, step: int) -> dict | None:
        """The fork dialog (tests replace this): the changed settings, or None."""
        dlg = ForkDialog(hp, step, self.win)
        if dlg.exec() != QtWidgets.QDialog.DialogCode.Accepted:
            return None
        return dlg.changes()

    def continue_from(self, step: int | None = None, changes: dict | None = None):
        """Fork the replayed session at ``step`` (default: the timeline's) and train the
        child in the window, the parent's loss overlaid. ``changes`` None asks with the
        dialog. Returns the new Run, or None (cancelled or refused, with one line)."""
        from ..session import SessionError, fork
        if self.replay is None:
            return None
        step = self.timeline.step if step is None else int(step)
        reader = self.replay.reader
        if changes is None:
            snap = self.replay.show_step_now(step)
            if snap is None:
                return None
            changes = self.ask_fork_changes(dict(snap.hp), snap.step)
            if changes is None:
                return None
        path = self._session_path(reader.config)
        m = reader.metrics()
        parent_name = reader.path.name
        x = np.array(m["step"][:max(0, step - reader.first_step)])
        y = np.array(m["loss"][:x.shape[0]], dtype=np.float64)
        try:
            run = fork(reader.path, step, changes,
                       session=path if path is not None else False)
        except (SessionError, ConfigError) as e:
            self.win.inform("Cannot continue from here", str(e))
            return None
        # the form shows the settings the child trains with: the state's, then the changes
        try:
            cfg = run.config.with_changes({HP_PATHS[k]: v for k, v in
                                           {**run.hp, **changes}.items() if k in HP_PATHS})
        except ConfigError as e:
            if run.recorder is not None:
                run.recorder.close()
            self.win.inform("Cannot continue from here", str(e))
            return None
        self.controller.adopt_run(run, cfg, f"continuing {parent_name} from step {step:,}")
        self.win.config_panel.set_lesson(
            f"<b>Fork of {parent_name} at step {step:,}</b><br>"
            + (", ".join(f"{k} = {v}" for k, v in changes.items()) or "same settings")
            + ". The parent's loss is the dashed grey curve.")
        self.set_parent_overlay(f"parent (until step {step:,})", x, y)
        self._overlay_owner = run
        return run

    def loss_panel(self):
        return next((p for p in self.win.panels if p.object_name == "loss"), None)

    def set_parent_overlay(self, label: str, steps: np.ndarray, losses: np.ndarray) -> None:
        panel = self.loss_panel()
        if panel is None or not hasattr(panel, "set_overlays"):
            return
        w = getattr(panel, "smoothing", 0.0)
        shown = debiased_ema(losses, w) if w > 0 else losses
        panel.set_overlays([(label, steps, shown, PARENT_COLOR)])

    def _clear_overlays(self) -> None:
        panel = self.loss_panel()
        if self._overlay_owner is not None and panel is not None:
            panel.set_overlays([])
        self._overlay_owner = None

    # --- compare -----------------------------------------------------------------------------------
    def compare(self, paths: Sequence) -> CompareWindow | None:
        """Overlay the curves of several sessions in a compare window."""
        from ..session import SessionError
        if len(paths) < 1:
            return None
        try:
            result = compare_result(paths)
        except SessionError as e:
            self.win.inform("Cannot compare the sessions", str(e))
            return None
        w = CompareWindow(result, self.win)
        w.view.run_activated.connect(self.open)
        w.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        w.destroyed.connect(lambda _=None, w=w: self.compare_windows.remove(w)
                            if w in self.compare_windows else None)
        self.compare_windows.append(w)
        w.show()
        return w

    def compare_dialog(self) -> None:
        paths, _ = QtWidgets.QFileDialog.getOpenFileNames(
            self.win, "Compare recorded sessions", str(self.folder),
            f"Sessions (*{SUFFIX})")
        if paths:
            self.compare(paths)

    # --- weights and reports --------------------------------------------------------------------
    def export_weights(self, path) -> bool:
        """Write the current (or replayed) network's weights as .npz or .json."""
        from ..session import SessionError, export_weights
        run = self.controller.run
        if run is None:
            self.win.inform("Nothing to export", "there is no network yet")
            return False
        if self.controller.runner is not None:
            # read the parameters on the training thread, between two steps
            self.controller.pause()
            self.controller.runner.wait_idle()
        try:
            export_weights(run, path)
        except (SessionError, OSError) as e:
            self.win.inform("Cannot export the weights", _line(e))
            return False
        self.win.statusBar().showMessage(f"weights written to {path}", 5000)
        return True

    def start_from_weights(self, path) -> bool:
        """A new run of the current configuration starting from the file's weights."""
        from ..session import SessionError, run_from_weights
        cfg = self.controller.config
        try:
            run = run_from_weights(path, config=cfg, session=self._session_path(cfg))
        except (SessionError, ConfigError, OSError) as e:
            self.win.inform("Cannot start from these weights", _line(e))
            return False
        self.controller.adopt_run(run, cfg, f"started from the weights in {Path(path).name}")
        return True

    def export_report(self, out) -> bool:
        """An HTML report of the replayed session, or of the run recording now."""
        from ..session import SessionError, html_report
        src = self.replay.reader.path if self.replay is not None else self.session_file
        if src is None:
            self.win.inform("No session to report", "this run is not being recorded")
            return False
        if self.replay is None and self.controller.runner is not None:
            # everything trained so far into the file first
            self.controller.pause()
            self.controller.runner.wait_idle()
        try:
            html_report(src, out)
        except (SessionError, OSError) as e:
            self.win.inform("Cannot write the report", _line(e))
            return False
        self.win.statusBar().showMessage(f"report written to {out}", 5000)
        return True

    def export_weights_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self.win, "Export the weights", "weights.npz", "NumPy (*.npz);;JSON (*.json)")
        if path:
            self.export_weights(path)

    def start_from_weights_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self.win, "Start from saved weights", "", "Weights (*.npz *.json);;All (*)")
        if path:
            self.start_from_weights(path)

    def export_report_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self.win, "Export an HTML report", "report.html", "HTML (*.html)")
        if path:
            self.export_report(path)

    # --- drag and drop, shutdown ---------------------------------------------------------------
    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt
        T = QtCore.QEvent.Type
        if obj is self.win and event.type() == T.Show and self.replay is None:
            self.bar.hide()   # a layout saved during a replay restores it shown
            return False
        if obj is self.win and event.type() in (T.DragEnter, T.DragMove, T.Drop):
            paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
            paths = [p for p in paths if p.endswith(SUFFIX)]
            if not paths:
                return False
            event.acceptProposedAction()
            if event.type() == T.Drop:
                if len(paths) == 1:
                    self.open(paths[0])
                else:
                    self.compare(paths)
            return True
        return False

    def shutdown(self) -> None:
        """Stop the replay's timers, close its file and the compare windows."""
        if self.replay is not None:
            self.replay.close()
            self.replay = None
        self.timeline.stop()
        for w in list(self.compare_windows):
            w.close()
        self.compare_windows.clear()
        try:
            self.win.removeEventFilter(self)
        except RuntimeError:
            pass


def _line(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    return " ".join(text.split())
