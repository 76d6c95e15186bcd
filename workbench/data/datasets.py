"""The datasets a run trains on, and the train/test split.

Geometry follows TensorFlow Playground: the 2-D sets span about [-6, 6] and are not
standardised (that range counts as well scaled), and ``noise`` means what it means
there (0 to 0.5 is the useful range; more is allowed). Where the playground's own
generator is the reference (circle, xor, gaussian, spiral, plane, six bumps) its formula
is used; in particular, for ``circle`` and ``xor`` the playground perturbs the point only
to *decide its label* and draws the point where it was generated, so noise there shows
as wrongly labelled points near the boundary, not as blurred rings. ``linear`` does the
same.

Every random draw is seeded from the run's seed through separate streams, so that
changing one part (say, the number of noise features) never changes another (the
points or the split):

- ``default_rng([seed, 1])``: generating the points,
- ``default_rng([seed, 2])``: the train/test split,
- ``default_rng([seed, 3])``: the noise-feature columns,
- ``default_rng([seed, 4])``: noise-feature columns of points added by hand
  (:meth:`Dataset.with_points`).
"""
from __future__ import annotations

import dataclasses
import gzip
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from ..config import CLASSIFICATION_2D, DEFAULTS, GATES, REGRESSION_1D, REGRESSION_2D
from .csv_import import DataError, read_csv_table
from .features import apply_features, feature_names

from ..resources import RESOURCES
DIGITS_PATH = RESOURCES / "digits.csv.gz"

#: The truth tables of the logic gates, in the order of :data:`GATE_CORNERS`.
GATE_CORNERS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
GATE_TABLES = {
    "and_gate": (0, 0, 0, 1),
    "or_gate": (0, 1, 1, 1),
    "nand_gate": (1, 1, 1, 0),
    "xor_gate": (0, 1, 1, 0),
}

#: ``linear``: class 1 lies strictly above the line x2 = LINEAR_SLOPE * x1 (through the
#: origin, tilted so that neither input alone separates the classes).
LINEAR_SLOPE = 0.5


