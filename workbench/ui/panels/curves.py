"""Time plots of a run: loss, accuracy, gradient norms, update ratios, dead/saturated units.

Every plot shares the step axis, carries the event markers, and is fed the whole history
as read-only views (pyqtgraph clips to the view and keeps the min and max per pixel, so
a frame costs about the same at 100 or 100,000 steps). Curve names for
:meth:`~workbench.ui.panels.timeaxis.TimePanel.curve_data`:

- LossPanel: ``train_step`` (the raw loss of every mini-batch), ``train_smooth`` (its
  debiased moving average), ``train_eval`` and ``test_eval`` (at each evaluation);
  other runs' curves are drawn as dashed overlays (:meth:`LossPanel.set_overlays`);
- AccuracyPanel: ``train_eval``, ``test_eval``;
- GradientsPanel, UpdateRatioPanel: ``layer0`` .. ``layer{L-1}``;
- ActivationsPanel: ``dead{l}`` and ``sat{l}`` for each layer l shown.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets
from superqt import QLabeledDoubleSlider

from ..context import RunContext, layer_color
from .timeaxis import (TEST_COLOR, THICK_BUCKETS, THICK_LOD_MIN_POINTS, TRAIN_COLOR,
                       EMACache, PeakDecimator, TimePanel, label_fill)

DASH = QtCore.Qt.PenStyle.DashLine
RATIO_TARGET = 1e-3          # the rule of thumb: each step changes weights by ~0.1 %
RATIO_BAND = (1e-4, 1e-2)
OVERLAY_ALPHA = 130         # another run's curve: visible, but behind this run's


class LossPanel(TimePanel):
    """Training loss of every mini-batch (raw and smoothed) and train/test loss at each
    evaluation."""
    object_name = "loss"
    title = "Loss"
    area = "bottom"
    help_text = (
        "Loss over training steps (x: mini-batch updates). The faint line is the loss of "
        "each mini-batch, noisy because every batch is different; the bold line is its "
        "smoothed trend (slider: 0 = raw, 0.99 = very smooth; TensorBoard's debiased "
        "moving average). Dots are the loss on the whole training set (blue) and the test "
        "set (orange) at each evaluation. Falling together: learning. Test rising while "
        "train falls: overfitting. Flat from the start: learning rate too low or stuck "
        "units. Jumping up or NaN: learning rate too high. Dashed lines mark changes you "
        "made while training.")
    default_smoothing = 0.9

    def _build_toolbar(self) -> None:
        self.toolbar.addWidget(QtWidgets.QLabel("smoothing"))
        self.smoothing_slider = QLabeledDoubleSlider(QtCore.Qt.Orientation.Horizontal, self)
        self.smoothing_slider.setRange(0.0, 0.99)
        self.smoothing_slider.setSingleStep(0.01)
        self.smoothing_slider.setDecimals(2)
        self.smoothing_slider.setValue(self.default_smoothing)
        self.smoothing_slider.setMaximumWidth(220)
        self.smoothing_slider.setToolTip(
            "Debiased exponential moving average of the per-step loss (0: raw data)")
        self.smoothing_slider.valueChanged.connect(self._on_smoothing_changed)
        self.toolbar.addWidget(self.smoothing_slider)
        self.nan_label = QtWidgets.QLabel("", self)
        self.nan_label.setStyleSheet("color: #d62728; font-weight: bold")
        self.toolbar.addWidget(self.nan_label)
        self._ema = EMACache()

    def _build_plots(self) -> None:
        self.plot = self._add_time_plot("loss")
        self._add_legend(self.plot)
        self._overlay_items: list[tuple[pg.PlotDataItem, tuple]] = []

    def _build_curves(self, ctx: RunContext) -> None:
        self._ema = EMACache()
        self._curve("train_step", self.plot, TRAIN_COLOR, width=1, legend="train (mini-batch)")
        self._curve("train_smooth", self.plot, TRAIN_COLOR, width=2, legend="train (smoothed)")
        self._curve("train_eval", self.plot, TRAIN_COLOR, width=1, style=DASH, symbol="o",
                    legend="train (evaluation)")
        self._curve("test_eval", self.plot, TEST_COLOR, width=2, symbol="o",
                    legend="test (evaluation)")
        _no_test_in_legend(self, ctx)
        self._style_raw()
        for item, (label, _, _) in self._overlay_items:     # the legend was cleared
            self.plot.legend.addItem(item, label)

    @property
    def smoothing(self) -> float:
        return float(self.smoothing_slider.value())

    def set_smoothing(self, weight: float) -> None:
        self.smoothing_slider.setValue(float(weight))

    def _style_raw(self) -> None:
        raw = self._curves.get("train_step")
        if raw is None:
            return
        smooth = self.smoothing > 0
        qc = QtGui.QColor(TRAIN_COLOR)
        qc.setAlpha(70 if smooth else 255)      # the raw data stays visible behind the trend
        raw.setPen(pg.mkPen(qc, width=1))
        self._curves["train_smooth"].setVisible(smooth)

    def _on_smoothing_changed(self, value: float) -> None:
        self._style_raw()
        self._refresh()

    # --- overlays: other runs' curves, drawn faintly ---------------------------------
    def set_overlays(self, overlays: Sequence[tuple[str, np.ndarray, np.ndarray, str]]
                     ) -> None:
        """Draw other runs' loss curves faintly behind this run's (a fork's parent, the
        run before a remedy). Replaces the overlays shown before; ``[]`` removes them.
        They stay through :meth:`set_context` (a new run keeps its reference curves).

        Parameters
        ----------
        overlays : sequence of (label, steps, losses, color[, emphasis])
            ``steps`` and ``losses`` of shape (n,) (any numeric dtype; NaN leaves a gap),
            ``color`` a Qt colour name such as ``"#7f7f7f"``; each is drawn as a dashed
            curve named ``label`` in the legend. Long series are peak-decimated once
            (min and max per bucket, so spikes stay visible). ``emphasis`` (default
            False) draws it opaque, solid and bold above the mini-batch losses: a curve
            to compare with, such as a remedy's, rather than a background.
        """
        for item, _ in self._overlay_items:
            self.plot.removeItem(item)
            if self.plot.legend is not None:
                self.plot.legend.removeItem(item)
        self._overlay_items = []
        for label, steps, losses, color, *more in overlays:
            emphasis = bool(more[0]) if more else False
            x = np.asarray(steps, dtype=np.float64).ravel()
            y = np.asarray(losses, dtype=np.float64).ravel()
            if x.shape != y.shape:
                raise ValueError(f"overlay {label!r}: {x.size} steps but {y.size} losses")
            qc = QtGui.QColor(color)
            if emphasis:
                pen = pg.mkPen(qc, width=2.5)
            else:
                qc.setAlpha(OVERLAY_ALPHA)
                pen = pg.mkPen(qc, width=1.5, style=DASH)
            item = self.plot.plot(pen=pen, name=str(label))
            # a background behind the live run's curves; one to compare with above its
            # mini-batch losses and under its evaluations
            item.setZValue(2 if emphasis else -1)
            item.setClipToView(True)
            item.setDownsampling(auto=True, method="peak")
            # a dashed 1.5 px pen is costly per point (timeaxis.THICK_BUCKETS)
            if y.size > THICK_LOD_MIN_POINTS and x.size and np.all(np.diff(x) == 1):
                item.setData(*PeakDecimator(THICK_BUCKETS).update(y, float(x[0])))
            else:
                item.setData(x, y)
            self._overlay_items.append((item, (str(label), x, y)))

    def overlays(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """``(label, steps, losses)`` of each overlay shown, as given (undecimated)."""
        return [data for _, data in self._overlay_items]

    def _update_data(self, snap) -> None:
        s, e = snap.steps, snap.evals
        x, loss = s["step"], s["loss"]
        self._set_series("train_step", x, loss)
        w = self.smoothing
        self._set_series("train_smooth", x, self._ema.update(loss, w) if w > 0 else loss)
        self._set_evals(e["step"], {"train_eval": e["train_loss"], "test_eval": e["test_loss"]})
        nf = snap.nonfinite
        self.nan_label.setText("" if nf is None else f"non-finite at step {nf.step}")


class AccuracyPanel(TimePanel):
    """Train and test accuracy at each evaluation."""
    object_name = "accuracy"
    title = "Accuracy"
    area = "bottom"
    has_log_toggle = False
    help_text = (
        "Fraction of samples classified correctly, on the whole training set (blue) and "
        "the test set (orange), measured at each evaluation. The gap between them is "
        "overfitting; both low is underfitting (a bigger model, other features, or more "
        "epochs). 0.5 on two balanced classes is chance. Regression has no accuracy: "
        "see the loss.")

    def _build_plots(self) -> None:
        self.plot = self._add_time_plot("accuracy (fraction correct)")
        self._add_legend(self.plot, offset=(-10, -10))
        self._reset_y(self.plot)
        self.note = pg.TextItem("", color="#7f7f7f", anchor=(0.5, 0.5))
        self.plot.addItem(self.note, ignoreBounds=True)
        self.note.setPos(0, 0.5)

    def _reset_y(self, plot: pg.PlotItem) -> None:
        # a fraction: the axis is fixed, so nothing jumps as evaluations arrive
        plot.getViewBox().setYRange(0.0, 1.0, padding=0.02)

    def _build_curves(self, ctx: RunContext) -> None:
        self._curve("train_eval", self.plot, TRAIN_COLOR, width=2, symbol="o",
                    legend="train")
        self._curve("test_eval", self.plot, TEST_COLOR, width=2, symbol="o", legend="test")
        _no_test_in_legend(self, ctx)
        self.note.setText("regression: no accuracy (see the loss)"
                          if ctx.task == "regression" else "")

    def _update_data(self, snap) -> None:
        e = snap.evals
        self._set_evals(e["step"], {"train_eval": e["train_acc"], "test_eval": e["test_acc"]})
        if self.note.toPlainText():
            self.note.setPos(max(snap.step, 10) / 2, 0.5)


class _PerLayerPanel(TimePanel):
    """One curve per layer of a per-step, per-layer history field (log y)."""
    field = "gnorm"
    log_y_default = True
    y_label = ""

    def _build_plots(self) -> None:
        self.plot = self._add_time_plot(self.y_label)
        self._add_legend(self.plot)

    def _build_curves(self, ctx: RunContext) -> None:
        for l, name in enumerate(ctx.layer_names):
            self._curve(f"layer{l}", self.plot, layer_color(l), width=1, legend=name)

    def _update_data(self, snap) -> None:
        x, v = snap.steps["step"], snap.steps[self.field]
        for l in range(min(v.shape[1], len(self._curves))):
            self._set_series(f"layer{l}", x, v[:, l])


class GradientsPanel(_PerLayerPanel):
    """The L2 norm of each layer's gradient at every step (log y)."""
    object_name = "gradients"
    title = "Gradients"
    area = "bottom"
    field = "gnorm"
    y_label = "gradient norm |dL/dW|"
    help_text = (
        "Size (L2 norm) of each layer's gradient at every step, one colour per layer, on a "
        "log scale. Healthy: all layers within a factor of about 10-100 of each other. "
        "Early layers far below the last (ever smaller towards the input): vanishing "
        "gradients (sigmoid/tanh saturating, deep nets): try ReLU, He or Xavier init. "
        "Growing by orders of magnitude: exploding gradients, lower the learning rate. "
        "Exactly zero (a gap on the log axis): dead units or a zero initialization.")


