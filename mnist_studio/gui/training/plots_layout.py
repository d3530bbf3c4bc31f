"""The training plots' widgets and plot items (pyqtgraph), and the building blocks they are made of.

:class:`PlotsLayout` builds the toolbar (smoothing, log scale, raw batches), the loss and accuracy plots, every
curve item, the hover crosshairs and the "press Start" texts, once. The behaviour (data in, redraws, hover
read-out) is :class:`~mnist_studio.gui.training.plots.TrainingPlots`'.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (QCheckBox, QGraphicsItem, QHBoxLayout, QLabel, QSlider, QSplitter,
                             QVBoxLayout, QWidget)

from mnist_studio.gui.labels import ElidedLabel

RUN_COLOR = (31, 119, 180)
TRAIN_COLOR = "#ff7f0e"
VAL_COLOR = "#2ca02c"
OVERLAY_COLORS = ("#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#111111")
DEFAULT_SMOOTHING = 0.6


class Series:
    """A float64 array that grows by whole packets (amortised doubling), with its running minimum and maximum (a
    plot's range without a pass over a long run's every point)."""

    def __init__(self) -> None:
        self._a = np.empty(4096)
        self.clear()

    def extend(self, values: np.ndarray) -> None:
        k = len(values)
        if not k:
            return
        if self.n + k > self._a.size:
            self._a = np.resize(self._a, max(self._a.size * 2, self.n + k))
        self._a[self.n:self.n + k] = values
        self.n += k
        new = self._a[self.n - k:self.n]
        self.lo, self.hi = min(self.lo, float(new.min())), max(self.hi, float(new.max()))

    def view(self) -> np.ndarray:
        return self._a[: self.n]

    def bounds(self) -> np.ndarray:
        """[minimum, maximum] (empty while the series is)."""
        return np.array([self.lo, self.hi]) if self.n else np.empty(0)

    def clear(self) -> None:
        self.n = 0
        self.lo, self.hi = np.inf, -np.inf


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
    HEADROOM = 0.25  # when the data leaves the range, this share of its span is added on that side: a loss that
    # keeps falling (an accuracy that keeps rising) then moves the axis a few times, not at every redraw; a side
    # with a natural bound (a loss's 0, an accuracy's 0 and 100 %) closer than the data's span goes straight to it
    # (not much closer than that: the range would then be "too wide" for the data and shrink back)

    def __init__(self, plot: pg.PlotItem, limits: tuple[float | None, float | None] = (None, None)) -> None:
        self.vb = plot.vb
        self.limits = limits  # the data's natural bounds (None: none); the range never goes past them
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
        c0, c1 = self.vb.viewRange()[1]
        below, above = lo < c0, hi > c1
        too_wide = span < 0.5 * (c1 - c0)
        if force or below or above or too_wide:
            grow = not (force or too_wide)  # widened for data that left the range: head room on that side
            low, high = self.limits
            want = [lo - (self.PAD + (self.HEADROOM if grow and below else 0)) * span,
                    hi + (self.PAD + (self.HEADROOM if grow and above else 0)) * span]
            if low is not None and (grow and below and lo - low <= 0.75 * span or want[0] < low):
                want[0] = low - self.PAD * span
            if high is not None and (grow and above and high - hi <= 0.75 * span or want[1] > high):
                want[1] = high + self.PAD * span
            self.vb.setYRange(*want, padding=0)


def long_series(item: pg.PlotDataItem, smooth: bool = False) -> pg.PlotDataItem:
    """Settings for a curve that may hold 100,000 points: downsampled to about one bin per pixel (pyqtgraph's
    default is five), and no per-redraw NaN scan (the trainer never records a non-finite loss). Raw batch values
    keep each bin's min and max ("peak": spikes survive); a smoothed line takes each bin's mean, since a
    zig-zag of minima and maxima drawn antialiased costs five times as much and shows nothing more."""
    item.opts["autoDownsampleFactor"] = 1.0
    item.setSkipFiniteCheck(True)
    if smooth:
        item.setDownsampling(auto=True, method="mean")
    return item


def make_plot(name: str, title: str, y_label: str) -> pg.PlotWidget:
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
    p.getAxis("left").setStyle(autoReduceTextSpace=False)  # (a narrower tick label must not relay the plot out)
    cache_axes(p)
    w.setMinimumSize(200, 160)
    return w


class Overlay:
    def __init__(self, record, color: str) -> None:
        self.record, self.color = record, color
        h = record.history
        self.epoch = np.asarray(h.series("epoch"), dtype=np.float64)
        self.loss = np.asarray(h.series("loss"), dtype=np.float64)
        self.acc = np.asarray(h.series("accuracy"), dtype=np.float64) * 100
        self.items: list[tuple[pg.PlotItem, pg.PlotDataItem]] = []
        self.smooth_loss = self.loss
        self.smooth_acc = self.acc


class Hover:
    """A plot's crosshair and read-out label; ``proxy`` (the rate-limited mouse signal) is set by whoever reacts."""

    def __init__(self, vline: pg.InfiniteLine, hline: pg.InfiniteLine, label: pg.TextItem) -> None:
        self.vline, self.hline, self.label = vline, hline, label
        self.proxy: pg.SignalProxy | None = None

    def items(self) -> tuple:
        return self.vline, self.hline, self.label

    def hide(self) -> None:
        for item in self.items():
            item.hide()


