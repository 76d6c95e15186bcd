"""A backpropagation walkthrough: one sample, the slide's five steps, with the numbers.

1. input x = a_0;
2. feedforward: z_l = W_l a_{l-1} + b_l, a_l = f_l(z_l) for every layer;
3. output error: delta_L = dL/dz_L;
4. backpropagate: delta_{l-1} = (W_l^T delta_l) * f'_{l-1}(z_{l-1});
5. gradients: dW_l = delta_l a_{l-1}^T (+ 2 l2 W_l + l1 sign W_l), db_l = delta_l.

The math is plain NumPy (:func:`backprop`), written as on the slides and independent of
the Numba kernels, so a test can check one against the other.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ..context import RunContext, layer_color
from .base import ElidedLabel, Panel, on_screen
from .decision import HelpButton

SHOW = 8                # numbers shown per vector / matrix side before truncating
REFRESH_HZ = 2.0        # the numbers follow training at most this often (text is costly)


# --- the math (numpy only) ------------------------------------------------------------------
def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


#: f(z) of the elementwise activations (Nielsen's and scikit-learn's ACTIVATIONS).
ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda z: z,
    "step": lambda z: (z > 0).astype(z.dtype),
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "relu": lambda z: np.where(z > 0, z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.1 * z),
    "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0.0))),
    "softmax": lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum(),
}

#: f'(z) given z and a = f(z) (the step's derivative is 0 almost everywhere).
DERIVATIVES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "linear": lambda z, a: np.ones_like(z),
    "step": lambda z, a: np.zeros_like(z),
    "sigmoid": lambda z, a: a * (1.0 - a),
    "tanh": lambda z, a: 1.0 - a * a,
    "relu": lambda z, a: (z > 0).astype(z.dtype),
    "leaky_relu": lambda z, a: np.where(z > 0, 1.0, 0.1),
    "elu": lambda z, a: np.where(z > 0, 1.0, a + 1.0),
}


def _maxout(z):
    return np.maximum(z[0::2], z[1::2])


def _loss_mse(z, a, y, output):
    """L = sum_k (a_k - y_k)^2; delta = 2 (a - y) f'(z) (softmax: through its Jacobian)."""
    e = a - y
    if output == "softmax":
        delta = a * (2.0 * e - np.sum(2.0 * e * a))
    else:
        delta = 2.0 * e * DERIVATIVES[output](z, a)
    return float(np.sum(e * e)), delta


def _loss_bce(z, a, y, output):
    """L = -(y log s + (1-y) log(1-s)), s = sigmoid(z); delta = s - y."""
    loss = np.sum(np.logaddexp(0.0, z) - y * z)
    return float(loss), _sigmoid(z) - y


def _loss_cross_entropy(z, a, y, output):
    """L = -log softmax(z)[y]; delta = softmax(z) - onehot(y)."""
    lse = z.max() + np.log(np.sum(np.exp(z - z.max())))
    return float(np.sum(y * (lse - z))), np.exp(z - lse) - y


def _loss_perceptron(z, a, y, output):
    """L = max(0, -t z), t = 2y - 1; delta = -t where t z <= 0 (a boundary point moves)."""
    t = 2.0 * y - 1.0
    return float(np.sum(np.maximum(0.0, -t * z))), np.where(t * z <= 0, -t, 0.0)


def _loss_hinge(z, a, y, output):
    """L = max(0, 1 - t z), t = 2y - 1; delta = -t where t z < 1."""
    t = 2.0 * y - 1.0
    return float(np.sum(np.maximum(0.0, 1.0 - t * z))), np.where(t * z < 1.0, -t, 0.0)


#: loss name -> fn(z_L, a_L, y, output) -> (loss of the sample, delta_L = dL/dz_L).
LOSSES = {"mse": _loss_mse, "bce": _loss_bce, "cross_entropy": _loss_cross_entropy,
          "perceptron": _loss_perceptron, "hinge": _loss_hinge}


