"""Replay in the window: where the timeline sits and what the live controls show."""
from __future__ import annotations

import json

import pytest

pytest.importorskip("pytestqt")

from session_helpers import TINY  # noqa: E402


def _record(path):
    """TINY: 300 steps at lr 0.05, then lr 0.2 and batch 16 for 200 more."""
    from workbench.run import Run
    run = Run(json.loads(json.dumps(TINY)), session=path)
    run.run_steps(300)
    run.set_hyperparameters(lr=0.2, batch_size=16)
    run.run_steps(200)
    run.finish()


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    p = tmp_path_factory.mktemp("replay") / "run.wbsession"
    _record(p)
    return p


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    from PySide6 import QtCore

    from workbench.ui.main_window import MainWindow
    monkeypatch.setenv("WORKBENCH_SESSIONS_DIR", str(tmp_path / "sessions"))
    settings = QtCore.QSettings(str(tmp_path / "settings.ini"),
                                QtCore.QSettings.Format.IniFormat)
    win = MainWindow(TINY, settings=settings, restore_layout=False, theme="light")
    informed = []
    win.ask = lambda title, text: True
    win.inform = lambda title, text: informed.append(text)
    win.informed = informed
    qtbot.addWidget(win)
    win.resize(1300, 850)
    win.show()
    qtbot.waitUntil(lambda: win.controller.latest is not None
                    and win.controller.latest.status == "paused", timeout=30000)
    yield win
    assert win.shutdown(2.0)
    win.close()


def _settle(qtbot):
    from PySide6 import QtWidgets
    for _ in range(3):
        QtWidgets.QApplication.processEvents()
        qtbot.wait(20)


def test_the_timeline_sits_above_the_bottom_tabs(window, recorded, qtbot):
    win = window
    bar = win.replay_bar
    assert not bar.isVisible()
    assert win.open_replay(recorded), win.informed
    _settle(qtbot)
    tabs = win._first_docks["bottom"]             # the tab group of the time plots
    plots = win._first_docks["central"]
    assert bar.isVisible() and tabs.isVisible()
    tl = win.sessions.timeline
    assert tl.isVisible() and tl.height() >= tl.sizeHint().height() - 2
    # below the plots, above the tabs, over the tabs' width, and not much taller than
    # the timeline itself
    assert bar.y() + bar.height() <= tabs.y(), (bar.geometry(), tabs.geometry())
    assert bar.y() >= plots.y() + plots.height()
    assert bar.x() <= tabs.x() + 2 and bar.x() + bar.width() >= tabs.x() + tabs.width() - 2
    assert bar.height() <= tl.sizeHint().height() + 12
    # still there after View > Reset layout and a second session
    win.reset_layout()
    assert win.open_replay(recorded)
    _settle(qtbot)
    assert bar.y() + bar.height() <= win._first_docks["bottom"].y()
    win.new_run()
    _settle(qtbot)
    assert not bar.isVisible()


def test_live_controls_show_the_values_in_force_at_the_step(window, recorded, qtbot):
    from workbench.ui.live_controls import lr_to_tick
    win = window
    live = win.live_controls
    assert win.open_replay(recorded), win.informed
    for step, lr, batch in ((150, 0.05, 8), (400, 0.2, 16), (300, 0.2, 16),
                            (299, 0.05, 8), (500, 0.2, 16)):
        snap = win.sessions.seek(step)
        assert snap.step == step
        assert float(live.lr_edit.text()) == lr, step
        assert live.lr_slider.value() == lr_to_tick(lr)
        assert live.batch.value() == batch
        # read only in replay; the form keeps the run's starting settings
        assert live.lr_edit.isReadOnly() and not live.lr_slider.isEnabled()
        assert not live.batch.isEnabled() and live.momentum.isReadOnly()
        assert win.controller.config["optimizer.lr"] == 0.05
    # playback moves them too
    tl = win.sessions.timeline
    tl.speed_box.setCurrentIndex(tl.speed_box.count() - 1)
    tl.set_step(200)
    _settle(qtbot)
    assert float(live.lr_edit.text()) == 0.05
    tl.play()
    qtbot.waitUntil(lambda: not tl.playing and win.sessions.replay.latest.step == 500,
                    timeout=20000)
    _settle(qtbot)
    assert float(live.lr_edit.text()) == 0.2
    # typing in replay changes nothing
    live.lr_edit.setText("0.7")
    live.lr_edit.editingFinished.emit()
    assert win.controller.replay is not None and not win.informed
    # a new run: editable again, showing its own settings
    win.new_run()
    _settle(qtbot)
    assert not live.lr_edit.isReadOnly() and live.lr_slider.isEnabled()
    assert live.batch.isEnabled()
    assert float(live.lr_edit.text()) == win.controller.config["optimizer.lr"]


def test_progress_follows_the_epochs_after_a_batch_size_change(recorded):
    from workbench.session import open_session
    with open_session(recorded) as s:
        for step in (100, 300, 450, 500):
            snap = s.snapshot_at(step)
            # the bar reads "% of epochs": 16.7 of 20 epochs done is 83 % whatever the
            # batch size was (step 300 / 330 steps would say 91 %), at most 100 %
            want = min(1.0, snap.epoch_progress / snap.epochs)
            assert abs(snap.step / snap.total_steps - want) < 0.005, step
