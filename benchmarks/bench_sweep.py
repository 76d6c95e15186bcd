"""Sweep throughput: a 48-run sweep on the local process pool against the same runs one
after another in this process, and the fixed overhead of a Dask LocalCluster.

    python benchmarks/bench_sweep.py [--steps N] [--workers N] [--no-dask] [--json]

Workload: 2 -> 16 tanh -> 16 tanh -> 1 sigmoid, BCE, 300 spiral points, batch 10,
diagnostics on; grid optimizer.lr = 0.1, 0.03, 0.01, 0.003 x optimizer.momentum = 0, 0.9,
6 seeds each (48 runs of --steps steps). Serial and pool results are checked to be
bit-identical. Expect a pool speed-up close to the core count when the machine is idle;
"cores busy" (CPU seconds of this process and its workers per wall second) shows how
much of the machine the benchmark actually got when other processes share it.

Dask (when importable): a LocalCluster bound to 127.0.0.1 with the same number of worker
processes, one thread each. "per sweep" is the cost of starting the cluster and
connecting plus the first task's wait (process start, imports, kernel load); "per run"
is the extra time per run over running it in this process, from 48 one-step runs on a
single-worker cluster.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from workbench.core import warmup  # noqa: E402
from workbench.experiments import SweepSpec, default_workers, parse_axis, run_sweep  # noqa: E402

BASE = {"data": {"name": "spiral", "n_samples": 300},
        "model": {"hidden": [[16, "tanh"], [16, "tanh"]]}, "training": {"batch_size": 10}}


def spec(steps: int, workers, dask=None) -> SweepSpec:
    return SweepSpec(BASE, [parse_axis("optimizer.lr=0.1,0.03,0.01,0.003"),
                            parse_axis("optimizer.momentum=0,0.9")], seeds=6, steps=steps,
                     workers=workers, dask=dask)


def timed(s: SweepSpec):
    t = time.perf_counter()
    r = run_sweep(s)
    return time.perf_counter() - t, r


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the pool's workers)."""
    import resource
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def same(a, b) -> bool:
    return all(np.array_equal(x.theta, y.theta) for x, y in zip(a.runs, b.runs))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1500, help="steps per run (default 1500)")
    ap.add_argument("--workers", type=int, default=default_workers(),
                    help="pool size (default: the core count)")
    ap.add_argument("--no-dask", action="store_true", help="skip the Dask measurements")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    warmup()
    sys.modules["workbench.core.warmup"].wait_for_background()  # nothing timed while compiling
    import os
    out = {"cores": default_workers(), "workers": args.workers, "runs": 48,
           "steps_per_run": args.steps, "load_before": os.getloadavg()[0]}
    c0 = cpu_seconds()
    t_serial, r_serial = timed(spec(args.steps, 0))
    c1 = cpu_seconds()
    t_pool, r_pool = timed(spec(args.steps, args.workers))
    c2 = cpu_seconds()
    # cores this benchmark actually got: CPU seconds used per wall second
    out.update(serial_cores=(c1 - c0) / t_serial, pool_cores=(c2 - c1) / t_pool,
               serial_cpu_s=c1 - c0, pool_cpu_s=c2 - c1)
    out.update(serial_s=t_serial, pool_s=t_pool, speedup=t_serial / t_pool,
               pool_identical=same(r_serial, r_pool),
               run_s_mean=float(np.mean([r.wall_s for r in r_serial.runs])))
    try:
        if args.no_dask:
            raise ImportError
        from dask.distributed import Client, LocalCluster
    except ImportError:
        out["dask"] = None
    else:
        import logging
        logging.getLogger("distributed").setLevel(logging.ERROR)
        t0 = time.perf_counter()
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                          host="127.0.0.1", dashboard_address=None) as cluster, \
                Client(cluster, set_as_default=False) as client:
            t_start = time.perf_counter() - t0
            t_first, _ = timed(SweepSpec(BASE, [], steps=1, dask=client))
            t_dask, r_dask = timed(spec(args.steps, None, client))
        t_serial_tiny, _ = timed(spec(1, 0))
        with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                          host="127.0.0.1", dashboard_address=None) as cluster, \
                Client(cluster, set_as_default=False) as client:
            timed(SweepSpec(BASE, [], steps=1, dask=client))  # warm the worker
            t_tiny, _ = timed(spec(1, None, client))
        out["dask"] = {"cluster_start_s": t_start, "first_run_s": t_first,
                       "per_sweep_s": t_start + t_first, "sweep_s": t_dask,
                       "speedup": t_serial / t_dask, "identical": same(r_serial, r_dask),
                       "per_run_s": (t_tiny - t_serial_tiny) / 48}
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"48 runs x {args.steps} steps, {out['cores']} cores, {args.workers} workers "
          f"(mean run {out['run_s_mean']:.3f} s); load average before: "
          f"{out['load_before']:.1f} (other processes share these cores)")
    print(f"  serial (this process)  {t_serial:7.2f} s   CPU {out['serial_cpu_s']:.2f} s "
          f"({out['serial_cores']:.2f} cores busy)")
    print(f"  local pool             {t_pool:7.2f} s   CPU {out['pool_cpu_s']:.2f} s "
          f"({out['pool_cores']:.2f} cores busy)   speed-up {out['speedup']:.2f}x   "
          f"identical: {out['pool_identical']}")
    d = out["dask"]
    if d:
        print(f"  Dask LocalCluster      {d['sweep_s']:7.2f} s   speed-up {d['speedup']:.2f}x   "
              f"identical: {d['identical']}")
        print(f"  Dask overhead per sweep {d['per_sweep_s']:.2f} s (cluster start "
              f"{d['cluster_start_s']:.2f} s + first run {d['first_run_s']:.2f} s); "
              f"per run {1000 * d['per_run_s']:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
