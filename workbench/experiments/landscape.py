"""Loss landscapes: exact surfaces of two-parameter models, optimizer paths on them,
and 2-D slices through the parameters of larger nets (Li et al., 2018).

The surface is computed here in NumPy for a whole grid of parameter vectors at once
(:func:`batch_loss`: the slide's forward pass and losses, vectorised over the grid), an
implementation independent of the Numba kernels that train; tests hold the two equal.

Two-parameter models (:data:`MODELS`), each with its data, its two free parameters
and the values of the fixed ones:

``linear_regression``
    y = w x + w0, MSE, on ``reg_line`` (100 samples, noise 0.5, no test split). Free:
    w = ``W[0, 0]`` and w0 = ``b[0]`` (theta[0], theta[1]); nothing fixed. Convex; the
    normal-equation optimum is marked.
``sigmoid_unit``
    f(x) = sigmoid(w x + b) trained with MSE on 1-D two-class data (40 points of class
    1 around x = 1.5, 40 of class 0 around -1.5, 12 of class 1 far left around -7).
    Free: w and b (theta[0], theta[1]). Non-convex: besides the good minimum
    (w ~ 2.0, b ~ 0.55, loss 0.212) a shallow one near (0.10, 0.33) (loss 0.240) holds
    a start from (-1, -3).
``tanh_net``
    The 1-1-1 net z = w2 tanh(w1 x + b1) + b2, linear output, MSE, on x uniform in
    [-3, 3] with y = 2 tanh(1.5 x + 1) + N(0, 0.05^2). Free: the two weights w1 =
    ``W1[0, 0]`` (theta[0]) and w2 = ``W2[0, 0]`` (theta[2]); fixed: b1 = 1 (theta[1]),
    b2 = 0 (theta[3]), the teacher's values. The global minimum is (1.5, 2); a start
    with both weights negative slides into a saturated valley (w1 << 0) with a far
    worse loss, because the fixed bias breaks the (w1, w2) -> (-w1, -w2) symmetry.

Paths are full-batch steps (so they descend the drawn surface) of the configured
optimizer: for models whose every parameter is free they are a real
:class:`workbench.run.Run` (the start set by recorded ``weight`` events, each step's
parameters recorded); otherwise the free parameters are stepped with the same
optimizer class (``workbench.core``) and the fixed ones kept.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..config import load_config
from ..core import Network, make_optimizer, normal_equations
from ..data import Dataset, load_dataset
from ..run import Run, output_units

# --- the forward pass and losses, vectorised over parameter vectors ---------------------


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


#: Activations f(z), as on the slides (leaky ReLU slope 0.1, ELU alpha 1).
ACTIVATIONS_NP: dict[str, Callable] = {
    "linear": lambda z: z,
    "step": lambda z: (z > 0).astype(z.dtype),
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "leaky_relu": lambda z: np.maximum(0.1 * z, z),
    "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0.0))),
    "softmax": _softmax,
}


def _mse(z, f, Y):
    return np.sum((f - Y) ** 2, axis=-1)


def _bce(z, f, Y):
    return np.sum(np.logaddexp(0.0, z) - Y * z, axis=-1)


def _cross_entropy(z, f, Y):
    m = z.max(axis=-1, keepdims=True)
    lse = (m + np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True)))[..., 0]
    return lse - np.sum(Y * z, axis=-1)


def _perceptron(z, f, Y):
    return np.sum(np.maximum(0.0, -(2 * Y - 1) * z), axis=-1)


def _hinge(z, f, Y):
    return np.sum(np.maximum(0.0, 1.0 - (2 * Y - 1) * z), axis=-1)


#: Per-sample losses from the output pre-activation z, the output f(z) and targets Y.
LOSSES_NP: dict[str, Callable] = {"mse": _mse, "bce": _bce, "cross_entropy": _cross_entropy,
                                  "perceptron": _perceptron, "hinge": _hinge}


def batch_loss(net: Network, thetas: np.ndarray, X: np.ndarray, Y: np.ndarray,
               l1: float = 0.0, l2: float = 0.0, max_elems: int = 4_000_000) -> np.ndarray:
    """The mean loss (penalty included) of ``net``'s architecture at many parameter vectors.

    L(theta) = mean_i loss(z_L(x_i), y_i) + l2 sum W^2 + l1 sum |W| (weights, not biases).

    Parameters
    ----------
    net : Network
        Gives the layout, activations and loss (its own theta is not used).
    thetas : np.ndarray, shape (G, n_params)
    X : np.ndarray, shape (n, d)
    Y : np.ndarray, shape (n, k)
        Targets as the kernels read them (``net.targets(y)``).
    max_elems : int
        Grid points are processed in blocks of about this many activations.

    Returns
    -------
    np.ndarray, shape (G,)
    """
    thetas = np.atleast_2d(np.asarray(thetas, dtype=np.float64))
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    lay = net.layout
    acts = net.activations_names
    loss_fn = LOSSES_NP[net.loss]
    G, n = thetas.shape[0], X.shape[0]
    width = int(lay.rows.max())
    block = max(1, max_elems // max(1, n * width))
    out = np.empty(G)
    for g0 in range(0, G, block):
        th = thetas[g0:g0 + block]
        gb = th.shape[0]
        A = X[None]
        penalty = np.zeros(gb)
        z = A
        for l in range(lay.n_layers):
            r, k, o = int(lay.rows[l]), int(lay.units[l]), int(lay.woff[l])
            W = th[:, o:o + r * k].reshape(gb, r, k)
            b = th[:, o + r * k:o + r * k + r]
            penalty += l2 * np.sum(W ** 2, axis=(1, 2)) + l1 * np.sum(np.abs(W), axis=(1, 2))
            z = A @ W.transpose(0, 2, 1) + b[:, None, :]
            if acts[l] == "maxout":
                A = z.reshape(gb, n, r // 2, 2).max(axis=-1)
            else:
                A = ACTIVATIONS_NP[acts[l]](z)
        with np.errstate(over="ignore", invalid="ignore"):
            out[g0:g0 + gb] = np.mean(loss_fn(z, A, Y[None]), axis=1) + penalty
    return out


# --- two-parameter models ------------------------------------------------------------------

@dataclass
class TwoParamModel:
    """A model with two free parameters, its data and how to draw it.

    Attributes
    ----------
    name, title : str
    config : RunConfig
        Model and optimizer (training uses full batches of ``dataset``).
    dataset : Dataset
    free : tuple of int
        Indices in theta of the two free parameters (x axis, y axis).
    fixed : dict of int to float
        Values of the other parameters.
    names : tuple of str
        The free parameters' names, as on the slides.
    bounds : tuple of (lo, hi)
        Default extent of the surface along each free parameter.
    starts : list of tuple
        Default starting points (a good and, for non-convex models, a bad one).
    lr : float
        A rate at which plain gradient descent converges smoothly.
    steps : int
    convex : bool
    """
    name: str
    title: str
    config: object
    dataset: Dataset
    free: tuple
    fixed: dict
    names: tuple
    bounds: tuple
    starts: list
    lr: float
    steps: int
    convex: bool

    def network(self, point=None) -> Network:
        """The network with the fixed parameters set (and the free ones at ``point``)."""
        ds = self.dataset
        net = Network(ds.X_train.shape[1], output_units(ds, self.config.model["loss"]),
                      self.config.model, seed=self.config.seed)
        for i, v in self.fixed.items():
            net.theta[i] = v
        if point is not None:
            net.theta[list(self.free)] = point
        return net

    def thetas(self, points: np.ndarray) -> np.ndarray:
        """Full parameter vectors (G, n_params) for free-parameter points (G, 2)."""
        base = self.network().theta
        th = np.repeat(base[None], len(points), axis=0)
        th[:, list(self.free)] = points
        return th

    def loss_at(self, points: np.ndarray) -> np.ndarray:
        """The full-batch training loss at points (G, 2) -> (G,)."""
        net = self.network()
        X, y = self.dataset.X_train, self.dataset.y_train
        hp = self.config.regularization
        return batch_loss(net, self.thetas(np.atleast_2d(points)), X, net.targets(y),
                          hp["l1"], hp["l2"])

    def optimum(self) -> np.ndarray | None:
        """The exact minimum where there is a closed form (linear regression)."""
        if self.name != "linear_regression":
            return None
        W, b = normal_equations(self.dataset.X_train, self.dataset.y_train.reshape(-1, 1),
                                self.config.regularization["l2"])
        return np.array([float(W[0, 0]), float(b[0])])


def _dataset_1d(name: str, task: str, x: np.ndarray, y: np.ndarray) -> Dataset:
    x = x.reshape(-1, 1).astype(np.float64)
    return Dataset(name=name, task=task, n_classes=2 if task == "classification" else None,
                   X_train=x, y_train=y, X_test=np.zeros((0, 1)),
                   y_test=y[:0], raw_train=x.copy(), raw_test=np.zeros((0, 1)),
                   feature_names=["x1"], raw_dim=1)


def _linear_regression(seed: int = 0) -> TwoParamModel:
    cfg = load_config({"seed": seed, "data": {"name": "reg_line", "n_samples": 100,
                                              "noise": 0.5, "test_fraction": 0.0},
                       "model": {"hidden": [], "output": "linear", "loss": "mse",
                                 "init": "zeros"},
                       "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.0}})
    ds = load_dataset(cfg.data, cfg.seed)
    return TwoParamModel("linear_regression", "1-D linear regression y = w x + w0 (MSE)",
                         cfg, ds, (0, 1), {}, ("w", "w0"), ((-1.0, 2.5), (-3.0, 3.0)),
                         [(-0.5, -2.5)], 0.05, 100, True)


def _sigmoid_unit(seed: int = 0) -> TwoParamModel:
    rng = np.random.default_rng([seed, 11])
    x = np.concatenate([rng.normal(1.5, 1.2, 40), rng.normal(-1.5, 1.2, 40),
                        rng.normal(-7.0, 0.5, 12)])
    y = np.concatenate([np.ones(40), np.zeros(40), np.ones(12)]).astype(np.int64)
    cfg = load_config({"seed": seed, "model": {"hidden": [], "output": "sigmoid",
                                               "loss": "mse", "init": "zeros"},
                       "optimizer": {"name": "sgd", "lr": 2.0, "momentum": 0.0}})
    return TwoParamModel("sigmoid_unit", "a sigmoid unit f = sigmoid(w x + b) trained with MSE",
                         cfg, _dataset_1d("sigmoid_unit", "classification", x, y), (0, 1),
                         {}, ("w", "b"), ((-3.0, 4.0), (-6.0, 3.0)),
                         [(0.5, 0.0), (-1.0, -3.0)], 2.0, 1500, False)


def _tanh_net(seed: int = 0) -> TwoParamModel:
    rng = np.random.default_rng([seed, 12])
    x = rng.uniform(-3.0, 3.0, 100)
    y = (2.0 * np.tanh(1.5 * x + 1.0) + 0.05 * rng.standard_normal(100)).reshape(-1, 1)
    cfg = load_config({"seed": seed, "model": {"hidden": [[1, "tanh"]], "output": "linear",
                                               "loss": "mse", "init": "zeros"},
                       "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.0}})
    return TwoParamModel("tanh_net", "1-1-1 tanh net z = w2 tanh(w1 x + 1), biases fixed",
                         cfg, _dataset_1d("tanh_net", "regression", x, y), (0, 2),
                         {1: 1.0, 3: 0.0}, ("w1", "w2"), ((-8.0, 4.0), (-4.0, 4.0)),
                         [(0.5, 0.5), (-1.0, -1.0)], 0.1, 800, False)


#: The two-parameter models by name.
MODELS: dict[str, Callable[..., TwoParamModel]] = {
    "linear_regression": _linear_regression,
    "sigmoid_unit": _sigmoid_unit,
    "tanh_net": _tanh_net,
}


def build_model(name: str, seed: int = 0) -> TwoParamModel:
    try:
        return MODELS[name](seed)
    except KeyError:
        raise ValueError(f"unknown landscape model '{name}'; one of "
                         + ", ".join(MODELS)) from None


def surface(model: TwoParamModel, n: int = 101, bounds=None):
    """The exact loss on an n x n grid over ``bounds`` (default the model's).

    Returns
    -------
    a1 : np.ndarray, shape (n,)    values of the first free parameter (x axis)
    a2 : np.ndarray, shape (n,)    values of the second (y axis)
    loss : np.ndarray, shape (n, n)   ``loss[j, i]`` at ``(a1[i], a2[j])``
    """
    (x0, x1), (y0, y1) = bounds or model.bounds
    a1 = np.linspace(x0, x1, n)
    a2 = np.linspace(y0, y1, n)
    P1, P2 = np.meshgrid(a1, a2, indexing="xy")
    pts = np.column_stack([P1.ravel(), P2.ravel()])
    return a1, a2, model.loss_at(pts).reshape(n, n)


# --- paths -----------------------------------------------------------------------------------

def _flat_to_weight(net: Network, i: int) -> tuple[int, int, int]:
    """(layer, row, col) of flat parameter i (col -1 for a bias)."""
    for l in range(net.n_layers):
        sl = net.layer_slice(l)
        if sl.start <= i < sl.stop:
            W, _ = net.weights[l]
            j = i - sl.start
            if j < W.size:
                return l, j // W.shape[1], j % W.shape[1]
            return l, j - W.size, -1
    raise IndexError(i)


def optimizer_path(model: TwoParamModel, start, steps: int | None = None,
                   lr: float | None = None, momentum: float = 0.0,
                   nesterov: bool = False, name: str = "sgd") -> np.ndarray:
    """The free parameters after each full-batch step from ``start``.

    Returns
    -------
    np.ndarray, shape (m + 1, 2)
        Row 0 is ``start``, row t the parameters after step t (fewer rows when a
        non-finite value stops the run).
    """
    steps = model.steps if steps is None else int(steps)
    lr = model.lr if lr is None else float(lr)
    ds = model.dataset
    cfg = model.config.with_changes({"optimizer.name": name, "optimizer.lr": lr,
                                     "optimizer.momentum": momentum,
                                     "optimizer.nesterov": nesterov,
                                     "training.batch_size": ds.X_train.shape[0]})
    free = list(model.free)
    path = np.empty((steps + 1, 2))
    path[0] = start
    net0 = model.network()
    if len(free) == net0.layout.n_params:
        run = Run(cfg, dataset=ds, diagnostics=False)
        for i, v in zip(free, start):
            run.set_weight(*_flat_to_weight(run.network, i), float(v))
        for t in range(1, steps + 1):
            if run.run_steps(1) == 0 or run.nonfinite is not None:
                return path[:t]
            path[t] = run.network.theta[free]
        return path
    # some parameters fixed: step the free ones with the same optimizer class
    net = model.network(start)
    X, Y = ds.X_train, net.targets(ds.y_train)
    opt = make_optimizer(cfg.optimizer)
    p = np.array(start, dtype=np.float64)
    reg = cfg.regularization
    for t in range(1, steps + 1):
        _, g = net.loss_and_flat_grad(X, Y, reg["l1"], reg["l2"])
        opt.step(p, g[free])
        if not np.all(np.isfinite(p)):
            return path[:t]
        net.theta[free] = p
        path[t] = p
    return path


#: "compare optimizers": the slide's three, from the same start at the same rate.
COMPARE = {"sgd": {"momentum": 0.0, "nesterov": False},
           "momentum": {"momentum": 0.9, "nesterov": False},
           "nesterov": {"momentum": 0.9, "nesterov": True}}


@dataclass
class LandscapeResult:
    """A two-parameter landscape: the surface, the paths drawn on it and a verdict.

    ``paths`` maps a label to an (m, 2) array of free parameters per step; ``ends``
    and ``end_loss`` give each path's last point and loss.
    """
    model: TwoParamModel = field(repr=False)
    a1: np.ndarray = field(repr=False)
    a2: np.ndarray = field(repr=False)
    loss: np.ndarray = field(repr=False)
    paths: dict
    end_loss: dict
    optimum: np.ndarray | None
    verdict: str


def landscape(name: str, starts=None, *, compare: bool = False, lr: float | None = None,
              steps: int | None = None, n: int = 101, seed: int = 0, progress=None,
              cancel=None) -> LandscapeResult:
    """Surface and paths of a two-parameter model (:data:`MODELS`).

    With ``compare`` the paths are SGD, momentum and Nesterov (:data:`COMPARE`) from the
    first start; otherwise plain gradient descent from each start.
    """
    model = build_model(name, seed)
    starts = [tuple(s) for s in (starts or model.starts)]
    jobs = ([(k, starts[0], v) for k, v in COMPARE.items()] if compare else
            [(f"start ({s[0]:g}, {s[1]:g})", s, COMPARE["sgd"]) for s in starts])
    paths = {}
    for i, (label, s, kw) in enumerate(jobs):
        if cancel is not None and (cancel.is_set() if hasattr(cancel, "is_set") else cancel()):
            break
        paths[label] = optimizer_path(model, s, steps, lr, **kw)
        if progress is not None:
            progress(i + 1, len(jobs), label)
    a1, a2, L = surface(model, n)
    end_loss = {k: float(model.loss_at(p[-1:])[0]) for k, p in paths.items()}
    opt = model.optimum()
    verdict = _landscape_verdict(model, paths, end_loss, opt, compare)
    return LandscapeResult(model, a1, a2, L, paths, end_loss, opt, verdict)


def _landscape_verdict(model, paths, end_loss, opt, compare) -> str:
    ends = {k: p[-1] for k, p in paths.items()}
    if compare:
        # steps until the loss is within 1 % of the way from the start to the best end
        losses = {k: model.loss_at(p) for k, p in paths.items()}
        l0 = float(next(iter(losses.values()))[0])
        best = min(float(np.nanmin(v)) for v in losses.values())
        target = best + 0.01 * (l0 - best)
        parts = []
        for k, v in losses.items():
            hit = np.flatnonzero(v <= target)
            parts.append(f"{k} within 1 % of the minimum after {int(hit[0])} steps"
                         if hit.size else f"{k} not there after {len(v) - 1} steps "
                         f"(loss {v[-1]:.3g})")
        return "; ".join(parts)
    if opt is not None:
        far = max(float(np.linalg.norm(e - opt)) for e in ends.values())
        return (f"convex: every start reaches the normal-equation optimum ({opt[0]:.3g}, "
                f"{opt[1]:.3g}) to within {far:.2g}")
    keys = list(ends)
    if len(keys) >= 2:
        lo = min(keys, key=lambda k: end_loss[k])
        hi = max(keys, key=lambda k: end_loss[k])
        if np.linalg.norm(ends[lo] - ends[hi]) > 0.1 and end_loss[hi] > end_loss[lo] * 1.01:
            return (f"non-convex: {hi} settles at ({ends[hi][0]:.3g}, {ends[hi][1]:.3g}) with "
                    f"loss {end_loss[hi]:.3g}, a poorer basin than ({ends[lo][0]:.3g}, "
                    f"{ends[lo][1]:.3g}) with loss {end_loss[lo]:.3g}")
    return "every start reaches the same minimum"


# --- larger nets: a 2-D slice along random layer-normalized directions -------------------

def layer_normalized_direction(net: Network, rng: np.random.Generator) -> np.ndarray:
    """A random direction with each layer's part scaled to that layer's parameter norm
    (Li et al., 2018, filter normalization taken per layer); a layer whose parameters
    are all zero keeps a unit-norm part."""
    d = rng.standard_normal(net.layout.n_params)
    for l in range(net.n_layers):
        sl = net.layer_slice(l)
        nd = np.linalg.norm(d[sl])
        nt = np.linalg.norm(net.theta[sl])
        d[sl] *= (nt if nt > 0 else 1.0) / nd
    return d


@dataclass
class SliceResult:
    """Loss on the plane center + a d1 + b d2 and a path projected on it.

    ``loss[j, i]`` is at ``(a1[i], a2[j])``; ``path`` is (T, 2) coordinates of the
    recorded parameters; ``off_plane`` the part of each path point's offset not in the
    plane, relative to its norm (T,).
    """
    a1: np.ndarray
    a2: np.ndarray
    loss: np.ndarray
    center: np.ndarray
    d1: np.ndarray
    d2: np.ndarray
    path: np.ndarray | None = None
    off_plane: np.ndarray | None = None


def project(thetas: np.ndarray, center: np.ndarray, d1: np.ndarray, d2: np.ndarray):
    """Least-squares coordinates (T, 2) of thetas (T, P) in the plane, and the relative
    residual (T,)."""
    D = np.column_stack([d1, d2])
    off = np.atleast_2d(thetas) - center[None]
    coef, *_ = np.linalg.lstsq(D, off.T, rcond=None)
    res = off - (D @ coef).T
    norm = np.linalg.norm(off, axis=1)
    rel = np.where(norm > 0, np.linalg.norm(res, axis=1) / np.where(norm > 0, norm, 1), 0.0)
    return coef.T, rel


def random_slice(run: Run, *, span: float = 1.0, n: int = 31, seed: int = 0,
                 thetas: np.ndarray | None = None) -> SliceResult:
    """The training loss on a 2-D slice through ``run``'s current parameters.

    Parameters
    ----------
    run : Run
    span : float
        The grid covers a, b in [-span, span] (in units of the layer norms).
    n : int
        Grid points per axis.
    seed : int
        Seed of the two random directions.
    thetas : np.ndarray, shape (T, n_params), optional
        Recorded parameters (:func:`record_thetas`) to project on the plane.
    """
    net = run.network
    rng = np.random.default_rng([seed, 21])
    center = net.theta.astype(np.float64).copy()
    d1 = layer_normalized_direction(net, rng)
    d2 = layer_normalized_direction(net, rng)
    a1 = np.linspace(-span, span, n)
    a2 = np.linspace(-span, span, n)
    P1, P2 = np.meshgrid(a1, a2, indexing="xy")
    th = center[None] + P1.reshape(-1, 1) * d1[None] + P2.reshape(-1, 1) * d2[None]
    X, y = run.train_data
    L = batch_loss(net, th, X, net.targets(y), run.hp["l1"], run.hp["l2"]).reshape(n, n)
    path = rel = None
    if thetas is not None:
        path, rel = project(thetas, center, d1, d2)
    return SliceResult(a1, a2, L, center, d1, d2, path, rel)


def record_thetas(run: Run, steps: int, every: int = 1) -> np.ndarray:
    """Train ``steps`` steps, recording the parameters before and every ``every`` steps.

    Returns
    -------
    np.ndarray, shape (T, n_params)
    """
    out = [run.network.theta.astype(np.float64).copy()]
    done = 0
    while done < steps and run.nonfinite is None:
        m = run.run_steps(min(every, steps - done))
        if m == 0:
            break
        done += m
        out.append(run.network.theta.astype(np.float64).copy())
    return np.array(out)
