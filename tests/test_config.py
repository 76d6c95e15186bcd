"""The run configuration: defaults, JSON round trip, and every refusal naming key and value."""
import json

import pytest

from workbench.config import DEFAULTS, ConfigError, RunConfig, all_keys, load_config


def test_empty_config_is_the_default_demo():
    cfg = RunConfig({})
    assert cfg.to_dict() == DEFAULTS
    assert cfg["optimizer.lr"] == 0.03 and cfg.data["name"] == "spiral"


def test_partial_sections_merge_with_defaults():
    cfg = RunConfig({"optimizer": {"lr": 0.5}})
    assert cfg["optimizer.lr"] == 0.5 and cfg["optimizer.momentum"] == 0.9


def test_json_round_trip(tmp_path):
    cfg = RunConfig({"seed": 7, "model": {"hidden": [[3, "relu"]]}})
    p = tmp_path / "c.json"
    cfg.save(p)
    assert RunConfig.load(p) == cfg
    assert json.loads(p.read_text())["model"]["hidden"] == [[3, "relu"]]


def test_with_changes_uses_dotted_paths():
    cfg = RunConfig({}).with_changes({"optimizer.lr": 0.3, "model.init": "he"})
    assert cfg["optimizer.lr"] == 0.3 and cfg["model.init"] == "he"
    with pytest.raises(ConfigError, match="optimizer.bogus"):
        RunConfig({}).with_changes({"optimizer.bogus": 1})
    assert "training.batch_size" in all_keys()


BAD = [
    ({"bogus": 1}, "bogus"),
    ({"optimizer": {"learning_rate": 0.1}}, "optimizer.learning_rate"),
    ({"seed": -1}, "seed"),
    ({"seed": 1.5}, "seed"),
    ({"optimizer": {"lr": 0}}, "optimizer.lr"),
    ({"optimizer": {"lr": -0.1}}, "optimizer.lr"),
    ({"optimizer": {"lr": "fast"}}, "optimizer.lr"),
    ({"optimizer": {"name": "sgdd"}}, "optimizer.name"),
    ({"optimizer": {"momentum": -1}}, "optimizer.momentum"),
    ({"optimizer": {"nesterov": "yes"}}, "optimizer.nesterov"),
    ({"optimizer": {"beta1": 1.0}}, "optimizer.beta1"),
    ({"optimizer": {"epsilon": 0}}, "optimizer.epsilon"),
    ({"optimizer": {"name": "normal_equations"}}, "optimizer.name"),
    ({"training": {"batch_size": 0}}, "training.batch_size"),
    ({"training": {"epochs": 0}}, "training.epochs"),
    ({"training": {"precision": "float16"}}, "training.precision"),
    ({"data": {"test_fraction": 1.0}}, "data.test_fraction"),
    ({"data": {"test_fraction": -0.1}}, "data.test_fraction"),
    ({"data": {"noise": -0.5}}, "data.noise"),
    ({"data": {"name": "mnist"}}, "data.name"),
    ({"data": {"n_samples": 0}}, "data.n_samples"),
    ({"data": {"scale": 0}}, "data.scale"),
    ({"data": {"noise_features": -2}}, "data.noise_features"),
    ({"data": {"name": "csv"}}, "data.path"),
    ({"data": {"features": ["x3"]}}, "data.features"),
    ({"data": {"features": [{"poly": 0}]}}, "data.features"),
    ({"data": {"name": "reg_sine", "features": ["x2"]}}, "data.features"),
    ({"model": {"hidden": [[0, "relu"]]}}, "model.hidden[0] units"),
    ({"model": {"hidden": [[4, "swish"]]}}, "model.hidden[0] activation"),
    ({"model": {"hidden": [4]}}, "model.hidden[0]"),
    ({"model": {"hidden": "deep"}}, "model.hidden"),
    ({"model": {"output": "tanh"}}, "model.output"),
    ({"model": {"loss": "l2"}}, "model.loss"),
    ({"model": {"init": "kaiming"}}, "model.init"),
    ({"regularization": {"l1": -1}}, "regularization.l1"),
    ({"regularization": {"l2": float("nan")}}, "regularization.l2"),
    ({"data": 5}, "data"),
    # past what NumPy, the session file or the window's fields hold
    ({"seed": 2 ** 64}, "seed"),
    ({"seed": 1e20}, "seed"),
    ({"training": {"batch_size": 3_000_000_000}}, "training.batch_size"),
    ({"data": {"n_samples": 5_000_000}}, "data.n_samples"),
    ({"data": {"noise_features": 100_000}}, "data.noise_features"),
    ({"model": {"hidden": [[100_000, "relu"]]}}, "model.hidden[0] units"),
]


@pytest.mark.parametrize("bad,key", BAD, ids=[k for _, k in BAD])
def test_bad_values_name_the_key_and_the_value(bad, key):
    with pytest.raises(ConfigError) as err:
        RunConfig(bad)
    msg = str(err.value)
    assert key in msg and "\n" not in msg


def test_upper_bounds_say_what_is_allowed_and_hold_at_the_bound():
    from workbench.config import MAX_BATCH, MAX_NOISE_FEATURES, MAX_SAMPLES, MAX_SEED, MAX_UNITS
    RunConfig({"seed": MAX_SEED, "data": {"n_samples": MAX_SAMPLES,
                                           "noise_features": MAX_NOISE_FEATURES},
               "model": {"hidden": [[MAX_UNITS, "relu"]]},
               "training": {"batch_size": MAX_BATCH}})
    with pytest.raises(ConfigError, match=r"seed = 18446744073709551616 is not allowed: an "
                                          r"integer from 0 to 2\*\*63 - 1"):
        RunConfig({"seed": 2 ** 64})
    with pytest.raises(ConfigError, match=r"an integer >= 1 and <= 1,000,000$"):
        RunConfig({"training": {"batch_size": MAX_BATCH + 1}})
    with pytest.raises(ConfigError, match=r"an integer from 1 to 4,096$"):
        RunConfig({"model": {"hidden": [[4097, "relu"]]}})


def test_the_largest_seed_builds_a_run():
    from workbench.config import MAX_SEED
    from workbench.run import Run
    run = Run({"seed": MAX_SEED, "data": {"n_samples": 40}, "model": {"hidden": [[3, "tanh"]]}},
              diagnostics=False)
    assert run.run_steps(3) == 3


def test_extreme_but_meaningful_values_are_allowed():
    RunConfig({"optimizer": {"lr": 1e6, "momentum": 5.0}, "data": {"noise": 10.0},
               "training": {"batch_size": 100000}, "model": {"init_scale": -3}})


def test_every_output_loss_pair_is_accepted():
    for out in ("linear", "step", "sigmoid", "softmax"):
        for loss in ("mse", "bce", "cross_entropy", "perceptron", "hinge"):
            RunConfig({"model": {"output": out, "loss": loss}})


def test_bad_json_files(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(p)
    p.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="JSON object"):
        load_config(p)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.json")