class UpdateRatioPanel(_PerLayerPanel):
    """|update| / |weights| of each layer at every step (log y) with the 1e-3 target."""
    object_name = "update_ratio"
    title = "Update ratio"
    area = "bottom"
    field = "uratio"
    y_label = "update / weight  |dW|/|W|"
    help_text = (
        "How much each step changes a layer's weights, relative to their size: "
        "|update| / |W|, one colour per layer, log scale. A rule of thumb (Karpathy's) "
        "says about 1e-3 (the dashed line; the shaded band is 1e-4 to 1e-2). Far above: "
        "the learning rate is too high, steps overshoot. Far below: it is too low, "
        "learning crawls. Layers far apart suggest a per-layer scale problem (init).")

    def _build_plots(self) -> None:
        super()._build_plots()
        self.band = pg.LinearRegionItem(orientation="horizontal", movable=False,
                                        brush=pg.mkBrush(44, 160, 44, 40),
                                        pen=pg.mkPen(None))
        self.band.setZValue(-10)
        self.plot.addItem(self.band, ignoreBounds=True)
        self.target = pg.InfiniteLine(angle=0, movable=False,
                                      pen=pg.mkPen("#2ca02c", width=1, style=DASH),
                                      label="target 1e-3",
                                      labelOpts={"position": 0.02, "color": "#2ca02c",
                                                 "anchors": [(0, 1), (0, 1)],
                                                 "fill": label_fill()})
        self.target.setZValue(5)        # above the curves, like the event markers: the
        self.plot.addItem(self.target, ignoreBounds=True)    # label was under the data
        self._on_log_changed(self.log_y_default)

    def _on_log_changed(self, on: bool) -> None:
        # items other than curves live in view coordinates: log10 values on a log axis
        f = np.log10 if on else (lambda v: v)
        self.band.setRegion((float(f(RATIO_BAND[0])), float(f(RATIO_BAND[1]))))
        self.target.setValue(float(f(RATIO_TARGET)))

    def band_region(self) -> tuple[float, float]:
        """The shaded target band in data units (whatever the axis scale)."""
        lo, hi = self.band.getRegion()
        if self.plot.getAxis("left").logMode:
            return 10.0 ** lo, 10.0 ** hi
        return lo, hi


