"""Time travel's widgets (the behaviour is in :mod:`.panel`): the scrubber — a slider with a tick per checkpoint,
the ticks labelled with their epoch, the moment shown named beside it, and "Back to latest" — and the small
"watch it learn" plot of the drawing's probabilities through the checkpoints."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QRect, Qt
from PyQt6.QtGui import QFontMetrics, QPainter
from PyQt6.QtWidgets import (QGridLayout, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSlider, QStyle,
                             QStyleOptionSlider, QVBoxLayout, QWidget)

from mnist_studio.gui.labels import ElidedLabel

COLOURS = ("#1565c0", "#e65100", "#00897b")  # the latest answer, then the runners-up
SHOWN_CLASSES = len(COLOURS)  # the watch plot draws the classes that were ever likeliest, at most this many


def tick_text(step: int, epoch: float) -> str:
    """A tick's label: "0" at the start, whole epochs as "1", "2", fractions as ".05"."""
    if step == 0:
        return "0"
    if abs(epoch - round(epoch)) < 1e-9:
        return str(round(epoch))
    text = f"{epoch:.2f}".rstrip("0")
    return text[1:] if text.startswith("0.") else text


class TickLabels(QWidget):
    """The slider's tick labels, painted under its ticks; labels that would overlap are left out (the slider's
    tooltip and the moment label name every checkpoint anyway)."""

    def __init__(self, slider: QSlider, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slider = slider
        self.texts: list[str] = []
        self.setFixedHeight(QFontMetrics(self.font()).height())

    def set_texts(self, texts: list[str]) -> None:
        self.texts = list(texts)
        self.update()

    def positions(self) -> list[int]:
        """The x of each tick, in this widget (it spans the slider's width)."""
        s = self.slider
        opt = QStyleOptionSlider()
        s.initStyleOption(opt)
        groove = s.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderGroove, s)
        handle = s.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle, s)
        span = max(groove.width() - handle.width(), 1)
        lo, hi = s.minimum(), s.maximum()
        return [groove.x() + handle.width() // 2
                + QStyle.sliderPositionFromValue(lo, hi, v, span) for v in range(lo, hi + 1)]

    def paintEvent(self, _event) -> None:  # noqa: N802
        if not self.texts:
            return
        p = QPainter(self)
        p.setPen(self.palette().color(self.foregroundRole()))
        fm = QFontMetrics(self.font())
        rects = []
        for x, text in zip(self.positions(), self.texts):
            w = fm.horizontalAdvance(text)
            rects.append(QRect(min(max(0, x - w // 2), max(self.width() - w, 0)), 0, w, self.height()))
        last = rects[-1]
        right_edge = -10**6
        for i, (r, text) in enumerate(zip(rects, self.texts)):
            is_last = i == len(rects) - 1
            if not is_last and (r.left() < right_edge + 6 or r.right() + 6 > last.left()):
                continue
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, text)
            right_edge = r.right()
        p.end()


class ScrubberView(QWidget):
    """The scrubber: ``slider`` (objectName ``timeScrubber``) with a tick per checkpoint, ``moment_label`` saying
    which moment the studio shows, ``latest_button`` to come back to the latest weights, ``status`` for the
    background work (readings being computed, or why there is nothing to scrub)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("timeScrubber")
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(1)
        self.slider.setPageStep(1)
        self.slider.setMinimumWidth(160)
        self.ticks = TickLabels(self.slider)
        # one line under the slider: the moment shown, then (grey) the background work or why there is nothing
        # to scrub; each gives way with "…" and keeps its whole text in its tooltip (the strip is one line high)
        self.moment_label = ElidedLabel()
        self.moment_label.setObjectName("timeMoment")
        self.moment_label.setTextFormat(Qt.TextFormat.PlainText)
        self.moment_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.status = ElidedLabel()
        self.status.setObjectName("timeStatus")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setStyleSheet("color: #666;")
        self.latest_button = QPushButton("Back to latest")
        self.latest_button.setObjectName("timeLatest")
        self.latest_button.setToolTip("Show the run's latest weights again everywhere (the scrubber goes back to "
                                      "its end)")
        self.title = QLabel("<b>Time travel</b>")
        self.title.setToolTip("Every run keeps checkpoints (its start, four moments of its first epoch, every epoch "
                              "end): move the slider to see the whole studio as the network was then.")
        grid = QGridLayout(self)
        grid.setContentsMargins(6, 2, 6, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(0)
        grid.addWidget(self.title, 0, 0)
        grid.addWidget(self.slider, 0, 1)
        grid.addWidget(self.latest_button, 0, 2)
        grid.addWidget(self.ticks, 1, 1)
        line = QHBoxLayout()
        line.setSpacing(12)
        line.addWidget(self.moment_label)
        line.addWidget(self.status, 1)
        grid.addLayout(line, 2, 0, 1, 3)
        grid.setColumnStretch(1, 1)

    def set_ticks(self, texts: list[str], tips: list[str]) -> None:
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(len(texts) - 1, 0))
        self.slider.setValue(self.slider.maximum())
        self.slider.blockSignals(False)
        self.slider.setEnabled(len(texts) > 1)
        self.ticks.set_texts(texts)
        self.slider.setToolTip("Go back to a moment of the run: every view (weights, test strip, the Draw tab's "
                               "answer, the confusion matrix) shows the network as it was then.<br>"
                               + "<br>".join(tips))

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.ticks.update()


class WatchPlot(pg.PlotWidget):
    """"Watch it learn": the drawing's probability of the likeliest classes at every checkpoint (x: the
    checkpoint's position on the scrubber, labelled with its epoch), a marker at the moment shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("watchPlot")
        self.setBackground(None)
        self.setMenuEnabled(False)
        self.setMouseEnabled(False, False)
        self.hideButtons()
        item = self.getPlotItem()
        item.setYRange(0, 1, padding=0.02)
        item.getAxis("left").setTicks([[(0, "0"), (0.5, ".5"), (1, "1")]])
        item.getAxis("left").setWidth(22)
        item.setTitle("")
        self.curves: dict[int, pg.PlotDataItem] = {}
        self.cursor = pg.InfiniteLine(angle=90, pen=pg.mkPen("#888", style=Qt.PenStyle.DashLine))
        item.addItem(self.cursor)
        self.cursor.hide()
        self.setMinimumSize(160, 60)
        self.probabilities = np.zeros((0, 10), np.float32)

    def show_probabilities(self, probs: np.ndarray | None, ticks: list[str]) -> None:
        """``probs``: (n_checkpoints × classes) or None (nothing drawn)."""
        item = self.getPlotItem()
        for c in self.curves.values():
            item.removeItem(c)
        self.curves.clear()
        self.probabilities = np.zeros((0, 10), np.float32) if probs is None else np.asarray(probs)
        p = self.probabilities
        if not len(p):
            item.setTitle("")
            return
        x = np.arange(len(p), dtype=np.float64)
        order = np.argsort(-p.max(axis=0), kind="stable")
        final = int(p[-1].argmax())
        shown = [final] + [int(c) for c in order if int(c) != final and p[:, c].max() >= 0.2][:SHOWN_CLASSES - 1]
        key = []
        for c, colour in zip(shown, COLOURS):
            pen = pg.mkPen(colour, width=2.5 if c == final else 1.5)
            self.curves[c] = item.plot(x, p[:, c], pen=pen, symbol="o", symbolSize=4, symbolBrush=colour,
                                       symbolPen=None)
            key.append(f"<span style='color:{colour}'>P({c})</span>")
        item.setTitle(f"<span style='font-size:8pt'>{' · '.join(key)}</span>")
        step = max(1, len(ticks) // 6)
        item.getAxis("bottom").setTicks([[(i, t) for i, t in enumerate(ticks) if i % step == 0 or i == len(ticks) - 1]])
        item.setXRange(-0.3, max(len(p) - 1, 1) + 0.3, padding=0)

    def set_cursor(self, index: int | None) -> None:
        if index is None:
            self.cursor.hide()
        else:
            self.cursor.setValue(index)
            self.cursor.show()



class _WatchBox(QWidget):
    """The watch plot with a line above it saying what it shows (or what to do to see something)."""

    def __init__(self, plot: WatchPlot) -> None:
        super().__init__()
        self.setObjectName("watchItLearn")
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 2)
        lay.addWidget(self.note)
        lay.addWidget(plot, 1)


def watch_box(plot: WatchPlot) -> _WatchBox:
    return _WatchBox(plot)
