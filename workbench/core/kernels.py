"""Numba kernels: forward, backward, losses, optimizer updates and per-step probes.

Everything here is ``@njit(nogil=True, cache=True)`` and works on flat arrays so that a
single call can run many mini-batch steps (Python never loops over single steps on the
hot path). Named choices arrive as integer codes (see the ``*_CODES`` registries); the
public wrappers in :mod:`workbench.core.network` validate and allocate.

Layout of the flat parameter vector ``theta`` for layer l (1..L), as on the slides:
``W_l`` of shape ``(rows_l, n_{l-1})`` row-major (row j = unit j, column k = unit k of the
layer below), then ``b_l`` of shape ``(rows_l,)``. ``rows_l = units_l`` except for maxout
where ``rows_l = 2 * units_l`` (rows 2j and 2j+1 are the two pieces of unit j).

Activations of a batch of B samples are kept in flat buffers: layer l's pre-activation
``z_l`` is the block ``zbuf[B*zcum[l] : B*zcum[l] + B*rows_l]`` viewed as ``(B, rows_l)``
and its output ``a_l`` the block ``abuf[B*acum[l] : ...]`` viewed as ``(B, units_l)``;
``a_0`` is the input batch.
"""
from __future__ import annotations

import numpy as np
from numba import njit

# --- registries (names -> codes) ----------------------------------------------------
ACT_CODES = {"linear": 0, "step": 1, "sigmoid": 2, "tanh": 3, "relu": 4,
             "leaky_relu": 5, "elu": 6, "maxout": 7, "softmax": 8}
LOSS_CODES = {"mse": 0, "bce": 1, "cross_entropy": 2, "perceptron": 3, "hinge": 4}
OPT_CODES = {"sgd": 0, "adagrad": 1, "rmsprop": 2, "adam": 3}
# Indices into the hyperparameter vector ``hp`` (float64) read by the training kernel.
HP_LR, HP_MOMENTUM, HP_NESTEROV, HP_DECAY, HP_BETA1, HP_BETA2, HP_RHO, HP_EPS, \
    HP_L1, HP_L2 = range(10)
N_HP = 10
# Indices into the ``counters`` vector (int64) owned by the run.
C_STEP, C_EPOCH, C_POS, C_T = range(4)
# Non-finite flags written per step (bit mask).
NF_LOSS, NF_GRAD, NF_WEIGHTS = 1, 2, 4
# Below this many multiply-adds a hand loop beats the BLAS call overhead.
_BLAS_MIN = 512
ADAGRAD_INIT = 0.1  # Keras' initial accumulator value

_MAXOUT = 7
_SOFTMAX = 8


# --- small helpers -------------------------------------------------------------------
@njit(nogil=True, cache=True)
def _sigmoid(z):
    if z >= 0.0:
        return 1.0 / (1.0 + np.exp(-z))
    e = np.exp(z)
    return e / (1.0 + e)


@njit(nogil=True, cache=True)
def _log1pexp(z):
    """log(1 + exp(z)) without overflow."""
    if z > 0.0:
        return z + np.log1p(np.exp(-z))
    return np.log1p(np.exp(z))


@njit(nogil=True, cache=True)
def _next_u64(rng):
    """splitmix64: advance ``rng[0]`` and return the next 64-bit value."""
    rng[0] += np.uint64(0x9E3779B97F4A7C15)
    z = rng[0]
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(nogil=True, cache=True)
def shuffle_inplace(perm, rng):
    """Fisher-Yates shuffle of ``perm`` driven by the splitmix64 state ``rng``."""
    n = perm.shape[0]
    for i in range(n - 1, 0, -1):
        j = np.int64(_next_u64(rng) >> np.uint64(11)) % (i + 1)
        tmp = perm[i]
        perm[i] = perm[j]
        perm[j] = tmp


# --- matrix products with a size switch -----------------------------------------------
@njit(nogil=True, cache=True)
def _mm_nt(A, W, out):
    """out = A @ W.T  (A: (B, n), W: (r, n), out: (B, r))."""
    B, n = A.shape
    r = W.shape[0]
    if B * n * r >= _BLAS_MIN:
        np.dot(A, W.T, out)
        return
    for i in range(B):
        for j in range(r):
            s = 0.0
            for k in range(n):
                s += A[i, k] * W[j, k]
            out[i, j] = s


