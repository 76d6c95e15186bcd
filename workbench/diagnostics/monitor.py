"""Placeholder monitor: replaced by the diagnostics rules."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Finding:
    code: str
    severity: str
    step: int
    message: str
    evidence: dict = field(default_factory=dict)
    remedy: str = ""
    patch: dict | None = None
    question: str = ""
    source: str = ""
    resolved_step: int | None = None

    def to_dict(self) -> dict:
        return {"code": self.code, "severity": self.severity, "step": self.step,
                "resolved_step": self.resolved_step, "message": self.message,
                "evidence": self.evidence, "remedy": self.remedy, "patch": self.patch,
                "question": self.question, "source": self.source}


class Monitor:
    """Listens to a run (on_chunk, on_evaluation, on_event) and keeps its findings."""

    def __init__(self, run):
        self._findings: list[Finding] = []

    def findings(self) -> list[Finding]:
        return list(self._findings)

    def finalize(self, run) -> None:
        pass
