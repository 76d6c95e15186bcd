"""The QApplication, pyqtgraph defaults and the light/dark/system theme."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
THEMES = ("system", "light", "dark")
APP_NAME = "Neural-net workbench"
ORG_NAME = "workbench"

#: Plot colours per theme (background, foreground): pyqtgraph draws its own canvas.
PLOT_COLORS = {"light": ("w", "#303030"), "dark": ("#1e1f22", "#d0d0d0")}


def ensure_app(argv: list[str] | None = None, offscreen: bool = False) -> QtWidgets.QApplication:
    """Return the running QApplication, creating it (and setting pyqtgraph's options)."""
    app = QtWidgets.QApplication.instance()
    if app is None:
        if offscreen:
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
        app = QtWidgets.QApplication(argv if argv is not None else sys.argv[:1])
        app.setApplicationName(APP_NAME)
        app.setOrganizationName(ORG_NAME)
    import pyqtgraph as pg
    pg.setConfigOptions(antialias=True, imageAxisOrder="row-major")
    # The training thread needs the GIL only briefly between kernel calls; with Python's
    # default 5 ms switch interval it waited up to 5 ms per hand-over behind painting
    # (bench_ui, W2: live steps/s 4.0k at 5 ms, 4.3k at 0.5 ms, 5.2k at 0.1 ms).
    sys.setswitchinterval(0.0001)
    from ..core.threads import one_blas_thread
    one_blas_thread()
    return app  # type: ignore[return-value]


def effective_theme(theme: str) -> str:
    """``light`` or ``dark``: ``system`` follows the platform's colour scheme."""
    if theme in ("light", "dark"):
        return theme
    hints = QtGui.QGuiApplication.styleHints()
    scheme = hints.colorScheme() if hints is not None else QtCore.Qt.ColorScheme.Unknown
    return "dark" if scheme == QtCore.Qt.ColorScheme.Dark else "light"


def _dark_palette() -> QtGui.QPalette:
    p = QtGui.QPalette()
    C = QtGui.QColor
    R = QtGui.QPalette.ColorRole
    for role, col in ((R.Window, "#2b2d30"), (R.WindowText, "#dfe1e5"), (R.Base, "#1e1f22"),
                      (R.AlternateBase, "#2b2d30"), (R.ToolTipBase, "#3c3f41"),
                      (R.ToolTipText, "#dfe1e5"), (R.Text, "#dfe1e5"), (R.Button, "#3c3f41"),
                      (R.ButtonText, "#dfe1e5"), (R.BrightText, "#ff6b6b"),
                      (R.Highlight, "#2f65ca"), (R.HighlightedText, "#ffffff"),
                      (R.Link, "#6fa8ff"), (R.PlaceholderText, "#8c8f94")):
        p.setColor(role, C(col))
    p.setColor(QtGui.QPalette.ColorGroup.Disabled, R.Text, C("#6f737a"))
    p.setColor(QtGui.QPalette.ColorGroup.Disabled, R.ButtonText, C("#6f737a"))
    return p


def apply_theme(theme: str, root: QtWidgets.QWidget | None = None) -> str:
    """Apply ``light``, ``dark`` or ``system`` to the application; return light or dark.

    Sets the Fusion style, its palette, the stylesheet from ``resources/style.qss``
    (with ``@dark@``-only rules kept for the dark theme) and the background of every
    pyqtgraph view under ``root``.
    """
    import pyqtgraph as pg
    app = QtWidgets.QApplication.instance()
    eff = effective_theme(theme)
    app.setStyle("Fusion")
    app.setPalette(_dark_palette() if eff == "dark" else app.style().standardPalette())
    qss = RESOURCES / "style.qss"
    text = qss.read_text() if qss.exists() else ""
    app.setStyleSheet(_select_rules(text, eff))
    bg, fg = PLOT_COLORS[eff]
    pg.setConfigOptions(background=bg, foreground=fg)
    if root is not None:
        recolor_canvases(root, bg, fg)
    return eff


def recolor_canvases(root: QtWidgets.QWidget, bg, fg=None) -> None:
    """The background of every pyqtgraph view under ``root``, and of the text items on a
    patch of it (marked ``canvas_fill``); with ``fg``, also the axes, the legends' text
    and the plot titles. A theme changed while the window was open had left the axes'
    numbers and labels in the old theme's colour (dark grey on the dark background) and
    the loss legend on a light patch."""
    import pyqtgraph as pg
    for view in root.findChildren(pg.GraphicsView):
        view.setBackground(bg)
        for item in view.scene().items():
            if isinstance(item, pg.LegendItem):
                if fg is not None:
                    item.setLabelTextColor(fg)
                    for _sample, label in item.items:
                        label.setText(label.text)    # setAttr alone does not redraw
                if getattr(item, "canvas_fill", False):
                    patch = pg.mkColor(bg)
                    patch.setAlpha(190)
                    item.setBrush(patch)
            elif getattr(item, "canvas_fill", False):
                item.fill = pg.mkBrush(bg)
                item.update()
            elif fg is not None and isinstance(item, pg.AxisItem):
                item.setPen(fg)
                item.setTextPen(fg)
            elif fg is not None and isinstance(item, pg.LabelItem) and \
                    item.opts.get("color") is None and not isinstance(
                        item.parentItem(), pg.LegendItem):
                item.setText(item.text)              # drawn again in the new foreground


def _select_rules(text: str, theme: str) -> str:
    """Keep the common part of the stylesheet and the block marked for ``theme``.

    Blocks are delimited by lines ``/* @light */`` or ``/* @dark */`` up to
    ``/* @end */``.
    """
    out, keep = [], True
    for line in text.splitlines():
        s = line.strip()
        if s in ("/* @light */", "/* @dark */"):
            keep = s == f"/* @{theme} */"
            continue
        if s == "/* @end */":
            keep = True
            continue
        if keep:
            out.append(line)
    return "\n".join(out)
