"""A training run and its background runner (no Qt)."""
from .run import Event, NonFinite, Run, output_units
from .runner import Runner, Snapshot

__all__ = ["Run", "Runner", "Snapshot", "Event", "NonFinite", "output_units"]