@dataclass(frozen=True)
class Walkthrough:
    """Every number of one backpropagation pass over one sample.

    Attributes
    ----------
    x : ndarray, shape (n_0,)
        The input (after features), a_0.
    y : ndarray, shape (n_L,)
        The target as the loss reads it (one-hot for cross-entropy).
    zs, as_ : list of ndarray, shapes (rows_l,), (n_l,)
        Pre-activations and outputs per layer (rows_l = 2 n_l for maxout).
    loss, penalty : float
        The sample's loss and the weight penalty l2 sum W^2 + l1 sum |W|.
    deltas : list of ndarray, shape (rows_l,)
        dL/dz_l per layer.
    dW, db : list of ndarray, shapes (rows_l, n_{l-1}), (rows_l,)
        The gradients, penalty included.
    """
    x: np.ndarray
    y: np.ndarray
    zs: list
    as_: list
    loss: float
    penalty: float
    deltas: list
    dW: list
    db: list


def backprop(weights, activations: list[str], loss: str, x: np.ndarray, y: np.ndarray,
             l1: float = 0.0, l2: float = 0.0) -> Walkthrough:
    """Backpropagate one sample through the layers ``weights`` = [(W_l, b_l), ...].

    feedforward: z_l = W_l a_{l-1} + b_l, a_l = f_l(z_l);
    output error: delta_L = dL/dz_L;
    backward: delta_{l-1} = (W_l^T delta_l) * f'(z_{l-1}) (maxout: to the winning piece);
    gradients: dW_l = delta_l a_{l-1}^T + 2 l2 W_l + l1 sign(W_l), db_l = delta_l.

    Parameters
    ----------
    weights : list of (W (rows_l, n_{l-1}), b (rows_l,))
    activations : list of str, length L (the last is the output's)
    loss : str
    x : ndarray, shape (n_0,)
    y : ndarray, shape (n_L,)
    l1, l2 : float

    Returns
    -------
    Walkthrough
    """
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    a = x
    zs, as_ = [], []
    for (W, b), act in zip(weights, activations):
        z = np.asarray(W, np.float64) @ a + np.asarray(b, np.float64)
        a = _maxout(z) if act == "maxout" else ACTIVATIONS[act](z)
        zs.append(z)
        as_.append(a)
    L = len(weights)
    sample_loss, delta = LOSSES[loss](zs[-1], as_[-1], y, activations[-1])
    deltas: list[np.ndarray] = [None] * L  # type: ignore[list-item]
    dW: list[np.ndarray] = [None] * L  # type: ignore[list-item]
    db: list[np.ndarray] = [None] * L  # type: ignore[list-item]
    deltas[L - 1] = delta
    penalty = 0.0
    for l in range(L - 1, -1, -1):
        W = np.asarray(weights[l][0], np.float64)
        a_prev = x if l == 0 else as_[l - 1]
        dW[l] = np.outer(deltas[l], a_prev) + 2.0 * l2 * W + l1 * np.sign(W)
        db[l] = deltas[l].copy()
        penalty += l2 * float(np.sum(W * W)) + l1 * float(np.sum(np.abs(W)))
        if l > 0:
            da = W.T @ deltas[l]
            act = activations[l - 1]
            if act == "maxout":
                zp = zs[l - 1]
                first = zp[0::2] >= zp[1::2]
                d = np.zeros_like(zp)
                d[0::2] = np.where(first, da, 0.0)
                d[1::2] = np.where(first, 0.0, da)
                deltas[l - 1] = d
            else:
                deltas[l - 1] = da * DERIVATIVES[act](zs[l - 1], as_[l - 1])
    return Walkthrough(x=x, y=y, zs=zs, as_=as_, loss=sample_loss, penalty=penalty,
                       deltas=deltas, dW=dW, db=db)


def walkthrough_for(network, X: np.ndarray, Y: np.ndarray, i: int, l1: float = 0.0,
                    l2: float = 0.0) -> Walkthrough:
    """The walkthrough of sample ``i`` of (X, Y) at the network's current parameters."""
    T = network.targets(Y[i:i + 1])[0]
    return backprop(network.weights, network.activations_names, network.loss, X[i], T,
                    l1, l2)