@dataclass(frozen=True, eq=False)
class Dataset:
    """A dataset split into train and test, as the model sees it and as it was drawn.

    Attributes
    ----------
    name : str
        The dataset name (``data.name``).
    task : str
        ``"classification"`` or ``"regression"``.
    n_classes : int or None
        Number of classes (2 for the 2-D sets and the gates, 10 for digits); None for
        regression.
    X_train, X_test : np.ndarray, shape (n_train, d) and (n_test, d), float64
        Model inputs: features, times ``scale``, then the noise-feature columns.
        ``X_test`` has shape (0, d) when there is no test split.
    y_train, y_test : np.ndarray
        Classification: shape (n,) int64 labels 0..C-1. Regression: shape (n, k)
        float64.
    raw_train, raw_test : np.ndarray, shape (n, raw_dim), float64
        The raw inputs before features, scale and noise columns (for plotting the
        input plane).
    feature_names : list of str, length d
        Names of the columns of ``X_*`` (``"x1"``, ``"x1^2"``, ``"noise1"``, ...).
    raw_dim : int
        Number of raw inputs: 2 for the 2-D sets and gates, 1 for ``reg_line`` and
        ``reg_sine``, 64 for digits, the input column count for CSV.
    feature_spec : None or list
        The feature specification that was applied (None for digits and CSV).
    scale : float
        The factor applied to every feature column.
    noise_features : int
        Number of noise columns appended after the real ones.
    noise_std : float
        Standard deviation of the noise columns (the mean std of the real columns).
    seed : int
        The run seed the dataset was built from.
    """

    name: str
    task: str
    n_classes: int | None
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    raw_train: np.ndarray
    raw_test: np.ndarray
    feature_names: list[str]
    raw_dim: int
    feature_spec: Any = None
    scale: float = 1.0
    noise_features: int = 0
    noise_std: float = 0.0
    seed: int = 0

    @property
    def n_features(self) -> int:
        """Number of model inputs d (columns of ``X_train``)."""
        return int(self.X_train.shape[1])

    def __repr__(self) -> str:
        return (f"Dataset(name={self.name!r}, task={self.task!r}, "
                f"n_classes={self.n_classes}, train={self.X_train.shape}, "
                f"test={self.X_test.shape}, features={self.feature_names})")

    def transform(self, raw: np.ndarray) -> np.ndarray:
        """Map raw inputs to model inputs, as the training data were mapped.

        Noise-feature columns are filled with 0, their mean, so that a decision map
        drawn over a grid shows what the model does with the real inputs alone.

        Parameters
        ----------
        raw : np.ndarray, shape (m, raw_dim)
            Raw inputs; shape (m,) is accepted when ``raw_dim`` is 1.

        Returns
        -------
        np.ndarray, shape (m, n_features), float64
        """
        raw = np.asarray(raw, dtype=np.float64)
        if raw.ndim == 1 and self.raw_dim == 1:
            raw = raw.reshape(-1, 1)
        if raw.ndim != 2 or raw.shape[1] != self.raw_dim:
            raise DataError(f"raw inputs for {self.name} must have shape (m, "
                            f"{self.raw_dim}), got {raw.shape}")
        X = apply_features(raw, self.feature_spec) * self.scale
        if self.noise_features:
            X = np.hstack([X, np.zeros((X.shape[0], self.noise_features))])
        return X

    def with_points(self, raw_xy: np.ndarray, labels: np.ndarray) -> Dataset:
        """Return a copy whose training split is the given points (test split kept).

        For 2-D classification only (the points a user clicks into the input plane).
        Noise-feature columns get fresh noise of the same spread from a fixed seed, so
        the same points give the same inputs.

        Parameters
        ----------
        raw_xy : np.ndarray, shape (m, 2)
            Raw input points.
        labels : np.ndarray, shape (m,)
            Integer class labels in 0..n_classes-1.

        Returns
        -------
        Dataset
        """
        if self.task != "classification" or self.raw_dim != 2:
            raise DataError(f"points can be placed by hand only on 2-D classification "
                            f"data, not on {self.name}")
        raw = np.asarray(raw_xy, dtype=np.float64).reshape(-1, 2)
        lab = np.asarray(labels)
        if lab.shape != (raw.shape[0],):
            raise DataError(f"{raw.shape[0]} points need {raw.shape[0]} labels, got "
                            f"shape {lab.shape}")
        if lab.size and (not np.all(lab == np.round(lab)) or lab.min() < 0
                         or lab.max() >= self.n_classes):
            raise DataError(f"labels must be integers from 0 to {self.n_classes - 1}")
        X = self.transform(raw)
        if self.noise_features:
            rng = np.random.default_rng([self.seed, 4])
            X[:, -self.noise_features:] = (
                rng.standard_normal((raw.shape[0], self.noise_features)) * self.noise_std)
        return dataclasses.replace(self, X_train=X, y_train=lab.astype(np.int64),
                                   raw_train=raw.copy())


# --- generators ----------------------------------------------------------------------
# Each takes (n, noise, rng) and returns raw X (n, dim) float64 and y: (n,) int64 labels
# or (n, 1) float64 targets. Two-class sets put ceil(n/2) points in class 1 and
# floor(n/2) in class 0, so n points come back (the playground's loops give n+1 for odd
# n).

def _halves(n: int) -> tuple[int, int]:
    return n - n // 2, n // 2


def _labels(n1: int, n0: int) -> np.ndarray:
    return np.concatenate([np.ones(n1, np.int64), np.zeros(n0, np.int64)])


def _circle(n: int, noise: float, rng: np.random.Generator):
    n1, n0 = _halves(n)
    r = np.concatenate([rng.uniform(0.0, 2.5, n1), rng.uniform(3.5, 5.0, n0)])
    angle = rng.uniform(0.0, 2 * np.pi, n)
    X = np.column_stack([r * np.sin(angle), r * np.cos(angle)])
    # As in the playground, noise decides the label but does not move the point.
    probe = X + rng.uniform(-5.0, 5.0, (n, 2)) * noise
    y = (np.hypot(probe[:, 0], probe[:, 1]) < 2.5).astype(np.int64)
    return X, y


