"""Small widgets the "see inside" panels share: a picture label, a grid of numbers, the class colours.

They only map values to colours and pixels; the numbers come from the core.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QRectF, QSize, Qt
from PyQt6.QtGui import QColor, QFont, QImage, QPainter, QPixmap
from PyQt6.QtWidgets import QLabel, QSizePolicy, QWidget

from mnist_studio.gui.images import gray_pixmap

# ten well-separated colours (matplotlib's tab10), one per class
CLASS_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                 "#bcbd22", "#17becf")
_DIVERGING = pg.colormap.get("CET-D1A").getLookupTable(nPts=256)  # blue - white - red


def signed_rgb(values: np.ndarray, limit: float | None = None) -> np.ndarray:
    """A signed array → H×W×3 uint8 on a blue-white-red scale symmetric around 0 (``limit``: the value drawn at full
    colour; default the largest magnitude)."""
    v = np.nan_to_num(np.asarray(values, dtype=np.float32))
    top = float(np.abs(v).max()) if limit is None else float(limit)
    t = np.clip(v / top, -1.0, 1.0) if top > 0 else np.zeros_like(v)
    return _DIVERGING[np.round((t + 1.0) * 127.5).astype(np.int64)][..., :3].astype(np.uint8)


def rgb_pixmap(rgb: np.ndarray, side: int) -> QPixmap:
    a = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w, _ = a.shape
    img = QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    return QPixmap.fromImage(img).scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                         Qt.TransformationMode.FastTransformation)


class Picture(QLabel):
    """A fixed-size square showing a 28×28 grey image (white ink on black) or a signed map, pixelated."""

    def __init__(self, side: int = 112, tip: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.side = side
        self.setFixedSize(side + 2, side + 2)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet("background: #101418; border: 1px solid #c8ccd0;")
        self.setToolTip(tip)

    def show_gray(self, image: np.ndarray | None) -> None:
        if image is None:
            self.clear()
        else:
            self.setPixmap(gray_pixmap(image, self.side))

    def show_signed(self, values: np.ndarray | None, limit: float | None = None) -> None:
        if values is None:
            self.clear()
        else:
            self.setPixmap(rgb_pixmap(signed_rgb(values, limit), self.side))


def caption(text: str) -> QLabel:
    lab = QLabel(text)
    lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
    lab.setStyleSheet("color: #555; font-size: 11px;")
    return lab


class NumberGrid(QWidget):
    """A small matrix drawn as coloured cells with its numbers in them (numbers hidden when cells are too small):
    grey for inputs (black 0 → white at the largest value), blue-white-red for signed values."""

    def __init__(self, signed: bool = True, cell: int = 30, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.signed = signed
        self.cell = cell
        self.values = np.zeros((0, 0), np.float32)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def set_values(self, values: np.ndarray | None) -> None:
        self.values = np.zeros((0, 0), np.float32) if values is None else np.asarray(values, np.float32)
        side = max(3, min(self.cell, 150 // max(1, *self.values.shape))) if self.values.size else self.cell
        self._side = side
        self.setFixedSize(self.sizeHint())
        self.update()

    def sizeHint(self) -> QSize:
        side = getattr(self, "_side", self.cell)
        h, w = self.values.shape if self.values.size else (5, 5)
        return QSize(w * side + 1, h * side + 1)

    def paintEvent(self, _event) -> None:
        if not self.values.size:
            return
        p = QPainter(self)
        side = self._side
        v = self.values
        if self.signed:
            colours = signed_rgb(v)
        else:
            top = float(v.max()) if v.size and v.max() > 0 else 1.0
            g = (np.clip(v / top, 0, 1) * 255).astype(np.uint8)
            colours = np.stack([g, g, g], axis=-1)
        font = QFont(self.font())
        font.setPixelSize(max(7, min(11, side // 3)))
        p.setFont(font)
        show_numbers = side >= 24
        for r in range(v.shape[0]):
            for c in range(v.shape[1]):
                rect = QRectF(c * side, r * side, side, side)
                col = QColor(*(int(x) for x in colours[r, c]))
                p.fillRect(rect, col)
                p.setPen(QColor("#c8ccd0"))
                p.drawRect(rect)
                if show_numbers:
                    p.setPen(QColor("#000") if col.lightness() > 128 else QColor("#fff"))
                    p.drawText(rect, Qt.AlignmentFlag.AlignCenter, f"{v[r, c]:.2f}".replace("0.", ".", 1)
                               if abs(v[r, c]) < 1 else f"{v[r, c]:.1f}")
        p.end()