@njit(nogil=True, cache=True)
def _mm_tn(D, A, out):
    """out = D.T @ A  (D: (B, r), A: (B, n), out: (r, n))."""
    B, r = D.shape
    n = A.shape[1]
    if B * n * r >= _BLAS_MIN:
        np.dot(D.T, A, out)
        return
    out[:, :] = 0.0
    for i in range(B):
        for j in range(r):
            d = D[i, j]
            if d != 0.0:
                for k in range(n):
                    out[j, k] += d * A[i, k]


@njit(nogil=True, cache=True)
def _mm_nn(D, W, out):
    """out = D @ W  (D: (B, r), W: (r, n), out: (B, n))."""
    B, r = D.shape
    n = W.shape[1]
    if B * n * r >= _BLAS_MIN:
        np.dot(D, W, out)
        return
    out[:, :] = 0.0
    for i in range(B):
        for j in range(r):
            d = D[i, j]
            if d != 0.0:
                for k in range(n):
                    out[i, k] += d * W[j, k]


# --- activations ---------------------------------------------------------------------
@njit(nogil=True, cache=True)
def _activate(code, z, a):
    """a = f(z) row by row; maxout takes the larger of rows 2j, 2j+1; softmax per row."""
    B = z.shape[0]
    if code == _MAXOUT:
        u = a.shape[1]
        for i in range(B):
            for j in range(u):
                p = z[i, 2 * j]
                q = z[i, 2 * j + 1]
                a[i, j] = p if p >= q else q
        return
    r = z.shape[1]
    if code == _SOFTMAX:
        for i in range(B):
            m = z[i, 0]
            for j in range(1, r):
                if z[i, j] > m:
                    m = z[i, j]
            s = 0.0
            for j in range(r):
                e = np.exp(z[i, j] - m)
                a[i, j] = e
                s += e
            for j in range(r):
                a[i, j] /= s
        return
    for i in range(B):
        for j in range(r):
            x = z[i, j]
            if code == 0:
                y = x
            elif code == 1:
                y = 1.0 if x > 0.0 else 0.0
            elif code == 2:
                y = _sigmoid(x)
            elif code == 3:
                y = np.tanh(x)
            elif code == 4:
                y = x if x > 0.0 else 0.0
            elif code == 5:
                y = x if x > 0.0 else 0.1 * x
            else:  # elu, alpha 1
                y = x if x > 0.0 else np.expm1(x)
            a[i, j] = y


@njit(nogil=True, cache=True)
def _dact(code, x, y):
    """f'(z) of an elementwise activation, given z = x and f(z) = y."""
    if code == 0:
        return 1.0
    if code == 1:
        return 0.0
    if code == 2:
        return y * (1.0 - y)
    if code == 3:
        return 1.0 - y * y
    if code == 4:
        return 1.0 if x > 0.0 else 0.0
    if code == 5:
        return 1.0 if x > 0.0 else 0.1
    return 1.0 if x > 0.0 else y + 1.0  # elu: derivative exp(z) = f(z) + 1 for z <= 0


@njit(nogil=True, cache=True)
def _backprop_act(code, z, a, da, dz):
    """dz = da * f'(z), or routed to the winning piece for maxout."""
    B = z.shape[0]
    if code == _MAXOUT:
        u = a.shape[1]
        for i in range(B):
            for j in range(u):
                if z[i, 2 * j] >= z[i, 2 * j + 1]:
                    dz[i, 2 * j] = da[i, j]
                    dz[i, 2 * j + 1] = 0.0
                else:
                    dz[i, 2 * j] = 0.0
                    dz[i, 2 * j + 1] = da[i, j]
        return
    r = z.shape[1]
    for i in range(B):
        for j in range(r):
            dz[i, j] = da[i, j] * _dact(code, z[i, j], a[i, j])


# --- forward ------------------------------------------------------------------------
@njit(nogil=True, cache=True)
def _layer_views(theta, units, rows, woff, l):
    n_in = units[l]
    r = rows[l]
    o = woff[l]
    W = theta[o:o + r * n_in].reshape((r, n_in))
    b = theta[o + r * n_in:o + r * n_in + r]
    return W, b


