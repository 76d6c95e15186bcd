"""A plain NumPy reference of the training loop, written independently of the kernels.

Slow and simple on purpose: the tests compare the Numba kernels against it (same
shuffles, same updates, same parameters to 1e-12 after many steps).
"""
from __future__ import annotations

import numpy as np

_M64 = (1 << 64) - 1


def splitmix64(state: int) -> tuple[int, int]:
    """Return (new state, next value) of the splitmix64 generator."""
    state = (state + 0x9E3779B97F4A7C15) & _M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return state, z ^ (z >> 31)


def shuffle(perm: np.ndarray, state: int) -> int:
    """Fisher-Yates shuffle of ``perm`` in place; return the new generator state."""
    for i in range(len(perm) - 1, 0, -1):
        state, v = splitmix64(state)
        j = (v >> 11) % (i + 1)
        perm[i], perm[j] = perm[j], perm[i]
    return state


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def activate(name: str, z: np.ndarray) -> np.ndarray:
    """f(z) for a layer (maxout: the larger of columns 2j, 2j+1)."""
    if name == "linear":
        return z.copy()
    if name == "step":
        return (z > 0).astype(z.dtype)
    if name == "sigmoid":
        return _sigmoid(z)
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, 0.1 * z)
    if name == "elu":
        return np.where(z > 0, z, np.expm1(np.minimum(z, 0.0)))
    if name == "maxout":
        return np.maximum(z[:, 0::2], z[:, 1::2])
    if name == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    raise ValueError(name)


def dactivate(name: str, z: np.ndarray, a: np.ndarray, da: np.ndarray) -> np.ndarray:
    """dL/dz given dL/da."""
    if name == "maxout":
        first = z[:, 0::2] >= z[:, 1::2]
        dz = np.zeros_like(z)
        dz[:, 0::2] = np.where(first, da, 0.0)
        dz[:, 1::2] = np.where(first, 0.0, da)
        return dz
    d = {"linear": lambda: np.ones_like(z), "step": lambda: np.zeros_like(z),
         "sigmoid": lambda: a * (1 - a), "tanh": lambda: 1 - a * a,
         "relu": lambda: (z > 0).astype(z.dtype),
         "leaky_relu": lambda: np.where(z > 0, 1.0, 0.1),
         "elu": lambda: np.where(z > 0, 1.0, a + 1.0)}[name]()
    return da * d


def loss_and_dz(loss: str, out: str, z: np.ndarray, Y: np.ndarray):
    """Summed loss over the batch and dL/dz per sample (DESIGN.md definitions)."""
    a = activate(out, z)
    if loss == "mse":
        e = a - Y
        L = float((e * e).sum())
        if out == "softmax":
            s = (2 * e * a).sum(axis=1, keepdims=True)
            return L, a * (2 * e - s)
        return L, dactivate(out, z, a, 2 * e)
    if loss == "bce":
        L = float((np.logaddexp(0.0, z) - Y * z).sum())
        return L, _sigmoid(z) - Y
    if loss == "cross_entropy":
        m = z.max(axis=1, keepdims=True)
        lse = m + np.log(np.exp(z - m).sum(axis=1, keepdims=True))
        L = float((Y * (lse - z)).sum())
        return L, np.exp(z - lse) - Y
    t = 2 * Y - 1
    tz = t * z
    if loss == "perceptron":
        return float(np.maximum(0.0, -tz).sum()), np.where(tz <= 0, -t, 0.0)
    return float(np.maximum(0.0, 1 - tz).sum()), np.where(tz < 1, -t, 0.0)


def mean_loss(weights, acts, loss, X, Y, block: int = 4096) -> float:
    """Mean loss (no penalty) of a forward pass, in blocks of rows (no gradients): what
    code that must not compile a kernel uses (a run built on the GUI thread)."""
    total = 0.0
    for s in range(0, X.shape[0], block):
        a = X[s:s + block]
        for (W, b), f in zip(weights[:-1], acts[:-1]):
            a = activate(f, a @ W.T + b)
        W, b = weights[-1]
        total += loss_and_dz(loss, acts[-1], a @ W.T + b, Y[s:s + block])[0]
    return total / max(1, X.shape[0])


