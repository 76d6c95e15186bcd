"""Exact re-runs (verify) and forks."""
import sqlite3

import numpy as np
import pytest

from workbench.run import Run
from workbench.session import SessionError, fork, open_session, verify
from workbench.session import format as F

from session_helpers import TINY, W1


def test_verify_passes_with_changes_mid_run(w1_session):
    path, run = w1_session
    res = verify(path)
    assert res.ok, res.message
    with open_session(path) as s:
        assert res.checked == len(s.snapshots()) >= 8     # every K steps and at each event
        assert {i.reason for i in s.snapshots()} >= {"start", "interval", "event", "close"}
    assert res.message.startswith("pass")


def _copy(src, dst):
    dst.write_bytes(src.read_bytes())
    return dst


def _alter_snapshot(path, step, name, fn):
    """Replace one array of the snapshot at ``step`` by fn(array), with a valid record."""
    con = sqlite3.connect(path)
    rid, d, blob = con.execute("SELECT id, arrays, data FROM snapshots WHERE step = ? "
                               "ORDER BY id LIMIT 1", (step,)).fetchone()
    arrays = F.decode_arrays(d, blob, "x")
    arrays[name] = fn(arrays[name])
    d2, blob2 = F.encode_arrays(arrays)
    con.execute("UPDATE snapshots SET arrays = ?, data = ? WHERE id = ?", (d2, blob2, rid))
    con.commit()
    con.close()


def test_verify_names_the_step_of_an_altered_snapshot(w1_session, tmp_path):
    path, _ = w1_session
    with open_session(path) as s:
        steps = sorted({i.step for i in s.snapshots() if i.step > 2100})
    bad = steps[1]
    p = _copy(path, tmp_path / "altered.wbsession")

    def nudge(theta):
        theta = theta.copy()
        theta[7] = np.nextafter(theta[7], np.inf)    # one ulp: still caught
        return theta
    _alter_snapshot(p, bad, "theta", nudge)
    res = verify(p)
    assert not res.ok and res.step == bad and res.array == "theta" and res.index == 7
    assert f"FAIL at step {bad}: theta differs" in res.message


def test_verify_reports_a_flipped_byte_in_a_snapshot_blob(w1_session, tmp_path,
                                                         flip_snapshot):
    path, _ = w1_session
    p = _copy(path, tmp_path / "flipped.wbsession")
    step = flip_snapshot(p)
    res = verify(p)
    assert not res.ok and res.step == step and res.array == "theta"
    assert "checksum" in res.message


def test_verify_names_what_is_wrong_with_an_unreadable_snapshot(w1_session, tmp_path):
    # an arrays directory that is not JSON was reported as "its checksum fails"
    path, _ = w1_session
    p = _copy(path, tmp_path / "nodir.wbsession")
    con = sqlite3.connect(p)
    rid, step = con.execute("SELECT id, step FROM snapshots WHERE step > 0 ORDER BY id "
                            "LIMIT 1").fetchone()
    con.execute("UPDATE snapshots SET arrays = '{oops' WHERE id = ?", (rid,))
    con.commit()
    con.close()
    res = verify(p)
    assert not res.ok and res.step == step
    assert "is damaged" in res.message and "checksum" not in res.message


def test_verify_detects_a_changed_event(w1_session, tmp_path):
    path, _ = w1_session
    p = _copy(path, tmp_path / "event.wbsession")
    con = sqlite3.connect(p)
    con.execute("UPDATE events SET payload = '{\"lr\": 0.1000001}' WHERE kind = 'hparams' "
                "AND step = 2100")
    con.commit()
    con.close()
    res = verify(p)
    assert not res.ok and res.step == 2100 and res.array == "hp"


def test_fork_continues_the_parent_exactly(w1_session, tmp_path):
    path, parent = w1_session
    S = 2500
    child = fork(path, S, session=tmp_path / "same.wbsession")
    child.run_steps(1000)
    # the parent's steps S+1 .. S+1000 (its next event is at 3600): identical
    h = parent.history.steps()
    c = child.history.steps()
    assert c["step"][0] == S + 1
    for k in ("loss", "gnorm", "uratio"):
        assert np.array_equal(c[k], h[k][S:S + 1000]), k
    with open_session(path) as s:
        assert s.state_at(S + 1000)["theta"].tobytes() == child.network.theta.tobytes()
    child.finish()
    with open_session(tmp_path / "same.wbsession") as cs:
        assert cs.origin == "fork" and cs.fork_step == S
        assert cs.parent == str(path.resolve())
        assert [e["kind"] for e in cs.events()] == ["fork"]
        assert cs.first_step == S and cs.metrics()["step"][0] == S + 1
    assert verify(tmp_path / "same.wbsession").ok


