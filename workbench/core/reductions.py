"""The per-chunk reductions of the Monitor, compiled (one call per kernel chunk).

With the kernels at a few microseconds per step, the Monitor's share of a run is set by
its fixed cost per chunk: about twenty small numpy calls (medians, masks, argmax, block
means) cost 60-150 us, more than 5 % of a W1 chunk. This function computes the same
numbers in one compiled pass (a few microseconds) and gives bit-identical results:

- medians are the upper median (``np.partition(a, n // 2)[n // 2]``): the same element
  of the sorted column (NaN sorts last in both);
- a block mean of BLOCK = 10 gradient norms adds them in numpy's pairwise order for
  ten contiguous values (eight partial sums, then the last two) before dividing by 10;
- maxima propagate NaN like ``np.max``.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

# indices of the float results
R_N_TAIL, R_RECENT, R_UR_STATUS, R_UR_MED, R_UR_LAYER, R_RATIO, R_GX, R_DBL, \
    R_PREV_BLOCK = range(9)
N_RESULTS = 9
WINDOW, TAIL_RECENT, BLOCK = 64, 20, 10    # the Monitor's constants (asserted there)


@njit(cache=True, nogil=True)
def _lt(a: float, b: float) -> bool:
    """a before b in numpy's sort order (NaN last)."""
    return a < b or (math.isnan(b) and not math.isnan(a))


