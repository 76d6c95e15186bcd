"""Weight and gradient histograms per layer over time.

The histograms are counted on the worker's side (:meth:`WeightsPanel.worker_views`, at
most :data:`HIST_HZ` times a second) over a fixed number of bins and a stable symmetric
range per layer and kind: ``[-R, R]`` with R a power of two, doubled as soon as a value
falls outside and halved only after the values stayed well inside for a while, so the
picture does not jump. The panel keeps the rows it receives and shows them as an image
of step x value (brightness: log of the count, fixed levels) with the newest histogram
beside it as bars. When the range changes, the stored rows are re-binned once.
"""
from __future__ import annotations

import itertools
import math
import time
from typing import Any, Callable

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ..context import RunContext
from .timeaxis import TimePanel, cache_painting, nice_ceil

N_BINS = 64                  # a multiple of 4: doubling R merges bins exactly
HIST_HZ = 5.0
VIEW_NAME = "weight_histograms"
KINDS = ("weights", "gradients")
MAX_ROWS = 1024              # per layer and kind; older rows are thinned out beyond
IMAGE_COLUMNS = 512          # the image is resampled onto this many equal step intervals
R_MIN = 2.0 ** -20           # the range of an all-zero layer
SHRINK_PATIENCE = 25         # computations (5 s at 5 Hz) well inside before halving R
COLORMAP = "viridis"


def _pow2_ceil(x: float) -> float:
    return 2.0 ** math.ceil(math.log2(max(x, R_MIN)))


class HistogramRanges:
    """The symmetric range ``[-R, R]`` of each (kind, layer), R a power of two.

    R grows at once to the next power of two above 1.05 max|v|; it shrinks (to twice
    what is needed) only when that need stayed at or below R / 8 for ``patience``
    consecutive calls, so the bins are stable while training changes the values slowly.
    """

    def __init__(self, patience: int = SHRINK_PATIENCE):
        self.patience = patience
        self.R: dict[Any, float] = {}
        self._low: dict[Any, int] = {}

    def update(self, key, amax: float) -> float:
        """Return R for ``key`` after seeing values with max|v| = ``amax``."""
        need = _pow2_ceil(min(1.05 * amax, 1e300)) if math.isfinite(amax) and amax > 0 \
            else R_MIN
        R = self.R.get(key)
        if R is None or need > R:
            R, self._low[key] = need, 0
        elif need <= R / 8:
            self._low[key] = self._low.get(key, 0) + 1
            if self._low[key] >= self.patience:
                R, self._low[key] = 2 * need, 0
        else:
            self._low[key] = 0
        self.R[key] = R
        return R


def count_bins(v: np.ndarray, R: float, bins: int = N_BINS) -> np.ndarray:
    """Counts of the finite values of ``v`` in ``bins`` equal bins over [-R, R].

    Values outside are counted in the end bins (as the core's histogram kernel does).

    Returns
    -------
    ndarray, shape (bins,), int64
    """
    v = v[np.isfinite(v)]
    idx = np.floor((v + R) * (bins / (2.0 * R))).astype(np.int64)
    np.clip(idx, 0, bins - 1, out=idx)
    return np.bincount(idx, minlength=bins)


def compute_histograms(theta: np.ndarray, grad: np.ndarray | None, slices: list[slice],
                       ranges: HistogramRanges, step: int, tick: int,
                       bins: int = N_BINS) -> dict:
    """Histograms of each layer's parameters (and gradient) for one moment.

    Parameters
    ----------
    theta, grad : ndarray, shape (n_params,)
        Flat parameters and last gradient (``grad`` may be None: no gradient rows).
    slices : list of slice
        Each layer's part of the flat vector (``Network.layer_slice``).

    Returns
    -------
    dict
        ``step``, ``tick`` (a counter: a new computation), ``n_params`` (per layer), and
        for each kind present a list per layer of ``(counts (bins,), R)``.
    """
    out: dict[str, Any] = {"step": int(step), "tick": int(tick), "bins": bins,
                           "n_params": [s.stop - s.start for s in slices]}
    for kind, flat in (("weights", theta), ("gradients", grad)):
        if flat is None:
            continue
        rows = []
        for l, sl in enumerate(slices):
            v = np.asarray(flat[sl], dtype=np.float64)
            finite = v[np.isfinite(v)]
            amax = float(np.abs(finite).max()) if finite.size else 0.0
            R = ranges.update((kind, l), amax)
            rows.append((count_bins(finite, R, bins), R))
        out[kind] = rows
    return out