@njit(nogil=True, cache=True)
def _forward(theta, units, rows, acts, woff, B, zbuf, abuf, zcum, acum):
    """Feed the batch in ``abuf`` layer 0 forward: z_l = a_{l-1} W_l^T + b_l, a_l = f(z_l)."""
    L = rows.shape[0]
    for l in range(L):
        W, b = _layer_views(theta, units, rows, woff, l)
        a_prev = abuf[B * acum[l]:B * acum[l] + B * units[l]].reshape((B, units[l]))
        z = zbuf[B * zcum[l]:B * zcum[l] + B * rows[l]].reshape((B, rows[l]))
        a = abuf[B * acum[l + 1]:B * acum[l + 1] + B * units[l + 1]].reshape((B, units[l + 1]))
        _mm_nt(a_prev, W, z)
        r = rows[l]
        for i in range(B):
            for j in range(r):
                z[i, j] += b[j]
        _activate(acts[l], z, a)


@njit(nogil=True, cache=True)
def _loss_delta(loss_code, out_code, z, a, Y, dz, want_delta):
    """Return the summed loss over the batch and write dL/dz per sample into ``dz``.

    mse = sum_k (f(z_k) - y_k)^2; bce from s = sigmoid(z); cross_entropy from
    softmax(z) with one-hot Y; perceptron max(0, -t z) and hinge max(0, 1 - t z) with
    t = 2y - 1 (the perceptron moves on t z <= 0).
    """
    B, k = z.shape
    total = 0.0
    if loss_code == 0:  # mse
        for i in range(B):
            if out_code == _SOFTMAX:
                # Jacobian of softmax: dL/dz_m = sum_j 2 (p_j - y_j) p_j (delta_jm - p_m)
                s = 0.0
                for j in range(k):
                    e = a[i, j] - Y[i, j]
                    total += e * e
                    s += 2.0 * e * a[i, j]
                if want_delta:
                    for m in range(k):
                        dz[i, m] = a[i, m] * (2.0 * (a[i, m] - Y[i, m]) - s)
            else:
                for j in range(k):
                    e = a[i, j] - Y[i, j]
                    total += e * e
                    if want_delta:
                        dz[i, j] = 2.0 * e * _dact(out_code, z[i, j], a[i, j])
    elif loss_code == 1:  # bce
        for i in range(B):
            for j in range(k):
                x = z[i, j]
                y = Y[i, j]
                # -(y log s + (1-y) log(1-s)) = log(1+e^x) - y x
                total += _log1pexp(x) - y * x
                if want_delta:
                    dz[i, j] = _sigmoid(x) - y
    elif loss_code == 2:  # cross entropy with softmax
        for i in range(B):
            m = z[i, 0]
            for j in range(1, k):
                if z[i, j] > m:
                    m = z[i, j]
            s = 0.0
            for j in range(k):
                s += np.exp(z[i, j] - m)
            lse = m + np.log(s)
            for j in range(k):
                total += Y[i, j] * (lse - z[i, j])
                if want_delta:
                    dz[i, j] = np.exp(z[i, j] - lse) - Y[i, j]
    else:  # perceptron (3) or hinge (4)
        margin = 0.0 if loss_code == 3 else 1.0
        for i in range(B):
            for j in range(k):
                t = 2.0 * Y[i, j] - 1.0
                tz = t * z[i, j]
                if loss_code == 3:
                    if tz < 0.0:
                        total -= tz
                    if want_delta:
                        dz[i, j] = -t if tz <= 0.0 else 0.0
                else:
                    if tz < margin:
                        total += margin - tz
                    if want_delta:
                        dz[i, j] = -t if tz < margin else 0.0
    return total


@njit(nogil=True, cache=True)
def _penalty(theta, units, rows, woff, l1, l2):
    """l2 * sum(W^2) + l1 * sum(|W|) over weights, never biases."""
    if l1 == 0.0 and l2 == 0.0:
        return 0.0
    p = 0.0
    for l in range(rows.shape[0]):
        o = woff[l]
        for i in range(o, o + rows[l] * units[l]):
            w = theta[i]
            p += l2 * w * w + l1 * abs(w)
    return p


