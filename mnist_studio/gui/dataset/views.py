"""The dataset explorer's views: samples of every class, class counts, the mean image of each class.

They only draw arrays computed by mnist_studio.data.stats; class names come from the dataset, so Fashion-MNIST
shows "Trouser" where MNIST shows "1".
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QRect, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QFontMetrics, QPainter, QPixmap
from PyQt6.QtWidgets import QSizePolicy, QWidget

from mnist_studio.gui.images import gray_pixmap

TRAIN_COLOUR = "#1f77b4"
TEST_COLOUR = "#ff7f0e"


class ClassTiles(QWidget):
    """Rows of image tiles, one row per class with the class name on the left; ``imageClicked(row, column)``.
    Painted in one widget: 120 QLabels would be slower to rebuild each time the samples are redrawn."""

    imageClicked = pyqtSignal(int, int)

    MIN_SIDE, MAX_SIDE = 20, 56

    def __init__(self, side: int = 40, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.side = side  # follows the width: the tiles grow to fill it (between MIN_SIDE and MAX_SIDE)
        self.gap = 3
        self.images: list[list[np.ndarray | None]] = []
        self.names: tuple[str, ...] = ()
        self._pixmaps: dict[tuple[int, int], QPixmap] = {}
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)

    def set_rows(self, names, images: list[list[np.ndarray | None]]) -> None:
        self.names = tuple(names)
        self.images = images
        self._pixmaps.clear()
        cols = max([len(r) for r in self.images] or [0])
        self.setMinimumWidth(self._label_width() + cols * (self.MIN_SIDE + self.gap))
        self._fit()
        self.update()

    def _fit(self) -> None:
        cols = max([len(r) for r in self.images] or [1])
        side = (self.width() - self._label_width()) // max(1, cols) - self.gap
        side = int(min(self.MAX_SIDE, max(self.MIN_SIDE, side)))
        if side != self.side:
            self.side = side
            self._pixmaps.clear()
        self.setMinimumHeight(max(1, len(self.images)) * (self.side + self.gap))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _label_width(self) -> int:
        fm = QFontMetrics(self.font())
        return max([fm.horizontalAdvance(n) for n in self.names] or [0]) + 12

    def sizeHint(self) -> QSize:
        cols = max([len(r) for r in self.images] or [0])
        return QSize(self._label_width() + cols * (self.side + self.gap),
                     max(1, len(self.images)) * (self.side + self.gap))

    def tile_rect(self, row: int, col: int) -> QRect:
        return QRect(self._label_width() + col * (self.side + self.gap), row * (self.side + self.gap),
                     self.side, self.side)

    def tile_at(self, x: int, y: int) -> tuple[int, int] | None:
        lw, step = self._label_width(), self.side + self.gap
        if x < lw:
            return None
        row, col = y // step, (x - lw) // step
        if 0 <= row < len(self.images) and 0 <= col < len(self.images[row]) and self.images[row][col] is not None:
            return int(row), int(col)
        return None

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        lw = self._label_width()
        for r, row in enumerate(self.images):
            y = r * (self.side + self.gap)
            p.setPen(QColor(40, 40, 40))
            p.drawText(QRect(0, y, lw - 8, self.side), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       self.names[r])
            for c, img in enumerate(row):
                if img is None:
                    continue
                if (r, c) not in self._pixmaps:
                    self._pixmaps[(r, c)] = gray_pixmap(img, self.side)
                p.drawPixmap(self.tile_rect(r, c).topLeft(), self._pixmaps[(r, c)])

    def mouseMoveEvent(self, event) -> None:
        hit = self.tile_at(int(event.position().x()), int(event.position().y()))
        self.setCursor(Qt.CursorShape.PointingHandCursor if hit else Qt.CursorShape.ArrowCursor)

    def mousePressEvent(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        hit = self.tile_at(int(event.position().x()), int(event.position().y()))
        if hit is not None:
            self.imageClicked.emit(*hit)


class MeanImages(QWidget):
    """The average image of each class with its name under it: one row of ten when the width allows, else two."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("meanImages")
        self.means = np.zeros((0, 28, 28), np.float32)
        self.names: tuple[str, ...] = ()
        self._pixmaps: dict[int, QPixmap] = {}
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_means(self, means: np.ndarray, names) -> None:
        self.means = np.asarray(means)
        self.names = tuple(names)
        self._pixmaps.clear()
        self._fit()
        self.update()

    def _grid(self) -> tuple[int, int, int]:
        """(columns, cell width, image side) for the current width."""
        n = max(1, len(self.names))
        columns = n if self.width() // n >= 64 else -(-n // 2)
        cell = max(1, self.width() // columns)
        return columns, cell, int(min(64, max(24, cell - 10)))

    def _fit(self) -> None:
        columns, _, side = self._grid()
        rows = -(-len(self.names) // columns) if self.names else 1
        self.setFixedHeight(rows * (side + QFontMetrics(self.font()).height() + 10))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._pixmaps.clear()
        self._fit()

    def sizeHint(self) -> QSize:
        return QSize(5 * 70, self.height())

    def tile_rect(self, i: int) -> QRect:
        columns, cell, side = self._grid()
        row, col = divmod(i, columns)
        h = side + QFontMetrics(self.font()).height() + 10
        return QRect(col * cell + (cell - side) // 2, row * h, side, side)

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        fm = QFontMetrics(self.font())
        columns, cell, side = self._grid()
        for i, name in enumerate(self.names):
            r = self.tile_rect(i)
            if i not in self._pixmaps:
                self._pixmaps[i] = gray_pixmap(self.means[i], side, white=255.0)  # float means of 0-255 pixels
            p.drawPixmap(r.topLeft(), self._pixmaps[i])
            p.setPen(QColor(40, 40, 40))
            col = i % columns
            p.drawText(QRect(col * cell, r.bottom() + 3, cell, fm.height()), Qt.AlignmentFlag.AlignHCenter,
                       fm.elidedText(name, Qt.TextElideMode.ElideRight, cell - 2))


class ClassCounts(pg.PlotWidget):
    """Horizontal bars: each class's share of the training and of the test images, with the counts written out.

    Shares rather than raw counts, so the 60,000 training and 10,000 test images sit on one scale and an
    unbalanced class stands out in either split.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("classCounts")
        self.setBackground("w")
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setMenuEnabled(False)
        self.getPlotItem().invertY(True)
        self.setLabel("bottom", "share of the split (%)")
        self.getAxis("bottom").enableAutoSIPrefix(False)
        self.showGrid(x=True, alpha=0.25)
        # no legend inside the plot (it would cover bars): the panel's title names the colours
        self.train_bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.38, brush=TRAIN_COLOUR, pen=None)
        self.test_bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.38, brush=TEST_COLOUR, pen=None)
        self.addItem(self.train_bars)
        self.addItem(self.test_bars)
        self.labels: list[pg.TextItem] = []
        self.setMinimumHeight(260)
        self.train_counts = np.zeros(0, np.int64)
        self.test_counts = np.zeros(0, np.int64)

    def set_counts(self, train: np.ndarray, test: np.ndarray, names) -> None:
        self.train_counts, self.test_counts = np.asarray(train), np.asarray(test)
        n = len(names)
        ys = np.arange(n, dtype=float)
        train_share = 100 * self.train_counts / max(1, self.train_counts.sum())
        test_share = 100 * self.test_counts / max(1, self.test_counts.sum())
        self.train_bars.setOpts(x0=np.zeros(n), y=ys - 0.2, width=train_share, height=0.38)
        self.test_bars.setOpts(x0=np.zeros(n), y=ys + 0.2, width=test_share, height=0.38)
        for item in self.labels:
            self.removeItem(item)
        self.labels = []
        top = float(max(train_share.max(initial=0), test_share.max(initial=0)))
        for i in range(n):
            label = pg.TextItem(f"{int(self.train_counts[i]):,} / {int(self.test_counts[i]):,}", color="#333",
                                anchor=(0, 0.5))
            label.setPos(max(train_share[i], test_share[i]) + top * 0.02, i)
            self.addItem(label)
            self.labels.append(label)
        self.getAxis("left").setTicks([[(i, names[i]) for i in range(n)]])
        self.setXRange(0, top * 1.45 if top else 1, padding=0)
        self.setYRange(-0.6, n - 0.4, padding=0)
