"""The Draw tab's answer: the top digit, large, its confidence, and the ten probabilities as bars.

The bar chart has to stay readable in the narrow answer column of a 1024×700 window (about 210 px wide): its axes
get the room their labels need (pyqtgraph would otherwise squeeze the digits 0-9 onto the axis line), the y axis
says only 0, 50 % and 100 %, and the dashed "not sure" line's label goes on the side away from the top bar, on two
lines when one line would still cover it.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QFont, QFontMetrics
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from mnist_studio.gui.labels import WrappedLabel

NOT_SURE = 0.6  # below this confidence the answer is marked "not sure"
X_RANGE = (-0.6, 9.6)
BAR_WIDTH = 0.7
TICK_PX = 11  # pixel size of the axes' numbers
LABEL_PX = 10  # pixel size of the threshold line's label
DIGIT_PX = {False: (104, (96, 120)), True: (72, (64, 84))}  # compact → font pixel size, label size


def threshold_texts(value: float) -> tuple[str, str]:
    """The threshold line's label on one line, and on two (for a narrow chart)."""
    return f"not sure below {value:.0%}", f"not sure\nbelow {value:.0%}"


class ProbabilityChart(pg.PlotWidget):
    """Ten bars, the top one highlighted; empty when there is nothing to read."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("probabilityChart")
        self.setToolTip("The probability the network gives each digit")
        self.setMenuEnabled(False)
        self.setMouseEnabled(False, False)
        self.hideButtons()
        self.setYRange(0, 1, padding=0.07)  # room for half of "100%" above the top
        self.setXRange(*X_RANGE, padding=0)
        tick_font = QFont(self.font())
        tick_font.setPixelSize(TICK_PX)
        fm = QFontMetrics(tick_font)
        bottom, left = self.getAxis("bottom"), self.getAxis("left")
        bottom.setTicks([[(i, str(i)) for i in range(10)], []])
        # a fixed height that holds the digits under the axis line (the automatic one lags the font and shrinks)
        bottom.setStyle(tickFont=tick_font, tickTextOffset=3, autoExpandTextSpace=False, tickLength=-4)
        bottom.setHeight(fm.height() + 3 + 4)
        left.setTicks([[(0, "0"), (0.5, "50%"), (1, "100%")], [(0.25, ""), (0.75, "")]])
        # "0" and "100%" sit on the view's edges: drawn whole (pyqtgraph would hide them as overlapping)
        left.setStyle(tickFont=tick_font, tickTextOffset=3, autoExpandTextSpace=False, tickLength=-4,
                      hideOverlappingLabels=False)
        left.setWidth(fm.horizontalAdvance("100%") + 3 + 4)
        self.showGrid(y=True, alpha=0.25)
        self.bars = pg.BarGraphItem(x=np.arange(10), height=np.zeros(10), width=BAR_WIDTH, brush="#9bb7d4", pen=None)
        self.addItem(self.bars)
        self.threshold = pg.InfiniteLine(pos=NOT_SURE, angle=0, pen=pg.mkPen("#d08770", style=Qt.PenStyle.DashLine),
                                         label="", labelOpts={"position": 0.02, "color": "#b5520b",
                                                              "anchors": [(0, 1), (0, 1)]})
        self.label_font = QFont(self.font())
        self.label_font.setPixelSize(LABEL_PX)
        self.threshold.label.setFont(self.label_font)
        self.threshold.setToolTip("Below this line the answer is marked 'not sure': the threshold set on the "
                                  "Evaluate tab (Threshold)")
        self.addItem(self.threshold)
        self.values = np.zeros(10, dtype=np.float32)
        self.getPlotItem().getViewBox().sigResized.connect(lambda *_: self.place_threshold_label())
        self.set_threshold(NOT_SURE)
        self.setMinimumHeight(140)
        self.setMaximumHeight(200)

    def set_threshold(self, value: float) -> None:
        self.threshold.setValue(value)
        self.place_threshold_label()

    def set_probabilities(self, probs: np.ndarray | None) -> None:
        n = 10 if probs is None else len(probs)
        self.values = np.zeros(n, np.float32) if probs is None else np.asarray(probs, np.float32)
        brushes = ["#9bb7d4"] * n
        if probs is not None:
            brushes[int(np.argmax(self.values))] = "#1f6fd1"
        self.bars.setOpts(x=np.arange(n), height=self.values, brushes=brushes)
        self.place_threshold_label()

    def place_threshold_label(self) -> None:
        """Put the line's label where no bar rises through it: the bars that reach above the line are the only
        ones it can cover, so it goes on the side away from them, on two lines if one is too wide."""
        value = float(self.threshold.value())
        one, two = threshold_texts(value)
        width = self.getPlotItem().getViewBox().width()
        px = width / (X_RANGE[1] - X_RANGE[0]) if width > 0 else 0.0
        above = np.flatnonzero(self.values >= value)  # bars that reach the label's height
        lo = (above.min() - BAR_WIDTH / 2 - X_RANGE[0]) * px if len(above) else None
        hi = (above.max() + BAR_WIDTH / 2 - X_RANGE[0]) * px if len(above) else None
        label = self.threshold.label
        margin = 0.01 * width + 2
        choice = None
        for text in (one, two):
            label.setFormat(text)
            w = label.boundingRect().width() + margin  # as drawn (the text item adds its own margins)
            if lo is None or w < lo:
                choice = (text, "left")
            elif width - w > hi:
                choice = (text, "right")
            if choice:
                break
        if choice is None:  # bars on both sides (a threshold under 50 %): the roomier side, two lines
            choice = (two, "left" if lo > width - hi else "right")
        text, side = choice
        label.anchors = [(0, 1), (0, 1)] if side == "left" else [(1, 1), (1, 1)]
        label.setFormat(text)
        label.setPosition(0.01 if side == "left" else 0.99)
        label.updatePosition()

    def threshold_label_rect(self):
        """The label's rectangle in the scene (what tests compare with the bars)."""
        label = self.threshold.label
        return label.mapRectToScene(label.boundingRect())