def _xor(n: int, noise: float, rng: np.random.Generator):
    n1, _n0 = _halves(n)
    # |x| uniform on [0.3, 5] keeps every point 0.3 from the axes inside [-5, 5]^2.
    mag = rng.uniform(0.3, 5.0, (n, 2))
    sx = rng.choice([-1.0, 1.0], n)
    # Equal signs for the first n1 (class 1), opposite for the rest: exact balance at
    # noise 0 while each class still fills its two quadrants uniformly.
    sy = np.concatenate([sx[:n1], -sx[n1:]])
    X = mag * np.column_stack([sx, sy])
    probe = X + rng.uniform(-5.0, 5.0, (n, 2)) * noise
    y = (probe[:, 0] * probe[:, 1] >= 0).astype(np.int64)
    return X, y


def _gaussian(n: int, noise: float, rng: np.random.Generator):
    n1, n0 = _halves(n)
    # The playground's variance scale: linear from 0.5 at noise 0 to 4 at noise 0.5,
    # extended (not clamped) beyond.
    std = math.sqrt(0.5 + (4.0 - 0.5) * noise / 0.5)
    X = np.concatenate([rng.normal(2.0, std, (n1, 2)), rng.normal(-2.0, std, (n0, 2))])
    return X, _labels(n1, n0)


def _spiral(n: int, noise: float, rng: np.random.Generator):
    n1, n0 = _halves(n)
    arms = []
    for m, delta in ((n1, 0.0), (n0, np.pi)):
        i = np.arange(m)
        r = i / max(m, 1) * 5.0
        t = 1.75 * i / max(m, 1) * 2 * np.pi + delta
        arms.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
    X = np.concatenate(arms) + rng.uniform(-1.0, 1.0, (n, 2)) * noise
    return X, _labels(n1, n0)


def _moons(n: int, noise: float, rng: np.random.Generator):
    n1, n0 = _halves(n)
    t = rng.uniform(0.0, np.pi, n)
    # scikit-learn's moons: class 0 the upper arc, class 1 the lower one shifted right;
    # together they span x in [-1, 2], y in [-0.5, 1].
    inner = np.column_stack([1 - np.cos(t[:n1]), 0.5 - np.sin(t[:n1])])
    outer = np.column_stack([np.cos(t[n1:]), np.sin(t[n1:])])
    X = np.concatenate([inner, outer]) + rng.normal(0.0, 1.0, (n, 2)) * noise
    # Centre and stretch to x in [-5, 5], y in [-2.5, 2.5]: the playground's range.
    X = (X - [0.5, 0.25]) * (10.0 / 3.0)
    return X, _labels(n1, n0)


def _linear(n: int, noise: float, rng: np.random.Generator):
    n1, n0 = _halves(n)
    X = rng.uniform(-5.0, 5.0, (n, 2))
    # Reflecting through the origin maps the square onto itself and one side of the
    # line onto the other, so flipping points to their class's side keeps them uniform
    # and makes the classes exactly balanced.
    want = _labels(n1, n0).astype(bool)
    above = X[:, 1] > LINEAR_SLOPE * X[:, 0]
    X[above != want] *= -1.0
    probe = X + rng.uniform(-5.0, 5.0, (n, 2)) * noise
    y = (probe[:, 1] > LINEAR_SLOPE * probe[:, 0]).astype(np.int64)
    return X, y


def _gate(table: tuple[int, ...]) -> Callable:
    def make(n: int, noise: float, rng: np.random.Generator):
        labels = np.array(table, dtype=np.int64)
        if noise == 0:
            return GATE_CORNERS.copy(), labels
        # Cycling through the corners gives each n // 4 or n // 4 + 1 copies.
        idx = np.arange(n) % 4
        return GATE_CORNERS[idx] + rng.normal(0.0, noise, (n, 2)), labels[idx]
    return make


