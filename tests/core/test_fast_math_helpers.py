"""The kernels' own tanh, exp, log1p(exp) and sigmoid against NumPy's (libm): accuracy in ulp and
edge cases."""
import numpy as np
from numba import njit

from workbench.core import kernels as K


_LOOPS = {}


def _apply(f, x, out):
    """Run the inlined kernel helper ``f`` on every element of ``x`` into ``out``, in a
    compiled loop (one per helper)."""
    loop = _LOOPS.get(f)
    if loop is None:
        @njit(cache=False)
        def loop(x, out):
            for i in range(x.shape[0]):
                out[i] = f(x[i])
        _LOOPS[f] = loop
    loop(x, out)


def _ulp(a, ref):
    return np.abs(a - ref) / np.spacing(np.abs(ref))


def test_tanh_within_three_ulp_of_libm():
    rng = np.random.default_rng(1)
    z = np.concatenate([rng.normal(0, 3, 50000), rng.uniform(-1e-6, 1e-6, 5000),
                        rng.uniform(-0.7, 0.7, 50000), rng.uniform(0.6, 1.5, 50000),
                        rng.uniform(-25, 25, 5000),
                        [0.625, -0.625, np.nextafter(0.625, 1), 1e-300, 5e-324, 19.06]])
    out = np.empty_like(z)
    _apply(K._tanh, z, out)
    assert _ulp(out, np.tanh(z)).max() <= 3.0


def test_tanh_edge_cases():
    z = np.array([0.0, -0.0, 1e300, -1e300, np.inf, -np.inf, np.nan, 40.0, -20.0])
    out = np.empty_like(z)
    _apply(K._tanh, z, out)
    np.testing.assert_array_equal(out[:6], [0.0, -0.0, 1.0, -1.0, 1.0, -1.0])
    assert np.signbit(out[1])
    assert np.isnan(out[6])
    np.testing.assert_array_equal(out[7:], [1.0, -1.0])


def test_exp_le0_within_two_ulp_and_through_the_denormals():
    rng = np.random.default_rng(3)
    x = np.concatenate([-rng.exponential(3, 50000), rng.uniform(-745, 0, 50000),
                        rng.uniform(-1e-8, 0, 1000), [0.0, -708.3, -709.0, -745.1]])
    out = np.empty_like(x)
    _apply(K._exp_le0, x, out)
    ref = np.exp(x)
    normal = ref >= np.finfo(np.float64).tiny
    assert (np.abs(out - ref)[normal] / np.spacing(ref[normal])).max() <= 2.0
    assert np.abs(out - ref)[~normal].max() <= 5e-324
    edge = np.array([-np.inf, np.nan, -1e300, -0.0])
    out = np.empty_like(edge)
    _apply(K._exp_le0, edge, out)
    assert out[0] == 0.0 and np.isnan(out[1]) and out[2] == 0.0 and out[3] == 1.0


def test_log1p_on_0_1_within_one_ulp():
    rng = np.random.default_rng(5)
    e = np.concatenate([rng.random(100000), np.geomspace(1e-320, 1.0, 50000),
                        [1.0, K._SQRT2_M1, np.nextafter(K._SQRT2_M1, 1.0), 0.5]])
    out = np.empty_like(e)
    _apply(K._log1p01, e, out)
    ref = np.log1p(e)
    assert _ulp(out, ref)[ref > 0].max() <= 1.0
    z = np.ones(1)
    _apply(K._log1p01, np.zeros(1), z)
    assert z[0] == 0.0


def test_log1pexp_within_two_ulp_of_logaddexp_and_its_edges():
    rng = np.random.default_rng(6)
    z = np.concatenate([rng.normal(0, 5, 100000), rng.normal(0, 200, 20000),
                        np.linspace(-750, 750, 3001), [40.0, -40.0, 1e-300, -1e-300]])
    out = np.empty_like(z)
    _apply(K._log1pexp, z, out)
    ref = np.logaddexp(0.0, z)
    pos = ref > 0
    assert _ulp(out, ref)[pos].max() <= 2.0
    assert np.abs(out - ref)[~pos].max() <= 5e-324
    edge = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 1e300, -1e300])
    out = np.empty_like(edge)
    _apply(K._log1pexp, edge, out)
    assert out[0] == np.inf and out[1] == 0.0 and np.isnan(out[2])
    assert out[3] == out[4] == np.log(2.0)
    assert out[5] == 1e300 and out[6] == 0.0


def _sigmoid_libm(z):
    """The sigmoid as the kernels computed it before session 18 (libm's exp)."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def test_sigmoid_within_four_ulp_of_libm_and_its_edges():
    """The branch-free sigmoid (exp(-|z|) by _exp_le0, one division) against the same
    formula on libm's exp: within 4 ulp wherever the result is a normal number, and the
    tails to the last denormal."""
    rng = np.random.default_rng(7)
    z = np.concatenate([rng.normal(0, 3, 100000), rng.uniform(-40, 40, 50000),
                        rng.uniform(-745, 745, 20000), rng.uniform(-1e-8, 1e-8, 1000),
                        [0.0, 36.0, 37.0, -708.0, -744.0]])
    out = np.empty_like(z)
    _apply(K._sigmoid, z, out)
    ref = _sigmoid_libm(z)
    normal = ref >= np.finfo(np.float64).tiny
    assert _ulp(out, ref)[normal].max() <= 4.0
    assert np.abs(out - ref)[~normal].max() <= 5e-324
    assert (out >= 0).all() and (out <= 1).all()
    edge = np.array([np.inf, -np.inf, np.nan, -0.0, 1e300, -1e300, 800.0, -800.0])
    out = np.empty_like(edge)
    _apply(K._sigmoid, edge, out)
    assert out[0] == 1.0 and out[1] == 0.0 and np.isnan(out[2]) and out[3] == 0.5
    assert out[4] == 1.0 and out[5] == 0.0 and out[6] == 1.0 and out[7] == 0.0
