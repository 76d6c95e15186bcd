"""Command-line experiments built on sweeps: ``lrtest``, ``rangetest``,
``learningcurve``, ``capacity`` and ``landscape`` (registered by ``commands.py``)."""
from __future__ import annotations

import math

import numpy as np

from ..cli import CliError, Progress, load_config_arg, print_json
from ..config import EXACT_SOLVERS, ConfigError
from .backends import SweepError
from .commands import check_workers
from .grid import parse_value, split_values


def _floats(text: str, what: str) -> list[float]:
    vals = [parse_value(t) for t in split_values(text)]
    if not vals or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in vals):
        raise CliError(f"{what} '{text}' is not a comma-separated list of numbers")
    return [float(v) for v in vals]


def _progress(label: str, args):
    state = {"p": None}

    def cb(done, total, item):
        if state["p"] is None:
            state["p"] = Progress(total, label, enabled=not args.json or args.progress)
        state["p"].update(done, str(getattr(item, "name", item)), force=done == total)
    return cb, state


def _finish(state) -> None:
    if state["p"] is not None:
        state["p"].close()


def _lists(d: dict) -> dict:
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in d.items()}


def _run(fn, args, label, **kw):
    cb, state = _progress(label, args)
    try:
        out = fn(progress=cb, **kw)
    except (ConfigError, SweepError, ValueError) as e:
        raise CliError(str(e)) from None
    _finish(state)
    return out


def _pool_kw(args) -> dict:
    check_workers(args.workers)
    if getattr(args, "steps", None) is not None and args.steps < 1:
        raise CliError(f"--steps {args.steps} is not allowed: an integer >= 1")
    return {"workers": args.workers, "dask": args.dask, "out": args.out}


def _needs_gradient_descent(cfg, command: str, why: str) -> None:
    """Refuse an exact solver for an experiment that varies what it does not have."""
    name = cfg.optimizer["name"]
    if name in EXACT_SOLVERS:
        raise CliError(f"{command}: {name} fits a linear model exactly and {why}; use sgd, "
                       "adagrad, rmsprop or adam")


def cmd_lrtest(args) -> int:
    cfg = load_config_arg(args.config)
    from .lr import lr_test
    lrs = _floats(args.lrs, "--lrs")
    if any(not (lr > 0 and math.isfinite(lr)) for lr in lrs):
        raise CliError(f"--lrs {args.lrs}: every learning rate must be a finite number > 0")
    _needs_gradient_descent(cfg, "lrtest", "it compares learning rates")
    res = _run(lr_test, args, "lrtest", config=cfg, lrs=lrs,
               momentum=args.momentum, decay=args.decay, steps=args.steps,
               seeds=args.seeds, **_pool_kw(args))
    if args.json:
        print_json({"verdict": res.verdict, "best_lr": res.best_lr, "lrs": res.lrs,
                    "diverged": res.diverged, "score": res.score,
                    "runs": [{"lr": lr, "train_loss": g[0].train_loss,
                              "test_loss": g[0].test_loss,
                              "test_accuracy": g[0].test_accuracy, "status": g[0].status,
                              "findings": g[0].findings,
                              "eval_step": res.curves(i).get("eval_step", np.zeros(0)).tolist(),
                              "eval_train_loss":
                                  res.curves(i).get("eval_train_loss", np.zeros(0)).tolist()}
                             for i, (lr, g) in enumerate(zip(res.lrs, res.runs))
                             if g and g[0] is not None]})
    else:
        for lr, g, d in zip(res.lrs, res.runs, res.diverged):
            r = g[0]
            if r is None:
                continue
            loss = r.train_loss if r.train_loss is not None else float("nan")
            print(f"lr {lr:<8g} {'diverged' if d else r.status:<9} train loss {loss:.4g}"
                  f"  findings: {' '.join(r.findings) or '-'}")
        print(res.verdict)
    return 130 if res.sweep.cancelled else 0


