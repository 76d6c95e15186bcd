"""Decision regions: what the model outputs over its input space, with the data.

One panel, several *modes* chosen from the dataset (a registry, see :data:`MODES`):

- 2-D classification: the class-1 probability over the input plane as a heat map
  (orange-white-blue, fixed levels 0..1), argmax colours for more classes; train points
  filled, test points hollow; logic gates add the four corners and, for a perceptron,
  its decision line ``w1 x1 + w2 x2 + b = 0``. Click adds a point, shift-click removes.
- 1-D regression: the fitted curve with the data.
- 2-D regression: the fitted surface as a heat map, points coloured by their target.
- other classification (digits, CSV): a test-set confusion matrix, and for the 8x8
  digits a strip of misclassified images.
- other regression (CSV): predicted against true values.

The heavy part (the model over a grid, the confusion matrix) is computed on the worker
(:meth:`DecisionPanel.worker_views`); the GUI only calls ``setImage``/``setData``.
"""
from __future__ import annotations

from typing import Any, Callable, ClassVar

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ...config import GATES
from ..context import CLASS_COLORS, MULTI_COLORS, RunContext
from .base import ElidedLabel, Panel, clear_layout

GRID_N = 100            # decision map cells per side (issue: >= 100 x 100 at >= 10 Hz)
MAP_SLACK = 1.4         # first map's side / the longer side of the data view: fills
                        # panels up to 1.4 times wider than tall before the grid follows
CURVE_N = 400           # points of a fitted 1-D curve
PLANE_HZ = 12.0        # a 100 x 100 map of a 16-16 net costs ~9 ms on the worker
SLOW_HZ = 5.0
N_WRONG = 12            # misclassified digits shown in the strip
WHITE = (255, 255, 255)
NEUTRAL_POINT = "#9aa5b1"   # regression data: no class, so no class colour


# --- colours ------------------------------------------------------------------------------
def _rgb(hex_color: str) -> tuple[int, int, int]:
    c = QtGui.QColor(hex_color)
    return c.red(), c.green(), c.blue()


def _mix(a, b, t: float) -> tuple[int, int, int]:
    """Blend colour a towards b by t (0: a, 1: b)."""
    return tuple(int(round((1 - t) * x + t * y)) for x, y in zip(a, b))


def diverging_colormap(lighten: float = 0.0) -> pg.ColorMap:
    """Orange (negative / class 0) through white to blue (positive / class 1).

    ``lighten`` blends the two ends towards white so full-colour points stay readable on
    top of the map.
    """
    o, b = _rgb(CLASS_COLORS[0]), _rgb(CLASS_COLORS[1])
    return pg.ColorMap([0.0, 0.5, 1.0], [_mix(o, WHITE, lighten), WHITE,
                                         _mix(b, WHITE, lighten)])


def class_lut(n: int, lighten: float = 0.55) -> np.ndarray:
    """Lookup table (n, 4) uint8 of the (lightened) class colours for argmax maps."""
    cols = [_mix(_rgb(MULTI_COLORS[i % len(MULTI_COLORS)]), WHITE, lighten) for i in range(n)]
    return np.array([c + (255,) for c in cols], dtype=np.uint8)


