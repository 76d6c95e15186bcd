"""The run configuration: the whole description of a run.

A run is described by one JSON object whose every key has a default, so ``{}`` is a
valid run (the default demo). :func:`validate` refuses unknown keys and meaningless
values with one line naming the key, the value and what is allowed; extreme values are
allowed, because showing what they do is the point.

The configuration is kept as plain nested dicts (JSON-shaped) wrapped in
:class:`RunConfig`, which offers dotted-path access (``cfg["optimizer.lr"]``) used by
sweeps, remedies (``patch``) and the GUI.
"""
from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

ACTIVATIONS = ("linear", "step", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "maxout")
OUTPUTS = ("linear", "step", "sigmoid", "softmax")
LOSSES = ("mse", "bce", "cross_entropy", "perceptron", "hinge")
INITS = ("zeros", "constant", "uniform", "normal", "xavier", "he")
OPTIMIZERS = ("sgd", "adagrad", "rmsprop", "adam", "normal_equations", "coordinate_descent")
EXACT_SOLVERS = ("normal_equations", "coordinate_descent")
PRECISIONS = ("float64", "float32")

CLASSIFICATION_2D = ("circle", "xor", "gaussian", "spiral", "moons", "linear")
GATES = ("and_gate", "or_gate", "nand_gate", "xor_gate")
REGRESSION_1D = ("reg_line", "reg_sine")
REGRESSION_2D = ("reg_plane", "reg_gauss")
DATASETS = CLASSIFICATION_2D + GATES + REGRESSION_1D + REGRESSION_2D + ("digits", "csv")
FEATURES_2D = ("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)")
FEATURES_1D = ("x1", "x1^2", "sin(x1)")

DEFAULTS: dict[str, Any] = {
    "seed": 0,
    "data": {"name": "spiral", "n_samples": 500, "noise": 0.1, "test_fraction": 0.3,
             "features": None, "scale": 1.0, "noise_features": 0, "path": None},
    "model": {"hidden": [[16, "tanh"], [16, "tanh"]], "output": "sigmoid", "loss": "bce",
              "init": "xavier", "init_scale": 1.0, "bias_init": 0.0},
    "optimizer": {"name": "sgd", "lr": 0.03, "momentum": 0.9, "nesterov": False,
                  "decay": 0.0, "beta1": 0.9, "beta2": 0.999, "rho": 0.9,
                  "epsilon": 1e-7},
    "regularization": {"l1": 0.0, "l2": 0.0},
    "training": {"batch_size": 10, "epochs": 200, "precision": "float64"},
}

SECTIONS = tuple(k for k, v in DEFAULTS.items() if isinstance(v, dict))

# Upper bounds: what the window's fields can show and what the machines of a course
# hold. Without them a seed past 2**64 passed validation and failed in NumPy, a batch
# past 2**31 overflowed the window's spin box, and 5 million samples were drawn point
# by point until the window died.
MAX_SEED = 2 ** 63 - 1          # a signed 64-bit integer, as the session file stores it
MAX_SAMPLES = 1_000_000
MAX_NOISE_FEATURES = 1_000
MAX_UNITS = 4_096
MAX_BATCH = 1_000_000


class ConfigError(ValueError):
    """A configuration that cannot describe a run; the message is one line."""


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_int(v: Any) -> bool:
    return (isinstance(v, int) and not isinstance(v, bool)) or (
        isinstance(v, float) and v.is_integer())


def _fmt(v: Any) -> str:
    return json.dumps(v) if not isinstance(v, float) or math.isfinite(v) else str(v)