def penalty(weights, l1=0.0, l2=0.0) -> float:
    """The L1/L2 penalty the loss counts: ``l2 * sum(W^2) + l1 * sum(|W|)`` over the
    weights ``[(W, b), ...]``, never the biases."""
    return float(sum(l2 * (W * W).sum() + l1 * np.abs(W).sum() for W, _ in weights))


def loss_and_grad(weights, acts, loss, X, Y, l1=0.0, l2=0.0):
    """Mean loss (penalty included) and gradients [(dW, db)] by backpropagation."""
    a_s, z_s = [X], []
    for (W, b), f in zip(weights, acts):
        z = a_s[-1] @ W.T + b
        z_s.append(z)
        a_s.append(activate(f, z))
    B = X.shape[0]
    L, dz = loss_and_dz(loss, acts[-1], z_s[-1], Y)
    L = L / B + penalty(weights, l1, l2)
    grads = [None] * len(weights)
    for l in range(len(weights) - 1, -1, -1):
        W = weights[l][0]
        dW = dz.T @ a_s[l] / B + 2 * l2 * W + l1 * np.sign(W)
        grads[l] = (dW, dz.mean(axis=0))
        if l:
            dz = dactivate(acts[l - 1], z_s[l - 1], a_s[l], dz @ W)
    return L, grads


class ReferenceTrainer:
    """The training loop of ``kernels.train_chunk`` in plain NumPy (float64).

    Parameters mirror the kernel: flat ``theta`` laid out like :class:`Network`, the
    optimizer by name with its hyperparameters, batches from a Fisher-Yates shuffle per
    epoch driven by splitmix64 seeded with ``rng_state``.
    """

    def __init__(self, net, X, Y, opt: str, hp: dict, batch_size: int, rng_state: int):
        self.net = net
        self.theta = net.theta.astype(np.float64).copy()
        self.X, self.Y = X, Y
        self.opt, self.hp = opt, hp
        self.B = batch_size
        self.state = int(rng_state)
        self.perm = np.arange(X.shape[0])
        self.pos = 0
        self.t = 0
        self.vel = np.zeros_like(self.theta)
        self.acc = np.full_like(self.theta, 0.1 if opt == "adagrad" else 0.0)
        self.losses: list[float] = []

    def step(self) -> None:
        n = self.X.shape[0]
        if self.pos == 0:
            self.state = shuffle(self.perm, self.state)
        idx = self.perm[self.pos:self.pos + self.B]
        self.pos = (self.pos + len(idx)) % n
        weights = self.net.unflatten(self.theta)
        acts = self.net.activations_names
        hp = self.hp
        L, grads = loss_and_grad(weights, acts, self.net.loss, self.X[idx], self.Y[idx],
                                 hp.get("l1", 0.0), hp.get("l2", 0.0))
        self.losses.append(L)
        g = np.concatenate([np.concatenate([dW.ravel(), db]) for dW, db in grads])
        lr_t = hp["lr"] / (1 + hp.get("decay", 0.0) * self.t)
        if self.opt == "sgd":
            m = hp.get("momentum", 0.0)
            self.vel = m * self.vel - lr_t * g
            du = m * self.vel - lr_t * g if hp.get("nesterov") else self.vel
        elif self.opt == "adagrad":
            self.acc = self.acc + g * g
            du = -lr_t * g / (np.sqrt(self.acc) + hp.get("epsilon", 1e-7))
        elif self.opt == "rmsprop":
            rho = hp.get("rho", 0.9)
            self.acc = rho * self.acc + (1 - rho) * g * g
            du = -lr_t * g / (np.sqrt(self.acc) + hp.get("epsilon", 1e-7))
        else:
            b1, b2 = hp.get("beta1", 0.9), hp.get("beta2", 0.999)
            k = self.t + 1
            alpha = lr_t * np.sqrt(1 - b2 ** k) / (1 - b1 ** k)
            self.vel = self.vel + (1 - b1) * (g - self.vel)
            self.acc = self.acc + (1 - b2) * (g * g - self.acc)
            du = -alpha * self.vel / (np.sqrt(self.acc) + hp.get("epsilon", 1e-7))
        self.theta = self.theta + du
        self.t += 1
