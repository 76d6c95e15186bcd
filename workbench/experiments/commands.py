"""Command-line experiments: ``sweep``, ``lrtest``, ``rangetest``, ``learningcurve``,
``capacity``, ``landscape``.

Each prints a readable summary (or one JSON object with ``--json``), shows progress with
an ETA on standard error, and turns bad input (unknown key, bad value, no Dask,
unreachable scheduler) into one line and exit code 2. Ctrl-C keeps what finished and
says how to resume (exit code 130).
"""
from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from ..cli import CliError, Progress, load_config_arg, print_json
from ..config import ConfigError
from .backends import SweepError, connect_dask
from .grid import parse_axis
from .sweep import SweepSpec, default_out, finished_names, run_sweep, spec_from_dir


def _nonneg(name: str, v: int | None, lo: int = 0) -> None:
    if v is not None and v < lo:
        raise CliError(f"{name} {v} is not allowed: an integer >= {lo}")


def check_workers(v: int | None) -> None:
    """``--workers``: 0 or 1 run in this process; more start that many processes, each
    loading Numba, so no more than the processors this process may use (1000 had been
    accepted, and a large grid would have started 1000 processes)."""
    from .backends import default_workers
    most = default_workers()
    if v is not None and not 0 <= v <= max(most, 1):
        raise CliError(f"--workers {v} is not allowed: 0 to {max(most, 1)} (the processors "
                       "this machine lets this process use)")


def _progress_cb(label: str, enabled: bool, total: int):
    """A progress line started now (so its ETA counts from the start of the sweep)."""
    state = {"p": Progress(total, label, enabled=enabled)}

    def cb(done, total, r):
        state["p"].update(done, f"{r.name} {r.status}", force=done == total)
    return cb, state


def _fmt(v, spec=".4g") -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return format(v, spec)
    return str(v)


def _print_table(result) -> None:
    cols = result.columns
    head = ["run"] + cols + ["status", "train_loss", "test_loss", "test_acc", "steps",
                             "findings"]
    rows = []
    for r in result.done:
        rows.append([r.name] + [r.texts.get(c, "") for c in cols] +
                    [r.status, _fmt(r.train_loss), _fmt(r.test_loss),
                     _fmt(r.test_accuracy, ".3f"), str(r.steps),
                     " ".join(r.findings) or (r.error or "")])
    widths = [max(len(h), *(len(x[i]) for x in rows)) if rows else len(h)
              for i, h in enumerate(head)]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    for x in rows:
        print("  ".join(v.ljust(w) for v, w in zip(x, widths)))


def _spec_from_args(args) -> SweepSpec:
    cfg = load_config_arg(args.config)
    axes = [parse_axis(g) for g in (args.grid or [])]
    return SweepSpec(cfg, axes, seeds=args.seeds, steps=args.steps)


def cmd_sweep(args) -> int:
    with contextlib.ExitStack() as stack:
        return _sweep(args, stack)


def _sweep(args, stack) -> int:
    _nonneg("--steps", args.steps)
    _nonneg("--seeds", args.seeds, 1)
    check_workers(args.workers)
    try:
        if args.resume:
            spec = spec_from_dir(args.resume)
            if args.config is not None:
                mine = _spec_from_args(args)
                if mine.identity() != spec.identity():
                    raise CliError(f"{args.resume} holds a different sweep than the given "
                                   "config and grid; resume with: python main.py sweep "
                                   f"--resume {args.resume}")
            if args.out and Path(args.out) != Path(args.resume):
                raise CliError("--resume DIR writes into DIR; drop --out")
        else:
            if args.config is None:
                raise CliError("sweep needs CONFIG.json (or --resume DIR)")
            spec = _spec_from_args(args)
            spec.out = Path(args.out) if args.out else default_out()
            if (spec.out / "sweep.json").exists():
                raise CliError(f"{spec.out} holds a sweep already; resume it with "
                               f"--resume {spec.out} or choose another --out")
        spec.workers = args.workers
        spec.sessions = not args.no_sessions
        runs = spec.runs()
        n = len(runs)
        if runs and all(r.config is None for r in runs):
            # nothing would run: bad input, not a sweep of failed runs (exit 0)
            raise CliError(f"no run of this grid is a valid configuration; the first: "
                           f"{runs[0].error}")
        if args.dask:  # connect first: a wrong address is one line and nothing written
            client, _ = connect_dask(args.dask)
            stack.callback(client.close)
            spec.dask = client
        if not args.json:
            where = f"Dask at {args.dask}" if args.dask else (
                f"{args.workers} workers" if args.workers is not None else "all cores")
            sys.stderr.write(f"sweep: {n} runs on {where} -> {spec.out}\n")
        todo = n - (len(finished_names(spec.out)) if args.resume else 0)
        cb, state = _progress_cb("sweep", not args.json or args.progress, todo)
        result = run_sweep(spec, progress=cb, resume=bool(args.resume))
    except (ConfigError, SweepError) as e:
        raise CliError(str(e)) from None
    if state["p"] is not None:
        state["p"].close()
    resumed = sum(1 for r in result.done if r.resumed)
    if args.json:
        print_json({"out": str(result.out), "columns": result.columns,
                    "runs": len(result.runs), "finished": len(result.done),
                    "resumed": resumed, "failed": len(result.failed),
                    "cancelled": result.cancelled, "rows": result.rows()})
    else:
        _print_table(result)
        print(f"{len(result.done)} of {len(result.runs)} runs finished"
              + (f" ({resumed} from before)" if resumed else "")
              + (f", {len(result.failed)} failed" if result.failed else "")
              + f"; summary in {result.out / 'summary.csv'}")
    if result.cancelled:
        sys.stderr.write(f"\ncancelled: finished runs are kept in {result.out}; resume with: "
                         f"{result.resume_hint()}\n")
        return 130
    return 0


def _common(p, steps=True) -> None:
    p.add_argument("--workers", type=int, help="local worker processes (default: the "
                   "core count; 0 or 1 runs in this process)")
    p.add_argument("--dask", metavar="ADDRESS", help="run on this Dask scheduler "
                   "(tcp://host:port; needs the sweep extra)")
    if steps:
        p.add_argument("--steps", type=int, help="steps per run (default: the epochs)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--progress", action="store_true", help="progress on stderr with --json")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "sweep", help="train a config over a grid of values, in parallel",
        description="Train CONFIG over the cross product of --grid axes and seeds on a "
                    "local process pool (or a Dask cluster); writes one session per run "
                    "and summary.csv to --out.")
    p.add_argument("config", nargs="?", help="run configuration (JSON)")
    p.add_argument("--grid", action="append", metavar="KEY=V1,V2",
                   help="a swept config key by its dotted path and its values (JSON or "
                        "text); repeat for more axes")
    p.add_argument("--seeds", type=int, default=1, help="seeds per grid point (default 1)")
    p.add_argument("--out", help="output directory (default ./sweep-<timestamp>/)")
    p.add_argument("--resume", metavar="DIR", help="finish the sweep in DIR, skipping "
                   "finished runs")
    p.add_argument("--no-sessions", action="store_true", help="do not record sessions")
    _common(p)
    p.set_defaults(func=cmd_sweep)
    from . import experiment_commands
    experiment_commands.register(subparsers)
