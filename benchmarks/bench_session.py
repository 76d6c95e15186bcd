"""Session recording and replay: overhead, file size, open and seek times.

    python benchmarks/bench_session.py [--json] [--steps N] [--repeats R] [--seeks S]

Workload W1 of the core benchmark: 2 -> 8 tanh -> 8 tanh -> 1 sigmoid, BCE, 1,000
spiral points, batch 10, SGD lr 0.03 momentum 0.9 (diagnostics on, as in the window).

Reports
  * training steps/s without and with recording (same process, alternating rounds,
    median of R; targets: overhead at most 5 %), the time the training thread spent in
    the recorder's callbacks and blocked on its queue;
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
    """Wrap a recorder's listener methods to add up the training thread's time in them."""

    def __init__(self, rec):
        self.rec = rec
        self.seconds = 0.0

    def __getattr__(self, name):
        fn = getattr(self.rec, name)
        if not name.startswith("on_"):
            return fn

        def timed(*a):
            tic = time.perf_counter()
            fn(*a)
            self.seconds += time.perf_counter() - tic
        return timed


def train(steps: int, path: Path | None) -> dict:
    run = Run(W1, session=path)
    timed = None
    if run.recorder is not None:
        timed = _Timed(run.recorder)
        run.listeners[run.listeners.index(run.recorder)] = timed
    run.run_steps(1)
    tic, cpu = time.perf_counter(), time.thread_time()
    run.run_steps(steps)
    dt, cpu = time.perf_counter() - tic, time.thread_time() - cpu
    # CPU time of the training thread: far less sensitive than wall time to other
    # processes on a busy machine (it misses waits for the GIL, which wall time shows)
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--steps", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--seeks", type=int, default=60)
    args = ap.parse_args()
    log = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    warmup()
    tmp = Path(tempfile.mkdtemp(prefix="bench-session-"))
    plain, rec = [], []
    for r in range(args.repeats):
        order = (False, True) if r % 2 == 0 else (True, False)
        for with_session in order:
            p = tmp / f"r{r}.wbsession" if with_session else None
            res = train(args.steps, p)
            (rec if with_session else plain).append(res)
            if p is not None and r < args.repeats - 1:
                p.unlink()
    sp = statistics.median(x["steps_per_s"] for x in plain)
    sr = statistics.median(x["steps_per_s"] for x in rec)
    overhead = 1.0 - sr / sp
    # paired: each round's two runs ran back to back, so the machine's drift cancels
    paired = statistics.median(1.0 - b["steps_per_s"] / a["steps_per_s"]
                               for a, b in zip(plain, rec))
    cp = statistics.median(x["steps_per_cpu_s"] for x in plain)
    cr = statistics.median(x["steps_per_cpu_s"] for x in rec)
    cpu_overhead = 1.0 - cr / cp
    log(f"W1 steps per CPU second of the training thread: without recording {cp:,.0f}, "
        f"with {cr:,.0f}: overhead {100 * cpu_overhead:.1f} %")
    log(f"W1 steps/s: without recording {sp:,.0f}, with {sr:,.0f}: overhead "
        f"{100 * overhead:.1f} % (medians of {args.repeats}); median of paired rounds "
        f"{100 * paired:.1f} %")
    cb = statistics.median(x["callback_s"] for x in rec)
    bl = max(x["blocked_s"] for x in rec)
    wc = statistics.median(x["writer_cpu_s"] for x in rec)
    log(f"writer thread CPU: {1e3 * wc:.0f} ms per {args.steps:,} steps, "
        f"{statistics.median(x['commits'] for x in rec):.0f} commits")
    log(f"training thread in recorder callbacks: {1e3 * cb:.1f} ms per {args.steps:,} steps "
        f"({100 * cb * sr / args.steps:.2f} % of training); blocked on the queue: "
        f"{1e3 * bl:.1f} ms (max)")

    path = tmp / f"r{args.repeats - 1}.wbsession"
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
        "workload": "W1", "steps": args.steps, "repeats": args.repeats,
        "steps_per_s_without": sp, "steps_per_s_with": sr, "overhead": overhead,
        "overhead_paired": paired, "steps_per_cpu_s_without": cp,
        "steps_per_cpu_s_with": cr, "overhead_cpu": cpu_overhead,
        "callback_s_per_run": cb, "writer_cpu_s_per_run": wc, "blocked_s_max": bl,
        "file_bytes_per_100k_steps": size * scale,
        "metric_bytes_per_step": metric_bytes / (args.steps + 1),
        "snapshots": n_snaps, "snapshot_bytes_per_100k_steps": snap_bytes * scale,
        "open_s": t_open, "seek_ms_median": float(np.median(w)),
        "seek_ms_p95": float(np.percentile(w, 95)), "seek_ms_max": float(w.max()),
        "open_and_seek_ms": 1e3 * statistics.median(cold),
        "cpus": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(result))
    for p in tmp.glob("*"):
        p.unlink()
    tmp.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