@njit(nogil=True, cache=True)
def _backward(theta, grad, units, rows, acts, woff, B, zbuf, abuf, dbuf, zcum, acum, l1, l2):
    """Backpropagate the output deltas in ``dbuf`` (layer L) into ``grad``.

    dW_l = delta_l^T a_{l-1} / B + 2 l2 W + l1 sign(W);  db_l = mean(delta_l);
    delta_{l-1} = (delta_l W_l) * f'(z_{l-1}).
    """
    L = rows.shape[0]
    inv = 1.0 / B
    for l in range(L - 1, -1, -1):
        W, b = _layer_views(theta, units, rows, woff, l)
        dW, db = _layer_views(grad, units, rows, woff, l)
        r = rows[l]
        n_in = units[l]
        d = dbuf[B * zcum[l]:B * zcum[l] + B * r].reshape((B, r))
        a_prev = abuf[B * acum[l]:B * acum[l] + B * n_in].reshape((B, n_in))
        _mm_tn(d, a_prev, dW)
        for j in range(r):
            s = 0.0
            for i in range(B):
                s += d[i, j]
            db[j] = s * inv
            for k in range(n_in):
                w = W[j, k]
                g = dW[j, k] * inv + 2.0 * l2 * w
                if l1 != 0.0:
                    if w > 0.0:
                        g += l1
                    elif w < 0.0:
                        g -= l1
                dW[j, k] = g
        if l > 0:
            rp = rows[l - 1]
            z_prev = zbuf[B * zcum[l - 1]:B * zcum[l - 1] + B * rp].reshape((B, rp))
            d_prev = dbuf[B * zcum[l - 1]:B * zcum[l - 1] + B * rp].reshape((B, rp))
            # da_{l-1} is written into the a-buffer-shaped scratch at the end of dbuf.
            tot = dbuf.shape[0]
            da = dbuf[tot - B * n_in:tot].reshape((B, n_in))
            _mm_nn(d, W, da)
            _backprop_act(acts[l - 1], z_prev, a_prev, da, d_prev)


@njit(nogil=True, cache=True)
def _unit_stats(acts, rows, units, zbuf, abuf, zcum, acum, B, out_dead, out_sat, s):
    """Per layer: fraction of dead units (ReLU inactive on every sample of the batch) and of
    saturated units (sigmoid/tanh derivative below 0.01 on every sample)."""
    L = rows.shape[0]
    for l in range(L):
        code = acts[l]
        u = units[l + 1]
        if code != 4 and code != 2 and code != 3:
            out_dead[s, l] = 0.0
            out_sat[s, l] = 0.0
            continue
        a = abuf[B * acum[l + 1]:B * acum[l + 1] + B * u].reshape((B, u))
        count = 0
        for j in range(u):
            all_off = True
            for i in range(B):
                x = a[i, j]
                if code == 4:
                    if x > 0.0:
                        all_off = False
                        break
                else:
                    dv = x * (1.0 - x) if code == 2 else 1.0 - x * x
                    if dv >= 0.01:
                        all_off = False
                        break
            if all_off:
                count += 1
        if code == 4:
            out_dead[s, l] = count / u
            out_sat[s, l] = 0.0
        else:
            out_dead[s, l] = 0.0
            out_sat[s, l] = count / u


@njit(nogil=True, cache=True)
def _update(theta, grad, vel, acc, units, rows, woff, opt_code, hp, t,
            out_gnorm, out_wnorm, out_uratio, s):
    """Apply one optimizer update (Keras semantics) and write per-layer norms.

    sgd: lr_t = lr / (1 + decay t); v = momentum v - lr_t g; w += v
    (Nesterov: w += momentum v - lr_t g). adagrad: a += g^2; w -= lr_t g / (sqrt(a)+eps).
    rmsprop: a = rho a + (1-rho) g^2; w -= lr_t g / (sqrt(a)+eps).
    adam: m += (1-b1)(g-m); v += (1-b2)(g^2-v); w -= lr_t sqrt(1-b2^k)/(1-b1^k) m/(sqrt(v)+eps).
    Returns a non-finite flag mask (gradient, weights).
    """
    lr_t = hp[HP_LR] / (1.0 + hp[HP_DECAY] * t)
    mom = hp[HP_MOMENTUM]
    nest = hp[HP_NESTEROV] != 0.0
    eps = hp[HP_EPS]
    rho = hp[HP_RHO]
    b1 = hp[HP_BETA1]
    b2 = hp[HP_BETA2]
    alpha = lr_t
    if opt_code == 3:
        k = t + 1.0
        alpha = lr_t * np.sqrt(1.0 - b2 ** k) / (1.0 - b1 ** k)
    flags = 0
    L = rows.shape[0]
    for l in range(L):
        start = woff[l]
        stop = start + rows[l] * units[l] + rows[l]
        gsq = 0.0
        usq = 0.0
        wsq0 = 0.0
        wsq = 0.0
        for i in range(start, stop):
            g = grad[i]
            w = theta[i]
            if opt_code == 0:
                v = mom * vel[i] - lr_t * g
                vel[i] = v
                du = mom * v - lr_t * g if nest else v
            elif opt_code == 1:
                a = acc[i] + g * g
                acc[i] = a
                du = -lr_t * g / (np.sqrt(a) + eps)
            elif opt_code == 2:
                a = rho * acc[i] + (1.0 - rho) * g * g
                acc[i] = a
                du = -lr_t * g / (np.sqrt(a) + eps)
            else:
                m = vel[i] + (1.0 - b1) * (g - vel[i])
                vel[i] = m
                a = acc[i] + (1.0 - b2) * (g * g - acc[i])
                acc[i] = a
                du = -alpha * m / (np.sqrt(a) + eps)
            wn = w + du
            theta[i] = wn
            gsq += g * g
            usq += du * du
            wsq0 += w * w
            wsq += wn * wn
        out_gnorm[s, l] = np.sqrt(gsq)
        out_wnorm[s, l] = np.sqrt(wsq)
        if wsq0 > 0.0:
            out_uratio[s, l] = np.sqrt(usq / wsq0)
        else:
            out_uratio[s, l] = np.inf if usq > 0.0 else 0.0
        if not np.isfinite(gsq):
            flags |= NF_GRAD
        if not np.isfinite(wsq):
            flags |= NF_WEIGHTS
    return flags


