"""Exports of a session: CSV tables and a self-contained HTML report for a tutor.

The report's images (loss and accuracy curves, decision map) are PNGs drawn here with
numpy and written by a tiny PNG encoder (zlib + struct), embedded as data URIs, so the
report is one file and needs no plotting library.
"""
from __future__ import annotations

import base64
import csv
import html
import json
import struct
import time
import zlib
from pathlib import Path

import numpy as np

from . import format as F
from .reader import LAYER_FIELDS, SessionReader

CLASS_RGB = ((0xF5, 0x93, 0x22), (0x08, 0x77, 0xBD))   # orange, blue (UI.md)
SERIES_RGB = ((0x1F, 0x77, 0xB4), (0xD6, 0x27, 0x28), (0x2C, 0xA0, 0x2C), (0x94, 0x67, 0xBD))


# --- PNG -----------------------------------------------------------------------------------
def png_bytes(rgb: np.ndarray) -> bytes:
    """Encode an image as PNG.

    Parameters
    ----------
    rgb : np.ndarray, shape (h, w, 3), uint8
    """
    rgb = np.ascontiguousarray(rgb, np.uint8)
    h, w, _ = rgb.shape
    raw = np.concatenate([np.zeros((h, 1), np.uint8), rgb.reshape(h, w * 3)], axis=1)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)) + chunk(b"IEND", b""))


# 3x5 bitmap digits for tick labels
_GLYPHS = {
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111",
    "3": "111001111001111", "4": "101101111001001", "5": "111100111001111",
    "6": "111100111101111", "7": "111001010010010", "8": "111101111101111",
    "9": "111101111001111", ".": "000000000000010", "-": "000000111000000",
    "e": "000111101110011", "+": "000010111010000", " ": "000000000000000",
}


def _text(img: np.ndarray, x: int, y: int, s: str, color=(60, 60, 60), scale: int = 2):
    """Draw ``s`` with its top-left corner at (x, y)."""
    for ch in s:
        g = _GLYPHS.get(ch)
        if g is not None:
            m = np.array([int(c) for c in g], bool).reshape(5, 3)
            m = np.kron(m, np.ones((scale, scale), bool))
            ys, xs = np.nonzero(m)
            ys, xs = ys + y, xs + x
            ok = (ys >= 0) & (ys < img.shape[0]) & (xs >= 0) & (xs < img.shape[1])
            img[ys[ok], xs[ok]] = color
        x += 4 * scale


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if 1e-3 <= abs(v) < 1e5:
        return f"{v:.4g}"
    return f"{v:.1e}".replace("e-0", "e-").replace("e+0", "e")


