"""The command line: train, --json, bad input exit 2 with one line, --help."""
import json
import subprocess
import sys

import pytest

from workbench.cli import main


def test_train_json_prints_one_object(tmp_path, capsys):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"data": {"name": "gaussian", "n_samples": 100},
                               "training": {"epochs": 3}}))
    assert main(["train", str(cfg), "--json"]) == 0
    out = capsys.readouterr().out
    obj = json.loads(out)
    assert out.count("\n") == 1
    assert obj["step"] == 3 * 7 and obj["epoch"] == 3
    assert obj["test_accuracy"] > 0.8 and obj["steps_per_s"] > 0
    assert set(obj) >= {"train_loss", "test_loss", "train_accuracy", "findings"}


def test_train_steps_and_readable_summary(tmp_path, capsys):
    cfg = tmp_path / "c.json"
    cfg.write_text("{}")
    assert main(["train", str(cfg), "--steps", "50"]) == 0
    out = capsys.readouterr().out
    assert "steps 50" in out and "test accuracy" in out


@pytest.mark.parametrize("content,needle", [
    ("{bad", "not valid JSON"), ('{"optimizer": {"lr": -1}}', "optimizer.lr"),
    ('{"data": {"name": "csv", "path": "/nonexistent.csv"}}', "nonexistent")])
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, content, needle):
    cfg = tmp_path / "c.json"
    cfg.write_text(content)
    assert main(["train", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_missing_config_file_exits_2(capsys):
    assert main(["train", "/no/such/config.json"]) == 2
    assert "not found" in capsys.readouterr().err


def test_nan_run_is_not_bad_input(tmp_path, capsys):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"data": {"name": "reg_line"},
                               "model": {"hidden": [[8, "relu"]], "output": "linear",
                                         "loss": "mse"},
                               "optimizer": {"lr": 5.0}}))
    assert main(["train", str(cfg), "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["nonfinite"] is not None and obj["step"] < 1000


def test_help_lists_the_commands():
    out = subprocess.run([sys.executable, "main.py", "--help"], capture_output=True,
                         text=True, cwd=str(__import__("pathlib").Path(__file__).parents[2]))
    assert out.returncode == 0 and "train" in out.stdout


def test_kernel_load_message_never_runs_into_the_output(tmp_path, capsys, monkeypatch):
    # a log (not a terminal): a warm load says nothing, a slow one (a compile) says so on
    # a line of its own; either way stderr holds no carriage return left dangling
    from workbench import cli
    cfg = tmp_path / "c.json"
    cfg.write_text("{}")
    assert main(["train", str(cfg), "--steps", "20"]) == 0
    err = capsys.readouterr().err
    assert "\r" not in err and "compil" not in err
    monkeypatch.setattr(cli, "COMPILE_NOTE_S", -1.0)       # every load counts as slow
    assert main(["train", str(cfg), "--steps", "20"]) == 0
    err = capsys.readouterr().err
    assert "\r" not in err
    line = next(ln for ln in err.splitlines() if "compiled the training kernels" in ln)
    assert line.endswith("(cached for later runs)")


def test_dash_reads_the_config_from_standard_input(monkeypatch, capsys):
    # "-" used to train the default demo, whatever standard input held
    import io
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"optimizer": {"lr": -1}}'))
    assert main(["train", "-", "--steps", "5"]) == 2
    assert "optimizer.lr" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO(
        '{"data": {"name": "gaussian", "n_samples": 100}, "training": {"epochs": 1}}'))
    assert main(["train", "-", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["step"] == 7      # 70 samples, batch 10
    monkeypatch.setattr(sys, "stdin", io.StringIO("  \n"))
    assert main(["train", "-"]) == 2
    err = capsys.readouterr().err
    assert "standard input" in err and err.count("\n") == 1


def test_empty_out_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train", str(_tiny(tmp_path)), "--out", "", "--steps", "1"]) == 2
    assert "--out ''" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.json"]


def _tiny(tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"data": {"name": "gaussian", "n_samples": 100}}))
    return cfg
