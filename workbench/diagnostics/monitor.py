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
from dataclasses import dataclass, field

import numpy as np

from . import rules as R

TAIL = 32          # losses kept across chunks (diverging level, full-batch zig-zag)
BLOCK = 10         # steps per gradient-norm check (doubling rule)


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


@dataclass
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

    def first_above(self, level: float) -> int:
        """Step of the first loss in the tail above ``level`` (the end if none)."""
        if self.tail is None:
            return self.end
        idx = np.flatnonzero(self.tail > level)
        return self.end - (len(self.tail) - 1 - int(idx[0])) if idx.size else self.end


class Monitor:
    """Listens to a run (``on_chunk``, ``on_evaluation``, ``on_event``, ``finalize``)
    and keeps its findings; also the context the rules read (``ctx`` in rules.py)."""

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
        self.X = np.asarray(run._X, dtype=np.float64)  # noqa: SLF001 - kernel inputs
        self.Y = np.asarray(run._Y, dtype=np.float64)  # noqa: SLF001
        self.Xt = np.asarray(run._Xt, dtype=np.float64)  # noqa: SLF001
        self.Yt = np.asarray(run._Yt, dtype=np.float64)  # noqa: SLF001
        self.y_labels = ds.y_train
        self.prior = R.prior_loss(self.model["loss"], self.Y)
        self.loss0: float | None = None
        self.train_losses: list[float] = []
        self.last_eval: dict = {}
        self.state: dict = {}
        self._tail = np.zeros(0)
        self._findings: list[Finding] = []
        self._open: dict[str, Finding] = {}
        self._hooks = {h: [r for r in R.RULES.values() if h in r.hooks]
                       for h in ("init", "chunk", "eval", "final")}
        self._finalized = False
        self._run_hook("init", None)

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
        return self.run.hp["batch_size"] >= self.run.n_train

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
        per = self.run.eval_every / max(1, self.run.steps_per_epoch)
        return max(2, int(math.ceil(epochs / max(per, 1e-9))))

    def eval_alternation(self):
        """Over the last 6 evaluations: share of direction changes of the train loss, its
        median relative swing, and the step; (None, None, step) with fewer."""
        tl = self.train_losses[-6:]
        if len(tl) < 6:
            return None, None, self.step
        d = np.diff(tl)
        s = np.sign(d)
        alt = float(np.mean(s[1:] != s[:-1]))
        amp = float(np.median(np.abs(d)) / max(np.median(tl), 1e-300))
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
        if event.kind in ("hparams", "rewind"):
            # a new regime: growth counters and the best test loss start afresh
            self.state.pop("doublings", None)
            self.state.pop("prev_block", None)
            self.state.pop("best_test", None)

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
        for r in self._hooks[hook]:
            v = r.fn(self, arg)
            if v is not None:
                self._apply(r, v)

    def _apply(self, r: R.Rule, v: R.Verdict) -> None:
        f = self._open.get(r.code)
        if v.holds:
            if r.code == "lr_too_high":
                self.state["lr_high_seen"] = True
            ev = _plain(v.evidence)
            if f is None:
                f = Finding(r.code, r.severity, int(v.step), v.message, ev, v.remedy,
                            v.patch, r.question, r.source)
                self._findings.append(f)
                self._open[r.code] = f
            else:
                f.message, f.evidence, f.remedy, f.patch = v.message, ev, v.remedy, v.patch
        elif f is not None:
            f.resolved_step = int(v.step if v.step else self.step)
            del self._open[r.code]

    def _chunk_stats(self, c) -> ChunkStats:
        run = self.run
        end = c.start + c.n
        cs = ChunkStats(end=end)
        loss = c.loss
        fin = np.isfinite(loss)
        bad = np.flatnonzero((c.flags != 0) | ~fin)
        if bad.size:
            k = int(bad[0])
            cs.first_bad = c.start + k + 1
            fl = int(c.flags[k])
            cs.bad_what = [n for bit, n in ((1, "loss"), (2, "gradients"), (4, "weights"))
                           if fl & bit] or ["loss"]
        finite = loss[fin]
        if finite.size:
            self._tail = np.concatenate([self._tail, finite])[-TAIL:]
            cs.last_finite = float(finite[-1])
        if self._tail.size:
            cs.tail = self._tail
            cs.recent = float(np.median(self._tail[-min(20, self._tail.size):]))
        # update ratio after the warm-up (large on the first steps by design)
        warm = max(0, int(R.WARMUP_EPOCHS * run.steps_per_epoch) - c.start)
        if warm < c.n:
            ur = c.uratio[warm:]
            ur = ur[np.all(np.isfinite(ur), axis=1)]
            if ur.shape[0]:
                med = np.median(ur, axis=0)
                j = int(np.argmax(med))
                cs.uratio_med, cs.uratio_layer = float(med[j]), j
                self.state["ur_recent"] = float(med[j])
        g = c.gnorm
        with np.errstate(divide="ignore", invalid="ignore"):
            r = g[:, 0] / g[:, -1]
        r = r[np.isfinite(r)]
        if r.size and g.shape[1] > 1:
            cs.ratio = float(np.median(r))
        gm = g.max(axis=1)
        gm = gm[np.isfinite(gm)]
        if gm.size:
            cs.gmax = float(np.median(gm))
            self._doublings(gm)
        if self.full_batch and self._tail.size >= 12:
            t = self._tail[-24:]
            d = np.diff(t)
            s = np.sign(d)
            cs.alternation = float(np.mean(s[1:] * s[:-1] < 0))
            cs.osc_amplitude = float(np.median(np.abs(d)) / max(np.median(t), 1e-300))
        return cs

    def _doublings(self, gm: np.ndarray) -> None:
        """Count consecutive checks (blocks of BLOCK steps) where the gradient norm at
        least doubled (TheDeepChecker's growth rule)."""
        nb = gm.size // BLOCK
        blocks = gm[:nb * BLOCK].reshape(nb, BLOCK).mean(axis=1) if nb else gm[-1:]
        prev = self.state.get("prev_block")
        seq = blocks if prev is None else np.concatenate([[prev], blocks])
        n = self.state.get("doublings", 0)
        for up in (seq[1:] >= 2.0 * seq[:-1]):
            n = n + 1 if up else 0
        self.state["doublings"] = n
        self.state["prev_block"] = float(seq[-1])


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
