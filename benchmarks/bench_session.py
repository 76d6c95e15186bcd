"""Session recording and replay: overhead, file size, open and seek times.

    python benchmarks/bench_session.py [--json] [--steps N] [--segment M] [--repeats R]
                                       [--seeks S]

Workload W1 of the core benchmark: 2 -> 8 tanh -> 8 tanh -> 1 sigmoid, BCE, 1,000
spiral points, batch 10, SGD lr 0.03 momentum 0.9 (diagnostics on, as in the window).

Reports
  * training steps/s without and with recording (target: overhead at most 5 %): one
    process trains two identical runs, one recording, in alternating segments of M steps
    (order swapped every round, R rounds): the machine's drift (other processes, clock)
    is shared by the two segments of a round, and the median of the per-round ratios is
    the overhead. Also the training thread's steps per CPU second both ways, its time in
    the recorder's callbacks and blocked on its queue, the writer thread's CPU time, and
    their sum over the training thread's CPU time: the overhead when no core is free;
  * the file size per 100,000 steps (metrics, snapshots, total);
  * the time to open a 100,000-step session and read all its metrics;
  * the time of ``snapshot_at`` at random steps (target under 50 ms), cold (new reader)
    and during scrubbing (same reader).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from workbench.core import warmup  # noqa: E402
from workbench.run import Run  # noqa: E402
from workbench.session import open_session  # noqa: E402

W1 = {"seed": 0, "data": {"name": "spiral", "n_samples": 1000},
      "model": {"hidden": [[8, "tanh"], [8, "tanh"]], "output": "sigmoid", "loss": "bce"},
      "optimizer": {"name": "sgd", "lr": 0.03, "momentum": 0.9},
      "training": {"batch_size": 10}}


class _Timed:
    """Stand in for a recorder among a run's listeners and add up the training thread's
    time in its callbacks (bound once: the wrapper itself costs next to nothing)."""

    def __init__(self, rec):
        self.rec = rec
        self.seconds = 0.0
        for name in ("on_chunk", "on_evaluation", "on_event"):
            setattr(self, name, self._timed(getattr(rec, name)))

    def _timed(self, fn):
        clock = time.perf_counter

        def timed(run, arg):
            tic = clock()
            fn(run, arg)
            self.seconds += clock() - tic
        return timed

    def __getattr__(self, name):
        return getattr(self.rec, name)


def _new_run(path: Path | None):
    run = Run(W1, session=path)
    timed = None
    if run.recorder is not None:
        timed = _Timed(run.recorder)
        run.listeners[run.listeners.index(run.recorder)] = timed
    run.run_steps(1)
    return run, timed


def _segment(run, steps: int) -> tuple[float, float]:
    """Wall and training-thread CPU seconds of ``steps`` more steps of ``run``."""
    tic, cpu = time.perf_counter(), time.thread_time()
    run.run_steps(steps)
    return time.perf_counter() - tic, time.thread_time() - cpu


def train(steps: int, path: Path | None) -> dict:
    """One run of ``steps`` steps (recording to ``path`` when given) and its rates."""
    run, timed = _new_run(path)
    dt, cpu = _segment(run, steps)
    out = {"steps_per_s": steps / dt, "steps_per_cpu_s": steps / cpu}
    if timed is not None:
        out["callback_s"] = timed.seconds
        out["blocked_s"] = run.recorder.blocked_seconds
        tic = time.perf_counter()
        run.finish()
        out["close_s"] = time.perf_counter() - tic
        out["writer_cpu_s"] = run.recorder.writer_cpu_seconds
        out["commits"] = run.recorder.commits
    return out


def overhead(steps: int, repeats: int, path: Path, log) -> dict:
    """Two identical W1 runs, one recording to ``path``, trained in alternating segments
    of ``steps`` steps for ``repeats`` rounds (the order swapped every round)."""
    plain, _ = _new_run(None)
    rec, timed = _new_run(path)
    rows = []
    for r in range(repeats):
        order = (plain, rec) if r % 2 == 0 else (rec, plain)
        res = {}
        for run in order:
            res[run is rec] = _segment(run, steps)
        rows.append(res)
        log(f"  round {r + 1:2d}: {steps / res[False][0]:9,.0f} steps/s without, "
            f"{steps / res[True][0]:9,.0f} with ({100 * (1 - res[False][0] / res[True][0]):+5.1f} %)")
    tic = time.perf_counter()
    rec.finish()
    close_s = time.perf_counter() - tic
    r = rec.recorder
    med = statistics.median
    q = statistics.quantiles([1 - a[False][0] / a[True][0] for a in rows], n=4)
    return {
        "steps_per_s_without": med(steps / a[False][0] for a in rows),
        "steps_per_s_with": med(steps / a[True][0] for a in rows),
        "overhead": med(1 - a[False][0] / a[True][0] for a in rows),
        "overhead_q1": q[0], "overhead_q3": q[2],
        "overhead_total": 1 - sum(a[False][0] for a in rows) / sum(a[True][0] for a in rows),
        "steps_per_cpu_s_without": med(steps / a[False][1] for a in rows),
        "steps_per_cpu_s_with": med(steps / a[True][1] for a in rows),
        "overhead_cpu": med(1 - a[False][1] / a[True][1] for a in rows),
        "recorder_cpu_share": (r.writer_cpu_seconds + timed.seconds)
        / sum(a[True][1] for a in rows),
        "callback_s_per_100k": timed.seconds * 100_000 / (steps * repeats),
        "writer_cpu_s_per_100k": r.writer_cpu_seconds * 100_000 / (steps * repeats + 1),
        "blocked_s": r.blocked_seconds, "commits": r.commits, "close_s": close_s,
        "snapshots_per_100k": _count(path, "snapshots") * 100_000 / (steps * repeats + 1),
    }


def _count(path: Path, table: str) -> int:
    import sqlite3
    con = sqlite3.connect(path)
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        con.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--steps", type=int, default=100_000,
                    help="steps of the session used for size, open and seek times")
    ap.add_argument("--segment", type=int, default=50_000,
                    help="steps per segment of the overhead rounds")
    ap.add_argument("--repeats", type=int, default=21, help="overhead rounds (at least 7)")
    ap.add_argument("--seeks", type=int, default=60)
    args = ap.parse_args()
    if args.repeats < 7 or args.steps < 1000 or args.segment < 1000:
        ap.error("--repeats must be at least 7, --steps and --segment at least 1000")
    log = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    warmup()
    sys.modules["workbench.core.warmup"].wait_for_background()  # nothing timed while compiling
    tmp = Path(tempfile.mkdtemp(prefix="bench-session-"))
    ov = overhead(args.segment, args.repeats, tmp / "overhead.wbsession", log)
    (tmp / "overhead.wbsession").unlink()
    log(f"W1 steps/s: without recording {ov['steps_per_s_without']:,.0f}, with "
        f"{ov['steps_per_s_with']:,.0f} (medians of {args.repeats} rounds of "
        f"{args.segment:,} steps); overhead: median of the rounds {100 * ov['overhead']:.1f} % "
        f"(quartiles {100 * ov['overhead_q1']:.1f} to {100 * ov['overhead_q3']:.1f} %), "
        f"all rounds together {100 * ov['overhead_total']:.1f} %")
    log(f"W1 steps per CPU second of the training thread: without recording "
        f"{ov['steps_per_cpu_s_without']:,.0f}, with {ov['steps_per_cpu_s_with']:,.0f}: "
        f"overhead {100 * ov['overhead_cpu']:.1f} %")
    log(f"recorder CPU (writer + callbacks) over the training thread's CPU: "
        f"{100 * ov['recorder_cpu_share']:.1f} % (the overhead when no core is free)")
    log(f"per 100,000 steps: writer thread CPU {1e3 * ov['writer_cpu_s_per_100k']:.0f} ms, "
        f"training thread in recorder callbacks {1e3 * ov['callback_s_per_100k']:.1f} ms, "
        f"{ov['snapshots_per_100k']:.0f} snapshots; blocked on the queue "
        f"{1e3 * ov['blocked_s']:.1f} ms in all; {ov['commits']} commits")

    path = tmp / "session.wbsession"
    one = train(args.steps, path)
    import sqlite3
    con = sqlite3.connect(path)
    metric_bytes = con.execute("SELECT sum(length(data)) FROM chunks").fetchone()[0]
    snap_bytes, n_snaps = con.execute("SELECT sum(length(data)), count(*) FROM snapshots"
                                      ).fetchone()
    con.close()
    scale = 100_000 / (args.steps + 1)
    size = path.stat().st_size
    log(f"file size per 100,000 steps: {size * scale / 1e6:.2f} MB (metrics "
        f"{metric_bytes * scale / 1e6:.2f} MB = {metric_bytes / (args.steps + 1):.1f} B/step,"
        f" {n_snaps} snapshots {snap_bytes * scale / 1e6:.2f} MB)")

    opens = []
    for _ in range(5):
        tic = time.perf_counter()
        with open_session(path) as s:
            s.metrics()
            s.evaluations()
        opens.append(time.perf_counter() - tic)
    t_open = statistics.median(opens)
    log(f"open a {args.steps:,}-step session and read its metrics: {1e3 * t_open:.1f} ms")

    rng = np.random.default_rng(0)
    cold, warm = [], []
    with open_session(path) as s:
        last = s.last_step
        for step in rng.integers(0, last + 1, args.seeks):
            tic = time.perf_counter()
            snap = s.snapshot_at(int(step))
            warm.append(time.perf_counter() - tic)
            assert snap.step == step
    for step in rng.integers(0, last + 1, 5):
        tic = time.perf_counter()
        with open_session(path) as s:
            s.snapshot_at(int(step))
        cold.append(time.perf_counter() - tic)
    w = np.array(warm) * 1e3
    log(f"snapshot_at(random step), same reader: median {np.median(w):.1f} ms, 95th "
        f"percentile {np.percentile(w, 95):.1f} ms, max {w.max():.1f} ms ({args.seeks} seeks)")
    log(f"open + first snapshot_at: median {1e3 * statistics.median(cold):.1f} ms")
    result = {
        "workload": "W1", "steps": args.steps, "repeats": args.repeats, **ov,
        "file_bytes_per_100k_steps": size * scale,
        "metric_bytes_per_step": metric_bytes / (args.steps + 1),
        "snapshots": n_snaps, "snapshot_bytes_per_100k_steps": snap_bytes * scale,
        "open_s": t_open, "seek_ms_median": float(np.median(w)),
        "seek_ms_p95": float(np.percentile(w, 95)), "seek_ms_max": float(w.max()),
        "open_and_seek_ms": 1e3 * statistics.median(cold),
        "close_s": one["close_s"], "cpus": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(result))
    for p in tmp.glob("*"):
        p.unlink()
    tmp.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