@njit(cache=True, nogil=True)
def _upper_median(src: np.ndarray, buf: np.ndarray) -> float:
    """``np.partition(src, n // 2)[n // 2]`` without allocating: quickselect in ``buf``
    (scratch, at least as long as ``src``)."""
    n = src.shape[0]
    for i in range(n):
        buf[i] = src[i]
    k = n // 2
    lo, hi = 0, n - 1
    while lo < hi:
        pivot = buf[(lo + hi) // 2]
        i, j = lo, hi
        while i <= j:
            while _lt(buf[i], pivot):
                i += 1
            while _lt(pivot, buf[j]):
                j -= 1
            if i <= j:
                t = buf[i]
                buf[i] = buf[j]
                buf[j] = t
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            break
    return buf[k]


@njit(cache=True, nogil=True)
def _nanmax(a: np.ndarray) -> float:
    """``np.max`` of a 1-D array: NaN if any value is NaN."""
    best = a[0]
    for v in a:
        if math.isnan(v):
            return v
        if v > best:
            best = v
    return best


@njit(cache=True, nogil=True)
def _row_max(a: np.ndarray, i: int, L: int) -> float:
    """``np.max(a[i])``: NaN if any value of the row is NaN."""
    best = a[i, 0]
    nan = best != best
    for l in range(1, L):
        v = a[i, l]
        nan |= v != v
        best = v if v > best else best
    return np.nan if nan else best


@njit(cache=True, nogil=True)
def reduce_chunk(loss, ur_win, wnorm, gnorm, g_win, tail, min_wnorm, ia, res, scratch):
    """Reduce the first ``m`` (finite) steps of a chunk; results go into ``res``.

    Integer inputs come packed in ``ia`` (fewer arguments: the call's dispatch cost
    grows with their number): m, n_tail, doublings, has_prev (0/1); ``res[0]`` holds
    ``prev_block`` on entry. WINDOW = 64, TAIL_RECENT = 20 and BLOCK = 10 are fixed.

    loss (n,), wnorm / gnorm (n, L): the chunk's arrays. ``ur_win`` / ``g_win`` (k, L):
    the update ratios (after the warm-up) and gradient norms whose per-layer medians are
    taken, the last WINDOW steps up to this chunk's m-th, earlier chunks' included (the
    Monitor builds them). ``tail`` (TAIL,) holds the last ``n_tail`` finite losses of
    earlier chunks and is updated in place. ``min_wnorm`` (L,): weight norm below which a
    layer's update ratio says nothing. ``scratch``: at least max(WINDOW, len(tail))
    floats. ``prev_block``: the last gradient-norm block mean (used when ``has_prev``).

    res[R_N_TAIL]     number of losses now in ``tail``
    res[R_RECENT]     upper median of the last ``tail_recent`` of them (NaN: none)
    res[R_UR_STATUS]  0: no update-ratio window; 1: found; 2: no layer qualifies
    res[R_UR_MED], res[R_UR_LAYER]  the largest qualifying per-layer median, its layer
    res[R_RATIO]      median first / last layer gradient norm (NaN: not defined)
    res[R_GX]         largest per-layer median gradient norm (NaN propagates)
    res[R_DBL], res[R_PREV_BLOCK]  doubling count and last block mean (when R_GX finite)
    """
    m, n_tail, doublings, has_prev = ia[0], ia[1], ia[2], ia[3] != 0
    prev_block = res[0]
    tail_recent, block = TAIL_RECENT, BLOCK
    cap = tail.shape[0]
    # --- tail of finite losses
    k = min(m, cap)
    if k > 0:
        keep = min(n_tail, cap - k)
        for i in range(keep):
            tail[i] = tail[n_tail - keep + i]
        for i in range(k):
            tail[keep + i] = loss[m - k + i]
        n_tail = keep + k
    res[R_N_TAIL] = n_tail
    res[R_RECENT] = np.nan
    if n_tail > 0:
        r0 = max(0, n_tail - tail_recent)
        res[R_RECENT] = _upper_median(tail[r0:n_tail], scratch)
    res[R_UR_STATUS] = 0.0
    res[R_UR_MED] = np.nan
    res[R_UR_LAYER] = -1.0
    res[R_RATIO] = np.nan
    res[R_GX] = np.nan
    res[R_DBL] = doublings
    res[R_PREV_BLOCK] = prev_block
    if m <= 0:
        return
    L = gnorm.shape[1]
    # --- update ratio: per-layer median over the window
    if ur_win.shape[0] > 0:
        best = -np.inf
        j = -1
        for l in range(L):
            med = _upper_median(ur_win[:, l], scratch)
            if wnorm[m - 1, l] >= min_wnorm[l] and math.isfinite(med) and (
                    j < 0 or med > best):
                best = med
                j = l
        if j >= 0:
            res[R_UR_STATUS] = 1.0
            res[R_UR_MED] = best
            res[R_UR_LAYER] = j
        else:
            res[R_UR_STATUS] = 2.0
    # --- gradient norms: per-layer median over the window
    gmed = np.empty(L)
    for l in range(L):
        gmed[l] = _upper_median(g_win[:, l], scratch)
    if L > 1 and gmed[L - 1] > 0 and math.isfinite(gmed[0]):
        res[R_RATIO] = gmed[0] / gmed[L - 1]
    gx = _nanmax(gmed)
    res[R_GX] = gx
    if not math.isfinite(gx):
        return
    # --- doublings of the block means of the per-step largest gradient norm
    nb = m // block
    if nb:
        blocks = np.empty(nb)
        x = np.empty(block)
        for b in range(nb):
            for i in range(block):
                x[i] = _row_max(gnorm, b * block + i, L)
            if block == 10:     # numpy's pairwise order for 10 contiguous values
                s = ((x[0] + x[1]) + (x[2] + x[3])) + ((x[4] + x[5]) + (x[6] + x[7]))
                s += x[8]
                s += x[9]
            else:
                s = 0.0
                for v in x:
                    s += v
            blocks[b] = s / block
    else:
        blocks = np.empty(1)
        blocks[0] = _row_max(gnorm, m - 1, L)
    if not has_prev:
        seq = blocks
    else:
        seq = np.empty(blocks.shape[0] + 1)
        seq[0] = prev_block
        seq[1:] = blocks
    n = doublings
    if seq.shape[0] > 1:
        nup = seq.shape[0] - 1
        last_down = -1
        for i in range(nup):
            up = seq[i + 1] >= 2.0 * seq[i] and seq[i] > 0
            if not up:
                last_down = i
        n = n + nup if last_down < 0 else nup - 1 - last_down
    res[R_DBL] = n
    res[R_PREV_BLOCK] = seq[seq.shape[0] - 1]


def compile_reduce_chunk() -> None:
    """Call :func:`reduce_chunk` once with tiny arrays (compiles it, or loads it from
    Numba's cache): what the Monitor's warm-up and the warm-up's children run."""
    m, L = 12, 2
    g = np.full((m, L), 0.1)
    reduce_chunk(np.linspace(1.0, 0.5, m), g.copy(), np.ones((m, L)), g, g.copy(),
                 np.zeros(WINDOW),
                 np.zeros(L), np.array([m, 0, 0, 0], np.int64), np.zeros(N_RESULTS),
                 np.zeros(WINDOW))