# --- text -------------------------------------------------------------------------------------
def _fmt_vec(v: np.ndarray) -> str:
    # + 0.0 turns -0.0 (a ReLU's zero gradient times a negative number) into 0: "-0"
    # read like a tiny negative value
    s = " ".join(f"{x + 0.0: .4g}" for x in v[:SHOW])
    return f"[{s}{' ...' if v.size > SHOW else ''}]" + (f"  ({v.size})" if v.size > SHOW else "")


def _fmt_mat(M: np.ndarray) -> str:
    lines = []
    for r in M[:SHOW]:
        lines.append("  " + _fmt_vec(r))
    if M.shape[0] > SHOW:
        lines.append(f"  ... {M.shape[0] - SHOW} more rows  (shape {M.shape[0]} x {M.shape[1]})")
    return "\n".join(lines)


STEPS = ("1 input", "2 feedforward", "3 output error", "4 backpropagate", "5 gradients")


def step_text(wt: Walkthrough, step: int, layer_names: list[str], loss: str) -> str:
    """The numbers of step ``step`` (0-based) as monospaced text."""
    L = len(wt.zs)
    out: list[str] = []
    if step == 0:
        out.append("a_0 = x (the input after features)")
        out.append("x   = " + _fmt_vec(wt.x))
        out.append("y   = " + _fmt_vec(wt.y) + "   (target as the loss reads it)")
    elif step == 1:
        out.append("z_l = W_l a_{l-1} + b_l ,  a_l = f_l(z_l)")
        for l in range(L):
            out.append(f"layer {l + 1}: {layer_names[l]}")
            out.append("  z = " + _fmt_vec(wt.zs[l]))
            out.append("  a = " + _fmt_vec(wt.as_[l]))
        out.append(f"loss {loss} of this sample = {wt.loss:.6g}"
                   + (f"   (+ penalty {wt.penalty:.4g})" if wt.penalty else ""))
    elif step == 2:
        out.append(f"delta_L = dL/dz_L   ({loss}, output {layer_names[-1]})")
        out.append("a_L     = " + _fmt_vec(wt.as_[-1]))
        out.append("y       = " + _fmt_vec(wt.y))
        out.append("delta_L = " + _fmt_vec(wt.deltas[-1]))
    elif step == 3:
        out.append("delta_{l-1} = (W_l^T delta_l) * f'(z_{l-1})")
        for l in range(L - 1, -1, -1):
            out.append(f"layer {l + 1}: {layer_names[l]}")
            out.append("  delta = " + _fmt_vec(wt.deltas[l]))
    else:
        out.append("dW_l = delta_l a_{l-1}^T" + (" + penalty gradient" if wt.penalty else "")
                   + " ,  db_l = delta_l")
        for l in range(L - 1, -1, -1):
            out.append(f"layer {l + 1}: {layer_names[l]}")
            out.append("  db = " + _fmt_vec(wt.db[l]))
            out.append("  dW =")
            out.append(_fmt_mat(wt.dW[l]))
    return "\n".join(out)


def step_columns(step: int, n_layers: int) -> list[int]:
    """Graph columns (0 = inputs) a step works on, in the order it visits them."""
    L = n_layers
    return {0: [0], 1: list(range(L + 1)), 2: [L], 3: list(range(L, 0, -1)),
            4: list(range(1, L + 1))}[step]


def step_vectors(wt: Walkthrough, step: int) -> list[np.ndarray]:
    """The vector per layer the bar plot shows for a step (layer 0 = input)."""
    if step == 0:
        return [wt.x]
    if step == 1:
        return [wt.x] + list(wt.as_)
    if step == 2:
        return [wt.deltas[-1]]
    if step == 3:
        return list(wt.deltas)
    return list(wt.db)


