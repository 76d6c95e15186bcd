"""The course's lessons as ready runs, each with two or three sentences on what to watch.

The same configurations are stored as JSON under ``resources/examples/`` (so they can be
run from the command line: ``python main.py train resources/examples/xor_perceptron.json``);
a test keeps the files and this module identical (:func:`write_json_files` rewrites them).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..config import RunConfig

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "resources" / "examples"


@dataclass(frozen=True)
class Example:
    """A lesson: a file-safe ``name``, a menu ``title``, ``text`` to read and a config."""
    name: str
    title: str
    text: str
    config: dict

    def run_config(self) -> RunConfig:
        return RunConfig(self.config)


_GATE = {"hidden": [], "output": "step", "loss": "perceptron", "init": "zeros"}

EXAMPLES: tuple[Example, ...] = (
    Example(
        "default_spiral", "Spiral with a small tanh network (the default demo)",
        "Two hidden tanh layers learn to separate two interleaved spiral arms. Watch the "
        "decision regions bend from a straight line into spirals while the train and "
        "test loss fall together.",
        {}),
    Example(
        "and_perceptron", "Perceptron learns AND",
        "A single threshold unit with the perceptron rule. AND is linearly separable, so "
        "after a few epochs the line separates (1, 1) from the other three corners and "
        "the loss stays at zero.",
        {"data": {"name": "and_gate", "n_samples": 4, "noise": 0.0, "test_fraction": 0.0},
         "model": dict(_GATE), "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.0},
         "training": {"batch_size": 1, "epochs": 30}}),
    Example(
        "xor_perceptron", "Perceptron fails on XOR",
        "The same perceptron on XOR: no single line puts (0, 1) and (1, 0) on one side "
        "and (0, 0) and (1, 1) on the other, so the line keeps jumping and the accuracy "
        "never reaches 100 % (the loss even touches zero when the weights cycle back to "
        "zero and every corner lies on the line). Add a hidden layer (two tanh units) to "
        "solve it.",
        {"data": {"name": "xor_gate", "n_samples": 4, "noise": 0.0, "test_fraction": 0.0},
         "model": dict(_GATE), "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.0},
         "training": {"batch_size": 1, "epochs": 30}}),
    Example(
        "circle_features", "A circle needs x1^2 and x2^2",
        "Logistic regression on the circle data with the raw inputs x1 and x2 can only "
        "draw a straight line, so accuracy stalls near chance. Tick the features x1^2 and "
        "x2^2: the same linear model now separates the classes with a circle.",
        {"data": {"name": "circle", "features": ["x1", "x2"]},
         "model": {"hidden": [], "output": "sigmoid", "loss": "bce"},
         "optimizer": {"name": "sgd", "lr": 0.01, "momentum": 0.9},
         "training": {"epochs": 100}}),
    Example(
        "lr_too_high", "A learning rate that is too high",
        "With lr = 3 every step overshoots: the loss jumps around or blows up to NaN "
        "instead of falling. Lower the learning rate with the slider while it trains and "
        "watch the marker on the loss curve where the loss starts to fall.",
        {"data": {"name": "circle"}, "model": {"hidden": [[8, "tanh"]]},
         "optimizer": {"name": "sgd", "lr": 3.0, "momentum": 0.9},
         "training": {"epochs": 100}}),
    Example(
        "dying_relu", "Dying ReLUs",
        "A ReLU network started with negative biases and a large step: many units end up "
        "with a negative input for every sample, output zero and get no gradient, so they "
        "never recover. Watch the dead fraction per layer and the greyed units in the "
        "network graph.",
        {"data": {"name": "spiral"},
         "model": {"hidden": [[16, "relu"], [16, "relu"], [16, "relu"]], "init": "he",
                   "bias_init": -1.0},
         "optimizer": {"name": "sgd", "lr": 0.3, "momentum": 0.9},
         "training": {"epochs": 100}}),
    Example(
        "vanishing_gradients", "Vanishing gradients in a deep sigmoid net",
        "Eight sigmoid layers: each one multiplies the gradient by at most 0.25, so the "
        "first layers receive gradients orders of magnitude smaller than the last and "
        "barely move. Compare the gradient norms per layer (log scale), then try tanh or "
        "ReLU.",
        {"data": {"name": "circle"},
         "model": {"hidden": [[8, "sigmoid"]] * 8, "init": "normal", "init_scale": 0.5},
         "optimizer": {"name": "sgd", "lr": 0.03, "momentum": 0.9},
         "training": {"epochs": 100}}),
    Example(
        "zero_init", "The symmetry of zero initialization",
        "All weights start at zero, so every hidden unit computes the same thing and gets "
        "the same gradient: here the hidden layer gets no gradient at all and the network "
        "stays a straight line. Switch init to xavier and train again.",
        {"data": {"name": "circle"}, "model": {"hidden": [[8, "tanh"]], "init": "zeros"},
         "optimizer": {"name": "sgd", "lr": 0.03, "momentum": 0.9},
         "training": {"epochs": 100}}),
    Example(
        "overfitting", "Overfitting a few noisy points",
        "Forty noisy points and a large network: the training loss keeps falling while "
        "the test loss turns and rises, and the decision regions wrap around single "
        "points. Add data, shrink the network or raise L2 to close the gap.",
        {"data": {"name": "circle", "n_samples": 40, "noise": 0.5, "test_fraction": 0.5},
         "model": {"hidden": [[64, "relu"], [64, "relu"]], "init": "he"},
         "optimizer": {"name": "adam", "lr": 0.01},
         "training": {"batch_size": 4, "epochs": 600}}),
    Example(
        "ridge_polynomial", "Ridge smooths a polynomial fit",
        "A degree-9 polynomial fitted exactly to 21 noisy samples of sin(x) swings wildly "
        "between the points. Raise regularization.l2 (ridge) to 1 and reset: the fit "
        "becomes smooth and the test loss drops.",
        # zero initial weights: the loss plot starts at the data's variance, not at the
        # 1e9 of random weights on x^9 (the exact solver does not use them)
        {"data": {"name": "reg_sine", "n_samples": 30, "noise": 0.2, "test_fraction": 0.3,
                  "features": [{"poly": 9}], "scale": 0.2},
         "model": {"hidden": [], "output": "linear", "loss": "mse", "init": "zeros"},
         "optimizer": {"name": "normal_equations"},
         "regularization": {"l2": 0.0},
         "training": {"batch_size": 21, "epochs": 1}}),
)

BY_NAME = {e.name: e for e in EXAMPLES}


def example_json(ex: Example) -> str:
    """The file content for one example: its config plus the lesson text."""
    return json.dumps(ex.run_config().to_dict(), indent=2) + "\n"


def write_json_files(folder: Path = EXAMPLES_DIR) -> list[Path]:
    """Write every example's full configuration to ``folder/<name>.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for ex in EXAMPLES:
        p = folder / f"{ex.name}.json"
        p.write_text(example_json(ex))
        out.append(p)
    return out


if __name__ == "__main__":  # regenerate resources/examples
    for path in write_json_files():
        print(path)