# --- the chunked training loop --------------------------------------------------------
@njit(nogil=True, cache=True)
def train_chunk(X, Y, theta, grad, vel, acc, units, rows, acts, woff, zcum, acum,
                loss_code, opt_code, hp, perm, counters, rng, batch_size, n_steps,
                stop_at_step, zbuf, abuf, dbuf, ybuf,
                out_loss, out_gnorm, out_wnorm, out_uratio, out_dead, out_sat, out_flags):
    """Run up to ``n_steps`` mini-batch steps; return the number done.

    Each epoch starts with a Fisher-Yates shuffle of ``perm`` from the splitmix64 state
    ``rng``; batches are consecutive slices of ``perm`` and the last, smaller batch of an
    epoch is kept. ``counters`` = [step, epoch, position in epoch, optimizer updates t].
    Stops early after a step with a non-finite value (that step is counted and flagged)
    or when ``counters[step]`` reaches ``stop_at_step`` (>= 0).
    """
    n = X.shape[0]
    d = X.shape[1]
    k = Y.shape[1]
    L = rows.shape[0]
    out_code = acts[L - 1]
    l1 = hp[HP_L1]
    l2 = hp[HP_L2]
    done = 0
    for s in range(n_steps):
        if stop_at_step >= 0 and counters[C_STEP] >= stop_at_step:
            break
        pos = counters[C_POS]
        if pos == 0:
            shuffle_inplace(perm, rng)
        B = batch_size if pos + batch_size <= n else n - pos
        xb = abuf[0:B * d].reshape((B, d))
        yb = ybuf[0:B * k].reshape((B, k))
        for i in range(B):
            idx = perm[pos + i]
            for c in range(d):
                xb[i, c] = X[idx, c]
            for c in range(k):
                yb[i, c] = Y[idx, c]
        _forward(theta, units, rows, acts, woff, B, zbuf, abuf, zcum, acum)
        zL = zbuf[B * zcum[L - 1]:B * zcum[L - 1] + B * k].reshape((B, k))
        aL = abuf[B * acum[L]:B * acum[L] + B * k].reshape((B, k))
        dL = dbuf[B * zcum[L - 1]:B * zcum[L - 1] + B * k].reshape((B, k))
        loss = _loss_delta(loss_code, out_code, zL, aL, yb, dL, True) / B
        loss += _penalty(theta, units, rows, woff, l1, l2)
        _backward(theta, grad, units, rows, acts, woff, B, zbuf, abuf, dbuf, zcum, acum, l1, l2)
        _unit_stats(acts, rows, units, zbuf, abuf, zcum, acum, B, out_dead, out_sat, s)
        flags = _update(theta, grad, vel, acc, units, rows, woff, opt_code, hp,
                        float(counters[C_T]), out_gnorm, out_wnorm, out_uratio, s)
        if not np.isfinite(loss):
            flags |= NF_LOSS
        out_loss[s] = loss
        out_flags[s] = flags
        counters[C_T] += 1
        counters[C_STEP] += 1
        pos += B
        if pos >= n:
            pos = 0
            counters[C_EPOCH] += 1
        counters[C_POS] = pos
        done += 1
        if flags != 0:
            break
    return done


