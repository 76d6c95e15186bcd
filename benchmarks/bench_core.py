"""Core training throughput: Run.run_steps (every per-step metric on) against plain NumPy
and PyTorch CPU eager (when importable), in the same process, round-robin, median of N.

    python benchmarks/bench_core.py [--quick] [--json] [--repeats N]

Workloads (all SGD with momentum 0.9):
  W1  2 -> 8 tanh -> 8 tanh -> 1 sigmoid, BCE, 1,000 spiral points, batch 10, 20 epochs
  W2  2 -> 64 relu -> 64 relu -> 1 sigmoid, 2,000 spiral points, batch 32
  W3  digits 64 -> 128 relu -> 10 softmax, batch 32
  W4  784 -> 256 relu -> 128 relu -> 10 softmax, 20,000 random samples, batch 128
  W5  W1 with batch 1
BLAS and PyTorch are limited to one thread. ``ours`` is what the core's speed targets are
set for: the core's ``Run`` trained by ``run_steps`` with every per-step metric on and
its default evaluations (full train and test loss and accuracy, on a helper thread while
the next chunk trains; on W1 every 334 steps), without the diagnostics, which issue 4
adds and bounds apart (at most 10 % of steps/s). Beside it: ``ours_with_diagnostics``
(the diagnostics on as well: what the window runs) and ``ours_training_only`` (no
evaluations, no diagnostics; every per-step metric still on). NumPy and PyTorch do no
evaluations and compute no metrics. Also reports the cold compile time of the
kernels (in a fresh process with an empty cache), the time from process start to the
end of its first trained step with a warm cache (the process's exit, about 0.2 s of
Numba teardown, reported apart; the cold start's exit also waits for the probe kernels,
which a cold warm-up leaves compiling in a background process), and the cost of the
diagnostics: paired rounds of
the workload with the Monitor on and off (order swapped each round, each side at least
50 ms), the median of the per-round costs, with quartiles.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from workbench.core import warmup  # noqa: E402
from workbench.core.threads import describe, numeric_libraries  # noqa: E402
from workbench.data import Dataset  # noqa: E402
from workbench.run import Run  # noqa: E402

MOM = {"name": "sgd", "lr": 0.01, "momentum": 0.9}


def _random_784(n=20000, seed=0) -> Dataset:
    rng = np.random.default_rng(seed)
    X = rng.random((n, 784))
    y = rng.integers(0, 10, n).astype(np.int64)
    k = int(0.7 * n)
    return Dataset(name="random784", task="classification", n_classes=10,
                   X_train=X[:k], y_train=y[:k], X_test=X[k:], y_test=y[k:],
                   raw_train=X[:k], raw_test=X[k:],
                   feature_names=[f"x{i + 1}" for i in range(784)], raw_dim=784)


def workloads(quick: bool) -> dict[str, dict]:
    e = 0.25 if quick else 1.0
    w1 = {"data": {"name": "spiral", "n_samples": 1000, "noise": 0.1},
          "model": {"hidden": [[8, "tanh"], [8, "tanh"]], "output": "sigmoid", "loss": "bce"},
          "optimizer": MOM, "training": {"batch_size": 10, "epochs": 20}}
    return {
        "W1": {"cfg": w1, "steps": int(1400 * e)},
        "W2": {"cfg": {"data": {"name": "spiral", "n_samples": 2000, "noise": 0.1},
                       "model": {"hidden": [[64, "relu"], [64, "relu"]], "output": "sigmoid",
                                 "loss": "bce", "init": "he"},
                       "optimizer": MOM, "training": {"batch_size": 32}},
               "steps": int(1000 * e)},
        "W3": {"cfg": {"data": {"name": "digits"},
                       "model": {"hidden": [[128, "relu"]], "output": "softmax",
                                 "loss": "cross_entropy", "init": "he"},
                       "optimizer": MOM, "training": {"batch_size": 32}},
               "steps": int(800 * e)},
        "W4": {"cfg": {"data": {"name": "spiral"},
                       "model": {"hidden": [[256, "relu"], [128, "relu"]], "output": "softmax",
                                 "loss": "cross_entropy", "init": "he"},
                       "optimizer": MOM, "training": {"batch_size": 128}},
               "steps": int(200 * e), "dataset": _random_784},
        "W5": {"cfg": {**w1, "training": {"batch_size": 1, "epochs": 20}},
               "steps": int(14000 * e)},
    }


# --- our core --------------------------------------------------------------------------
def bench_ours(spec, precision="float64", diagnostics=True, evaluations=True) -> float:
    """Steps/s of Run.run_steps; ``evaluations=False`` (with ``diagnostics=False``: the
    training alone, every per-step metric still on) is reported beside, for reference."""
    cfg = json.loads(json.dumps(spec["cfg"]))
    cfg.setdefault("training", {})["precision"] = precision
    ds = spec["dataset"]() if "dataset" in spec else None
    run = Run(cfg, dataset=ds, diagnostics=diagnostics,
              eval_every=None if evaluations else 10 ** 12)
    run.run_steps(2)
    t = time.perf_counter()
    run.run_steps(spec["steps"])
    return spec["steps"] / (time.perf_counter() - t)


def _arrays(spec):
    run = Run(spec["cfg"], dataset=spec["dataset"]() if "dataset" in spec else None,
              diagnostics=False)
    return run._X.astype(np.float64), run._Y.astype(np.float64), run.network


def diagnostics_cost(spec, precision="float64", rounds=15, min_seconds=0.05) -> dict:
    """The diagnostics' share of training time, measured in pairs: each round trains the
    same workload with the Monitor on and off (order swapped every round, each side run
    long enough to last ``min_seconds``), and the cost is the median over the rounds of
    1 - (steps/s on) / (steps/s off): the machine's drift is shared within a pair."""
    t = time.perf_counter()
    bench_ours(spec, precision, diagnostics=False)
    one = time.perf_counter() - t
    reps = max(1, int(min_seconds / max(one, 1e-6)))

    def rate(diag):
        return statistics.mean(bench_ours(spec, precision, diag) for _ in range(reps))
    costs = []
    for r in range(rounds):
        order = (True, False) if r % 2 == 0 else (False, True)
        got = {d: rate(d) for d in order}
        costs.append(1.0 - got[True] / got[False])
    costs.sort()
    q = len(costs) // 4
    return {"median": round(statistics.median(costs), 4),
            "quartiles": [round(costs[q], 4), round(costs[-q - 1], 4)], "rounds": rounds,
            "runs_per_side": reps}