class HelpButton(QtWidgets.QToolButton):
    """A small "?" button that shows a panel's explanation (tooltip on hover or click)."""

    def __init__(self, text: str, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setText("?")
        self.setToolTip(text)
        self.setAutoRaise(True)
        self.setObjectName("help_button")
        self.clicked.connect(self._on_clicked)

    def _on_clicked(self) -> None:
        QtWidgets.QToolTip.showText(self.mapToGlobal(QtCore.QPoint(0, self.height())),
                                    self.toolTip(), self)


# --- computations (pure numpy on a Network; run on the worker) -----------------------------
def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def class_scores(net, X: np.ndarray, n_classes: int) -> np.ndarray:
    """Return per row the class-1 probability (two classes) or the argmax class.

    Parameters
    ----------
    net : Network
    X : ndarray, shape (m, n_features)
    n_classes : int

    Returns
    -------
    ndarray, shape (m,), float32
        Two classes: a value in [0, 1] whose 0.5 is the decision boundary: the output
        f(z) for a sigmoid or a step (the perceptron's 0/1 prediction), sigmoid(z) for a
        linear output trained with a z-threshold loss (bce, perceptron, hinge; there
        f(z) = z), the clipped output for linear + mse (it predicts class 1 when
        f(z) > 0.5), softmax(z)[1] for two softmax units. More classes: the argmax of
        the outputs (= argmax z, every output activation being increasing).
    """
    # predict() alone: it is the cheapest pass (no per-layer buffers), and every case
    # above can be read from f(z_L).
    a = net.predict(X)
    if a.shape[1] == 1:
        out = net.output
        if out == "linear":
            s = np.clip(a[:, 0], 0.0, 1.0) if net.loss == "mse" else _sigmoid(a[:, 0])
        else:
            s = a[:, 0]
    elif n_classes == 2 and a.shape[1] == 2:
        s = a[:, 1] if net.output == "softmax" else _softmax(a)[:, 1]
    else:
        s = np.argmax(a, axis=1)
    return np.asarray(s, dtype=np.float32)


def unchanged_cache(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Wrap a view fn(run) to return its previous value while the parameters are the
    same (paused, stepping through events), so neither worker nor GUI redo the work."""
    state: dict[str, Any] = {"theta": None, "value": None}

    def cached(run):
        theta = run.network.theta
        if state["theta"] is not None and np.array_equal(theta, state["theta"]):
            return state["value"]
        value = fn(run)
        state["theta"], state["value"] = theta.copy(), value
        return value
    return cached


def predicted_classes(net, X: np.ndarray) -> np.ndarray:
    """Return the class the run counts as predicted for each row, shape (m,) int64.

    One output: class 1 when z > 0 (f(z) > 0.5 for linear + mse), as the run's accuracy
    does; several outputs: argmax z.
    """
    zs, as_ = net.forward(X)
    z = zs[-1]
    if z.shape[1] == 1:
        if net.output == "linear" and net.loss == "mse":
            return (as_[-1][:, 0] > 0.5).astype(np.int64)
        return (z[:, 0] > 0.0).astype(np.int64)
    return np.argmax(z, axis=1).astype(np.int64)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Return counts C (n_classes, n_classes): C[i, j] = samples of class i predicted j."""
    C = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(C, (np.asarray(y_true, np.int64), np.clip(y_pred, 0, n_classes - 1)), 1)
    return C


def plane_extent(ds) -> tuple[float, float, float, float]:
    """Return (x0, x1, y0, y1) of the input plane shown first: the data with a margin."""
    pts = np.vstack([ds.raw_train, ds.raw_test]) if len(ds.raw_test) else ds.raw_train
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = np.maximum(hi - lo, 1e-9)
    # The gates' four corners need room around them to see the line between them.
    pad = np.maximum(0.5, 0.1 * span) if ds.name in GATES else 0.08 * span
    lo, hi = lo - pad, hi + pad
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def map_extent(ds) -> tuple[float, float, float, float]:
    """Return (x0, x1, y0, y1) of the map's first grid: a square around
    :func:`plane_extent`, MAP_SLACK times its longer side.

    The plot keeps x1 and x2 at the same scale, so a panel that is not square shows
    more than the data range along one axis; a map over the data range alone left white
    bands there (about [-5, 5] mapped in a view reaching +-6). Once the panel is laid
    out, the grid follows the view's range (:class:`PlaneRequest`).
    """
    x0, x1, y0, y1 = plane_extent(ds)
    cx, cy = 0.5 * (x0 + x1), 0.5 * (y0 + y1)
    half = 0.5 * MAP_SLACK * max(x1 - x0, y1 - y0)
    return cx - half, cx + half, cy - half, cy + half


class PlaneMap(np.ndarray):
    """A map (GRID_N, GRID_N) that knows the ``extent`` (x0, x1, y0, y1) of its grid."""
    extent: tuple[float, float, float, float] = (0.0, 1.0, 0.0, 1.0)


class PlaneRequest:
    """The extent the next map should cover: set on the GUI thread when the view's range
    changes, read on the worker (one tuple assignment: atomic, no lock needed).

    One per run context (in ``ctx.extra``), shared by the worker's view function and the
    panel's mode.
    """
    KEY = "decision.plane_request"

    def __init__(self, extent):
        self.extent = tuple(float(v) for v in extent)

    @classmethod
    def of(cls, ctx) -> "PlaneRequest":
        req = ctx.extra.get(cls.KEY)
        if req is None:
            req = ctx.extra[cls.KEY] = cls(map_extent(ctx.dataset))
        return req

    def follow(self, view_range) -> None:
        """Cover the view's ((x0, x1), (y0, y1)) plus 2 % (no seam at the edges)."""
        (x0, x1), (y0, y1) = view_range
        mx, my = 0.02 * (x1 - x0), 0.02 * (y1 - y0)
        if np.all(np.isfinite([x0, x1, y0, y1])) and x1 > x0 and y1 > y0:
            self.extent = (x0 - mx, x1 + mx, y0 - my, y1 + my)


def plane_map_view(ctx, fn):
    """A worker view: ``fn(run, grid_X) -> (GRID_N * GRID_N,)`` over the requested
    extent, as a :class:`PlaneMap`; recomputed only when the parameters or the extent
    change (the grid's features only when the extent does)."""
    req = PlaneRequest.of(ctx)
    ds = ctx.dataset
    dtype = ctx.network.dtype
    state: dict[str, Any] = {"extent": None, "grid": None, "theta": None, "value": None}

    def view(run):
        ext = req.extent
        theta = run.network.theta
        if ext == state["extent"] and state["value"] is not None and \
                np.array_equal(theta, state["theta"]):
            return state["value"]
        if ext != state["extent"]:
            state["grid"] = ds.transform(plane_grid(ext, GRID_N)).astype(dtype)
            state["extent"] = ext
        value = np.asarray(fn(run, state["grid"]), np.float32).reshape(
            GRID_N, GRID_N).view(PlaneMap)
        value.extent = ext
        state["theta"], state["value"] = theta.copy(), value
        return value
    return view


def plane_grid(extent, n: int) -> np.ndarray:
    """Return the cell centres (n*n, 2) of an n x n grid over ``extent``, row-major
    (row i is x2 = y0 + (i + 0.5) dy, so image[row, col] has x2 growing with row)."""
    x0, x1, y0, y1 = extent
    xs = x0 + (np.arange(n) + 0.5) * (x1 - x0) / n
    ys = y0 + (np.arange(n) + 0.5) * (y1 - y0) / n
    XX, YY = np.meshgrid(xs, ys)
    return np.column_stack([XX.ravel(), YY.ravel()])


def _rect(extent) -> QtCore.QRectF:
    x0, x1, y0, y1 = extent
    return QtCore.QRectF(x0, y0, x1 - x0, y1 - y0)


def placed_image(shape: tuple[int, int], rect: QtCore.QRectF) -> pg.ImageItem:
    """A row-major ImageItem of ``shape`` (blank) covering ``rect`` in view coordinates.

    Row 0 is drawn at the rectangle's lower y. The blank image comes first because
    ``setRect`` scales by the current image size.
    """
    img = pg.ImageItem(axisOrder="row-major")
    img.setImage(np.full(shape, np.nan, np.float32), autoLevels=False, levels=(0.0, 1.0))
    img.setRect(rect)
    return img


def _key(c):
    return c if isinstance(c, str) else c.rgba()


def _shared(make, colors) -> list:
    """``make(c)`` for each colour, one object per distinct colour (pyqtgraph draws each
    distinct pen's or brush's symbol once; building thousands cost most of a rebuild)."""
    made: dict = {}
    out = []
    for c in colors:
        k = _key(c)
        if k not in made:
            made[k] = make(c)
        out.append(made[k])
    return out


def _sym_pens(colors, width):
    return _shared(lambda c: pg.mkPen(c, width=width), colors)


# --- modes ------------------------------------------------------------------------------------
class _Mode:
    """One way to show a dataset; builds its items once, updates them in place."""
    name: ClassVar[str] = "mode"
    view_name: ClassVar[str] = ""
    caption: ClassVar[str] = ""
    #: The dock's title while this mode shows (a regression has no decision regions).
    dock_title: ClassVar[str] = "Decision regions"

    def __init__(self, panel: "DecisionPanel", ctx: RunContext):
        self.panel = panel
        self.ctx = ctx
        self.value: Any = None

    @classmethod
    def views(cls, ctx: RunContext) -> dict[str, tuple[Callable[[Any], Any], float]]:
        return {}

    def apply(self, value, snap) -> None:
        """Show a freshly computed view value (GUI thread)."""

    def on_theta(self, snap) -> None:
        """Cheap per-snapshot updates from the parameters (GUI thread)."""

    def export_item(self):
        return self.panel.plot

    def export_csv(self):
        return None


#: legend offsets (px) of the four corners, in the order tried on a tie
LEGEND_CORNERS = ((10, 10), (-10, 10), (-10, -10), (10, -10))


def corner_counts(view_range, frac, points) -> list[int]:
    """How many of ``points`` (x, y arrays) fall in each corner of the view that a legend
    covering ``frac`` = (fw, fh) of the view's width and height would hide, in the order
    of :data:`LEGEND_CORNERS` (top-left, top-right, bottom-right, bottom-left)."""
    (x0, x1), (y0, y1) = view_range
    fw, fh = frac
    xl, xr = x0 + fw * (x1 - x0), x1 - fw * (x1 - x0)
    yt, yb = y1 - fh * (y1 - y0), y0 + fh * (y1 - y0)
    x, y = points
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    left, right, top, bottom = x <= xl, x >= xr, y >= yt, y <= yb
    return [int(np.count_nonzero(left & top)), int(np.count_nonzero(right & top)),
            int(np.count_nonzero(right & bottom)), int(np.count_nonzero(left & bottom))]


class LegendPlacer:
    """Keeps a plot's legend in the corner of the view that hides the fewest data points
    (a legend over the data hides exactly what the student should look at). Re-placed
    when the view is resized or the data change (:meth:`place`)."""

    def __init__(self, plot: pg.PlotItem, points: Callable[[], tuple[np.ndarray, np.ndarray]]):
        self.plot = plot
        self.points = points
        self.legend = plot.addLegend(offset=LEGEND_CORNERS[0],
                                     brush=pg.mkBrush(127, 127, 127, 50),
                                     pen=pg.mkPen("#555555"))
        self.corner = LEGEND_CORNERS[0]
        plot.getViewBox().sigResized.connect(lambda *_: self.place())
        plot.getViewBox().sigRangeChanged.connect(lambda *_: self.place())

    def place(self) -> None:
        vb = self.plot.getViewBox()
        w, h = vb.width(), vb.height()
        lw, lh = self.legend.width() + 12, self.legend.height() + 12
        frac = (min(1.0, lw / w), min(1.0, lh / h)) if w > 1 and h > 1 else (0.3, 0.3)
        counts = corner_counts(vb.viewRange(), frac, self.points())
        best = LEGEND_CORNERS[int(np.argmin(counts))]
        if counts[LEGEND_CORNERS.index(self.corner)] > min(counts):
            self.corner = best
            self.legend.setOffset(best)


#: At most this many points of each split are drawn: a scatter item builds one spot
#: (and here one brush) per point on the GUI thread, and 100,000 points froze the window
#: for 4.5 s (a million for 46 s). Beyond it a fixed random subset is drawn.
MAX_POINTS_DRAWN = 5_000


def drawn(n: int) -> np.ndarray:
    """Indices of the points of a split of ``n`` that are drawn: all of them up to
    :data:`MAX_POINTS_DRAWN`, else that many chosen at random (the same each time)."""
    if n <= MAX_POINTS_DRAWN:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, MAX_POINTS_DRAWN, replace=False))


