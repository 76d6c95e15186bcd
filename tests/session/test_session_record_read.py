"""Recording and reading back: metrics, evaluations, events, findings, states, live files."""
import json
import os
import sqlite3

import numpy as np
import pytest

from workbench.run import Run
from workbench.session import REPLAY, SessionError, open_session
from workbench.session import format as F
from workbench.session import recorder as R

from session_helpers import TINY, W1


def test_metrics_and_evaluations_round_trip(w1_session):
    path, run = w1_session
    with open_session(path) as s:
        assert s.closed and s.origin == "scratch" and s.version == F.FORMAT_VERSION
        assert s.last_step == run.step == 5377
        m, h = s.metrics(), run.history.steps()
        for k in h:
            assert m[k].dtype == h[k].dtype and np.array_equal(m[k], h[k]), k
        e, he = s.evaluations(), run.history.evals()
        for k in he:
            assert np.array_equal(e[k], he[k], equal_nan=True), k
        assert s.config == run.config
        assert [(ev["step"], ev["kind"]) for ev in s.events()] == [
            (2100, "hparams"), (3600, "weight"), (3600, "hparams")]
        assert s.events()[0]["payload"] == {"lr": 0.1}
        assert s.findings() == [f.to_dict() for f in run.findings()]
        assert s.check() == []


def test_file_is_sqlite_wal_with_versions(w1_session):
    path, _ = w1_session
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("PRAGMA user_version").fetchone()[0] == F.FORMAT_VERSION
    assert con.execute("PRAGMA application_id").fetchone()[0] == F.APPLICATION_ID
    meta = {k: json.loads(v) for k, v in con.execute("SELECT key, value FROM meta")}
    assert meta["format"] == F.FORMAT_VERSION and meta["app_version"]
    # numeric records are JSON directories of numeric dtypes: never pickles
    for (d,) in con.execute("SELECT arrays FROM snapshots UNION ALL SELECT arrays FROM chunks"):
        assert all(e["dtype"] in F.DTYPES for e in json.loads(d))
    con.close()


def test_state_at_matches_a_live_rerun(w1_session):
    path, _ = w1_session
    ref = Run(W1, diagnostics=False)
    with open_session(path) as s:
        events = s.events()
        ref.schedule(events)
        for step in (0, 1, 999, 2100, 2101, 3600, 4321, 5377):
            ref.run_steps(step - ref.step)
            ref.apply_pending()
            got, want = s.state_at(step), ref.get_state()
            for k in want:
                assert got[k].tobytes() == want[k].tobytes(), (step, k)


def test_snapshot_at_truncates_to_the_step(w1_session):
    path, run = w1_session
    with open_session(path) as s:
        snap = s.snapshot_at(3000)
        assert snap.status == REPLAY and snap.step == 3000
        assert snap.steps["loss"].shape == (3000,) and snap.steps["step"][-1] == 3000
        assert np.all(snap.evals["step"] <= 3000) and snap.evals["step"].size >= 1
        assert [e["kind"] for e in snap.events] == ["hparams"]
        assert snap.hp["lr"] == 0.1 and snap.views == {}
        assert np.array_equal(snap.theta, s.state_at(3000)["theta"])
        last = s.snapshot_at(10 ** 9)           # clamped to the last step
        assert last.step == run.step and np.array_equal(last.theta, run.network.theta)
        assert s.snapshot_at(3600).hp["batch_size"] == 20   # events at the step applied


def test_findings_active_at_a_step():
    import tempfile
    d = tempfile.mkdtemp()
    p = f"{d}/f.wbsession"
    run = Run(TINY, session=p)
    run.run_steps(10)
    # two stored lists: a finding raised at 5 and resolved at 8, one raised at 9
    a = {"code": "plateau", "severity": "warning", "step": 5, "resolved_step": None,
         "message": "m", "evidence": {}, "remedy": "", "patch": None, "question": "",
         "source": "x"}
    run.recorder._put(("findings", 6, 0.0, [a]))
    run.recorder._put(("findings", 9, 0.0, [dict(a, resolved_step=8),
                                             dict(a, code="dead_units", step=9)]))
    run.recorder.close(None)
    with open_session(p) as s:
        assert [f["code"] for f in s.findings_at(6)] == ["plateau"]
        assert s.findings_at(8) == []
        assert [f["code"] for f in s.findings_at(9)] == ["dead_units"]


def test_follows_a_file_still_being_written(tmp_path, monkeypatch):
    monkeypatch.setattr(R, "COMMIT_SECONDS", 0.01)
    p = tmp_path / "live.wbsession"
    run = Run(TINY, session=p)
    with open_session(p) as s:               # exists and opens from the first record on
        assert not s.closed and s.last_step == 0
        run.run_steps(500)
        # the writer commits within COMMIT_SECONDS: wait for it through refresh()
        import time
        end = time.monotonic() + 10
        while s.last_step < 500 and time.monotonic() < end:
            s.refresh()
        assert s.last_step == 500 and s.metrics()["loss"].shape == (500,)
        run.finish()
        s.refresh()
        assert s.closed


