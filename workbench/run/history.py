"""Growable, append-only metric history of a run.

Arrays grow by doubling; readers get views ``[:n]`` of the current buffers, which stay
valid and unchanged after later appends (a reallocation leaves old buffers to their
readers), so a published view is effectively immutable.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STEP_FIELDS = ("loss", "lr", "flags")
LAYER_FIELDS = ("gnorm", "wnorm", "uratio", "dead", "sat")
EVAL_FIELDS = ("step", "train_loss", "test_loss", "train_acc", "test_acc")


class _Grow:
    """A 1-D or 2-D array that grows along axis 0."""

    def __init__(self, width: int | None, dtype, capacity: int = 1024):
        shape = (capacity,) if width is None else (capacity, width)
        self.buf = np.zeros(shape, dtype=dtype)
        self.n = 0

    def append(self, values: np.ndarray) -> None:
        m = values.shape[0]
        need = self.n + m
        if need > self.buf.shape[0]:
            self._grow(need)
        self.buf[self.n:need] = values
        self.n = need

    def push(self, value) -> None:
        """Append one entry (a scalar, or one row of a 2-D array)."""
        n = self.n
        if n == self.buf.shape[0]:
            self._grow(n + 1)
        self.buf[n] = value
        self.n = n + 1

    def _grow(self, need: int) -> None:
        cap = max(need, 2 * self.buf.shape[0])
        new = np.zeros((cap,) + self.buf.shape[1:], dtype=self.buf.dtype)
        new[:self.n] = self.buf[:self.n]
        self.buf = new

    def truncate(self, n: int) -> None:
        self.n = min(self.n, n)

    def view(self) -> np.ndarray:
        v = self.buf[:self.n]
        v.flags.writeable = False
        return v


class History:
    """Every step's metrics and every evaluation of a run.

    Per step: ``loss`` (mini-batch loss, penalty included), ``lr`` (lr_t used),
    ``flags`` (non-finite bit mask); per step and layer: ``gnorm`` (gradient L2 norm),
    ``wnorm`` (weight L2 norm after the update), ``uratio`` (update norm / weight norm),
    ``dead`` and ``sat`` (fractions of the layer's units). Per evaluation: ``step``,
    ``train_loss``, ``test_loss``, ``train_acc``, ``test_acc`` (NaN where not defined)
    and per layer ``eval_dead`` / ``eval_sat`` over the whole training set.
    """

    def __init__(self, n_layers: int, capacity: int = 1024):
        """``capacity``: steps to allocate for at once (a run passes the steps it plans,
        capped, so that a normal run never copies its history while it trains)."""
        self.n_layers = n_layers
        self.first_step = 0
        c = max(16, int(capacity))
        self._s = {"loss": _Grow(None, np.float64, c), "lr": _Grow(None, np.float64, c),
                   "flags": _Grow(None, np.int8, c)}
        for f in LAYER_FIELDS:
            self._s[f] = _Grow(n_layers, np.float32, c)
        self._e = {f: _Grow(None, np.float64) for f in EVAL_FIELDS}
        self._e["eval_dead"] = _Grow(n_layers, np.float32)
        self._e["eval_sat"] = _Grow(n_layers, np.float32)
        self._eval_pairs = [(f, self._e[f]) for f in EVAL_FIELDS + ("eval_dead",
                                                                     "eval_sat")]
        self._step_pairs = [(f, self._s[f]) for f in STEP_FIELDS + LAYER_FIELDS]

    @property
    def n_steps(self) -> int:
        return self._s["loss"].n

    @property
    def n_evals(self) -> int:
        return self._e["step"].n

    def append_steps(self, chunk: "Chunk") -> None:
        with np.errstate(over="ignore", invalid="ignore"):  # inf in float32 is fine
            for f, g in self._step_pairs:
                g.append(getattr(chunk, f))

    def append_evaluation(self, row: dict) -> None:
        """One evaluation row; ``None`` (accuracy of a regression, test values without a
        test split) is stored as NaN. (No ``np.errstate``: float64 values and fractions
        of units cannot overflow, and the context cost a third of this method.)"""
        for f, g in self._eval_pairs:
            v = row[f]
            g.push(np.nan if v is None else v)

    def truncate(self, step: int) -> None:
        """Drop everything after ``step`` (used when a run is rewound)."""
        k = max(0, step - self.first_step)
        for g in self._s.values():
            g.truncate(k)
        steps = self._e["step"].view()
        keep = int(np.searchsorted(steps, step, side="right"))
        for g in self._e.values():
            g.truncate(keep)

    def steps(self) -> dict[str, np.ndarray]:
        """Read-only views of the per-step arrays, plus ``step`` (the step numbers, 1-based:
        entry i is the metrics of step first_step + i + 1)."""
        out = {f: g.view() for f, g in self._s.items()}
        out["step"] = np.arange(self.first_step + 1, self.first_step + self.n_steps + 1)
        return out

    def evals(self) -> dict[str, np.ndarray]:
        return {f: g.view() for f, g in self._e.items()}


@dataclass
class Chunk:
    """The metrics of consecutive steps ``start+1 .. start+n`` as written by one kernel call."""
    start: int
    loss: np.ndarray
    lr: np.ndarray
    flags: np.ndarray
    gnorm: np.ndarray
    wnorm: np.ndarray
    uratio: np.ndarray
    dead: np.ndarray
    sat: np.ndarray

    @property
    def n(self) -> int:
        return int(self.loss.shape[0])

    @property
    def steps(self) -> np.ndarray:
        return np.arange(self.start + 1, self.start + self.n + 1)
