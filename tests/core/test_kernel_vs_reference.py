"""The chunked kernel loop against the plain NumPy reference: same parameters to 1e-12."""
import itertools

import numpy as np
import pytest

from workbench.config import ACTIVATIONS, LOSSES, PRECISIONS
from workbench.core.reference import ReferenceTrainer, shuffle
from workbench.core import kernels as K
from workbench.run import Run

OPTS = {"sgd": {"lr": 0.05, "momentum": 0.9},
        "sgd_nesterov_decay": {"lr": 0.05, "momentum": 0.8, "nesterov": True, "decay": 0.01},
        "adagrad": {"lr": 0.05}, "rmsprop": {"lr": 0.005}, "adam": {"lr": 0.005}}


def _cfg(opt, act="tanh", loss="bce", out="sigmoid", data="spiral", batch=10, l1=0.0, l2=0.0):
    name = "sgd" if opt.startswith("sgd") else opt
    return {"seed": 4,
            "data": {"name": data, "n_samples": 53, "noise": 0.2, "test_fraction": 0.3},
            "model": {"hidden": [[5, act], [4, "tanh"]], "output": out, "loss": loss,
                      "init": "xavier"},
            "optimizer": {"name": name, **OPTS[opt]},
            "regularization": {"l1": l1, "l2": l2},
            "training": {"batch_size": batch}}


@pytest.mark.parametrize("opt", list(OPTS))
@pytest.mark.parametrize("act,loss,out,l1,l2", [
    ("tanh", "bce", "sigmoid", 0.0, 0.0), ("relu", "mse", "linear", 0.0, 0.01),
    ("maxout", "hinge", "linear", 0.001, 0.0), ("elu", "cross_entropy", "softmax", 0.0, 0.0)])
def test_kernel_matches_reference_after_100_steps(opt, act, loss, out, l1, l2):
    cfg = _cfg(opt, act, loss, out, l1=l1, l2=l2)
    run = Run(cfg, diagnostics=False)
    X = run._X.copy()
    Y = run._Y.copy()
    hp = {**OPTS[opt], "l1": l1, "l2": l2}
    name = "sgd" if opt.startswith("sgd") else opt
    ref = ReferenceTrainer(run.network, X, Y, name, hp, 10, int(run._rng[0]))
    for _ in range(100):
        ref.step()
    run.run_steps(100)
    assert run.step == 100
    # 37 training samples, batch 10: epochs end with a smaller batch of 7
    assert run.n_train == 37
    assert np.max(np.abs(run.network.theta - ref.theta)) < 1e-12
    assert np.allclose(run.history.steps()["loss"], ref.losses, rtol=1e-10, atol=1e-12)


def test_shuffle_is_the_reference_shuffle():
    perm = np.arange(50, dtype=np.int64)
    rng = np.array([12345], dtype=np.uint64)
    K.shuffle_inplace(perm, rng)
    ref = np.arange(50)
    state = shuffle(ref, 12345)
    assert np.array_equal(perm, ref) and int(rng[0]) == state
    assert not np.array_equal(perm, np.arange(50))


def test_epochs_are_fresh_shuffles_and_keep_the_last_small_batch():
    run = Run(_cfg("sgd", batch=10), diagnostics=False)
    assert run.steps_per_epoch == 4
    run.run_steps(4)
    assert run.epoch == 1 and run._counters[K.C_POS] == 0
    first = run._perm.copy()
    run.run_steps(1)
    assert not np.array_equal(first, run._perm)


def _combo_cfg(act, loss, opt, precision):
    out = {"mse": "linear", "bce": "sigmoid", "cross_entropy": "softmax",
           "perceptron": "step", "hinge": "linear"}[loss]
    return {"data": {"name": "gaussian", "n_samples": 40},
            "model": {"hidden": [[4, act]], "output": out, "loss": loss, "init": "normal",
                      "init_scale": 0.5},
            "optimizer": {"name": opt, "lr": 0.01},
            "training": {"batch_size": 8, "precision": precision}}


