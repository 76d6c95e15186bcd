"""Arrays whose data start on a 64-byte boundary: a cache line, one AVX-512 vector.

The kernels' products load and store whole 64-byte vectors (:func:`~workbench.core.
kernels._fma_tile`). NumPy places a new array's data 16 bytes past a boundary at best,
so a buffer 16, 32 or 48 bytes off splits every vector access across two cache lines.
Which offset a run got changed from process to process: W3 (64 -> 128 relu -> 10,
batch 32) measured 29.2 us a step with its buffers as NumPy placed them and 22.7 us
aligned, the same bits. (The kernels' own scratch, allocated inside Numba, goes through
:func:`~workbench.core.kernels._aligned_empty` for the same reason.)
"""
from __future__ import annotations

import numpy as np

ALIGN = 64


def empty(shape, dtype=np.float64) -> np.ndarray:
    """An uninitialised C-contiguous array whose data start on an ``ALIGN``-byte boundary."""
    dtype = np.dtype(dtype)
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
    n = 1
    for d in shape:         # (np.prod took 2 of the 4.6 us)
        n *= int(d)
    nbytes = n * dtype.itemsize
    raw = np.empty(nbytes + ALIGN, np.uint8)
    off = -raw.ctypes.data % ALIGN
    return raw[off:off + nbytes].view(dtype).reshape(shape)


def zeros(shape, dtype=np.float64) -> np.ndarray:
    out = empty(shape, dtype)
    out[...] = 0
    return out


def full(shape, value, dtype=np.float64) -> np.ndarray:
    out = empty(shape, dtype)
    out[...] = value
    return out


def copy(a, dtype=None) -> np.ndarray:
    """An aligned C-contiguous copy of ``a`` (converted to ``dtype`` if given)."""
    a = np.asarray(a)
    out = empty(a.shape, a.dtype if dtype is None else dtype)
    out[...] = a
    return out


def is_aligned(a: np.ndarray) -> bool:
    """Whether ``a``'s data start on an ``ALIGN``-byte boundary (an empty array, with no
    data to read, counts as aligned: NumPy may point it anywhere)."""
    return a.size == 0 or a.ctypes.data % ALIGN == 0