class RunConfig:
    """A validated run configuration.

    Parameters
    ----------
    data : dict or RunConfig or None
        The (possibly partial) configuration; missing keys take their defaults.

    Examples
    --------
    >>> cfg = RunConfig({"optimizer": {"lr": 0.1}})
    >>> cfg["optimizer.lr"], cfg.training["epochs"]
    (0.1, 200)
    """

    def __init__(self, data: dict | "RunConfig" | None = None):
        if isinstance(data, RunConfig):
            data = data.to_dict()
        self._d = validate(merge_defaults(data or {}))

    # --- access -------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._d[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, path: str) -> Any:
        node: Any = self._d
        for part in path.split("."):
            node = node[part]
        return node

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunConfig) and self._d == other._d

    def __repr__(self) -> str:
        return f"RunConfig({json.dumps(self._d)})"

    def to_dict(self) -> dict:
        """Return a deep copy of the full configuration as JSON-shaped dicts."""
        return copy.deepcopy(self._d)

    def with_changes(self, patch: dict[str, Any]) -> "RunConfig":
        """Return a new config with dotted-path changes applied (``{"optimizer.lr": 0.3}``)."""
        return RunConfig(apply_patch(self.to_dict(), patch))

    # --- JSON ---------------------------------------------------------------------
    def to_json(self, indent: int = 2) -> str:
        return json.dumps(self._d, indent=indent)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n")

    @classmethod
    def from_json(cls, text: str) -> "RunConfig":
        try:
            obj = json.loads(text, object_pairs_hook=_no_duplicate_keys)
        except json.JSONDecodeError as e:
            raise ConfigError(f"config is not valid JSON: {e.msg} at line {e.lineno} "
                              f"column {e.colno}") from None
        except RecursionError:
            raise ConfigError("config is nested too deeply to read") from None
        if not isinstance(obj, dict):
            raise ConfigError("config must be a JSON object, got "
                              f"{type(obj).__name__}")
        return cls(obj)

    @classmethod
    def load(cls, path: str | Path) -> "RunConfig":
        p = Path(path)
        try:
            raw = p.read_bytes()
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {p}") from None
        except OSError as e:
            raise ConfigError(f"cannot read config file {p}: {e.strerror or e}") from None
        if raw.startswith(b"SQLite format 3\0"):
            raise ConfigError(f"{p} is a recorded session, not a configuration: open it with "
                              "'replay', 'info' or File > Open session")
        try:
            text = raw.decode("utf-8-sig")      # (a byte-order mark, as Notepad writes)
        except UnicodeDecodeError as e:
            raise ConfigError(f"cannot read config file {p}: not UTF-8 text (byte "
                              f"{e.start})") from None
        cfg = cls.from_json(text)
        # a CSV named relative to the config's own folder, as a config next to its data
        # is written (it was looked up from the current folder only)
        rel = cfg.data.get("path")
        if cfg.data["name"] == "csv" and rel and not Path(rel).is_absolute() \
                and not Path(rel).exists() and (p.parent / rel).exists():
            cfg = cfg.with_changes({"data.path": str(p.parent / rel)})
        return cfg


def _no_duplicate_keys(pairs: list) -> dict:
    """A JSON object whose keys are all different (json.loads kept the last of two, so an
    "lr" written twice lost the first silently)."""
    out: dict = {}
    for k, v in pairs:
        if k in out:
            raise ConfigError(f"config key '{k}' appears twice in one object; keep one")
        out[k] = v
    return out