# --- the panel --------------------------------------------------------------------------------
class BackpropPanel(Panel):
    """Step through backpropagation on one training sample, with the numbers."""
    object_name = "backprop"
    title = "Backprop"
    area = "bottom"
    help_text = (
        "Backpropagation on one training sample, in the five steps of the slides: "
        "1 the input; 2 feedforward, z = W a + b and a = f(z) in every layer; 3 the error "
        "at the output, delta_L = dL/dz_L; 4 that error sent back, delta = (W^T delta) * "
        "f'(z), layer by layer; 5 the gradients dW = delta a^T and db = delta, which the "
        "optimizer averages over a mini-batch. Pick the sample with the spin box; the "
        "numbers follow the current weights. The bars show the step's vectors per layer.")

    def __init__(self, bus, parent=None):
        super().__init__(bus, parent)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        bar = QtWidgets.QHBoxLayout()
        bar.addWidget(QtWidgets.QLabel("sample"))
        self.sample = QtWidgets.QSpinBox()
        self.sample.setObjectName("backprop_sample")
        self.sample.setToolTip("Index of the training sample to follow")
        self.sample.valueChanged.connect(self._on_sample_changed)
        bar.addWidget(self.sample)
        # elided where the row is narrow (its full text in the tooltip): at 1440 px the
        # digits' raw inputs pushed "5 gradients" and ">" behind a scroll bar
        self.sample_label = ElidedLabel("")
        self.sample_label.setMinimumWidth(40)
        bar.addWidget(self.sample_label, 1)
        self.prev_button = QtWidgets.QToolButton()
        self.prev_button.setText("<")
        self.prev_button.setToolTip("Previous step")
        self.prev_button.clicked.connect(lambda: self.set_step(self.step - 1))
        bar.addWidget(self.prev_button)
        self.step_buttons = QtWidgets.QButtonGroup(self)
        for i, name in enumerate(STEPS):
            b = QtWidgets.QPushButton(name)
            b.setCheckable(True)
            b.setObjectName(f"backprop_step{i + 1}")
            self.step_buttons.addButton(b, i)
            bar.addWidget(b)
        self.step_buttons.idClicked.connect(self.set_step)
        self.next_button = QtWidgets.QToolButton()
        self.next_button.setText(">")
        self.next_button.setToolTip("Next step")
        self.next_button.clicked.connect(lambda: self.set_step(self.step + 1))
        bar.addWidget(self.next_button)
        self.help_button = HelpButton(self.help_text)
        bar.addWidget(self.help_button)
        lay.addLayout(bar)
        body = QtWidgets.QHBoxLayout()
        self.text = QtWidgets.QPlainTextEdit()
        self.text.setObjectName("backprop_text")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QtWidgets.QPlainTextEdit.NoWrap)
        font = self.text.font()
        font.setFamily("monospace")
        font.setStyleHint(font.StyleHint.Monospace)
        self.text.setFont(font)
        body.addWidget(self.text, 3)
        self.plot_widget = pg.PlotWidget()
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setLabel("bottom", "unit (grouped by layer)")
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.8)
        self.plot.addItem(self.bars)
        body.addWidget(self.plot_widget, 2)
        lay.addLayout(body, 1)
        self.step = 0
        self.walkthrough: Walkthrough | None = None
        self._theta: np.ndarray | None = None
        self._hp: dict = {}
        self._last_seq = -1
        self._last_refresh = 0.0
        self._stale = False          # a newer theta than the one shown
        self._catch_up_pending = False
        self.step_buttons.button(0).setChecked(True)

    def set_context(self, ctx: RunContext) -> None:
        super().set_context(ctx)
        n = len(ctx.dataset.y_train)
        self.sample.blockSignals(True)
        self.sample.setRange(0, max(n - 1, 0))
        self.sample.setValue(min(self.sample.value(), max(n - 1, 0)))
        self.sample.blockSignals(False)
        self._theta = ctx.network.theta.copy()
        self._hp = {}
        self._last_seq = -1
        self.recompute()
        self._announce()

    # --- updates ------------------------------------------------------------------------------
    def update_snapshot(self, snap) -> None:
        if self.ctx is None or snap is None or (snap.seq == self._last_seq and
                                                not self._stale):
            return
        self._last_seq = snap.seq
        if snap.theta is None:
            return
        now = time.monotonic()
        self._theta, self._hp = snap.theta, dict(snap.hp or {})
        # The numbers are read, not watched: a couple of refreshes a second is enough, and
        # nothing when the dock is hidden. What is skipped is shown later: when the tab is
        # raised (showEvent) or once the rate allows (training paused, no newer snapshot).
        if not on_screen(self):
            self._stale = True
            return
        wait = 1.0 / REFRESH_HZ - (now - self._last_refresh)
        if wait > 0:
            self._stale = True
            if not self._catch_up_pending:
                self._catch_up_pending = True
                QtCore.QTimer.singleShot(int(1000 * wait) + 1, self, self._catch_up)
            return
        self._refresh_now()

    def _refresh_now(self) -> None:
        self._last_refresh = time.monotonic()
        self._stale = False
        self.recompute()

    def _catch_up(self) -> None:
        self._catch_up_pending = False
        if self._stale and on_screen(self):
            self._refresh_now()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if self._stale:
            self._refresh_now()

    def recompute(self) -> None:
        """Recompute the walkthrough of the chosen sample at the latest parameters."""
        if self.ctx is None or self._theta is None:
            return
        ds = self.ctx.dataset
        if len(ds.y_train) == 0:
            return
        net = self.ctx.theta_view(self._theta)
        i = self.sample.value()
        l1 = float(self._hp.get("l1", self.ctx.config["regularization.l1"]))
        l2 = float(self._hp.get("l2", self.ctx.config["regularization.l2"]))
        self.walkthrough = walkthrough_for(net, ds.X_train, ds.y_train, i, l1, l2)
        raw = ds.raw_train[i]
        raw_s = ", ".join(f"{v:.3g}" for v in raw[:4]) + (" ..." if raw.size > 4 else "")
        y = ds.y_train[i]
        y_s = str(int(y)) if np.ndim(y) == 0 else ", ".join(f"{v:.3g}" for v in np.ravel(y))
        self.sample_label.setText(f"raw ({raw_s})  target {y_s}")
        self._show()

    def set_step(self, step: int) -> None:
        """Show step ``step`` (0-based: 0 input ... 4 gradients)."""
        self.step = int(np.clip(step, 0, len(STEPS) - 1))
        self.step_buttons.button(self.step).setChecked(True)
        self._show()
        self._announce()

    def _announce(self) -> None:
        """Tell the network graph which columns this step is about."""
        if self.ctx is None:
            return
        self.bus.walkthrough_changed.emit(
            {"step": self.step, "name": STEPS[self.step],
             "columns": step_columns(self.step, self.ctx.n_layers)})

    def _on_sample_changed(self, _value: int) -> None:
        self.recompute()

    def _show(self) -> None:
        wt = self.walkthrough
        if wt is None:
            return
        self.text.setPlainText(step_text(wt, self.step, self.ctx.layer_names,
                                         self.ctx.network.loss))
        vecs = step_vectors(wt, self.step)
        xs, hs, brushes = [], [], []
        x = 0.0
        first_layer = {0: 0, 1: 0, 2: len(wt.zs), 3: 1, 4: 1}[self.step]
        for i, v in enumerate(vecs):
            v = v[:SHOW * 2]
            color = "#9aa5b1" if (first_layer + i) == 0 else layer_color(first_layer + i - 1)
            for val in v:
                xs.append(x)
                hs.append(float(val) if np.isfinite(val) else 0.0)
                brushes.append(pg.mkBrush(color))
                x += 1.0
            x += 1.0
        self.bars.setOpts(x=xs, height=hs, width=0.8, brushes=brushes)
        self.plot.setTitle(STEPS[self.step], size="9pt")

    # --- export --------------------------------------------------------------------------------
    def export_item(self):
        return self.plot

    def export_csv(self):
        wt = self.walkthrough
        if wt is None:
            return None
        rows = []
        for l in range(len(wt.zs)):
            for j in range(wt.zs[l].size):
                unit = j // 2 if self.ctx.network.activations_names[l] == "maxout" else j
                a = wt.as_[l][unit]
                rows.append([l, j, float(wt.zs[l][j]), float(a), float(wt.deltas[l][j]),
                             float(wt.db[l][j])])
        return ["layer", "row", "z", "a", "delta", "db"], rows