def drawn_note(ds) -> str:
    """" (drawn: 5,000 of 120,000 training points)" for each split that is thinned."""
    parts = [f"{MAX_POINTS_DRAWN:,} of {n:,} {split} points"
             for split, n in (("training", len(ds.raw_train)), ("test", len(ds.raw_test)))
             if n > MAX_POINTS_DRAWN]
    return f" (drawn: {', '.join(parts)})" if parts else ""


def _add_points(plot, ds, colors_train, colors_test, size=7):
    """Train points filled, test points hollow; returns (train_item, test_item).
    ``colors_*(y)`` gives the colours of the points with targets ``y`` (the drawn ones,
    :func:`drawn`)."""
    train = pg.ScatterPlotItem(size=size, pxMode=True)
    test = pg.ScatterPlotItem(size=size + 1, pxMode=True)
    plot.addItem(train)
    plot.addItem(test)
    train.setZValue(10)
    test.setZValue(11)
    for it in (train, test):   # the points do not move: repaints of the map reuse them
        it.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
    if len(ds.raw_train):
        i = drawn(len(ds.raw_train))
        train.setData(pos=ds.raw_train[i, :2],
                      brush=_shared(pg.mkBrush, colors_train(ds.y_train[i])),
                      pen=pg.mkPen("#202020", width=1))
    if len(ds.raw_test):
        i = drawn(len(ds.raw_test))
        test.setData(pos=ds.raw_test[i, :2], brush=None,
                     pen=_sym_pens(colors_test(ds.y_test[i]), 2))
    return train, test


