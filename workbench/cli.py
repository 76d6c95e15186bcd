"""Command line: ``python main.py [COMMAND] ...`` (default: open the window).

Exit codes everywhere: 0 success, 1 a check that failed, 2 bad input (one line on
standard error naming the problem). With ``--json`` standard output is exactly one JSON
object; progress goes to standard error.

Each subpackage that owns commands exposes ``register(subparsers)``, adding its
subcommands with ``set_defaults(func=...)``; a handler takes the parsed arguments and
returns the exit code, raising :class:`CliError` for bad input.
"""
from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
import time

from .config import ConfigError, RunConfig, load_config
from .data import DataError

COMMAND_MODULES = ("workbench.ui.commands", "workbench.diagnostics.commands",
                   "workbench.session.commands", "workbench.experiments.commands")


class CliError(Exception):
    """Bad input: printed as one line, exit code 2."""


def jsonable(obj):
    """Replace non-finite floats by None so the output is strict JSON."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):
        return jsonable(obj.item())
    return obj


def print_json(obj) -> None:
    sys.stdout.write(json.dumps(jsonable(obj)) + "\n")


class Progress:
    """A one-line progress indicator on standard error, redrawn at most 10 times a second."""

    def __init__(self, total: int, label: str = "", enabled: bool = True):
        self.total = max(1, total)
        self.label = label
        self.enabled = enabled and sys.stderr.isatty() or enabled == "always"
        self._last = 0.0
        self._start = time.perf_counter()

    def update(self, done: int, extra: str = "", force: bool = False) -> None:
        now = time.perf_counter()
        if not self.enabled or (not force and now - self._last < 0.1):
            return
        self._last = now
        frac = min(1.0, done / self.total)
        bar = "#" * int(30 * frac) + "-" * (30 - int(30 * frac))
        el = now - self._start
        eta = el / frac - el if frac > 0 else 0.0
        sys.stderr.write(f"\r{self.label} [{bar}] {100 * frac:5.1f}% {done}/{self.total} "
                         f"ETA {eta:5.1f}s {extra}   ")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()


def load_config_arg(path: str | None):
    """The config a command names: a JSON file, ``-`` for standard input, or None for the
    defaults (the demo). Any problem is one CliError line."""
    try:
        if path == "-":
            if sys.stdin is None:
                raise CliError("no standard input to read the config from ('-')")
            if sys.stdin.isatty():
                sys.stderr.write("reading the run configuration (JSON) from standard input; "
                                 "end it with Ctrl-D\n")
            text = sys.stdin.read()
            if not text.strip():
                raise CliError("standard input ('-') held no config: give a JSON object, "
                               "e.g. {}")
            return RunConfig.from_json(text)
        return load_config(path)
    except ConfigError as e:
        raise CliError(str(e)) from None
    except UnicodeDecodeError as e:
        raise CliError(f"standard input ('-') is not UTF-8 text: {e.reason}") from None


COMPILE_NOTE_S = 2.0   # a kernel load longer than this was a compile: say so in logs


def load_kernels(run, quiet: bool = False) -> float:
    """Load (the first time: compile) the kernels ``run`` uses, saying so on standard
    error: on a terminal a line that the progress line then overwrites; elsewhere (a log)
    one line afterwards, and only when it took long, so that a warm start prints nothing
    and no message runs into the next output. Returns the seconds it took."""
    from .core import warmup
    tty = not quiet and sys.stderr.isatty()
    msg = "loading the training kernels (the first run compiles them: about a minute)..."
    if tty:
        sys.stderr.write(msg + "\r")
        sys.stderr.flush()
    tic = time.perf_counter()
    warmup(run.dtype)
    if run.monitor is not None:
        type(run.monitor).warmup()
    took = time.perf_counter() - tic
    if tty:
        sys.stderr.write("\r" + " " * len(msg) + "\r")
    elif not quiet and took > COMPILE_NOTE_S:
        sys.stderr.write(f"compiled the training kernels in {took:.0f} s (cached for "
                         "later runs)\n")
    sys.stderr.flush()
    return took


def train_headless(cfg, steps: int | None, out: str | None = None, quiet: bool = False,
                   label: str = "training", overwrite: bool = False):
    """Train a config headless with a progress line; return (run, seconds of compute)."""
    from .run import Run
    run = Run(cfg, session=out, overwrite_session=overwrite) if out else Run(cfg)
    load_kernels(run, quiet)
    total = steps if steps is not None else run.total_steps
    prog = Progress(total, label, enabled=not quiet)
    done = 0
    while done < total and run.nonfinite is None:
        if steps is None and run.finished:
            break
        n = run.run_steps(min(total - done, max(1, run.eval_every)))
        done += n
        last = run.history.steps()["loss"]
        prog.update(done, f"loss {last[-1]:.4g}" if len(last) else "")
        if n == 0:
            break
    prog.update(done, force=True)
    prog.close()
    run.finish()
    return run


def cmd_train(args) -> int:
    if args.out is not None and not args.out.strip():
        raise CliError("--out '' names no file: give a session file, e.g. run.wbsession")
    cfg = load_config_arg(args.config)
    if args.steps is not None and args.steps < 0:
        raise CliError(f"--steps {args.steps} is not allowed: a number >= 0")
    from .session import SessionError   # --out that cannot be written: one line, exit 2
    try:
        run = train_headless(cfg, args.steps, args.out, quiet=args.json and not args.progress,
                             overwrite=args.overwrite)
    except (ConfigError, SessionError) as e:
        raise CliError(str(e)) from None
    s = run.summary()
    s["steps_per_s"] = run.step / run.compute_seconds if run.compute_seconds > 0 else None
    s["findings"] = [f.to_dict() for f in run.findings()]
    if args.out:
        s["session"] = args.out
    if args.json:
        print_json(s)
    else:
        def f(v):
            return "-" if v is None else f"{v:.4f}"
        print(f"steps {s['step']}  epochs {s['epoch']}  "
              f"{s['steps_per_s'] or 0:,.0f} steps/s (compute, compilation excluded)")
        print(f"train loss {f(s['train_loss'])}  test loss {f(s['test_loss'])}")
        if s["train_accuracy"] is not None:
            print(f"train accuracy {f(s['train_accuracy'])}  "
                  f"test accuracy {f(s['test_accuracy'])}")
        if s["nonfinite"]:
            print(f"stopped at step {s['nonfinite']['step']}: non-finite "
                  + ", ".join(s["nonfinite"]["what"]))
        for fd in s["findings"]:
            print(f"[{fd['severity']}] {fd['code']} (step {fd['step']}): {fd['message']}")
        if args.out:
            print(f"session recorded to {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="workbench",
        description="Train small neural networks and debug them while they learn. "
                    "Without a command, opens the window.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    t = sub.add_parser("train", help="train a config headless and print a summary")
    t.add_argument("config", help="run configuration (JSON file; - reads standard input)")
    t.add_argument("--out", help="record the run to this session file (.wbsession); one "
                   "that exists is not replaced without --overwrite")
    t.add_argument("--overwrite", action="store_true",
                   help="replace the session file --out names (not one being recorded)")
    t.add_argument("--steps", type=int, help="train this many steps (default: the epochs)")
    t.add_argument("--json", action="store_true", help="print one JSON object")
    t.add_argument("--progress", action="store_true", help="progress on stderr with --json")
    t.set_defaults(func=cmd_train)
    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name and (e.name == name or name.startswith(e.name + ".")):
                continue
            raise
        mod.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    from .core.threads import one_blas_thread
    one_blas_thread()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        if "gui" in parser._subparsers._group_actions[0].choices:  # noqa: SLF001
            args = parser.parse_args(["gui"] + argv)
        else:
            args = parser.parse_args(["train", "--progress", "demo"] + argv)
            args.config = None       # the defaults: the demo
    try:
        return int(args.func(args) or 0)
    except (CliError, ConfigError, DataError) as e:
        sys.stderr.write(f"error: {e}\n")
        return 2
    except MemoryError:
        sys.stderr.write("error: not enough memory for this: fewer samples, noise features, "
                         "units or layers (or a smaller grid)\n")
        return 2
    except RecursionError:
        sys.stderr.write("error: the input is nested too deeply to read\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
