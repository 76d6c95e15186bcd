"""The network drawn as a graph: units as nodes, weights as edges.

Columns are layers (inputs first). For 2-D inputs every node shows its own output over
the input plane (a small map, computed on the worker from ``run.network.forward``), so
one sees how the hidden units combine half-planes into the decision region. Edges are
orange for negative and blue for positive weights, wider and more opaque for larger
|w|. Dead units (ReLU off on every training sample) are greyed, saturated ones dashed,
and units a diagnostic points at are ringed. Clicking a node shows its incoming weights
and activation statistics; a weight or bias can be typed in and is applied at the next
step boundary (``bus.weight_edit_requested``).

Wide layers show their first :data:`MAX_SHOWN` units and a "+N" node.
"""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ..context import CLASS_COLORS, SEVERITY_COLORS, RunContext, layer_color
from .base import Panel, clear_layout
from .decision import (HelpButton, diverging_colormap, placed_image, plane_extent,
                       plane_grid, unchanged_cache)

MAX_SHOWN = 16          # units drawn per layer; the rest are summarised by a "+N" node
DX_MIN, DX_MAX = 2.6, 6.0   # distance between layer columns (node rows are 1 apart)
S = 0.8                 # node size
P = 32                  # node map pixels per side (issue: >= 32 x 32 at >= 5 Hz)
PX_PER_ROW = int(round(P / S))   # image pixels per node row (node + gap)
MAPS_HZ = 6.0
STATS_HZ = 4.0
EDGE_HZ = 15.0          # edges follow the weights at most this often (GUI cost)
INFO_HZ = 4.0
N_BUCKETS = 6
EDGE_WIDTHS = (0.6, 1.1, 1.8, 2.7, 3.8, 5.0)
EDGE_ALPHAS = (70, 110, 150, 190, 225, 255)
DEAD_BRUSH = (70, 70, 70, 215)
DEAD_FRACTION = 0.99    # as the run counts a dead unit: off on >= 99 % of the samples
SAT_FRACTION = 0.9      # saturated on >= 90 % of the samples
# Node frames stay neutral: orange and blue mean sign here, so the layer colours (one of
# which is orange) only label the columns.
NODE_PEN = "#7f8c99"    # a mid grey: reads on the light and the dark canvas

#: How an activation's output is mapped to [-1, 1] for the node maps (white = 0 or 0.5).
#: Bounded activations keep fixed levels so maps compare over time; unbounded ones are
#: scaled by the layer's largest |a| over the grid.
FIXED_RANGE = {
    "sigmoid": lambda a: 2.0 * a - 1.0,
    "step": lambda a: 2.0 * a - 1.0,
    "softmax": lambda a: 2.0 * a - 1.0,
    "tanh": lambda a: a,
}


def _scale_to_unit(a: np.ndarray) -> np.ndarray:
    m = np.nanmax(np.abs(a)) if a.size else 0.0
    return a / m if np.isfinite(m) and m > 0 else np.zeros_like(a)


def normalized_activation(name: str, a: np.ndarray) -> np.ndarray:
    """Map activations ``a`` (m, u) of activation ``name`` to [-1, 1] for display."""
    fn = FIXED_RANGE.get(name)
    return np.clip(fn(a), -1.0, 1.0) if fn is not None else _scale_to_unit(a)


def column_rows(units: int) -> tuple[int, int]:
    """Return (shown, extra): units drawn, units summarised by the "+N" node."""
    shown = min(int(units), MAX_SHOWN)
    return shown, int(units) - shown


def column_spacing(units) -> float:
    """Distance between layer columns: wide enough that a few tall columns do not
    leave the (aspect-locked) view mostly empty and their edges unreadable."""
    rows = max(sum(column_rows(u)) for u in units)
    return float(np.clip(1.2 * rows / max(len(units) - 1, 1), DX_MIN, DX_MAX))


def node_xy(col: int, r: int, units: int, dx: float = DX_MIN) -> tuple[float, float]:
    """Centre of node r of column col (a layer of ``units`` units), top row first."""
    shown, extra = column_rows(units)
    n_rows = shown + (1 if extra else 0)
    return col * dx, (n_rows - 1) / 2.0 - r


def column_image(maps: np.ndarray) -> np.ndarray:
    """Stack the maps (shown, P, P) of one column into one image (H, P), NaN between.

    Node r (top first) occupies rows ``(shown-1-r)*PX_PER_ROW`` onwards, because image
    row 0 is drawn at the bottom of the column's rectangle.
    """
    shown = maps.shape[0]
    img = np.full(((shown - 1) * PX_PER_ROW + P, P), np.nan, np.float32)
    for r in range(shown):
        o = (shown - 1 - r) * PX_PER_ROW
        img[o:o + P] = maps[r]
    return img