@pytest.mark.parametrize("precision", PRECISIONS)
def test_every_activation_loss_optimizer_and_precision_runs_in_the_kernels(precision):
    """The combinations all train inside train_chunk (no NumPy fallback exists)."""
    n = 0
    for act, loss, opt in itertools.product(ACTIVATIONS, LOSSES,
                                            ("sgd", "adagrad", "rmsprop", "adam")):
        run = Run(_combo_cfg(act, loss, opt, precision), diagnostics=False)
        before = run.network.theta.copy()
        assert run.network.theta.dtype == np.dtype(precision)
        assert run.run_steps(12) == 12
        h = run.history.steps()
        assert np.all(np.isfinite(h["loss"])) and np.all(h["flags"] == 0)
        assert h["gnorm"].shape == (12, 2)
        if act != "step" or loss in ("bce", "cross_entropy", "perceptron", "hinge"):
            assert not np.array_equal(before, run.network.theta), (act, loss, opt)
        n += 1
    assert n == len(ACTIVATIONS) * len(LOSSES) * 4


def test_float32_follows_float64_closely():
    a = Run({**_cfg("sgd"), "training": {"batch_size": 10, "precision": "float32"}},
            diagnostics=False)
    b = Run(_cfg("sgd"), diagnostics=False)
    a.run_steps(50)
    b.run_steps(50)
    assert np.allclose(a.network.theta, b.network.theta, atol=1e-4)