class ActivationsPanel(TimePanel):
    """Fraction of dead (never active) and saturated units per layer at every step."""
    object_name = "activations"
    title = "Activations"
    area = "bottom"
    has_log_toggle = False
    help_text = (
        "For each hidden layer (one colour per layer), the fraction of its units that are "
        "dead (solid: output zero/inactive for the whole mini-batch, e.g. ReLUs pushed "
        "below zero, they stop learning) and saturated (dashed: sigmoid/tanh in their flat "
        "tails, gradients vanish). Rising dead fraction: learning rate too high or bad "
        "init, try leaky ReLU or a smaller rate. High saturation: scale the inputs or the "
        "init down.")

    def _build_plots(self) -> None:
        self.plot = self._add_time_plot("fraction of units")
        self._add_legend(self.plot)
        self._reset_y(self.plot)
        self._layers: list[int] = []

    def _reset_y(self, plot: pg.PlotItem) -> None:
        plot.getViewBox().setYRange(0.0, 1.0, padding=0.02)

    def _build_curves(self, ctx: RunContext) -> None:
        n_hidden = len(ctx.network.hidden)
        # no hidden layer (perceptron, regression): show the output layer itself
        self._layers = list(range(n_hidden)) if n_hidden else list(range(ctx.n_layers))
        names = ctx.layer_names
        for l in self._layers:
            self._curve(f"dead{l}", self.plot, layer_color(l), width=2,
                        legend=f"{names[l]} dead")
            self._curve(f"sat{l}", self.plot, layer_color(l), width=1.5, style=DASH,
                        legend=f"{names[l]} saturated")

    def _update_data(self, snap) -> None:
        s = snap.steps
        x, dead, sat = s["step"], s["dead"], s["sat"]
        for l in self._layers:
            if l < dead.shape[1]:
                self._set_series(f"dead{l}", x, dead[:, l])
                self._set_series(f"sat{l}", x, sat[:, l])


# the names the window's panel registry asks for
GradientNormPanel = GradientsPanel

__all__ = ["LossPanel", "AccuracyPanel", "GradientsPanel", "GradientNormPanel",
           "UpdateRatioPanel", "ActivationsPanel"]


def _no_test_in_legend(panel, ctx: RunContext) -> None:
    """Without a test split (the logic gates) the legend names no test curve."""
    if len(ctx.dataset.y_test) == 0 and panel.plot.legend is not None:
        panel.plot.legend.removeItem(panel._curves["test_eval"])