# --- plain NumPy -----------------------------------------------------------------------
def bench_numpy(spec) -> float:
    """The same training loop written with NumPy array operations (no per-step metrics)."""
    X, Y, net = _arrays(spec)
    acts = net.activations_names
    Ws = [(W.copy(), b.copy()) for W, b in net.weights]
    vel = [(np.zeros_like(W), np.zeros_like(b)) for W, b in Ws]
    B = spec["cfg"]["training"]["batch_size"]
    lr, mom = MOM["lr"], MOM["momentum"]
    n = X.shape[0]
    rng = np.random.default_rng(0)
    f = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0)}
    steps = spec["steps"]
    t = time.perf_counter()
    done, perm, pos = 0, rng.permutation(n), 0
    while done < steps:
        if pos >= n:
            perm, pos = rng.permutation(n), 0
        idx = perm[pos:pos + B]
        pos += B
        a = [X[idx]]
        zs = []
        for (W, b), name in zip(Ws, acts):
            z = a[-1] @ W.T + b
            zs.append(z)
            if name == "sigmoid" or name == "softmax":
                a.append(z)
            else:
                a.append(f[name](z))
        z = zs[-1]
        if acts[-1] == "softmax":
            e = np.exp(z - z.max(axis=1, keepdims=True))
            p = e / e.sum(axis=1, keepdims=True)
        else:
            p = 1 / (1 + np.exp(-z))
        d = (p - Y[idx]) / len(idx)
        for l in range(len(Ws) - 1, -1, -1):
            W, b = Ws[l]
            gW = d.T @ a[l]
            gb = d.sum(axis=0)
            if l:
                d = d @ W
                d = d * (1 - a[l] ** 2) if acts[l - 1] == "tanh" else d * (zs[l - 1] > 0)
            vW, vb = vel[l]
            vW *= mom
            vW -= lr * gW
            vb *= mom
            vb -= lr * gb
            W += vW
            b += vb
        done += 1
    return steps / (time.perf_counter() - t)


# --- PyTorch eager -----------------------------------------------------------------------
def bench_torch(spec, torch, dtype="float64") -> float:
    X, Y, net = _arrays(spec)
    tdt = torch.float64 if dtype == "float64" else torch.float32
    layers = []
    acts = net.activations_names
    for (W, b), name in zip(net.weights, acts):
        lin = torch.nn.Linear(W.shape[1], W.shape[0]).to(tdt)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W))
            lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
        if name == "tanh":
            layers.append(torch.nn.Tanh())
        elif name == "relu":
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=MOM["lr"], momentum=MOM["momentum"])
    Xt = torch.from_numpy(X).to(tdt)
    if acts[-1] == "softmax":
        yt = torch.from_numpy(Y.argmax(axis=1))
        lossf = torch.nn.CrossEntropyLoss()
    else:
        yt = torch.from_numpy(Y).to(tdt)
        lossf = torch.nn.BCEWithLogitsLoss()
    B = spec["cfg"]["training"]["batch_size"]
    n = X.shape[0]
    steps = spec["steps"]
    g = torch.Generator().manual_seed(0)
    t = time.perf_counter()
    done, perm, pos = 0, torch.randperm(n, generator=g), 0
    while done < steps:
        if pos >= n:
            perm, pos = torch.randperm(n, generator=g), 0
        idx = perm[pos:pos + B]
        pos += B
        opt.zero_grad()
        loss = lossf(model(Xt[idx]), yt[idx])
        loss.backward()
        opt.step()
        done += 1
    return steps / (time.perf_counter() - t)