def unit_fractions(run) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per layer, the fraction of training samples on which each unit is off (ReLU
    z <= 0) and saturated (sigmoid/tanh derivative < 0.01), from ``run.unit_stats``."""
    st = run.unit_stats
    lay = run.network.layout
    n = max(int(st["n"]), 1)
    off, sat = [], []
    for l in range(lay.n_layers):
        base = int(lay.acum[l + 1] - lay.units[0])
        u = int(lay.units[l + 1])
        off.append(st["off"][base:base + u] / n)
        sat.append(st["sat"][base:base + u] / n)
    return off, sat


#: The fill of a node without a map.
NODE_FILL = "#c9ced6"


class NetworkGraphPanel(Panel):
    """The network as a graph of units and weighted edges (see module docstring)."""
    object_name = "network"
    max_hz = 10.0       # edges redrawn from theta: a costly repaint, the maps come at 6 Hz
    title = "Network"
    area = "below_central"
    help_text = (
        "The network itself. Columns are layers, inputs on the left. With 2-D inputs each "
        "unit shows what it computes over the input plane (blue positive, orange "
        "negative, white zero; sigmoid units: white at 0.5). Edges are the weights: blue "
        "positive, orange negative, wider and stronger for larger |w|. Grey units are "
        "dead (a ReLU that is off on every training sample never learns again); dashed "
        "ones are saturated; ringed ones are those a diagnostic points at. Click a unit "
        "to see its incoming weights and how often it is off or saturated; type a weight "
        "or bias to set it by hand (applied at the next step, recorded as an event), as "
        "when building logic gates from perceptrons.")

    def __init__(self, bus, parent=None):
        super().__init__(bus, parent)
        outer = QtWidgets.QHBoxLayout(self)
        outer.setContentsMargins(2, 2, 2, 2)
        self.splitter = QtWidgets.QSplitter(QtCore.Qt.Horizontal)
        outer.addWidget(self.splitter)
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setObjectName("network_view")
        self.splitter.addWidget(self.glw)
        side = QtWidgets.QVBoxLayout()
        top = QtWidgets.QHBoxLayout()
        self.node_title = QtWidgets.QLabel("click a unit")
        self.node_title.setWordWrap(True)
        top.addWidget(self.node_title, 1)
        self.help_button = HelpButton(self.help_text)
        top.addWidget(self.help_button)
        side.addLayout(top)
        self.node_stats = QtWidgets.QLabel("")
        self.node_stats.setWordWrap(True)
        side.addWidget(self.node_stats)
        self.table = QtWidgets.QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["from", "weight"])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(
            QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.table.setObjectName("network_weights")
        self.table.setMinimumHeight(40)
        self.table.cellClicked.connect(self._on_table_clicked)
        side.addWidget(self.table, 1)
        form = QtWidgets.QHBoxLayout()
        self.edit_target = QtWidgets.QComboBox()
        self.edit_target.setObjectName("network_edit_target")
        self.edit_value = QtWidgets.QLineEdit()
        self.edit_value.setObjectName("network_edit_value")
        self.edit_value.setPlaceholderText("value")
        # no validator: it swallowed Return on a half-typed number ("1e", "-") with no
        # word; the value is checked on Set / Return and the reason shown below
        self.edit_button = QtWidgets.QPushButton("Set")
        self.edit_button.setObjectName("network_edit_set")
        self.edit_button.setToolTip("Set this weight by hand; applied at the next step "
                                    "boundary and recorded as an event")
        self.edit_button.clicked.connect(self._on_set_clicked)
        self.edit_value.returnPressed.connect(self._on_set_clicked)
        form.addWidget(self.edit_target, 2)
        form.addWidget(self.edit_value, 1)
        form.addWidget(self.edit_button)
        side.addLayout(form)
        # the answer to Set, kept apart from the unit's statistics (which follow training
        # and replaced an error message within a second)
        self.edit_status = QtWidgets.QLabel("")
        self.edit_status.setObjectName("network_edit_status")
        self.edit_status.setWordWrap(True)
        self.edit_status.setVisible(False)
        side.addWidget(self.edit_status)
        sidew = QtWidgets.QWidget()
        sidew.setLayout(side)
        sidew.setMinimumWidth(150)
        self.splitter.addWidget(sidew)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([600, 220])
        self.plot: pg.PlotItem | None = None
        self.selected: tuple[int, int] | None = None
        self.highlighted: list[tuple[int, int]] = []
        self.node_pos: dict[tuple[int, int], tuple[float, float]] = {}
        self._last_seq = -1
        self._last_view = None
        self._last_edges = 0.0
        self._last_info = 0.0
        self._theta: np.ndarray | None = None
        self._off: list[np.ndarray] | None = None
        self._sat: list[np.ndarray] | None = None
        self._set_editor_enabled(False)
        bus.units_highlighted.connect(self._on_units_highlighted)
        bus.walkthrough_changed.connect(self._on_walkthrough_changed)
        self.walkthrough: dict | None = None

    def resizeEvent(self, ev) -> None:  # noqa: N802 (Qt name)
        # In a narrow dock the details go below the graph instead of beside it.
        w, h = ev.size().width(), ev.size().height()
        want = QtCore.Qt.Horizontal if (w >= 560 or w > 1.6 * h) else QtCore.Qt.Vertical
        if self.splitter.orientation() != want:
            self.splitter.setOrientation(want)
            total = h if want == QtCore.Qt.Vertical else w
            side = min(220, int(0.3 * total)) if want == QtCore.Qt.Horizontal \
                else int(0.35 * total)
            self.splitter.setSizes([total - side, side])
        super().resizeEvent(ev)

    # --- structure ---------------------------------------------------------------------------
    def set_context(self, ctx: RunContext) -> None:
        super().set_context(ctx)
        net = ctx.network
        lay = net.layout
        self.units = [int(u) for u in lay.units]
        self.acts = ["input"] + net.activations_names
        self.has_maps = ctx.input_plane
        clear_layout(self.glw)
        self.plot = self.glw.addPlot()
        p = self.plot
        p.hideAxis("left")
        p.hideAxis("bottom")
        p.hideButtons()
        p.setAspectLocked(True)
        p.setMenuEnabled(False)
        self.selected = None
        self._last_seq = -1
        self._last_view = None
        self._theta = None
        self._off = self._sat = None
        self._fallback = None
        self._build_nodes()
        self._build_edges()
        self._build_overlays()
        self._show_node_info()
        # Frame the whole graph once (labels included); the user may zoom from there.
        pos = np.array(list(self.node_pos.values()) + self.extra_pos)
        # room for the input names on the left and the last column's title on the right
        p.setRange(xRange=(pos[:, 0].min() - 1.6, pos[:, 0].max() + 1.4),
                   yRange=(pos[:, 1].min() - 1.9, pos[:, 1].max() + 2.0), padding=0)

    def title_extents(self) -> list[tuple[float, float]]:
        """(left, right) of each layer title in scene pixels (titles keep their pixel size
        whatever the zoom, so whether they collide depends on the view's scale)."""
        vb = self.plot.getViewBox()
        out = []
        for t, (ax, _ay) in zip(self.titles, self._title_anchors):
            w = t.textItem.boundingRect().width()
            x = vb.mapViewToScene(t.pos()).x()
            out.append((x - ax * w, x + (1.0 - ax) * w))
        return out

    def _fit_labels(self) -> None:
        """Keep the pixel-sized labels whole inside the view: the layer titles (see
        :meth:`_fit_titles_now`), the walkthrough label under the inputs
        (:meth:`_fit_band_label`) and the input names (:meth:`_fit_input_names`),
        growing the view where one is cut, again while one growth cuts another."""
        if self.plot is None or getattr(self, "_fitting", False):
            return
        # setRange below emits sigRangeChanged, which calls this again: once is enough
        # (in a squeezed view the growth could otherwise chase itself for ever)
        self._fitting = True
        try:
            # each pass only grows the view, so this ends; in a squeezed view (four
            # stacked titles in 130 px) the titles took more than four passes to fit
            for _ in range(10):
                grew = len(getattr(self, "titles", ())) >= 2 and self._fit_titles_now()
                grew = self._fit_band_label() or grew
                grew = self._fit_input_names() or grew
                if not grew:
                    break
        finally:
            self._fitting = False

    def _grow_view(self, left_px: float = 0.0, bottom_px: float = 0.0,
                   top_px: float = 0.0) -> None:
        """Widen the view's target range on the given sides by that many pixels (at the
        present scale) and 4 more. The target, not the range shown: with the aspect
        locked, a narrow dock shows a much taller range than the target, and setting that
        as the target (while the window was first laid out) kept it once the dock
        widened, leaving the graph a third of the dock's width."""
        vb = self.plot.getViewBox()
        (x0, x1), (y0, y1) = vb.targetRange()
        px, py = vb.viewPixelSize()
        if not (np.isfinite(px) and np.isfinite(py) and px > 0 and py > 0):
            return      # a view squeezed to nothing has no pixel scale: nothing to fit

        def grow(n):
            return n + 4 if n > 0 else 0.0
        vb.setRange(xRange=(x0 - grow(left_px) * px, x1),
                    yRange=(y0 - grow(bottom_px) * py, y1 + grow(top_px) * py), padding=0)

    def _fit_band_label(self) -> bool:
        """The walkthrough's label under the inputs keeps its pixel size: in a short view
        of a tall layer it ran past the bottom edge ("backprop step 1 input" cut in half).
        The view grows downwards until it fits."""
        label = getattr(self, "band_label", None)
        if label is None or not label.toPlainText():
            return False
        vb = self.plot.getViewBox()
        bottom = vb.mapViewToScene(label.pos()).y() + label.textItem.boundingRect().height()
        over = bottom - vb.sceneBoundingRect().bottom()
        if over <= 0:
            return False
        self._grow_view(bottom_px=over)
        return True

    def _fit_input_names(self) -> bool:
        """The input names left of the inputs keep their pixel size: with a deep net in
        a narrow view they ran past the left edge ("x1" shown as "1"). The view grows
        leftwards until the widest fits."""
        names = getattr(self, "input_names", None)
        if not names:
            return False
        vb = self.plot.getViewBox()
        left = min(t.mapRectToScene(t.boundingRect()).left() for t in names)
        view = vb.sceneBoundingRect()
        over = view.left() - left
        # more than a name's width past the edge is no cut name: the view's transform is
        # not settled yet (while the window is first laid out, 170 px in a 585 px view),
        # or the view is too narrow for any growth to help
        widest = max(t.boundingRect().width() for t in names)
        if over <= 0 or over > min(widest, 0.25 * view.width()):
            return False
        self._grow_view(left_px=over)
        return True

    def input_names_fit(self) -> bool:
        """Whether every input name lies inside the view (tests)."""
        view = self.plot.getViewBox().sceneBoundingRect()
        return all(view.contains(t.mapRectToScene(t.boundingRect()))
                   for t in self.input_names)

    def band_label_fits(self) -> bool:
        """Whether the walkthrough label lies inside the view (tests)."""
        vb = self.plot.getViewBox()
        r = self.band_label.mapRectToScene(self.band_label.boundingRect())
        return vb.sceneBoundingRect().contains(r)

    def _fit_titles_now(self) -> bool:
        """Layer titles that would run into each other (a layer of 32 units beside one of
        10: "relu 32softmax 10") are stacked: each title goes on the lowest line where it
        touches no other title, and the view grows upwards when one is cut. True when
        the view grew."""
        lines: list[list[tuple[float, float]]] = []
        levels = []
        for left, right in self.title_extents():
            k = next((k for k, line in enumerate(lines)
                      if all(right + 6 <= a or b + 6 <= left for a, b in line)), len(lines))
            if k == len(lines):
                lines.append([])
            lines[k].append((left, right))
            levels.append(k)
        if levels != self.title_levels:
            self.title_levels = levels
            for t, (ax, ay), k in zip(self.titles, self._title_anchors, levels):
                t.setAnchor((ax, ay + k))
        if lines:       # a title cut at the top (stacked, or the view grew downwards)
            vb = self.plot.getViewBox()
            h = max(t.textItem.boundingRect().height() for t in self.titles)
            top_px = min(vb.mapViewToScene(t.pos()).y() for t in self.titles) - len(lines) * h
            short = vb.sceneBoundingRect().top() - top_px
            if short > 0:
                self._grow_view(top_px=short)
                return True
        return False

    def _build_nodes(self) -> None:
        p = self.plot
        self.node_pos = {}
        self.dx = dx = column_spacing(self.units)
        self.extra_pos: list[tuple[float, float]] = []
        self.extra_labels: list[pg.TextItem] = []
        self.col_images: list[pg.ImageItem | None] = []
        spots = []
        top = 0.0
        cmap = diverging_colormap()
        lut = cmap.getLookupTable(nPts=256)
        for c, u in enumerate(self.units):
            shown, extra = column_rows(u)
            for r in range(shown):
                x, y = node_xy(c, r, u, dx)
                self.node_pos[(c, r)] = (x, y)
                spots.append({"pos": (x, y), "data": (c, r),
                              "pen": pg.mkPen(NODE_PEN, width=1.5)})
                top = max(top, y)
            if extra:
                x, y = node_xy(c, shown, u, dx)
                # on a patch of the canvas's colour: the edges to the last rows shown
                # ran through the count and hid it
                t = pg.TextItem(f"+{extra}", color=NODE_PEN, anchor=(0.5, 0.5),
                                fill=pg.mkBrush(pg.getConfigOption("background")))
                t.canvas_fill = True        # follows the theme (app.apply_theme)
                t.setPos(x, y)
                t.setZValue(3)
                self.extra_labels.append(t)
                p.addItem(t)
                self.extra_pos.append((x, y))
            img = None
            if self.has_maps and shown:
                _, y_low = node_xy(c, shown - 1, u, dx)
                img = placed_image(((shown - 1) * PX_PER_ROW + P, P),
                                   QtCore.QRectF(c * dx - S / 2, y_low - S / 2, S,
                                                 (shown - 1) + S))
                img.setLookupTable(lut)
                img.setZValue(1)
                p.addItem(img)
            self.col_images.append(img)
        last = len(self.units) - 1
        self.titles: list[pg.TextItem] = []
        self._title_anchors: list[tuple[float, float]] = []
        for c, u in enumerate(self.units):
            # "tanh ×8": units counted with ×, or a perceptron's "step 1" read as a step number
            label = "inputs" if c == 0 else f"{self.acts[c]} \u00d7{u}"
            # the last title is right-aligned to its column so it never runs off the view
            anchor = (1.0, 1.0) if c == last and c else (0.5, 1.0)
            t = pg.TextItem(label, color=layer_color(c - 1) if c else NODE_PEN, anchor=anchor)
            t.setPos(c * dx + (S / 2 if c == last and c else 0.0), top + 0.6)
            p.addItem(t)
            self.titles.append(t)
            self._title_anchors.append(anchor)
        self.title_levels: list[int] = [0] * len(self.titles)
        p.getViewBox().sigResized.connect(lambda *_: self._fit_labels())
        p.getViewBox().sigRangeChanged.connect(lambda *_: self._fit_labels())
        names = self.ctx.dataset.feature_names
        self.input_names: list[pg.TextItem] = []
        for r in range(column_rows(self.units[0])[0]):
            x, y = self.node_pos[(0, r)]
            t = pg.TextItem(names[r] if r < len(names) else f"x{r + 1}", color=NODE_PEN,
                            anchor=(1.0, 0.5))
            t.setPos(x - S / 2 - 0.1, y)
            p.addItem(t)
            self.input_names.append(t)
        # without maps (inputs that are not a plane) a node is a plain light square: the
        # input nodes keep it (near-black squares read as images that failed to load);
        # the units' statistics colour the others
        self.nodes = pg.ScatterPlotItem(pxMode=False, symbol="s", size=S,
                                        brush=None if self.has_maps else pg.mkBrush(NODE_FILL),
                                        hoverable=True, hoverPen=pg.mkPen("#ffffff", width=2))
        self.nodes.addPoints(spots)
        self.nodes.setZValue(3)
        self.nodes.sigClicked.connect(self._on_nodes_clicked)
        p.addItem(self.nodes)
        self._spot_keys = [s["data"] for s in spots]
        # column bands shaded while the backprop walkthrough is at a step touching them
        ys = np.array([y for _, y in list(self.node_pos.values()) + self.extra_pos])
        self.bands = []
        for c in range(len(self.units)):
            band = QtWidgets.QGraphicsRectItem(c * dx - 0.85 * S, ys.min() - 0.7,
                                               1.7 * S, ys.max() - ys.min() + 1.4)
            band.setBrush(pg.mkBrush(108, 142, 191, 70))
            band.setPen(pg.mkPen(None))
            band.setZValue(-1)
            band.setVisible(False)
            p.addItem(band)
            self.bands.append(band)
        self.band_label = pg.TextItem("", color=NODE_PEN, anchor=(0.0, 0.0))
        self.band_label.setPos(-0.5, ys.min() - 0.8)
        p.addItem(self.band_label)
        self._on_walkthrough_changed(self.walkthrough)
        # labels and unit squares change rarely, the maps and edges under them several
        # times a second: kept as pixmaps, each repaint blits them (text layout and the
        # squares' outlines were about half of this view's paint)
        for it in p.items:
            if isinstance(it, (pg.TextItem, pg.ScatterPlotItem)):
                it.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def _build_edges(self) -> None:
        """Precompute every drawn edge's end points and where its weight sits in theta."""
        lay = self.ctx.network.layout
        xs, ys, ia, ib, layer = [], [], [], [], []
        for l in range(lay.n_layers):
            n_in = int(lay.units[l])
            maxout = int(lay.rows[l]) == 2 * int(lay.units[l + 1]) and \
                self.acts[l + 1] == "maxout"
            for j in range(column_rows(lay.units[l + 1])[0]):
                x1, y1 = self.node_pos[(l + 1, j)]
                ra, rb = (2 * j, 2 * j + 1) if maxout else (j, j)
                for k in range(column_rows(n_in)[0]):
                    x0, y0 = self.node_pos[(l, k)]
                    xs.append((x0 + S / 2, x1 - S / 2))
                    ys.append((y0, y1))
                    ia.append(int(lay.woff[l]) + ra * n_in + k)
                    ib.append(int(lay.woff[l]) + rb * n_in + k)
                    layer.append(l)
        self.edge_x = np.array(xs, np.float64).reshape(-1, 2)
        self.edge_y = np.array(ys, np.float64).reshape(-1, 2)
        self.edge_ia = np.array(ia, np.int64)
        self.edge_ib = np.array(ib, np.int64)
        self.edge_items: dict[tuple[int, int], pg.PlotCurveItem] = {}
        for sign in (0, 1):
            rgb = QtGui.QColor(CLASS_COLORS[sign])
            for b in range(N_BUCKETS):
                col = QtGui.QColor(rgb)
                col.setAlpha(EDGE_ALPHAS[b])
                # Not antialiased: with a few hundred wide lines, antialiasing is most of
                # this panel's paint time (about 8 of 14 ms per frame, measured).
                item = pg.PlotCurveItem(pen=pg.mkPen(col, width=EDGE_WIDTHS[b]),
                                        connect="pairs", antialias=False)
                item.setZValue(0)
                # Not cached as pixmaps: while training nearly every update re-buckets
                # some edges, and re-rendering a view-sized pixmap per changed bucket
                # then blitting twelve of them cost more than stroking the lines (a
                # repaint after an edge change 3.3 ms cached against 2.1 ms, measured).
                self.plot.addItem(item)
                self.edge_items[(sign, b)] = item
        self._edge_key: np.ndarray | None = None

    def _build_overlays(self) -> None:
        p = self.plot
        self.dead_item = pg.ScatterPlotItem(pxMode=False, symbol="s", size=S,
                                            brush=pg.mkBrush(*DEAD_BRUSH), pen=None)
        self.sat_item = pg.ScatterPlotItem(
            pxMode=False, symbol="s", size=S * 1.08, brush=None,
            pen=pg.mkPen("#808080", width=2, style=QtCore.Qt.DashLine))
        self.ring_item = pg.ScatterPlotItem(
            pxMode=False, symbol="o", size=S * 1.55, brush=None,
            pen=pg.mkPen(SEVERITY_COLORS["warning"], width=3))
        # the selection is a dark ring under a white one, visible on either canvas
        self.sel_under = pg.ScatterPlotItem(pxMode=False, symbol="s", size=S * 1.25,
                                            brush=None, pen=pg.mkPen("#101010", width=4.5))
        self.sel_item = pg.ScatterPlotItem(pxMode=False, symbol="s", size=S * 1.25,
                                           brush=None, pen=pg.mkPen("#ffffff", width=2))
        for z, it in enumerate((self.dead_item, self.sat_item, self.ring_item, self.sel_under,
                                self.sel_item)):
            it.setZValue(4 + z)
            p.addItem(it)
        self._update_rings()

    # --- worker views -------------------------------------------------------------------------
    @staticmethod
    def worker_views(ctx: RunContext):
        views = {"network.stats": (unit_fractions, STATS_HZ)}
        if ctx.input_plane:
            views["network.maps"] = (unchanged_cache(NetworkGraphPanel.maps_function(ctx)),
                                     MAPS_HZ)
        return views

    @staticmethod
    def maps_function(ctx: RunContext):
        """Return fn(run) -> list of column images (H, P) in [-1, 1] (NaN between nodes)."""
        ds = ctx.dataset
        X = ds.transform(plane_grid(plane_extent(ds), P)).astype(ctx.network.dtype)
        net0 = ctx.network
        n0 = column_rows(net0.n_inputs)[0]
        inputs = column_image(np.stack([_scale_to_unit(X[:, k]).reshape(P, P)
                                        for k in range(n0)]).astype(np.float32))
        acts = net0.activations_names
        shown = [column_rows(u)[0] for u in net0.layout.units[1:]]

        def maps(run):
            _, as_ = run.network.forward(X)
            cols = [inputs]
            for l, a in enumerate(as_):
                u = shown[l]
                v = normalized_activation(acts[l], a[:, :u])
                cols.append(column_image(v.T.reshape(u, P, P).astype(np.float32)))
            return cols
        return maps

    # --- updates ---------------------------------------------------------------------------------
    def update_snapshot(self, snap) -> None:
        if self.plot is None or snap is None or snap.seq == self._last_seq:
            return
        self._last_seq = snap.seq
        views = snap.views or {}
        maps = views.get("network.maps")
        if self.has_maps and maps is None and snap.theta is not None and self.ctx.replay:
            # replay: no worker; compute the maps here, at the maps' own rate (a live run
            # waits for its worker: here the first maps of a float32 run compiled its
            # kernels on the GUI thread, a 34 s freeze on a cold cache)
            now = time.monotonic()
            if now - getattr(self, "_last_replay_maps", 0.0) >= 1.0 / MAPS_HZ:
                self._last_replay_maps = now
                if self._fallback is None:
                    self._fallback = unchanged_cache(self.maps_function(self.ctx))
                maps = self._fallback(_Net(self.ctx.theta_view(snap.theta)))
        if isinstance(maps, list) and maps is not self._last_view and \
                len(maps) == len(self.col_images):
            self._last_view = maps
            for img, m in zip(self.col_images, maps):
                if img is not None and isinstance(m, np.ndarray):
                    img.setImage(m, autoLevels=False, levels=(-1.0, 1.0))
        stats = views.get("network.stats")
        if isinstance(stats, tuple) and stats is not getattr(self, "_last_stats", None) and \
                len(stats[0]) == len(self.units) - 1:
            self._last_stats = stats
            self._off, self._sat = stats
            self._update_unit_states()
        if snap.theta is not None:
            self._theta = snap.theta
            now = time.monotonic()
            if now - self._last_edges >= 1.0 / EDGE_HZ:
                self._last_edges = now
                self.update_edges(snap.theta)
                if not self.has_maps:
                    self._update_node_fill(snap.theta)
            if self.selected is not None and now - self._last_info >= 1.0 / INFO_HZ:
                self._last_info = now
                self._show_node_info()

    def edge_weights(self, theta: np.ndarray) -> np.ndarray:
        """The weight drawn on each edge (the larger-|w| piece for maxout)."""
        wa, wb = theta[self.edge_ia], theta[self.edge_ib]
        return np.where(np.abs(wa) >= np.abs(wb), wa, wb)

    def update_edges(self, theta: np.ndarray) -> None:
        """Re-bucket the edges by sign and |w| (relative to the largest drawn |w|)."""
        if self.edge_ia.size == 0:
            return
        w = self.edge_weights(theta)
        mag = np.abs(w)
        finite = np.isfinite(mag)
        m = float(mag[finite].max()) if finite.any() else 0.0
        # non-finite weights (a replay of a run that blew up) get key -1 below; they are
        # zeroed here so the cast to int warns of nothing
        bucket = np.minimum((np.where(finite, mag, 0.0) / m * N_BUCKETS).astype(np.int64),
                            N_BUCKETS - 1) if m > 0 else np.zeros(mag.shape, np.int64)
        sign = (w > 0).astype(np.int64)
        key = np.where(finite, sign * N_BUCKETS + bucket, -1)
        old = self._edge_key
        if old is not None and np.array_equal(key, old):
            return   # no edge changed colour or width: nothing to redraw
        self._edge_key = key
        for (s, b), item in self.edge_items.items():
            code = s * N_BUCKETS + b
            sel = key == code
            if old is not None and np.array_equal(sel, old == code):
                continue
            if sel.any():
                item.setData(self.edge_x[sel].ravel(), self.edge_y[sel].ravel(),
                             connect="pairs")
            else:
                item.setData([], [])

    def _update_node_fill(self, theta: np.ndarray) -> None:
        """Without input maps, fill each unit by its bias (blue positive, orange negative)."""
        net = self.ctx.theta_view(theta)
        cmap = diverging_colormap()
        vals = []
        for c, r in self._spot_keys:
            if c == 0:
                vals.append(None)   # inputs have no bias: neutral fill
                continue
            b = net.weights[c - 1][1]
            bb = b[2 * r] if self.acts[c] == "maxout" else b[r]
            vals.append(0.5 + 0.5 * float(np.tanh(bb)))
        self.nodes.setBrush([pg.mkBrush(NODE_FILL) if v is None else
                             pg.mkBrush(cmap.mapToQColor(v)) for v in vals])

    def _update_unit_states(self) -> None:
        dead, sat = [], []
        for (c, r), (x, y) in self.node_pos.items():
            if c == 0 or self._off is None:
                continue
            if self._off[c - 1][r] >= DEAD_FRACTION:
                dead.append((x, y))
            elif self._sat[c - 1][r] >= SAT_FRACTION:
                sat.append((x, y))
        self.dead_nodes = dead
        self.dead_item.setData(pos=np.array(dead).reshape(-1, 2))
        self.sat_item.setData(pos=np.array(sat).reshape(-1, 2))

    def _on_units_highlighted(self, units) -> None:
        self.highlighted = [(int(l), int(u)) for l, u in (units or [])]
        if self.plot is not None:
            self._update_rings()

    def _on_walkthrough_changed(self, where) -> None:
        self.walkthrough = where
        if self.plot is None or not hasattr(self, "bands"):
            return
        cols = set(where["columns"]) if where else set()
        for c, band in enumerate(self.bands):
            band.setVisible(c in cols)
        self.band_label.setText(f"backprop step {where['name']}" if where else "")
        self._fit_labels()

    def _update_rings(self) -> None:
        pos = [self.node_pos[(l + 1, u)] for l, u in self.highlighted
               if (l + 1, u) in self.node_pos]
        self.ring_item.setData(pos=np.array(pos).reshape(-1, 2))

    # --- selection and editing ---------------------------------------------------------------------
    def _on_nodes_clicked(self, item, points, ev=None) -> None:
        if len(points):
            c, r = points[0].data()
            self.select_node(int(c), int(r))

    def select_node(self, col: int, unit: int) -> None:
        """Show node ``unit`` of column ``col`` (0 = inputs) in the side panel."""
        if (col, unit) not in self.node_pos:
            return
        self.selected = (col, unit)
        self._edit_answer("")
        self.sel_under.setData(pos=[self.node_pos[(col, unit)]])
        self.sel_item.setData(pos=[self.node_pos[(col, unit)]])
        self._fill_edit_targets()
        self._show_node_info()

    def _fill_edit_targets(self) -> None:
        self.edit_target.clear()
        if self.selected is None or self.selected[0] == 0:
            self._set_editor_enabled(False)
            return
        c, j = self.selected
        names = self._input_names(c - 1)
        for row, piece in self._rows_of(c, j):
            self.edit_target.addItem(f"bias{piece}", (row, -1))
            for k, nm in enumerate(names):
                self.edit_target.addItem(f"w from {nm}{piece}", (row, k))
        self._set_editor_enabled(not self.ctx.replay)

    def _rows_of(self, c: int, j: int) -> list[tuple[int, str]]:
        """Rows of W_{c-1} belonging to unit j (two pieces for maxout)."""
        if self.acts[c] == "maxout":
            return [(2 * j, " (piece 1)"), (2 * j + 1, " (piece 2)")]
        return [(j, "")]

    def _input_names(self, l: int) -> list[str]:
        n_in = self.units[l]
        if l == 0:
            names = list(self.ctx.dataset.feature_names)
            return names + [f"x{k + 1}" for k in range(len(names), n_in)]
        return [f"unit {k}" for k in range(n_in)]

    def _set_editor_enabled(self, on: bool) -> None:
        for w in (self.edit_target, self.edit_value, self.edit_button):
            w.setEnabled(on)

    def _on_table_clicked(self, row: int, col: int) -> None:
        if 0 <= row < self.edit_target.count():
            self.edit_target.setCurrentIndex(row)
            item = self.table.item(row, 1)
            if item is not None:
                self.edit_value.setText(item.text())

    def _on_set_clicked(self) -> None:
        if self.selected is None or self.selected[0] == 0 or self.ctx.replay:
            return
        target = self.edit_target.currentData()
        text = self.edit_value.text().strip()
        try:
            value = float(text)
        except ValueError:
            self._edit_answer(f"'{text}' is not a number", error=True)
            return
        if not np.isfinite(value):
            self._edit_answer("the weight must be a finite number", error=True)
            return
        row, col = target
        self.bus.weight_edit_requested.emit(self.selected[0] - 1, int(row), int(col), value)
        self._edit_answer(f"{self.edit_target.currentText()} set to {value:g} at the next step")

    def _edit_answer(self, text: str, error: bool = False) -> None:
        self.edit_status.setText(text)
        self.edit_status.setVisible(bool(text))     # no room taken from a short dock
        self.edit_status.setStyleSheet("color: #d62728;" if error else "")
        self.edit_value.setProperty("invalid", error)
        self.edit_value.style().unpolish(self.edit_value)
        self.edit_value.style().polish(self.edit_value)

    def _show_node_info(self) -> None:
        if self.selected is None:
            self.node_title.setText("click a unit to see its weights")
            self.node_stats.setText("")
            self.table.setRowCount(0)
            return
        c, j = self.selected
        if c == 0:
            names = self._input_names(0)
            self.node_title.setText(f"input {names[j]}")
            self.node_stats.setText("an input feature: it has no incoming weights")
            self.table.setRowCount(0)
            return
        l = c - 1
        name = self.ctx.layer_names[l]
        self.node_title.setText(f"{name}, unit {j}")
        rows = []
        if self._theta is not None:
            W, b = self.ctx.theta_view(self._theta).weights[l]
            names = self._input_names(l)
            for row, piece in self._rows_of(c, j):
                rows.append((f"bias{piece}", float(b[row])))
                rows += [(f"{nm}{piece}", float(W[row, k])) for k, nm in enumerate(names)]
        self.table.setRowCount(len(rows))
        for i, (nm, v) in enumerate(rows):
            for k, text in enumerate((nm, f"{v:.4g}")):
                it = self.table.item(i, k)
                if it is None:
                    it = QtWidgets.QTableWidgetItem()
                    self.table.setItem(i, k, it)
                it.setText(text)
                if k == 1:
                    it.setForeground(QtGui.QColor(CLASS_COLORS[1 if v > 0 else 0]))
        parts = []
        if self._off is not None:
            act = self.acts[c]
            off, sat = float(self._off[l][j]), float(self._sat[l][j])
            if act == "relu":
                parts.append(f"off (z <= 0) on {off:.1%} of training samples"
                             + (": dead" if off >= DEAD_FRACTION else ""))
            elif act in ("sigmoid", "tanh"):
                parts.append(f"saturated (f' < 0.01) on {sat:.1%} of training samples")
            else:
                parts.append(f"{act}: no off/saturated statistics")
        if rows:
            ws = np.array([v for nm, v in rows if not nm.startswith("bias")])
            if ws.size:
                parts.append(f"|w| mean {np.mean(np.abs(ws)):.3g}, max {np.max(np.abs(ws)):.3g}")
        self.node_stats.setText("\n".join(parts))

    # --- export ----------------------------------------------------------------------------------
    def export_item(self):
        return self.plot

    def export_csv(self):
        if self._theta is None or self.ctx is None:
            return None
        net = self.ctx.theta_view(self._theta)
        rows = []
        for l, (W, b) in enumerate(net.weights):
            for r in range(W.shape[0]):
                rows.append([l, r, -1, float(b[r])])
                rows += [[l, r, k, float(W[r, k])] for k in range(W.shape[1])]
        return ["layer", "row", "col", "value"], rows


class _Net:
    """Stands in for a Run when the maps are computed on the GUI thread (replay)."""

    def __init__(self, network):
        self.network = network
