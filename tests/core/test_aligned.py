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
    # overlapped evaluations read the parameters from one aligned buffer, kept
    run2 = Run({"data": {"name": "spiral", "n_samples": 300}}, eval_every=10,
               diagnostics=False)
    run2.run_steps(25)
    buf = run2._eval_theta
    assert buf is not None and aligned.is_aligned(buf)
    run2.run_steps(25)
    assert run2._eval_theta is buf and len(run2.evaluations) == 6
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


@pytest.mark.parametrize("hidden,n_in,k,itemsize,want", [
    ([[128, "relu"]], 64, 10, 8, 96),           # W3: 64 -> 128 over 128 samples is 1.05 M
    ([[64, "relu"], [64, "relu"]], 2, 1, 8, 128),   # W2
    ([[8, "tanh"], [8, "tanh"]], 2, 1, 8, 256),     # W1: every block stays on the rows path
    ([[256, "relu"], [128, "relu"]], 784, 10, 4, 256),  # W4: its big layers use BLAS anyway
])
def test_whole_set_blocks_keep_layers_on_the_rows_path(hidden, n_in, k, itemsize, want):
    from workbench.core.network import Layout
    lay = Layout.build(n_in, k, hidden, "softmax")
    assert lay.block(itemsize) == want


def test_the_block_rule_mirrors_the_kernels_own_choice_of_path():
    """network.forward_on_rows (plain Python, for Layout.block) against what _affine
    decides (_use_rows, or _pad_width for the padded form) on a grid of shapes."""
    from workbench.core.network import forward_on_rows
    ib = np.zeros(1 << 20, np.int64)
    for itemsize in (8, 4):
        for B in (1, 2, 10, 32, 96, 128, 256):
            for r in (1, 4, 7, 8, 9, 10, 15, 16, 17, 24, 31, 32, 33, 64, 100, 128, 256):
                for n_in in (1, 2, 8, 64, 65, 128, 784):
                    want = bool(K._use_rows(B, B, r, n_in, itemsize, ib)
                                or K._pad_width(B, r, n_in, itemsize, ib))
                    assert forward_on_rows(B, r, n_in, itemsize) == want, (B, r, n_in, itemsize)


def test_an_evaluation_in_smaller_blocks_gives_the_same_figures():
    """W3's shape evaluates in blocks of 96 (the rows path) instead of 256 (BLAS): the
    same losses to 1e-12 and the same per-unit counts."""
    from workbench.run.run import _EvalJob
    run = Run({"data": {"name": "digits"}, "model": {"hidden": [[128, "relu"]],
               "output": "softmax", "loss": "cross_entropy", "init": "he"},
               "training": {"batch_size": 32}}, diagnostics=False)
    run.run_steps(60)
    assert run._eval_block == 96
    th = run.network.theta.copy()
    row96, us96 = _EvalJob(run, th).row()
    run._eval_block = 256
    row256, us256 = _EvalJob(run, th).row()
    for key in ("train_loss", "test_loss", "train_acc", "test_acc"):
        assert row96[key] == pytest.approx(row256[key], rel=1e-12, abs=1e-12), key
    assert np.array_equal(us96["off"], us256["off"]) and np.array_equal(us96["sat"], us256["sat"])
