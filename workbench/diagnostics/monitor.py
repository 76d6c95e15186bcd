"""The Monitor: feeds a run's metrics to the rules and keeps the findings.

``Run(config, diagnostics=True)`` creates one and subscribes it. Per chunk it computes
one :class:`ChunkStats` (a few vectorised reductions over the chunk's arrays, shared by
all rules) and calls the chunk rules; per evaluation the evaluation rules; at the end
the final rules. Nothing rescans the history: the monitor keeps the last few losses and
one value per evaluation.
"""
from __future__ import annotations

import dataclasses
import math
import threading
from dataclasses import dataclass, field

import numpy as np

from ..core import reductions as RD
from ..core.reference import mean_loss
from . import rules as R

TAIL = 32          # losses kept across chunks (diverging level, full-batch zig-zag)
BLOCK = 10         # steps per gradient-norm check (doubling rule)
WINDOW = 64        # steps of a chunk the medians look at (its most recent)
assert (RD.WINDOW, RD.BLOCK) == (WINDOW, BLOCK), "core/reductions.py compiles these in"


@dataclass
class Finding:
    """One answer of the checklist, with its evidence.

    ``step`` is the step at which the condition first held; ``resolved_step`` the step
    at which it stopped holding (None while it holds). ``patch`` is the remedy as
    dotted config changes (``{"optimizer.lr": 0.3}``) or None.
    """
    code: str
    severity: str
    step: int
    message: str
    evidence: dict = field(default_factory=dict)
    remedy: str = ""
    patch: dict | None = None
    question: str = ""
    source: str = ""
    resolved_step: int | None = None

    def to_dict(self) -> dict:
        return {"code": self.code, "severity": self.severity, "step": self.step,
                "resolved_step": self.resolved_step, "message": self.message,
                "evidence": self.evidence, "remedy": self.remedy, "patch": self.patch,
                "question": self.question, "source": self.source}

    @property
    def units(self) -> list[tuple[int, int]]:
        """(layer, unit) pairs named by the evidence (for highlighting)."""
        return [(int(l), int(j)) for l, j in self.evidence.get("units", [])]


@dataclass(slots=True)
class ChunkStats:
    """What the chunk rules read: reductions of one chunk, computed once.

    All values are Python floats or None (no opinion: e.g. no finite loss).
    """
    end: int
    first_bad: int | None = None
    bad_what: list = field(default_factory=list)
    last_finite: float | None = None
    recent: float | None = None           # median of the last finite losses
    tail: np.ndarray | None = None        # last TAIL finite losses (with earlier chunks)
    uratio_med: float | None = None       # largest per-layer median after warm-up
    uratio_layer: int | None = None
    ratio: float | None = None            # median first/last layer gradient norm
    gmax: float | None = None             # median of the largest layer gradient norm
    alternation: float | None = None      # full batch: share of sign flips of the change
    osc_amplitude: float | None = None
    stairs: float | None = None           # full batch: share of steps in a staircase

    def first_above(self, level: float) -> int:
        """Step of the first loss in the tail above ``level`` (the end if none)."""
        if self.tail is None:
            return self.end
        idx = np.flatnonzero(self.tail > level)
        return self.end - (len(self.tail) - 1 - int(idx[0])) if idx.size else self.end