class _Axes:
    """A plot area mapping data to pixels (optionally log10 in y)."""

    def __init__(self, w=640, h=300, xlim=(0, 1), ylim=(0, 1), logy=False):
        self.img = np.full((h, w, 3), 255, np.uint8)
        self.l, self.r, self.t, self.b = 70, w - 12, 10, h - 28
        self.logy = logy
        self.x0, self.x1 = xlim
        if self.x1 <= self.x0:
            self.x1 = self.x0 + 1
        y0, y1 = ylim
        if logy:
            y0, y1 = np.log10(max(y0, 1e-300)), np.log10(max(y1, 1e-300))
        if not np.isfinite(y0) or not np.isfinite(y1):
            y0, y1 = 0.0, 1.0
        if y1 <= y0:
            y0, y1 = y0 - 0.5, y1 + 0.5
        pad = 0.04 * (y1 - y0)
        self.y0, self.y1 = y0 - pad, y1 + pad
        self._frame()

    def px(self, x):
        return self.l + (np.asarray(x, float) - self.x0) / (self.x1 - self.x0) * (self.r - self.l)

    def py(self, y):
        y = np.asarray(y, float)
        if self.logy:
            with np.errstate(divide="ignore", invalid="ignore"):
                y = np.log10(y)
        return self.b - (y - self.y0) / (self.y1 - self.y0) * (self.b - self.t)

    def _frame(self):
        img = self.img
        grey = (200, 200, 200)
        for k in range(5):
            fy = self.y0 + (self.y1 - self.y0) * k / 4
            yy = int(round(self.b - (fy - self.y0) / (self.y1 - self.y0) * (self.b - self.t)))
            img[yy, self.l:self.r] = (235, 235, 235)
            label = _fmt(10 ** fy if self.logy else fy)
            _text(img, 4, yy - 5, label)
        for k in range(5):
            fx = self.x0 + (self.x1 - self.x0) * k / 4
            xx = int(round(self.l + k / 4 * (self.r - self.l)))
            img[self.t:self.b, min(xx, self.r - 1)] = (235, 235, 235)
            s = str(int(round(fx)))
            _text(img, max(0, min(xx - 4 * len(s), img.shape[1] - 8 * len(s))), self.b + 8, s)
        img[self.t:self.b + 1, self.l] = grey
        img[self.t:self.b + 1, self.r] = grey
        img[self.t, self.l:self.r + 1] = grey
        img[self.b, self.l:self.r + 1] = grey

    def line(self, x, y, color):
        """A polyline; many points are reduced to a min/max envelope per pixel column."""
        x, y = np.asarray(x, float), np.asarray(y, float)
        X, Y = self.px(x), self.py(y)
        ok = np.isfinite(X) & np.isfinite(Y)
        X, Y = X[ok], np.clip(Y[ok], self.t, self.b)
        if X.size == 0:
            return
        if X.size <= 2 * (self.r - self.l):
            # few points: interpolate every segment pixel by pixel
            seg = np.maximum(1, np.ceil(np.maximum(np.abs(np.diff(X)),
                                                   np.abs(np.diff(Y))))).astype(int)
            xs = [X[:1]] + [np.linspace(X[i], X[i + 1], seg[i] + 1)[1:] for i in range(seg.size)]
            ys = [Y[:1]] + [np.linspace(Y[i], Y[i + 1], seg[i] + 1)[1:] for i in range(seg.size)]
            xi = np.round(np.concatenate(xs)).astype(int)
            yi = np.round(np.concatenate(ys)).astype(int)
            for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
                self.img[np.clip(yi + dy, 0, self.img.shape[0] - 1),
                         np.clip(xi + dx, 0, self.img.shape[1] - 1)] = color
            return
        cols = np.clip(np.round(X).astype(int), self.l, self.r)
        lo = np.full(self.r + 1, np.inf)
        hi = np.full(self.r + 1, -np.inf)
        np.minimum.at(lo, cols, Y)
        np.maximum.at(hi, cols, Y)
        used = np.flatnonzero(np.isfinite(lo))
        prev = None
        for c in used:
            a, b = lo[c], hi[c]
            if prev is not None:   # join to the previous column so the line is unbroken
                a, b = min(a, prev), max(b, prev)
            y0, y1 = int(np.floor(a)), int(np.ceil(b))
            self.img[y0:y1 + 1, c] = color
            if c + 1 <= self.r:
                self.img[y0:y1 + 1, c + 1] = color
            prev = (lo[c] + hi[c]) / 2
        return

    def points(self, x, y, color, r=3):
        X, Y = self.px(x), self.py(y)
        for cx, cy in zip(X, Y):
            if np.isfinite(cx) and np.isfinite(cy):
                self.img[int(cy) - r:int(cy) + r + 1, int(cx) - 1:int(cx) + 2] = color
                self.img[int(cy) - 1:int(cy) + 2, int(cx) - r:int(cx) + r + 1] = color

    def vline(self, x, color=(150, 150, 150)):
        xx = int(round(float(self.px(x))))
        if self.l <= xx <= self.r:
            self.img[self.t:self.b:3, xx] = color