def rebin_matrix(R_old: float, R_new: float, bins: int = N_BINS) -> np.ndarray:
    """The linear map of cumulative counts on the old bin edges to the new edges.

    ``C_new = C_old @ M.T`` with C of shape (n, bins + 1), linear inside each old bin.
    A wider range keeps every count (with ``bins`` a multiple of 4 and R doubled, old
    bins merge exactly); a narrower one drops the mass outside it, so old rows show only
    what lies within the new range instead of piling up in the end bins.

    Returns
    -------
    ndarray, shape (bins + 1, bins + 1)
    """
    e_old = np.linspace(-R_old, R_old, bins + 1)
    e_new = np.linspace(-R_new, R_new, bins + 1)
    eye = np.eye(bins + 1)
    # column j: where a unit step of C_old at edge j lands; outside the old range the
    # cumulative count is 0 on the left and the total on the right
    return np.stack([np.interp(e_new, e_old, eye[:, j]) for j in range(bins + 1)], axis=1)


class RowStore:
    """The histogram rows of one (kind, layer) over time, on one range ``[-R, R]``."""

    def __init__(self, bins: int = N_BINS, capacity: int = MAX_ROWS):
        self.bins = bins
        self.steps = np.zeros(capacity, np.int64)
        self.counts = np.zeros((capacity, bins), np.float32)
        self.n = 0
        self.R = 0.0
        self.rebins = 0

    def add(self, step: int, counts: np.ndarray, R: float) -> None:
        """Append the histogram at ``step`` (rows at or after ``step`` are dropped first:
        a rewound run, or a recomputation at the same step)."""
        self.n = int(np.searchsorted(self.steps[:self.n], step, side="left"))
        if self.n and R != self.R:
            self._rebin(R)
        self.R = R
        if self.n == self.steps.shape[0]:
            # full: keep every other row (time resolution of the old part halves)
            keep = np.arange(0, self.n, 2)
            k = keep.size
            self.steps[:k] = self.steps[keep]
            self.counts[:k] = self.counts[keep]
            self.n = k
        self.steps[self.n] = step
        self.counts[self.n] = counts
        self.n += 1

    def _rebin(self, R: float) -> None:
        c = self.counts[:self.n].astype(np.float64)
        cum = np.zeros((self.n, self.bins + 1))
        np.cumsum(c, axis=1, out=cum[:, 1:])
        cum = cum @ rebin_matrix(self.R, R, self.bins).T
        self.counts[:self.n] = np.diff(cum, axis=1)
        self.rebins += 1

    def image(self, upto: int, columns: int = IMAGE_COLUMNS) -> tuple[np.ndarray, float, float]:
        """The rows resampled onto equal step intervals from the first row to ``upto``.

        Returns
        -------
        img : ndarray, shape (w, bins)
            Column i holds the row in effect at the middle of interval i.
        s0, s1 : float
            The steps the image spans.
        """
        steps = self.steps[:self.n]
        s0 = float(steps[0])
        s1 = float(max(upto, steps[-1] + 1))
        w = int(min(columns, max(1.0, s1 - s0)))
        centers = s0 + (np.arange(w) + 0.5) * ((s1 - s0) / w)
        idx = np.searchsorted(steps, centers, side="right") - 1
        return self.counts[np.maximum(idx, 0)], s0, s1