class PlotsLayout(QWidget):
    """Loss (``lossPlot``) and accuracy (``accuracyPlot``) side by side under a toolbar."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainingPlots")

        # toolbar
        self.smoothing_slider = QSlider(Qt.Orientation.Horizontal)
        self.smoothing_slider.setObjectName("smoothingSlider")
        self.smoothing_slider.setRange(0, 99)
        self.smoothing_slider.setValue(int(round(DEFAULT_SMOOTHING * 100)))
        self.smoothing_slider.setMinimumWidth(110)
        self.smoothing_slider.setMaximumWidth(180)
        self.smoothing_slider.setToolTip("Exponential moving average of the batch curves, as in TensorBoard "
                                         "(bias-corrected, so the start is not dragged towards zero)")
        self.smoothing_label = QLabel(f"{DEFAULT_SMOOTHING:.2f}")
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
        self.hint = ElidedLabel("Hover: values · wheel: zoom · right-click: export")  # gives way first
        self.hint.setStyleSheet("color: #666;")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        bar.addWidget(self.hint, 1)

        self.loss_plot = make_plot("lossPlot", "Loss", "loss")
        self.acc_plot = make_plot("accuracyPlot", "Accuracy", "accuracy (%)")
        self.acc_plot.setXLink(self.loss_plot)
        lp, ap = self.loss_plot.getPlotItem(), self.acc_plot.getPlotItem()
        legend_style = dict(labelTextSize="9pt", brush=pg.mkBrush(255, 255, 255, 215), pen=pg.mkPen("#ccc"))
        lp.addLegend(offset=(-8, 8), **legend_style)
        ap.addLegend(offset=(-8, -8), **legend_style)
        self.loss_range, self.acc_range = StickyYRange(lp, limits=(0.0, None)), StickyYRange(ap, limits=(0.0, 100.0))

        faint = pg.mkPen(RUN_COLOR + (50,), width=1)
        self.loss_raw = long_series(lp.plot(pen=faint, name="batch loss", antialias=False))  # faint: no AA needed
        self.loss_line = long_series(lp.plot(pen=pg.mkPen(RUN_COLOR, width=2.2), name="smoothed"), smooth=True)
        self.loss_train_ep = lp.plot(pen=pg.mkPen(TRAIN_COLOR, width=1.5), symbol="o", symbolSize=7,
                                     symbolBrush=TRAIN_COLOR, symbolPen=None, name="train (epoch)")
        self.loss_val_ep = lp.plot(pen=pg.mkPen(VAL_COLOR, width=1.5), symbol="s", symbolSize=7,
                                   symbolBrush=VAL_COLOR, symbolPen=None, name="validation (epoch)")
        self.acc_raw = long_series(ap.plot(pen=faint, antialias=False))
        self.acc_line = long_series(ap.plot(pen=pg.mkPen(RUN_COLOR, width=2.2), name="batch (smoothed)"),
                                     smooth=True)
        self.acc_train_ep = ap.plot(pen=pg.mkPen(TRAIN_COLOR, width=1.5), symbol="o", symbolSize=7,
                                    symbolBrush=TRAIN_COLOR, symbolPen=None, name="train (epoch)")
        self.acc_val_ep = ap.plot(pen=pg.mkPen(VAL_COLOR, width=1.5), symbol="s", symbolSize=7,
                                  symbolBrush=VAL_COLOR, symbolPen=None, name="validation (epoch)")

        # hover read-out: a crosshair and a label per plot
        self.hovers: dict[pg.PlotWidget, Hover] = {}
        for w in (self.loss_plot, self.acc_plot):
            p = w.getPlotItem()
            pen = pg.mkPen((120, 120, 120), width=1)
            h = Hover(pg.InfiniteLine(angle=90, movable=False, pen=pen),
                      pg.InfiniteLine(angle=0, movable=False, pen=pen),
                      pg.TextItem(anchor=(0, 0), fill=pg.mkBrush(255, 255, 255, 225), border=pg.mkPen("#aaa")))
            h.label.setZValue(100)
            for item in h.items():
                p.addItem(item, ignoreBounds=True)
                item.hide()
            self.hovers[w] = h
        self.empty_texts = {}
        for w, text in ((self.loss_plot, "Press Start:\nthe loss of every\nbatch appears here"),
                        (self.acc_plot, "…and the\naccuracy here")):  # short lines: a 1024 px window's plots are narrow
            t = pg.TextItem(text, color="#888", anchor=(0.5, 0.5))
            w.getPlotItem().addItem(t, ignoreBounds=True)
            self.empty_texts[w] = t

        plots = QSplitter(Qt.Orientation.Horizontal)
        plots.addWidget(self.loss_plot)
        plots.addWidget(self.acc_plot)
        plots.setChildrenCollapsible(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(bar)
        lay.addWidget(plots, 1)
        self._titles: dict[pg.PlotWidget, str] = {}  # the title each plot shows (set again only when it changes)

    SMALL_PLOT = (300, 240)  # px (width, height): below either, the legend box would cover most of the curves
    KEY_ROOM = 280  # px: a narrower plot's key names the epoch markers only (the smoothed line is the obvious one)

    def resizeEvent(self, event) -> None:  # noqa: N802
        """Small plots (the 1024×700 window) trade the legend box for a coloured key in the title line."""
        super().resizeEvent(event)
        small = self.loss_plot.width() < self.SMALL_PLOT[0] or self.loss_plot.height() < self.SMALL_PLOT[1]
        titles = self._titles
        for w, title, short in ((self.loss_plot, "Loss", "Loss"), (self.acc_plot, "Accuracy", "Acc.")):
            item = w.getPlotItem()
            if item.legend is None:
                continue
            if item.legend.isVisible() == small:
                item.legend.setVisible(not small)
            want = self._key_title(item, short, smoothed=w.width() >= self.KEY_ROOM) if small else title
            if titles.get(w) != want:
                titles[w] = want
                item.setTitle(want, size="10pt" if small else "11pt")

    @staticmethod
    def _key_title(item: pg.PlotItem, title: str, smoothed: bool = True) -> str:
        """"Loss — smoothed ● train ■ val", each name in its curve's colour; the faint raw-batch curve needs no key
        and past runs keep theirs in the hover read-out. Without ``smoothed`` (a plot under :data:`KEY_ROOM` wide,
        as in a 1024 px window) only the epoch markers are named: the whole key fits a 200 px plot."""
        marks = {"o": "●", "s": "■"}
        short = {"smoothed": "smoothed", "batch (smoothed)": "smoothed", "train (epoch)": "train",
                 "validation (epoch)": "val"}
        keys = []
        for sample, label in item.legend.items:
            if label.text not in short or (not smoothed and short[label.text] == "smoothed"):
                continue
            opts = sample.item.opts
            symbol = opts.get("symbol")
            if symbol in marks:
                colour = pg.mkBrush(opts.get("symbolBrush")).color().name()
            else:
                colour = pg.mkPen(opts.get("pen")).color().name()
            keys.append(f"<span style='color:{colour}; font-size:8pt'>{marks.get(symbol, '—')}&nbsp;"
                        f"{short[label.text]}</span>")
        return f"{title}&nbsp; " + " ".join(keys)
