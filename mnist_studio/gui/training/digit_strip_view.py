"""The live test strip's widget: a row of test digits, each with the network's current answer under it and its
confidence as a bar (green when right, red when wrong; the exact figure in the tooltip), a digit that has just gone
from wrong to right flashing green for a second.

One painted widget rather than 48 labels: the cells scale with the width (two rows of 12 when the tab is narrow),
and an update repaints once. It only displays :class:`~mnist_studio.training.teststrip.StripPredictions` and which
digits flipped; the numbers come from the training worker.
"""

from __future__ import annotations

import time

import numpy as np
from PyQt6.QtCore import QRect, QRectF, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QColor, QFont, QPainter
from PyQt6.QtWidgets import QSizePolicy, QToolTip, QWidget

from mnist_studio.gui.images import gray_pixmap
from mnist_studio.training.teststrip import StripPredictions

FLASH_SECONDS = 1.2
RIGHT, WRONG, NONE = QColor("#1b7f3b"), QColor("#b3261e"), QColor("#777")
MAX_CELL, MIN_CELL = 40, 22
TEXT_HEIGHT = 16  # the answer (a digit) and a 3 px confidence bar


class DigitStripView(QWidget):
    """``digitClicked(i)``: the i-th digit of the strip was clicked."""

    digitClicked = pyqtSignal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("testStrip")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)
        self.images = np.zeros((0, 28, 28), np.float32)
        self.labels = np.zeros(0, np.int64)
        self.indices = np.zeros(0, np.int64)  # test-set positions, for tooltips
        self.predictions: StripPredictions | None = None
        self._pixmaps = []
        self._flash: dict[int, float] = {}  # digit → when its flash started
        self._timer = QTimer(self)
        self._timer.setInterval(40)
        self._timer.timeout.connect(self._tick)
        self._cols, self._cell = 24, MAX_CELL
        self.setToolTip("")
        self._relayout()

    # -- data ------------------------------------------------------------------------------------------------------
    def set_digits(self, images: np.ndarray, labels: np.ndarray, indices: np.ndarray) -> None:
        self.images, self.labels, self.indices = np.asarray(images), np.asarray(labels), np.asarray(indices)
        self.predictions = None
        self._flash.clear()
        self._pixmaps = [None] * len(self.images)  # made at the cell size when painted
        self._relayout()
        self.update()

    def show_predictions(self, p: StripPredictions | None, flipped: np.ndarray | None = None) -> None:
        self.predictions = p
        if flipped is not None:
            now = time.monotonic()
            for i in np.flatnonzero(flipped):
                self._flash[int(i)] = now
            if self._flash and not self._timer.isActive():
                self._timer.start()
        self.update()

    def flashing(self) -> list[int]:
        return sorted(self._flash)

    def _tick(self) -> None:
        now = time.monotonic()
        self._flash = {i: t for i, t in self._flash.items() if now - t < FLASH_SECONDS}
        if not self._flash:
            self._timer.stop()
        self.update()

    # -- geometry --------------------------------------------------------------------------------------------------
    def _relayout(self) -> None:
        n = max(1, len(self.images) or 24)
        width = max(self.width(), 1)
        cols = n
        if width / n < MIN_CELL:  # too narrow for one row: two
            cols = (n + 1) // 2
        cell = int(max(MIN_CELL - 4, min(MAX_CELL, width // cols - 4)))
        if (cols, cell) != (self._cols, self._cell) or self.height() != self._height(cols, cell, n):
            self._cols, self._cell = cols, cell
            self._pixmaps = [None] * len(self.images)
            self.setFixedHeight(self._height(cols, cell, n))

    @staticmethod
    def _height(cols: int, cell: int, n: int) -> int:
        rows = (n + cols - 1) // cols
        return rows * (cell + TEXT_HEIGHT + 4) + 2

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._relayout()

    def cell_rect(self, i: int) -> QRect:
        r, c = divmod(i, self._cols)
        pitch = self.width() / self._cols
        x = int(c * pitch + (pitch - self._cell) / 2)
        return QRect(x, r * (self._cell + TEXT_HEIGHT + 4) + 1, self._cell, self._cell + TEXT_HEIGHT)

    def cell_at(self, pos) -> int | None:
        for i in range(len(self.images)):
            if self.cell_rect(i).contains(pos):
                return i
        return None

    # -- painting and mouse ----------------------------------------------------------------------------------------
    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        font = QFont(self.font())
        font.setPixelSize(12 if self._cell >= 30 else 10)
        font.setBold(True)
        p.setFont(font)
        p_ = self.predictions
        now = time.monotonic()
        for i in range(len(self.images)):
            rect = self.cell_rect(i)
            img = QRect(rect.x(), rect.y(), self._cell, self._cell)
            if self._pixmaps[i] is None:
                self._pixmaps[i] = gray_pixmap(self.images[i], self._cell)
            p.drawPixmap(img, self._pixmaps[i])
            colour, text, confidence = NONE, "·", 0.0
            if p_ is not None:
                colour = RIGHT if bool(p_.correct[i]) else WRONG
                text, confidence = str(int(p_.predicted[i])), float(p_.confidence[i])
            if i in self._flash:
                fade = max(0.0, 1.0 - (now - self._flash[i]) / FLASH_SECONDS)
                glow = QColor(RIGHT)
                glow.setAlpha(int(150 * fade))
                p.fillRect(img, glow)
            p.setPen(colour)
            p.drawRect(img.adjusted(0, 0, -1, -1))
            # the answer, and under it the confidence as a bar across the cell
            p.drawText(QRectF(rect.x(), rect.y() + self._cell, self._cell, TEXT_HEIGHT - 3),
                       Qt.AlignmentFlag.AlignCenter, text)
            bar = QRect(rect.x(), rect.y() + self._cell + TEXT_HEIGHT - 3, round(self._cell * confidence), 3)
            p.fillRect(bar, colour)
        p.end()

    def describe(self, i: int) -> str:
        what = f"test digit #{int(self.indices[i]):,}, a {int(self.labels[i])}"
        p = self.predictions
        if p is None:
            return what
        verdict = "right" if p.correct[i] else "wrong"
        return (f"{what}: read as {int(p.predicted[i])} ({p.confidence[i]:.0%}), {verdict}. Click to open it in the "
                f"Draw tab")

    def mouseMoveEvent(self, event) -> None:
        i = self.cell_at(event.position().toPoint())
        if i is None:
            QToolTip.hideText()
        else:
            QToolTip.showText(event.globalPosition().toPoint(), self.describe(i), self)

    def mousePressEvent(self, event) -> None:
        i = self.cell_at(event.position().toPoint())
        if i is not None and event.button() == Qt.MouseButton.LeftButton:
            self.digitClicked.emit(i)