class AnswerView(QWidget):
    """The top digit, large; its confidence and a "not sure" mark; the ten probabilities as bars."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.digit = QLabel("")
        self.digit.setObjectName("predictedDigit")
        self.digit.setAccessibleName("Predicted digit")
        self.digit.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.digit.setStyleSheet("color: #1f6fd1;")
        top.addWidget(self.digit)
        self.set_compact(False)
        side = QVBoxLayout()
        self.side = side  # the panel adds the model's name under the confidence
        side.addStretch(1)
        self.confidence = WrappedLabel("")
        self.confidence.setObjectName("confidenceLabel")
        fc = QFont(self.font())
        fc.setPixelSize(22)
        self.confidence.setFont(fc)
        side.addWidget(self.confidence)
        self.detail = WrappedLabel("")
        self.detail.setObjectName("answerDetail")
        self.detail.setStyleSheet("color: #555;")
        side.addWidget(self.detail)
        top.addLayout(side, 1)
        lay.addLayout(top)
        self.chart = ProbabilityChart()
        lay.addWidget(self.chart, 1)
        self.not_sure = NOT_SURE

    def set_compact(self, compact: bool) -> None:
        """A smaller digit in the narrow (1024 px window) Draw tab, so the bars below it keep their height."""
        size, (w, h) = DIGIT_PX[bool(compact)]
        f = QFont(self.font())
        f.setPixelSize(size)
        f.setBold(True)
        self.digit.setFont(f)
        self.digit.setFixedSize(w, h)

    def set_threshold(self, value: float) -> None:
        """The confidence below which the answer is "not sure" (the studio's, set on the Evaluate tab)."""
        self.not_sure = float(value)
        self.chart.set_threshold(self.not_sure)

    def show_answer(self, probs: np.ndarray) -> None:
        top = int(np.argmax(probs))
        conf = float(probs[top])
        order = np.argsort(probs)[::-1]
        self.digit.setText(str(top))
        if conf >= self.not_sure:
            self.confidence.setText(f"{conf:.0%} sure")
            self.confidence.setStyleSheet("color: #1b7f3b;")
            self.digit.setStyleSheet("color: #1f6fd1;")
        else:
            self.confidence.setText(f"not sure — {conf:.0%}")
            self.confidence.setStyleSheet("color: #b5520b;")
            self.digit.setStyleSheet("color: #b5520b;")
        self.detail.setText(f"runner-up: {order[1]} ({float(probs[order[1]]):.0%})")
        self.chart.set_probabilities(probs)

    def show_message(self, text: str, detail: str = "") -> None:
        """No answer (nothing drawn, no model): the big digit is empty, the message says why."""
        self.digit.setText("")
        self.confidence.setText(text)
        self.confidence.setStyleSheet("color: #555; font-size: 16px;")  # a message, smaller than an answer: it fits
        self.detail.setText(detail)
        self.chart.set_probabilities(None)
