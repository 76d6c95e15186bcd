"""Score the diagnostics on the labelled corpus and measure their cost.

Usage: ``python benchmarks/eval_diagnostics.py [--json] [--split tune|test]
[--workers 2] [--no-overhead] [--only SUBSTRING] [--seed-offset K]``

``--seed-offset K`` adds K to every scenario's seed (data, initial weights and batches
change, the labels stay): a check that the rules do not sit on a knife edge of one seed.

Prints, separately for the ``tune`` split (5,240 scenarios, 1,144 healthy: thresholds
were set on it) and the ``test`` split (5,373 scenarios, 1,207 healthy: ``ho3_`` and
``ho9_``, written after the rules were frozen, labelled a priori, never tuned on, more
than half of the corpus of 10,613; see ``tests/diagnostics/make_scenarios.py``): per-code recall and
precision, overall precision and recall, the share of healthy runs with a warning or
error, the median detection delay in steps (step at which an expected finding first
held) and the scenarios whose findings differ from their labels; then the cost of the diagnostics on W1 (2 -> 8 tanh
-> 8 tanh -> 1 sigmoid, BCE, 1,000 spiral points, batch 10, SGD lr 0.03 momentum 0.9,
20 epochs): steps/s off and on, and the share of the training time spent in the hooks.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from workbench.diagnostics.evaluation import load_scenarios, run_scenario, score  # noqa: E402

SCENARIOS = ROOT / "tests" / "diagnostics" / "scenarios"
W1 = {"seed": 0, "data": {"name": "spiral", "n_samples": 1000, "noise": 0.1},
      "model": {"hidden": [[8, "tanh"], [8, "tanh"]], "output": "sigmoid", "loss": "bce"},
      "optimizer": {"name": "sgd", "lr": 0.03, "momentum": 0.9},
      "training": {"batch_size": 10, "epochs": 20}}


class _Timed:
    """Wraps the run's monitor and adds up the time spent in its hooks."""

    def __init__(self, monitor):
        self.monitor = monitor
        self.seconds = 0.0

    def _call(self, name, run, arg):
        t = time.perf_counter()
        getattr(self.monitor, name)(run, arg)
        self.seconds += time.perf_counter() - t

    def on_chunk(self, run, chunk):
        self._call("on_chunk", run, chunk)

    def on_evaluation(self, run, row):
        self._call("on_evaluation", run, row)

    def on_event(self, run, event):
        self._call("on_event", run, event)


def overhead(repeats: int = 20) -> dict:
    """Cost of the diagnostics on W1, two ways (the machine may be shared and noisy):

    - steps/s with diagnostics off and on, best of ``repeats`` interleaved runs;
    - the share of a diagnostics-on run spent inside the monitor's hooks (median over
      the repeats), measured within the same runs, so load changes cancel out.
    """
    import statistics
    from workbench.core import warmup
    from workbench.run import Run
    warmup("float64")
    best = {False: 0.0, True: 0.0}
    shares = []
    for _ in range(repeats):
        for diag in (False, True):
            run = Run(W1, diagnostics=diag)
            timed = None
            if diag:
                timed = _Timed(run.monitor)
                run.listeners[run.listeners.index(run.monitor)] = timed
            n = run.total_steps
            t = time.perf_counter()
            run.run_steps(n)
            dt = time.perf_counter() - t
            best[diag] = max(best[diag], n / dt)
            if timed is not None:
                shares.append(timed.seconds / max(1e-12, dt - timed.seconds))
    return {"steps_per_s_off": best[False], "steps_per_s_on": best[True],
            "overhead": 1.0 - best[True] / best[False],
            "hook_share": statistics.median(shares), "steps": n, "repeats": repeats}


def _fmt(v, pct=False):
    if v is None:
        return "   -"
    return f"{100 * v:4.0f}%" if pct else f"{v:4.2f}"


def report(split: str, res: list[dict]) -> None:
    s = score(res)
    print(f"\n== {split} split: {s['n_scenarios']} scenarios ==")
    print(f"{'code':24s} {'n':>3s} {'recall':>7s} {'prec.':>6s} {'FP':>3s} {'delay':>7s}")
    for code, p in s["per_code"].items():
        d = p["median_delay_steps"]
        print(f"{code:24s} {p['support']:3d} {_fmt(p['recall']):>7s} "
              f"{_fmt(p['precision']):>6s} {p['fp']:3d} "
              f"{'-' if d is None else int(d):>7}")
    print(f"overall precision {_fmt(s['precision'])}, recall {_fmt(s['recall'])}, "
          f"median delay {s['median_delay_steps']} steps")
    print(f"healthy runs with a warning/error: {len(s['healthy_with_warning'])} of "
          f"{s['healthy']} ({_fmt(s['false_alarm_rate'], True)})"
          + (": " + ", ".join(s["healthy_with_warning"]) if s["healthy_with_warning"]
             else ""))
    for m in s["mismatches"]:
        print(f"  {m['name']}: missed {m['missed']} extra {m['extra']}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--split", choices=("tune", "test"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-overhead", action="store_true")
    ap.add_argument("--only", help="substring of scenario names to run")
    ap.add_argument("--seed-offset", type=int, default=0,
                    help="add this to every scenario's seed (robustness check)")
    a = ap.parse_args(argv)
    scs = load_scenarios(SCENARIOS)
    if a.split:
        scs = [s for s in scs if s["split"] == a.split]
    if a.only:
        scs = [s for s in scs if a.only in s["name"]]
    if a.seed_offset:
        for s in scs:
            s["config"]["seed"] = int(s["config"].get("seed", 0)) + a.seed_offset
    t = time.perf_counter()
    workers = max(1, min(2, a.workers))
    if workers > 1:
        with mp.get_context("spawn").Pool(workers) as pool:
            res = pool.map(run_scenario, scs, chunksize=1)
    else:
        res = [run_scenario(s) for s in scs]
    wall = time.perf_counter() - t
    out = {"wall_s": wall, "results": res}
    for split in ("tune", "test"):
        part = [r for r in res if r["split"] == split]
        if part:
            out[split] = score(part)
    if not a.no_overhead:
        out["overhead"] = overhead()
    if a.json:
        print(json.dumps(out))
        return 0
    for split in ("tune", "test"):
        part = [r for r in res if r["split"] == split]
        if part:
            report(split, part)
    print(f"\n{len(res)} scenarios in {wall:.0f} s")
    if "overhead" in out:
        o = out["overhead"]
        print(f"W1 ({o['steps']} steps, best of {o['repeats']}): diagnostics off "
              f"{o['steps_per_s_off']:,.0f} steps/s, on {o['steps_per_s_on']:,.0f} "
              f"steps/s: overhead {100 * o['overhead']:.1f} %")
        print(f"time inside the diagnostics hooks: {100 * o['hook_share']:.1f} % of the "
              "training time (median over the runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