def cmd_rangetest(args) -> int:
    cfg = load_config_arg(args.config)
    for name, v in (("--lr-min", args.lr_min), ("--lr-max", args.lr_max)):
        if not (math.isfinite(v) and v > 0):
            raise CliError(f"{name} {v:g} is not allowed: a finite number > 0")
    from .lr import range_test
    res = _run(range_test, args, "rangetest", config=cfg, lr_min=args.lr_min,
               lr_max=args.lr_max, steps=args.steps, **_pool_kw(args))
    if args.json:
        print_json({"verdict": res.verdict, "suggested_lr": res.suggested_lr,
                    "steepest_lr": res.steepest_lr, "divergence_lr": res.divergence_lr,
                    **_lists({"lr": res.lr, "loss": res.loss, "smooth": res.smooth})})
    else:
        print(res.verdict)
    return 0


def cmd_learningcurve(args) -> int:
    cfg = load_config_arg(args.config)
    from .curves import learning_curve
    fractions = _floats(args.fractions, "--fractions")
    if any(not 0.0 < f <= 1.0 for f in fractions):
        raise CliError(f"--fractions {args.fractions}: each fraction of the training set "
                       "must be above 0 and at most 1 (e.g. 0.1,0.25,0.5,1)")
    res = _run(learning_curve, args, "learningcurve", config=cfg,
               fractions=fractions, seeds=args.seeds,
               steps=args.steps, **_pool_kw(args))
    if args.json:
        print_json({"verdict": res.verdict, **_lists({
            "fractions": res.fractions, "n_train": res.n_train,
            "train_loss": res.train_loss, "test_loss": res.test_loss,
            "train_std": res.train_std, "test_std": res.test_std})})
    else:
        for f, n, a, b in zip(res.fractions, res.n_train, res.train_loss, res.test_loss):
            print(f"{f:>5.0%} ({n:>5} samples)  train loss {a:.4g}  test loss {b:.4g}")
        print(res.verdict)
    return 130 if res.sweep.cancelled else 0


def cmd_capacity(args) -> int:
    cfg = load_config_arg(args.config)
    _needs_gradient_descent(cfg, "capacity", "it changes the hidden layers")
    from .curves import capacity_sweep
    res = _run(capacity_sweep, args, "capacity", config=cfg, seeds=args.seeds,
               steps=args.steps, **_pool_kw(args))
    if args.json:
        print_json({"verdict": res.verdict, "labels": res.labels, "hidden": res.hidden,
                    **_lists({"n_params": res.n_params, "train_loss": res.train_loss,
                              "test_loss": res.test_loss})})
    else:
        for i in res.order:
            print(f"{res.labels[i]:<9} {res.n_params[i]:>7} params  train loss "
                  f"{res.train_loss[i]:.4g}  test loss {res.test_loss[i]:.4g}")
        print(res.verdict)
    return 130 if res.sweep.cancelled else 0


#: ``landscape --grid``: points per axis of the loss surface (the surface is grid**2 losses).
GRID_MIN, GRID_MAX = 3, 1001


def cmd_landscape(args) -> int:
    from .landscape import MODELS, landscape
    if args.model not in MODELS:
        raise CliError(f"unknown landscape model '{args.model}'; one of " + ", ".join(MODELS))
    starts = None
    if args.start:
        starts = []
        for s in args.start:
            v = _floats(s, "--start")
            if len(v) != 2 or not all(math.isfinite(x) for x in v):
                raise CliError(f"--start '{s}' is not two finite numbers P1,P2")
            starts.append(tuple(v))
    if args.lr is not None and not (math.isfinite(args.lr) and args.lr > 0):
        raise CliError(f"--lr {args.lr} is not allowed: a finite number > 0")
    if not GRID_MIN <= args.grid <= GRID_MAX:
        raise CliError(f"--grid {args.grid} is not allowed: {GRID_MIN} to {GRID_MAX} points "
                       "per axis")
    if args.steps is not None and args.steps < 1:
        raise CliError(f"--steps {args.steps} is not allowed: an integer >= 1")
    res = _run(landscape, args, "landscape", name=args.model, starts=starts,
               compare=args.compare, lr=args.lr, steps=args.steps, n=args.grid)
    if args.json:
        print_json({"verdict": res.verdict, "model": args.model,
                    "names": list(res.model.names), "a1": res.a1.tolist(),
                    "a2": res.a2.tolist(), "loss": res.loss.tolist(),
                    "paths": {k: v.tolist() for k, v in res.paths.items()},
                    "end_loss": res.end_loss,
                    "optimum": None if res.optimum is None else res.optimum.tolist()})
    else:
        n1, n2 = res.model.names
        for k, p in res.paths.items():
            print(f"{k:<22} ends at {n1} = {p[-1][0]:.4g}, {n2} = {p[-1][1]:.4g} "
                  f"(loss {res.end_loss[k]:.4g}) after {len(p) - 1} steps")
        print(res.verdict)
    return 0


