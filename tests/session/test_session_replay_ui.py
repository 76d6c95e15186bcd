"""The replay timeline and controller (pytest-qt): scrubbing moves every panel to the
recorded state, playback reaches the end, a live session is followed."""
import numpy as np
import pytest

pytest.importorskip("pytestqt")

from workbench.run import Run  # noqa: E402
from workbench.session import open_session  # noqa: E402
from workbench.session import recorder as R  # noqa: E402

from session_helpers import TINY  # noqa: E402


@pytest.fixture
def recorded(tmp_path):
    p = tmp_path / "replay.wbsession"
    run = Run(TINY, session=p)
    run.run_steps(400)
    run.set_hyperparameters(lr=0.2)
    run.run_steps(600)
    run.finish()
    return p, run


def _panels(bus):
    from workbench.ui.panels.base import Panel

    class Recording(Panel):
        object_name = "recording"

        def __init__(self, bus):
            super().__init__(bus)
            self.snaps = []

        def update_snapshot(self, snap):
            self.snaps.append(snap)
    from workbench.ui.panels.curves import LossPanel
    return [Recording(bus), LossPanel(bus)]


def test_scrubbing_moves_every_panel(qtbot, recorded):
    from workbench.ui.bus import UiBus
    from workbench.ui.replay import ReplayController, TimelineWidget
    path, run = recorded
    bus = UiBus()
    rec, loss = _panels(bus)
    qtbot.addWidget(rec)
    qtbot.addWidget(loss)
    tl = TimelineWidget()
    qtbot.addWidget(tl)
    with open_session(path) as reader:
        ctl = ReplayController(reader, [rec, loss], tl, bus=bus)
        try:
            assert rec.ctx.replay and (tl.first, tl.last) == (0, 1000)
            assert len(tl.marks.marks) == len(reader.events()) + len(
                reader.findings_at(1000))
            cursor = []
            bus.cursor_moved.connect(cursor.append)
            for step in (250, 400, 401, 777, 0, 1000):
                with qtbot.waitSignal(ctl.snapshot_changed, timeout=5000):
                    tl.set_step(step)
                snap = rec.snaps[-1]
                assert snap.step == step and cursor[-1] == step
                assert snap.theta.tobytes() == reader.state_at(step)["theta"].tobytes()
                assert snap.steps["loss"].shape == (step,)
                assert snap.hp["lr"] == (0.2 if step >= 400 else TINY["optimizer"]["lr"])
                # the real loss panel shows exactly the recorded losses up to the step
                x, y = loss.curve_data("train_step")
                assert np.array_equal(y, run.history.steps()["loss"][:step])
            assert "step 1,000 / 1,000" in tl.label.text()
            # a fast scrub computes only the newest step
            n = len(rec.snaps)
            with qtbot.waitSignal(ctl.snapshot_changed, timeout=5000):
                for step in range(100, 200):
                    tl.set_step(step)
            qtbot.wait(20)
            assert len(rec.snaps) == n + 1 and rec.snaps[-1].step == 199
        finally:
            ctl.close()
    assert not tl.playing


def test_playback_reaches_the_end(qtbot, recorded):
    from workbench.ui.replay import ReplayController, TimelineWidget
    path, _ = recorded
    tl = TimelineWidget()
    qtbot.addWidget(tl)
    tl.speed_box.setCurrentIndex(tl.speed_box.count() - 1)     # fastest
    with open_session(path) as reader:
        ctl = ReplayController(reader, [], tl)
        seen = []
        ctl.snapshot_changed.connect(lambda s: seen.append(s.step))
        try:
            tl.set_step(0)
            tl.play()
            assert tl.playing
            qtbot.waitUntil(lambda: not tl.playing and seen and seen[-1] == 1000,
                            timeout=15000)
            assert seen == sorted(seen) and len(seen) > 3
        finally:
            ctl.close()


def test_follows_a_live_session(qtbot, tmp_path, monkeypatch):
    from workbench.ui.replay import ReplayController, TimelineWidget
    monkeypatch.setattr(R, "COMMIT_SECONDS", 0.01)
    p = tmp_path / "live.wbsession"
    run = Run(TINY, session=p)
    run.run_steps(100)
    tl = TimelineWidget()
    qtbot.addWidget(tl)
    with open_session(p) as reader:
        ctl = ReplayController(reader, [], tl, follow_ms=20)
        try:
            qtbot.waitUntil(lambda: tl.last == 100, timeout=5000)
            tl.set_step(100)
            run.run_steps(300)
            qtbot.waitUntil(lambda: tl.last == 400 and tl.step == 400, timeout=5000)
            run.finish()
            qtbot.waitUntil(lambda: not ctl._follow.isActive(), timeout=5000)
        finally:
            ctl.close()
            run.finish()


def test_fork_from_the_timeline(qtbot, recorded, tmp_path):
    from workbench.ui.replay import ReplayController, TimelineWidget
    path, parent = recorded
    tl = TimelineWidget()
    qtbot.addWidget(tl)
    with open_session(path) as reader:
        ctl = ReplayController(reader, [], tl)
        try:
            tl.set_step(500)
            with qtbot.waitSignal(tl.fork_requested) as sig:
                tl.fork_button.click()
            assert sig.args == [500]
            child = ctl.fork(500, {"lr": 0.05}, session=tmp_path / "child.wbsession")
            assert child.network.theta.tobytes() == reader.state_at(500)["theta"].tobytes()
            child.run_steps(10)
            child.finish()
        finally:
            ctl.close()
