"""Grids of test images with a caption under each — the images behind a confusion-matrix cell, the most confident
mistakes — and the dialog that shows a cell's images.

The grid paints its tiles itself (a diagonal cell can hold more than a thousand images; a thousand QLabels would
take seconds to build), lays them out to the available width, and reports a click as the index of the image.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QRect, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QFontMetrics, QGuiApplication, QPainter, QPen, QPixmap
from PyQt6.QtWidgets import QDialog, QDialogButtonBox, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from mnist_studio.gui.labels import WrappedLabel
from mnist_studio.gui.images import gray_pixmap

RIGHT = QColor(27, 120, 55)
WRONG = QColor(190, 30, 30)


class ImageGrid(QWidget):
    """Tiles of images with one- or two-line captions; ``imageClicked(i)`` gives the clicked tile's index."""

    imageClicked = pyqtSignal(int)

    def __init__(self, side: int = 56, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.side = side
        self.images = np.zeros((0, 28, 28), np.uint8)
        self.captions: list[str] = []
        self.tooltips: list[str] = []
        self.correct: list[bool] = []
        self.empty_text = ""
        self._pixmaps: dict[int, QPixmap] = {}
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def set_items(self, images: np.ndarray, captions: list[str], tooltips: list[str] | None = None,
                  correct: list[bool] | None = None, empty_text: str = "") -> None:
        self.images = np.asarray(images)
        self.captions = list(captions)
        self.tooltips = list(tooltips) if tooltips else [""] * len(self.captions)
        self.correct = list(correct) if correct is not None else [True] * len(self.captions)
        self.empty_text = empty_text
        self._pixmaps.clear()
        self._fit_height()
        self.update()

    def __len__(self) -> int:
        return len(self.captions)

    # -- layout ------------------------------------------------------------------------------------------------------
    def _caption_lines(self) -> int:
        return max([c.count("\n") + 1 for c in self.captions] or [1])

    def tile_size(self) -> QSize:
        fm = QFontMetrics(self.font())
        widest = max([fm.horizontalAdvance(line) for c in self.captions for line in c.split("\n")] or [0])
        return QSize(max(self.side, widest) + 10, self.side + self._caption_lines() * fm.height() + 10)

    def columns(self) -> int:
        return max(1, self.width() // self.tile_size().width())

    def tile_rect(self, i: int) -> QRect:
        t = self.tile_size()
        row, col = divmod(i, self.columns())
        return QRect(col * t.width(), row * t.height(), t.width(), t.height())

    def index_at(self, x: int, y: int) -> int | None:
        t = self.tile_size()
        col, row = x // t.width(), y // t.height()
        if col >= self.columns():
            return None
        i = row * self.columns() + col
        return i if 0 <= i < len(self.captions) else None

    def _fit_height(self) -> None:
        rows = -(-len(self.captions) // self.columns()) if self.captions else 1
        self.setMinimumHeight(rows * self.tile_size().height())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_height()

    def sizeHint(self) -> QSize:
        t = self.tile_size()
        return QSize(t.width() * 8, t.height() * 3)

    # -- painting ----------------------------------------------------------------------------------------------------
    def _pixmap(self, i: int) -> QPixmap:
        if i not in self._pixmaps:
            self._pixmaps[i] = gray_pixmap(self.images[i], self.side)
        return self._pixmaps[i]

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        if not self.captions:
            p.setPen(QColor(110, 110, 110))
            p.drawText(self.rect().adjusted(10, 10, -10, -10),
                       Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.empty_text)
            return
        t = self.tile_size()
        cols = self.columns()
        exposed = event.rect()
        first_row = max(0, exposed.top() // t.height())
        last_row = exposed.bottom() // t.height()
        for i in range(first_row * cols, min(len(self.captions), (last_row + 1) * cols)):
            r = self.tile_rect(i)
            x = r.x() + (r.width() - self.side) // 2
            p.drawPixmap(x, r.y() + 4, self._pixmap(i))
            p.setPen(QPen(QColor(190, 190, 190)))
            p.drawRect(x - 1, r.y() + 3, self.side + 1, self.side + 1)
            p.setPen(RIGHT if self.correct[i] else WRONG)
            p.drawText(QRect(r.x(), r.y() + self.side + 6, r.width(), r.height() - self.side - 6),
                       Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, self.captions[i])

    # -- interaction -------------------------------------------------------------------------------------------------
    def mouseMoveEvent(self, event) -> None:
        i = self.index_at(int(event.position().x()), int(event.position().y()))
        self.setCursor(Qt.CursorShape.PointingHandCursor if i is not None else Qt.CursorShape.ArrowCursor)
        self.setToolTip(self.tooltips[i] if i is not None else "")

    def mousePressEvent(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        i = self.index_at(int(event.position().x()), int(event.position().y()))
        if i is not None:
            self.imageClicked.emit(i)


def scrolling(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setWidget(widget)
    return area


class GalleryDialog(QDialog):
    """The images of one confusion-matrix cell (non-modal: the matrix stays clickable while it is open)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cellGallery")
        self.setWindowTitle("Test images")
        self.setModal(False)
        self.header = WrappedLabel("")
        self.header.setObjectName("cellGalleryHeader")
        self.grid = ImageGrid()
        self.grid.setObjectName("cellGalleryGrid")
        self.indices = np.zeros(0, np.int64)  # test-set index of each tile
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(scrolling(self.grid), 1)
        layout.addWidget(buttons)
        self.resize(720, 520)

    def show_cell(self, title: str, header: str, indices: np.ndarray, images: np.ndarray, captions: list[str],
                  tooltips: list[str], correct: list[bool]) -> None:
        self.setWindowTitle(title)
        self.header.setText(header)
        self.indices = np.asarray(indices)
        self.grid.set_items(images, captions, tooltips, correct, empty_text="No test image falls in this cell.")
        self.show()
        if QGuiApplication.platformName() != "offscreen":  # that plugin cannot raise windows (and warns)
            self.raise_()
