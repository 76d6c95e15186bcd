"""Trained weights as files: NumPy ``.npz`` and JSON, layer by layer, ``W`` as (n_out, n_in).

``.npz`` holds ``W1, b1, W2, b2, ...`` and ``info`` (a JSON string: format, version,
configuration, step, activations); it is read with ``allow_pickle=False``. JSON holds
``{"format": "workbench-weights", "version": 1, "config", "step", "layers": [{"index",
"activation", "W", "b"}, ...]}``.
"""
from __future__ import annotations

import json
import math
import re
import zipfile
from pathlib import Path

import numpy as np

from ..config import ConfigError, load_config
from . import format as F

WEIGHTS_FORMAT = "workbench-weights"
WEIGHTS_VERSION = 1


def _activations(config) -> list[str]:
    m = config.model
    return [str(a) for _, a in m["hidden"]] + [str(m["output"])]


def _layers_of(source, step):
    """(layers [(W, b)], config, step) of a Run or a session file at ``step`` (default last)."""
    from ..run import Run
    if isinstance(source, Run):
        return [(W.copy(), b.copy()) for W, b in source.network.weights], source.config, \
            source.step
    from .reader import SessionReader
    with SessionReader(source) as r:
        s = r.last_step if step is None else int(step)
        if not r.first_step <= s <= r.last_step:       # (it trained on past the end)
            raise F.SessionError(f"step {s} is outside the recorded steps "
                               f"{r.first_step}..{r.last_step}")
        run = r.run_at(s, diagnostics=False)
        return [(W.copy(), b.copy()) for W, b in run.network.weights], r.config, s


def export_weights(source, path, step: int | None = None) -> Path:
    """Write the weights of a Run (or of a session at ``step``) to ``.npz`` or ``.json``.

    Parameters
    ----------
    source : Run or path of a session file
    path : str or Path
        The suffix chooses the format: ``.npz`` or ``.json``.
    step : int, optional
        For a session: the step (default its last).
    """
    path = Path(path)
    layers, config, s = _layers_of(source, step)
    acts = _activations(config)
    info = {"format": WEIGHTS_FORMAT, "version": WEIGHTS_VERSION, "config": config.to_dict(),
            "step": s, "activations": acts,
            "shapes": [[list(W.shape), list(b.shape)] for W, b in layers]}
    suffix = path.suffix.lower()
    if suffix == ".npz":
        arrays = {}
        for i, (W, b) in enumerate(layers, 1):
            arrays[f"W{i}"] = W
            arrays[f"b{i}"] = b
        with open(path, "wb") as fh:
            np.savez(fh, info=np.array(json.dumps(info)), **arrays)
    elif suffix == ".json":
        def num(v):
            v = float(v)
            return v if math.isfinite(v) else None
        doc = {k: info[k] for k in ("format", "version", "config", "step")}
        doc["layers"] = [{"index": i, "activation": acts[i - 1],
                          "W": [[num(v) for v in row] for row in W],
                          "b": [num(v) for v in b]} for i, (W, b) in enumerate(layers, 1)]
        path.write_text(json.dumps(doc, indent=1))
    else:
        raise F.SessionError(f"{path}: weights are written as .npz or .json")
    return path


def read_weights(path) -> tuple[list[tuple[np.ndarray, np.ndarray]], dict]:
    """Read a weights file; return ([(W, b) per layer], info with config and step).

    Raises SessionError (one line) for a missing, foreign or damaged file.
    """
    path = Path(path)
    if not path.is_file():
        raise F.SessionError(f"{path}: no such file")
    try:
        if path.suffix.lower() == ".npz":
            with np.load(path, allow_pickle=False) as z:
                info = json.loads(str(z["info"])) if "info" in z.files else {}
                n = len([k for k in z.files if re.fullmatch(r"W\d+", k)])
                layers = [(np.array(z[f"W{i}"], np.float64), np.array(z[f"b{i}"], np.float64))
                          for i in range(1, n + 1)]
        else:
            doc = json.loads(path.read_text())
            if not isinstance(doc, dict) or doc.get("format") != WEIGHTS_FORMAT:
                raise ValueError("not a workbench weights file")
            info = {k: doc.get(k) for k in ("format", "version", "config", "step")}
            layers = []
            for L in doc["layers"]:
                W = np.array([[np.nan if v is None else v for v in row] for row in L["W"]],
                             np.float64)
                b = np.array([np.nan if v is None else v for v in L["b"]], np.float64)
                layers.append((W, b))
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile,
            json.JSONDecodeError) as e:
        raise F.SessionError(f"{path} is not a readable weights file ({e})") from None
    if info.get("version", 1) > WEIGHTS_VERSION:
        raise F.SessionError(f"{path} was written by a newer workbench (weights format "
                             f"{info['version']})")
    if not layers:
        raise F.SessionError(f"{path} holds no layers")
    for i, (W, b) in enumerate(layers, 1):
        if W.ndim != 2 or b.shape != (W.shape[0],):
            raise F.SessionError(f"{path}: layer {i} has W {W.shape} and b {b.shape}; "
                                 "W must be (n_out, n_in) and b (n_out,)")
    return layers, info


def load_weights(run, path) -> None:
    """Copy the weights of a file into ``run``'s network, layer by layer.

    Raises SessionError naming the first layer whose shape does not match.
    """
    layers, _ = read_weights(path)
    mine = run.network.weights
    if len(layers) != len(mine):
        raise F.SessionError(f"{path} has {len(layers)} layers; the network has {len(mine)}")
    for i, ((W, _), (Wm, _)) in enumerate(zip(layers, mine), 1):
        if W.shape != Wm.shape:
            raise F.SessionError(f"{path}: layer {i} W is {W.shape}; the network's is "
                                 f"{Wm.shape} (n_out, n_in)")
    for (W, b), (Wm, bm) in zip(layers, mine):
        Wm[...] = W
        bm[...] = b


def run_from_weights(path, config=None, session=None, diagnostics: bool = True):
    """A new Run (of ``config``, default the one stored in the file) starting from the
    file's weights; recorded to ``session`` when given (origin "weights")."""
    from ..run import Run
    from .recorder import Recorder
    _, info = read_weights(path)
    cfg = config if config is not None else info.get("config")
    try:
        run = Run(load_config(cfg), diagnostics=diagnostics)
    except ConfigError as e:
        raise F.SessionError(f"{path}: {e}") from None
    load_weights(run, path)
    if session is not None:
        run.recorder = Recorder(session, run, origin="weights",
                                extra_meta={"weights": str(Path(path).resolve())})
        run.add_listener(run.recorder)
    return run
