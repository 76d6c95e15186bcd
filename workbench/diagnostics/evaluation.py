"""Scoring the rules on a labelled corpus of scenarios.

A scenario is a JSON file ``{"config": {...}, "expect": [codes], "split": "tune" |
"test", "steps": optional, "why": "one sentence"}``. :func:`run_scenario` trains it
headless with diagnostics on and returns the codes found; :func:`score` computes per-code
recall and precision, the false-alarm rate on healthy runs (``expect == []``: no
warning or error at any time) and the median detection delay (the step at which each
expected finding first held).
"""
from __future__ import annotations

import json
import statistics
from pathlib import Path

from ..config import load_config
from .rules import RULES

CODES = tuple(RULES)


def load_scenarios(folder: str | Path) -> list[dict]:
    """Read every ``*.json`` scenario of a folder (sorted by name), adding ``name``."""
    out = []
    for p in sorted(Path(folder).glob("*.json")):
        d = json.loads(p.read_text())
        d["name"] = p.stem
        out.append(d)
    return out


def run_scenario(sc: dict) -> dict:
    """Train one scenario to its end (its epochs, or ``steps``) and report the findings.

    Returns ``{"name", "split", "expect", "found": {code: first step}, "severity":
    {code: severity}, "steps"}``.
    """
    from ..run import Run
    run = Run(load_config(sc["config"]))
    total = int(sc.get("steps") or run.total_steps)
    done = 0
    while done < total and run.nonfinite is None:
        n = run.run_steps(min(total - done, max(1, run.eval_every)))
        done += n
        if n == 0:
            break
    run.finish()
    found, sev = {}, {}
    for f in run.findings():
        if f.code not in found:
            found[f.code] = f.step
            sev[f.code] = f.severity
    return {"name": sc["name"], "split": sc["split"], "expect": list(sc["expect"]),
            "found": found, "severity": sev, "steps": run.step}


def score(results: list[dict]) -> dict:
    """Per-code recall / precision, overall precision, healthy false-alarm rate, delays."""
    per = {}
    tp_all = fp_all = 0
    for code in CODES:
        tp = sum(1 for r in results if code in r["expect"] and code in r["found"])
        fn = sum(1 for r in results if code in r["expect"] and code not in r["found"])
        fp = sum(1 for r in results if code not in r["expect"] and code in r["found"])
        delays = [r["found"][code] for r in results
                  if code in r["expect"] and code in r["found"]]
        per[code] = {"support": tp + fn, "tp": tp, "fn": fn, "fp": fp,
                     "recall": tp / (tp + fn) if tp + fn else None,
                     "precision": tp / (tp + fp) if tp + fp else None,
                     "median_delay_steps": statistics.median(delays) if delays else None}
        tp_all += tp
        fp_all += fp
    healthy = [r for r in results if not r["expect"]]
    alarms = [r["name"] for r in healthy
              if any(s in ("warning", "error") for s in r["severity"].values())]
    all_delays = [r["found"][c] for r in results for c in r["expect"] if c in r["found"]]
    return {"n_scenarios": len(results), "per_code": per,
            "precision": tp_all / (tp_all + fp_all) if tp_all + fp_all else None,
            "recall": tp_all / max(1, sum(len(r["expect"]) for r in results)),
            "healthy": len(healthy), "healthy_with_warning": alarms,
            "false_alarm_rate": len(alarms) / len(healthy) if healthy else None,
            "median_delay_steps": statistics.median(all_delays) if all_delays else None,
            "mismatches": [{"name": r["name"], "missed": sorted(set(r["expect"]) -
                                                                set(r["found"])),
                            "extra": sorted(set(r["found"]) - set(r["expect"]))}
                           for r in results if set(r["expect"]) != set(r["found"])]}
