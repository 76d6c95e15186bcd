"""The kernels' arrays start on 64-byte boundaries (see workbench.core.aligned)."""
import numpy as np
import pytest
from numba import njit

from workbench.core import aligned
from workbench.core import kernels as K
from workbench.core.network import Network
from workbench.run import Run


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
@pytest.mark.parametrize("shape", [0, 1, 7, (3, 5), (64, 130)])
def test_helpers_give_aligned_arrays_of_the_asked_shape_and_contents(shape, dtype):
    for _ in range(5):   # NumPy's own placement varies from one allocation to the next
        z = aligned.zeros(shape, dtype)
        f = aligned.full(shape, 3, dtype)
        assert z.dtype == dtype and z.shape == np.zeros(shape).shape
        assert aligned.is_aligned(z) and aligned.is_aligned(f)
        assert z.flags.c_contiguous and z.flags.writeable
        assert not z.any() and (f == 3).all()
    src = np.arange(np.prod(shape), dtype=np.float64).reshape(np.zeros(shape).shape)
    c = aligned.copy(src[::1], dtype)
    assert aligned.is_aligned(c) and c.dtype == dtype and np.array_equal(c, src.astype(dtype))
    c[...] = 0
    assert src.size == 0 or src.max() == src.size - 1   # a copy, not a view


def test_numpy_alone_leaves_arrays_off_a_cache_line():
    """What the helpers are for: plain NumPy arrays often start 16, 32 or 48 bytes past a
    64-byte boundary (if this ever fails, NumPy aligns by itself and the helpers are moot)."""
    offsets = {np.empty(n).ctypes.data % 64 for n in range(100, 4000, 37)}
    assert offsets - {0}


def test_a_run_keeps_its_kernel_arrays_aligned():
    run = Run({"data": {"name": "spiral", "n_samples": 300},
               "model": {"hidden": [[16, "relu"]]}, "training": {"batch_size": 7}})
    names = ["_X", "_Y", "_Xt", "_Yt", "_vel", "_acc", "_grad", "_perm", "_zbuf", "_abuf",
             "_dbuf", "_ybuf", "_ibuf"]
    def check():
        for n in names:
            assert aligned.is_aligned(getattr(run, n)), n
        assert aligned.is_aligned(run.network.theta)
    check()
    run.run_steps(20)
    run.set_hyperparameters(batch_size=12)      # new scratch buffers
    run.run_steps(20)
    check()
    assert aligned.is_aligned(run.network.copy().theta)
    assert aligned.is_aligned(Network(3, 2, {"hidden": [[5, "tanh"]]}).theta)


@njit(cache=False)
def _offsets(n):
    a = K._aligned_empty(n, np.float64)
    b = K._aligned_empty(n, np.float32)
    c = K._aligned_empty(n, np.int64)
    return (a.ctypes.data % 64, b.ctypes.data % 64, c.ctypes.data % 64,
            a.shape[0], b.shape[0], c.shape[0])


@pytest.mark.parametrize("n", [0, 1, 9, 100, 1000, 100_000])
def test_the_kernels_own_scratch_is_aligned(n):
    assert _offsets(n) == (0, 0, 0, n, n, n)
