"""The kernels' own tanh against NumPy's (libm): accuracy in ulp and edge cases."""
import numpy as np
from numba import njit

from workbench.core import kernels as K


@njit(cache=False)
def _tanh_all(z, out):
    for i in range(z.shape[0]):
        out[i] = K._tanh(z[i])


def _ulp(a, ref):
    return np.abs(a - ref) / np.spacing(np.abs(ref))


def test_tanh_within_three_ulp_of_libm():
    rng = np.random.default_rng(1)
    z = np.concatenate([rng.normal(0, 3, 50000), rng.uniform(-1e-6, 1e-6, 5000),
                        rng.uniform(-0.7, 0.7, 50000), rng.uniform(0.6, 1.5, 50000),
                        rng.uniform(-25, 25, 5000),
                        [0.625, -0.625, np.nextafter(0.625, 1), 1e-300, 5e-324, 19.06]])
    out = np.empty_like(z)
    _tanh_all(z, out)
    assert _ulp(out, np.tanh(z)).max() <= 3.0


def test_tanh_edge_cases():
    z = np.array([0.0, -0.0, 1e300, -1e300, np.inf, -np.inf, np.nan, 40.0, -20.0])
    out = np.empty_like(z)
    _tanh_all(z, out)
    np.testing.assert_array_equal(out[:6], [0.0, -0.0, 1.0, -1.0, 1.0, -1.0])
    assert np.signbit(out[1])
    assert np.isnan(out[6])
    np.testing.assert_array_equal(out[7:], [1.0, -1.0])


@njit(cache=False)
def _exp_le0_all(x, out):
    for i in range(x.shape[0]):
        out[i] = K._exp_le0(x[i])


def test_exp_le0_within_two_ulp_and_through_the_denormals():
    rng = np.random.default_rng(3)
    x = np.concatenate([-rng.exponential(3, 50000), rng.uniform(-745, 0, 50000),
                        rng.uniform(-1e-8, 0, 1000), [0.0, -708.3, -709.0, -745.1]])
    out = np.empty_like(x)
    _exp_le0_all(x, out)
    ref = np.exp(x)
    normal = ref >= np.finfo(np.float64).tiny
    assert (np.abs(out - ref)[normal] / np.spacing(ref[normal])).max() <= 2.0
    assert np.abs(out - ref)[~normal].max() <= 5e-324
    edge = np.array([-np.inf, np.nan, -1e300, -0.0])
    out = np.empty_like(edge)
    _exp_le0_all(edge, out)
    assert out[0] == 0.0 and np.isnan(out[1]) and out[2] == 0.0 and out[3] == 1.0