def _reg_line(n: int, noise: float, rng: np.random.Generator):
    x = rng.uniform(-5.0, 5.0, (n, 1))
    return x, 0.8 * x + 0.2 + rng.normal(0.0, 1.0, (n, 1)) * noise


def _reg_sine(n: int, noise: float, rng: np.random.Generator):
    x = rng.uniform(-6.0, 6.0, (n, 1))
    return x, np.sin(x) + rng.normal(0.0, 1.0, (n, 1)) * noise


def _reg_plane(n: int, noise: float, rng: np.random.Generator):
    X = rng.uniform(-6.0, 6.0, (n, 2))
    # The playground's plane: (x1 + x2) / 10, read at a point moved by the noise, so the
    # target spans about [-1.2, 1.2].
    probe = X + rng.uniform(-6.0, 6.0, (n, 2)) * noise
    return X, (probe.sum(axis=1) / 10.0).reshape(-1, 1)


_BUMPS = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1],
                   [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]], dtype=np.float64)


def _reg_gauss(n: int, noise: float, rng: np.random.Generator):
    X = rng.uniform(-6.0, 6.0, (n, 2))
    probe = X + rng.uniform(-6.0, 6.0, (n, 2)) * noise
    # The playground's six bumps: each is sign * (1 - dist / 2) clamped to [0, 1]; the
    # target is the bump largest in absolute value (the first one on ties).
    d = np.hypot(probe[:, None, 0] - _BUMPS[:, 0], probe[:, None, 1] - _BUMPS[:, 1])
    vals = _BUMPS[:, 2] * np.clip(1.0 - d / 2.0, 0.0, 1.0)
    best = np.argmax(np.abs(vals), axis=1)
    return X, vals[np.arange(n), best].reshape(-1, 1)


@lru_cache(maxsize=1)
def _digits_cached() -> tuple[np.ndarray, np.ndarray]:
    try:
        with gzip.open(DIGITS_PATH, "rt") as fh:
            table = np.loadtxt(fh, delimiter=",", dtype=np.float64)
    except OSError as e:
        raise DataError(f"cannot read the bundled digits data {DIGITS_PATH}: {e}") from None
    return table[:, :-1] / 16.0, table[:, -1].astype(np.int64)


def _digits(n: int, noise: float, rng: np.random.Generator):
    X, y = _digits_cached()
    # Copies, so a caller that writes into its arrays cannot change the cached data.
    return X.copy(), y.copy()


_GENERATORS: dict[str, Callable] = {
    "circle": _circle, "xor": _xor, "gaussian": _gaussian, "spiral": _spiral,
    "moons": _moons, "linear": _linear,
    **{name: _gate(table) for name, table in GATE_TABLES.items()},
    "reg_line": _reg_line, "reg_sine": _reg_sine,
    "reg_plane": _reg_plane, "reg_gauss": _reg_gauss,
    "digits": _digits,
}


