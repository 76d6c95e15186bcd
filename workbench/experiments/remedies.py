"""Which experiment answers which diagnostics finding ("Try the remedy" can start it).

``underfitting`` asks whether another architecture would help: the capacity sweep.
``overfitting`` asks whether more data would help: the learning curve.
``lr_too_high`` (and ``diverging``, ``oscillating_loss``) ask for a better rate: the
range test. ``lr_too_low`` asks the same, and the practical test shows it side by side.
"""
from __future__ import annotations

from typing import Callable

from .curves import capacity_sweep, learning_curve
from .lr import lr_test, range_test

#: finding code -> (experiment name, function(config, progress=, cancel=, ...)).
EXPERIMENT_FOR_FINDING: dict[str, tuple[str, Callable]] = {
    "underfitting": ("capacity sweep", capacity_sweep),
    "overfitting": ("learning curve", learning_curve),
    "lr_too_high": ("learning-rate range test", range_test),
    "diverging": ("learning-rate range test", range_test),
    "oscillating_loss": ("learning-rate range test", range_test),
    "lr_too_low": ("practical learning-rate test", lr_test),
}


def experiment_for(code: str) -> tuple[str, Callable] | None:
    """The experiment that answers a finding's question, or None."""
    return EXPERIMENT_FOR_FINDING.get(code)