class PlaneClassMode(_Mode):
    """2-D classification: probability (or argmax) map, points, gates' corners and line."""
    name = "plane"
    view_name = "decision.plane"

    def __init__(self, panel, ctx):
        super().__init__(panel, ctx)
        ds = ctx.dataset
        self.n_classes = int(ds.n_classes or 2)
        self.request = PlaneRequest.of(ctx)
        self.extent = self.request.extent
        plot = panel.plot
        plot.setLabel("bottom", "x1")
        plot.setLabel("left", "x2")
        self.image = placed_image((GRID_N, GRID_N), _rect(self.extent))
        self.image.setZValue(-10)
        plot.addItem(self.image)
        plot.vb.sigRangeChanged.connect(self._on_range)
        if self.n_classes == 2:
            self.image.setLevels((0.0, 1.0))
            panel.add_colorbar(self.image, (0.0, 1.0), "P(class 1)",
                               diverging_colormap(lighten=0.3))
            self.caption = "P(class 1) over the input plane"
        else:
            self.image.setLookupTable(class_lut(self.n_classes))
            self.image.setLevels((0.0, float(self.n_classes)))
            self.caption = "predicted class over the input plane"
        self.caption += drawn_note(ds)
        cols = MULTI_COLORS if self.n_classes > 2 else CLASS_COLORS

        def class_colors(y):
            return [cols[int(c) % len(cols)] for c in y]
        self.train, self.test = _add_points(plot, ds, class_colors, class_colors)
        self.line = None
        self.corners = None
        if ds.name in GATES:
            self._add_corners(plot, ds)
        if self._has_line(ctx):
            self.line = pg.PlotCurveItem(pen=pg.mkPen("#202020", width=3))
            self.line_glow = pg.PlotCurveItem(pen=pg.mkPen("#ffffff", width=6))
            self.line_glow.setZValue(4)
            self.line.setZValue(5)
            plot.addItem(self.line_glow)
            plot.addItem(self.line)
        x0, x1, y0, y1 = plane_extent(ds)
        plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        plot.setAspectLocked(True)
        self.grid_n = GRID_N

    def _add_corners(self, plot, ds) -> None:
        from ...data.datasets import GATE_CORNERS, GATE_TABLES
        table = GATE_TABLES[ds.name]
        self.corners = pg.ScatterPlotItem(
            pos=GATE_CORNERS, size=18, symbol="s", pxMode=True,
            brush=[pg.mkBrush(CLASS_COLORS[t]) for t in table],
            pen=pg.mkPen("#ffffff", width=2))
        self.corners.setZValue(12)
        plot.addItem(self.corners)
        for (cx, cy), t in zip(GATE_CORNERS, table):
            label = pg.TextItem(f"({cx:.0f},{cy:.0f}) -> {t}", color="#202020",
                                fill=pg.mkBrush(255, 255, 255, 200), anchor=(0.5, 1.6))
            label.setPos(float(cx), float(cy))
            label.setZValue(13)
            plot.addItem(label)

    @staticmethod
    def _has_line(ctx) -> bool:
        # The line is exact only when z is linear in the raw inputs: no hidden layer, the
        # inputs are x1, x2 (plus noise columns that the map fills with 0), one output.
        net = ctx.network
        names = [n for n in ctx.dataset.feature_names if not n.startswith("noise")]
        return not net.hidden and net.n_outputs == 1 and names == ["x1", "x2"]

    @classmethod
    def views(cls, ctx):
        n_classes = int(ctx.dataset.n_classes or 2)

        def plane(run, grid_X):
            return class_scores(run.network, grid_X, n_classes)
        return {cls.view_name: (plane_map_view(ctx, plane), PLANE_HZ)}

    def _on_range(self, _vb, view_range, *_changed) -> None:
        self.request.follow(view_range)

    def _place(self, value) -> None:
        ext = getattr(value, "extent", None)
        if ext is not None and ext != self.extent:
            self.extent = ext
            self.image.setRect(_rect(ext))

    def apply(self, value, snap) -> None:
        if not isinstance(value, np.ndarray) or value.shape != (self.grid_n, self.grid_n):
            return
        self.value = value
        self._place(value)
        if self.n_classes == 2:
            self.image.setImage(value, autoLevels=False, levels=(0.0, 1.0))
        else:
            self.image.setImage(value, autoLevels=False, levels=(0.0, float(self.n_classes)))

    def line_coefficients(self, theta) -> tuple[float, float, float] | None:
        """Return (w1, w2, b') of the line w1 x1 + w2 x2 + b' = 0 in raw coordinates.

        The perceptron predicts class 1 when z = w . (s x) + b > 0, s = data.scale; for a
        linear output trained with mse the boundary is f(z) = 0.5, so b' = b - 0.5.
        """
        net = self.ctx.theta_view(theta)
        W, b = net.weights[-1]
        s = float(self.ctx.dataset.scale)
        shift = 0.5 if (net.output == "linear" and net.loss == "mse") else 0.0
        return float(W[0, 0]) * s, float(W[0, 1]) * s, float(b[0]) - shift

    def on_theta(self, snap) -> None:
        if self.line is None or snap.theta is None:
            return
        w1, w2, c = self.line_coefficients(snap.theta)
        x0, x1, y0, y1 = self.extent
        if not np.all(np.isfinite([w1, w2, c])):   # diverged: no line to draw
            xs = ys = np.array([])
        elif abs(w2) >= abs(w1) and w2 != 0.0:
            xs = np.array([x0, x1])
            ys = -(w1 * xs + c) / w2
        elif w1 != 0.0:
            ys = np.array([y0, y1])
            xs = -(w2 * ys + c) / w1
        else:  # all weights zero: no boundary to draw
            xs = ys = np.array([])
        self.line.setData(xs, ys)
        self.line_glow.setData(xs, ys)
        # say where the line is, and why there is none: a zero-initialised perceptron on
        # XOR often has w1 = w2 = 0 and the whole plane in one class
        self.caption = self._line_caption(w1, w2, c, xs, ys)
        if not self.panel.view_failed:      # a worker error stays readable
            self.panel.set_caption(self.caption)

    def _line_caption(self, w1, w2, c, xs, ys) -> str:
        if not np.all(np.isfinite([w1, w2, c])):
            return "the weights are not finite: no line"
        eq = f"{w1:.2g} x1 {'-' if w2 < 0 else '+'} {abs(w2):.2g} x2 " \
             f"{'-' if c < 0 else '+'} {abs(c):.2g}"
        if xs.size == 0:
            return f"w1 = w2 = 0: no line, every point is class {1 if c > 0 else 0}"
        x0, x1, y0, y1 = plane_extent(self.ctx.dataset)
        # the line crosses the shown square when z changes sign over its corners
        z = [w1 * x + w2 * y + c for x in (x0, x1) for y in (y0, y1)]
        where = "" if min(z) <= 0.0 <= max(z) else " (outside the view)"
        return f"line {eq} = 0{where}"

    def export_csv(self):
        if self.value is None:
            return None
        grid = plane_grid(self.extent, self.grid_n)
        name = "p_class1" if self.n_classes == 2 else "argmax_class"
        return (["x1", "x2", name],
                [[float(x), float(y), float(v)]
                 for (x, y), v in zip(grid, self.value.ravel())])


