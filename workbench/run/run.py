"""A training run: data, network, optimizer, metric history, events and listeners.

``Run`` is synchronous: ``run_steps(n)`` trains in the calling thread, in chunks (one
kernel call runs many mini-batch steps). Commands (hyperparameter changes, weight edits)
queue up and are applied between chunks at an exact step, which is recorded as an event;
the same config and the same events give bit-identical parameters. The threaded runner
in :mod:`workbench.run.runner` drives a Run from a background thread.
"""
from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..config import EXACT_SOLVERS, ConfigError, RunConfig, load_config
from ..core import Network, coordinate_descent, make_optimizer, normal_equations
from ..core import aligned
from ..core import kernels as K
from ..data import Dataset, load_dataset
from .history import Chunk, History

LIVE_KEYS = ("lr", "momentum", "nesterov", "decay", "l1", "l2", "batch_size")
_CFG_PATH = {"lr": "optimizer.lr", "momentum": "optimizer.momentum",
             "nesterov": "optimizer.nesterov", "decay": "optimizer.decay",
             "l1": "regularization.l1", "l2": "regularization.l2",
             "batch_size": "training.batch_size"}
MAX_CHUNK = 4096
HISTORY_PREALLOC = 1 << 16  # steps of history allocated up front at most (~5 MB)
EVAL_BUDGET = 0.3  # an evaluation may cost about 10 % of the training between two


@dataclass
class Event:
    """Something that happened at a step boundary: applied before step ``step + 1``."""
    step: int
    kind: str
    payload: dict = field(default_factory=dict)
    time: float = 0.0

    def to_dict(self) -> dict:
        return {"step": self.step, "kind": self.kind, "payload": self.payload,
                "time": self.time}


@dataclass(frozen=True)
class NonFinite:
    """Where training first produced a non-finite value."""
    step: int
    flags: int

    @property
    def what(self) -> list[str]:
        names = []
        if self.flags & K.NF_LOSS:
            names.append("loss")
        if self.flags & K.NF_GRAD:
            names.append("gradients")
        if self.flags & K.NF_WEIGHTS:
            names.append("weights")
        return names


class _Result:
    """The outcome of a job handed to the evaluation thread: a lock held until the job is
    done (a threading.Event, a Condition and its lock, took 3 of the 14 us that starting
    an evaluation cost the training thread)."""

    __slots__ = ("_lock", "_value", "_error")

    def __init__(self):
        self._lock = threading.Lock()
        self._lock.acquire()
        self._value = None
        self._error: BaseException | None = None

    def _set_done(self) -> None:
        self._lock.release()

    def result(self):
        with self._lock:        # returns once the job has released it
            pass
        if self._error is not None:
            raise self._error
        return self._value


class _EvalThread:
    """One daemon thread per process that runs overlapped evaluations (started on first
    use; it sleeps on its queue when idle and never keeps the process alive)."""

    def __init__(self):
        import queue
        self._q = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="wb-eval", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            fn, res = self._q.get()
            try:
                res._value = fn()
            except BaseException as e:  # handed to the caller of result()
                res._error = e
            res._set_done()

    def submit(self, fn) -> _Result:
        res = _Result()
        self._q.put((fn, res))
        return res


_EVAL_THREAD: _EvalThread | None = None
_EVAL_LOCK = threading.Lock()


def _forget_eval_thread_in_child() -> None:
    # a forked child has no copy of the thread: it starts its own on first use
    global _EVAL_THREAD, _EVAL_LOCK
    _EVAL_THREAD = None
    _EVAL_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_eval_thread_in_child)


def _eval_pool() -> _EvalThread:
    global _EVAL_THREAD
    with _EVAL_LOCK:
        if _EVAL_THREAD is None:
            _EVAL_THREAD = _EvalThread()
        return _EVAL_THREAD