# --- whole-set evaluation and on-demand probes -----------------------------------------
@njit(nogil=True, cache=True)
def forward_all(theta, units, rows, acts, woff, zcum, acum, X, block, out_z, out_a):
    """Feed all of X forward in blocks; write every layer's z and a for every sample.

    out_z: (n, sum rows), out_a: (n, sum units[1:]) with layer blocks side by side.
    """
    n = X.shape[0]
    d = X.shape[1]
    L = rows.shape[0]
    zbuf = np.empty(block * zcum[L], dtype=theta.dtype)
    abuf = np.empty(block * acum[L + 1], dtype=theta.dtype)
    for start in range(0, n, block):
        B = min(block, n - start)
        xb = abuf[0:B * d].reshape((B, d))
        for i in range(B):
            for c in range(d):
                xb[i, c] = X[start + i, c]
        _forward(theta, units, rows, acts, woff, B, zbuf, abuf, zcum, acum)
        for l in range(L):
            z = zbuf[B * zcum[l]:B * zcum[l] + B * rows[l]].reshape((B, rows[l]))
            a = abuf[B * acum[l + 1]:B * acum[l + 1] + B * units[l + 1]].reshape(
                (B, units[l + 1]))
            for i in range(B):
                for j in range(rows[l]):
                    out_z[start + i, zcum[l] + j] = z[i, j]
                for j in range(units[l + 1]):
                    out_a[start + i, acum[l + 1] - units[0] + j] = a[i, j]


@njit(nogil=True, cache=True)
def predict(theta, units, rows, acts, woff, zcum, acum, X, block, out):
    """Write the network outputs f(z_L) for every row of X into ``out`` (n, k)."""
    n = X.shape[0]
    d = X.shape[1]
    L = rows.shape[0]
    k = units[L]
    zbuf = np.empty(block * zcum[L], dtype=theta.dtype)
    abuf = np.empty(block * acum[L + 1], dtype=theta.dtype)
    for start in range(0, n, block):
        B = min(block, n - start)
        xb = abuf[0:B * d].reshape((B, d))
        for i in range(B):
            for c in range(d):
                xb[i, c] = X[start + i, c]
        _forward(theta, units, rows, acts, woff, B, zbuf, abuf, zcum, acum)
        aL = abuf[B * acum[L]:B * acum[L] + B * k].reshape((B, k))
        for i in range(B):
            for j in range(k):
                out[start + i, j] = aL[i, j]


@njit(nogil=True, cache=True)
def evaluate(theta, units, rows, acts, woff, zcum, acum, loss_code, l1, l2, X, Y,
             classify, threshold_z, block, unit_off, unit_sat):
    """Return (mean loss incl. penalty, accuracy or -1) over all of X and count, per
    hidden or output unit, the samples on which it is off (ReLU z <= 0) or saturated
    (sigmoid/tanh derivative below 0.01) into ``unit_off`` / ``unit_sat`` (sum units[1:]).

    ``classify``: 0 regression, 1 one output thresholded, 2 argmax. ``threshold_z``:
    for one output, predict class 1 when z > 0 (True) or when f(z) > 0.5 (False).
    """
    n = X.shape[0]
    d = X.shape[1]
    k = Y.shape[1]
    L = rows.shape[0]
    out_code = acts[L - 1]
    zbuf = np.empty(block * zcum[L], dtype=theta.dtype)
    abuf = np.empty(block * acum[L + 1], dtype=theta.dtype)
    dz = np.empty((block, k), dtype=theta.dtype)
    yb = np.empty((block, k), dtype=theta.dtype)
    total = 0.0
    correct = 0
    unit_off[:] = 0
    unit_sat[:] = 0
    for start in range(0, n, block):
        B = min(block, n - start)
        xb = abuf[0:B * d].reshape((B, d))
        for i in range(B):
            for c in range(d):
                xb[i, c] = X[start + i, c]
            for c in range(k):
                yb[i, c] = Y[start + i, c]
        _forward(theta, units, rows, acts, woff, B, zbuf, abuf, zcum, acum)
        zL = zbuf[B * zcum[L - 1]:B * zcum[L - 1] + B * k].reshape((B, k))
        aL = abuf[B * acum[L]:B * acum[L] + B * k].reshape((B, k))
        total += _loss_delta(loss_code, out_code, zL, aL, yb[:B], dz[:B], False)
        if classify == 1:
            for i in range(B):
                if threshold_z:
                    p = 1.0 if zL[i, 0] > 0.0 else 0.0
                else:
                    p = 1.0 if aL[i, 0] > 0.5 else 0.0
                if p == yb[i, 0]:
                    correct += 1
        elif classify == 2:
            for i in range(B):
                best = 0
                for j in range(1, k):
                    if zL[i, j] > zL[i, best]:
                        best = j
                if yb[i, best] == 1.0:
                    correct += 1
        for l in range(L):
            code = acts[l]
            if code != 2 and code != 3 and code != 4:
                continue
            u = units[l + 1]
            a = abuf[B * acum[l + 1]:B * acum[l + 1] + B * u].reshape((B, u))
            base = acum[l + 1] - units[0]
            for i in range(B):
                for j in range(u):
                    x = a[i, j]
                    if code == 4:
                        if x <= 0.0:
                            unit_off[base + j] += 1
                    else:
                        dv = x * (1.0 - x) if code == 2 else 1.0 - x * x
                        if dv < 0.01:
                            unit_sat[base + j] += 1
    loss = total / max(n, 1) + _penalty(theta, units, rows, woff, l1, l2)
    acc = correct / max(n, 1) if classify != 0 else -1.0
    return loss, acc


