"""Feature transforms: the columns a model sees, built from a dataset's raw inputs.

A feature specification is ``None`` (the raw inputs) or a list whose items are names
(``"x1"``, ``"x2"``, ``"x1^2"``, ``"x2^2"``, ``"x1*x2"``, ``"sin(x1)"``, ``"sin(x2)"``;
for 1-D data only ``"x1"``, ``"x1^2"``, ``"sin(x1)"``) or ``{"poly": k}``, which stands
for every monomial of total degree 1..k. Columns that come out twice are kept once, at
their first position, so ``["x1", {"poly": 2}]`` is ``x1, x2, x1^2, x1*x2, x2^2``.

Features apply to the 1-D and 2-D sets only; for higher-dimensional raw inputs (digits,
CSV) the specification is ignored and the raw columns are used as they are.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .csv_import import DataError

NAMED_2D = ("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)")
NAMED_1D = ("x1", "x1^2", "sin(x1)")


def _monomial_name(a: int, b: int) -> str:
    """Name of x1^a * x2^b, e.g. ``x1^2*x2``; powers of 1 are left out."""
    parts = []
    for var, p in (("x1", a), ("x2", b)):
        if p == 1:
            parts.append(var)
        elif p > 1:
            parts.append(f"{var}^{p}")
    return "*".join(parts)


def _monomial(a: int, b: int) -> Callable[[np.ndarray], np.ndarray]:
    def f(raw: np.ndarray) -> np.ndarray:
        out = raw[:, 0] ** a if a else np.ones(raw.shape[0])
        return out * raw[:, 1] ** b if b else out
    return f


def _expand(spec: Any, raw_dim: int) -> list[tuple[str, Callable[[np.ndarray], np.ndarray]]]:
    """Turn a specification into an ordered, duplicate-free list of (name, function)."""
    if raw_dim not in (1, 2):
        raise DataError(f"features apply to 1-D and 2-D data, not {raw_dim}-D")
    named: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "x1": lambda r: r[:, 0],
        "x1^2": lambda r: r[:, 0] ** 2,
        "sin(x1)": lambda r: np.sin(r[:, 0]),
    }
    if raw_dim == 2:
        named.update({
            "x2": lambda r: r[:, 1],
            "x2^2": lambda r: r[:, 1] ** 2,
            "x1*x2": lambda r: r[:, 0] * r[:, 1],
            "sin(x2)": lambda r: np.sin(r[:, 1]),
        })
    allowed = NAMED_2D if raw_dim == 2 else NAMED_1D

    items: list[tuple[str, Callable]] = []
    for f in spec:
        if isinstance(f, dict):
            k = f.get("poly")
            if set(f) != {"poly"} or isinstance(k, bool) or not isinstance(k, (int, float)) \
                    or k != int(k) or k < 1:
                raise DataError(f"feature {f!r} is not allowed: use {{'poly': k}} with k an "
                                "integer >= 1")
            k = int(k)
            if raw_dim == 1:
                items.extend((_monomial_name(d, 0), _monomial(d, 0)) for d in range(1, k + 1))
            else:
                # By total degree, then by falling power of x1: x1, x2, x1^2, x1*x2, x2^2.
                items.extend((_monomial_name(a, d - a), _monomial(a, d - a))
                             for d in range(1, k + 1) for a in range(d, -1, -1))
        elif isinstance(f, str) and f in named:
            items.append((f, named[f]))
        else:
            raise DataError(f"feature {f!r} is not allowed for {raw_dim}-D data: use "
                            + ", ".join(allowed) + " or {'poly': k}")
    seen: set[str] = set()
    out = []
    for name, fn in items:
        if name not in seen:
            seen.add(name)
            out.append((name, fn))
    return out


def feature_names(spec: Any, raw_dim: int) -> list[str]:
    """Names of the columns :func:`apply_features` produces.

    Parameters
    ----------
    spec : None or list
        The feature specification (``data.features``).
    raw_dim : int
        Number of raw input columns.

    Returns
    -------
    list of str
        ``x1 .. x{raw_dim}`` when ``spec`` is None or ``raw_dim`` > 2.
    """
    if spec is None or raw_dim > 2:
        return [f"x{j + 1}" for j in range(raw_dim)]
    return [name for name, _ in _expand(spec, raw_dim)]


def apply_features(raw: np.ndarray, spec: Any) -> np.ndarray:
    """Compute the feature columns of raw inputs.

    Parameters
    ----------
    raw : np.ndarray, shape (m, raw_dim)
        Raw inputs.
    spec : None or list
        The feature specification. Ignored (raw returned) when ``raw_dim`` > 2.

    Returns
    -------
    np.ndarray, shape (m, n_features), float64
        A new array; ``raw`` is never modified.
    """
    raw = np.asarray(raw, dtype=np.float64)
    if raw.ndim != 2:
        raise DataError(f"raw inputs must be a 2-D array (samples, inputs), got shape "
                        f"{raw.shape}")
    if spec is None or raw.shape[1] > 2:
        return raw.copy()
    cols = [fn(raw) for _, fn in _expand(spec, raw.shape[1])]
    out = np.empty((raw.shape[0], len(cols)), dtype=np.float64)
    for j, c in enumerate(cols):
        out[:, j] = c
    return out
