"""The lessons (examples) and the window's commands: screenshot, replay, gui."""
from __future__ import annotations

import json

import pytest

from workbench.cli import build_parser, main
from workbench.config import RunConfig
from workbench.ui.examples import EXAMPLES, EXAMPLES_DIR, example_json


def test_every_lesson_is_a_valid_run_with_text_and_a_json_file():
    names = {e.name for e in EXAMPLES}
    assert len(names) == len(EXAMPLES) >= 10
    for ex in EXAMPLES:
        cfg = RunConfig(ex.config)
        assert 2 <= ex.text.count(". ") + 1 <= 4, ex.name    # two or three sentences
        path = EXAMPLES_DIR / f"{ex.name}.json"
        assert path.read_text() == example_json(ex), "run python -m workbench.ui.examples"
        assert RunConfig.load(path) == cfg


@pytest.mark.parametrize("name, check", [
    ("and_perceptron", lambda r, s: s["train_accuracy"] == 1.0 and s["train_loss"] == 0.0),
    ("xor_perceptron", lambda r, s: s["train_accuracy"] <= 0.75 and s["train_loss"] > 0),
    ("circle_features", lambda r, s: s["train_accuracy"] < 0.7),
    ("zero_init", lambda r, s: float(abs(r.network.weights[0][0]).max()) == 0.0),
])
def test_lessons_show_what_they_teach(name, check):
    from workbench.run import Run
    from workbench.ui.examples import BY_NAME
    run = Run(BY_NAME[name].config)
    run.run_steps(min(run.total_steps, 2000))
    assert check(run, run.summary())


def test_xor_lesson_text_says_what_the_run_does():
    # the text said "the loss never reaches zero"; the evaluated loss is 0 whenever the
    # weights cycle back to zero (every corner on the line), the accuracy never 100 %
    import numpy as np

    from workbench.run import Run
    from workbench.ui.examples import BY_NAME
    ex = BY_NAME["xor_perceptron"]
    run = Run(ex.config, eval_every=1)
    run.run_steps(run.total_steps)
    ev = run.history.evals()
    assert np.nanmax(ev["train_acc"]) < 1.0 and np.nanmin(ev["train_loss"]) == 0.0
    assert "accuracy never reaches 100 %" in ex.text and "loss never" not in ex.text


def test_circle_lesson_is_solved_by_the_squares():
    from workbench.run import Run
    from workbench.ui.examples import BY_NAME
    cfg = RunConfig(BY_NAME["circle_features"].config).with_changes(
        {"data.features": ["x1", "x2", "x1^2", "x2^2"]})
    run = Run(cfg)
    run.run_steps(1500)
    assert run.summary()["test_accuracy"] >= 0.95


def test_gui_is_the_default_command():
    p = build_parser()
    args = p.parse_args(["gui", "x.json"])
    assert args.func.__name__ == "cmd_gui" and args.config == "x.json"
    assert "screenshot" in p._subparsers._group_actions[0].choices  # noqa: SLF001


def test_screenshot_command_renders_the_window(qapp, tmp_path, capsys):
    from PySide6 import QtGui
    cfg = tmp_path / "xor.json"
    cfg.write_text(json.dumps({"data": {"name": "xor_gate", "n_samples": 4, "noise": 0.0,
                                        "test_fraction": 0.0},
                               "model": {"hidden": [], "output": "step",
                                         "loss": "perceptron"}}))
    out = tmp_path / "shot.png"
    assert main(["screenshot", str(cfg), "--steps", "20", "--out", str(out),
                 "--size", "1200x750"]) == 0
    img = QtGui.QImage(str(out))
    assert (img.width(), img.height()) == (1200, 750)
    # not a blank image: many distinct colours
    colours = {img.pixel(x, y) for x in range(0, 1200, 7) for y in range(0, 750, 7)}
    assert len(colours) > 50


@pytest.mark.parametrize("argv, msg", [
    (["screenshot", "{cfg}", "--out", "x.png", "--size", "big"], "--size"),
    (["screenshot", "{cfg}", "--out", "x.png", "--steps", "-3"], "--steps"),
    (["screenshot", "missing.json", "--out", "x.png"], "not found"),
    (["replay", "missing.wbsession"], "not found"),
])
def test_bad_command_input_is_one_line(tmp_path, capsys, argv, msg):
    cfg = tmp_path / "c.json"
    cfg.write_text("{}")
    argv = [a.replace("{cfg}", str(cfg)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and msg in err