@njit(nogil=True, cache=True)
def loss_and_grad(theta, grad, units, rows, acts, woff, zcum, acum, loss_code, l1, l2, X, Y):
    """Return the mean loss (penalty included) of the whole batch X, Y and write its
    gradient into ``grad`` (same layout as theta)."""
    B = X.shape[0]
    d = X.shape[1]
    k = Y.shape[1]
    L = rows.shape[0]
    zbuf = np.empty(B * zcum[L], dtype=theta.dtype)
    abuf = np.empty(B * acum[L + 1], dtype=theta.dtype)
    maxu = 0
    for l in range(L + 1):
        if units[l] > maxu:
            maxu = units[l]
    dbuf = np.empty(B * zcum[L] + B * maxu, dtype=theta.dtype)
    xb = abuf[0:B * d].reshape((B, d))
    for i in range(B):
        for c in range(d):
            xb[i, c] = X[i, c]
    _forward(theta, units, rows, acts, woff, B, zbuf, abuf, zcum, acum)
    zL = zbuf[B * zcum[L - 1]:B * zcum[L - 1] + B * k].reshape((B, k))
    aL = abuf[B * acum[L]:B * acum[L] + B * k].reshape((B, k))
    dL = dbuf[B * zcum[L - 1]:B * zcum[L - 1] + B * k].reshape((B, k))
    loss = _loss_delta(loss_code, acts[L - 1], zL, aL, Y, dL, True) / B
    loss += _penalty(theta, units, rows, woff, l1, l2)
    _backward(theta, grad, units, rows, acts, woff, B, zbuf, abuf, dbuf, zcum, acum, l1, l2)
    return loss


@njit(nogil=True, cache=True)
def histogram(values, lo, hi, out):
    """Count ``values`` into ``out.shape[0]`` equal bins over [lo, hi]; values outside are
    clipped into the end bins, non-finite ones are skipped."""
    nb = out.shape[0]
    out[:] = 0
    if hi <= lo:
        hi = lo + 1e-12
    scale = nb / (hi - lo)
    for v in values:
        if not np.isfinite(v):
            continue
        b = int((v - lo) * scale)
        if b < 0:
            b = 0
        elif b >= nb:
            b = nb - 1
        out[b] += 1


@njit(nogil=True, cache=True)
def update_flat(theta, grad, vel, acc, opt_code, hp, t):
    """One optimizer update of a whole flat vector (the rule of :func:`_update`)."""
    n = theta.shape[0]
    units = np.array([n - 1, 1], dtype=np.int64)
    rows = np.array([1], dtype=np.int64)
    woff = np.array([0], dtype=np.int64)
    g = np.empty((1, 1))
    w = np.empty((1, 1))
    u = np.empty((1, 1))
    return _update(theta, grad, vel, acc, units, rows, woff, opt_code, hp, t, g, w, u, 0)