@pytest.mark.parametrize("hidden,batch,expect", [
    # 2 -> 64 relu -> 40 tanh -> 1, batch 32: both hidden layers multiply by BLAS from a
    # transposed batch (>= 32 units); the epoch's last batch of 5 takes the loop for the
    # first layer and BLAS for the second
    ([[64, "relu"], [40, "tanh"]], 32, {"tt": 2}),
    # 16 units, batch 37: the second layer by BLAS on the batch as it is (fewer than 32
    # units), the first (2 inputs) by the loop
    ([[16, "relu"], [16, "tanh"]], 37, {"nt": 1}),
])
def test_blas_sized_layers_match_the_reference(hidden, batch, expect):
    cfg = {"seed": 2, "data": {"name": "spiral", "n_samples": 120, "noise": 0.2},
           "model": {"hidden": hidden, "output": "sigmoid", "loss": "bce", "init": "he"},
           "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9},
           "training": {"batch_size": batch}}
    run = Run(cfg, diagnostics=False)
    units = [2] + [h[0] for h in hidden]
    paths = {"tt": 0, "nt": 0}
    for n_in, r in zip(units, units[1:]):
        macs = batch * n_in * r
        if macs >= K._BLAS_MIN:
            paths["tt" if r >= K._T_MIN_ROWS and macs <= K._T_MAX_MACS else "nt"] += 1
    assert {k: v for k, v in paths.items() if v} == expect
    ref = ReferenceTrainer(run.network, run._X.copy(), run._Y.copy(), "sgd",
                           {"lr": 0.05, "momentum": 0.9, "l1": 0.0, "l2": 0.0}, batch,
                           int(run._rng[0]))
    for _ in range(30):
        ref.step()
    run.run_steps(30)
    assert run.epoch >= 1          # an epoch's last, smaller batch was trained too
    assert np.max(np.abs(run.network.theta - ref.theta)) < 1e-12
    assert np.allclose(run.history.steps()["loss"], ref.losses, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_every_hand_loop_of_the_affine_map_sums_in_the_same_order(dtype):
    """z = b + a_0 W_0 + a_1 W_1 + ..., term by term in that order, on each of the hand
    loops of _affine (W transposed into scratch from 4 units and 4 samples, samples inside
    for fewer than 4 units, the plain loop for smaller batches): bit for bit the same as
    the sum in that order in NumPy, so no path changes a trained parameter's bits."""
    rng = np.random.default_rng(3)
    paths = set()
    # (r and n_in of 8 and more: W^T copied in 8 x 8 blocks, a remainder one by one)
    for r, n_in, B in itertools.product([1, 2, 3, 4, 8, 13, 16, 17], [1, 2, 7, 8, 9, 17],
                                        [1, 3, 4, 10]):
        if B * n_in * r >= K._BLAS_MIN:
            continue
        W = rng.normal(size=(r, n_in)).astype(dtype)
        b = rng.normal(size=r).astype(dtype)
        a = rng.normal(size=(B, n_in)).astype(dtype)
        theta = np.concatenate([np.zeros(3, dtype), W.ravel(), b])   # layer at offset 3
        want = np.tile(b, (B, 1))
        for k in range(n_in):
            want = want + a[:, [k]] * W[:, k][None, :]
        dst = np.full(5 + B * r, np.nan, dtype)
        tbuf = np.zeros(r * n_in + 1, dtype)
        K._affine(theta, 3, r, n_in, a.ravel(), 0, dst, 5, B, tbuf, np.zeros(0, np.int64))
        assert np.array_equal(dst[5:].reshape(B, r), want), (r, n_in, B)
        assert np.isnan(dst[:5]).all()
        paths.add("wt" if B >= K._WT_MIN_BATCH and r >= K._WT_MIN_ROWS else
                  "cols" if B >= K._WT_MIN_BATCH else "plain")
    assert paths == {"wt", "cols", "plain"}


def _fma_sum(first, terms):
    """first + x_0 y_0 + x_1 y_1 + ... in that order, each step rounded once (a fused
    multiply-add, computed exactly with fractions), skipping x == 0."""
    from fractions import Fraction
    acc = float(first)
    for x, y in terms:
        if x != 0.0:
            acc = float(Fraction(float(x)) * Fraction(float(y)) + Fraction(acc))
    return acc


@pytest.mark.parametrize("B,n_in,r", [(2, 8, 8), (5, 8, 8), (3, 16, 24), (4, 16, 24),
                                      (3, 32, 40), (2, 64, 64), (2, 24, 120), (2, 8, 128)])
def test_the_fma_rows_path_sums_in_order_with_one_rounding_per_term(B, n_in, r):
    """_rows_fma (every tile width 64/32/16/8 and the scalar tail, zeros skipped): each
    product is the sum in order with one rounding per term, bit for bit, for the forward
    map, the weight gradient and the delta; ``ibuf`` missing means the other paths."""
    rng = np.random.default_rng(B * 1000 + n_in * 10 + r)
    W = rng.normal(size=(r, n_in))
    b = rng.normal(size=r)
    a = rng.normal(size=(B, n_in))
    a[rng.random(a.shape) < 0.3] = 0.0          # ReLU zeros, skipped
    d = rng.normal(size=(B, r))
    d[rng.random(d.shape) < 0.3] = 0.0
    theta = np.concatenate([np.zeros(3), W.ravel(), b])
    ib = np.zeros(K.ibuf_size(B, np.array([n_in, r]), np.array([r])), np.int64)
    assert B >= K._ROWS_MIN_BATCH
    assert K._use_rows(B, B, r, n_in, 8, ib) and K._use_rows(B, r, n_in, B, 8, ib)
    assert K._use_rows(B, B, n_in, r, 8, ib)
    # forward: z[i, j] = b[j] + sum_k a[i, k] W[j, k]
    dst = np.full(5 + B * r, np.nan)
    tbuf = np.zeros(n_in * (r + 16))
    K._affine(theta, 3, r, n_in, a.ravel(), 0, dst, 5, B, tbuf, ib)
    want = [[_fma_sum(b[j], zip(a[i], W[j])) for j in range(r)] for i in range(B)]
    assert np.isnan(dst[:5]).all()
    assert np.array_equal(dst[5:].reshape(B, r), np.array(want))
    # weight gradient: g[j, k] = sum_i d[i, j] a[i, k]
    grad = np.full(3 + r * n_in + r, np.nan)
    K._weight_grad(grad, 3, r, n_in, d.ravel(), 0, a.ravel(), 0, B, ib, np.zeros(0), 0, 0)
    want = [[_fma_sum(0.0, zip(d[:, j], a[:, k])) for k in range(n_in)] for j in range(r)]
    assert np.array_equal(grad[3:3 + r * n_in].reshape(r, n_in), np.array(want))
    # delta: out[i, k] = sum_j d[i, j] W[j, k]
    out = np.full(2 + B * n_in, np.nan)
    K._delta_back(theta, 3, r, n_in, d.ravel(), 0, out, 2, B, ib)
    want = [[_fma_sum(0.0, zip(d[i], W[:, k])) for k in range(n_in)] for i in range(B)]
    assert np.isnan(out[:2]).all()
    assert np.array_equal(out[2:].reshape(B, n_in), np.array(want))
    # without int scratch the same products take the other paths: equal to 1e-12
    dst2 = np.full(5 + B * r, np.nan)
    K._affine(theta, 3, r, n_in, a.ravel(), 0, dst2, 5, B, tbuf, np.zeros(0, np.int64))
    assert np.allclose(dst2[5:], dst[5:], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype,B,n_in,r", [(np.float64, 3, 13, 24), (np.float64, 2, 5, 16),
                                            (np.float64, 4, 64, 128), (np.float32, 3, 21, 32)])
