"""What exploratory QA of the command line found: files that were lost or damaged, and
bad input that ended in a traceback instead of one line and exit 2."""
from __future__ import annotations

import json

import pytest

from workbench.cli import main
from workbench.session import open_session

TINY = {"seed": 3, "data": {"name": "xor", "n_samples": 120},
        "model": {"hidden": [[4, "tanh"]], "output": "sigmoid", "loss": "bce"},
        "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9},
        "training": {"batch_size": 8, "epochs": 2}}


@pytest.fixture
def cfg(tmp_path):
    p = tmp_path / "tiny.json"
    p.write_text(json.dumps(TINY))
    return str(p)


@pytest.fixture
def session(tmp_path, cfg):
    p = tmp_path / "s.wbsession"
    assert main(["train", cfg, "--steps", "40", "--out", str(p)]) == 0
    return p


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("error: ") and "Traceback" not in "\n".join(err)
    return err[-1]


def last_step(p) -> int:
    with open_session(p) as r:
        return r.last_step


def test_train_out_keeps_a_recorded_session_unless_overwrite(session, cfg, capsys):
    capsys.readouterr()
    assert main(["train", cfg, "--steps", "10", "--out", str(session)]) == 2
    assert "already holds a recorded session" in one_line_error(capsys)
    assert last_step(session) == 40                      # the 40 steps are still there
    assert main(["train", cfg, "--steps", "10", "--out", str(session), "--overwrite"]) == 0
    assert last_step(session) == 10


def test_train_out_never_replaces_a_device_or_a_folder(tmp_path, cfg, capsys):
    import os
    import stat
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for target in (fifo, tmp_path):
        for extra in ([], ["--overwrite"]):
            assert main(["train", cfg, "--steps", "5", "--out", str(target), *extra]) == 2
            assert "not a regular file" in one_line_error(capsys)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_export_never_writes_over_the_session_or_another_one(session, tmp_path, cfg, capsys):
    other = tmp_path / "other.wbsession"
    assert main(["train", cfg, "--steps", "5", "--out", str(other)]) == 0
    capsys.readouterr()
    for flag, target in (("--html", session), ("--weights", session), ("--html", other)):
        assert main(["export", str(session), flag, str(target)]) == 2
        line = one_line_error(capsys)
        assert ("is the session being exported" if target == session
                else "holds a recorded session; not overwritten") in line
    assert last_step(session) == 40 and last_step(other) == 5


def test_export_step_outside_the_recording_is_refused(session, tmp_path, capsys):
    # it trained on to step 1,000,000 and wrote weights of a step never recorded
    capsys.readouterr()
    for step in ("1000000", "999999999999", "-3"):
        assert main(["export", str(session), "--weights", str(tmp_path / "w.npz"),
                     "--step", step]) == 2
        assert "outside the recorded steps 0..40" in one_line_error(capsys)
    assert not (tmp_path / "w.npz").exists()
    assert main(["export", str(session), "--weights", str(tmp_path / "w.npz"),
                 "--step", "20"]) == 0


def test_configs_with_a_bom_a_session_or_deep_nesting(tmp_path, session, capsys):
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps(TINY).encode())
    assert main(["check", str(bom)]) in (0, 1)          # read, whatever the checks say
    capsys.readouterr()
    assert main(["train", str(session)]) == 2
    assert "is a recorded session, not a configuration" in one_line_error(capsys)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    assert main(["check", str(deep)]) == 2
    assert "nested too deeply" in one_line_error(capsys)


def test_learning_curve_arguments(cfg, capsys):
    from workbench.experiments.curves import learning_curve_verdict
    import numpy as np
    v = learning_curve_verdict(np.array([40]), np.array([0.5]), np.array([0.6]))
    assert "one training-set size only" in v
    for bad in ("10,25,50,100", "0,0.5", "-0.1"):
        assert main(["learningcurve", cfg, "--fractions", bad, "--workers", "1"]) == 2
        assert "above 0 and at most 1" in one_line_error(capsys)


def test_sweep_out_naming_a_file(cfg, capsys):
    assert main(["sweep", cfg, "--out", cfg, "--workers", "1", "--grid",
                 "optimizer.lr=0.1"]) == 2
    assert "is a file, not a folder" in one_line_error(capsys)


