"""Session commands: ``info``, ``verify`` and ``export`` (and :func:`findings_of` for
``diagnose RUN.wbsession``)."""
from __future__ import annotations

import sys
from pathlib import Path

from ..cli import CliError, Progress, print_json
from .format import CONTENT_ERRORS, SessionError, damaged
from .reader import SessionReader


def findings_of(path) -> list[dict]:
    """The findings recorded in a session (as ``Finding.to_dict()`` dicts).

    Raises CliError (one line) when the file cannot be read.
    """
    try:
        with SessionReader(path) as r:
            return [dict(f) for f in r.findings()]
    except SessionError as e:
        raise CliError(str(e)) from None
    except CONTENT_ERRORS as e:
        raise CliError(str(damaged(path, e))) from None


def session_info(path) -> dict:
    """Config, steps, events, findings, size and format of a session, as a JSON-able dict."""
    with SessionReader(path) as r:
        ev = r.evaluation_rows()
        snaps = r.snapshots()
        return {
            "path": str(r.path), "format": r.version, "app_version": r.app_version,
            "created": r.meta.get("created"), "closed": r.closed, "origin": r.origin,
            "parent": r.parent, "fork_step": r.fork_step, "size_bytes": r.size,
            "first_step": r.first_step, "steps": r.last_step, "epochs_done": (
                int(snaps[-1].step // max(1, _steps_per_epoch(r))) if snaps else 0),
            "nonfinite_step": r.nonfinite_step(), "snapshots": len(snaps),
            "evaluations": len(ev), "last_evaluation": ev[-1] if ev else None,
            "events": r.events(), "findings": r.findings(), "config": r.config.to_dict(),
        }


def _steps_per_epoch(r: SessionReader) -> int:
    n = int(r.meta.get("n_train") or 1)
    b = int(r.config.training["batch_size"])
    return -(-n // b)


def cmd_info(args) -> int:
    try:
        info = session_info(args.session)
        if args.json:
            print_json(info)
        else:
            _print_info(info)
    except SessionError as e:
        raise CliError(str(e)) from None
    except CONTENT_ERRORS as e:       # (records of the wrong shape show when printed)
        raise CliError(str(damaged(args.session, e))) from None
    return 0


def _print_info(info: dict) -> None:
    c = info["config"]
    print(f"{info['path']}  ({info['size_bytes'] / 1e6:.2f} MB, session format "
          f"{info['format']}, workbench {info['app_version']})")
    state = "complete" if info["closed"] else "not closed (still recording, or killed)"
    print(f"steps {info['first_step']}..{info['steps']}  {state}  "
          f"{info['snapshots']} snapshots  {info['evaluations']} evaluations")
    if info["parent"]:
        print(f"forked from {info['parent']} at step {info['fork_step']}")
    print(f"data {c['data']['name']}  model {c['model']['hidden']} -> {c['model']['output']} "
          f"({c['model']['loss']})  optimizer {c['optimizer']['name']} lr "
          f"{c['optimizer']['lr']}  batch {c['training']['batch_size']}")
    last = info["last_evaluation"]
    if last:
        def f(v):
            return "-" if v is None else f"{v:.4f}"
        print(f"last evaluation (step {last['step']}): train loss {f(last.get('train_loss'))}"
              f"  test loss {f(last.get('test_loss'))}  train acc {f(last.get('train_acc'))}"
              f"  test acc {f(last.get('test_acc'))}")
    if info["nonfinite_step"] is not None:
        print(f"non-finite value at step {info['nonfinite_step']}")
    print(f"events: {len(info['events'])}")
    for e in info["events"]:
        print(f"  step {e['step']}: {e['kind']} {e['payload']}")
    print(f"findings: {len(info['findings'])}")
    for fd in info["findings"]:
        print(f"  [{fd.get('severity')}] {fd.get('code')} (step {fd.get('step')}): "
              f"{fd.get('message')}")


def cmd_verify(args) -> int:
    from .rerun import verify
    prog = Progress(1, "verifying", enabled=not args.json)
    try:
        res = verify(args.session, progress=lambda d, t: (setattr(prog, "total", max(1, t)),
                                                         prog.update(d)))
    except SessionError as e:
        raise CliError(str(e)) from None
    except CONTENT_ERRORS as e:
        raise CliError(str(damaged(args.session, e))) from None
    prog.close()
    if args.json:
        print_json(res.to_dict())
    else:
        print(res.message)
    return 0 if res.ok else 1


def _check_output(flag: str, out, session) -> None:
    """Refuse an output file that is the exported session or another recorded session
    (``export S --html S`` wrote the report over the session it read)."""
    from .format import is_session_file
    if not out:
        return
    p = Path(out)
    if p.exists() and Path(session).exists() and p.resolve() == Path(session).resolve():
        raise CliError(f"{flag} {out} is the session being exported; choose another file")
    if p.is_file() and is_session_file(p):
        raise CliError(f"{flag} {out} holds a recorded session; not overwritten")


def cmd_export(args) -> int:
    from .report import export_csv, html_report
    from .weights import export_weights
    if not (args.csv or args.weights or args.html):
        raise CliError("export needs at least one of --csv DIR, --weights FILE.npz|FILE.json,"
                       " --html FILE.html")
    written = []
    for flag, out in (("--weights", args.weights), ("--html", args.html)):
        _check_output(flag, out, args.session)
    try:
        SessionReader(args.session).close()   # refuse a bad file before writing anything
        if args.csv:
            written += [str(p) for p in export_csv(args.session, args.csv)]
        if args.weights:
            if Path(args.weights).suffix.lower() not in (".npz", ".json"):
                raise CliError(f"--weights {args.weights}: use a .npz or .json file name")
            written.append(str(export_weights(args.session, args.weights, args.step)))
        if args.html:
            written.append(str(html_report(args.session, args.html)))
    except SessionError as e:
        raise CliError(str(e)) from None
    except OSError as e:
        raise CliError(f"cannot write: {e}") from None
    except CONTENT_ERRORS as e:
        raise CliError(str(damaged(args.session, e))) from None
    if args.json:
        print_json({"written": written})
    else:
        for w in written:
            print(f"wrote {w}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("info", help="show a recorded session: config, steps, events, findings")
    p.add_argument("session", help="RUN.wbsession")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_info)
    p = sub.add_parser("verify", help="re-run a session and compare every snapshot bit for "
                                      "bit (exit 1 when they differ)")
    p.add_argument("session", help="RUN.wbsession")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_verify)
    p = sub.add_parser("export", help="export a session: metrics CSV, weights, HTML report")
    p.add_argument("session", help="RUN.wbsession")
    p.add_argument("--csv", metavar="DIR", help="write metrics.csv, evaluations.csv, "
                                                "events.csv into DIR")
    p.add_argument("--weights", metavar="FILE", help="write the weights (.npz or .json)")
    p.add_argument("--step", type=int, help="weights at this step (default: the last)")
    p.add_argument("--html", metavar="FILE", help="write a self-contained HTML report")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_export)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: python main.py info|verify|export RUN.wbsession")
