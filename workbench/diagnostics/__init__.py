"""Rules over the metric history that answer the debugging checklist (numpy only).

``Monitor`` watches a run and keeps its ``Finding`` list (rules in :mod:`.rules`);
:func:`run_checks` are the sanity checks before training; :func:`nan_provenance` names
what went non-finite first.
"""
from .checks import Check, run_checks
from .monitor import Finding, Monitor
from .provenance import Provenance, nan_provenance

__all__ = ["Check", "Finding", "Monitor", "Provenance", "nan_provenance", "run_checks"]
