"""The per-step dead and saturated fractions of the training kernel (``_unit_stats``)
against their definitions, on chosen batches with ties, zeros and NaN."""
import numpy as np
import pytest
from numba import njit

from workbench.core import kernels as K

RELU, SIGMOID, TANH, LINEAR = (K.ACT_CODES[n] for n in ("relu", "sigmoid", "tanh", "linear"))


@njit(cache=False)
def _stats(acts, rows, units, zbuf, abuf, zcum, acum, B, dead, sat):
    K._unit_stats(acts, rows, units, zbuf, abuf, zcum, acum, B, dead, sat, 0)


def _expected(code, a):
    """Per the issue: dead = a ReLU unit inactive on every sample of the batch; saturated
    = a sigmoid/tanh unit whose derivative is below 0.01 on every sample (a NaN is
    neither active nor unsaturated)."""
    with np.errstate(invalid="ignore"):
        if code == RELU:
            return float(np.mean(~(a > 0.0).any(axis=0))), 0.0
        if code in (SIGMOID, TANH):
            d = a * (1.0 - a) if code == SIGMOID else 1.0 - a * a
            return 0.0, float(np.mean(~(d >= 0.01).any(axis=0)))
    return 0.0, 0.0


@pytest.mark.parametrize("B", [1, 3, 10, 32])
def test_fractions_match_their_definitions(B):
    rng = np.random.default_rng(B)
    # layers of 16 units or more take passes along the rows, narrower ones a scan of
    # each unit's column: both kinds for ReLU, the narrow kind for sigmoid and tanh
    codes = [RELU, TANH, SIGMOID, RELU, RELU, LINEAR]
    units = np.array([3, 17, 8, 9, 64, 5, 2])
    rows = units[1:].copy()
    zcum = np.concatenate([[0], np.cumsum(rows)])
    acum = np.concatenate([[0], np.cumsum(units)])
    abuf = np.zeros(B * acum[-1])
    for l, code in enumerate(codes):
        u = units[l + 1]
        if code == RELU:
            a = np.maximum(rng.standard_normal((B, u)) - 0.8, 0.0)
            a[:, : u // 3] = 0.0                      # dead units
            a[:, u // 3] = -0.0
            a[:, u // 3 + 1] = np.nan                 # NaN everywhere: no sample active
            a[0, u // 3 + 2] = np.nan                 # one NaN, other samples decide
        elif code == SIGMOID:
            a = rng.choice([1e-4, 0.5, 1 - 1e-4, 0.98989794855663561], size=(B, u))
            a[:, 0] = 1e-4                            # saturated
            a[:, 1] = 0.99                            # derivative 0.0099
        else:
            a = rng.choice([0.9999, -0.9999, 0.3, np.sqrt(0.99)], size=(B, u))
            a[:, 0] = -0.99999
            a[:, 1] = np.nan
        abuf[B * acum[l + 1]: B * acum[l + 2]] = a.ravel()
    zbuf = np.full(B * zcum[-1], 7.0)
    dead = np.full((1, len(codes)), -1.0)
    sat = np.full((1, len(codes)), -1.0)
    _stats(np.array(codes, np.int64), rows, units, zbuf, abuf, zcum, acum, B, dead, sat)
    for l, code in enumerate(codes):
        a = abuf[B * acum[l + 1]: B * acum[l + 2]].reshape(B, units[l + 1])
        assert (dead[0, l], sat[0, l]) == _expected(code, a), (l, code)
    assert dead[0, 0] >= 6 / 17 and sat[0, 1] > 0 and sat[0, 2] >= 2 / 9 and dead[0, 4] > 0
    assert units[1] >= K._STATS_PASS_MIN_UNITS > units[5]