def test_fork_with_changes_starts_from_the_parent_state(w1_session, tmp_path):
    path, parent = w1_session
    S = 1234
    with open_session(path) as s:
        start = s.state_at(S)
    child = fork(path, S, {"optimizer.lr": 0.3}, session=tmp_path / "lr.wbsession")
    assert child.step == S and child.network.theta.tobytes() == start["theta"].tobytes()
    child.run_steps(1)
    # the first step is the parent's state stepped with the new learning rate
    ref = Run(W1, diagnostics=False)
    ref.set_state(start)
    ref.set_hyperparameters(lr=0.3)
    ref.run_steps(1)
    assert child.network.theta.tobytes() == ref.network.theta.tobytes()
    assert child.history.steps()["lr"][0] == 0.3
    child.run_steps(300)
    child.finish()
    with open_session(tmp_path / "lr.wbsession") as cs:
        kinds = [(e["step"], e["kind"]) for e in cs.events()]
        assert kinds == [(S, "fork"), (S, "hparams")]
    assert verify(tmp_path / "lr.wbsession").ok


def test_fork_refuses_bad_requests(w1_session, tmp_path):
    path, _ = w1_session
    with pytest.raises(SessionError, match="cannot change in a fork"):
        fork(path, 10, {"model.hidden": [[3, "relu"]]}, session=False)
    with pytest.raises(SessionError, match="outside the recorded steps"):
        fork(path, 10 ** 7, session=False)
    with pytest.raises(SessionError, match="fork: "):
        fork(path, 10, {"lr": -1}, session=False)


def test_default_fork_path_is_next_to_the_parent(tmp_path):
    run = Run(TINY, session=tmp_path / "p.wbsession")
    run.run_steps(40)
    run.finish()
    c = fork(tmp_path / "p.wbsession", 20)
    c.finish()
    assert (tmp_path / "p.fork20.wbsession").exists()
    c2 = fork(tmp_path / "p.wbsession", 20)
    c2.finish()
    assert (tmp_path / "p.fork20-2.wbsession").exists()


def test_hand_placed_points_are_stored_and_replayed(tmp_path):
    from workbench.data import load_dataset
    from workbench.config import load_config
    cfg = load_config(TINY)
    base = load_dataset(cfg.data, cfg.seed)
    rng = np.random.default_rng(1)
    pts = rng.uniform(-5, 5, (40, 2))
    ds = base.with_points(pts, (pts[:, 0] > 0).astype(np.int64))
    p = tmp_path / "points.wbsession"
    run = Run(cfg, dataset=ds, session=p)
    run.run_steps(300)
    run.finish()
    with open_session(p) as s:
        assert np.array_equal(s.dataset().raw_train, pts)
        assert s.state_at(300)["theta"].tobytes() == run.network.theta.tobytes()
    assert verify(p).ok
    # a run of the plain config stores no data set (the config rebuilds it)
    q = tmp_path / "plain.wbsession"
    Run(cfg, session=q).finish()
    con = sqlite3.connect(q)
    assert con.execute("SELECT count(*) FROM blobs").fetchone()[0] == 0
    con.close()


def test_rewound_run_replays_and_verifies(tmp_path):
    """A run that blew up and was rewound to its last finite step: metrics, states and
    verify follow what the user saw (the re-run redoes the rewind)."""
    p = tmp_path / "rewind.wbsession"
    cfg = {"seed": 1, "data": {"name": "reg_line", "n_samples": 200},
           "model": {"hidden": [[8, "relu"]], "output": "linear", "loss": "mse"},
           "optimizer": {"name": "sgd", "lr": 0.001, "momentum": 0.9},
           "training": {"batch_size": 8}}
    run = Run(cfg, session=p)
    run.run_steps(300)
    run.set_hyperparameters(lr=5.0)
    run.run_steps(3000)
    assert run.nonfinite is not None
    bad = run.nonfinite.step
    to = run.rewind_to_finite()
    assert to == bad - 1 and run.nonfinite is None
    run.finish()
    with open_session(p) as s:
        m, h = s.metrics(), run.history.steps()
        assert np.array_equal(m["loss"], h["loss"])
        assert s.nonfinite_step() is None     # the non-finite steps were rewound away
        assert s.state_at(run.step)["theta"].tobytes() == run.network.theta.tobytes()
        assert s.last_step == to
        assert [e["kind"] for e in s.events()] == ["hparams", "rewind"]
        # the snapshot of the blown-up state is superseded by the rewind
        assert all(i.step <= to for i in s.snapshots())
    res = verify(p)
    assert res.ok, res.message


def test_threaded_runner_with_live_changes_verifies(tmp_path):
    """The window's way: a Runner thread with chunks sized by time, changes and pause
    events from another thread; the recording still re-runs bit for bit."""
    from workbench.run import Runner
    p = tmp_path / "runner.wbsession"
    run = Run(TINY, session=p)
    runner = Runner(run)
    try:
        runner.step(700)
        assert runner.wait_idle(30)
        run.record_event("pause", {})
        run.set_hyperparameters(lr=0.2, momentum=0.5)
        runner.step(900)
        assert runner.wait_idle(30)
        run.record_event("resume", {})
    finally:
        assert runner.stop(5)
    run.finish()
    with open_session(p) as s:
        kinds = [e["kind"] for e in s.events()]
        assert kinds == ["pause", "hparams", "resume"] and s.last_step == 1600
    res = verify(p)
    assert res.ok, res.message