class PlaneRegMode(_Mode):
    """2-D regression: the fitted surface as a heat map, points coloured by target."""
    dock_title = "Model fit"
    name = "surface"
    view_name = "decision.surface"
    caption = "fitted surface over the input plane"

    def __init__(self, panel, ctx):
        super().__init__(panel, ctx)
        ds = ctx.dataset
        self.request = PlaneRequest.of(ctx)
        self.extent = self.request.extent
        ys = np.concatenate([ds.y_train[:, 0], ds.y_test[:, 0] if len(ds.y_test) else []])
        m = float(np.max(np.abs(ys))) if ys.size else 1.0
        self.levels = (-m, m) if m > 0 else (-1.0, 1.0)
        plot = panel.plot
        plot.setLabel("bottom", "x1")
        plot.setLabel("left", "x2")
        self.image = placed_image((GRID_N, GRID_N), _rect(self.extent))
        self.image.setZValue(-10)
        plot.addItem(self.image)
        cmap = diverging_colormap(lighten=0.3)
        panel.add_colorbar(self.image, self.levels, "prediction", cmap)
        full = diverging_colormap()

        def colors(y):
            t = (np.asarray(y[:, 0]) - self.levels[0]) / (self.levels[1] - self.levels[0])
            return [full.mapToQColor(float(v)) for v in np.clip(t, 0, 1)]
        self.caption = self.caption + drawn_note(ds)
        self.train, self.test = _add_points(plot, ds, colors, colors)
        x0, x1, y0, y1 = plane_extent(ds)
        plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        plot.setAspectLocked(True)
        plot.vb.sigRangeChanged.connect(self._on_range)

    @classmethod
    def views(cls, ctx):
        def surface(run, grid_X):
            return run.network.predict(grid_X)[:, 0]
        return {cls.view_name: (plane_map_view(ctx, surface), PLANE_HZ)}

    _on_range = PlaneClassMode._on_range
    _place = PlaneClassMode._place

    def apply(self, value, snap) -> None:
        if not isinstance(value, np.ndarray) or value.shape != (GRID_N, GRID_N):
            return
        self.value = value
        self._place(value)
        self.image.setImage(value, autoLevels=False, levels=self.levels)

    def export_csv(self):
        if self.value is None:
            return None
        grid = plane_grid(self.extent, GRID_N)
        return (["x1", "x2", "prediction"],
                [[float(x), float(y), float(v)] for (x, y), v in zip(grid, self.value.ravel())])


class CurveMode(_Mode):
    """1-D regression: the fitted curve over the data."""
    dock_title = "Model fit"
    name = "curve"
    view_name = "decision.curve"
    caption = "fitted curve and the data"

    def __init__(self, panel, ctx):
        super().__init__(panel, ctx)
        ds = ctx.dataset
        raw = np.concatenate([ds.raw_train[:, 0], ds.raw_test[:, 0] if len(ds.raw_test) else []])
        lo, hi = float(raw.min()), float(raw.max())
        pad = 0.05 * max(hi - lo, 1e-9)
        self.xs = np.linspace(lo - pad, hi + pad, CURVE_N)
        plot = panel.plot
        plot.setLabel("bottom", "x1")
        plot.setLabel("left", "y")
        self.train = pg.ScatterPlotItem(size=6, brush=pg.mkBrush(NEUTRAL_POINT),
                                        pen=pg.mkPen("#202020", width=1))
        self.test = pg.ScatterPlotItem(size=7, brush=None, pen=pg.mkPen(NEUTRAL_POINT, width=2))
        self.caption = self.caption + drawn_note(ds)
        i = drawn(len(ds.raw_train))
        self.train.setData(ds.raw_train[i, 0], ds.y_train[i, 0])
        if len(ds.raw_test):
            i = drawn(len(ds.raw_test))
            self.test.setData(ds.raw_test[i, 0], ds.y_test[i, 0])
        self.curve = pg.PlotCurveItem(pen=pg.mkPen(CLASS_COLORS[1], width=3))
        self.curve.setZValue(20)
        for it in (self.train, self.test, self.curve):
            plot.addItem(it)
        ys = np.concatenate([ds.y_train[:, 0], ds.y_test[:, 0] if len(ds.y_test) else []])
        ypad = 0.15 * max(float(ys.max() - ys.min()), 1e-9)
        # A diverging fit would make the range jump; keep the data's range (UI.md).
        plot.setRange(xRange=(self.xs[0], self.xs[-1]),
                      yRange=(float(ys.min()) - ypad, float(ys.max()) + ypad), padding=0)
        xs_data = np.concatenate([ds.raw_train[:, 0], ds.raw_test[:, 0]
                                  if len(ds.raw_test) else []])

        def points():
            x, y = xs_data, ys
            if self.value is not None:      # the fitted curve is data too
                x, y = np.concatenate([x, self.xs]), np.concatenate([y, self.value])
            return x, y
        self.legend = LegendPlacer(plot, points)
        plot.legend.addItem(self.train, "train")
        plot.legend.addItem(self.test, "test")
        plot.legend.addItem(self.curve, "model")
        self.legend.place()

    @classmethod
    def views(cls, ctx):
        ds = ctx.dataset
        raw = np.concatenate([ds.raw_train[:, 0], ds.raw_test[:, 0] if len(ds.raw_test) else []])
        lo, hi = float(raw.min()), float(raw.max())
        pad = 0.05 * max(hi - lo, 1e-9)
        X = ds.transform(np.linspace(lo - pad, hi + pad, CURVE_N).reshape(-1, 1))

        def curve(run):
            return run.network.predict(X)[:, 0].astype(np.float64)
        return {cls.view_name: (unchanged_cache(curve), PLANE_HZ)}

    def apply(self, value, snap) -> None:
        if not isinstance(value, np.ndarray) or value.shape != (CURVE_N,):
            return
        self.value = value
        self.curve.setData(self.xs, np.where(np.isfinite(value), value, np.nan))
        self.legend.place()

    def export_csv(self):
        if self.value is None:
            return None
        return ["x1", "prediction"], [[float(x), float(y)] for x, y in zip(self.xs, self.value)]


