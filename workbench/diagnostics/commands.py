"""Command line: ``check CONFIG.json`` and ``diagnose CONFIG.json|RUN.wbsession``."""
from __future__ import annotations

import sys
from pathlib import Path


def register(sub) -> None:
    c = sub.add_parser("check", help="sanity checks of a config before training")
    c.add_argument("config", help="run configuration (JSON)")
    c.add_argument("--json", action="store_true", help="print one JSON object")
    c.set_defaults(func=cmd_check)
    d = sub.add_parser("diagnose", help="train headless and report the findings")
    d.add_argument("source", help="run configuration (JSON) or a session (.wbsession)")
    d.add_argument("--json", action="store_true", help="print one JSON object")
    d.add_argument("--steps", type=int, help="train this many steps (default: the epochs)")
    d.set_defaults(func=cmd_diagnose)


def cmd_check(args) -> int:
    from ..cli import CliError, load_config_arg, print_json
    from ..config import ConfigError
    from ..data import DataError
    from .checks import run_checks
    cfg = load_config_arg(args.config)
    try:
        checks = run_checks(cfg)
    except (ConfigError, DataError) as e:
        raise CliError(str(e)) from None
    failed = [c for c in checks if not c.passed and not c.informational]
    if args.json:
        print_json({"passed": not failed, "checks": [c.to_dict() for c in checks]})
    else:
        for c in checks:
            mark = "info" if c.informational else ("ok  " if c.passed else "FAIL")
            print(f"[{mark}] {c.name:14s} {c.message}")
        print("all checks passed" if not failed else
              f"{len(failed)} check(s) failed: " + ", ".join(c.name for c in failed))
    return 1 if failed else 0


def _findings_of_session(path: str) -> list:
    """The findings recorded in a session, read by workbench.session (written in
    parallel: without it, a one-line error instead of a traceback)."""
    import importlib
    from ..cli import CliError
    fn = None
    for mod, name in (("workbench.session.commands", "findings_of"),
                      ("workbench.session", "diagnose_session")):
        try:
            fn = getattr(importlib.import_module(mod), name, None)
        except ImportError:
            fn = None
        if fn is not None:
            break
    if fn is None:
        raise CliError(f"cannot diagnose {path}: reading sessions is not available in "
                       "this build (no workbench.session.commands.findings_of)")
    try:
        return fn(path)
    except (OSError, ValueError) as e:
        raise CliError(f"cannot read {path}: {e}") from None


def cmd_diagnose(args) -> int:
    from ..cli import CliError, load_config_arg, print_json, train_headless
    from ..config import ConfigError
    if args.steps is not None and args.steps < 0:
        raise CliError(f"--steps {args.steps} is not allowed: a number >= 0")
    if args.source.endswith(".wbsession"):
        if not Path(args.source).exists():
            raise CliError(f"no such session file: {args.source}")
        found = _findings_of_session(args.source)
        findings = [f if isinstance(f, dict) else f.to_dict() for f in found]
        summary = {"session": args.source}
    else:
        cfg = load_config_arg(args.source)
        try:
            run = train_headless(cfg, args.steps, quiet=args.json, label="diagnosing")
        except ConfigError as e:
            raise CliError(str(e)) from None
        findings = [f.to_dict() for f in run.findings()]
        summary = run.summary()
        if run.nonfinite is not None:
            from .provenance import nan_provenance
            p = nan_provenance(run)
            summary["nan_provenance"] = p.to_dict() if p else None
    if args.json:
        print_json({"findings": findings, **summary})
        return 0
    if not findings:
        print("no findings: the run looks healthy")
    order = {"error": 0, "warning": 1, "info": 2}
    for f in sorted(findings, key=lambda f: (order[f["severity"]], f["step"])):
        res = "" if f["resolved_step"] is None else f", resolved at {f['resolved_step']}"
        print(f"[{f['severity']}] {f['code']} (step {f['step']}{res})")
        print(f"    {f['message']}")
        print(f"    {f['question']} -> {f['remedy']}")
    if summary.get("nan_provenance"):
        print("first non-finite value: " + summary["nan_provenance"]["message"])
    sys.stdout.flush()
    return 0