class _EvalJob:
    """A full evaluation of given parameters: what it needs is captured when it is made,
    so it can run on another thread while the run trains on."""

    def __init__(self, run: "Run", theta: np.ndarray):
        self.run = run
        self.theta = theta
        self.step = run.step
        self.epoch = run.epoch_progress
        self.l1, self.l2 = run.hp["l1"], run.hp["l2"]
        self.block = run._eval_block
        self.future = None

    def compute(self, off: np.ndarray, sat: np.ndarray):
        """(train loss, train accuracy, test loss, test accuracy); the per-unit counts of
        the training split go into ``off``/``sat``."""
        r = self.run
        net = r.network
        args = (*net.layout.args(), net.loss_code, self.l1, self.l2)

        def split(X, Y, off, sat):
            loss, acc = K.evaluate(self.theta, *args, X, Y, r._classify, r._threshold_z,
                                   self.block, off, sat)
            return float(loss), (float(acc) if r._classify else None)
        tl, ta = split(r._X, r._Y, off, sat)
        vl = va = None
        if r._Xt.shape[0]:
            vl, va = split(r._Xt, r._Yt, np.zeros_like(off), np.zeros_like(sat))
        return tl, ta, vl, va

    def row(self) -> tuple[dict, dict]:
        """The evaluation row and the unit statistics it leaves (``Run.unit_stats``),
        everything worked out here: on the helper thread, while the run trains, rather
        than in the training thread between two chunks (W1: 15 of the 31 us that an
        evaluation cost that thread)."""
        r = self.run
        off = np.zeros(r._n_units, np.int64)
        sat = np.zeros_like(off)
        tl, ta, vl, va = self.compute(off, sat)
        n = r.n_train
        # per layer, the share of its units off on 99 % / saturated on 90 % of the samples
        # (one bincount each: per-layer np.mean calls were a third of this)
        layer_of_unit, units = r._unit_layers
        L = units.shape[0]
        dead = (np.bincount(layer_of_unit, off >= 0.99 * n, L) / units).tolist()
        satf = (np.bincount(layer_of_unit, sat >= 0.9 * n, L) / units).tolist()
        row = {"step": self.step, "epoch": self.epoch, "train_loss": tl,
               "test_loss": vl, "train_acc": ta, "test_acc": va,
               "eval_dead": dead, "eval_sat": satf}
        return row, {"off": off, "sat": sat, "n": n}


def output_units(dataset: Dataset, loss: str) -> int:
    """Number of output units the dataset and loss need; ConfigError when they cannot fit."""
    if dataset.task == "regression":
        return int(dataset.y_train.shape[1]) if dataset.y_train.ndim == 2 else 1
    C = int(dataset.n_classes)
    if loss == "cross_entropy":
        return C
    if C == 2:
        return 1
    if loss == "mse":
        return C
    raise ConfigError(f"model.loss = \"{loss}\" does not fit data.name = "
                      f"\"{dataset.name}\": it has {C} classes and a {loss} output has one "
                      "unit for two classes; use loss cross_entropy with output softmax")