class WeightsPanel(TimePanel):
    """Weight and gradient histograms of one layer over time, and the newest ones."""
    object_name = "weights"
    max_hz = 10.0       # the histograms come at HIST_HZ; the images are costly to repaint
    title = "Weights"
    area = "bottom"
    has_log_toggle = False
    fallback_hz = HIST_HZ      # weight rows counted here when the worker sends none
    help_text = (
        "How the values of one layer's weights (top) and of its gradient (bottom) are "
        "spread, over training steps: each column is a histogram at that step, brighter "
        "= more parameters with that value (log scale). The bars on the right are the "
        "newest histograms (counts of parameters). Healthy weights spread out slowly "
        "from their initialization. All weights equal (a thin line): symmetric init, the "
        "units cannot differ. Weights running off to large values: learning rate too "
        "high or no regularization. Gradients collapsing to a line at 0: vanishing "
        "gradients or dead units.")

    # --- building -------------------------------------------------------------------
    def _build_toolbar(self) -> None:
        self.toolbar.addWidget(QtWidgets.QLabel("layer"))
        self.layer_box = QtWidgets.QComboBox(self)
        self.layer_box.setToolTip("The layer whose weights and gradients are shown")
        self.layer_box.currentIndexChanged.connect(self._on_layer_changed)
        self.toolbar.addWidget(self.layer_box)
        self.info = QtWidgets.QLabel("", self)
        self.toolbar.addWidget(self.info)

    def _build_plots(self) -> None:
        cmap = pg.colormap.get(COLORMAP)
        lut = cmap.getLookupTable(0.0, 1.0, 256)
        self.images: dict[str, pg.ImageItem] = {}
        self.bars: dict[str, pg.BarGraphItem] = {}
        self.bar_plots: dict[str, pg.PlotItem] = {}
        for row, kind in enumerate(KINDS):
            plot = self._add_time_plot(f"{kind[:-1]} value", row=row, col=0,
                                       show_x_label=(row == len(KINDS) - 1))
            plot.getViewBox().setAutoVisible(y=False)
            img = pg.ImageItem(axisOrder="col-major")
            img.setLookupTable(lut)
            img.setLevels((0.0, 1.0))
            plot.addItem(img)
            img.setZValue(-20)
            self.images[kind] = img
            bar_plot = self.graphics.addPlot(row=row, col=1)
            bar_plot.hideButtons()
            bar_plot.setMaximumWidth(170)
            bar_plot.setYLink(plot)
            bar_plot.hideAxis("left")
            bar_plot.setLabel("bottom", "parameters" if kind == "weights" else "gradient entries")
            bar_plot.getAxis("bottom").enableAutoSIPrefix(False)
            bar_plot.showGrid(x=True, alpha=0.15)
            cache_painting(*(bar_plot.getAxis(k) for k in ("left", "bottom", "top", "right")))
            # the count axis is set with the bars (_steady_counts): fitted automatically
            # before each paint it moved after the paint and the view painted twice
            bar_plot.getViewBox().enableAutoRange(x=False)
            bars = pg.BarGraphItem(x0=[0.0], y=[0.0], height=[0.0], width=[0.0],
                                   brush=pg.mkBrush(cmap.map(0.75, mode="qcolor")),
                                   pen=pg.mkPen(None))
            bar_plot.addItem(bars)
            self.bars[kind], self.bar_plots[kind] = bars, bar_plot
        self.graphics.ci.layout.setColumnStretchFactor(0, 4)
        self.graphics.ci.layout.setColumnStretchFactor(1, 1)

    def _build_curves(self, ctx: RunContext) -> None:
        self._stores = {(k, l): RowStore() for k in KINDS for l in range(ctx.n_layers)}
        self._n_params = [ctx.network.layer_slice(l).stop - ctx.network.layer_slice(l).start
                          for l in range(ctx.n_layers)]
        self._last_tick = None
        self._fallback_ranges = HistogramRanges()
        self._fallback_tick = itertools.count(1)
        self._fallback_time = -math.inf
        self._current: dict[str, tuple[np.ndarray, float]] = {}
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        self.layer_box.addItems(ctx.layer_names)
        self.layer_box.setCurrentIndex(0)
        self.layer_box.blockSignals(False)
        for kind in KINDS:
            self.images[kind].clear()
            self.bars[kind].setOpts(x0=[0.0], y=[0.0], height=[0.0], width=[0.0])

    @staticmethod
    def worker_views(ctx: RunContext) -> dict[str, tuple[Callable[[Any], Any], float]]:
        """Count the histograms off the GUI thread, :data:`HIST_HZ` times a second."""
        slices = [ctx.network.layer_slice(l) for l in range(ctx.n_layers)]
        ranges = HistogramRanges()
        ticks = itertools.count(1)

        def histograms(run) -> dict:
            return compute_histograms(run.network.theta, getattr(run, "gradient", None),
                                      slices, ranges, run.step, next(ticks))

        return {VIEW_NAME: (histograms, HIST_HZ)}

    # --- updating ---------------------------------------------------------------------
    @property
    def layer(self) -> int:
        return max(0, self.layer_box.currentIndex())

    def set_layer(self, l: int) -> None:
        self.layer_box.setCurrentIndex(int(l))

    def _on_layer_changed(self, index: int) -> None:
        if self._snap is not None:
            self._redraw(self._snap.step)

    def _ingest(self, view: dict) -> None:
        for kind in KINDS:
            for l, (counts, R) in enumerate(view.get(kind) or ()):
                store = self._stores.get((kind, l))
                if store is not None:
                    store.add(view["step"], counts, R)

    def _update_data(self, snap) -> None:
        view = snap.views.get(VIEW_NAME) if snap.views else None
        if isinstance(view, Exception):
            self.info.setText(f"histograms failed: {view}")
            return
        if view is None:
            # no worker view (replay, or a window that did not register it): count the
            # weights here at the same bounded rate; gradients are not in a snapshot
            now = time.monotonic()
            if now - self._fallback_time < 1.0 / self.fallback_hz:
                return
            self._fallback_time = now
            slices = [self.ctx.network.layer_slice(l) for l in range(self.ctx.n_layers)]
            view = compute_histograms(snap.theta, None, slices, self._fallback_ranges,
                                      snap.step, next(self._fallback_tick))
            view["tick"] = ("local", view["tick"])
        # redraw only with a new row (at most HIST_HZ a second): the image then ends at
        # the newest row, not at the newest step
        if view["tick"] != self._last_tick:
            self._last_tick = view["tick"]
            self._ingest(view)
            self._redraw(snap.step)

    def _redraw(self, step: int) -> None:
        l = self.layer
        parts = []
        for kind in KINDS:
            store = self._stores.get((kind, l))
            img_item, bars = self.images[kind], self.bars[kind]
            if store is None or store.n == 0:
                img_item.clear()
                bars.setOpts(x0=[0.0], y=[0.0], height=[0.0], width=[0.0])
                self._current.pop(kind, None)
                continue
            img, s0, s1 = store.image(step)
            # brightness = log count relative to the layer's size: fixed levels 0..1
            scale = 1.0 / math.log1p(max(self._n_params[l], 1))
            img_item.setImage(np.log1p(img) * scale, autoLevels=False, levels=(0.0, 1.0))
            R = store.R
            img_item.setRect(QtCore.QRectF(s0, -R, s1 - s0, 2 * R))
            counts = store.counts[store.n - 1]
            width = 2 * R / store.bins
            centers = -R + (np.arange(store.bins) + 0.5) * width
            bars.setOpts(x0=np.zeros(store.bins), y=centers, height=width * 0.9, width=counts)
            self._steady_counts(self.bar_plots[kind], float(counts.max()))
            self._current[kind] = (centers, counts)
            parts.append(f"{kind} ±{R:g}")
        self.info.setText("range: " + ", ".join(parts) if parts else "waiting for data")

    @staticmethod
    def _steady_counts(plot: pg.PlotItem, top: float) -> None:
        """Show counts 0 .. a round number above ``top``; kept while the bars fill
        between 40 % and 100 % of it, so the axis (and the view) is not redrawn with
        every new histogram."""
        hi = plot.getViewBox().viewRange()[0][1]
        if top > hi or top < 0.4 * hi:
            plot.setXRange(0.0, nice_ceil(max(1.1 * top, 1.0)), padding=0)

    # --- for tests and export ---------------------------------------------------------------
    def curve_names(self) -> list[str]:
        return [f"{k}_current" for k in KINDS]

    def curve_data(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``weights_current`` / ``gradients_current``: bin centres and counts of the
        newest histogram of the shown layer."""
        self._flush()
        kind = name.removesuffix("_current")
        if kind not in KINDS:
            raise KeyError(name)
        centers, counts = self._current.get(kind, (np.zeros(0), np.zeros(0)))
        return np.asarray(centers), np.asarray(counts)

    def rows(self, kind: str = "weights", layer: int | None = None) -> tuple[np.ndarray, np.ndarray, float]:
        """``(steps (n,), counts (n, bins), R)`` stored for one kind and layer."""
        self._flush()
        store = self._stores[(kind, self.layer if layer is None else layer)]
        return store.steps[:store.n].copy(), store.counts[:store.n].copy(), store.R

    def image_data(self, kind: str = "weights") -> np.ndarray | None:
        """The image shown for ``kind`` (shape (columns, bins)), or None."""
        self._flush()
        return self.images[kind].image

    def export_item(self):
        return self.graphics.scene()

    def export_csv(self) -> tuple[list[str], list[list[float]]] | None:
        """Every stored histogram row of the shown layer, one line per bin."""
        self._flush()
        l = self.layer
        out = []
        for g, kind in enumerate(KINDS):
            store = self._stores.get((kind, l))
            if store is None or store.n == 0:
                continue
            edges = np.linspace(-store.R, store.R, store.bins + 1)
            n, b = store.n, store.bins
            block = np.column_stack([
                np.repeat(store.steps[:n].astype(np.float64), b), np.full(n * b, float(l)),
                np.full(n * b, float(g)), np.tile(edges[:-1], n), np.tile(edges[1:], n),
                store.counts[:n].reshape(-1).astype(np.float64)])
            out.append(block)
        if not out:
            return None
        return (["step", "layer", "is_gradient", "bin_lo", "bin_hi", "count"],
                np.concatenate(out).tolist())


# the names the window's panel registry asks for
WeightHistogramPanel = WeightsPanel

__all__ = ["WeightsPanel", "WeightHistogramPanel", "HistogramRanges", "compute_histograms",
           "count_bins", "rebin_matrix", "RowStore", "VIEW_NAME", "N_BINS"]