def _moving_average(y: np.ndarray, k: int) -> np.ndarray:
    if y.size < k or k < 2:
        return y
    c = np.cumsum(np.insert(np.nan_to_num(y), 0, 0.0))
    out = (c[k:] - c[:-k]) / k
    return np.concatenate([np.full(k - 1, np.nan), out])


def loss_png(reader: SessionReader) -> bytes:
    """Mini-batch loss (smoothed), train and test loss at evaluations; log y when positive."""
    m, ev = reader.metrics(), reader.evaluations()
    steps = m["step"]
    smooth = _moving_average(m["loss"], max(1, steps.size // 200))
    series = [(steps, smooth), (ev["step"], ev["train_loss"]), (ev["step"], ev["test_loss"])]
    allv = np.concatenate([s[1][np.isfinite(s[1])] for s in series] + [np.zeros(0)])
    logy = allv.size > 0 and allv.min() > 0 and allv.max() / allv.min() > 20
    ylim = (allv.min(), allv.max()) if allv.size else (0, 1)
    x1 = max(reader.last_step, reader.first_step + 1)
    ax = _Axes(xlim=(reader.first_step, x1), ylim=ylim, logy=logy)
    for e in reader.events():
        if e["kind"] in ("hparams", "weight", "fork"):
            ax.vline(e["step"])
    colors = [(170, 170, 170), SERIES_RGB[0], SERIES_RGB[1]]
    for (x, y), c in zip(series, colors):
        ax.line(x, y, c)
    return png_bytes(ax.img)


def accuracy_png(reader: SessionReader) -> bytes | None:
    ev = reader.evaluations()
    if not np.isfinite(ev["train_acc"]).any():
        return None
    ax = _Axes(xlim=(reader.first_step, max(reader.last_step, reader.first_step + 1)),
               ylim=(0.0, 1.0))
    ax.line(ev["step"], ev["train_acc"], SERIES_RGB[0])
    ax.line(ev["step"], ev["test_acc"], SERIES_RGB[1])
    return png_bytes(ax.img)


def decision_png(reader: SessionReader, step: int | None = None, size: int = 320) -> bytes | None:
    """The output over the input plane with the data (2-D inputs); the fit for 1-D
    regression; None otherwise."""
    ds = reader.dataset()
    s = reader.last_step if step is None else step
    run = reader.run_at(s, diagnostics=False)
    net = run.network
    if ds.raw_dim == 2 and ds.task == "classification":
        pts = np.concatenate([ds.raw_train, ds.raw_test])
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        pad = 0.05 * (hi - lo + 1e-9)
        lo, hi = lo - pad, hi + pad
        gx = np.linspace(lo[0], hi[0], size)
        gy = np.linspace(hi[1], lo[1], size)
        G = np.stack(np.meshgrid(gx, gy), -1).reshape(-1, 2)
        out = np.asarray(net.predict(ds.transform(G)), float)
        if out.ndim == 2 and out.shape[1] > 1:
            p = out.argmax(1).astype(float) / max(1, out.shape[1] - 1)
        else:
            p = out.reshape(-1)
            p = (p > 0).astype(float) if reader.config.model["output"] in ("linear",) else p
        p = np.clip(np.nan_to_num(p, nan=0.5), 0, 1).reshape(size, size, 1)
        orange, blue = np.array(CLASS_RGB[0], float), np.array(CLASS_RGB[1], float)
        white = np.full(3, 255.0)
        # diverging map through white: 0 orange, 0.5 white, 1 blue (softened)
        t = np.abs(p - 0.5) * 2 * 0.6
        col = np.where(p < 0.5, white + (orange - white) * t, white + (blue - white) * t)
        img = col.astype(np.uint8)

        def dot(xy, label, filled):
            cx = int((xy[0] - lo[0]) / (hi[0] - lo[0]) * (size - 1))
            cy = int((hi[1] - xy[1]) / (hi[1] - lo[1]) * (size - 1))
            c = CLASS_RGB[int(label) % 2]
            y0, y1, x0, x1 = max(cy - 2, 0), min(cy + 3, size), max(cx - 2, 0), min(cx + 3, size)
            if filled:
                img[y0:y1, x0:x1] = c
            else:
                img[y0:y1, x0] = c
                img[y0:y1, x1 - 1] = c
                img[y0, x0:x1] = c
                img[y1 - 1, x0:x1] = c
        for xy, lab in zip(ds.raw_train, ds.y_train):
            dot(xy, lab, True)
        for xy, lab in zip(ds.raw_test, ds.y_test):
            dot(xy, lab, False)
        return png_bytes(img)
    if ds.raw_dim == 1 and ds.task == "regression":
        x = np.concatenate([ds.raw_train[:, 0], ds.raw_test[:, 0]])
        y = np.concatenate([ds.y_train[:, 0], ds.y_test[:, 0]])
        grid = np.linspace(x.min(), x.max(), 400)
        fit = np.asarray(net.predict(ds.transform(grid[:, None])), float)[:, 0]
        ylim = (min(y.min(), np.nanmin(fit)), max(y.max(), np.nanmax(fit)))
        ax = _Axes(xlim=(x.min(), x.max()), ylim=ylim)
        ax.points(x, y, (120, 120, 120), r=2)
        ax.line(grid, fit, SERIES_RGB[0])
        return png_bytes(ax.img)
    return None


# --- CSV -------------------------------------------------------------------------------------
def export_csv(path, out_dir) -> list[Path]:
    """Write ``metrics.csv`` (one row per step), ``evaluations.csv`` and ``events.csv``."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise F.SessionError(f"cannot create folder {out}: {e}") from None
    with SessionReader(path) as r:
        m = r.metrics()
        L = m["gnorm"].shape[1] if m["gnorm"].ndim == 2 else 1
        header = ["step", "loss", "lr", "flags"] + [f"{f}_{l + 1}" for f in LAYER_FIELDS
                                                     for l in range(L)]
        cols = [m["step"][:, None].astype(float), m["loss"][:, None], m["lr"][:, None],
                m["flags"][:, None].astype(float)] + [m[f].astype(float) for f in LAYER_FIELDS]
        table = np.concatenate(cols, axis=1) if m["loss"].size else np.zeros((0, len(header)))
        files = [out / "metrics.csv", out / "evaluations.csv", out / "events.csv"]
        fmt = ["%d", "%.17g", "%.17g", "%d"] + ["%.9g"] * (len(header) - 4)
        np.savetxt(files[0], table, delimiter=",", header=",".join(header), comments="",
                   fmt=fmt)
        ev_fields = ["step", "epoch", "train_loss", "test_loss", "train_acc", "test_acc"]
        with open(files[1], "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(ev_fields + [f"eval_dead_{l + 1}" for l in range(L)]
                       + [f"eval_sat_{l + 1}" for l in range(L)])
            for row in r.evaluation_rows():
                w.writerow([("" if row.get(f) is None else row.get(f)) for f in ev_fields]
                           + list(row.get("eval_dead") or []) + list(row.get("eval_sat") or []))
        with open(files[2], "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["step", "time", "kind", "payload"])
            for e in r.events():
                w.writerow([e["step"], f"{e['time']:.3f}", e["kind"], json.dumps(e["payload"])])
    return files


# --- HTML ------------------------------------------------------------------------------------
def _img(png: bytes | None, alt: str) -> str:
    if png is None:
        return f"<p class=note>No {html.escape(alt)} for this data set.</p>"
    return (f'<img alt="{html.escape(alt)}" src="data:image/png;base64,'
            f'{base64.b64encode(png).decode()}">')


def html_report(path, out) -> Path:
    """Write one self-contained HTML file: configuration, summary, curves, decision map,
    findings with their evidence, and events."""
    esc = html.escape
    with SessionReader(path) as r:
        ev = r.evaluation_rows()
        last = ev[-1] if ev else {}
        parts = [
            "<!doctype html><html><head><meta charset='utf-8'>",
            f"<title>Session report: {esc(r.path.name)}</title><style>",
            "body{font-family:sans-serif;max-width:980px;margin:2em auto;color:#222}",
            "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;"
            "text-align:left;vertical-align:top}pre{background:#f6f6f6;padding:8px}",
            ".error{color:#d62728}.warning{color:#b07800}.info{color:#6c8ebf}"
            ".note{color:#777}</style></head><body>",
            f"<h1>Session report: {esc(r.path.name)}</h1>",
            f"<p>Recorded by workbench {esc(r.app_version)} on "
            f"{esc(time.strftime('%Y-%m-%d %H:%M', time.localtime(r.meta.get('created', 0))))}"
            f"; {r.last_step} steps; {'complete' if r.closed else 'interrupted or live'}.</p>",
        ]
        if r.parent:
            parts.append(f"<p>Forked from {esc(str(r.parent))} at step {r.fork_step}.</p>")
        parts.append("<h2>Summary</h2><table>")
        for k in ("step", "train_loss", "test_loss", "train_acc", "test_acc"):
            v = last.get(k)
            parts.append(f"<tr><th>{k}</th><td>{'-' if v is None else esc(_fmt(v))}</td></tr>")
        nf = r.nonfinite_step()
        if nf is not None:
            parts.append(f"<tr><th>non-finite</th><td class=error>at step {nf}</td></tr>")
        parts.append("</table>")
        parts.append("<h2>Loss</h2><p class=note>grey: mini-batch loss (moving average); "
                     "blue: train loss; red: test loss; dotted: events. x: step.</p>")
        parts.append(_img(loss_png(r), "loss curve"))
        parts.append("<h2>Accuracy</h2><p class=note>blue: train; red: test. x: step.</p>")
        parts.append(_img(accuracy_png(r), "accuracy curve"))
        parts.append(f"<h2>Decision map at step {r.last_step}</h2><p class=note>orange: "
                     "class 0, blue: class 1; filled: training points, hollow: test "
                     "points.</p>")
        try:
            dec = decision_png(r)
        except F.SessionError:
            dec = None
        parts.append(_img(dec, "decision map"))
        parts.append("<h2>Findings</h2>")
        found = r.findings()
        if not found:
            parts.append("<p>No findings.</p>")
        else:
            parts.append("<table><tr><th>severity</th><th>code</th><th>step</th><th>message"
                         "</th><th>evidence</th><th>remedy</th></tr>")
            for f in found:
                sev = str(f.get("severity", ""))
                parts.append(
                    f"<tr><td class='{esc(sev)}'>{esc(sev)}</td><td>{esc(str(f.get('code')))}"
                    f"</td><td>{esc(str(f.get('step')))}</td><td>{esc(str(f.get('message')))}"
                    f"</td><td><pre>{esc(json.dumps(f.get('evidence'), indent=1))}</pre></td>"
                    f"<td>{esc(str(f.get('remedy') or ''))}</td></tr>")
            parts.append("</table>")
        parts.append("<h2>Events</h2>")
        evs = r.events()
        if not evs:
            parts.append("<p>No events.</p>")
        else:
            parts.append("<table><tr><th>step</th><th>kind</th><th>details</th></tr>")
            for e in evs:
                parts.append(f"<tr><td>{e['step']}</td><td>{esc(e['kind'])}</td><td>"
                             f"{esc(json.dumps(e['payload']))}</td></tr>")
            parts.append("</table>")
        parts.append("<h2>Configuration</h2><pre>" + esc(r.config.to_json()) + "</pre>")
        parts.append("</body></html>")
    out = Path(out)
    try:
        out.write_text("\n".join(parts), encoding="utf-8")
    except OSError as e:
        raise F.SessionError(f"cannot write {out}: {e}") from None
    return out
