"""Rules over the metric history that answer the debugging checklist (numpy only)."""
from .monitor import Finding, Monitor

__all__ = ["Finding", "Monitor"]