class Monitor:
    """Listens to a run (``on_chunk``, ``on_evaluation``, ``on_event``, ``finalize``)
    and keeps its findings; also the context the rules read (``ctx`` in rules.py)."""

    _warm = False
    _warm_lock = threading.Lock()

    @classmethod
    def warmup(cls) -> None:
        """Compile (or load from Numba's cache) the per-chunk reduction with tiny arrays,
        so that the first chunk of a run does not pay for it (call it on the runner thread
        before training). Safe from any thread and more than once; only the first call
        works."""
        with cls._warm_lock:
            if cls._warm:
                return
            RD.compile_reduce_chunk()
            cls._warm = True

    def __init__(self, run):
        self.run = run
        cfg = run.config
        net = run.network
        ds = run.dataset
        self.model = cfg.model
        self.data = cfg.data
        self.opt = cfg.optimizer
        self.seed = cfg.seed
        self.cfg_epochs = int(cfg.training["epochs"])
        self.task = ds.task
        self.n_classes = ds.n_classes
        self.raw_dim = ds.raw_dim
        self.feature_names = list(ds.feature_names)
        self.network = net
        self.hidden = [[int(u), a] for u, a in net.hidden]
        self.n_hidden = len(self.hidden)
        self.n_layers = net.n_layers
        self.n_out = net.n_outputs
        self.acts = net.activations_names
        X, Y, Xt, Yt = run.kernel_data            # kernel inputs, encoded targets
        self.X = np.asarray(X, dtype=np.float64)
        self.Y = np.asarray(Y, dtype=np.float64)
        self.Xt = np.asarray(Xt, dtype=np.float64)
        self.Yt = np.asarray(Yt, dtype=np.float64)
        self.y_labels = ds.y_train
        self.prior = R.prior_loss(self.model["loss"], self.Y)
        self.perceptron = self.model["loss"] == "perceptron" or self.acts[-1] == "step"
        self.ref_loss, self.ref_wnorm = self._standard_init(run)
        self.linear_r2 = self._linear_r2() if self.task == "regression" else 1.0
        self.loss0: float | None = None
        self.train_losses: list[float] = []
        self.last_eval: dict = {}
        self.state: dict = {}
        self._tail = np.zeros(0)
        self._tail_buf = np.zeros(TAIL)          # reduce_chunk's in-place tail
        self._n_tail = 0
        L = net.n_layers
        self._ur_hist = np.zeros((0, L))         # the windows' steps of earlier chunks
        self._g_hist = np.zeros((0, L))
        self._res = np.zeros(RD.N_RESULTS)
        self._scratch = np.zeros(max(WINDOW, TAIL))
        self._geom = None
        self._int_args = np.zeros(4, np.int64)
        self._min_wnorm = np.ascontiguousarray(R.TINY_WEIGHTS * self.ref_wnorm,
                                               dtype=np.float64)
        self._findings: list[Finding] = []
        self._open: dict[str, Finding] = {}
        self._last: dict[str, Finding] = {}
        self._hooks = {h: [r for r in R.RULES.values() if h in r.hooks]
                       for h in ("init", "chunk", "eval", "final")}
        self._finalized = False
        self._run_hook("init", None)

    def _standard_init(self, run) -> tuple[float, np.ndarray]:
        """Initial loss and per-layer weight norms of the same net under the standard
        initialization (He for ReLU-family nets, else Xavier; scale 1, bias 0)."""
        from ..core import Network
        m = dict(self.model)
        relu = any(a in ("relu", "leaky_relu", "elu", "maxout") for a in self.acts[:-1])
        m.update(init="he" if relu else "xavier", init_scale=1.0, bias_init=0.0)
        net = Network(self.network.n_inputs, self.network.n_outputs, m, seed=self.seed)
        try:
            # in NumPy: a run is built on the GUI thread too, and the loss kernel would
            # compile there on a cold cache (20 s of a frozen window on the first launch)
            with np.errstate(all="ignore"):
                loss = mean_loss(net.weights, net.activations_names, net.loss,
                                 np.asarray(self.X, np.float64),
                                 np.asarray(self.Y, np.float64))
        except Exception:  # noqa: BLE001 - an odd config must not stop the run
            loss = float("nan")
        norms = np.array([np.linalg.norm(W) for W, _ in net.weights])
        return (float(loss) if math.isfinite(loss) else 0.0), norms

    def _linear_r2(self) -> float:
        """Explained variance of the least-squares affine fit (what a linear model can
        reach on the training data)."""
        A = np.hstack([self.X, np.ones((self.X.shape[0], 1))])
        coef, *_ = np.linalg.lstsq(A, self.Y, rcond=None)
        res = float(np.sum((A @ coef - self.Y) ** 2)) / max(1, self.X.shape[0])
        return 1.0 - res / self.prior if self.prior > 0 else 1.0

    def dead_net(self) -> bool:
        """A hidden ReLU layer is mostly dead (tiny updates are then no lr problem)."""
        d = self.last_eval.get("eval_dead") or []
        return any(v > R.DEAD_LAYER_FRAC for v in d[:-1])

    # --- what the rules read ------------------------------------------------------------
    @property
    def hp(self) -> dict:
        return self.run.hp

    @property
    def step(self) -> int:
        return self.run.step

    @property
    def unit_stats(self) -> dict:
        return self.run.unit_stats

    @property
    def epochs_done(self) -> float:
        return float(self.run.epoch_progress)

    @property
    def full_batch(self) -> bool:
        return self._geometry()[3]

    def _geometry(self) -> tuple:
        """(key, steps per epoch, evaluation cadence, full batch), recomputed only when
        the batch size or the training-set size changes (the run's properties behind
        them cost a microsecond or two each, on every chunk and evaluation)."""
        run = self.run
        bs = run.hp["batch_size"]
        n = run.n_train
        g = self._geom
        if g is None or g[0] != (bs, n):
            g = self._geom = ((bs, n), run.steps_per_epoch, run.eval_every, bs >= n)
        return g

    def level(self) -> float:
        """The loss of 'learned nothing' (input-free baseline, else the initial loss)."""
        if self.prior > 0:
            return self.prior
        return self.loss0 if self.loss0 and self.loss0 > 0 else 1.0

    def learned(self, loss) -> bool:
        """The loss is well below the input-free baseline."""
        return loss is not None and math.isfinite(loss) and \
            loss < R.LEARNED_FRAC * self.level()

    def converged(self, loss) -> bool:
        """The loss is near zero relative to the baseline (quiet: it may stop moving)."""
        return loss is not None and math.isfinite(loss) and \
            loss < R.CONVERGED_FRAC * self.level()

    def evals_per(self, epochs: float) -> int:
        """Evaluations spanning ``epochs`` epochs (at least 2)."""
        _, spe, ee, _ = self._geometry()
        per = ee / max(1, spe)
        return max(2, int(math.ceil(epochs / max(per, 1e-9))))

    def eval_alternation(self):
        """Over the last 6 evaluations: share of direction changes of the train loss, the
        smaller of its largest rise and largest fall relative to its upper median, and the
        step; (None, None, step) with fewer."""
        tl = self.train_losses[-6:]
        if len(tl) < 6:
            return None, None, self.step
        # six numbers: plain Python is several times cheaper than numpy calls here
        d = [b - a for a, b in zip(tl, tl[1:])]
        alt = sum((x > 0) != (y > 0) for x, y in zip(d, d[1:])) / (len(d) - 1)
        # the smaller of the largest rise and the largest fall: a zig-zag needs both (one
        # jump is an Adam spike, a fall then noise-level wiggles is a flat loss; the
        # median of the changes missed runs that swing between flat stretches: 0.24 ->
        # 0.28 -> 0.27 -> 0.87 -> 0.89 -> 0.59)
        up = max([x for x in d if x > 0], default=0.0)
        down = max([-x for x in d if x < 0], default=0.0)
        amp = min(up, down) / max(sorted(tl)[3], 1e-300)
        return alt, amp, self.step

    # --- listener interface -------------------------------------------------------------
    def on_chunk(self, run, chunk) -> None:
        if chunk.n == 0:
            return
        self._run_hook("chunk", self._chunk_stats(chunk))

    def on_evaluation(self, run, row: dict) -> None:
        tl = row["train_loss"]
        if row["step"] == 0 and self.loss0 is None:
            self.loss0 = tl
        self.train_losses.append(float(tl) if tl is not None else float("nan"))
        self.last_eval = row
        self._run_hook("eval", row)

    def on_event(self, run, event) -> None:
        if event.kind == "weight":
            self.state["sym_check"] = True      # a hand edit may break (or make) symmetry
        if event.kind in ("hparams", "rewind"):
            # a new regime: growth counters, best losses and update-ratio evidence
            # start afresh (the next chunk and evaluation measure them again)
            for key in ("doublings", "prev_block", "best_test", "prev_test", "best_train",
                        "prev_train", "rise", "ur_high", "ur_recent"):
                self.state.pop(key, None)
            self._ur_hist = self._ur_hist[:0]
            self._g_hist = self._g_hist[:0]

    def finalize(self, run) -> None:
        """End of training: the rules that need the whole run (not converged, ...)."""
        if run.nonfinite is not None or not self.train_losses:
            return
        self._run_hook("final", None)
        self._finalized = True

    def findings(self) -> list[Finding]:
        """The findings so far (copies), minus those explained by another one."""
        codes = {f.code for f in self._findings}
        out = []
        for f in self._findings:
            if any(c in codes for c in R.RULES[f.code].suppressed_by):
                continue
            out.append(dataclasses.replace(f, evidence=dict(f.evidence)))
        return out

    def all_findings(self) -> list[Finding]:
        """Every finding, including those another one explains."""
        return [dataclasses.replace(f) for f in self._findings]

    # --- internals ----------------------------------------------------------------------
    def _run_hook(self, hook: str, arg) -> None:
        opened = self._open
        for r in self._hooks[hook]:
            v = r.fn(self, arg)
            # a verdict that does not hold changes nothing unless its finding is open
            if v is not None and (v.holds or r.code in opened):
                self._apply(r, v)

    def _apply(self, r: R.Rule, v: R.Verdict) -> None:
        f = self._open.get(r.code)
        if v.holds:
            if r.code == "lr_too_high":
                self.state["lr_high_seen"] = True
            ev = _plain(v.evidence)
            if f is None and self._last.get(r.code) is not None:
                f = self._last[r.code]          # it holds again: reopen, keep first step
                f.resolved_step = None
                self._open[r.code] = f
            if f is None:
                f = Finding(r.code, v.severity or r.severity, int(v.step), v.message, ev,
                            v.remedy, v.patch, r.question, r.source)
                self._findings.append(f)
                self._open[r.code] = f
                self._last[r.code] = f
            else:
                f.message, f.evidence, f.remedy, f.patch = v.message, ev, v.remedy, v.patch
                if v.severity == "error":
                    f.severity = "error"
                elif v.severity == "info" and f.severity == "warning":
                    f.severity = "info"     # the run recovered around it (dead_units)
        elif f is not None:
            f.resolved_step = int(v.step if v.step else self.step)
            del self._open[r.code]

    def _chunk_stats(self, c) -> ChunkStats:
        """Reduce one chunk to the few numbers the rules read: one compiled call
        (:func:`reduce.reduce_chunk`) over at most the last WINDOW steps for the medians
        and one pass for the gradient-norm blocks. Same results as
        :meth:`_chunk_stats_numpy` (the tests hold them equal), at a few microseconds
        instead of 60-150 (the Monitor's share of a fast kernel's time)."""
        end = c.start + c.n
        cs = ChunkStats(end=end)
        loss = c.loss
        # the kernel stops right after the first non-finite step: only the last can be
        last = float(loss[-1])
        fl = int(c.flags[-1])
        m = c.n
        if fl or not math.isfinite(last):
            cs.first_bad = end
            cs.bad_what = [n for bit, n in ((1, "loss"), (2, "gradients"), (4, "weights"))
                           if fl & bit] or ["loss"]
            m -= 1
        st = self.state
        warm = max(0, R.warmup_steps(self._geometry()[1]) - c.start)
        prev = st.get("prev_block")
        res = self._res
        res[0] = 0.0 if prev is None else prev
        ia = self._int_args
        ia[0], ia[1], ia[2], ia[3] = m, self._n_tail, st.get("doublings", 0), prev is not None
        ur_win, g_win = self._windows(c, m, warm)
        RD.reduce_chunk(loss, ur_win, c.wnorm, c.gnorm, g_win, self._tail_buf,
                        self._min_wnorm, ia, res, self._scratch)
        (n_tail, recent, status, ur_med, ur_layer, ratio, gx, dbl,
         prev_block) = res.tolist()
        n_tail = self._n_tail = int(n_tail)
        if m > 0:
            cs.last_finite = float(loss[m - 1])
        if n_tail:
            cs.tail = self._tail = self._tail_buf[:n_tail].copy()
            cs.recent = recent
        if m <= 0:
            return cs
        if status == 1.0:
            cs.uratio_med, cs.uratio_layer = ur_med, int(ur_layer)
            st["ur_recent"] = ur_med
        elif status == 2.0:
            st["ur_recent"] = None
        if ratio == ratio:                      # not NaN
            cs.ratio = ratio
        finite = math.isfinite(gx)
        st["g_recent"] = gx > 1e-12 if finite else None
        if finite:
            cs.gmax = gx
            st["doublings"] = int(dbl)
            st["prev_block"] = prev_block
        self._full_batch_stats(cs)
        return cs

    def _windows(self, c, m: int, warm: int) -> tuple[np.ndarray, np.ndarray]:
        """The steps whose medians the rules read: the last WINDOW update ratios after
        the warm-up and the last WINDOW gradient norms up to this chunk's m-th step,
        reaching back into earlier chunks (since the last change of hyperparameters or
        rewind) when this one is shorter. So the evidence does not depend on how the
        steps were cut into chunks: the window's chunks, an evaluation's, or the last
        few steps before the final evaluation."""
        if m <= 0:
            return self._ur_hist, self._g_hist
        ur = c.uratio[min(warm, m):m]
        if ur.shape[0] < WINDOW and self._ur_hist.shape[0]:
            ur = np.concatenate([self._ur_hist, ur])
        g = c.gnorm[:m]
        if g.shape[0] < WINDOW and self._g_hist.shape[0]:
            g = np.concatenate([self._g_hist, g])
        self._ur_hist, self._g_hist = ur[-WINDOW:], g[-WINDOW:]
        return self._ur_hist, self._g_hist

    def _full_batch_stats(self, cs: ChunkStats) -> None:
        if self._n_tail >= 12 and self.full_batch:
            # full batch: without noise the loss should fall on every step; share of
            # steps on which it rises by more than OSC_AMPLITUDE of its value, and
            # falls (a loss that only rises is diverging, not oscillating)
            cs.alternation, cs.osc_amplitude, cs.stairs = _full_batch_swings(
                self._tail[-24:])

    def _chunk_stats_numpy(self, c) -> ChunkStats:
        """The reference for :meth:`_chunk_stats` in plain numpy (the tests compare
        the two; not used while training). Keeps its own tail in ``_tail``."""
        run = self.run
        end = c.start + c.n
        cs = ChunkStats(end=end)
        loss = c.loss
        # the kernel stops right after the first non-finite step: only the last can be
        last = float(loss[-1])
        fl = int(c.flags[-1])
        if fl or not math.isfinite(last):
            cs.first_bad = end
            cs.bad_what = [n for bit, n in ((1, "loss"), (2, "gradients"), (4, "weights"))
                           if fl & bit] or ["loss"]
            loss = loss[:-1]
            if not math.isfinite(last):
                fl |= 1
        if loss.shape[0]:
            self._tail = np.concatenate([self._tail, loss[-TAIL:]])[-TAIL:]
            cs.last_finite = float(loss[-1])
        if self._tail.size:
            cs.tail = self._tail
            cs.recent = float(_med(self._tail[-20:]))
        m = c.n - (1 if cs.first_bad else 0)
        if m <= 0:
            return cs
        # update ratio after the warm-up (large on the first steps by design)
        warm = max(0, R.warmup_steps(run.steps_per_epoch) - c.start)
        ur_win, g_win = self._windows(c, m, warm)
        if ur_win.shape[0]:
            med = _med(ur_win)
            # layers whose weights are far below a standard init have update ratios
            # that say nothing about the learning rate
            ok = (c.wnorm[m - 1] >= R.TINY_WEIGHTS * self.ref_wnorm) & np.isfinite(med)
            if ok.any():
                j = int(np.argmax(np.where(ok, med, -np.inf)))
                cs.uratio_med, cs.uratio_layer = float(med[j]), j
                self.state["ur_recent"] = float(med[j])
            else:
                self.state["ur_recent"] = None
        g = c.gnorm[:m]
        gmed = _med(g_win)
        if g.shape[1] > 1 and gmed[-1] > 0 and math.isfinite(gmed[0]):
            cs.ratio = float(gmed[0] / gmed[-1])
        gx = float(gmed.max())
        self.state["g_recent"] = gx > 1e-12 if math.isfinite(gx) else None
        if math.isfinite(gx):
            cs.gmax = gx
            self._doublings(g.max(axis=1))
        if self.full_batch and self._tail.size >= 12:
            # full batch: without noise the loss should fall on every step; share of
            # steps on which it rises by more than OSC_AMPLITUDE of its value, and
            # falls (a loss that only rises is diverging, not oscillating)
            cs.alternation, cs.osc_amplitude, cs.stairs = _full_batch_swings(
                self._tail[-24:])
        return cs

    def _doublings(self, gm: np.ndarray) -> None:
        """Count consecutive checks (blocks of BLOCK steps) where the gradient norm at
        least doubled (TheDeepChecker's growth rule)."""
        nb = gm.size // BLOCK
        blocks = gm[:nb * BLOCK].reshape(nb, BLOCK).mean(axis=1) if nb else gm[-1:]
        prev = self.state.get("prev_block")
        seq = blocks if prev is None else np.concatenate([[prev], blocks])
        n = self.state.get("doublings", 0)
        if seq.size > 1:
            up = (seq[1:] >= 2.0 * seq[:-1]) & (seq[:-1] > 0)
            down = np.flatnonzero(~up)
            n = n + up.size if down.size == 0 else up.size - 1 - int(down[-1])
        self.state["doublings"] = n
        self.state["prev_block"] = float(seq[-1])