def make_raw(name: str, n_samples: int, noise: float,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw the raw points of a built-in dataset (before split and features).

    Parameters
    ----------
    name : str
        A dataset name other than ``csv``.
    n_samples : int
        Number of points; ignored by digits and by the gates at noise 0.
    noise : float
        The playground's noise, >= 0; ignored by digits.
    rng : np.random.Generator
        Source of every random draw.

    Returns
    -------
    X : np.ndarray, shape (n, raw_dim), float64
    y : np.ndarray
        Classification: shape (n,) int64 labels. Regression: shape (n, 1) float64.
    """
    if name not in _GENERATORS:
        hint = " (CSV data come from load_csv)" if name == "csv" else ""
        raise DataError(f"unknown dataset '{name}'{hint}; known: "
                        + ", ".join(_GENERATORS))
    if n_samples < 1:
        raise DataError(f"n_samples = {n_samples} is not allowed: need at least 1")
    if not noise >= 0:
        raise DataError(f"noise = {noise} is not allowed: need a number >= 0")
    X, y = _GENERATORS[name](int(n_samples), float(noise), rng)
    return np.ascontiguousarray(X, dtype=np.float64), y


def _n_test(test_fraction: float, n: int) -> int:
    # Half rounds up (floor(x + 0.5)) rather than to even, so 0.3 of 15 is 5, not 4;
    # at least one sample always stays in training.
    return min(math.floor(test_fraction * n + 0.5), n - 1)


def load_dataset(data_cfg: dict, seed: int) -> Dataset:
    """Build the dataset a run trains on.

    Parameters
    ----------
    data_cfg : dict
        The ``data`` section of a validated configuration; missing keys take their
        defaults.
    seed : int
        The run seed; the same (data_cfg, seed) always gives the same arrays.

    Returns
    -------
    Dataset

    Raises
    ------
    DataError
        Unknown dataset, unreadable or bad CSV, bad feature specification.

    Notes
    -----
    Model inputs are ``apply_features(raw) * scale`` followed by ``noise_features``
    columns of N(0, s^2), s the mean standard deviation (over all samples) of those
    scaled real columns. The split shuffles the samples with a seeded permutation and
    takes the last ``floor(test_fraction * n + 0.5)`` as the test set. The gates at
    noise 0 are the four corners in truth-table order and are never split.
    """
    cfg = {**DEFAULTS["data"], **dict(data_cfg)}
    name = cfg["name"]
    seed = int(seed)
    if name == "csv":
        if not cfg.get("path"):
            raise DataError("data.name is csv but data.path is not set")
        raw, y, task, names = read_csv_table(cfg["path"])
    else:
        raw, y = make_raw(name, cfg["n_samples"], cfg["noise"],
                          np.random.default_rng([seed, 1]))
        task = "regression" if name in REGRESSION_1D + REGRESSION_2D else "classification"
        names = None
    n, raw_dim = raw.shape
    if task == "classification":
        n_classes = 10 if name == "digits" else (
            2 if name in CLASSIFICATION_2D + GATES else int(y.max()) + 1)
    else:
        n_classes = None

    # Features are defined for the 1-D and 2-D sets only; higher-dimensional inputs go
    # in as they are.
    spec = cfg["features"] if name not in ("digits", "csv") and raw_dim <= 2 else None
    scale = float(cfg["scale"])
    X = apply_features(raw, spec) * scale
    if names is None or spec is not None:
        names = feature_names(spec, raw_dim)
    names = list(names)

    k = int(cfg["noise_features"])
    noise_std = 0.0
    if k:
        noise_std = float(np.mean(X.std(axis=0))) if n > 1 else 0.0
        if not (np.isfinite(noise_std) and noise_std > 0):
            noise_std = 1.0  # constant columns give no spread to copy; unit noise instead
        noise_cols = np.random.default_rng([seed, 3]).standard_normal((n, k)) * noise_std
        X = np.hstack([X, noise_cols])
        names += [f"noise{i + 1}" for i in range(k)]

    if name in GATES and cfg["noise"] == 0:
        # Four points cannot be split meaningfully: all train, in truth-table order.
        train, test = np.arange(n), np.arange(0)
    else:
        perm = np.random.default_rng([seed, 2]).permutation(n)
        n_test = _n_test(float(cfg["test_fraction"]), n)
        train, test = perm[:n - n_test], perm[n - n_test:]

    return Dataset(
        name=name, task=task, n_classes=n_classes,
        X_train=np.ascontiguousarray(X[train]), y_train=np.ascontiguousarray(y[train]),
        X_test=np.ascontiguousarray(X[test]), y_test=np.ascontiguousarray(y[test]),
        raw_train=np.ascontiguousarray(raw[train]), raw_test=np.ascontiguousarray(raw[test]),
        feature_names=names, raw_dim=int(raw_dim), feature_spec=spec, scale=scale,
        noise_features=k, noise_std=noise_std, seed=seed,
    )