def test_the_rows_forward_map_transposes_w_in_blocks_and_a_remainder(dtype, B, n_in, r):
    """The forward map's W^T for _rows_fma: 8 x 8 blocks transposed in registers and the
    last n_in % 8 columns one by one (padded rows for 128 units): every z is the sum in
    order with one rounding per term, bit for bit."""
    rng = np.random.default_rng(n_in * r)
    W = rng.normal(size=(r, n_in)).astype(dtype)
    b = rng.normal(size=r).astype(dtype)
    a = rng.normal(size=(B, n_in)).astype(dtype)
    a[rng.random(a.shape) < 0.3] = 0.0
    theta = np.concatenate([np.zeros(3, dtype), W.ravel(), b])
    ib = np.zeros(K.ibuf_size(B, np.array([n_in, r]), np.array([r])), np.int64)
    assert K._use_rows(B, B, r, n_in, np.dtype(dtype).itemsize, ib)
    dst = np.full(5 + B * r, np.nan, dtype)
    K._affine(theta, 3, r, n_in, a.ravel(), 0, dst, 5, B, np.zeros(n_in * (r + 16), dtype), ib)
    if dtype == np.float64:
        want = [[_fma_sum(b[j], zip(a[i], W[j])) for j in range(r)] for i in range(B)]
    else:   # a float32 product is exact in float64; the sum rounded to float64, then to
        # float32: one rounding per term unless the first lands on a float32 tie (the
        # assertion would then fail for this seed, not pass wrongly)
        want = np.empty((B, r), dtype)
        for i in range(B):
            for j in range(r):
                acc = np.float32(b[j])
                for k in range(n_in):
                    if a[i, k] != 0:
                        acc = np.float32(float(a[i, k]) * float(W[j, k]) + float(acc))
                want[i, j] = acc
    assert np.isnan(dst[:5]).all()
    assert np.array_equal(dst[5:].reshape(B, r), np.array(want, dtype))


