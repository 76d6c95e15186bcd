"""What every time plot shares: the step axis, event markers, smoothing, log-y, help.

All time plots of one window share one step axis (:class:`StepAxisGroup`, one per
:class:`~workbench.ui.bus.UiBus`): one zoom moves all of them, and while the user has not
zoomed the axis follows the run from step 0 to the newest step. Each plot carries
:class:`EventMarkers`: labelled vertical lines at the steps where hyperparameters or
weights were changed by hand or the run was rewound, a mark at the step of a selected
finding and the replay cursor. :class:`TimePanel` is the base of the time-plot panels.
"""
from __future__ import annotations

import math
import weakref
from typing import Any, Callable, ClassVar, Iterable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets
from scipy.signal import lfilter

from ..bus import UiBus
from ..context import RunContext
from .base import Panel, on_screen

# Where each live hyperparameter starts: its key in the run configuration (the same
# names as Run.hp and the payload of an "hparams" event).
HP_PATHS = {"lr": "optimizer.lr", "momentum": "optimizer.momentum",
            "nesterov": "optimizer.nesterov", "decay": "optimizer.decay",
            "l1": "regularization.l1", "l2": "regularization.l2",
            "batch_size": "training.batch_size"}

STEP_LABEL = ("step", "mini-batch updates")
TRAIN_COLOR = "#1f77b4"     # train blue, test orange: as in every course's plots
TEST_COLOR = "#ff7f0e"
EVENT_COLORS = {"hparams": "#6c8ebf", "weight": "#9467bd", "rewind": "#d62728"}
MARK_COLOR = "#e0a100"      # a selected finding (the warning amber of UI.md)
CURSOR_COLOR = "#7f7f7f"
MIN_SPAN = 10               # the step axis spans at least this many steps


# --- smoothing -------------------------------------------------------------------------
def debiased_ema(y: np.ndarray, weight: float) -> np.ndarray:
    """Smooth ``y`` with TensorBoard's debiased exponential moving average.

    With w = ``weight`` and k counting the finite values so far,
    ``m_k = w m_{k-1} + (1 - w) y_k`` (m_0 = 0) and the shown value is
    ``m_k / (1 - w^k)``, which removes the pull towards the zero start. Non-finite values
    (a NaN loss) are shown as they are and do not enter the average.

    Parameters
    ----------
    y : ndarray, shape (n,)
    weight : float
        In [0, 1); 0 returns ``y`` unchanged.

    Returns
    -------
    ndarray, shape (n,), float64
    """
    y = np.asarray(y, dtype=np.float64)
    if weight <= 0.0 or y.size == 0:
        return y.copy()
    out = y.copy()
    finite = np.isfinite(y)
    vals = y[finite]
    if vals.size:
        m = lfilter([1.0 - weight], [1.0, -weight], vals)
        k = np.arange(1, vals.size + 1, dtype=np.float64)
        out[finite] = m / -np.expm1(k * math.log(weight))     # 1 - w^k, exact for small w^k
    return out


class EMACache:
    """An incrementally updated :func:`debiased_ema` of a growing series.

    The history only grows between frames (or is cut back by a rewind), so each frame
    smooths only the new values; the result is a view into a growing buffer.
    """

    def __init__(self):
        self.weight = 0.0
        self._buf = np.zeros(0)
        self._n = 0
        self._zi = np.zeros(1)
        self._k = 0                # finite values averaged so far
        self._first = math.nan     # y[0] and y[n-1] seen last time: detect a new series
        self._last = math.nan

    @staticmethod
    def _same(a: float, b: float) -> bool:
        return a == b or (math.isnan(a) and math.isnan(b))

    def update(self, y: np.ndarray, weight: float) -> np.ndarray:
        """Return the smoothed series for ``y`` (shape (n,)); a view, do not modify."""
        n = y.shape[0]
        if weight <= 0.0:
            self.weight, self._n = 0.0, 0
            return y
        fresh = (weight != self.weight or n < self._n or
                 (self._n and not (self._same(float(y[0]), self._first) and
                                   self._same(float(y[self._n - 1]), self._last))))
        if fresh:
            self.weight, self._n, self._k = weight, 0, 0
            self._zi = np.zeros(1)
        if n > self._buf.shape[0]:
            new = np.zeros(max(n, 2 * self._buf.shape[0], 1024))
            new[:self._n] = self._buf[:self._n]
            self._buf = new
        if n > self._n:
            w = self.weight
            new = np.asarray(y[self._n:n], dtype=np.float64)
            out = new.copy()
            finite = np.isfinite(new)
            vals = new[finite]
            if vals.size:
                m, self._zi = lfilter([1.0 - w], [1.0, -w], vals, zi=self._zi)
                k = np.arange(self._k + 1, self._k + vals.size + 1, dtype=np.float64)
                out[finite] = m / -np.expm1(k * math.log(w))
                self._k += vals.size
            self._buf[self._n:n] = out
            self._n = n
        if n:
            self._first, self._last = float(y[0]), float(y[n - 1])
        return self._buf[:n]


# --- level of detail ---------------------------------------------------------------------
MAX_BUCKETS = 2048           # a full-width plot gets 1024..2048 min/max pairs
LOD_MIN_POINTS = 4096        # shorter series are drawn as they are
# Wide or dashed pens go through Qt's stroker: on 4,000 points a 2 px line costs 4-8 ms
# a frame (25 ms half transparent) against 1 ms at 1 px. Such curves (the smoothed loss,
# dead and saturated fractions) are smooth or steady, so they are decimated coarser and
# earlier: 256..512 min/max pairs, a bucket at most PX_PER_THICK_BUCKET pixels wide.
THICK_BUCKETS = 512
THICK_LOD_MIN_POINTS = 2 * THICK_BUCKETS
PX_PER_THICK_BUCKET = 6.0
EVAL_SYMBOL_MAX = 100        # evaluation dots only while there are few (scatter is slow)