class ConfusionMode(_Mode):
    """Classification without a 2-D input plane: test-set confusion matrix (+ digits)."""
    dock_title = "Confusion matrix"
    name = "confusion"
    view_name = "decision.confusion"

    def __init__(self, panel, ctx):
        super().__init__(panel, ctx)
        ds = ctx.dataset
        self.C = int(ds.n_classes or 2)
        self.on_test = len(ds.y_test) > 0
        self.caption = ("confusion matrix on the " + ("test" if self.on_test else "training")
                        + " set")
        plot = panel.plot
        plot.setLabel("bottom", "predicted class")
        plot.setLabel("left", "true class")
        plot.invertY(True)
        plot.setAspectLocked(True)
        plot.setMouseEnabled(False, False)
        ticks = [[(i, str(i)) for i in range(self.C)]]
        plot.getAxis("bottom").setTicks(ticks)
        plot.getAxis("left").setTicks(ticks)
        self.image = placed_image((self.C, self.C), QtCore.QRectF(-0.5, -0.5, self.C, self.C))
        plot.addItem(self.image)
        cmap = pg.ColorMap([0.0, 1.0], [(255, 255, 255), _rgb(CLASS_COLORS[1])])
        panel.add_colorbar(self.image, (0.0, 1.0), "fraction of the true class", cmap)
        self.texts = []
        for i in range(self.C):
            row = []
            for j in range(self.C):
                t = pg.TextItem("", color="#202020", anchor=(0.5, 0.5))
                t.setPos(j, i)
                plot.addItem(t)
                row.append(t)
            self.texts.append(row)
        plot.setRange(xRange=(-0.5, self.C - 0.5), yRange=(-0.5, self.C - 0.5), padding=0)
        self.counts = np.zeros((self.C, self.C), np.int64)
        self._shown_counts = self.counts.copy()
        self.strip = None
        if ds.raw_dim == 64:
            self._add_strip(panel)

    def _add_strip(self, panel) -> None:
        """A row of misclassified 8x8 images, each labelled true -> predicted."""
        p = panel.glw.addPlot(row=1, col=0)
        p.hideAxis("left")
        p.hideAxis("bottom")
        p.setMouseEnabled(False, False)
        p.setAspectLocked(True)
        p.invertY(True)
        p.setTitle("misclassified (true -> predicted)", size="9pt")
        p.setMaximumHeight(110)   # the matrix gets the room; the strip is one row
        self.strip_plot = p
        self.strip = pg.ImageItem(axisOrder="row-major")
        self.strip.setLookupTable(pg.colormap.get("CET-L1").getLookupTable(nPts=256))
        self.strip.setImage(np.full((8, N_WRONG * 9), np.nan, np.float32),
                            autoLevels=False, levels=(0.0, 1.0))
        p.addItem(self.strip)
        self.strip_texts = []
        for s in range(N_WRONG):
            t = pg.TextItem("", color="#7f8c99", anchor=(0.5, 1.0))
            t.setPos(s * 9 + 4, -0.2)
            p.addItem(t)
            self.strip_texts.append(t)
        p.setRange(xRange=(-0.5, N_WRONG * 9), yRange=(-3, 8.5), padding=0)
        hi = float(max(np.max(panel.ctx.dataset.raw_test, initial=0.0),
                       np.max(panel.ctx.dataset.raw_train, initial=0.0)))
        self.strip_level = hi if hi > 0 else 1.0

    @classmethod
    def views(cls, ctx):
        ds = ctx.dataset
        on_test = len(ds.y_test) > 0
        X = ds.X_test if on_test else ds.X_train
        y = (ds.y_test if on_test else ds.y_train).astype(np.int64)
        C = int(ds.n_classes or 2)

        def confusion(run):
            pred = predicted_classes(run.network, X)
            wrong = np.flatnonzero(pred != y)[:N_WRONG]
            return {"counts": confusion_matrix(y, pred, C), "wrong": wrong,
                    "pred": pred[wrong], "true": y[wrong]}
        return {cls.view_name: (unchanged_cache(confusion), SLOW_HZ)}

    def apply(self, value, snap) -> None:
        if not isinstance(value, dict) or value["counts"].shape != (self.C, self.C):
            return
        self.value = value
        self.counts = value["counts"]
        rows = self.counts.sum(axis=1, keepdims=True)
        frac = self.counts / np.maximum(rows, 1)
        self.image.setImage(frac.astype(np.float32), autoLevels=False, levels=(0.0, 1.0))
        # Only cells whose count changed are re-labelled: a TextItem update is the
        # expensive part of this frame (100 of them for digits).
        changed = np.argwhere(self.counts != self._shown_counts)
        for i, j in changed:
            n = int(self.counts[i, j])
            self.texts[i][j].setText(str(n) if n else "")
            # dark numbers on light cells, light numbers on dark ones
            self.texts[i][j].setColor("#ffffff" if frac[i, j] > 0.55 else "#202020")
        self._shown_counts = self.counts.copy()
        acc = np.trace(self.counts) / max(int(self.counts.sum()), 1)
        self.panel.set_caption(f"{self.caption}: accuracy {acc:.1%} "
                               f"({int(np.trace(self.counts))}/{int(self.counts.sum())})")
        if self.strip is not None:
            self._update_strip(value)

    def _update_strip(self, value) -> None:
        ds = self.ctx.dataset
        raw = ds.raw_test if self.on_test else ds.raw_train
        img = np.full((8, N_WRONG * 9), np.nan, np.float32)
        for s, (i, t, p) in enumerate(zip(value["wrong"], value["true"], value["pred"])):
            img[:, s * 9:s * 9 + 8] = raw[i].reshape(8, 8) / self.strip_level
            self.strip_texts[s].setText(f"{t}->{p}")
        for s in range(len(value["wrong"]), N_WRONG):
            self.strip_texts[s].setText("")
        self.strip.setImage(img, autoLevels=False, levels=(0.0, 1.0))

    def export_item(self):
        return self.panel.glw.scene() if self.strip is not None else self.panel.plot

    def export_csv(self):
        return (["true_class", "predicted_class", "count"],
                [[i, j, int(self.counts[i, j])] for i in range(self.C) for j in range(self.C)])


