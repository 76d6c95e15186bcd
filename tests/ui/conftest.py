"""Fixtures for the window tests: compiled kernels, a fresh window, and a guard that
fails any test leaving threads or running Qt timers behind (graphics items left outside
any scene: ``tests/conftest.py``)."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

pytest.importorskip("pytestqt")


@pytest.fixture(scope="session", autouse=True)
def _compiled():
    # compile (or load from cache) on the main thread once, so that runners never sit in
    # a long compile that a test would have to wait for
    from workbench.core import warmup
    warmup(np.float64)


def _active_timers(app) -> list[str]:
    from PySide6 import QtCore
    from shiboken6 import isValid
    # Delete what is already scheduled for deletion first: walking a widget that Qt is
    # half-way through destroying crashed the process once.
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
    out = []
    for w in app.topLevelWidgets():
        if not isValid(w):
            continue
        for t in w.findChildren(QtCore.QTimer):
            if isValid(t) and t.isActive():
                out.append(f"{type(w).__name__}/{t.objectName() or type(t.parent()).__name__}")
    return out


@pytest.fixture(autouse=True)
def sessions_dir(tmp_path_factory, monkeypatch):
    """Windows record their runs here, never in the user's data directory."""
    d = tmp_path_factory.mktemp("sessions")
    monkeypatch.setenv("WORKBENCH_SESSIONS_DIR", str(d))
    return d


@pytest.fixture(autouse=True)
def no_leaks(request):
    """Fail a test that leaves a thread running or a QTimer active after it ends."""
    before = set(threading.enumerate())
    yield
    app = None
    if "qapp" in request.fixturenames or "qtbot" in request.fixturenames:
        from PySide6 import QtWidgets
        app = QtWidgets.QApplication.instance()
    end = time.monotonic() + 3.0
    while True:
        # the run layer's evaluation thread lives for the process, by design (one daemon
        # thread, idle on its queue); anything else a test starts must be gone
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive()
                 and t.name != "wb-eval"]
        if not extra or time.monotonic() > end:
            break
        time.sleep(0.01)
    assert not extra, f"threads left running: {[t.name for t in extra]}"
    if app is not None:
        timers = _active_timers(app)
        _dispose_top_levels(app)
        assert not timers, f"QTimers left running: {timers}"


def _dispose_top_levels(app) -> None:
    """Close every top-level widget a test left and schedule it for deletion, so the
    next test's event processing never paints a widget whose Python side is being
    collected (a full run once crashed inside pyqtgraph's ImageItem.paint at the start of
    a later test). The deletion, with a garbage collection between two passes, happens
    right after, in ``tests/conftest.py``'s ``no_orphan_graphics`` (one collection per
    test: each took about 0.1 s)."""
    from shiboken6 import isValid
    for w in app.topLevelWidgets():
        if isValid(w):
            w.close()
            w.deleteLater()


@pytest.fixture
def settings(tmp_path):
    from PySide6 import QtCore
    return QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)


class Dialogs:
    """Stands in for the window's message boxes: answers ``ask`` and records both."""

    def __init__(self, answer: bool = True):
        self.answer = answer
        self.asked: list[str] = []
        self.informed: list[tuple[str, str]] = []

    def ask(self, title: str, text: str) -> bool:
        self.asked.append(text)
        return self.answer

    def inform(self, title: str, text: str) -> None:
        self.informed.append((title, text))


@pytest.fixture
def make_window(qtbot, settings):
    """Build a shown window for a config; closes it and joins its thread afterwards."""
    from workbench.ui.main_window import MainWindow
    made = []

    def make(config=None, size=(1200, 800), **kw):
        win = MainWindow(config, settings=settings, restore_layout=False, theme="light", **kw)
        dialogs = Dialogs()
        win.ask = dialogs.ask
        win.inform = dialogs.inform
        win.dialogs = dialogs
        qtbot.addWidget(win)
        win.resize(*size)
        win.show()
        qtbot.waitUntil(lambda: win.controller.latest is not None
                        and win.controller.latest.status == "paused", timeout=30000)
        made.append(win)
        return win

    yield make
    for win in made:
        win.dialogs.answer = True
        assert win.shutdown(2.0)
        win.close()


@pytest.fixture
def waits(qtbot):
    """``waits.steps(win, n)`` and ``waits.paused(win)`` bound to this test's qtbot."""
    class W:
        @staticmethod
        def steps(win, step: int, timeout: int = 20000) -> None:
            wait_steps(qtbot, win, step, timeout)

        @staticmethod
        def paused(win, timeout: int = 20000):
            return wait_paused(qtbot, win, timeout)
    return W


def wait_steps(qtbot, win, step: int, timeout: int = 20000) -> None:
    """Wait until the window's controller has shown a snapshot at ``step`` or later."""
    c = win.controller
    qtbot.waitUntil(lambda: c.latest is not None and c.latest.step >= step, timeout=timeout)


def wait_paused(qtbot, win, timeout: int = 20000):
    c = win.controller
    qtbot.waitUntil(lambda: not c.playing and c.runner.latest().status in
                    ("paused", "finished", "nonfinite") and c.latest is not None
                    and c.latest.seq == c.runner.latest().seq, timeout=timeout)
    return c.latest
