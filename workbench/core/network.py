"""Network: a flat parameter vector with per-layer views, initialization and probes."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import aligned
from . import kernels as K

HIDDEN_ACTIVATIONS = tuple(k for k in K.ACT_CODES if k != "softmax")
MODEL_DEFAULTS = {"hidden": [], "output": "sigmoid", "loss": "bce", "init": "xavier",
                  "init_scale": 1.0, "bias_init": 0.0}


@dataclass(frozen=True)
class Layout:
    """Integer arrays describing the layers, as the kernels read them.

    units : (L+1,) units per layer, inputs first; rows : (L,) rows of each W
    (2 units for maxout); acts : (L,) activation codes (last = output); woff : (L,)
    offset of W_l in theta; zcum : (L+1,) cumulative rows; acum : (L+2,) cumulative units.
    """
    units: np.ndarray
    rows: np.ndarray
    acts: np.ndarray
    woff: np.ndarray
    zcum: np.ndarray
    acum: np.ndarray
    n_params: int

    @classmethod
    def build(cls, n_inputs: int, n_outputs: int, hidden, output: str) -> "Layout":
        sizes = [int(n_inputs)] + [int(u) for u, _ in hidden] + [int(n_outputs)]
        act_names = [a for _, a in hidden] + [output]
        rows = [2 * u if a == "maxout" else u for u, a in zip(sizes[1:], act_names)]
        woff, o = [], 0
        for l, r in enumerate(rows):
            woff.append(o)
            o += r * sizes[l] + r
        i64 = np.int64
        return cls(units=np.array(sizes, i64), rows=np.array(rows, i64),
                   acts=np.array([K.ACT_CODES[a] for a in act_names], i64),
                   woff=np.array(woff, i64),
                   zcum=np.concatenate([[0], np.cumsum(rows)]).astype(i64),
                   acum=np.concatenate([[0], np.cumsum(sizes)]).astype(i64),
                   n_params=o)

    @property
    def n_layers(self) -> int:
        return int(self.rows.shape[0])

    def args(self):
        """The layout arrays in the order the kernels take them."""
        return self.units, self.rows, self.acts, self.woff, self.zcum, self.acum

    def block(self, itemsize: int = 8) -> int:
        """Samples per block when a whole set is fed forward (evaluations, predictions):
        256, or fewer when that keeps a layer's product on the kernels' FMA rows path,
        which the training batch of 32 takes (it stops at ``_T_MAX_MACS`` multiply-adds:
        W3's 64 -> 128 over 256 samples went to BLAS, 1.1 ms an evaluation)."""
        layers = [(int(r), int(n)) for r, n in zip(self.rows, self.units[:-1])
                  if forward_on_rows(32, r, n, itemsize)]
        for B in (256, 128, 96, 64):
            if all(forward_on_rows(B, r, n, itemsize) for r, n in layers):
                return B
        return 32


def forward_on_rows(B: int, r: int, n_in: int, itemsize: int) -> bool:
    """Whether the kernels' forward map of r units over n_in inputs, for a batch of B,
    takes the FMA rows path (``kernels._use_rows``) or its padded form
    (``kernels._pad_width``), given enough scratch. The same rules in plain Python, so
    that choosing a block compiles nothing; a test holds the two to each other."""
    lanes = 16 if itemsize == 4 else 8

    def fits(N):
        return (B >= K._ROWS_MIN_BATCH and N >= lanes and N % lanes == 0
                and B * N * n_in <= K._T_MAX_MACS
                and n_in * min(N, 8 * lanes) * itemsize <= K._ROWS_L1)
    if fits(r):
        return True
    npad = -(-r // lanes) * lanes
    return r >= K._PAD_MIN_ROWS and r % lanes != 0 and npad <= 2 * lanes and fits(npad)


def _model_dict(model) -> dict:
    if model is None:
        return dict(MODEL_DEFAULTS)
    if hasattr(model, "to_dict"):
        model = model.to_dict()
    d = dict(MODEL_DEFAULTS)
    d.update(model)
    return d


class Network:
    """A multi-layer perceptron over one flat parameter vector.

    Parameters
    ----------
    n_inputs, n_outputs : int
    model : dict
        The ``model`` section of the run configuration; missing keys take defaults.
    seed : int
        Seed of the weight initialization.
    dtype : numpy dtype
        float64 (default) or float32.

    Attributes
    ----------
    theta : ndarray, shape (n_params,)
        All parameters; ``weights`` holds writable views into it.
    weights : list of (W, b)
        ``W`` shaped ``(n_out, n_in)`` (``(2 n_out, n_in)`` for maxout), ``b`` ``(n_out,)``.
    """

    def __init__(self, n_inputs: int, n_outputs: int, model=None, seed: int = 0,
                 dtype=np.float64):
        m = _model_dict(model)
        self.model = m
        self.hidden = [[int(u), a] for u, a in m["hidden"]]
        self.output = m["output"]
        self.loss = m["loss"]
        self.loss_code = K.LOSS_CODES[self.loss]
        self.layout = Layout.build(n_inputs, n_outputs, self.hidden, self.output)
        self.dtype = np.dtype(dtype)
        self.theta = aligned.zeros(self.layout.n_params, self.dtype)
        self.weights = self._views(self.theta)
        self.initialize(m["init"], m["init_scale"], m["bias_init"], seed)

    # --- structure ----------------------------------------------------------------
    @property
    def n_inputs(self) -> int:
        return int(self.layout.units[0])

    @property
    def n_outputs(self) -> int:
        return int(self.layout.units[-1])

    @property
    def n_layers(self) -> int:
        return self.layout.n_layers

    @property
    def activations_names(self) -> list[str]:
        return [a for _, a in self.hidden] + [self.output]

    def _views(self, flat: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        lay = self.layout
        views = []
        for l in range(lay.n_layers):
            r, n_in, o = int(lay.rows[l]), int(lay.units[l]), int(lay.woff[l])
            views.append((flat[o:o + r * n_in].reshape(r, n_in),
                          flat[o + r * n_in:o + r * n_in + r]))
        return views

    def layer_slice(self, l: int) -> slice:
        """The slice of ``theta`` holding layer l's W and b."""
        lay = self.layout
        o = int(lay.woff[l])
        r = int(lay.rows[l])
        return slice(o, o + r * int(lay.units[l]) + r)

    def unflatten(self, flat: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Views of a vector laid out like ``theta`` (a gradient, a snapshot) per layer."""
        return self._views(flat)

    # --- initialization -------------------------------------------------------------
    def initialize(self, init: str = "xavier", scale: float = 1.0, bias: float = 0.0,
                   seed: int = 0) -> None:
        """Set every weight by ``init`` times ``scale`` and every bias to ``bias``.

        zeros; constant (w = s); uniform U(-s, s); normal N(0, 1) s;
        xavier: U(-r, r) s with r = sqrt(6 / (fan_in + fan_out)); he: N(0, 2 / fan_in) s.
        """
        rng = np.random.default_rng(seed)
        for W, b in self.weights:
            fan_out, fan_in = W.shape
            if init == "zeros":
                W[...] = 0.0
            elif init == "constant":
                W[...] = scale
            elif init == "uniform":
                W[...] = rng.uniform(-scale, scale, W.shape)
            elif init == "normal":
                W[...] = rng.standard_normal(W.shape) * scale
            elif init == "xavier":
                r = np.sqrt(6.0 / (fan_in + fan_out))
                W[...] = rng.uniform(-r, r, W.shape) * scale
            elif init == "he":
                W[...] = rng.standard_normal(W.shape) * np.sqrt(2.0 / fan_in) * scale
            else:
                raise ValueError(f"unknown init '{init}'")
            b[...] = bias

    # --- targets ----------------------------------------------------------------------
    def targets(self, y: np.ndarray) -> np.ndarray:
        """Return y as the float matrix ``(n, k)`` the kernels read.

        ``cross_entropy`` takes integer classes ``(n,)`` and one-hot encodes them; a
        multi-output ``mse`` net given class labels does the same.
        """
        y = np.asarray(y)
        k = self.n_outputs
        if y.ndim == 1:
            if (self.loss == "cross_entropy" or k > 1) and np.issubdtype(y.dtype, np.integer):
                Y = np.zeros((y.shape[0], k), dtype=self.dtype)
                Y[np.arange(y.shape[0]), y] = 1.0
                return Y
            y = y.reshape(-1, 1)
        return np.ascontiguousarray(y, dtype=self.dtype)

    # --- computation ------------------------------------------------------------------
    def predict(self, X: np.ndarray) -> np.ndarray:
        """Return the outputs f(z_L), shape ``(n, n_outputs)``."""
        X = np.ascontiguousarray(X, dtype=self.dtype)
        out = np.empty((X.shape[0], self.n_outputs), dtype=self.dtype)
        K.predict(self.theta, *self.layout.args(), X, self.layout.block(self.dtype.itemsize), out)
        return out

    def forward(self, X: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Return per layer the pre-activations z_l ``(n, rows_l)`` and outputs a_l
        ``(n, units_l)`` of every row of X (the activations, on demand)."""
        X = np.ascontiguousarray(X, dtype=self.dtype)
        lay = self.layout
        n = X.shape[0]
        Z = np.empty((n, int(lay.zcum[-1])), dtype=self.dtype)
        A = np.empty((n, int(lay.acum[-1] - lay.units[0])), dtype=self.dtype)
        K.forward_all(self.theta, *lay.args(), X, lay.block(self.dtype.itemsize), Z, A)
        zs, as_ = [], []
        for l in range(lay.n_layers):
            zs.append(Z[:, lay.zcum[l]:lay.zcum[l + 1]])
            base = int(lay.acum[l + 1] - lay.units[0])
            as_.append(A[:, base:base + int(lay.units[l + 1])])
        return zs, as_

    def loss_and_grad(self, X, y, l1: float = 0.0, l2: float = 0.0):
        """Return the mean loss (penalty included) and ``[(dW, db), ...]``."""
        X = np.ascontiguousarray(X, dtype=self.dtype)
        Y = self.targets(y)
        grad = np.zeros_like(self.theta)
        loss = K.loss_and_grad(self.theta, grad, *self.layout.args(), self.loss_code,
                               float(l1), float(l2), X, Y)
        return float(loss), self._views(grad)

    def loss_and_flat_grad(self, X, y, l1: float = 0.0, l2: float = 0.0):
        """Like :meth:`loss_and_grad` with the gradient as one flat vector."""
        X = np.ascontiguousarray(X, dtype=self.dtype)
        Y = self.targets(y)
        grad = np.zeros_like(self.theta)
        loss = K.loss_and_grad(self.theta, grad, *self.layout.args(), self.loss_code,
                               float(l1), float(l2), X, Y)
        return float(loss), grad

    def histograms(self, flat: np.ndarray | None = None, bins: int = 32,
                   lo: float | None = None, hi: float | None = None) -> list[tuple]:
        """Per layer, a histogram of the weights (or of ``flat``, e.g. a gradient).

        Returns a list of ``(counts (bins,), lo, hi)``; the range is the layer's own
        min/max unless given.
        """
        flat = self.theta if flat is None else flat
        out = []
        for l in range(self.n_layers):
            v = np.ascontiguousarray(flat[self.layer_slice(l)], dtype=np.float64)
            finite = v[np.isfinite(v)]
            a = float(finite.min()) if lo is None and finite.size else (lo or 0.0)
            b = float(finite.max()) if hi is None and finite.size else (hi or 0.0)
            if b <= a:
                a, b = a - 0.5, b + 0.5
            counts = np.zeros(bins, dtype=np.int64)
            K.histogram(v, a, b, counts)
            out.append((counts, a, b))
        return out

    def copy(self) -> "Network":
        other = object.__new__(Network)
        other.__dict__.update(self.__dict__)
        other.theta = aligned.copy(self.theta)
        other.weights = other._views(other.theta)
        return other