class ScatterMode(_Mode):
    """Regression without a 1-D or 2-D input: predicted against true values."""
    dock_title = "Model fit"
    name = "scatter"
    view_name = "decision.scatter"
    caption = "predicted against true values"

    def __init__(self, panel, ctx):
        super().__init__(panel, ctx)
        ds = ctx.dataset
        plot = panel.plot
        plot.setLabel("bottom", "true value")
        plot.setLabel("left", "predicted value")
        ys = np.concatenate([ds.y_train[:, 0], ds.y_test[:, 0] if len(ds.y_test) else []])
        lo, hi = float(ys.min()), float(ys.max())
        pad = 0.1 * max(hi - lo, 1e-9)
        self.diag = pg.PlotCurveItem([lo - pad, hi + pad], [lo - pad, hi + pad],
                                     pen=pg.mkPen("#888888", width=1, style=QtCore.Qt.DashLine))
        self.train = pg.ScatterPlotItem(size=6, brush=pg.mkBrush(NEUTRAL_POINT),
                                        pen=pg.mkPen("#202020", width=1))
        self.test = pg.ScatterPlotItem(size=7, brush=None, pen=pg.mkPen(CLASS_COLORS[1], width=2))
        for it in (self.diag, self.train, self.test):
            plot.addItem(it)
        plot.setRange(xRange=(lo - pad, hi + pad), yRange=(lo - pad, hi + pad), padding=0)
        self.caption = self.caption + drawn_note(ds)
        self.i_train, self.i_test = drawn(len(ds.y_train)), drawn(len(ds.y_test))

        def points():
            if self.value is None:          # before the first prediction: the diagonal
                return ys, ys
            return (np.concatenate([ds.y_train[self.i_train, 0], ds.y_test[self.i_test, 0]]),
                    np.concatenate([self.value["train"], self.value["test"]]))
        self.legend = LegendPlacer(plot, points)
        plot.legend.addItem(self.train, "train")
        plot.legend.addItem(self.test, "test")
        self.legend.place()

    @classmethod
    def views(cls, ctx):
        ds = ctx.dataset

        i_train, i_test = drawn(len(ds.X_train)), drawn(len(ds.X_test))
        X_train, X_test = ds.X_train[i_train], ds.X_test[i_test]

        def scatter(run):           # the drawn points only
            tr = run.network.predict(X_train)[:, 0]
            te = run.network.predict(X_test)[:, 0] if len(X_test) else np.zeros(0)
            return {"train": tr, "test": te}
        return {cls.view_name: (unchanged_cache(scatter), SLOW_HZ)}

    def apply(self, value, snap) -> None:
        ds = self.ctx.dataset
        if not isinstance(value, dict) or value["train"].shape != (len(self.i_train),):
            return
        self.value = value
        self.train.setData(ds.y_train[self.i_train, 0], value["train"])
        if len(ds.y_test):
            self.test.setData(ds.y_test[self.i_test, 0], value["test"])
        self.legend.place()

    def export_csv(self):
        if self.value is None:
            return None
        ds = self.ctx.dataset
        rows = [["train", float(t), float(p)]
                for t, p in zip(ds.y_train[self.i_train, 0], self.value["train"])]
        rows += [["test", float(t), float(p)]
                 for t, p in zip(ds.y_test[self.i_test, 0], self.value["test"])]
        return ["split", "true", "predicted"], rows


#: Which mode shows which data: the first whose test accepts the dataset wins.
MODES: tuple[tuple[Callable[[Any], bool], type[_Mode]], ...] = (
    (lambda ds: ds.task == "classification" and ds.raw_dim == 2, PlaneClassMode),
    (lambda ds: ds.task == "regression" and ds.raw_dim == 2, PlaneRegMode),
    (lambda ds: ds.task == "regression" and ds.raw_dim == 1, CurveMode),
    (lambda ds: ds.task == "classification", ConfusionMode),
    (lambda ds: True, ScatterMode),
)


def mode_for(ds) -> type[_Mode]:
    """The mode class that shows dataset ``ds``."""
    return next(cls for accepts, cls in MODES if accepts(ds))


class _Source:
    """Stands in for a Run when a view is computed on the GUI thread (replay)."""

    def __init__(self, network):
        self.network = network