# --- start-up ---------------------------------------------------------------------------
# The child prints the wall-clock time (time.time(), comparable across processes) when its
# first step is trained, and its own in-process figure; the parent notes time.time() just
# before it starts the child. Exit is measured apart: Numba's teardown at interpreter exit
# takes about 0.2 s after its target context is loaded, whatever we do.
_CHILD = """
import time; t0 = time.perf_counter()
from workbench.run import Run
from workbench.core import warmup
r = Run({'data': {'name': 'spiral', 'n_samples': 200}, 'model': {'hidden': [[8, 'tanh']]}})
warmup(); r.run_steps(1)
print(time.time(), time.perf_counter() - t0, flush=True)
import sys
sys.modules["workbench.core.warmup"].wait_for_background()   # the probes, compiling on
"""


def startup_times() -> dict:
    """Cold compile (empty cache) and first trained step with a warm cache, fresh processes:
    from the moment the process is started to the end of its first trained step, and the
    time the process then takes to exit."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        out = {}
        for label, tag in (("cold_compile", "cold"), ("warm_first_step", "warm"),
                           ("warm_first_step", "warm")):
            start = time.time()
            r = subprocess.run([sys.executable, "-c", _CHILD], env=env, cwd=str(ROOT),
                               capture_output=True, text=True)
            end = time.time()
            if r.returncode != 0:
                out[label + "_s"] = None
                continue
            stepped, in_process = (float(v) for v in r.stdout.split())
            # the second warm start is kept: the first one may still pay for page-cache
            # misses of the files the cold compile wrote
            out[label + "_s"] = round(stepped - start, 3)
            out[label + "_in_process_s"] = round(in_process, 3)
            out[tag + "_exit_s"] = round(end - stepped, 3)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer steps and repeats")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--only", default="", help="comma-separated workloads (W1,...)")
    ap.add_argument("--no-startup", action="store_true")
    args = ap.parse_args()
    repeats = args.repeats or (5 if args.quick else 7)
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        torch = None
    warmup(np.float64)
    warmup(np.float32)
    # on a cold cache the probes go on compiling in child processes: nothing is timed
    # while they run (they took a core from the first workload's samples here)
    sys.modules["workbench.core.warmup"].wait_for_background()
    wl = workloads(args.quick)
    if args.only:
        wl = {k: v for k, v in wl.items() if k in args.only.split(",")}
    results = {}
    with threadpool_limits(limits=1):
        machine = numeric_libraries()
        if not args.json:
            print("machine:", describe(machine), flush=True)
        for name, spec in wl.items():
            prec = "float32" if name == "W4" else "float64"
            contenders = {"ours": lambda s=spec, p=prec: bench_ours(s, p, False),
                          "ours_with_diagnostics": lambda s=spec, p=prec: bench_ours(s, p),
                          "ours_training_only":
                              lambda s=spec, p=prec: bench_ours(s, p, False, False),
                          "numpy": lambda s=spec: bench_numpy(s)}
            if name == "W4":
                contenders["ours_float64"] = lambda s=spec: bench_ours(s, "float64", False)
            if torch is not None:
                contenders["torch"] = lambda s=spec, p=prec: bench_torch(s, torch, p)
            samples = {k: [] for k in contenders}
            for _ in range(repeats):             # round-robin
                for k, fn in contenders.items():
                    samples[k].append(fn())
            med = {k: statistics.median(v) for k, v in samples.items()}
            row = {f"{k}_steps_per_s": round(v, 1) for k, v in med.items()}
            row["precision"] = prec
            row["vs_numpy"] = round(med["ours"] / med["numpy"], 2)
            row["diagnostics_cost_medians"] = round(
                1 - med["ours_with_diagnostics"] / med["ours"], 3)
            dc = diagnostics_cost(spec, prec, rounds=7 if args.quick else 15)
            row["diagnostics_cost"] = dc["median"]
            row["diagnostics_cost_paired"] = dc
            if torch is not None:
                row["vs_torch"] = round(med["ours"] / med["torch"], 2)
                row["with_diagnostics_vs_torch"] = round(med["ours_with_diagnostics"]
                                                         / med["torch"], 2)
                row["training_only_vs_torch"] = round(med["ours_training_only"]
                                                      / med["torch"], 2)
            results[name] = row
            if not args.json:
                extra = (f"  x{row['vs_torch']} torch (with the diagnostics "
                         f"x{row['with_diagnostics_vs_torch']}, training alone "
                         f"x{row['training_only_vs_torch']})" if torch is not None else "")
                print(f"{name}: ours {med['ours']:>10,.0f} steps/s ({prec})  numpy "
                      f"{med['numpy']:>8,.0f}  x{row['vs_numpy']} numpy{extra}  "
                      f"diagnostics cost {100 * row['diagnostics_cost']:.1f} % (paired "
                      f"rounds, quartiles {100 * dc['quartiles'][0]:.1f} to "
                      f"{100 * dc['quartiles'][1]:.1f} %)", flush=True)
    out = {"workloads": results, "repeats": repeats, "torch": torch.__version__ if torch
           else None, "torch_threads": 1 if torch else None, "blas_threads": 1,
           "machine": machine}
    if not args.no_startup:
        out["startup"] = startup_times()
        if not args.json:
            print("startup:", out["startup"])
    if args.json:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
