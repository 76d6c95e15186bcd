"""The panels the window shows, discovered from their modules.

Each panel module is imported on its own and skipped when it is missing or does not
import yet (the panels are written in parallel), so the window works with whatever
panels exist. The order of :data:`PANEL_SPECS` is the order of the docks and of the
View menu.
"""
from __future__ import annotations

import importlib
import logging

from .base import Panel

log = logging.getLogger(__name__)

#: (module under workbench.ui.panels, class names to take from it, in order).
PANEL_SPECS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("decision", ("DecisionPanel",)),
    ("network_graph", ("NetworkGraphPanel",)),
    ("curves", ("LossPanel", "AccuracyPanel", "GradientsPanel", "UpdateRatioPanel",
                "ActivationsPanel")),
    ("histograms", ("WeightHistogramPanel", "GradientHistogramPanel", "HistogramPanel")),
    ("backprop", ("BackpropPanel",)),
    ("diagnostics_panel", ("DiagnosticsPanel",)),
)

#: Problems met while importing panel modules (module -> one-line reason), for About.
IMPORT_PROBLEMS: dict[str, str] = {}


def _discover() -> list[type[Panel]]:
    classes: list[type[Panel]] = []
    for mod_name, names in PANEL_SPECS:
        try:
            mod = importlib.import_module(f"{__package__}.{mod_name}")
        except ImportError as e:
            IMPORT_PROBLEMS[mod_name] = f"{type(e).__name__}: {e}"
            continue
        # the named classes first, in this order, then any other public Panel subclass
        # the module defines (a panel added there shows up without editing this list)
        own = [v for v in vars(mod).values() if isinstance(v, type) and issubclass(v, Panel)
               and v.__module__ == mod.__name__ and not v.__name__.startswith("_")
               and "object_name" in vars(v)]
        found = [getattr(mod, n) for n in names if getattr(mod, n, None) in own]
        found += [v for v in own if v not in found]
        for cls in found:
            if issubclass(cls, Panel) and cls not in classes:
                classes.append(cls)
    names = [c.object_name for c in classes]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        log.warning("panels share object names %s; later ones dropped", sorted(dup))
        seen: set[str] = set()
        classes = [c for c in classes if not (c.object_name in seen or seen.add(c.object_name))]
    return classes


PANEL_CLASSES: list[type[Panel]] = _discover()