def merge_defaults(data: dict) -> dict:
    """Return ``data`` with every missing key filled from :data:`DEFAULTS`.

    Unknown keys are kept so that :func:`validate` can name them.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"config must be an object, got {type(data).__name__}")
    out = copy.deepcopy(DEFAULTS)
    for key, value in data.items():
        if key in SECTIONS and isinstance(value, dict):
            out[key].update(copy.deepcopy(value))
        else:
            out[key] = copy.deepcopy(value)
    return out


def apply_patch(d: dict, patch: dict[str, Any]) -> dict:
    """Apply dotted-path changes to a config dict in place and return it."""
    for path, value in patch.items():
        parts = path.split(".")
        node = d
        for part in parts[:-1]:
            if part not in node or not isinstance(node[part], dict):
                raise ConfigError(f"unknown config key '{path}'")
            node = node[part]
        if parts[-1] not in node and not (len(parts) == 1 and parts[0] in DEFAULTS):
            raise ConfigError(f"unknown config key '{path}'; allowed: "
                              f"{', '.join(sorted(node))}")
        node[parts[-1]] = value
    return d


def all_keys() -> list[str]:
    """Every dotted key of the configuration, in a stable order."""
    keys = []
    for k, v in DEFAULTS.items():
        if isinstance(v, dict):
            keys.extend(f"{k}.{kk}" for kk in v)
        else:
            keys.append(k)
    return keys


# --- validation ---------------------------------------------------------------------

def _bad(key: str, value: Any, allowed: str) -> ConfigError:
    return ConfigError(f"{key} = {_fmt(value)} is not allowed: {allowed}")


def _choice(d: dict, section: str, key: str, choices: tuple) -> None:
    v = d[section][key]
    if v not in choices:
        raise _bad(f"{section}.{key}", v, "one of " + ", ".join(choices))


def _num(d: dict, section: str, key: str, lo: float | None = None, lo_open=False,
         hi: float | None = None, hi_open=False, integer=False) -> None:
    full = f"{section}.{key}" if section else key
    v = d[section][key] if section else d[key]
    if integer:
        if not _is_int(v):
            raise _bad(full, v, "an integer" + _range_txt(lo, lo_open, hi, hi_open))
        v = int(v)
        if section:
            d[section][key] = v
        else:
            d[key] = v
    elif not _is_number(v) or not math.isfinite(v):
        raise _bad(full, v, "a finite number" + _range_txt(lo, lo_open, hi, hi_open))
    kind = "an integer" if integer else "a number"
    if lo is not None and (v <= lo if lo_open else v < lo):
        raise _bad(full, v, kind + _range_txt(lo, lo_open, hi, hi_open))
    if hi is not None and (v >= hi if hi_open else v > hi):
        raise _bad(full, v, kind + _range_txt(lo, lo_open, hi, hi_open))


def _bound(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() and abs(x) < 1e16 else f"{x:g}"


def _range_txt(lo, lo_open, hi, hi_open) -> str:
    parts = []
    if lo is not None:
        parts.append(f"{'>' if lo_open else '>='} {_bound(lo)}")
    if hi is not None:
        parts.append(f"{'<' if hi_open else '<='} {_bound(hi)}")
    return (" " + " and ".join(parts)) if parts else ""


def _features(d: dict) -> None:
    feats = d["data"]["features"]
    if feats is None:
        return
    name = d["data"]["name"]
    allowed = FEATURES_1D if name in REGRESSION_1D else FEATURES_2D
    if not isinstance(feats, list) or not feats:
        raise _bad("data.features", feats,
                   "null or a non-empty list of " + ", ".join(allowed) + ', {"poly": k}')
    for f in feats:
        if isinstance(f, dict):
            if set(f) != {"poly"} or not _is_int(f["poly"]) or not 1 <= int(f["poly"]) <= 10:
                raise _bad("data.features", f, '{"poly": k} with k an integer from 1 to 10')
        elif f not in allowed:
            kind = "1-D" if name in REGRESSION_1D else "2-D"
            raise _bad("data.features", f, f"for {kind} data one of " + ", ".join(allowed)
                       + ', {"poly": k}')


def validate(d: dict) -> dict:
    """Check a full (defaults-merged) config dict and return it, normalised.

    Raises
    ------
    ConfigError
        With one line naming the bad key, the bad value and what is allowed.
    """
    for key in d:
        if key not in DEFAULTS:
            raise ConfigError(f"unknown config key '{key}'; allowed: {', '.join(DEFAULTS)}")
    for section in SECTIONS:
        if not isinstance(d[section], dict):
            raise _bad(section, d[section], "an object")
        for key in d[section]:
            if key not in DEFAULTS[section]:
                raise ConfigError(f"unknown config key '{section}.{key}'; allowed: "
                                  + ", ".join(f"{section}.{k}" for k in DEFAULTS[section]))
    if not _is_int(d["seed"]) or not 0 <= int(d["seed"]) <= MAX_SEED:
        raise _bad("seed", d["seed"], "an integer from 0 to 2**63 - 1")
    d["seed"] = int(d["seed"])

    data = d["data"]
    _choice(d, "data", "name", DATASETS)
    _num(d, "data", "n_samples", 1, hi=MAX_SAMPLES, integer=True)
    _num(d, "data", "noise", 0)
    _num(d, "data", "test_fraction", 0, hi=1, hi_open=True)
    _num(d, "data", "scale", 0, lo_open=True)
    _num(d, "data", "noise_features", 0, hi=MAX_NOISE_FEATURES, integer=True)
    if data["name"] == "csv":
        if not isinstance(data["path"], str) or not data["path"]:
            raise _bad("data.path", data["path"], "a CSV file path when data.name is csv")
    elif data["path"] is not None and not isinstance(data["path"], str):
        raise _bad("data.path", data["path"], "null or a file path")
    _features(d)

    model = d["model"]
    hidden = model["hidden"]
    if not isinstance(hidden, list):
        raise _bad("model.hidden", hidden, 'a list of [units, activation], e.g. [[8, "tanh"]]')
    norm = []
    for i, layer in enumerate(hidden):
        if (not isinstance(layer, (list, tuple)) or len(layer) != 2):
            raise _bad(f"model.hidden[{i}]", layer, '[units, activation], e.g. [8, "tanh"]')
        units, act = layer
        if not _is_int(units) or not 1 <= int(units) <= MAX_UNITS:
            raise _bad(f"model.hidden[{i}] units", units, f"an integer from 1 to {MAX_UNITS:,}")
        if act not in ACTIVATIONS:
            raise _bad(f"model.hidden[{i}] activation", act, "one of " + ", ".join(ACTIVATIONS))
        norm.append([int(units), act])
    model["hidden"] = norm
    _choice(d, "model", "output", OUTPUTS)
    _choice(d, "model", "loss", LOSSES)
    _choice(d, "model", "init", INITS)
    _num(d, "model", "init_scale")
    _num(d, "model", "bias_init")

    opt = d["optimizer"]
    _choice(d, "optimizer", "name", OPTIMIZERS)
    _num(d, "optimizer", "lr", 0, lo_open=True)
    _num(d, "optimizer", "momentum", 0)
    if not isinstance(opt["nesterov"], bool):
        raise _bad("optimizer.nesterov", opt["nesterov"], "true or false")
    _num(d, "optimizer", "decay", 0)
    _num(d, "optimizer", "beta1", 0, hi=1, hi_open=True)
    _num(d, "optimizer", "beta2", 0, hi=1, hi_open=True)
    _num(d, "optimizer", "rho", 0, hi=1, hi_open=True)
    _num(d, "optimizer", "epsilon", 0, lo_open=True)
    if opt["name"] in EXACT_SOLVERS and hidden:
        raise _bad("optimizer.name", opt["name"],
                   "the exact solvers fit models without hidden layers; set model.hidden to []"
                   " or choose sgd, adagrad, rmsprop or adam")

    if opt["name"] in EXACT_SOLVERS and (model["loss"] != "mse" or model["output"] != "linear"):
        raise _bad("optimizer.name", opt["name"],
                   "the exact solvers minimize the squared error of a linear model; set "
                   "model.loss to mse and model.output to linear, or choose sgd")
    _num(d, "regularization", "l1", 0)
    _num(d, "regularization", "l2", 0)
    _num(d, "training", "batch_size", 1, hi=MAX_BATCH, integer=True)
    _num(d, "training", "epochs", 1, integer=True)
    _choice(d, "training", "precision", PRECISIONS)
    for key in ("n_samples", "noise", "test_fraction", "scale"):
        if isinstance(data[key], int) and key in ("noise", "test_fraction", "scale"):
            data[key] = float(data[key])
    return d


def load_config(source: str | Path | dict | RunConfig | None) -> RunConfig:
    """Return a RunConfig from a path, a dict, a RunConfig or None (defaults)."""
    if isinstance(source, RunConfig):
        return source
    if source is None or isinstance(source, dict):
        return RunConfig(source)
    return RunConfig.load(source)
