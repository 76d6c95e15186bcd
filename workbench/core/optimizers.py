"""Update rules on flat parameter vectors, with their state (Keras semantics).

Each optimizer owns its state vectors (``vel``: velocity or first moment; ``acc``:
accumulated squares) and the update count ``t``; the training kernel reads the same
state, so an optimizer can be stepped from Python (tests, notebooks) or handed to a run.
"""
from __future__ import annotations

import numpy as np

from . import kernels as K


class Optimizer:
    """Base class: ``step(params, grads)`` updates a flat vector in place."""

    name = "base"
    code = -1

    def __init__(self, lr: float, decay: float = 0.0, momentum: float = 0.0,
                 nesterov: bool = False, beta1: float = 0.9, beta2: float = 0.999,
                 rho: float = 0.9, epsilon: float = 1e-7):
        self.lr = float(lr)
        self.decay = float(decay)
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.beta1, self.beta2, self.rho, self.epsilon = (float(beta1), float(beta2),
                                                          float(rho), float(epsilon))
        self.t = 0
        self.vel: np.ndarray | None = None
        self.acc: np.ndarray | None = None

    def hp(self, l1: float = 0.0, l2: float = 0.0) -> np.ndarray:
        """The hyperparameter vector the kernels read (see ``kernels.HP_*``)."""
        hp = np.zeros(K.N_HP)
        hp[K.HP_LR] = self.lr
        hp[K.HP_MOMENTUM] = self.momentum
        hp[K.HP_NESTEROV] = 1.0 if self.nesterov else 0.0
        hp[K.HP_DECAY] = self.decay
        hp[K.HP_BETA1] = self.beta1
        hp[K.HP_BETA2] = self.beta2
        hp[K.HP_RHO] = self.rho
        hp[K.HP_EPS] = self.epsilon
        hp[K.HP_L1] = l1
        hp[K.HP_L2] = l2
        return hp

    def current_lr(self) -> float:
        """lr_t = lr / (1 + decay * t) for the next update."""
        return self.lr / (1.0 + self.decay * self.t)

    def init_state(self, n: int, dtype=np.float64) -> None:
        """Allocate zeroed state for ``n`` parameters (Adagrad starts its sum at 0.1)."""
        self.vel = np.zeros(n, dtype=dtype)
        self.acc = np.full(n, K.ADAGRAD_INIT if self.code == 1 else 0.0, dtype=dtype)
        self.t = 0

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        """Apply one update to ``params`` (flat, float64) in place, using ``grads``."""
        n = params.shape[0]
        if self.vel is None or self.vel.shape[0] != n:
            self.init_state(n, params.dtype)
        K.update_flat(params, np.ascontiguousarray(grads, dtype=params.dtype), self.vel,
                      self.acc, self.code, self.hp(), float(self.t))
        self.t += 1

    def state(self) -> dict[str, np.ndarray]:
        """The state as arrays (for snapshots)."""
        return {"vel": self.vel, "acc": self.acc, "t": np.array([self.t], np.int64)}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr:g})"


class SGD(Optimizer):
    """SGD with momentum, Nesterov and inverse-time decay (Keras).

    lr_t = lr / (1 + decay t); v = momentum v - lr_t g; w += v, or with Nesterov
    w += momentum v - lr_t g.
    """
    name, code = "sgd", 0

    def __init__(self, lr: float = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 decay: float = 0.0):
        super().__init__(lr, decay=decay, momentum=momentum, nesterov=nesterov)


class Adagrad(Optimizer):
    """a += g^2; w -= lr_t g / (sqrt(a) + eps), a starting at 0.1 (Keras)."""
    name, code = "adagrad", 1

    def __init__(self, lr: float = 0.001, epsilon: float = 1e-7, decay: float = 0.0):
        super().__init__(lr, decay=decay, epsilon=epsilon)


class RMSprop(Optimizer):
    """a = rho a + (1 - rho) g^2; w -= lr_t g / (sqrt(a) + eps) (Keras)."""
    name, code = "rmsprop", 2

    def __init__(self, lr: float = 0.001, rho: float = 0.9, epsilon: float = 1e-7,
                 decay: float = 0.0):
        super().__init__(lr, decay=decay, rho=rho, epsilon=epsilon)


class Adam(Optimizer):
    """m += (1-b1)(g-m); v += (1-b2)(g^2-v); w -= lr_t sqrt(1-b2^k)/(1-b1^k) m/(sqrt(v)+eps)
    with k = t + 1 (Keras)."""
    name, code = "adam", 3

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999,
                 epsilon: float = 1e-7, decay: float = 0.0):
        super().__init__(lr, decay=decay, beta1=beta1, beta2=beta2, epsilon=epsilon)


OPTIMIZERS = {cls.name: cls for cls in (SGD, Adagrad, RMSprop, Adam)}


def make_optimizer(opt_cfg: dict) -> Optimizer:
    """Build the optimizer named by the ``optimizer`` config section."""
    name = opt_cfg["name"]
    o = Optimizer.__new__(OPTIMIZERS[name])
    Optimizer.__init__(o, opt_cfg["lr"], decay=opt_cfg.get("decay", 0.0),
                       momentum=opt_cfg.get("momentum", 0.0),
                       nesterov=opt_cfg.get("nesterov", False),
                       beta1=opt_cfg.get("beta1", 0.9), beta2=opt_cfg.get("beta2", 0.999),
                       rho=opt_cfg.get("rho", 0.9), epsilon=opt_cfg.get("epsilon", 1e-7))
    return o
