"""The live loss and accuracy plots, TensorBoard-style: what happens to the items :mod:`.plots_layout` builds.

Every plot item is created once; new batches only append to growing arrays, and a GUI timer hands the arrays to
``setData`` every ``REFRESH_MS`` (twice a second), whatever the batch rate: the loss plot and the accuracy plot
take turns, a quarter of a second apart, so each repaint of the window draws one plot, not both (while the
trainer holds the CPU, one long repaint is what a user notices as a stall). Peak downsampling and clip-to-view
keep 100,000 points as smooth as 100. Smoothing is the debiased exponential moving average of TensorBoard,
computed incrementally (``EmaSmoother``) so each update smooths only the new points. Past runs ticked in the runs
list are drawn as overlays in their own colours.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QEvent, QObject, Qt, QTimer
from PyQt6.QtWidgets import QWidget

from mnist_studio.gui.training.notices import setting_change
from mnist_studio.gui.training.plots_layout import (DEFAULT_SMOOTHING, OVERLAY_COLORS, TRAIN_COLOR, VAL_COLOR,
                                                    Overlay, PlotsLayout, Series, long_series)
from mnist_studio.studio.decimate import Decimator
from mnist_studio.training import EpochEnd
from mnist_studio.studio.smoothing import EmaSmoother, smooth_ema

REFRESH_MS = 500  # 2 redraws a second: live enough, and the trainer keeps the CPU (every redraw costs it)


class TrainingPlots(PlotsLayout):
    """The plots with their data: ``add_batches`` / ``add_epoch`` / ``mark_lr`` while a run goes, overlays of past
    runs, smoothing, log scale and the hover read-out."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.smoothing = DEFAULT_SMOOTHING
        self.epoch, self.loss, self.acc = Series(), Series(), Series()
        self.loss_smooth, self.acc_smooth = Series(), Series()
        self._loss_ema, self._acc_ema = EmaSmoother(self.smoothing), EmaSmoother(self.smoothing)
        self.epochs: list[EpochEnd] = []
        self.lr_markers: list[tuple[float, float, pg.InfiniteLine]] = []
        # the other live changes: (epoch, the changes' labels there, line); changes at one batch share a line
        self.setting_markers: list[tuple[float, list[str], pg.InfiniteLine]] = []
        self.overlays: list[Overlay] = []
        self._pending: set[str] = set()  # the plots whose curves have points not handed to them yet
        # a long run's curves reach pyqtgraph binned (studio/decimate.py): O(new points) per redraw, not O(run)
        self._decimators = {"loss_raw": Decimator(mode="peak"), "acc_raw": Decimator(mode="peak"),
                            "loss_line": Decimator(mode="mean"), "acc_line": Decimator(mode="mean")}
        self._turn = "accuracy"
        self._total_epochs = 3.0
        for w, h in self.hovers.items():
            h.proxy = pg.SignalProxy(w.scene().sigMouseMoved, rateLimit=30, slot=partial(self._on_hover, w))
            w.viewport().installEventFilter(self)
        self.smoothing_slider.valueChanged.connect(self._on_smoothing)
        self.log_check.toggled.connect(self._on_log)
        self.raw_check.toggled.connect(self._on_raw)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS // 2)
        self._timer.timeout.connect(self._take_turn)
        self._timer.start()
        self.clear(3)

    # -- data in ---------------------------------------------------------------------------------------------------
    def clear(self, total_epochs: float) -> None:
        """Start afresh for a new run of ``total_epochs`` (the x axis spans it, so the curve grows across)."""
        for s in (self.epoch, self.loss, self.acc, self.loss_smooth, self.acc_smooth):
            s.clear()
        for d in self._decimators.values():
            d.clear()
        self._loss_ema, self._acc_ema = EmaSmoother(self.smoothing), EmaSmoother(self.smoothing)
        self.epochs = []
        for _, _, line in self.lr_markers + self.setting_markers:
            self.loss_plot.getPlotItem().removeItem(line)
        self.lr_markers, self.setting_markers = [], []
        for item in (self.loss_raw, self.loss_line, self.acc_raw, self.acc_line, self.loss_train_ep, self.loss_val_ep,
                     self.acc_train_ep, self.acc_val_ep):
            item.setData([], [])
        self._dirty = False
        self.loss_range.follow = self.acc_range.follow = True
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

    def mark_change(self, epoch: float, setting: str, previous, value) -> None:
        """Another live change (momentum, weight decay, augmentation, batch size): a dotted vertical line labelled
        with what changed (``momentum 0.9 → 0.5``); changes made before the same batch share one line."""
        label = setting_change(setting, previous, value)
        for at, labels, line in self.setting_markers:
            if at == epoch:
                labels.append(label)
                line.label.setFormat("\n".join(labels))
                line.setToolTip(self._change_tip(epoch, labels))
                return
        line = pg.InfiniteLine(pos=epoch, angle=90, movable=False,
                               pen=pg.mkPen((150, 90, 20), width=1.2, style=Qt.PenStyle.DotLine),
                               label=label,
                               labelOpts={"position": (0.9, 0.72, 0.54)[len(self.setting_markers) % 3],
                                          "color": (120, 70, 10), "fill": (255, 255, 255, 210)})
        line.setToolTip(self._change_tip(epoch, [label]))
        self.loss_plot.getPlotItem().addItem(line, ignoreBounds=True)
        self.setting_markers.append((epoch, [label], line))

    @staticmethod
    def _change_tip(epoch: float, labels: list[str]) -> str:
        return f"set while training, from epoch {epoch:.2f}: " + "; ".join(labels)

    def set_overlays(self, records: list) -> None:
        """Draw these past runs (RunRecord) behind the live one, each in its own colour, named in the legends."""
        for ov in self.overlays:
            for plot, item in ov.items:
                plot.removeItem(item)
        self.overlays = []
        for i, rec in enumerate(records):
            ov = Overlay(rec, OVERLAY_COLORS[i % len(OVERLAY_COLORS)])
            pen = pg.mkPen(ov.color, width=2)
            ep = [e for e in rec.history.epochs if e.get("epoch") is not None]
            lp, ap = self.loss_plot.getPlotItem(), self.acc_plot.getPlotItem()
            loss_item = long_series(lp.plot(pen=pen, name=rec.name), smooth=True)
            acc_item = long_series(ap.plot(pen=pen, name=rec.name), smooth=True)
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

    def show_history(self, history) -> None:
        """A finished run's curves (a RunHistory: an opened model's): batches, epoch points and lr changes."""
        keys = ("epoch", "step", "train_loss", "train_accuracy")
        epochs = [EpochEnd(**{k: e.get(k) for k in EpochEnd.__dataclass_fields__}) for e in history.epochs
                  if all(e.get(k) is not None for k in keys)]
        x = history.series("epoch")
        self.clear(max([1.0, float(x[-1]) if x.size else 0.0] + [float(e.epoch) for e in epochs]))
        self.add_batches(x, history.series("loss"), history.series("accuracy"))
        for e in epochs:
            self.add_epoch(e)
        for change in history.lr_changes:
            self.mark_lr(float(change.get("epoch", 0.0)), float(change.get("lr", 0.0)))
        for c in history.setting_changes:
            self.mark_change(float(c["epoch"]), c["setting"], c.get("previous"), c["value"])
        self.flush()

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
    @property
    def _dirty(self) -> bool:
        """Points wait to be drawn (setting it marks both plots, or neither)."""
        return bool(self._pending)

    @_dirty.setter
    def _dirty(self, value: bool) -> None:
        self._pending = {"loss", "accuracy"} if value else set()

    def _take_turn(self) -> None:
        self._turn = "loss" if self._turn == "accuracy" else "accuracy"
        self._refresh(self._turn)

    def _refresh(self, which: str | None = None) -> None:
        """Hand the new points to the curves of ``which`` plot ("loss" or "accuracy"; None: both)."""
        todo = set(self._pending) if which is None else self._pending & {which}
        if not todo:
            return
        self._pending -= todo
        x = self.epoch.view()
        raw = self.raw_check.isChecked()
        d = self._decimators
        if "loss" in todo:
            self.loss_line.setData(*d["loss_line"].curve(x, self.loss_smooth.view()))
            if raw:
                self.loss_raw.setData(*d["loss_raw"].curve(x, self.loss.view()))
        if "accuracy" in todo:
            self.acc_line.setData(*d["acc_line"].curve(x, self.acc_smooth.view()))
            if raw:
                self.acc_raw.setData(*d["acc_raw"].curve(x, self.acc.view()))
        if x.size and x[-1] > self._total_epochs:
            self.set_total_epochs(np.ceil(x[-1]))
        self._update_ranges(which=which)

    def _update_ranges(self, force: bool = False, which: str | None = None) -> None:
        raw = self.raw_check.isChecked()
        # each series' running [min, max]; a log axis needs the smallest positive value: the whole series then
        span = (lambda s: s.view()) if self.log_check.isChecked() else (lambda s: s.bounds())
        loss = [span(self.loss) if raw else span(self.loss_smooth), span(self.loss_smooth)]
        acc = [self.acc.bounds() if raw else self.acc_smooth.bounds()]
        loss += [np.array([e.train_loss for e in self.epochs] + [e.val_loss for e in self.epochs
                                                                   if e.val_loss is not None])]
        acc += [np.array([e.train_accuracy * 100 for e in self.epochs] +
                         [e.val_accuracy * 100 for e in self.epochs if e.val_accuracy is not None])]
        for ov in self.overlays:
            loss.append(ov.smooth_loss)
            acc.append(ov.smooth_acc)
        loss = [a for a in loss if a.size] if which in (None, "loss") else []
        acc = [a for a in acc if a.size] if which in (None, "accuracy") else []
        if loss:
            lo, hi = min(float(a.min()) for a in loss), max(float(a.max()) for a in loss)
            if self.log_check.isChecked():
                pos = [a[a > 0] for a in loss]
                pos = [a for a in pos if a.size]
                if not pos:
                    return
                lo, hi = np.log10(min(float(a.min()) for a in pos)), np.log10(hi)
            self.loss_range.update(lo, hi, force)
        if acc:
            self.acc_range.update(min(float(a.min()) for a in acc), max(float(a.max()) for a in acc), force)

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
        for w, t in self.empty_texts.items():
            t.setPos(right / 2, 0.5 if w is self.loss_plot else 50)

    def _show_empty(self, empty: bool) -> None:
        for w, t in self.empty_texts.items():
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
        self._decimators["loss_line"].clear()  # the same length, other values: binned afresh
        self._decimators["acc_line"].clear()
        self._smooth_overlays()
        self._dirty = True
        self._refresh()

    def _on_log(self, on: bool) -> None:
        """pyqtgraph's setLogMode switches auto-range back on for both axes: the x axis then followed the data
        (mid-run, a stretch of "epoch (x0.001)") and stayed so after unticking. The x axis keeps the run's span,
        the y axis our sticky range."""
        plot = self.loss_plot.getPlotItem()
        plot.setLogMode(y=on)
        plot.vb.disableAutoRange()
        self.loss_range.limits = (None, None) if on else (0.0, None)  # (log10 of a loss has no bound)
        self._fit_x()
        self.loss_range.follow = True
        self._update_ranges(force=True)

    def _on_raw(self, on: bool) -> None:
        for item in (self.loss_raw, self.acc_raw):
            item.setVisible(on)
        self._dirty = True
        self._update_ranges(force=True)

    # -- hover -----------------------------------------------------------------------------------------------------
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Leave:
            for h in self.hovers.values():
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
        h = self.hovers[plot]
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