def test_existing_foreign_file_is_not_overwritten(tmp_path):
    p = tmp_path / "notes.wbsession"
    p.write_text("my notes")
    with pytest.raises(SessionError, match="not a session file; not overwritten"):
        Run(TINY, session=p)
    assert p.read_text() == "my notes"


def test_existing_session_is_kept_unless_overwrite_is_asked(tmp_path):
    # a second run of the same name replaced the first one's recording, silently
    p = tmp_path / "r.wbsession"
    a = Run(TINY, session=p)
    a.run_steps(50)
    a.finish()
    with pytest.raises(SessionError, match="already holds a recorded session"):
        Run(TINY, session=p)
    with open_session(p) as s:
        assert s.last_step == 50
    b = Run(TINY, session=p, overwrite_session=True)
    b.run_steps(20)
    b.finish()
    with open_session(p) as s:
        assert s.last_step == 20


def test_a_session_being_recorded_is_not_overwritten(tmp_path):
    p = tmp_path / "live.wbsession"
    a = Run(TINY, session=p)
    a.run_steps(30)
    with pytest.raises(SessionError, match="being recorded by another run"):
        Run(TINY, session=p, overwrite_session=True)
    a.run_steps(10)
    a.finish()
    with open_session(p) as s:
        assert s.last_step == 40 and s.closed


def test_what_is_not_a_regular_file_is_never_replaced(tmp_path):
    # "--out /dev/null" as root replaced the device with a regular file
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.wbsession"
    folder.mkdir()
    link = tmp_path / "link.wbsession"
    link.symlink_to(tmp_path / "elsewhere")
    for p in (fifo, folder, link):
        for overwrite in (False, True):
            with pytest.raises(SessionError, match="not a regular file"):
                Run(TINY, session=p, overwrite_session=overwrite)
    assert not (tmp_path / "elsewhere").exists() and folder.is_dir()
    import stat
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    empty = tmp_path / "empty.wbsession"        # an empty file (mktemp) is taken
    empty.touch()
    Run(TINY, session=empty).finish()


def test_disk_full_keeps_what_was_recorded(tmp_path, monkeypatch):
    """A full disk mid-run: a clear message, training never blocks, nothing committed lost."""
    real = F.connect

    def small_disk(path, readonly=False):
        conn = real(path, readonly)
        if not readonly:
            conn.execute("PRAGMA max_page_count = 40")   # about 160 kB: the disk fills up
        return conn
    monkeypatch.setattr(F, "connect", small_disk)
    monkeypatch.setattr(R, "COMMIT_SECONDS", 0.0)
    p = tmp_path / "full.wbsession"
    run = Run(W1, session=p)
    messages = []
    run.recorder.add_error_listener(messages.append)
    for _ in range(200):
        run.run_steps(300)
        if run.recorder.error:
            break
    run.finish()
    assert run.recorder.error and "the disk is full" in run.recorder.error
    assert messages == [run.recorder.error] and "\n" not in messages[0]
    monkeypatch.setattr(F, "connect", real)
    with open_session(p) as s:
        assert s.check() == []
        n = s.metrics()["loss"].shape[0]
        assert 0 < n < run.step
        assert np.array_equal(s.metrics()["loss"], run.history.steps()["loss"][:n])


def test_uncreatable_file_refused_with_one_line(tmp_path):
    with pytest.raises(SessionError, match="cannot create session file") as e:
        Run(TINY, session=tmp_path / "no" / "such" / "folder" / "x.wbsession")
    assert "\n" not in str(e.value)


def test_read_only_folder_refused_with_one_line(tmp_path):
    import os
    d = tmp_path / "ro"
    d.mkdir()
    os.chmod(d, 0o500)
    try:
        if os.access(d, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        with pytest.raises(SessionError, match="cannot create session file"):
            Run(TINY, session=d / "x.wbsession")
    finally:
        os.chmod(d, 0o700)


def test_float32_run_and_nonfinite_recorded(tmp_path):
    cfg = dict(TINY, optimizer={"name": "sgd", "lr": 1e6}, training={"batch_size": 8,
                                                                       "precision": "float32"})
    p = tmp_path / "nan.wbsession"
    from workbench.core import warmup
    warmup(np.float32)
    run = Run(cfg, session=p)
    run.run_steps(2000)
    run.finish()
    with open_session(p) as s:
        assert s.last_step == run.step
        if run.nonfinite is not None:
            assert s.nonfinite_step() == run.nonfinite.step
            snap = s.snapshot_at(run.step)
            assert snap.nonfinite.step == run.nonfinite.step
        st = s.state_at(run.step)
        assert st["theta"].dtype == np.float32
        assert st["theta"].tobytes() == run.network.theta.tobytes()
