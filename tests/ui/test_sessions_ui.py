"""Sessions in the window (pytest-qt): every run recorded, replay with the timeline,
fork ("continue from here"), compare, weights and reports, bad files and failed
recordings."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from workbench.run import Run
from workbench.session import open_session, verify
from workbench.ui.panels.decision import plane_grid

TINY = {"seed": 3, "data": {"name": "xor", "n_samples": 200},
        "model": {"hidden": [[4, "tanh"]], "output": "sigmoid", "loss": "bce"},
        "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9},
        "training": {"batch_size": 8, "epochs": 20}}


def panel(win, name):
    return next(p for p in win.panels if p.object_name == name)


def train(win, waits, n):
    """Train ``n`` steps in the window and wait until they are shown, paused."""
    c = win.controller
    target = c.run.step + n
    assert c.step(n)
    waits.steps(win, target)
    return waits.paused(win)


def record(path, steps=(300, 200), lr=0.05, change=0.2):
    """A headless run of TINY: ``steps[0]`` steps, an lr change, ``steps[1]`` more."""
    cfg = json.loads(json.dumps(TINY))
    cfg["optimizer"]["lr"] = lr
    run = Run(cfg, session=path)
    run.run_steps(steps[0])
    if len(steps) > 1:
        run.set_hyperparameters(lr=change)
        run.run_steps(steps[1])
    run.finish()
    return run


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    p = tmp_path_factory.mktemp("rec") / "run.wbsession"
    run = record(p)
    return p, run.history.steps()["loss"].copy()


# --- recording -----------------------------------------------------------------------------
def test_a_replaced_run_closes_its_file_off_the_gui_thread(make_window, waits, monkeypatch):
    # the final hooks (a permutation importance; on a cold cache the probe kernels'
    # compile) ran on the GUI thread at every reset: 11 s frozen at a change of precision
    import threading
    import time

    from workbench.run import Run
    win = make_window(TINY)
    c = win.controller
    train(win, waits, 30)
    first = win.sessions.session_file
    seen = []
    real = Run.finish

    def slow_finish(self, *a, **k):
        seen.append(threading.current_thread().name)
        time.sleep(0.6)
        return real(self, *a, **k)
    monkeypatch.setattr(Run, "finish", slow_finish)
    tic = time.perf_counter()
    assert c.reset()
    assert time.perf_counter() - tic < 0.5
    assert c.wait_finished(10.0) and seen == ["workbench-finish"]
    with open_session(first) as r:
        assert r.closed and r.last_step == 30
    seen.clear()
    assert win.shutdown(2.0)                   # closing the window waits for it
    assert seen == [threading.main_thread().name]


def test_the_window_records_a_session_that_verifies(make_window, waits, sessions_dir):
    win = make_window(TINY)
    c = win.controller
    path = win.sessions.session_file
    assert path is not None and path.parent == sessions_dir and path.exists()
    train(win, waits, 60)
    assert c.set_live(lr=0.1)
    train(win, waits, 40)
    assert c.latest.step == 100
    first = path
    assert c.reset()                           # a reset starts a new session ...
    second = win.sessions.session_file
    assert second != first and second.exists()
    assert c.wait_finished(10.0)               # (closed on a thread of its own)
    with open_session(first) as r:             # ... and completes the old one
        assert r.closed and r.last_step == 100
        assert [e["kind"] for e in r.events()][:1] == ["hparams"]
    res = verify(first)
    assert res.ok, res.message
    win.sessions.fill_recent_menu()
    names = [a.text() for a in win.sessions.recent_menu.actions()]
    assert first.name in names and second.name in names
    # closing finishes the run; one that trained no step leaves no file behind (every
    # window start and every edit had left an empty session in the folder and the list)
    assert win.shutdown(2.0)
    assert not second.exists() and first.exists()


def test_a_failed_recording_pauses_and_says_why(make_window, waits, qtbot):
    win = make_window(TINY)
    c = win.controller
    rec = c.run.recorder
    assert c.start()
    qtbot.waitUntil(lambda: c.latest.step > 0, timeout=10000)
    rec._fail(OSError("database or disk is full"))   # what the writer thread does
    qtbot.waitUntil(lambda: not c.playing, timeout=5000)
    msg = win.statusBar().currentMessage()
    assert "disk is full" in msg and "\n" not in msg


def test_an_unwritable_sessions_folder_still_trains(make_window, waits, tmp_path,
                                                    monkeypatch):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    monkeypatch.setenv("WORKBENCH_SESSIONS_DIR", str(blocker))
    win = make_window(TINY)
    assert win.sessions.session_file is None
    assert "not_a_folder" in win.statusBar().currentMessage()
    assert train(win, waits, 5).step == 5


# --- replay --------------------------------------------------------------------------------
def test_scrubbing_moves_every_panel_to_the_recorded_state(make_window, recorded, qtbot):
    path, losses = recorded
    win = make_window(TINY)
    c = win.controller
    assert win.open_replay(path)
    assert c.runner is None and c.replay is not None and c.ctx.replay
    assert win.replay_bar.isVisible() and not win.act_start.isEnabled()
    tl = win.sessions.timeline
    assert (tl.first, tl.last) == (0, 500)
    with open_session(path) as reader:
        assert len(tl.marks.marks) == len(reader.events()) + len(reader.findings())
        # the lr change's tick reads like the plots' markers, not a raw dict
        assert any(tip == "step 300: lr 0.05 -> 0.2" for _s, _c, tip in tl.marks.marks), \
            [m[2] for m in tl.marks.marks]
        net = reader.new_run().network
        ds = reader.dataset()
        for step in (150, 300, 301, 444):
            snap = win.sessions.seek(step)
            c.refresh()
            assert snap.step == step and c.latest.status == "replay"
            assert tl.label.text().startswith(f"step {step:,}")
            # time plots: the recorded curves up to the step, the cursor at it
            loss = panel(win, "loss")
            x, y = loss.curve_data("train_step")
            np.testing.assert_array_equal(y, reader.metrics()["loss"][:step])
            np.testing.assert_array_equal(y, losses[:step])
            assert loss._markers[0].cursor_step == step
            ev = reader.evaluations()
            k = int(np.searchsorted(ev["step"], step, side="right"))
            ax, ay = panel(win, "accuracy").curve_data("test_eval")
            np.testing.assert_array_equal(ax, ev["step"][:k])
            assert (300 in loss.marker_steps()) == (step >= 300)
            # decision regions: a prediction with the recorded parameters at the step
            state = reader.state_at(step)
            assert snap.theta.tobytes() == state["theta"].tobytes()
            dec = panel(win, "decision")
            img = dec.mode.image.image
            net.theta[:] = state["theta"]
            p = net.predict(ds.transform(plane_grid(dec.mode.extent, img.shape[0])))[:, 0]
            np.testing.assert_allclose(img.ravel(), p, atol=1e-6)
            # the others were handed the same snapshot
            assert panel(win, "network")._last_seq == snap.seq
            # a panel in a background tab keeps the snapshot and shows it when raised
            weights = panel(win, "weights")
            dock = weights
            while not isinstance(dock, QtWidgets.QDockWidget):
                dock = dock.parentWidget()
            dock.raise_()
            qtbot.waitUntil(lambda w=weights, s=step: w._snap is not None and w._snap.step == s,
                            timeout=3000)
            assert snap.hp["lr"] == (0.2 if step >= 300 else 0.05)
    assert win.status_label.text() == "replay" and win.step_label.text() == "step 444"
    assert win.rate_label.text() == "\u2014 steps/s"          # nothing trains in a replay
    assert not c.start()
    tl.speed_box.setCurrentIndex(tl.speed_box.count() - 1)
    tl.set_step(400)
    tl.play()
    qtbot.waitUntil(lambda: not tl.playing and c.latest.step == 500, timeout=15000)
    win.new_run()                              # a new run ends the replay and trains again
    assert c.replay is None and c.runner is not None and win.sessions.replay is None
    assert not win.replay_bar.isVisible() and win.act_step.isEnabled()


def test_bad_session_files_give_one_line_and_change_nothing(make_window, tmp_path,
                                                            recorded):
    win = make_window(TINY)
    c = win.controller
    run = c.run
    good = recorded[0].read_bytes()
    cases = {"text.wbsession": b"not a session\n", "empty.wbsession": b"",
             "truncated.wbsession": good[:len(good) // 3]}
    for name, data in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
        assert not win.open_replay(p)
        title, text = win.dialogs.informed[-1]
        assert "\n" not in text and name in text
        assert c.run is run and c.replay is None and c.runner is not None
    assert not win.open_replay(tmp_path / "missing.wbsession")
    assert c.step(3)


def test_a_damaged_snapshot_leaves_the_scrubber_where_the_panels_are(make_window, recorded,
                                                                     tmp_path, flip_snapshot):
    # the scrubber stayed at the failed step ("500 / 500") over panels at step 250
    import shutil
    p = tmp_path / "damaged.wbsession"
    shutil.copy(recorded[0], p)
    last = flip_snapshot(p, order="step DESC")
    win = make_window(TINY)
    assert win.open_replay(p)
    assert win.sessions.seek(250).step == 250
    assert win.sessions.seek(last) is None
    assert win.dialogs.informed                     # one clear message
    assert win.sessions.timeline.step == win.controller.latest.step == 250


def test_drag_and_drop_opens_a_session(make_window, recorded):
    win = make_window(TINY)
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(recorded[0]))])
    pos = QtCore.QPointF(50, 50)
    A = QtCore.Qt.DropAction
    enter = QtGui.QDragEnterEvent(pos.toPoint(), A.CopyAction, mime,
                                  QtCore.Qt.MouseButton.LeftButton,
                                  QtCore.Qt.KeyboardModifier.NoModifier)
    QtCore.QCoreApplication.sendEvent(win, enter)
    assert enter.isAccepted()
    drop = QtGui.QDropEvent(pos, A.CopyAction, mime, QtCore.Qt.MouseButton.LeftButton,
                            QtCore.Qt.KeyboardModifier.NoModifier)
    QtCore.QCoreApplication.sendEvent(win, drop)
    assert win.controller.replay is not None
    assert win.sessions.replay.reader.path == recorded[0]


def test_reset_undo_and_form_edits_do_not_silently_end_a_replay(make_window, recorded):
    # R and Ctrl+Z rebuilt a run from the form and threw the replay away without a word
    win = make_window(TINY)
    c = win.controller
    assert c.change_config({"optimizer.lr": 0.07}, "lr 0.07")
    assert win.act_undo.isEnabled()
    assert win.open_replay(recorded[0])
    assert not win.act_reset.isEnabled() and not win.act_undo.isEnabled()
    win.act_reset.trigger()
    win.act_undo.trigger()
    assert win.sessions.replay is not None and c.replay is not None
    # an edit of the form asks first; "no" keeps the replay and drops the edit
    win.dialogs.answer = False
    lr = win.config_panel.editors["optimizer.lr"]
    lr.setText("0.5")
    lr.editingFinished.emit()
    assert win.dialogs.asked and win.sessions.replay is not None
    assert lr.text() != "0.5"
    # "yes" ends it and trains anew; Reset and Undo come back
    win.dialogs.answer = True
    lr.setText("0.5")
    lr.editingFinished.emit()
    assert win.sessions.replay is None and c.replay is None
    assert c.config["optimizer.lr"] == 0.5
    assert win.act_reset.isEnabled() and win.act_undo.isEnabled()


def test_a_session_still_being_written_is_followed(make_window, tmp_path, qtbot,
                                                   monkeypatch):
    from workbench.session import recorder as R
    monkeypatch.setattr(R, "COMMIT_SECONDS", 0.01)
    p = tmp_path / "live.wbsession"
    run = Run(TINY, session=p)
    try:
        run.run_steps(100)
        qtbot.waitUntil(lambda: open_session(p).last_step == 100, timeout=5000)
        win = make_window(TINY)
        assert win.open_replay(p)
        ctl = win.sessions.replay
        ctl._follow.setInterval(20)
        tl = win.sessions.timeline
        tl.set_step(tl.last)
        assert ctl.following and tl.last == 100
        run.run_steps(200)
        qtbot.waitUntil(lambda: tl.last == 300 and tl.step == 300, timeout=5000)
        qtbot.waitUntil(lambda: win.controller.latest.step == 300, timeout=5000)
        lesson = win.config_panel.lesson
        assert "still being written" in lesson.text()
        # a file nobody writes any more (its run killed: it never closes) is said so;
        # the replay had said "still being written" for ever
        monkeypatch.setattr(ctl, "QUIET_S", 0.0)
        qtbot.waitUntil(lambda: "may have stopped" in lesson.text(), timeout=5000)
        monkeypatch.setattr(ctl, "QUIET_S", 1e9)
        run.run_steps(10)
        qtbot.waitUntil(lambda: "still being written" in lesson.text(), timeout=5000)
    finally:
        run.finish()
    qtbot.waitUntil(lambda: not ctl.following, timeout=5000)


# --- fork ----------------------------------------------------------------------------------
def test_continue_from_here_forks_exactly(make_window, recorded, sessions_dir, waits):
    path, losses = recorded
    win = make_window(TINY)
    c = win.controller
    assert win.open_replay(path)
    win.sessions.seek(200)
    asked = []
    win.sessions.ask_fork_changes = lambda hp, step: asked.append((hp, step)) or {}
    win.sessions.timeline.fork_button.click()
    assert asked and asked[0][1] == 200 and asked[0][0]["lr"] == 0.05
    child = c.run
    assert c.replay is None and win.sessions.replay is None and c.runner is not None
    with open_session(path) as reader:
        parent_theta = reader.state_at(200)["theta"]
        next_theta = reader.state_at(201)["theta"]
    assert child.step == 200 and child.network.theta.tobytes() == parent_theta.tobytes()
    train(win, waits, 1)
    # the child's first step is the parent's step 201, bit for bit
    assert child.network.theta.tobytes() == next_theta.tobytes()
    assert float(c.latest.steps["loss"][-1]) == float(losses[200])
    # the parent's loss is overlaid (up to the fork step) behind the child's
    (label, ox, oy), = panel(win, "loss").overlays()
    assert "parent" in label and ox[-1] == 200 and ox.shape == (200,)
    child_file = win.sessions.session_file
    assert child_file.parent == sessions_dir
    assert win.shutdown(2.0)
    with open_session(child_file) as r:
        assert r.parent == str(path.resolve()) and r.fork_step == 200
        assert r.origin == "fork" and r.closed and r.last_step == 201


def test_fork_with_changed_settings(make_window, recorded, waits):
    path, _ = recorded
    win = make_window(TINY)
    c = win.controller
    assert win.open_replay(path)
    run = win.sessions.continue_from(350, {"lr": 0.01, "batch_size": 16})
    assert run is c.run and c.config["optimizer.lr"] == 0.01
    assert c.config["training.batch_size"] == 16
    train(win, waits, 2)
    assert c.run.hp["lr"] == 0.01 and c.run.hp["batch_size"] == 16
    kinds = [e["kind"] for e in c.latest.events]
    assert "fork" in kinds and "hparams" in kinds
    # the marker starts from the rate in force at the fork (0.2 since step 300), not
    # from the configuration's 0.05
    c.refresh()
    assert any(t.startswith("lr 0.2 -> 0.01") for t in panel(win, "loss").marker_labels())
    # a new run drops the parent's overlay
    win.new_run()
    assert panel(win, "loss").overlays() == []


def test_fork_dialog_prefills_the_live_hyperparameters(qtbot):
    from workbench.ui.sessions_ui import ForkDialog
    hp = {"lr": 0.2, "momentum": 0.9, "nesterov": False, "decay": 0.0, "l1": 0.0,
          "l2": 0.001, "batch_size": 8}
    dlg = ForkDialog(hp, 300)
    qtbot.addWidget(dlg)
    assert dlg.fields["lr"].text() == "0.2" and dlg.fields["batch_size"].value() == 8
    assert dlg.changes() == {}
    dlg.fields["lr"].setText("0.02")
    dlg.fields["nesterov"].setChecked(True)
    assert dlg.changes() == {"lr": 0.02, "nesterov": True}
    dlg.fields["l2"].setText("abc")
    dlg._on_accept()
    assert "l2" in dlg.error.text() and dlg.result() == 0


# --- compare -------------------------------------------------------------------------------
def test_compare_overlays_three_learning_rates(make_window, tmp_path):
    paths = []
    for lr in (1.0, 0.1, 0.01):
        p = tmp_path / f"lr{lr:g}.wbsession"
        record(p, steps=(200,), lr=lr)
        paths.append(p)
    win = make_window(TINY)
    w = win.sessions.compare(paths)
    assert w is not None and w in win.sessions.compare_windows
    view = w.view
    assert view.result.columns == ["optimizer.lr"]
    assert sorted(view.curves) == sorted(p.stem for p in paths)
    for p in paths:
        with open_session(p) as r:
            ev = r.evaluations()
            x, y = view.curves[p.stem].getOriginalDataset()
            ok = np.isfinite(ev["train_loss"]) & (ev["train_loss"] > 0)
            np.testing.assert_array_equal(x, ev["step"][ok])
            np.testing.assert_allclose(y, ev["train_loss"][ok])
    assert len(set(view.colors().values())) == 3
    view.metric_box.setCurrentIndex(2)         # every step's loss
    x, y = view.curves["lr0.1"].getOriginalDataset()
    assert x.shape == (200,)
    view.metric_box.setCurrentIndex(4)         # test accuracy, on a linear axis
    assert not view.plot.getAxis("left").logMode
    for p in paths:
        with open_session(p) as r:
            ev = r.evaluations()
            x, y = view.curves[p.stem].getOriginalDataset()
            np.testing.assert_allclose(y, ev["test_acc"])
    assert all(r.wall_s > 0 for r in view.result.done)
    # a double-click on a row opens that session in replay
    view.run_activated.emit(str(paths[1]))
    assert win.sessions.replay.reader.path == paths[1]
    bad = tmp_path / "bad.wbsession"
    bad.write_text("nope")
    assert win.sessions.compare(paths + [bad]) is None
    assert "bad.wbsession" in win.dialogs.informed[-1][1]


# --- weights and reports -------------------------------------------------------------------
def test_weights_export_and_start_from_weights(make_window, waits, tmp_path):
    win = make_window(TINY)
    c = win.controller
    train(win, waits, 30)
    theta = c.run.network.theta.copy()
    for suffix in (".npz", ".json"):
        assert win.sessions.export_weights(tmp_path / f"w{suffix}")
    assert win.sessions.start_from_weights(tmp_path / "w.json")
    assert c.run.step == 0 and c.run.recorder is not None
    np.testing.assert_allclose(c.run.network.theta, theta)
    # another architecture: one line, the run stays
    run = c.run
    assert c.change_config({"model.hidden": [[7, "tanh"]]})
    run = c.run
    assert not win.sessions.start_from_weights(tmp_path / "w.npz")
    title, text = win.dialogs.informed[-1]
    assert "\n" not in text and "layer" in text and c.run is run
    assert not win.sessions.export_weights(tmp_path / "w.txt")


def test_html_report_of_the_replayed_and_the_live_session(make_window, waits, recorded,
                                                          tmp_path):
    win = make_window(TINY)
    train(win, waits, 20)
    assert win.sessions.export_report(tmp_path / "live.html")
    assert win.open_replay(recorded[0])
    assert win.sessions.export_report(tmp_path / "replay.html")
    text = (tmp_path / "replay.html").read_text()
    assert "<html" in text.lower() and "data:image/png;base64" in text


def test_a_fast_scrub_computes_only_the_newest_step(make_window, recorded, qtbot):
    win = make_window(TINY)
    assert win.open_replay(recorded[0])
    ctl, tl = win.sessions.replay, win.sessions.timeline
    seen = []
    ctl.snapshot_changed.connect(lambda s: seen.append(s.step))
    with qtbot.waitSignal(ctl.snapshot_changed, timeout=5000):
        for step in range(100, 200):
            tl.set_step(step)
    qtbot.wait(20)
    assert seen == [199] and win.controller.latest.step == 199
