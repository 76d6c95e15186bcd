"""Loss landscape: the exact loss surface of a two-parameter model as a heat map with
contours, and optimizer paths drawn on it (live for a run whose model has exactly two
parameters; from :func:`workbench.experiments.landscape.landscape` otherwise), or a 2-D
slice of a larger net with its projected path.

The surface is the log10 of the loss (a landscape spans decades), coloured with a
perceptually uniform map; contours at evenly spaced log levels. Each path is a line with
its start (circle) and its end (square); the normal-equation optimum is a star.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ..context import MULTI_COLORS, RunContext
from .base import Panel

N_CONTOURS = 12
PATH_COLORS = ("#ffffff", "#f59322", "#0877bd", "#2ca02c", "#d62728", "#9467bd")
LIVE_GRID = 81


def _log_surface(loss: np.ndarray) -> np.ndarray:
    finite = loss[np.isfinite(loss)]
    floor = max(float(finite.min()) if finite.size else 1e-12, 1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log10(np.maximum(np.where(np.isfinite(loss), loss, finite.max()
                                           if finite.size else 1.0), floor * 1e-3))
    return out


class LandscapeView(QtWidgets.QWidget):
    """A heat map of a loss surface with contours, paths and marks (GUI thread only)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        self.verdict = QtWidgets.QLabel("")
        self.verdict.setWordWrap(True)
        self.glw = pg.GraphicsLayoutWidget()
        lay.addWidget(self.glw, 1)
        lay.addWidget(self.verdict)
        self.plot: pg.PlotItem = self.glw.addPlot()
        self.plot.setAspectLocked(False)
        self.plot.showGrid(x=False, y=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.cmap = pg.colormap.get("viridis")
        self.image.setColorMap(self.cmap)
        self.bar = pg.ColorBarItem(colorMap=self.cmap, label="log10 loss", interactive=False)
        self.bar.setImageItem(self.image, insert_in=self.plot)
        self.legend = self.plot.addLegend(offset=(-5, 5), brush=(0, 0, 0, 150),
                                          labelTextColor="w")
        self._contours: list[pg.IsocurveItem] = []
        self.paths: dict[str, pg.PlotDataItem] = {}
        self._marks: list[pg.GraphicsObject] = []
        self.extent = None

    # --- surface -------------------------------------------------------------------------
    def set_surface(self, a1: np.ndarray, a2: np.ndarray, loss: np.ndarray,
                    names=("p1", "p2")) -> None:
        """Show ``loss[j, i]`` at ``(a1[i], a2[j])`` (regular grids)."""
        z = _log_surface(np.asarray(loss, dtype=np.float64))
        self.surface = z
        self.image.setImage(z, autoLevels=False)
        lo, hi = float(np.min(z)), float(np.max(z))
        self.image.setLevels((lo, hi))
        self.bar.setLevels((lo, hi))
        x0, x1, y0, y1 = float(a1[0]), float(a1[-1]), float(a2[0]), float(a2[-1])
        dx = (x1 - x0) / max(1, len(a1) - 1)
        dy = (y1 - y0) / max(1, len(a2) - 1)
        rect = QtCore.QRectF(x0 - dx / 2, y0 - dy / 2, x1 - x0 + dx, y1 - y0 + dy)
        self.image.setRect(rect)
        self.extent = rect
        for c in self._contours:  # children of the image, not of the plot
            c.setParentItem(None)
            if c.scene() is not None:
                c.scene().removeItem(c)
        self._contours = []
        for level in np.linspace(lo, hi, N_CONTOURS + 2)[1:-1]:
            iso = pg.IsocurveItem(data=z.T, level=float(level),
                                  pen=pg.mkPen((255, 255, 255, 110), width=1))
            iso.setParentItem(self.image)
            self._contours.append(iso)
        self.plot.setLabel("bottom", names[0])
        self.plot.setLabel("left", names[1])
        self.plot.setRange(rect, padding=0)

    # --- paths and marks ---------------------------------------------------------------
    def set_path(self, label: str, path: np.ndarray, color: str | None = None) -> None:
        """Draw (or update in place) a path of points (m, 2)."""
        path = np.asarray(path, dtype=np.float64)
        item = self.paths.get(label)
        if item is None:
            color = color or PATH_COLORS[len(self.paths) % len(PATH_COLORS)]
            item = self.plot.plot([], [], pen=pg.mkPen(color, width=2), name=label,
                                  symbol=None)
            item.start = pg.ScatterPlotItem(size=9, symbol="o", brush=color,
                                            pen=pg.mkPen("k"))
            item.end = pg.ScatterPlotItem(size=9, symbol="s", brush=color,
                                          pen=pg.mkPen("k"))
            self.plot.addItem(item.start)
            self.plot.addItem(item.end)
            self.paths[label] = item
        item.setData(path[:, 0], path[:, 1])
        if len(path):
            item.start.setData([path[0, 0]], [path[0, 1]])
            item.end.setData([path[-1, 0]], [path[-1, 1]])

    def path_data(self, label: str) -> np.ndarray:
        """The points drawn for ``label`` (m, 2)."""
        x, y = self.paths[label].getData()
        return np.column_stack([x, y])

    def clear_paths(self) -> None:
        """Remove every path and mark."""
        for item in self.paths.values():
            self.plot.removeItem(item.start)
            self.plot.removeItem(item.end)
            self.plot.removeItem(item)
        for m in self._marks:
            self.plot.removeItem(m)
        self._marks = []
        self.paths = {}
        self.legend.clear()

    def mark(self, point, label: str, symbol: str = "star", color: str = "#ff4040") -> None:
        s = pg.ScatterPlotItem([point[0]], [point[1]], size=16, symbol=symbol,
                               brush=color, pen=pg.mkPen("k"), name=label)
        self.plot.addItem(s)
        self._marks.append(s)

    # --- experiment results -----------------------------------------------------------
    def show_landscape(self, res) -> None:
        """Show a :class:`workbench.experiments.landscape.LandscapeResult`."""
        self.clear_paths()
        self.set_surface(res.a1, res.a2, res.loss, res.model.names)
        for label, p in res.paths.items():
            self.set_path(label, p)
        if res.optimum is not None:
            self.mark(res.optimum, "normal equations")
        self.plot.setTitle(res.model.title)
        self.verdict.setText(res.verdict)

    def show_slice(self, s, title: str = "2-D slice along random layer-normalized "
                   "directions") -> None:
        """Show a :class:`workbench.experiments.landscape.SliceResult`."""
        self.clear_paths()
        self.set_surface(s.a1, s.a2, s.loss, ("direction 1", "direction 2"))
        if s.path is not None:
            self.set_path("path (projected)", s.path)
        self.mark((0.0, 0.0), "current parameters", symbol="+", color="#ffffff")
        self.plot.setTitle(title)
        c = s.loss.shape[0] // 2
        text = f"loss at the current parameters {s.loss[c, c]:.4g}"
        if s.path is not None and s.off_plane is not None and len(s.off_plane) > 1:
            text += (f"; path of {len(s.path)} points projected on the plane (on average "
                     f"{100 * float(np.mean(s.off_plane[:-1])):.0f} % of each offset lies "
                     "off the plane)")
        self.verdict.setText(text)


class LandscapePanel(Panel):
    """The live landscape of a run whose model has exactly two parameters (1-D linear or
    logistic regression, a single unit on 1-D data): the surface around the start and
    the path of every step shown so far."""
    object_name: ClassVar[str] = "landscape"
    title: ClassVar[str] = "Loss landscape"
    help_text: ClassVar[str] = ("The loss over the model's two parameters, with the "
                                "path the optimizer takes on it.")
    area: ClassVar[str] = "right"

    def __init__(self, bus, parent=None):
        super().__init__(bus, parent)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.view = LandscapeView()
        self.note = QtWidgets.QLabel("")
        lay.addWidget(self.view, 1)
        lay.addWidget(self.note)
        self._path: list[np.ndarray] = []
        self._last_step = -1

    @staticmethod
    def applicable(ctx: RunContext) -> bool:
        return ctx.network.layout.n_params == 2

    def set_context(self, ctx: RunContext) -> None:
        super().set_context(ctx)
        self._path = []
        self._last_step = -1
        self.view.clear_paths()
        if not self.applicable(ctx):
            self.note.setText("The landscape is drawn for models with two parameters; "
                              "for larger nets use Experiments > Landscape slice.")
            return
        from ...experiments.landscape import batch_loss
        net = ctx.network
        X, y = ctx.dataset.X_train, ctx.dataset.y_train
        c = net.theta.astype(np.float64)
        span = max(2.0, 2.0 * float(np.abs(c).max()))
        a1 = np.linspace(c[0] - span, c[0] + span, LIVE_GRID)
        a2 = np.linspace(c[1] - span, c[1] + span, LIVE_GRID)
        P1, P2 = np.meshgrid(a1, a2, indexing="xy")
        reg = ctx.config.regularization
        L = batch_loss(net, np.column_stack([P1.ravel(), P2.ravel()]), X, net.targets(y),
                       reg["l1"], reg["l2"]).reshape(LIVE_GRID, LIVE_GRID)
        self.view.set_surface(a1, a2, L, ("w", "b"))
        self.note.setText("")

    def update_snapshot(self, snap) -> None:
        if self.ctx is None or not self.applicable(self.ctx) or snap.step == self._last_step:
            return
        self._last_step = snap.step
        self._path.append(np.asarray(snap.theta, dtype=np.float64)[:2].copy())
        self.view.set_path("path", np.array(self._path), MULTI_COLORS[0])

    def export_item(self):
        return self.view.plot