def _common(p, steps_default=None) -> None:
    p.add_argument("--steps", type=int, default=steps_default,
                   help="steps per run" + ("" if steps_default else " (default: the epochs)"))
    p.add_argument("--workers", type=int, help="local worker processes (default: the "
                   "core count; 0 or 1 runs in this process)")
    p.add_argument("--dask", metavar="ADDRESS", help="run on this Dask scheduler")
    p.add_argument("--out", help="record the runs (sessions, summary.csv) in this directory")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--progress", action="store_true", help="progress on stderr with --json")


def register(subparsers) -> None:
    p = subparsers.add_parser("lrtest", help="the practical learning-rate test (1, 0.1, 0.01)")
    p.add_argument("config", help="run configuration (JSON)")
    p.add_argument("--lrs", default="1,0.1,0.01", help="rates to compare (default 1,0.1,0.01)")
    p.add_argument("--momentum", type=float, default=0.0, help="SGD momentum (default 0)")
    p.add_argument("--decay", type=float, default=1e-6, help="lr decay (default 1e-6)")
    p.add_argument("--seeds", type=int, default=1, help="seeds per rate")
    _common(p)
    p.set_defaults(func=cmd_lrtest)

    p = subparsers.add_parser("rangetest", help="Smith's learning-rate range test")
    p.add_argument("config", help="run configuration (JSON)")
    p.add_argument("--lr-min", type=float, default=1e-5, help="first rate (default 1e-5)")
    p.add_argument("--lr-max", type=float, default=10.0, help="last rate (default 10)")
    _common(p, steps_default=300)
    p.set_defaults(func=cmd_rangetest)

    p = subparsers.add_parser("learningcurve", help="train on 10/25/50/100 %% of the data: "
                              "would more data help?")
    p.add_argument("config", help="run configuration (JSON)")
    p.add_argument("--fractions", default="0.1,0.25,0.5,1", help="training-set fractions")
    p.add_argument("--seeds", type=int, default=3, help="seeds per size (default 3)")
    _common(p)
    p.set_defaults(func=cmd_learningcurve)

    p = subparsers.add_parser("capacity", help="narrower, wider, shallower and deeper nets: "
                              "under- or overfitting?")
    p.add_argument("config", help="run configuration (JSON)")
    p.add_argument("--seeds", type=int, default=1, help="seeds per architecture")
    _common(p)
    p.set_defaults(func=cmd_capacity)

    p = subparsers.add_parser("landscape", help="loss surface and optimizer paths of a "
                              "two-parameter model")
    p.add_argument("model", help="linear_regression, sigmoid_unit or tanh_net")
    p.add_argument("--start", action="append", metavar="P1,P2", help="a starting point "
                   "(repeat for more)")
    p.add_argument("--compare", action="store_true", help="SGD, momentum and Nesterov "
                   "paths from the first start")
    p.add_argument("--lr", type=float, help="learning rate (default: the model's)")
    p.add_argument("--steps", type=int, help="steps per path (default: the model's)")
    p.add_argument("--grid", type=int, default=101, help="surface points per axis (3 to 1001; default 101)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--progress", action="store_true", help="progress on stderr with --json")
    p.set_defaults(func=cmd_landscape)