def test_out_of_memory_is_one_line(cfg, monkeypatch, capsys):
    import workbench.cli as cli

    def no_memory(*a, **k):
        raise MemoryError
    monkeypatch.setattr(cli, "train_headless", no_memory)
    assert main(["train", cfg]) == 2
    assert "not enough memory" in one_line_error(capsys)


@pytest.mark.parametrize("damage", [
    "UPDATE meta SET value = '\"x\"' WHERE key = 'first_step'",
    "UPDATE meta SET value = CAST(x'ff00' AS BLOB) WHERE key = 'host'",
    "UPDATE evaluations SET row = '[1, 2]'",
    "UPDATE evaluations SET row = '{\"step\": 0, \"train_loss\": \"x\"}'",
    "UPDATE findings SET findings = '[1, 2]'",
    "UPDATE findings SET findings = '{\"a\": 1}'",
], ids=["first_step_text", "meta_not_utf8", "eval_list", "eval_text", "findings_ints",
        "findings_dict"])
def test_damaged_contents_are_one_line(session, tmp_path, damage, capsys):
    """The file opens as SQLite and passes its checks, but a record has the wrong type:
    info, verify, export and diagnose raised TypeError/ValueError/UnicodeDecodeError."""
    import sqlite3
    with sqlite3.connect(session) as db:
        if "findings" in damage and not db.execute("SELECT COUNT(*) FROM findings").fetchone()[0]:
            db.execute("INSERT INTO findings (step, time, findings) VALUES (1, 0, '[]')")
        db.execute(damage)
    capsys.readouterr()
    for args in (["info", str(session)], ["info", str(session), "--json"],
                 ["export", str(session), "--html", str(tmp_path / "r.html")],
                 ["diagnose", str(session), "--json"]):
        rc = main(args)
        err = capsys.readouterr().err
        assert "Traceback" not in err, (args, err)
        assert rc in (0, 2), (args, rc, err)
        if rc == 2:
            assert err.strip().splitlines()[-1].startswith("error: "), err


def test_csv_named_relative_to_the_config_folder(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "course"
    folder.mkdir()
    rows = "\n".join(f"{x},{2 * x + 1}" for x in range(30))
    (folder / "line.csv").write_text("x,y\n" + rows + "\n")
    cfg = {"data": {"name": "csv", "path": "line.csv"},
           "model": {"hidden": [], "output": "linear", "loss": "mse"},
           "optimizer": {"name": "normal_equations"}}
    (folder / "fit.json").write_text(json.dumps(cfg))
    monkeypatch.chdir(tmp_path)                  # not the config's folder
    assert main(["train", str(folder / "fit.json"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["train_loss"] < 1e-12


def test_session_in_a_missing_folder_says_so(tmp_path, cfg, capsys):
    out = tmp_path / "no_such_folder" / "s.wbsession"
    assert main(["train", cfg, "--steps", "3", "--out", str(out)]) == 2
    assert f"the folder {out.parent} does not exist" in one_line_error(capsys)


def test_experiments_refuse_input_that_cannot_run(tmp_path, cfg, capsys):
    # each of these counted failed runs and exited 0, or suggested rates below -1
    assert main(["sweep", cfg, "--grid", "optimizer.lr=abc", "--workers", "1",
                 "--out", str(tmp_path / "sw")]) == 2
    assert "no run of this grid is a valid configuration" in one_line_error(capsys)
    assert not (tmp_path / "sw").exists()
    assert main(["lrtest", cfg, "--lrs=-1,0.1", "--workers", "1"]) == 2
    assert "finite number > 0" in one_line_error(capsys)
    exact = tmp_path / "ridge.json"
    exact.write_text(json.dumps({"data": {"name": "reg_line"}, "model": {
        "hidden": [], "output": "linear", "loss": "mse"},
        "optimizer": {"name": "normal_equations"}}))
    for cmd in ("capacity", "lrtest"):
        assert main([cmd, str(exact), "--workers", "1"]) == 2
        assert "normal_equations" in one_line_error(capsys)


def test_a_key_written_twice_is_refused(tmp_path, capsys):
    p = tmp_path / "twice.json"
    p.write_text('{"optimizer": {"lr": 0.5, "momentum": 0.9, "lr": 0.01}}')
    assert main(["check", str(p)]) == 2
    assert "config key 'lr' appears twice" in one_line_error(capsys)