@pytest.mark.parametrize("B,n_in,r", [(10, 2, 8), (32, 2, 64), (5, 3, 24), (4, 7, 136)])
def test_a_narrow_layers_weight_gradient_runs_transposed_in_the_same_order(B, n_in, r):
    """Fewer inputs than a vector, a vector of units or more: dW^T = a^T delta through
    _rows_fma in scratch, then transposed: each entry the in-order sum with one rounding
    per term, bit for bit; the scratch outside its n_in r values is left alone."""
    rng = np.random.default_rng(B + n_in + r)
    a = rng.normal(size=(B, n_in))
    a[rng.random(a.shape) < 0.2] = 0.0
    d = rng.normal(size=(B, r))
    ib = np.zeros(K.ibuf_size(B, np.array([n_in, r]), np.array([r])), np.int64)
    assert not K._use_rows(B, r, n_in, B, 8, ib) and K._use_rows(B, n_in, r, B, 8, ib)
    grad = np.full(3 + r * n_in + r, np.nan)
    sbuf = np.full(2 + n_in * r + 2, -7.0)
    K._weight_grad(grad, 3, r, n_in, d.ravel(), 0, a.ravel(), 0, B, ib, sbuf, 2,
                   n_in * r)
    want = [[_fma_sum(0.0, zip(a[:, k], d[:, j])) for k in range(n_in)] for j in range(r)]
    assert np.array_equal(grad[3:3 + r * n_in].reshape(r, n_in), np.array(want))
    assert (sbuf[:2] == -7.0).all() and (sbuf[-2:] == -7.0).all()
    # no room in the scratch: the other paths, equal to 1e-12
    g2 = np.full(3 + r * n_in + r, np.nan)
    K._weight_grad(g2, 3, r, n_in, d.ravel(), 0, a.ravel(), 0, B, ib, sbuf, 2, 0)
    assert np.allclose(g2[3:3 + r * n_in], grad[3:3 + r * n_in], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n_in,r", [(1, 3), (2, 8), (8, 8), (64, 64), (7, 13)])
def test_plain_sgd_update_vectors_keep_the_scalar_bits_and_norms(n_in, r):
    """_update's plain SGD on float64 runs 8 parameters at a time (_sgd_vec) and the rest
    one by one: every new weight and velocity has the bits of v = mom v - lr g, w + v;
    the layer's squared norms (train_chunk takes their roots at the end of a chunk) agree
    with NumPy's to 1e-12 (their sums go by lanes, added pairwise)."""
    rng = np.random.default_rng(n_in * 100 + r)
    P = r * n_in + r
    theta = rng.normal(size=P)
    grad = rng.normal(size=P)
    vel = rng.normal(size=P) * 0.1
    hp = np.zeros(K.N_HP)
    hp[K.HP_LR], hp[K.HP_MOMENTUM] = 0.05, 0.9
    units, rows, woff = (np.array([n_in, r], np.int64), np.array([r], np.int64),
                         np.array([0], np.int64))
    out = [np.zeros((1, 1)) for _ in range(3)]
    t0, v0 = theta.copy(), vel.copy()
    flags = K._update(theta, grad, vel, np.zeros(P), units, rows, woff, 0, hp, 0.0,
                      out[0], out[1], out[2], 0)
    v_want = 0.9 * v0 - 0.05 * grad
    assert flags == 0
    assert np.array_equal(vel, v_want) and np.array_equal(theta, t0 + v_want)
    assert np.isclose(out[0][0, 0], np.sum(grad ** 2), rtol=1e-12)
    assert np.isclose(out[1][0, 0], np.sum(theta ** 2), rtol=1e-12)
    assert np.isclose(out[2][0, 0], np.sum(v_want ** 2) / np.sum(t0 ** 2), rtol=1e-12)


def test_a_chunk_takes_the_roots_of_its_squared_norms_at_the_end():
    """_sqrt_rows: the first n rows of an (m, L) array, each value's correctly rounded
    root (the bits of np.sqrt), later rows untouched; inf, nan and 0 kept."""
    from numba import njit

    @njit
    def go(a, n):
        K._sqrt_rows(a, n)
    rng = np.random.default_rng(5)
    a = rng.random((37, 3)) * 10.0 ** rng.integers(-300, 300, (37, 3))
    a[2] = [np.inf, np.nan, 0.0]
    want = a.copy()
    want[:29] = np.sqrt(want[:29])
    go(a, 29)
    assert np.array_equal(a, want, equal_nan=True)


@pytest.mark.parametrize("N", [1, 5, 13, 77, 130])
@pytest.mark.parametrize("zero", [False, True])
def test_rows_fma_any_width_sums_in_order(N, zero):
    """_rows_fma itself takes rows of any width (vector tiles, then a scalar tail): the
    in-order sums with one rounding per term, zeros of the left operand skipped, from
    the values in ``out`` or (``zero``) from +0.0, whatever ``out`` held; a row with no
    nonzero value then comes out +0.0."""
    rng = np.random.default_rng(N)
    R, Kk = 3, 9
    s_ = rng.normal(size=(R, Kk))
    s_[rng.random(s_.shape) < 0.3] = 0.0
    s_[1] = 0.0
    M = rng.normal(size=(Kk, N))
    init = rng.normal(size=(R, N))
    out = np.concatenate([[np.nan], init.ravel(), [np.nan]])
    if zero:
        out[1:-1] = np.nan
        init[:] = 0.0
    ib = np.zeros(R * Kk + R, np.int64)
    K._rows_fma(out, 1, R, N, s_.ravel(), 0, Kk, 1, Kk, M.ravel(), 0, N, ib, zero)
    want = [[_fma_sum(init[i, j], zip(s_[i], M[:, j])) for j in range(N)] for i in range(R)]
    assert np.isnan(out[0]) and np.isnan(out[-1])
    assert np.array_equal(out[1:-1].reshape(R, N), np.array(want))
    if zero:
        assert not np.signbit(out[1 + N:1 + 2 * N]).any()


@pytest.mark.parametrize("N", [16, 48, 160])
def test_rows_fma_in_float32_runs_16_lanes(N):
    """float32 takes vectors of 16: the products agree with float64 ones to float32's
    precision, zeros skipped, nothing written outside the rows."""
    rng = np.random.default_rng(N)
    R, Kk = 5, 11
    s_ = rng.normal(size=(R, Kk)).astype(np.float32)
    s_[rng.random(s_.shape) < 0.3] = 0.0
    M = rng.normal(size=(Kk, N)).astype(np.float32)
    out = np.full(2 + R * N, np.nan, np.float32)
    out[1:-1] = 0.0
    ib = np.zeros(R * Kk + R, np.int64)
    assert K._use_rows(R, R, N, Kk, 4, ib)
    K._rows_fma(out, 1, R, N, s_.ravel(), 0, Kk, 1, Kk, M.ravel(), 0, N, ib, False)
    want = s_.astype(np.float64) @ M.astype(np.float64)
    assert np.isnan(out[0]) and np.isnan(out[-1])
    assert np.allclose(out[1:-1].reshape(R, N), want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("R,Kk,s_rs,s_cs", [(3, 9, 9, 1), (4, 64, 64, 1), (2, 128, 130, 1),
                                            (5, 7, 7, 1), (3, 17, 1, 3), (6, 1, 1, 6)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_compaction_lists_each_rows_nonzeros_in_order(R, Kk, s_rs, s_cs, dtype):
    """_compact (eight values at a time along contiguous rows, one at a time otherwise):
    each row's positions of values != 0, NaN counted as nonzero and -0.0 as zero, in
    order, and their counts after all rows; nothing written outside idx's R Kk + R."""
    from numba import njit

    @njit
    def go(s, so, s_rs, s_cs, R, Kk, idx):
        K._compact(s, so, s_rs, s_cs, K.U(R), K.U(Kk), idx)
    rng = np.random.default_rng(R * Kk + s_cs)
    so = 3
    s = rng.normal(size=so + R * s_rs + Kk * s_cs + 8).astype(dtype)
    s[rng.random(s.shape) < 0.4] = 0.0
    s[rng.random(s.shape) < 0.05] = -0.0
    s[rng.random(s.shape) < 0.05] = np.nan
    idx = np.full(R * Kk + R + 2, -5, np.int64)
    go(s, so, s_rs, s_cs, R, Kk, idx)
    for i in range(R):
        row = s[so + i * s_rs + np.arange(Kk) * s_cs]
        want = np.flatnonzero(row != 0)
        assert idx[R * Kk + i] == len(want)
        assert np.array_equal(idx[i * Kk:i * Kk + len(want)], want)
    assert (idx[-2:] == -5).all()


def _split4_sum(first, terms):
    """_fma_tile's split=4 order: term q (zeros skipped) into part q mod 4 while whole
    rounds of four remain, the rest into part 0; part 0 from ``first``, the others from
    +0.0, each with one rounding per term; then (p0 + p1) + (p2 + p3)."""
    terms = [(x, y) for x, y in terms if x != 0.0]
    full = len(terms) // 4
    parts = [terms[p:4 * full:4] for p in range(4)]
    parts[0] = parts[0] + terms[4 * full:]
    p = [_fma_sum(first if q == 0 else 0.0, parts[q]) for q in range(4)]
    return (p[0] + p[1]) + (p[2] + p[3])


@pytest.mark.parametrize("B,n_in,r", [(2, 8, 9), (5, 128, 10), (32, 128, 10), (3, 19, 15),
                                      (4, 64, 12)])
def test_a_forward_map_one_or_two_vectors_wide_runs_padded_rows(B, n_in, r):
    """9-15 units (float64): W^T padded to 16 columns, _rows_fma-style tiles summing each
    z in four interleaved parts (_split4_sum), bit for bit; nothing written outside the
    block; without room in the scratch, BLAS or the hand loops give the same to 1e-12."""
    rng = np.random.default_rng(B * n_in * r)
    W = rng.normal(size=(r, n_in))
    b = rng.normal(size=r)
    a = np.maximum(rng.normal(size=(B, n_in)), 0.0)    # ReLU zeros, skipped
    theta = np.concatenate([np.zeros(3), W.ravel(), b])
    ib = np.zeros(K.ibuf_size(B, np.array([n_in, r]), np.array([r])), np.int64)
    assert r % 8 and K._use_rows(B, B, 16, n_in, 8, ib) and not K._use_rows(B, B, r, n_in, 8, ib)
    dst = np.full(5 + B * r + 4, np.nan)
    tbuf = np.full((n_in + B) * 16, 7.0)
    K._affine(theta, 3, r, n_in, a.ravel(), 0, dst, 5, B, tbuf, ib)
    want = [[_split4_sum(b[j], zip(a[i], W[j])) for j in range(r)] for i in range(B)]
    assert np.isnan(dst[:5]).all() and np.isnan(dst[-4:]).all()
    assert np.array_equal(dst[5:-4].reshape(B, r), np.array(want))
    dst2 = np.full(5 + B * r + 4, np.nan)
    K._affine(theta, 3, r, n_in, a.ravel(), 0, dst2, 5, B, tbuf[:10], ib)
    assert np.allclose(dst2[5:-4], dst[5:-4], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("r", [10, 20, 31])
def test_a_float32_forward_map_under_two_vectors_runs_padded_rows(r):
    """float32 (vectors of 16): 10 units pad to one vector, 20 and 31 to two; the result
    agrees with float64 products to float32's precision."""
    B, n_in = 6, 40
    rng = np.random.default_rng(r)
    W = rng.normal(size=(r, n_in)).astype(np.float32)
    b = rng.normal(size=r).astype(np.float32)
    a = np.maximum(rng.normal(size=(B, n_in)), 0.0).astype(np.float32)
    theta = np.concatenate([np.zeros(3, np.float32), W.ravel(), b])
    ib = np.zeros(K.ibuf_size(B, np.array([n_in, r]), np.array([r])), np.int64)
    dst = np.full(5 + B * r + 4, np.nan, np.float32)
    K._affine(theta, 3, r, n_in, a.ravel(), 0, dst, 5, B,
              np.zeros((n_in + B) * 32, np.float32), ib)
    want = a.astype(np.float64) @ W.astype(np.float64).T + b
    assert np.isnan(dst[:5]).all() and np.isnan(dst[-4:]).all()
    assert np.allclose(dst[5:-4].reshape(B, r), want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("B,n_in,r", [(16, 8, 8), (21, 8, 10), (32, 64, 128), (32, 128, 10),
                                      (17, 16, 24), (5, 8, 10)])
def test_the_weight_gradient_through_a_transposed_delta_keeps_the_bits(B, n_in, r):
    """With room for B r values in the scratch and a batch of _WG_T_MIN_BATCH or more,
    delta^T is copied there first (its rows contiguous); every entry is still the
    in-order sum with one rounding per term (as for a smaller batch, which reads delta
    in place), and the scratch outside those values is left alone."""
    rng = np.random.default_rng(B + n_in * r)
    a = rng.normal(size=(B, n_in))
    a[rng.random(a.shape) < 0.3] = 0.0
    d = rng.normal(size=(B, r))
    d[rng.random(d.shape) < 0.4] = 0.0
    ib = np.zeros(K.ibuf_size(B, np.array([n_in, r]), np.array([r])), np.int64)
    assert K._use_rows(B, r, n_in, B, 8, ib)
    grad = np.full(3 + r * n_in + r, np.nan)
    sbuf = np.full(2 + B * r + 2, -7.0)
    K._weight_grad(grad, 3, r, n_in, d.ravel(), 0, a.ravel(), 0, B, ib, sbuf, 2, B * r)
    want = [[_fma_sum(0.0, zip(d[:, j], a[:, k])) for k in range(n_in)] for j in range(r)]
    assert np.array_equal(grad[3:3 + r * n_in].reshape(r, n_in), np.array(want))
    assert np.isnan(grad[:3]).all() and np.isnan(grad[3 + r * n_in:]).all()
    assert (sbuf[:2] == -7.0).all() and (sbuf[-2:] == -7.0).all()
