"""Sweep grids: dotted config keys crossed with their values and with seeds.

A grid axis is written ``KEY=V1,V2,...`` on the command line. Each value is parsed as
JSON when it is valid JSON (``0.1``, ``true``, ``[[8, "tanh"]]``), otherwise kept as a
string (``relu``); commas inside brackets, braces or quotes do not split values. The
text as written is kept too, so the summary shows each value as the user gave it.
"""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from ..config import ConfigError, RunConfig, all_keys, load_config


@dataclass(frozen=True)
class Axis:
    """One swept key with its values (parsed) and their text as given."""
    key: str
    values: tuple
    texts: tuple

    def to_dict(self) -> dict:
        return {"key": self.key, "values": list(self.values), "texts": list(self.texts)}

    @classmethod
    def from_dict(cls, d: dict) -> "Axis":
        return cls(d["key"], tuple(d["values"]), tuple(d["texts"]))


def split_values(text: str) -> list[str]:
    """Split ``text`` on the commas that are outside brackets, braces and quotes."""
    out, depth, quote, cur = [], 0, None, []
    for ch in text:
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    out.append("".join(cur).strip())
    return out


def parse_value(text: str) -> Any:
    """Return ``text`` parsed as JSON when it is valid JSON, else the string itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_axis(text: str) -> Axis:
    """Parse one ``KEY=V1,V2`` grid argument.

    Raises
    ------
    ConfigError
        One line naming the problem: no ``=``, an unknown key, an empty value.
    """
    if "=" not in text:
        raise ConfigError(f"grid axis '{text}' is not KEY=V1,V2,...")
    key, _, rest = text.partition("=")
    key = key.strip()
    check_key(key)
    texts = split_values(rest)
    if not rest.strip() or any(t == "" for t in texts):
        raise ConfigError(f"grid axis '{text}' has an empty value")
    return Axis(key, tuple(parse_value(t) for t in texts), tuple(texts))


def make_axis(key: str, values) -> Axis:
    """An axis from Python values (the texts are their JSON)."""
    check_key(key)
    values = tuple(values)
    if not values:
        raise ConfigError(f"grid axis '{key}' has no values")
    return Axis(key, values, tuple(v if isinstance(v, str) else json.dumps(v)
                                   for v in values))


def _fraction(v) -> str | None:
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v <= 1
    return None if ok else f"train_fraction = {json.dumps(v)} is not allowed: a number > 0 and <= 1"


#: Keys that are not config keys but options of the run's task (``tasks.py``), each with
#: a check returning an error line or None: ``train_fraction`` trains on a nested subset.
VIRTUAL_KEYS = {"train_fraction": _fraction}


def check_key(key: str) -> None:
    if key not in all_keys() and key not in VIRTUAL_KEYS:
        raise ConfigError(f"unknown config key '{key}' in the grid; allowed: "
                          + ", ".join(all_keys() + list(VIRTUAL_KEYS)))


@dataclass
class RunSpec:
    """One run of a sweep: its name, the changes to the base config and the config.

    ``config`` is None when the changes make an invalid config; ``error`` says why, and
    the run is reported as failed without being started.
    """
    index: int
    name: str
    changes: dict
    texts: dict
    config: dict | None
    error: str | None = None
    extra: dict = field(default_factory=dict)


def expand(base, axes: list[Axis], seeds: int = 1) -> list[RunSpec]:
    """Cross the axes (first axis slowest) and then ``seeds`` seeds per combination.

    Seeds are ``base seed + 0 .. seeds - 1`` (the column ``seed``); sweeping ``seed`` as
    an axis and asking for several seeds at once is refused.
    """
    base = load_config(base)
    keys = [a.key for a in axes]
    if len(set(keys)) != len(keys):
        raise ConfigError("a grid key appears twice: " + ", ".join(keys))
    if seeds < 1:
        raise ConfigError(f"--seeds {seeds} is not allowed: an integer >= 1")
    if seeds > 1 and "seed" in keys:
        raise ConfigError("sweep 'seed' as a grid axis or use --seeds, not both")
    combos = list(itertools.product(*[list(zip(a.values, a.texts)) for a in axes]))
    specs: list[RunSpec] = []
    for combo in combos:
        for s in range(seeds):
            changes = {k: v for k, (v, _) in zip(keys, combo)}
            texts = {k: t for k, (_, t) in zip(keys, combo)}
            if seeds > 1:
                changes["seed"] = base.seed + s
                texts["seed"] = str(base.seed + s)
            i = len(specs)
            extra = {k: v for k, v in changes.items() if k in VIRTUAL_KEYS}
            err = next((m for m in (VIRTUAL_KEYS[k](v) for k, v in extra.items()) if m),
                       None)
            cfg = None
            if err is None:
                try:
                    cfg = base.with_changes({k: v for k, v in changes.items()
                                             if k not in VIRTUAL_KEYS}).to_dict()
                except ConfigError as e:
                    err = str(e)
            specs.append(RunSpec(i, f"run-{i:03d}", changes, texts, cfg, err, extra))
    return specs


def columns(axes: list[Axis], seeds: int) -> list[str]:
    """The swept columns of the summary, in order."""
    cols = [a.key for a in axes]
    if seeds > 1:
        cols.append("seed")
    return cols


__all__ = ["Axis", "RunSpec", "parse_axis", "make_axis", "parse_value", "split_values",
           "expand", "columns", "RunConfig"]