class Run:
    """One training run.

    Parameters
    ----------
    config : dict, RunConfig, path or None
        The run configuration (``None`` or ``{}``: the default demo).
    dataset : Dataset, optional
        Use this dataset instead of building it from the config (points edited by hand).
    eval_every : int, optional
        Steps between evaluations; default every epoch, or less often when an epoch is
        so short that evaluating the whole data set would cost more than about 10 % of
        the training in between. An exact solver's first step, the fit, is always
        evaluated.
    session : path, optional
        Record the run to this session file. A file that is there already is never
        replaced (SessionError), except a recorded session with ``overwrite_session``.
    diagnostics : bool
        Watch the run with the diagnostics rules (default on; they count in its speed).
    """

    def __init__(self, config=None, *, dataset: Dataset | None = None,
                 eval_every: int | None = None, session=None, diagnostics: bool = True,
                 overwrite_session: bool = False):
        self.config: RunConfig = load_config(config)
        cfg = self.config
        self.dataset = dataset if dataset is not None else load_dataset(cfg.data, cfg.seed)
        ds = self.dataset
        self.task = ds.task
        self.dtype = np.dtype(cfg.training["precision"])
        k = output_units(ds, cfg.model["loss"])
        self.network = Network(ds.X_train.shape[1], k, cfg.model, seed=cfg.seed,
                               dtype=self.dtype)
        net = self.network
        self.exact = cfg.optimizer["name"] in EXACT_SOLVERS
        self.optimizer = make_optimizer(cfg.optimizer) if not self.exact else None
        # the kernels' arrays start on cache lines (see workbench.core.aligned)
        self._X = aligned.copy(ds.X_train, self.dtype)
        self._Y = aligned.copy(net.targets(ds.y_train))
        self._Xt = aligned.copy(ds.X_test, self.dtype)
        self._Yt = aligned.copy(net.targets(ds.y_test)) if len(ds.y_test) else np.zeros(
            (0, k), self.dtype)
        n = self._X.shape[0]
        if n == 0:
            raise ConfigError("the training split is empty; lower data.test_fraction or "
                              "raise data.n_samples")
        self.hp = {"lr": float(cfg.optimizer["lr"]), "momentum": float(cfg.optimizer["momentum"]),
                   "nesterov": bool(cfg.optimizer["nesterov"]),
                   "decay": float(cfg.optimizer["decay"]),
                   "l1": float(cfg.regularization["l1"]), "l2": float(cfg.regularization["l2"]),
                   "batch_size": int(cfg.training["batch_size"])}
        self._classify = 0 if self.task == "regression" else (1 if k == 1 else 2)
        self._threshold_z = not (cfg.model["output"] == "linear" and cfg.model["loss"] == "mse")
        # kernel state
        self._vel = aligned.zeros(net.layout.n_params, self.dtype)
        self._acc = aligned.full(net.layout.n_params,
                            K.ADAGRAD_INIT if cfg.optimizer["name"] == "adagrad" else 0.0,
                            self.dtype)
        self._grad = aligned.zeros(net.layout.n_params, self.dtype)
        self._perm = aligned.copy(np.arange(n, dtype=np.int64))
        self._counters = np.zeros(4, np.int64)
        # modulo 2**64 (what uint64 arithmetic gave, without its overflow warning)
        self._rng = np.array([(cfg.seed * 0x9E3779B1 + 12345) % 2 ** 64], dtype=np.uint64)
        self._alloc_buffers(self.hp["batch_size"])
        self._eval_block = net.layout.block(self.dtype.itemsize)
        planned = int(cfg.training["epochs"]) * math.ceil(n / max(1, self.hp["batch_size"]))
        # room for the configured epochs and a quarter more (a run trained on past them,
        # or one that starts with a few warm-up steps, does not reallocate and copy its
        # whole history at its last step: 0.1 ms of W1's 4 ms in bench_core)
        self.history = History(net.n_layers, capacity=min(planned + planned // 4 + 64,
                                                          HISTORY_PREALLOC))
        self.events: list[Event] = []
        self.evaluations: list[dict] = []
        self.nonfinite: NonFinite | None = None
        self.listeners: list[Any] = []
        self._pending: list[tuple[str, dict]] = []
        self._scheduled: list[Event] = []
        self._lock = threading.Lock()
        self._n_units = int(net.layout.acum[-1] - net.layout.units[0])
        units = net.layout.units[1:]
        self._unit_layers = (np.repeat(np.arange(net.n_layers), units), units)
        self.unit_stats = {"off": np.zeros(self._n_units, np.int64),
                           "sat": np.zeros(self._n_units, np.int64), "n": n}
        self._eval_every_arg = eval_every
        self._chunk_state = None
        self.compute_seconds = 0.0
        self._eval_theta = None     # the parameters an overlapped evaluation reads
        self._evaluated_at = -1
        self.overlap_evaluations = True
        self.monitor = None
        self.recorder = None
        if diagnostics:
            from ..diagnostics import Monitor
            self.monitor = Monitor(self)
            self.add_listener(self.monitor)
        if session is not None:
            from ..session import Recorder
            self.recorder = Recorder(session, self, overwrite=overwrite_session)
            self.add_listener(self.recorder)

    # --- shapes and counters ----------------------------------------------------------
    @property
    def step(self) -> int:
        """Number of mini-batch steps done."""
        return int(self._counters[K.C_STEP])

    @property
    def epoch(self) -> int:
        """Number of complete epochs."""
        return int(self._counters[K.C_EPOCH])

    @property
    def epoch_progress(self) -> float:
        return self.epoch + self._counters[K.C_POS] / self._X.shape[0]

    @property
    def n_train(self) -> int:
        return int(self._X.shape[0])

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.n_train / self.hp["batch_size"])

    @property
    def eval_every(self) -> int:
        if self._eval_every_arg:
            return int(self._eval_every_arg)
        n_eval = self.n_train + self._Xt.shape[0]
        budget = math.ceil(n_eval / (EVAL_BUDGET * self.hp["batch_size"]))
        return max(self.steps_per_epoch, budget)

    @property
    def total_steps(self) -> int:
        """Steps of the configured epochs, scaled so that step / total_steps is the share
        of the epochs done even after a batch-size change (for progress bars; the session
        reader uses the same rule)."""
        epochs = self.config.training["epochs"]
        done = self.epoch_progress
        if self.step == 0 or done <= 0:
            return epochs * self.steps_per_epoch
        return max(self.step, round(self.step * epochs / done))

    @property
    def steps_to_finish(self) -> int:
        """Steps left until the configured epochs are complete (at the current batch size)."""
        left = self.config.training["epochs"] - self.epoch
        if left <= 0:
            return 0
        B = self.hp["batch_size"]
        pos = int(self._counters[K.C_POS])
        return math.ceil((self.n_train - pos) / B) + (left - 1) * self.steps_per_epoch

    @property
    def finished(self) -> bool:
        return self.epoch >= self.config.training["epochs"] or self.nonfinite is not None

    @property
    def current_lr(self) -> float:
        """lr_t = lr / (1 + decay t) for the next step."""
        return self.hp["lr"] / (1.0 + self.hp["decay"] * float(self._counters[K.C_T]))

    @property
    def train_data(self) -> tuple[np.ndarray, np.ndarray]:
        return self.dataset.X_train, self.dataset.y_train

    @property
    def test_data(self) -> tuple[np.ndarray, np.ndarray]:
        return self.dataset.X_test, self.dataset.y_test

    @property
    def kernel_data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(X, Y, X_test, Y_test) as the kernels read them (run dtype, encoded targets)."""
        return self._X, self._Y, self._Xt, self._Yt

    @property
    def failed_chunk_state(self) -> dict | None:
        """get_state() at the start of the chunk that hit the first non-finite value
        (what rewind_to_finite restores); None while every step is finite."""
        return self._chunk_state if self.nonfinite is not None else None

    @failed_chunk_state.setter
    def failed_chunk_state(self, state: dict | None) -> None:
        self._chunk_state = state

    @property
    def gradient(self) -> np.ndarray:
        """The gradient of the last step (flat, laid out like theta)."""
        return self._grad

    # --- buffers ------------------------------------------------------------------------
    def _alloc_buffers(self, B: int) -> None:
        lay = self.network.layout
        B = min(B, self._X.shape[0])
        self._zbuf = aligned.zeros(B * int(lay.zcum[-1]), self.dtype)
        self._abuf = aligned.zeros(B * int(lay.acum[-1]), self.dtype)
        self._dbuf = aligned.zeros(K.dbuf_size(B, lay.zcum, lay.units, lay.rows), self.dtype)
        self._ybuf = aligned.zeros(B * self._Y.shape[1], self.dtype)
        self._ibuf = aligned.zeros(K.ibuf_size(B, lay.units, lay.rows), np.int64)
        self._buf_batch = B

    def _alloc_outputs(self, m: int) -> dict[str, np.ndarray]:
        """Fresh arrays for one chunk's per-step metrics, which the kernel writes in full
        for every step it runs; its Chunk keeps views of them. (Copying them out of
        buffers reused from chunk to chunk was a pass over 130 bytes a step: 3 % of W5.)"""
        L = self.network.n_layers
        return {"loss": np.empty(m), "flags": np.empty(m, np.int8),
                **{f: np.empty((m, L)) for f in ("gnorm", "wnorm", "uratio", "dead", "sat")}}

    # --- commands -----------------------------------------------------------------------
    def set_hyperparameters(self, **changes) -> None:
        """Queue changes of lr, momentum, nesterov, decay, l1, l2, batch_size; they apply
        at the next step boundary and are recorded as one ``hparams`` event.

        Raises ConfigError (one line) for an unknown name or a meaningless value.
        """
        for key in changes:
            if key not in LIVE_KEYS:
                raise ConfigError(f"'{key}' cannot be changed while training; live: "
                                  + ", ".join(LIVE_KEYS))
        # validate through the config rules so the messages match
        self.config.with_changes({_CFG_PATH[k]: v for k, v in changes.items()})
        with self._lock:
            self._pending.append(("hparams", dict(changes)))

    def set_weight(self, layer: int, row: int, col: int, value: float) -> None:
        """Queue a hand-typed weight (``col`` = -1 for the bias) of layer ``layer`` (0-based)."""
        W, b = self.network.weights[layer]
        if not (0 <= row < W.shape[0]) or not (-1 <= col < W.shape[1]):
            raise ValueError(f"no weight ({row}, {col}) in layer {layer}")
        if not math.isfinite(float(value)):
            raise ValueError(f"weight value {value} is not a finite number")
        with self._lock:
            self._pending.append(("weight", {"layer": int(layer), "row": int(row),
                                             "col": int(col), "value": float(value)}))

    def schedule(self, events: list[Event | dict]) -> None:
        """Schedule recorded events to be applied at their exact steps (re-runs, forks)."""
        for e in events:
            ev = e if isinstance(e, Event) else Event(int(e["step"]), e["kind"],
                                                      dict(e.get("payload") or {}),
                                                      float(e.get("time", 0.0)))
            if ev.kind in ("hparams", "weight"):
                self._scheduled.append(ev)
        self._scheduled.sort(key=lambda ev: ev.step)

    def add_listener(self, listener) -> None:
        """Subscribe an object with any of ``on_chunk(run, chunk)``,
        ``on_evaluation(run, row)``, ``on_event(run, event)``."""
        self.listeners.append(listener)

    def record_event(self, kind: str, payload: dict | None = None) -> Event:
        """Record an event that does not change the parameters (pause, resume, ...)."""
        ev = Event(self.step, kind, payload or {}, time.time())
        self.events.append(ev)
        self._notify("on_event", ev)
        return ev

    def _notify(self, method: str, arg) -> None:
        for listener in self.listeners:
            fn = getattr(listener, method, None)
            if fn is not None:
                fn(self, arg)

    def _apply(self, kind: str, payload: dict) -> None:
        if kind == "hparams":
            for k, v in payload.items():
                self.hp[k] = type(self.hp[k])(v)
            if "batch_size" in payload and self.hp["batch_size"] > self._buf_batch and \
                    self._buf_batch < self._X.shape[0]:
                self._alloc_buffers(self.hp["batch_size"])
        elif kind == "weight":
            W, b = self.network.weights[payload["layer"]]
            if payload["col"] < 0:
                b[payload["row"]] = payload["value"]
            else:
                W[payload["row"], payload["col"]] = payload["value"]

    def apply_pending(self) -> None:
        """Apply the queued commands now (the run is between steps; the GUI's runner
        calls this on its thread so that a change made while paused shows at once)."""
        self._apply_pending()

    def _apply_pending(self) -> None:
        while self._scheduled and self._scheduled[0].step <= self.step:
            ev = self._scheduled.pop(0)
            self._apply(ev.kind, ev.payload)
            self.events.append(Event(self.step, ev.kind, ev.payload, time.time()))
            self._notify("on_event", self.events[-1])
        if not self._pending:
            return
        with self._lock:
            pending, self._pending = self._pending, []
        for kind, payload in pending:
            self._apply(kind, payload)
            ev = Event(self.step, kind, payload, time.time())
            self.events.append(ev)
            self._notify("on_event", ev)

    # --- training ------------------------------------------------------------------------
    def hp_vector(self) -> np.ndarray:
        o = self.optimizer
        hp = np.zeros(K.N_HP)
        hp[K.HP_LR] = self.hp["lr"]
        hp[K.HP_MOMENTUM] = self.hp["momentum"]
        hp[K.HP_NESTEROV] = 1.0 if self.hp["nesterov"] else 0.0
        hp[K.HP_DECAY] = self.hp["decay"]
        if o is not None:
            hp[K.HP_BETA1], hp[K.HP_BETA2] = o.beta1, o.beta2
            hp[K.HP_RHO], hp[K.HP_EPS] = o.rho, o.epsilon
        hp[K.HP_L1] = self.hp["l1"]
        hp[K.HP_L2] = self.hp["l2"]
        return hp

    def run_steps(self, n: int, max_chunk: int = MAX_CHUNK) -> int:
        """Train ``n`` mini-batch steps in this thread; return the number done (fewer when
        a non-finite value stops the run).

        With ``overlap_evaluations`` (the default) a due evaluation runs on a helper
        thread, on a copy of the parameters, while the next chunk trains; both kernels
        release the GIL. Its result is recorded before that chunk's metrics, and before
        any command queued for the step it measured, so listeners see the same order as
        when it runs inline.
        """
        if self.step == 0 and self._evaluated_at < 0:
            self._evaluate_and_record()
        done = 0
        job = None
        try:
            while done < n and self.nonfinite is None:
                if job is not None and (self._pending or (
                        self._scheduled and self._scheduled[0].step <= self.step)):
                    self._finish_evaluation(job)
                    job = None
                self._apply_pending()
                m = min(n - done, max_chunk, MAX_CHUNK)
                ee = self.eval_every
                m = min(m, ee - self.step % ee)
                if self.exact and self.step == 0:
                    m = 1                       # the fit, evaluated on its own (below)
                if self._scheduled:
                    m = min(m, max(1, self._scheduled[0].step - self.step))
                m = self._train_chunk(m, job)
                job = None
                done += m
                # an exact solver fits on its first step (later ones change nothing):
                # that step is evaluated, so the curves show the fit it found
                if self.nonfinite is None and (self.step % ee == 0 or
                                               self.exact and self.step == 1):
                    if self.overlap_evaluations and not self.exact and done < n:
                        job = self._start_evaluation()
                    else:
                        self._evaluate_and_record()
        finally:
            if job is not None:
                self._finish_evaluation(job)
        return done

    def _train_chunk(self, m: int, job: "_EvalJob | None" = None) -> int:
        if self.exact:
            if job is not None:
                self._finish_evaluation(job)
            return self._exact_chunk(m)
        out = self._alloc_outputs(m)
        net = self.network
        start = self.step
        t0 = float(self._counters[K.C_T])
        keep = self._keep_chunk_start()
        tic = time.perf_counter()
        done = K.train_chunk(
            self._X, self._Y, net.theta, self._grad, self._vel, self._acc,
            *net.layout.args(), net.loss_code, self.optimizer.code, self.hp_vector(),
            self._perm, self._counters, self._rng, self.hp["batch_size"], m, -1,
            self._zbuf, self._abuf, self._dbuf, self._ybuf, self._ibuf,
            out["loss"], out["gnorm"], out["wnorm"], out["uratio"], out["dead"],
            out["sat"], out["flags"])
        self.compute_seconds += time.perf_counter() - tic
        if job is not None:   # the evaluation of the step this chunk started from
            self._finish_evaluation(job)
        if self.hp["decay"]:
            lr = self.hp["lr"] / (1.0 + self.hp["decay"] * (t0 + np.arange(done)))
        else:
            lr = np.full(done, self.hp["lr"])       # lr / (1 + 0 t): the same bits
        if done < m:
            out = {f: a[:done] for f, a in out.items()}
        chunk = Chunk(start, out["loss"], lr, out["flags"], out["gnorm"], out["wnorm"],
                      out["uratio"], out["dead"], out["sat"])
        self.history.append_steps(chunk)
        if done and chunk.flags[-1] != 0:
            self.nonfinite = NonFinite(self.step, int(chunk.flags[-1]))
            self._chunk_state = {k: v.copy() for k, v in keep.items()}
        self._notify("on_chunk", chunk)
        return done

    def _exact_chunk(self, m: int) -> int:
        """The exact solvers: the first step fits the training split, later ones do nothing."""
        net = self.network
        start = self.step
        if start == 0:
            X = self._X.astype(np.float64)
            Y = self._Y.astype(np.float64)
            if self.config.optimizer["name"] == "normal_equations":
                W, b = normal_equations(X, Y, self.hp["l2"])
            else:
                W, b = coordinate_descent(X, Y, self.hp["l1"], self.hp["l2"])
            before = net.theta.copy()
            net.weights[0][0][...] = W
            net.weights[0][1][...] = b
            upd = float(np.linalg.norm(net.theta - before))
            w0 = float(np.linalg.norm(before))
            self._uratio0 = upd / w0 if w0 > 0 else (np.inf if upd > 0 else 0.0)
        loss, g = net.loss_and_flat_grad(self._X, self._Y, self.hp["l1"], self.hp["l2"])
        L = net.n_layers
        gn = np.full((m, L), np.linalg.norm(g))
        wn = np.full((m, L), np.linalg.norm(net.theta))
        ur = np.zeros((m, L))
        if start == 0:
            ur[0] = self._uratio0
        chunk = Chunk(start, np.full(m, loss), np.full(m, self.hp["lr"]),
                      np.zeros(m, np.int8), gn, wn, ur, np.zeros((m, L)), np.zeros((m, L)))
        self._counters[K.C_STEP] += m
        self._counters[K.C_T] += m
        self._counters[K.C_EPOCH] += m
        self._grad[:] = g
        self.history.append_steps(chunk)
        self._notify("on_chunk", chunk)
        return m

    # --- evaluation ----------------------------------------------------------------------
    def evaluate(self) -> dict:
        """Full train and test loss and accuracy at the current parameters."""
        tl, ta, vl, va = _EvalJob(self, self.network.theta).compute(
            np.zeros(self._n_units, np.int64), np.zeros(self._n_units, np.int64))
        return {"train_loss": tl, "test_loss": vl, "train_accuracy": ta,
                "test_accuracy": va}

    def _start_evaluation(self) -> "_EvalJob":
        """Evaluate the current parameters on the helper thread (see run_steps)."""
        # the parameters into a buffer kept for this (the job before has been recorded
        # by now: at most one is in flight), not a new array each time
        buf = self._eval_theta
        if buf is None or buf.shape != self.network.theta.shape:
            buf = self._eval_theta = aligned.empty(self.network.theta.shape,
                                                   self.network.theta.dtype)
        np.copyto(buf, self.network.theta)
        job = _EvalJob(self, buf)
        job.future = _eval_pool().submit(job.row)
        return job

    def _finish_evaluation(self, job: "_EvalJob") -> dict:
        return self._record_evaluation(*job.future.result())

    def _evaluate_and_record(self) -> dict:
        return self._record_evaluation(*_EvalJob(self, self.network.theta).row())

    def _record_evaluation(self, row: dict, unit_stats: dict) -> dict:
        self.unit_stats = unit_stats
        self.evaluations.append(row)
        self.history.append_evaluation(row)
        self._evaluated_at = row["step"]
        self._notify("on_evaluation", row)
        return row

    # --- state (snapshots, rewind, fork) ---------------------------------------------------
    def get_state(self) -> dict[str, np.ndarray]:
        """Everything needed to resume exactly, as arrays (copies)."""
        hp = np.array([self.hp["lr"], self.hp["momentum"], float(self.hp["nesterov"]),
                       self.hp["decay"], self.hp["l1"], self.hp["l2"],
                       float(self.hp["batch_size"])])
        return {"theta": self.network.theta.copy(), "vel": self._vel.copy(),
                "acc": self._acc.copy(), "counters": self._counters.copy(),
                "rng": self._rng.copy(), "perm": self._perm.copy(), "hp": hp}

    def _keep_chunk_start(self) -> dict[str, np.ndarray]:
        """get_state() into buffers reused from chunk to chunk (no allocation per chunk):
        the state a failing chunk started from, copied out only when one fails."""
        keep = getattr(self, "_keep", None)
        if keep is None or keep["perm"].shape != self._perm.shape:
            self._keep = keep = self.get_state()
            return keep
        np.copyto(keep["theta"], self.network.theta)
        np.copyto(keep["vel"], self._vel)
        np.copyto(keep["acc"], self._acc)
        np.copyto(keep["counters"], self._counters)
        np.copyto(keep["rng"], self._rng)
        np.copyto(keep["perm"], self._perm)
        hp = keep["hp"]
        hp[0], hp[1], hp[2] = self.hp["lr"], self.hp["momentum"], float(self.hp["nesterov"])
        hp[3], hp[4], hp[5] = self.hp["decay"], self.hp["l1"], self.hp["l2"]
        hp[6] = float(self.hp["batch_size"])
        return keep

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore a state from :meth:`get_state` (parameters, optimizer, data order)."""
        self.network.theta[:] = state["theta"]
        self._vel[:] = state["vel"]
        self._acc[:] = state["acc"]
        self._counters[:] = state["counters"]
        self._rng[:] = state["rng"]
        self._perm[:] = state["perm"]
        hp = state["hp"]
        self.hp.update(lr=float(hp[0]), momentum=float(hp[1]), nesterov=bool(hp[2]),
                       decay=float(hp[3]), l1=float(hp[4]), l2=float(hp[5]),
                       batch_size=int(hp[6]))
        if self.hp["batch_size"] > self._buf_batch and self._buf_batch < self._X.shape[0]:
            self._alloc_buffers(self.hp["batch_size"])
        self.nonfinite = None

    def rewind_to_finite(self) -> int:
        """After a non-finite value, go back to the parameters of the last finite step.

        Restores the state at the start of the chunk that failed and replays it up to the
        step before the failure. Returns the step now current.
        """
        if self.nonfinite is None or self._chunk_state is None:
            return self.step
        bad = self.nonfinite.step
        self.set_state(self._chunk_state)
        self.history.truncate(self.step)
        self.run_steps(max(0, bad - 1 - self.step))
        self.record_event("rewind", {"from_step": bad, "to_step": self.step})
        return self.step

    def findings(self) -> list:
        """The diagnostics' findings so far (empty without diagnostics)."""
        return self.monitor.findings() if self.monitor is not None else []

    def evaluate_final(self) -> None:
        """Evaluate and record the current step unless it was: the cadence evaluates every
        ``eval_every`` steps, so the last planned step would otherwise show the accuracy
        of up to ``eval_every`` steps earlier (the default demo: step 6,847 of 7,000)."""
        if self.step > self._evaluated_at and self.nonfinite is None:
            self._evaluate_and_record()

    def finish(self) -> None:
        """End of training: the final step evaluated, final diagnostics (not converged,
        ...), and the session closed."""
        self.evaluate_final()
        if self.monitor is not None:
            self.monitor.finalize(self)
        if self.recorder is not None:
            self.recorder.close()

    def current_config(self) -> RunConfig:
        """The configuration with the live hyperparameters as they are now."""
        return self.config.with_changes({_CFG_PATH[k]: v for k, v in self.hp.items()})

    def summary(self) -> dict:
        ev = self.evaluate()
        return {"step": self.step, "epoch": self.epoch, **ev,
                "nonfinite": None if self.nonfinite is None else
                {"step": self.nonfinite.step, "what": self.nonfinite.what}}