class PeakDecimator:
    """Min and max of a growing series over buckets of ``b`` consecutive steps.

    What pyqtgraph's peak downsampling computes each frame over the whole history, kept
    up to date incrementally: each frame reduces only the new complete buckets, and when
    there are more than ``max_buckets`` the bucket size doubles by merging pairs. The
    result draws the whole run at 1024..2048 vertical min-max strokes, so no spike is
    lost and a frame costs the same at 100 or 1,000,000 steps. Non-finite values: NaN
    is skipped within a bucket (a bucket of only NaN stays NaN), inf is kept.
    """

    def __init__(self, max_buckets: int = MAX_BUCKETS):
        self.max_buckets = max_buckets
        self.reset()

    def reset(self) -> None:
        self.b = 1                               # steps per bucket (a power of two)
        self.nb = 0                              # complete buckets reduced
        self._min = np.zeros(2 * self.max_buckets + 2)
        self._max = np.zeros(2 * self.max_buckets + 2)
        self._n = 0
        self._first = math.nan
        self._last = math.nan

    def bucket_size(self, n: int) -> int:
        """The bucket size :meth:`update` uses for a series of length ``n``."""
        b = 1
        while n // b > self.max_buckets:
            b *= 2
        return b

    def _fresh(self, y: np.ndarray) -> bool:
        n = y.shape[0]
        if n < self._n:
            return True
        if not self._n:
            return False
        same = EMACache._same
        return not (same(float(y[0]), self._first) and same(float(y[self._n - 1]), self._last))

    def update(self, y: np.ndarray, x0: float = 1.0, coarsen: int = 1
               ) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(x, y)`` to draw for the series ``y`` whose entry i is at step x0 + i.

        Parameters
        ----------
        coarsen : int
            A power of two: draw groups of this many buckets as one (the plot's pixels
            are wider than the buckets). The stored buckets keep their resolution.

        Returns
        -------
        x, y : ndarray, shape (2 * nb / coarsen + tail,)
            For each bucket its min and max at the bucket's middle step, then the
            values of the last, incomplete bucket as they are.
        """
        n = y.shape[0]
        if self._fresh(y):
            self.reset()
        while n // self.b > self.max_buckets:
            k = self.nb // 2                     # an odd last bucket is redone from y
            self._min[:k] = np.fmin(self._min[0:2 * k:2], self._min[1:2 * k:2])
            self._max[:k] = np.fmax(self._max[0:2 * k:2], self._max[1:2 * k:2])
            self.nb, self.b = k, self.b * 2
        target = n // self.b
        if target > self.nb:
            block = np.asarray(y[self.nb * self.b:target * self.b], dtype=np.float64)
            block = block.reshape(target - self.nb, self.b)
            self._min[self.nb:target] = np.fmin.reduce(block, axis=1)
            self._max[self.nb:target] = np.fmax.reduce(block, axis=1)
            self.nb = target
        self._n = n
        if n:
            self._first, self._last = float(y[0]), float(y[n - 1])
        nb, b = self.nb, self.b
        lo, hi = self._min[:nb], self._max[:nb]
        if coarsen > 1 and nb >= 2 * coarsen:
            nb //= coarsen          # the buckets past the last whole group: the tail
            lo = np.fmin.reduce(lo[:nb * coarsen].reshape(nb, coarsen), axis=1)
            hi = np.fmax.reduce(hi[:nb * coarsen].reshape(nb, coarsen), axis=1)
            b *= coarsen
        tail = n - nb * b
        xs = np.empty(2 * nb + tail)
        ys = np.empty(2 * nb + tail)
        mid = x0 + np.arange(nb) * b + (b - 1) / 2.0
        xs[0:2 * nb:2] = mid
        xs[1:2 * nb:2] = mid
        ys[0:2 * nb:2] = lo
        ys[1:2 * nb:2] = hi
        xs[2 * nb:] = x0 + np.arange(nb * b, n)
        ys[2 * nb:] = y[nb * b:n]
        return xs, ys


class StepCurve(pg.PlotCurveItem):
    """A per-step curve: a bare :class:`~pyqtgraph.PlotCurveItem` with the two things of
    :class:`~pyqtgraph.PlotDataItem` a time plot needs, log-y and clipping to the view.

    The panel hands it data that is already decimated (:class:`PeakDecimator`) or, when
    the user has zoomed in past the decimation, the full series, of which only the part
    in view (and a point either side) is drawn. PlotDataItem's general pipeline (FFT,
    derivative, mean subtraction, its own downsampling, bounds of the original and of
    the displayed data) cost about 0.5 ms a setData in the window; this costs ~0.05 ms.
    Non-finite values leave gaps (``connect="finite"``); log-y draws values <= 0 as gaps.
    """

    CLIP_MIN = 2048      # shorter series are drawn whole

    def __init__(self, **kw):
        super().__init__(**kw)
        self.opts["logMode"] = [False, False]
        self._x = self._y = None         # the original data (not log-mapped, not clipped)
        self._span = (0, 0)              # the slice of it drawn
        self.dots: pg.ScatterPlotItem | None = None
        self.max_dots = 0

    def set_dots(self, symbol: str, size: float, brush, pen, max_dots: int) -> None:
        """Mark each point with ``symbol`` while the curve has at most ``max_dots``
        points (evaluations: a dot each while there are few; a scatter of thousands is
        slow and unreadable). The legend shows the symbol."""
        self.dots = pg.ScatterPlotItem(symbol=symbol, size=size, brush=brush, pen=pen,
                                       pxMode=True)
        self.dots.setParentItem(self)        # shown, hidden and removed with the curve
        self.max_dots = int(max_dots)
        self.opts.update(symbol=symbol, size=size, brush=brush)   # the legend's sample

    # the names PlotDataItem callers and tests use
    def getOriginalDataset(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        return self._x, self._y

    def setLogMode(self, x_mode: bool, y_mode: bool) -> None:
        if self.opts["logMode"] == [bool(x_mode), bool(y_mode)]:
            return
        self.opts["logMode"] = [bool(x_mode), bool(y_mode)]
        self._show()

    def setData(self, *args, **kw) -> None:
        """``setData(x, y)``: the series to draw; ``setData([], [])`` empties the curve."""
        if len(args) == 2 and not kw:
            self._x = np.asarray(args[0], dtype=np.float64)
            self._y = np.asarray(args[1], dtype=np.float64)
            self._show()
        else:       # PlotCurveItem's own form: its constructor passes the pen and name
            super().setData(*args, **kw)

    def _visible_span(self) -> tuple[int, int]:
        n = self._x.shape[0]
        vb = self.getViewBox()
        if n <= self.CLIP_MIN or vb is None:
            return 0, n
        x0, x1 = vb.viewRange()[0]
        return (max(0, int(np.searchsorted(self._x, x0)) - 1),
                min(n, int(np.searchsorted(self._x, x1, side="right")) + 1))

    def _show(self) -> None:
        if self._x is None:
            return
        self._span = i0, i1 = self._visible_span()
        x, y = self._x[i0:i1], self._y[i0:i1]
        if self.opts["logMode"][1] and y.shape[0]:
            with np.errstate(divide="ignore", invalid="ignore"):
                y = np.where(y > 0, np.log10(np.where(y > 0, y, 1.0)), np.nan)
        few = self.dots is not None and 0 < x.shape[0] <= self.max_dots
        if self.dots is not None:
            self.opts["antialias"] = few
        super().setData(x, y, connect="finite")
        if self.dots is not None and (few or self.dots_shown()):
            ok = np.isfinite(y) if few else slice(0, 0)    # (no dots: nothing to clear)
            self.dots.setData(x[ok], y[ok])

    def dots_shown(self) -> bool:
        return self.dots is not None and len(self.dots.data) > 0

    def viewRangeChanged(self, *args) -> None:
        super().viewRangeChanged()
        if self._x is not None and self._x.shape[0] > self.CLIP_MIN and \
                self._visible_span() != self._span:
            self._show()


# --- event labels ----------------------------------------------------------------------
def initial_hparams(config) -> dict[str, Any]:
    """The live hyperparameters at step 0, from the run configuration."""
    out = {}
    for name, path in HP_PATHS.items():
        try:
            out[name] = config[path]
        except (KeyError, TypeError):
            pass
    return out


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.4g}"
    return "?" if v is None else str(v)


def _label_hparams(payload: dict, hp: dict) -> str:
    parts = []
    for k, v in payload.items():
        parts.append(f"{k} {_fmt(hp.get(k))} -> {_fmt(v)}")
        hp[k] = v
    return ", ".join(parts)


def _label_weight(payload: dict, hp: dict) -> str:
    layer, row, col = payload.get("layer", 0), payload.get("row", 0), payload.get("col", 0)
    value = _fmt(payload.get("value"))
    if col is not None and col < 0:
        return f"b[{layer + 1}]({row}) = {value}"
    return f"w[{layer + 1}]({row},{col}) = {value}"


def _label_rewind(payload: dict, hp: dict) -> str:
    return f"rewind from {payload.get('from_step', '?')} (non-finite)"


#: kind of event -> fn(payload, hp) giving its label; ``hp`` is the running state of the
#: live hyperparameters, updated by "hparams" events. Other kinds get no marker.
EVENT_LABELS: dict[str, Callable[[dict, dict], str]] = {
    "hparams": _label_hparams,
    "weight": _label_weight,
    "rewind": _label_rewind,
}


def label_events(events: Iterable[dict], hp0: dict | None = None) -> list[tuple[int, str, str]]:
    """``(step, kind, label)`` of each event that gets a marker, e.g. "lr 0.3 -> 0.03".

    Parameters
    ----------
    events : iterable of dict
        ``Event.to_dict()`` rows in the order they happened (``snap.events``).
    hp0 : dict, optional
        The live hyperparameters before the first event (:func:`initial_hparams`).
    """
    hp = dict(hp0 or {})
    out = []
    for ev in events:
        fn = EVENT_LABELS.get(ev.get("kind"))
        if fn is not None:
            out.append((int(ev.get("step", 0)), ev["kind"], fn(dict(ev.get("payload") or {}), hp)))
    return out


def label_fill() -> QtGui.QBrush:
    """The plot background, half transparent: labels stay readable over curves in light
    and dark themes."""
    bg = pg.mkColor(pg.getConfigOption("background"))
    bg.setAlpha(190)
    return pg.mkBrush(bg)


def cache_painting(*items: QtWidgets.QGraphicsItem) -> None:
    """Let Qt keep each item's painting as a pixmap, redrawn only when the item changes.

    A plot's axes carry its grid: without the cache every repaint of a curve replays the
    axis pictures with their translucent grid lines across the whole plot, 6-8 ms a
    frame for a 1300 x 330 loss plot; with it the pixmap is blitted (about 0.5 ms).
    Legends change only with the curves they list."""
    for item in items:
        item.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)


def _contrast() -> str:
    """A grey that stands out on the plot background (dot outlines)."""
    return "#e8e8e8" if pg.mkColor(pg.getConfigOption("background")).lightness() < 128 \
        else "#303030"


class EventMarkers:
    """The vertical lines of one time plot: events, the selected finding, the cursor."""

    #: Event labels sit on three heights, so that neighbours do not overprint: this far
    #: apart as a share of the plot's height, and at least LABEL_GAP_PX pixels (a short
    #: plot, such as the weight histograms' two rows, would stack them into each other)
    LABEL_STEP = 0.13
    LABEL_GAP_PX = 24.0   # an 8 pt label with its fill is 22 px tall

    def __init__(self, plot: pg.PlotItem):
        self.plot = plot
        self._lines: list[pg.InfiniteLine] = []
        self._steps: list[int] = []
        self._mark: pg.InfiniteLine | None = None
        self._cursor: pg.InfiniteLine | None = None
        plot.vb.sigResized.connect(self._place_labels)

    def _label_step(self) -> float:
        h = self.plot.vb.height()
        return max(self.LABEL_STEP, self.LABEL_GAP_PX / h) if h > 0 else self.LABEL_STEP

    def _place_labels(self, *_) -> None:
        step = self._label_step()
        for i, line in enumerate(self._lines):
            if line.label is not None:
                line.label.setPosition(0.03 + step * (i % 3))

    def steps(self) -> list[int]:
        """Steps of the drawn event markers, in order."""
        return list(self._steps)

    def labels(self) -> list[str]:
        return [line.label.format for line in self._lines if line.label is not None]

    def set_events(self, labelled: Sequence[tuple[int, str, str]]) -> None:
        """Draw one labelled line per step (events at the same step share a line)."""
        for line in self._lines:
            self.plot.removeItem(line)
        merged: dict[int, tuple[str, list[str]]] = {}
        for step, kind, text in labelled:
            merged.setdefault(step, (kind, []))[1].append(text)
        self._lines, self._steps = [], []
        for step, (kind, texts) in sorted(merged.items()):
            color = EVENT_COLORS.get(kind, CURSOR_COLOR)
            # braces would be read as format fields by the line's label
            text = "; ".join(texts).replace("{", "{{").replace("}", "}}")
            line = pg.InfiniteLine(
                pos=step, angle=90, movable=False,
                pen=pg.mkPen(color, width=1, style=QtCore.Qt.PenStyle.DashLine),
                # placed on their three heights below (_place_labels)
                label=text, labelOpts={"position": 0.03, "color": color,
                                       "anchors": [(0, 1), (0, 1)], "fill": label_fill()})
            line.setZValue(5)
            self.plot.addItem(line, ignoreBounds=True)
            self._lines.append(line)
            self._steps.append(step)
        self._place_labels()

    def _vline(self, current: pg.InfiniteLine | None, step: int | None, color: str,
               width: float, label: str | None) -> pg.InfiniteLine | None:
        if step is None:
            if current is not None:
                current.hide()
            return current
        if current is None:
            current = pg.InfiniteLine(
                pos=step, angle=90, movable=False, pen=pg.mkPen(color, width=width),
                label=label, labelOpts={"position": 0.6, "color": color,
                                        "anchors": [(0, 0.5), (0, 0.5)],
                                        "fill": label_fill()} if label else None)
            current.setZValue(6)
            self.plot.addItem(current, ignoreBounds=True)
        current.setValue(step)
        current.show()
        return current

    def set_mark(self, step: int | None) -> None:
        """Mark the step of a selected finding (None: remove)."""
        self._mark = self._vline(self._mark, step, MARK_COLOR, 2, "{value:.0f}")

    def set_cursor(self, step: int | None) -> None:
        """Put the replay cursor at ``step`` (None: hide)."""
        self._cursor = self._vline(self._cursor, step, CURSOR_COLOR, 1.5, None)

    @property
    def mark_step(self) -> int | None:
        return None if self._mark is None or not self._mark.isVisible() else int(self._mark.value())

    @property
    def cursor_step(self) -> int | None:
        return None if self._cursor is None or not self._cursor.isVisible() else \
            int(self._cursor.value())


# --- the shared step axis ----------------------------------------------------------------
def _alive(obj) -> bool:
    try:
        import shiboken6
        return obj is not None and shiboken6.isValid(obj)
    except ImportError:  # pragma: no cover
        return obj is not None


class StepAxisGroup:
    """Time plots that show the same range of steps (x linked by replication).

    While ``follow`` is on (the start, and after :meth:`reset`), the range is ``[0, hi]``
    with ``hi`` a round number (:func:`step_ceil`) 15-67 % beyond the newest step: the
    curves grow into the free space and the axis rescales only when they reach its end
    (not every frame, which would also make every curve recompute its display every
    frame); a zoom or pan by the user on any member turns it off and is
    copied to the others, which keep it until reset. Only members that are on screen are
    moved; a member that comes on screen calls :meth:`sync` (pyqtgraph's own x links
    would also re-clip every hidden curve on every frame, and line plots of different
    widths up by pixel instead of by step).
    """

    def __init__(self):
        self._members: list[tuple[weakref.ref, Callable[[], bool]]] = []
        self.follow = True
        self.extent = 0
        self.hi = float(MIN_SPAN)
        self.range = (0.0, self.hi)
        self._busy = False

    def _span(self) -> tuple[float, float]:
        return 0.0, self.hi

    def views(self, shown_only: bool = False) -> list[pg.ViewBox]:
        out, keep = [], []
        for ref, shown in self._members:
            vb = ref()
            if not _alive(vb):
                continue
            keep.append((ref, shown))
            if not shown_only or shown():
                out.append(vb)
        self._members = keep
        return out

    def add(self, plot, shown: Callable[[], bool] | None = None) -> None:
        """Link ``plot`` (PlotItem or ViewBox); ``shown()`` says whether it is on screen."""
        vb = plot.getViewBox() if hasattr(plot, "getViewBox") else plot
        vb.enableAutoRange(x=False)
        self._members.append((weakref.ref(vb), shown or (lambda: True)))
        ref = weakref.ref(self)

        def changed(view, rng, _ref=ref):
            group = _ref()
            if group is not None:
                group._on_x_range_changed(view, rng)

        def manual(mask, _ref=ref):
            group = _ref()
            if group is not None and mask is not None and mask[0]:
                group.follow = False

        vb.sigXRangeChanged.connect(changed)
        vb.sigRangeChangedManually.connect(manual)
        self._set(vb, self._span() if self.follow else self.range)

    def _set(self, vb: pg.ViewBox, rng: tuple[float, float]) -> None:
        cur = vb.viewRange()[0]
        if abs(cur[0] - rng[0]) > 1e-9 * max(1.0, abs(rng[1])) or \
                abs(cur[1] - rng[1]) > 1e-9 * max(1.0, abs(rng[1])):
            self._busy = True
            try:
                vb.setXRange(rng[0], rng[1], padding=0)
            finally:
                self._busy = False

    def _on_x_range_changed(self, view: pg.ViewBox, rng) -> None:
        if self._busy:
            return
        self.range = (float(rng[0]), float(rng[1]))
        for vb in self.views(shown_only=True):
            if vb is not view:
                self._set(vb, self.range)

    def set_extent(self, step: int, plots: Sequence | None = None) -> None:
        """The newest step is ``step``: while following, show ``[0, hi]``.

        ``plots``: move only these members (PlotItems or ViewBoxes), the plots of the
        panel being updated; the others follow when their panel is updated. A new
        ``hi`` repaints every plot it moves with new axes, and moving all of them at
        once made one paint pass of every time plot together (bench_ui: most of the
        window's late timer ticks). None: every member on screen."""
        self.extent = int(step)
        if self.extent > self.hi or self.extent < self.hi / 4:     # grown, or a new run
            self.hi = step_ceil(max(1.15 * self.extent, MIN_SPAN))
        if self.follow:
            self.range = self._span()
            if plots is None:
                for vb in self.views(shown_only=True):
                    self._set(vb, self.range)
            else:
                for plot in plots:
                    self._set(plot.getViewBox() if hasattr(plot, "getViewBox") else plot,
                              self.range)

    def sync(self, plot) -> None:
        """Bring one member (coming on screen) to the group's range."""
        vb = plot.getViewBox() if hasattr(plot, "getViewBox") else plot
        self._set(vb, self._span() if self.follow else self.range)

    def reset(self) -> None:
        """Follow the run again (the "Reset view" button)."""
        self.follow = True
        self.set_extent(self.extent)


def _round_up(x: float, mantissas: tuple[float, ...]) -> float:
    """The smallest of ``mantissas`` (ascending, within [1, 10]) times a power of ten that
    is >= ``x`` (> 0)."""
    e = 10.0 ** math.floor(math.log10(x))
    for m in mantissas:
        if m * e >= x * (1 - 1e-12):
            return m * e
    return 10.0 * e  # pragma: no cover


def nice_ceil(x: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten >= ``x``."""
    return _round_up(x, (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0))


def step_ceil(x: float) -> float:
    """The step axis's end: the smallest of 1, 1.5, 2, 3, 5, 7.5 times a power of ten
    >= ``x`` (right after the axis moves the newest step is at 60-75 % of it).

    Six ends a decade, not :func:`nice_ceil`'s ten: each new end redraws every time
    plot's axis with its grid (4-5 ms a plot, seven to nine plots), and with ten ends a
    decade W2 in the window moved it about once a second. Those repaints were most of
    the 10 ms timer's p99 lateness in bench_ui (29.5-30.4 ms in three runs; 23.9-26.6
    with six ends, 19.4-20.4 with 1, 2, 5, which left the curves on 40-50 % of the plot
    after a move).
    """
    return _round_up(x, (1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0))


_GROUPS: "weakref.WeakKeyDictionary[Any, StepAxisGroup]" = weakref.WeakKeyDictionary()


def step_axis_group(bus: UiBus) -> StepAxisGroup:
    """The step axis shared by all time plots of the window that owns ``bus``."""
    group = _GROUPS.get(bus)
    if group is None:
        group = _GROUPS[bus] = StepAxisGroup()
    return group


def link_step_axis(plot, master) -> StepAxisGroup:
    """Link ``plot``'s step axis to ``master`` (a PlotItem of a panel, or a UiBus)."""
    if isinstance(master, UiBus):
        group = step_axis_group(master)
    else:
        mvb = master.getViewBox() if hasattr(master, "getViewBox") else master
        group = next((g for g in list(_GROUPS.values())
                      if any(v is mvb for v in g.views())), None)
        if group is None:
            group = StepAxisGroup()
            group.add(mvb)
            _GROUPS[mvb] = group
    group.add(plot)
    return group


class SteadyViewBox(pg.ViewBox):
    """A view box whose automatic y range moves only when it must.

    pyqtgraph fits the y range to the data on every change, so while a loss falls the
    axis, its labels and its grid are redrawn every frame (the costliest part of a
    time plot's repaint). Here the automatic range keeps its place while the data stay
    inside it and fill at least :attr:`KEEP_FILL` of it; when it has to move it leaves
    :attr:`MARGIN` of the data's span free on each side, so small changes do not move it
    again. A range the user sets (zoom, pan) is unaffected."""
    KEEP_FILL = 0.6
    MARGIN = 0.08

    def setRange(self, rect=None, xRange=None, yRange=None, *args, **kwargs):
        if self._updatingRange and rect is None and yRange is not None:
            yRange = self._steady(yRange)
            if yRange is None and xRange is None:
                return
        return super().setRange(rect, xRange, yRange, *args, **kwargs)

    def _steady(self, want):
        lo, hi = float(want[0]), float(want[1])
        cur_lo, cur_hi = self.viewRange()[1]
        span = hi - lo
        if cur_lo <= lo and hi <= cur_hi and span >= self.KEEP_FILL * (cur_hi - cur_lo):
            return None
        m = self.MARGIN * span
        return (lo - m, hi + m)


class StepAxis(pg.AxisItem):
    """The step axis, whose labels never run into each other. pyqtgraph always draws
    2.25 intervals or more, so a plot in a narrow dock printed "40000" and "60000" into
    each other. Here the major spacing grows 1, 2, 5 times a power of ten until the
    labels that are drawn (pyqtgraph drops one that would stick out of the axis) are a
    gap apart, keeping at least one; the next smaller spacing stays as the minor ticks."""

    LABEL_GAP = 8  # pixels between two labels

    def drawn_labels(self, lo: float, hi: float, size: float, spacing: float):
        """(pixel centre, width) of the labels of major ticks ``spacing`` apart that fit
        inside the axis."""
        metrics = QtGui.QFontMetrics(self.style.get("tickFont") or self.font())
        first = math.ceil(lo / spacing - 1e-9)
        values = [k * spacing for k in range(first, math.floor(hi / spacing + 1e-9) + 1)]
        out = []
        for v, text in zip(values, self.tickStrings(values, 1.0, spacing)):
            x = (v - lo) / (hi - lo) * size
            w = metrics.horizontalAdvance(text)
            if x - w / 2 >= 0 and x + w / 2 <= size:
                out.append((x, w))
        return out

    def tickSpacing(self, minVal: float, maxVal: float, size: float):
        levels = super().tickSpacing(minVal, maxVal, size)
        lo, hi = min(minVal, maxVal), max(minVal, maxVal)
        if not levels or hi - lo <= 0 or size <= 0 or self._tickSpacing is not None:
            return levels

        def apart(labels):
            return all(b[0] - a[0] >= (a[1] + b[1]) / 2 + self.LABEL_GAP
                       for a, b in zip(labels, labels[1:]))

        major = levels[0][0]
        minor = levels[1][0] if len(levels) > 1 else major / 2.0
        labels = self.drawn_labels(lo, hi, size, major)
        for _ in range(40):
            if apart(labels):
                break
            bigger = _round_up(1.5 * major, (1.0, 2.0, 5.0, 10.0))   # the next 1-2-5
            bigger_labels = self.drawn_labels(lo, hi, size, bigger)
            if not bigger_labels:
                break                   # keep a label rather than none
            minor, major, labels = major, bigger, bigger_labels
        return [(major, 0.0), (minor, 0.0)]


class ValueAxis(pg.AxisItem):
    """A y axis that, on a log scale, labels only 1, 2 and 5 times a power of ten (the
    default labels every minor tick, and the labels run into each other)."""

    def logTickStrings(self, values, scale, spacing):
        strings = super().logTickStrings(values, scale, spacing)
        out = []
        for v, text in zip(values, strings):
            mantissa = 10.0 ** (float(v) - math.floor(float(v) + 1e-9))
            out.append(text if min(abs(mantissa - m) for m in (1.0, 2.0, 5.0)) < 0.05 else "")
        return out


# --- small widgets ----------------------------------------------------------------------
def help_button(text: str, parent: QtWidgets.QWidget | None = None) -> QtWidgets.QToolButton:
    """A small "?" button that shows ``text`` (also its tooltip) when clicked."""
    button = QtWidgets.QToolButton(parent)
    button.setText("?")
    button.setToolTip(text)
    button.setAutoRaise(True)
    button.setObjectName("help_button")
    button.clicked.connect(lambda: QtWidgets.QToolTip.showText(
        button.mapToGlobal(QtCore.QPoint(0, button.height())), text, button))
    return button


def log_toggle(plots: Callable[[], Iterable[pg.PlotItem]], checked: bool = False,
               on_change: Callable[[bool], None] | None = None,
               parent: QtWidgets.QWidget | None = None) -> QtWidgets.QCheckBox:
    """A "log y" check box that switches the y axis of ``plots()`` between linear and log10."""
    box = QtWidgets.QCheckBox("log y", parent)
    box.setToolTip("Logarithmic y axis: equal distances are equal ratios")
    box.setChecked(checked)

    def toggled(on: bool) -> None:
        for p in plots():
            p.setLogMode(y=bool(on))
            p.getViewBox().enableAutoRange(y=True)
        if on_change is not None:
            on_change(bool(on))

    box.toggled.connect(toggled)
    return box


# --- the base of the time-plot panels -------------------------------------------------------
class TimePanel(Panel):
    """A panel of plots over the step axis.

    Subclasses build their plots in :meth:`_build_plots` (with :meth:`_add_time_plot`),
    their curves in :meth:`_build_curves` (with :meth:`_curve`) and fill them in
    :meth:`_update_data`. This base keeps the per-frame work small: nothing is done when
    ``snap.seq`` has not changed, and a panel in a background tab only remembers the
    snapshot and catches up when it comes on screen.
    """
    log_y_default: ClassVar[bool] = False
    has_log_toggle: ClassVar[bool] = True
    # thousands of points per curve: the repaint (5-7 ms), not the update, is the cost.
    # One or two time plots on screen (the default layout shows one tab) refresh at every
    # GUI tick; with more of them side by side, 12 Hz each reads as live and leaves the
    # GUI thread room between paints (every tick for six of them cost the training a
    # tenth of its speed and made the window's timers late)
    max_hz: ClassVar[float | None] = 12.0
    rate_group: ClassVar[str | None] = "time"
    few_on_screen: ClassVar[int] = 2
    max_hz_few: ClassVar[float | None] = None

    def __init__(self, bus: UiBus, parent: QtWidgets.QWidget | None = None):
        super().__init__(bus, parent)
        self._snap = None             # the snapshot shown
        self._pending = None          # the newest snapshot not shown yet
        self._seq = None
        self._events_len = -1
        self._hp0: dict = {}
        self._curves: dict[str, StepCurve] = {}
        self._data: dict[str, tuple[np.ndarray, np.ndarray]] = {}   # full series per curve
        self._lod: dict[str, PeakDecimator] = {}
        self._lod_on: dict[str, int] = {}    # the coarsen fed last (0: full data)
        self._eval_keys: dict[str, tuple] = {}
        self._plots: list[pg.PlotItem] = []
        self._markers: list[EventMarkers] = []
        self.group = step_axis_group(bus)

        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(2)
        self.toolbar = QtWidgets.QHBoxLayout()
        self.toolbar.setContentsMargins(4, 0, 4, 0)
        lay.addLayout(self.toolbar)
        self._build_toolbar()
        self.log_box = None
        if self.has_log_toggle:
            self.log_box = log_toggle(lambda: self._plots, self.log_y_default,
                                      self._on_log_changed, self)
            self.toolbar.addWidget(self.log_box)
        self.toolbar.addStretch(1)
        self.reset_button = QtWidgets.QToolButton(self)
        self.reset_button.setText("Reset view")
        self.reset_button.setToolTip("Follow the run again: whole step axis, y fitted to the data")
        self.reset_button.clicked.connect(self.reset_view)
        self.toolbar.addWidget(self.reset_button)
        self.help = help_button(self.help_text, self)
        self.toolbar.addWidget(self.help)
        self.graphics = pg.GraphicsLayoutWidget(self)
        lay.addWidget(self.graphics, 1)
        self._build_plots()
        if self.log_y_default:
            for p in self._plots:
                p.setLogMode(y=True)
        bus.step_marked.connect(self._on_step_marked)
        bus.cursor_moved.connect(self._on_cursor_moved)

    # --- hooks ----------------------------------------------------------------------
    def _build_toolbar(self) -> None:
        """Add controls to ``self.toolbar`` (left of the log toggle)."""

    def _build_plots(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def _build_curves(self, ctx: RunContext) -> None:
        """(Re)create the curves for a run's structure."""

    def _update_data(self, snap) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def _on_log_changed(self, on: bool) -> None:
        """The log toggle changed (after the plots switched)."""

    def _reset_y(self, plot: pg.PlotItem) -> None:
        plot.getViewBox().enableAutoRange(y=True)

    # --- building ---------------------------------------------------------------------
    def _add_time_plot(self, y_label: str, y_units: str | None = None, row: int | None = None,
                       col: int | None = None, show_x_label: bool = True) -> pg.PlotItem:
        plot = self.graphics.addPlot(row=row, col=col, viewBox=SteadyViewBox(),
                                     axisItems={"left": ValueAxis("left"),
                                                "bottom": StepAxis("bottom")})
        plot.hideButtons()              # our "Reset view" replaces the corner "A"
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setLabel("left", y_label, units=y_units)
        if show_x_label:
            plot.setLabel("bottom", *STEP_LABEL)
        plot.getAxis("bottom").enableAutoSIPrefix(False)
        # plain numbers and powers of ten, not "x0.001" prefixes that students misread
        plot.getAxis("left").enableAutoSIPrefix(False)
        cache_painting(*(plot.getAxis(k) for k in ("left", "bottom", "top", "right")))
        vb = plot.getViewBox()
        vb.setAutoVisible(y=True)
        vb.enableAutoRange(y=True)
        plot.setMenuEnabled(True)
        self.group.add(plot, self._on_screen)
        vb.sigXRangeChanged.connect(self._on_x_range_changed)
        self._plots.append(plot)
        self._markers.append(EventMarkers(plot))
        return plot

    def _add_legend(self, plot: pg.PlotItem, offset=(-10, 10)) -> pg.LegendItem:
        """A legend over a half-transparent patch of the background (readable over data
        in light and dark themes)."""
        legend = plot.addLegend(offset=offset, labelTextSize="8pt", brush=label_fill())
        legend.canvas_fill = True       # re-filled when the theme changes (app.py)
        cache_painting(legend)
        if not getattr(legend, "_wb_fits", False):     # addLegend returns the same one
            legend._wb_fits = True
            vb = plot.getViewBox()
            margin = abs(offset[0]) + 8

            def fit(*_):
                # a legend wider than its plot (docks side by side) would stick out over
                # the axis, cut off; it comes back when the plot is wide enough again
                w = vb.width()
                fits = w <= 0 or legend.width() + margin <= w
                if legend.isVisible() != fits:
                    legend.setVisible(fits)
            vb.sigResized.connect(fit)
        return legend

    def _curve(self, name: str, plot: pg.PlotItem, color: str, width: float = 1.5,
               style=QtCore.Qt.PenStyle.SolidLine, symbol: str | None = None,
               legend: str | None = None, alpha: int = 255
               ) -> StepCurve:
        """A curve drawn cheaply however long the history: fed through a
        :class:`PeakDecimator` while the whole run is in view, else clipped to the view
        (a :class:`StepCurve`; min and max per pixel, so spikes stay visible). With
        ``symbol`` (evaluations) each point also gets a dot while there are at most
        :data:`EVAL_SYMBOL_MAX`. NaN and inf leave gaps: a loss can be NaN."""
        qc = QtGui.QColor(color)
        qc.setAlpha(alpha)
        # antialiasing only for the few-point evaluation curves: on thousands of points
        # per curve it multiplies the paint time and the noise hides the difference
        kw: dict[str, Any] = {"pen": pg.mkPen(qc, width=width, style=style), "name": legend,
                              "antialias": symbol is not None}
        item = StepCurve(**kw)      # fed decimated or clipped to the view
        if symbol is not None:
            item.set_dots(symbol, 7, qc, pg.mkPen(_contrast(), width=1), EVAL_SYMBOL_MAX)
            item.setZValue(3)       # evaluations over the per-step curves they summarize
        plot.addItem(item)
        self._curves[name] = item
        thick = symbol is None and (width > 1 or style != QtCore.Qt.PenStyle.SolidLine)
        self._lod[name] = PeakDecimator(THICK_BUCKETS if thick else MAX_BUCKETS)
        self._lod_on[name] = 0
        return item

    def _set_evals(self, steps: np.ndarray, series: dict[str, np.ndarray]) -> None:
        """Show per-evaluation series; their dots go once there are too many to see.
        Evaluations are rare (about once an epoch): a series whose length and last
        point are those shown is not handed to its plot item again."""
        for name, y in series.items():
            item = self._curves[name]
            key = (steps.shape[0], float(steps[-1]) if steps.shape[0] else None,
                   repr(float(y[-1])) if y.shape[0] else None)
            if self._eval_keys.get(name) == key and name in self._data:
                self._data[name] = (steps, y)
                continue
            self._eval_keys[name] = key
            # (StepCurve: antialiased only while it has dots; without them evaluations
            # lie a few pixels apart, and antialiasing a 2 px line that dense cost about
            # 1 ms a repaint and is not seen)
            if np.isfinite(y).any():
                self._set_series(name, steps, y)
            else:                        # e.g. no test split: nothing to draw or to bound
                self._data[name] = (steps, y)
                item.setData([], [])

    def _set_series(self, name: str, x: np.ndarray, y: np.ndarray) -> None:
        """Show the series ``y`` at steps ``x`` (full history views, not copied) on curve
        ``name``. Long series drawn over most of their range go through the curve's
        :class:`PeakDecimator` (pyqtgraph's own clip and downsampling cost about 2 ms per
        100,000 points and frame; the decimator costs the new points only)."""
        self._data[name] = (x, y)
        self._feed(name)

    def _lod_coarsen(self, name: str) -> int:
        """0: draw the full series; else the decimator's ``coarsen`` (a power of two)
        that makes one drawn bucket about a pixel wide: min and max per pixel column,
        what rasterizing every point gives. The decimation is used while a bucket is at
        most a pixel wide (thin pens) or :data:`PX_PER_THICK_BUCKET` pixels (wide or
        dashed pens, which cost more per point)."""
        x, y = self._data[name]
        lod = self._lod[name]
        thick = lod.max_buckets < MAX_BUCKETS
        if y.shape[0] <= (THICK_LOD_MIN_POINTS if thick else LOD_MIN_POINTS):
            return 0
        vb = self._curves[name].getViewBox()
        if vb is None:
            return 1
        x0, x1 = vb.viewRange()[0]
        # buckets the view's width holds, per pixel
        per_px = (x1 - x0) / lod.bucket_size(y.shape[0]) / max(vb.width(), 100.0)
        if per_px * (PX_PER_THICK_BUCKET if thick else 1.0) < 1.0:
            return 0        # zoomed in past the decimation: the full data
        return 1 << max(0, int(math.floor(math.log2(per_px)))) if per_px >= 1.0 else 1

    def _lod_wanted(self, name: str) -> bool:
        return self._lod_coarsen(name) > 0

    def _feed(self, name: str) -> None:
        x, y = self._data[name]
        item = self._curves[name]
        f = self._lod_coarsen(name)
        self._lod_on[name] = f
        if f:
            # thousands of points per curve were most of a time plot's paint and of
            # pyqtgraph's work per frame; a pixel-wide min/max pair looks the same
            item.setData(*self._lod[name].update(y, float(x[0]), coarsen=f))
        else:
            item.setData(x, y)

    def _on_x_range_changed(self, vb, rng) -> None:
        # zooming in past the decimation's resolution switches a curve to its full data
        for name, item in self._curves.items():
            if name in self._data and item.getViewBox() is vb and \
                    self._lod_coarsen(name) != self._lod_on[name]:
                self._feed(name)

    def _clear_curves(self) -> None:
        for item in self._curves.values():
            for p in self._plots:
                if item in p.listDataItems():
                    p.removeItem(item)
        self._curves, self._data, self._lod, self._lod_on = {}, {}, {}, {}
        self._eval_keys = {}
        for p in self._plots:
            if p.legend is not None:
                p.legend.clear()

    # --- Panel interface ----------------------------------------------------------------
    def set_context(self, ctx: RunContext) -> None:
        super().set_context(ctx)
        self._snap = self._pending = None
        self._seq = None
        self._events_len = -1
        self._hp0 = {**initial_hparams(ctx.config), **ctx.extra.get("hp0", {})}
        self._clear_curves()
        for m in self._markers:
            m.set_events([])
            m.set_mark(None)
            m.set_cursor(None)
        self._build_curves(ctx)

    def update_snapshot(self, snap) -> None:
        """Show ``snap`` (GUI thread, ~30 Hz); cheap when nothing changed."""
        if snap is None:
            return
        self._pending = snap
        if self._deferred():
            return
        self._flush()

    def _deferred(self) -> bool:
        # a background tab of a window on screen: catch up when shown (showEvent)
        win = self.window()
        return not on_screen(self) and win is not self and win.isVisible()

    def _on_screen(self) -> bool:
        return not self._deferred()

    def _flush(self) -> None:
        snap, self._pending = self._pending, None
        if snap is None or self.ctx is None:
            if snap is not None:
                self._pending = snap
            return
        if snap.seq == self._seq and snap is self._snap:
            return
        self._snap, self._seq = snap, snap.seq
        self._update_data(snap)
        if len(snap.events) != self._events_len:
            self._events_len = len(snap.events)
            labelled = label_events(snap.events, self._hp0)
            for m in self._markers:
                m.set_events(labelled)
        self.group.set_extent(snap.step, self._plots)

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        for p in self._plots:
            self.group.sync(p)
        self._flush()

    def reset_view(self) -> None:
        """Whole step axis again and y fitted to the data (undo the user's zoom)."""
        self.group.reset()
        for p in self._plots:
            self.group.sync(p)
            self._reset_y(p)

    def _refresh(self) -> None:
        """Redraw the shown snapshot (after a display option changed)."""
        if self._snap is not None and self._pending is None:
            self._pending = self._snap
            self._seq = None
            self._eval_keys = {}
        self._flush()

    # --- bus ---------------------------------------------------------------------------
    def _on_step_marked(self, step: int) -> None:
        for m in self._markers:
            m.set_mark(None if step is None or step < 0 else int(step))

    def _on_cursor_moved(self, step: int) -> None:
        for m in self._markers:
            m.set_cursor(None if step is None or step < 0 else int(step))

    # --- for tests and export -----------------------------------------------------------
    def time_plots(self) -> list[pg.PlotItem]:
        """The plots on the shared step axis."""
        return list(self._plots)

    def marker_steps(self) -> list[int]:
        """Steps of the drawn event markers (hparams, weight, rewind)."""
        self._flush()
        return self._markers[0].steps() if self._markers else []

    def marker_labels(self) -> list[str]:
        self._flush()
        return self._markers[0].labels() if self._markers else []

    def curve_names(self) -> list[str]:
        return list(self._curves)

    def curve_data(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)`` of the series curve ``name`` shows (before any decimation for the
        screen; empty arrays before any data). KeyError for an unknown name."""
        self._flush()
        if name not in self._curves:
            raise KeyError(f"no curve {name!r}; curves: {', '.join(self._curves)}")
        x, y = self._data.get(name, (None, None))
        if x is None or y is None:
            return np.zeros(0), np.zeros(0)
        return np.asarray(x), np.asarray(y)

    def displayed_data(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)`` as handed to the plot item (decimated when the run is long)."""
        self._flush()
        x, y = self._curves[name].getOriginalDataset()
        return (np.zeros(0), np.zeros(0)) if x is None else (np.asarray(x), np.asarray(y))

    def export_item(self):
        return self._plots[0] if self._plots else None

    def export_csv(self) -> tuple[list[str], list[list[float]]] | None:
        """All curves side by side on the union of their steps (NaN where a curve has no
        point at that step)."""
        self._flush()
        data = {n: self.curve_data(n) for n in self._curves}
        data = {n: xy for n, xy in data.items() if xy[0].size}
        if not data:
            return None
        steps = np.unique(np.concatenate([x for x, _ in data.values()]).astype(np.float64))
        cols = [steps]
        for x, y in data.values():
            col = np.full(steps.shape, np.nan)
            col[np.searchsorted(steps, np.asarray(x, np.float64))] = y
            cols.append(col)
        return ["step", *data], np.column_stack(cols).tolist()