# --- the panel --------------------------------------------------------------------------------
class DecisionPanel(Panel):
    """The model's output over its input space, with the data (see module docstring)."""
    object_name = "decision"
    title = "Decision regions"
    area = "central"
    help_text = (
        "What the network predicts everywhere in the input plane. Background: the "
        "probability of class 1 (blue) versus class 0 (orange); white is the decision "
        "boundary, where the model is undecided. Filled dots are training points, hollow "
        "ones test points: a dot on the wrong colour is misclassified. Click to add a "
        "training point of the chosen class, shift-click to remove the nearest one. "
        "Logic gates show the four corners and, for a perceptron, its line "
        "w1 x1 + w2 x2 + b = 0. Regression shows the fitted curve or surface; digits a "
        "confusion matrix (rows: true class, columns: predicted) and misclassified images.")

    def __init__(self, bus, parent=None):
        super().__init__(bus, parent)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(2)
        bar = QtWidgets.QHBoxLayout()
        # a long caption (the perceptron's line) must not widen the dock
        self.caption = ElidedLabel("")
        self.caption.setObjectName("decision_caption")
        bar.addWidget(self.caption, 1)
        bar.addSpacing(8)
        self.class_label = QtWidgets.QLabel("click adds class:")
        self.class_combo = QtWidgets.QComboBox()
        self.class_combo.setObjectName("decision_class")
        self.class_combo.setToolTip("Class of the training point a click adds "
                                    "(shift-click removes the nearest point)")
        bar.addWidget(self.class_label)
        bar.addWidget(self.class_combo)
        self.help_button = HelpButton(self.help_text)
        bar.addWidget(self.help_button)
        lay.addLayout(bar)
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setObjectName("decision_view")
        lay.addWidget(self.glw, 1)
        self.plot: pg.PlotItem | None = None
        self.colorbar: pg.ColorBarItem | None = None
        self.mode: _Mode | None = None
        self._last_seq = -1
        self._last_value = None
        self._fallback = None
        self.view_failed = False     # the last worker view was an error
        self.glw.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self._set_click_enabled(False)

    # --- structure -----------------------------------------------------------------------------
    def set_context(self, ctx: RunContext) -> None:
        super().set_context(ctx)
        clear_layout(self.glw)
        self.colorbar = None
        self.plot = self.glw.addPlot(row=0, col=0)
        self.plot.showGrid(x=False, y=False)
        self.plot.hideButtons()
        self.mode = mode_for(ctx.dataset)(self, ctx)
        self.set_caption(self.mode.caption)
        self._last_seq = -1
        self._last_value = None
        self._fallback = None
        self.view_failed = False
        clickable = isinstance(self.mode, PlaneClassMode) and not ctx.replay
        self._set_click_enabled(clickable)
        if clickable:
            self.class_combo.clear()
            for c in range(int(ctx.dataset.n_classes or 2)):
                self.class_combo.addItem(f"{c}", c)
                self.class_combo.setItemData(
                    c, QtGui.QColor(MULTI_COLORS[c % len(MULTI_COLORS)]),
                    QtCore.Qt.ForegroundRole)

    def add_colorbar(self, image: pg.ImageItem, levels, label: str, cmap: pg.ColorMap) -> None:
        """Attach a fixed, non-interactive colour bar (it also sets the image's LUT)."""
        self.colorbar = pg.ColorBarItem(values=levels, colorMap=cmap, label=label,
                                        interactive=False, width=14, colorMapMenu=False)
        self.colorbar.setImageItem(image, insert_in=self.plot)

    def set_caption(self, text: str) -> None:
        self.caption.setText(text)

    def _set_click_enabled(self, on: bool) -> None:
        self.class_label.setVisible(on)
        self.class_combo.setVisible(on)
        self._clickable = on

    # --- data ----------------------------------------------------------------------------------
    @staticmethod
    def worker_views(ctx: RunContext):
        return mode_for(ctx.dataset).views(ctx)

    def update_snapshot(self, snap) -> None:
        if self.mode is None or snap is None or snap.seq == self._last_seq:
            return
        self._last_seq = snap.seq
        name = self.mode.view_name
        value = snap.views.get(name) if snap.views else None
        if value is None and not self.ctx.replay:
            # a live run's worker computes it (never compile on this thread)
            self.mode.on_theta(snap)
            return
        if value is None or isinstance(value, Exception):
            # Replay: compute from the snapshot's parameters on this thread; a replay
            # frame is not a training frame, so it may cost more.
            if snap.theta is None:
                return
            if value is None:
                if self._fallback is None:
                    self._fallback = self.mode.views(self.ctx)[name][0]
                value = self._fallback(_Source(self.ctx.theta_view(snap.theta)))
        self.view_failed = isinstance(value, Exception)
        if isinstance(value, Exception):
            # the worker caught it; say so instead of freezing the picture silently
            self.set_caption(f"{self.mode.caption} (not updated: {type(value).__name__}: "
                             f"{value})")
        elif value is not self._last_value:
            if isinstance(self._last_value, Exception) or self._last_value is None:
                self.set_caption(self.mode.caption)
            self._last_value = value
            self.mode.apply(value, snap)
        self.mode.on_theta(snap)

    # --- clicks ------------------------------------------------------------------------------
    @property
    def chosen_class(self) -> int:
        return max(self.class_combo.currentIndex(), 0)

    def _on_scene_clicked(self, ev) -> None:
        if self.plot is None or ev.button() != QtCore.Qt.LeftButton:
            return
        if not self._clickable:
            # say why nothing happens (a click on a regression fit or the digits' matrix)
            if self.ctx is not None and self.mode is not None:
                why = ("a replay shows the recorded data" if self.ctx.replay else
                       "points can be added on 2-D classification data only")
                self.bus.message.emit(f"click on the plot: {why}")
            return
        vb = self.plot.vb
        pos = ev.scenePos()
        if not vb.sceneBoundingRect().contains(pos):
            return
        p = vb.mapSceneToView(pos)
        ev.accept()
        if ev.modifiers() & QtCore.Qt.ShiftModifier:
            self.bus.point_removed.emit(float(p.x()), float(p.y()))
        else:
            self.bus.point_added.emit(float(p.x()), float(p.y()), self.chosen_class)

    # --- export ------------------------------------------------------------------------------
    def export_item(self):
        return self.mode.export_item() if self.mode is not None else None

    def export_csv(self):
        return self.mode.export_csv() if self.mode is not None else None
