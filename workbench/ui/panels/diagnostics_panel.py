"""The diagnostics dock: the findings of the run, their evidence and remedy."""
from __future__ import annotations

import html
import json

from PySide6 import QtCore, QtGui, QtWidgets

from ..context import SEVERITY_COLORS
from .base import Panel

SEVERITY_MARK = {"error": "\u2716", "warning": "!", "info": "i"}
WATCH_HINT = ("While the net trains, the rules watch the loss at initialization, dead and "
              "saturated units, vanishing and exploding gradients, the learning rate, "
              "NaN/Inf, plateaus, overfitting and underfitting, and the features. A finding "
              "appears in the list above as soon as one holds.")
SELECT_HINT = ("Select a finding to see the measurement behind it, the checklist question "
               "it answers and a remedy; its step is marked on the loss plot and its units "
               "are highlighted on the network graph.")


def _as_dict(f) -> dict:
    return f if isinstance(f, dict) else f.to_dict()


class DiagnosticsPanel(Panel):
    """Lists ``snap.findings`` (severity colour, step, message); selecting one shows its
    evidence and remedy, marks its step (``bus.step_marked``) and highlights its units
    (``bus.units_highlighted``); "Try the remedy" emits ``bus.remedy_requested``."""
    object_name = "diagnostics"
    title = "Diagnostics"
    help_text = ("What is wrong with this run, with the measurement behind each answer "
                 "and a remedy to try.")
    area = "right"

    def __init__(self, bus, parent=None):
        super().__init__(bus, parent)
        self._findings: list = []
        self._keys: list[tuple] = []
        self._seq = None
        self.list = QtWidgets.QListWidget(objectName="diagnostics_list")
        self.details = QtWidgets.QTextBrowser(objectName="diagnostics_details")
        self._show_hint(WATCH_HINT)
        self.remedy_button = QtWidgets.QPushButton("Try the remedy",
                                                   objectName="diagnostics_remedy")
        self.remedy_button.setToolTip("Start a second run from the same config (same seed, "
                                      "same data) with this remedy applied")
        self.remedy_button.setEnabled(False)
        self.empty = QtWidgets.QLabel("No findings yet: the run looks healthy.")
        split = QtWidgets.QSplitter(QtCore.Qt.Vertical)
        split.addWidget(self.list)
        split.addWidget(self.details)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.empty)
        lay.addWidget(split, 1)
        lay.addWidget(self.remedy_button)
        self.list.currentRowChanged.connect(self._on_selection_changed)
        self.remedy_button.clicked.connect(self._on_remedy_clicked)

    # --- snapshots ------------------------------------------------------------------------
    def update_snapshot(self, snap) -> None:
        seq = getattr(snap, "seq", None)
        if seq is not None and seq == self._seq:
            return
        self._seq = seq
        findings = [_as_dict(f) for f in (getattr(snap, "findings", None) or [])]
        keys = [(f["code"], f["step"], f["resolved_step"]) for f in findings]
        if keys == self._keys:
            return
        self._update_list(findings, keys)

    def _update_list(self, findings: list[dict], keys: list[tuple]) -> None:
        current = self.list.currentRow()
        cur_key = self._keys[current][:2] if 0 <= current < len(self._keys) else None
        self._findings, self._keys = findings, keys
        self.list.blockSignals(True)
        self.list.clear()
        for f in findings:
            sev = f["severity"]
            res = "" if f["resolved_step"] is None else f"  (resolved #{f['resolved_step']})"
            item = QtWidgets.QListWidgetItem(
                f"{SEVERITY_MARK.get(sev, '?')} {f['code']}  #{f['step']}{res}")
            item.setForeground(QtGui.QColor(SEVERITY_COLORS.get(sev, "#888888")))
            item.setToolTip(f["message"])
            self.list.addItem(item)
        row = next((i for i, k in enumerate(keys) if k[:2] == cur_key), -1)
        self.list.setCurrentRow(row)
        self.list.blockSignals(False)
        self.empty.setVisible(not findings)
        if row < 0:
            self._show_hint(SELECT_HINT if findings else WATCH_HINT)
            self.remedy_button.setEnabled(False)

    def _show_hint(self, text: str) -> None:
        """What the details pane says while no finding is selected (grey; a placeholder
        would not wrap)."""
        self.details.setHtml(f"<p style='color:#888888'><i>{html.escape(text)}</i></p>")

    # --- selection -------------------------------------------------------------------------
    def selected(self) -> dict | None:
        row = self.list.currentRow()
        return self._findings[row] if 0 <= row < len(self._findings) else None

    def _on_selection_changed(self, row: int) -> None:
        f = self.selected()
        if f is None:
            return
        self.details.setHtml(self._details_html(f))
        self.remedy_button.setEnabled(bool(f.get("patch")))
        self.bus.step_marked.emit(int(f["step"]))
        ev = f.get("evidence") or {}
        units = [(int(l), int(j)) for l, j in ev.get("units", [])]
        if not units and ev.get("layers") and self.ctx is not None:
            sizes = self.ctx.network.layout.units          # the whole layer
            units = [(int(l), j) for l in ev["layers"] for j in range(int(sizes[l + 1]))]
        self.bus.units_highlighted.emit(units)

    def _on_remedy_clicked(self) -> None:
        f = self.selected()
        if f is not None and f.get("patch"):
            self.bus.remedy_requested.emit(f)

    @staticmethod
    def _details_html(f: dict) -> str:
        e = html.escape
        colour = SEVERITY_COLORS.get(f["severity"], "#888888")
        # a measurement the rule did not use (None) is left out, not shown as "None"
        ev = {k: v for k, v in (f.get("evidence") or {}).items()
              if k != "units" and v is not None}
        rows = "".join(f"<tr><td><i>{e(str(k))}</i></td><td>{e(_short(v))}</td></tr>"
                       for k, v in ev.items())
        res = ("" if f["resolved_step"] is None else
               f" &middot; resolved at step {f['resolved_step']}")
        patch = json.dumps(f["patch"]) if f.get("patch") else "none"
        return (f"<p><b style='color:{colour}'>{e(f['severity'])}</b> &middot; "
                f"<b>{e(f['code'])}</b> &middot; step {f['step']}{res}</p>"
                f"<p>{e(f['message'])}</p>"
                f"<p><b>{e(f.get('question', ''))}</b><br>{e(f.get('remedy', ''))}</p>"
                f"<table>{rows}</table>"
                f"<p><small>patch: {e(patch)}<br>source: {e(f.get('source', ''))}"
                f"</small></p>")


def _short(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)) and len(v) > 8:
        return ", ".join(_short(x) for x in v[:8]) + f", ... ({len(v)})"
    if isinstance(v, (list, tuple)):
        return ", ".join(_short(x) for x in v)
    return str(v)
