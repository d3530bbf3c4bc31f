"""The live loss and accuracy plots (pyqtgraph), TensorBoard-style.

Every plot item is created once; new batches only append to growing arrays, and a GUI timer hands the arrays to
``setData`` at most ~16 times a second, whatever the batch rate. Peak downsampling and clip-to-view keep 100,000
points as smooth as 100. Smoothing is the debiased exponential moving average of TensorBoard, computed
incrementally (``EmaSmoother``) so each update smooths only the new points. Past runs ticked in the runs list are
drawn as overlays in their own colours.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QEvent, QObject, Qt, QTimer
from PyQt6.QtWidgets import (QCheckBox, QGraphicsItem, QHBoxLayout, QLabel, QSizePolicy, QSlider, QSplitter,
                             QVBoxLayout, QWidget)

from mnist_studio.training import EpochEnd
from mnist_studio.training.inspect import EmaSmoother, smooth_ema

RUN_COLOR = (31, 119, 180)
TRAIN_COLOR = "#ff7f0e"
VAL_COLOR = "#2ca02c"
OVERLAY_COLORS = ("#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#111111")
REFRESH_MS = 500  # 2 redraws a second: live enough, and the trainer keeps the CPU (every redraw costs it)
DEFAULT_SMOOTHING = 0.6


class _Series:
    """A float64 array that grows by whole packets (amortised doubling)."""

    def __init__(self) -> None:
        self._a = np.empty(4096)
        self.n = 0

    def extend(self, values: np.ndarray) -> None:
        k = len(values)
        if self.n + k > self._a.size:
            self._a = np.resize(self._a, max(self._a.size * 2, self.n + k))
        self._a[self.n:self.n + k] = values
        self.n += k

    def view(self) -> np.ndarray:
        return self._a[: self.n]

    def clear(self) -> None:
        self.n = 0


def cache_axes(plot: pg.PlotItem) -> None:
    """Render each axis (its tick labels and, with a grid, the grid lines across the whole plot) into a cached
    pixmap. Without it every new point repaints all tick text, which was most of the GUI thread's time while
    training; the cache is rebuilt only when the axis itself changes."""
    for name in ("left", "bottom", "right", "top"):
        plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


class StickyYRange:
    """Keeps a plot's y range steady while data streams in: widened when the data leaves it, narrowed only when the
    data fills less than half of it. pyqtgraph's own auto-range moves on every new point, and every move
    re-renders the axis (tick text and grid); this way the axis changes a handful of times per run.

    A user's zoom or pan takes over (the plot stops following); pyqtgraph's "A" button hands control back."""

    PAD = 0.06

    def __init__(self, plot: pg.PlotItem) -> None:
        self.vb = plot.vb
        self.follow = True
        self._bounds: tuple[float, float] | None = None
        self.vb.disableAutoRange(axis=pg.ViewBox.YAxis)
        self.vb.sigRangeChangedManually.connect(self._on_manual)
        self.vb.sigStateChanged.connect(self._on_state)

    def _on_manual(self, mask) -> None:
        if mask is None or (len(mask) > 1 and mask[1]):
            self.follow = False

    def _on_state(self, _vb) -> None:
        if self.vb.state["autoRange"][1]:  # the user pressed "A": follow again, our way
            self.follow = True
            self.vb.disableAutoRange(axis=pg.ViewBox.YAxis)
            if self._bounds is not None:
                self.update(*self._bounds, force=True)

    def update(self, lo: float, hi: float, force: bool = False) -> None:
        """Data now spans [lo, hi] (in view coordinates: log10 on a log axis)."""
        if not (np.isfinite(lo) and np.isfinite(hi)):
            return
        self._bounds = (lo, hi)
        if not self.follow:
            return
        span = max(hi - lo, 1e-9, abs(hi) * 1e-3)
        want = (lo - self.PAD * span, hi + self.PAD * span)
        c0, c1 = self.vb.viewRange()[1]
        outside = lo < c0 or hi > c1
        too_wide = span < 0.5 * (c1 - c0)
        if force or outside or too_wide:
            self.vb.setYRange(*want, padding=0)


def _long_series(item: pg.PlotDataItem, smooth: bool = False) -> pg.PlotDataItem:
    """Settings for a curve that may hold 100,000 points: downsampled to about one bin per pixel (pyqtgraph's
    default is five), and no per-redraw NaN scan (the trainer never records a non-finite loss). Raw batch values
    keep each bin's min and max ("peak": spikes survive); a smoothed line takes each bin's mean, since a
    zig-zag of minima and maxima drawn antialiased costs five times as much and shows nothing more."""
    item.opts["autoDownsampleFactor"] = 1.0
    item.setSkipFiniteCheck(True)
    if smooth:
        item.setDownsampling(auto=True, method="mean")
    return item


def _make_plot(name: str, title: str, y_label: str) -> pg.PlotWidget:
    w = pg.PlotWidget()
    w.setObjectName(name)
    p = w.getPlotItem()
    p.setTitle(title, size="11pt")
    p.setLabel("bottom", "epoch")
    p.setLabel("left", y_label)
    p.showGrid(x=True, y=True, alpha=0.15)
    p.setDownsampling(auto=True, mode="peak")
    p.setClipToView(True)
    p.setMenuEnabled(True)
    cache_axes(p)
    w.setMinimumSize(260, 200)
    return w


class _Overlay:
    def __init__(self, record, color: str) -> None:
        self.record, self.color = record, color
        h = record.history
        self.epoch = np.asarray(h.series("epoch"), dtype=np.float64)
        self.loss = np.asarray(h.series("loss"), dtype=np.float64)
        self.acc = np.asarray(h.series("accuracy"), dtype=np.float64) * 100
        self.items: list[tuple[pg.PlotItem, pg.PlotDataItem]] = []
        self.smooth_loss = self.loss
        self.smooth_acc = self.acc


class _Hover:
    def __init__(self, vline: pg.InfiniteLine, hline: pg.InfiniteLine, label: pg.TextItem, proxy) -> None:
        self.vline, self.hline, self.label, self.proxy = vline, hline, label, proxy

    def items(self) -> tuple:
        return self.vline, self.hline, self.label

    def hide(self) -> None:
        for item in self.items():
            item.hide()


class TrainingPlots(QWidget):
    """Loss (``lossPlot``) and accuracy (``accuracyPlot``) side by side, with a smoothing slider and log scale."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainingPlots")
        self.smoothing = DEFAULT_SMOOTHING
        self.epoch, self.loss, self.acc = _Series(), _Series(), _Series()
        self.loss_smooth, self.acc_smooth = _Series(), _Series()
        self._loss_ema, self._acc_ema = EmaSmoother(self.smoothing), EmaSmoother(self.smoothing)
        self.epochs: list[EpochEnd] = []
        self.lr_markers: list[tuple[float, float, pg.InfiniteLine]] = []
        self.overlays: list[_Overlay] = []
        self._dirty = False
        self._total_epochs = 3.0

        # toolbar
        self.smoothing_slider = QSlider(Qt.Orientation.Horizontal)
        self.smoothing_slider.setObjectName("smoothingSlider")
        self.smoothing_slider.setRange(0, 99)
        self.smoothing_slider.setValue(int(round(self.smoothing * 100)))
        self.smoothing_slider.setMinimumWidth(110)
        self.smoothing_slider.setMaximumWidth(180)
        self.smoothing_slider.setToolTip("Exponential moving average of the batch curves, as in TensorBoard "
                                         "(bias-corrected, so the start is not dragged towards zero)")
        self.smoothing_label = QLabel(f"{self.smoothing:.2f}")
        self.smoothing_label.setMinimumWidth(32)
        self.log_check = QCheckBox("Log scale")
        self.log_check.setObjectName("logScaleCheck")
        self.log_check.setToolTip("Show the loss on a logarithmic axis: late, small improvements stay visible")
        self.raw_check = QCheckBox("Raw batches")
        self.raw_check.setObjectName("rawCheck")
        self.raw_check.setChecked(True)
        self.raw_check.setToolTip("Show every batch's loss and accuracy faintly behind the smoothed line")
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 0, 4, 0)
        bar.addWidget(QLabel("Smoothing"))
        bar.addWidget(self.smoothing_slider)
        bar.addWidget(self.smoothing_label)
        bar.addSpacing(16)
        bar.addWidget(self.log_check)
        bar.addWidget(self.raw_check)
        self.hint = QLabel("Hover to read values · wheel to zoom · right-click to export")
        self.hint.setStyleSheet("color: #666;")
        self.hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # gives way first
        self.hint.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        bar.addWidget(self.hint, 1)

        self.loss_plot = _make_plot("lossPlot", "Loss", "loss")
        self.acc_plot = _make_plot("accuracyPlot", "Accuracy", "accuracy (%)")
        self.acc_plot.setXLink(self.loss_plot)
        lp, ap = self.loss_plot.getPlotItem(), self.acc_plot.getPlotItem()
        legend_style = dict(labelTextSize="9pt", brush=pg.mkBrush(255, 255, 255, 215), pen=pg.mkPen("#ccc"))
        lp.addLegend(offset=(-8, 8), **legend_style)
        ap.addLegend(offset=(-8, -8), **legend_style)
        self._loss_range, self._acc_range = StickyYRange(lp), StickyYRange(ap)

        faint = pg.mkPen(RUN_COLOR + (50,), width=1)
        self.loss_raw = _long_series(lp.plot(pen=faint, name="batch loss", antialias=False))  # faint: no AA needed
        self.loss_line = _long_series(lp.plot(pen=pg.mkPen(RUN_COLOR, width=2.2), name="smoothed"), smooth=True)
        self.loss_train_ep = lp.plot(pen=pg.mkPen(TRAIN_COLOR, width=1.5), symbol="o", symbolSize=7,
                                     symbolBrush=TRAIN_COLOR, symbolPen=None, name="train (epoch)")
        self.loss_val_ep = lp.plot(pen=pg.mkPen(VAL_COLOR, width=1.5), symbol="s", symbolSize=7,
                                   symbolBrush=VAL_COLOR, symbolPen=None, name="validation (epoch)")
        self.acc_raw = _long_series(ap.plot(pen=faint, antialias=False))
        self.acc_line = _long_series(ap.plot(pen=pg.mkPen(RUN_COLOR, width=2.2), name="batch (smoothed)"),
                                     smooth=True)
        self.acc_train_ep = ap.plot(pen=pg.mkPen(TRAIN_COLOR, width=1.5), symbol="o", symbolSize=7,
                                    symbolBrush=TRAIN_COLOR, symbolPen=None, name="train (epoch)")
        self.acc_val_ep = ap.plot(pen=pg.mkPen(VAL_COLOR, width=1.5), symbol="s", symbolSize=7,
                                  symbolBrush=VAL_COLOR, symbolPen=None, name="validation (epoch)")

        # hover read-out: a crosshair and a label per plot
        self._hover: dict[pg.PlotWidget, _Hover] = {}
        for w in (self.loss_plot, self.acc_plot):
            p = w.getPlotItem()
            pen = pg.mkPen((120, 120, 120), width=1)
            h = _Hover(pg.InfiniteLine(angle=90, movable=False, pen=pen),
                       pg.InfiniteLine(angle=0, movable=False, pen=pen),
                       pg.TextItem(anchor=(0, 0), fill=pg.mkBrush(255, 255, 255, 225), border=pg.mkPen("#aaa")),
                       pg.SignalProxy(w.scene().sigMouseMoved, rateLimit=30, slot=partial(self._on_hover, w)))
            h.label.setZValue(100)
            for item in h.items():
                p.addItem(item, ignoreBounds=True)
                item.hide()
            self._hover[w] = h
            w.viewport().installEventFilter(self)
        self._empty_text = {}
        for w, text in ((self.loss_plot, "Press Start: the loss of every batch appears here"),
                        (self.acc_plot, "…and the accuracy here")):
            t = pg.TextItem(text, color="#888", anchor=(0.5, 0.5))
            w.getPlotItem().addItem(t, ignoreBounds=True)
            self._empty_text[w] = t

        plots = QSplitter(Qt.Orientation.Horizontal)
        plots.addWidget(self.loss_plot)
        plots.addWidget(self.acc_plot)
        plots.setChildrenCollapsible(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(bar)
        lay.addWidget(plots, 1)

        self.smoothing_slider.valueChanged.connect(self._on_smoothing)
        self.log_check.toggled.connect(self._on_log)
        self.raw_check.toggled.connect(self._on_raw)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._refresh)
        self._timer.start()
        self.clear(3)

    # -- data in ---------------------------------------------------------------------------------------------------
    def clear(self, total_epochs: float) -> None:
        """Start afresh for a new run of ``total_epochs`` (the x axis spans it, so the curve grows across)."""
        for s in (self.epoch, self.loss, self.acc, self.loss_smooth, self.acc_smooth):
            s.clear()
        self._loss_ema, self._acc_ema = EmaSmoother(self.smoothing), EmaSmoother(self.smoothing)
        self.epochs = []
        for _, _, line in self.lr_markers:
            self.loss_plot.getPlotItem().removeItem(line)
        self.lr_markers = []
        for item in (self.loss_raw, self.loss_line, self.acc_raw, self.acc_line, self.loss_train_ep, self.loss_val_ep,
                     self.acc_train_ep, self.acc_val_ep):
            item.setData([], [])
        self._dirty = False
        self._loss_range.follow = self._acc_range.follow = True
        self.set_total_epochs(total_epochs)
        self._show_empty(True)

    def set_total_epochs(self, total_epochs: float) -> None:
        self._total_epochs = float(max(total_epochs, 1))
        self._fit_x()

    def add_batches(self, epoch: np.ndarray, loss: np.ndarray, accuracy: np.ndarray) -> None:
        if len(epoch) == 0:
            return
        acc = np.asarray(accuracy, dtype=np.float64) * 100
        self.epoch.extend(epoch)
        self.loss.extend(loss)
        self.acc.extend(acc)
        self.loss_smooth.extend(self._loss_ema.extend(loss))
        self.acc_smooth.extend(self._acc_ema.extend(acc))
        if self.epoch.n == len(epoch):
            self._show_empty(False)
        self._dirty = True

    def add_epoch(self, e: EpochEnd) -> None:
        self.epochs.append(e)
        self._draw_epochs()
        self._update_ranges()

    def mark_lr(self, epoch: float, lr: float) -> None:
        """A learning-rate change made while training: a dashed vertical line labelled with the new value."""
        line = pg.InfiniteLine(pos=epoch, angle=90, movable=False,
                               pen=pg.mkPen((90, 90, 90), width=1.2, style=Qt.PenStyle.DashLine),
                               label=f"lr → {lr:g}",
                               labelOpts={"position": (0.38, 0.3, 0.46)[len(self.lr_markers) % 3],
                                          "color": (60, 60, 60), "fill": (255, 255, 255, 210)})
        line.setToolTip(f"learning rate set to {lr:g} at epoch {epoch:.2f}")
        self.loss_plot.getPlotItem().addItem(line, ignoreBounds=True)
        self.lr_markers.append((epoch, lr, line))

    def set_overlays(self, records: list) -> None:
        """Draw these past runs (RunRecord) behind the live one, each in its own colour, named in the legends."""
        for ov in self.overlays:
            for plot, item in ov.items:
                plot.removeItem(item)
        self.overlays = []
        for i, rec in enumerate(records):
            ov = _Overlay(rec, OVERLAY_COLORS[i % len(OVERLAY_COLORS)])
            pen = pg.mkPen(ov.color, width=2)
            ep = [e for e in rec.history.epochs if e.get("epoch") is not None]
            lp, ap = self.loss_plot.getPlotItem(), self.acc_plot.getPlotItem()
            loss_item = _long_series(lp.plot(pen=pen, name=rec.name), smooth=True)
            acc_item = _long_series(ap.plot(pen=pen, name=rec.name), smooth=True)
            ov.items = [(lp, loss_item), (ap, acc_item)]
            vx = [float(e["epoch"]) for e in ep if e.get("val_loss") is not None]
            if vx:
                vl = [float(e["val_loss"]) for e in ep if e.get("val_loss") is not None]
                va = [float(e["val_accuracy"]) * 100 for e in ep if e.get("val_accuracy") is not None]
                sym = dict(pen=None, symbol="t", symbolSize=8, symbolBrush=ov.color, symbolPen=None)
                ov.items.append((lp, lp.plot(vx, vl, **sym)))
                if len(va) == len(vx):
                    ov.items.append((ap, ap.plot(vx, va, **sym)))
            self.overlays.append(ov)
        self._smooth_overlays()
        if records:
            self._show_empty(False)
        self._fit_x()
        self._update_ranges()

    # -- read-back (tests, hover) ----------------------------------------------------------------------------------
    def point_count(self) -> int:
        return self.epoch.n

    def curve_data(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """What a plot item holds now: "loss", "loss_smooth", "accuracy", "val_loss", ... (for tests)."""
        item = {"loss": self.loss_raw, "loss_smooth": self.loss_line, "accuracy": self.acc_line,
                "train_loss": self.loss_train_ep, "val_loss": self.loss_val_ep, "train_accuracy": self.acc_train_ep,
                "val_accuracy": self.acc_val_ep}[name]
        x, y = item.getData()
        return (np.asarray(x) if x is not None else np.zeros(0)), (np.asarray(y) if y is not None else np.zeros(0))

    # -- drawing ---------------------------------------------------------------------------------------------------
    def _refresh(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        x = self.epoch.view()
        self.loss_line.setData(x, self.loss_smooth.view())
        self.acc_line.setData(x, self.acc_smooth.view())
        if self.raw_check.isChecked():
            self.loss_raw.setData(x, self.loss.view())
            self.acc_raw.setData(x, self.acc.view())
        if x.size and x[-1] > self._total_epochs:
            self.set_total_epochs(np.ceil(x[-1]))
        self._update_ranges()

    def _update_ranges(self, force: bool = False) -> None:
        raw = self.raw_check.isChecked()
        loss = [self.loss.view() if raw else self.loss_smooth.view(), self.loss_smooth.view()]
        acc = [self.acc.view() if raw else self.acc_smooth.view()]
        loss += [np.array([e.train_loss for e in self.epochs] + [e.val_loss for e in self.epochs
                                                                   if e.val_loss is not None])]
        acc += [np.array([e.train_accuracy * 100 for e in self.epochs] +
                         [e.val_accuracy * 100 for e in self.epochs if e.val_accuracy is not None])]
        for ov in self.overlays:
            loss.append(ov.smooth_loss)
            acc.append(ov.smooth_acc)
        loss = [a for a in loss if a.size]
        acc = [a for a in acc if a.size]
        if loss:
            lo, hi = min(float(a.min()) for a in loss), max(float(a.max()) for a in loss)
            if self.log_check.isChecked():
                pos = [a[a > 0] for a in loss]
                pos = [a for a in pos if a.size]
                if not pos:
                    return
                lo, hi = np.log10(min(float(a.min()) for a in pos)), np.log10(hi)
            self._loss_range.update(lo, hi, force)
        if acc:
            self._acc_range.update(min(float(a.min()) for a in acc), max(float(a.max()) for a in acc), force)

    def flush(self) -> None:
        """Draw what arrived now (the timer would within REFRESH_MS)."""
        self._refresh()

    def _draw_epochs(self) -> None:
        ex = [float(e.epoch) for e in self.epochs]
        self.loss_train_ep.setData(ex, [e.train_loss for e in self.epochs])
        self.acc_train_ep.setData(ex, [e.train_accuracy * 100 for e in self.epochs])
        val = [e for e in self.epochs if e.val_loss is not None]
        self.loss_val_ep.setData([float(e.epoch) for e in val], [e.val_loss for e in val])
        self.acc_val_ep.setData([float(e.epoch) for e in val], [e.val_accuracy * 100 for e in val])

    def _smooth_overlays(self) -> None:
        for ov in self.overlays:
            ov.smooth_loss = smooth_ema(ov.loss, self.smoothing)
            ov.smooth_acc = smooth_ema(ov.acc, self.smoothing)
            ov.items[0][1].setData(ov.epoch, ov.smooth_loss)
            ov.items[1][1].setData(ov.epoch, ov.smooth_acc)

    def _fit_x(self) -> None:
        right = self._total_epochs
        for ov in self.overlays:
            if ov.epoch.size:
                right = max(right, float(ov.epoch[-1]))
        self.loss_plot.getPlotItem().setXRange(0, right, padding=0.02)
        for w, t in self._empty_text.items():
            t.setPos(right / 2, 0.5 if w is self.loss_plot else 50)

    def _show_empty(self, empty: bool) -> None:
        for w, t in self._empty_text.items():
            t.setVisible(empty)
            if empty and not self.overlays:
                w.getPlotItem().setYRange(*((0, 1) if w is self.loss_plot else (0, 100)), padding=0.05)

    def _on_smoothing(self, value: int) -> None:
        self.smoothing = value / 100
        self.smoothing_label.setText(f"{self.smoothing:.2f}")
        self._loss_ema, self._acc_ema = EmaSmoother(self.smoothing), EmaSmoother(self.smoothing)
        self.loss_smooth.clear()
        self.acc_smooth.clear()
        self.loss_smooth.extend(self._loss_ema.extend(self.loss.view()))
        self.acc_smooth.extend(self._acc_ema.extend(self.acc.view()))
        self._smooth_overlays()
        self._dirty = True
        self._refresh()

    def _on_log(self, on: bool) -> None:
        self.loss_plot.getPlotItem().setLogMode(y=on)
        self._loss_range.follow = True
        self._update_ranges(force=True)


    def _on_raw(self, on: bool) -> None:
        for item in (self.loss_raw, self.acc_raw):
            item.setVisible(on)
        self._dirty = True
        self._update_ranges(force=True)

    # -- hover -----------------------------------------------------------------------------------------------------
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Leave:
            for h in self._hover.values():
                h.hide()
        return False

    def hover_text(self, plot: pg.PlotWidget, x: float) -> str:
        """The read-out at epoch ``x``: the live run's batch values, the nearest epoch's, and each overlay's."""
        is_loss = plot is self.loss_plot
        fmt = (lambda v: f"{v:.4f}") if is_loss else (lambda v: f"{v:.2f}%")
        rows = [f"<b>epoch {x:.2f}</b>"]
        ep = self.epoch.view()
        if ep.size:
            i = int(np.clip(np.searchsorted(ep, x), 0, ep.size - 1))
            raw, smooth = (self.loss, self.loss_smooth) if is_loss else (self.acc, self.acc_smooth)
            rows.append(f"<span style='color:#1f77b4'>batch {fmt(raw.view()[i])} · smoothed {fmt(smooth.view()[i])}</span>")
        if self.epochs:
            e = min(self.epochs, key=lambda r: abs(r.epoch - x))
            if abs(e.epoch - x) < 0.5:
                tr = e.train_loss if is_loss else e.train_accuracy * 100
                row = f"epoch {e.epoch}: <span style='color:{TRAIN_COLOR}'>train {fmt(tr)}</span>"
                if e.val_loss is not None:
                    va = e.val_loss if is_loss else e.val_accuracy * 100
                    row += f" · <span style='color:{VAL_COLOR}'>val {fmt(va)}</span>"
                rows.append(row)
        for ov in self.overlays:
            if ov.epoch.size and ov.epoch[0] <= x <= ov.epoch[-1] + 1e-9:
                j = int(np.clip(np.searchsorted(ov.epoch, x), 0, ov.epoch.size - 1))
                v = (ov.smooth_loss if is_loss else ov.smooth_acc)[j]
                rows.append(f"<span style='color:{ov.color}'>{ov.record.name}: {fmt(v)}</span>")
        return "<br>".join(rows)

    def _on_hover(self, plot: pg.PlotWidget, evt) -> None:
        pos = evt[0]
        h = self._hover[plot]
        vb = plot.getPlotItem().vb
        if not vb.sceneBoundingRect().contains(pos) or (self.epoch.n == 0 and not self.overlays):
            h.hide()
            return
        pt = vb.mapSceneToView(pos)
        x = max(pt.x(), 0.0)
        h.vline.setPos(x)
        h.hline.setPos(pt.y())
        h.label.setHtml(f"<div style='font-size:9pt'>{self.hover_text(plot, x)}</div>")
        (x0, x1), (y0, y1) = vb.viewRange()
        h.label.setAnchor((1.05 if x > (x0 + x1) / 2 else -0.05, 1 if pt.y() < (y0 + y1) / 2 else 0))
        h.label.setPos(x, pt.y())
        for item in h.items():
            item.show()