def _full_batch_swings(t: np.ndarray) -> tuple[float, float, float]:
    """Full batch, last losses ``t``: (share of steps on which the loss rises by more
    than OSC_AMPLITUDE of its value, capped by the share on which it falls by as much
    (a loss that only rises is diverging, not oscillating); the largest relative rise;
    the share of steps in a staircase).

    Staircase: heavy-ball momentum beyond the stable rate swings the weights across the
    valley every other step, and a quadratic loss does not see the sign of the swing: it
    drops by OSC_AMPLITUDE or more on one step and by less than OSC_STAIR_RATIO of that on
    the next, alternately (2.79, 2.78, 2.25, 2.25, 1.83, 1.83, ...), where gradient
    descent at a stable rate lowers it by similar amounts on consecutive steps."""
    rel = np.diff(t) / np.maximum(np.abs(t[:-1]), 1e-300)
    alt = float(min(np.mean(rel > R.OSC_AMPLITUDE), np.mean(rel < -R.OSC_AMPLITUDE)))
    drop = -rel
    a, b = drop[:-1], drop[1:]
    r = R.OSC_STAIR_RATIO
    step = ((a > R.OSC_AMPLITUDE) & (b < r * a)) | ((b > R.OSC_AMPLITUDE) & (a < r * b))
    # alternately: a big drop then a small one then a big one ...
    stairs = float(np.mean(step[:-1] & step[1:])) if step.size > 1 else 0.0
    return alt, float(np.max(rel)), stairs


def _med(a: np.ndarray):
    """Median along axis 0 (upper median for even counts): one partition call, a
    fraction of np.median's cost on the small arrays of a chunk."""
    k = a.shape[0] // 2
    return np.partition(a, k, axis=0)[k]


def _plain(obj):
    """Plain Python types only (numpy scalars -> float/int), for JSON and snapshots."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    return obj
