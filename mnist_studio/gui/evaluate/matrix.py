"""The confusion matrix as a clickable heatmap with the count in every cell.

Painted by hand rather than with a plot item so each count sits exactly in its cell at a size it fits, labels
(digits or Fashion-MNIST's names) never overlap, and a click maps straight to a (true, predicted) pair.
Colour is the share of the true class: blue on the diagonal (right answers), red off it (mistakes, saturating at
10 % so that a few dozen confusions out of a thousand still stand out), white for none.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QEvent, QPoint, QRect, QRectF, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QFont, QFontMetrics, QLinearGradient, QPainter, QPen
from PyQt6.QtWidgets import QSizePolicy, QToolTip, QWidget

RIGHT_COLOUR = QColor(8, 81, 156)  # full-share diagonal
WRONG_COLOUR = QColor(203, 24, 29)  # off-diagonal at ERROR_SATURATION or more
ERROR_SATURATION = 0.10
LEGEND_HEIGHT = 50
MIN_HEIGHT = 380
PAD = 6


def _mix(colour: QColor, t: float) -> QColor:
    """White blended towards ``colour`` by ``t`` in [0, 1]."""
    t = min(max(t, 0.0), 1.0)
    return QColor(round(255 + (colour.red() - 255) * t), round(255 + (colour.green() - 255) * t),
                  round(255 + (colour.blue() - 255) * t))


def cell_colour(count: int, row_total: int, diagonal: bool) -> QColor:
    share = count / row_total if row_total else 0.0
    if diagonal:
        return _mix(RIGHT_COLOUR, share)
    return _mix(WRONG_COLOUR, (share / ERROR_SATURATION) ** 0.6 if count else 0.0)


def _text_colour(background: QColor) -> QColor:
    luminance = 0.299 * background.red() + 0.587 * background.green() + 0.114 * background.blue()
    return QColor("white") if luminance < 150 else QColor(30, 30, 30)


class ConfusionMatrixView(QWidget):
    """``set_matrix(confusion, class_names)`` shows it; ``cellClicked(true, predicted)`` on a click."""

    cellClicked = pyqtSignal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("confusionMatrix")
        self.setMouseTracking(True)
        # 28 px cells at the least: a four-digit count stays legible (the tab scrolls in a small window instead)
        self.setMinimumSize(280, MIN_HEIGHT)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.confusion: np.ndarray | None = None
        self.class_names: tuple[str, ...] = tuple(str(d) for d in range(10))
        self.message = "No evaluation yet"
        self._hover: tuple[int, int] | None = None
        self.setToolTip("")

    # -- data --------------------------------------------------------------------------------------------------------
    def set_matrix(self, confusion: np.ndarray, class_names) -> None:
        self.confusion = np.asarray(confusion, np.int64)
        self.class_names = tuple(class_names)
        self._hover = None
        self.update()

    def clear(self, message: str) -> None:
        self.confusion = None
        self.message = message
        self.update()

    def count(self, true: int, predicted: int) -> int:
        return int(self.confusion[true, predicted])

    def sizeHint(self) -> QSize:
        return QSize(560, 600)

    # -- geometry ----------------------------------------------------------------------------------------------------
    def _label_font(self) -> QFont:
        f = QFont(self.font())
        f.setPointSizeF(max(8.0, self.font().pointSizeF()))
        return f

    def _layout(self) -> tuple[int, int, int, bool]:
        """(grid left, grid top, cell size, column labels vertical)."""
        n = len(self.class_names)
        fm = QFontMetrics(self._label_font())
        title_h = fm.height() + PAD
        row_label_w = max(fm.horizontalAdvance(name) for name in self.class_names) + 2 * PAD
        left = title_h + row_label_w
        widest = max(fm.horizontalAdvance(name) for name in self.class_names)
        avail_w = self.width() - left - PAD
        cell_guess = max(8, min(avail_w // n, (self.height() - LEGEND_HEIGHT - 2 * title_h) // n))
        vertical = widest > cell_guess - 4
        col_label_h = (widest + 2 * PAD) if vertical else fm.height() + PAD
        top = title_h + col_label_h
        cell = max(8, min(avail_w // n, (self.height() - top - LEGEND_HEIGHT - PAD) // n))
        return left, top, cell, vertical

    def cell_rect(self, true: int, predicted: int) -> QRect:
        left, top, cell, _ = self._layout()
        return QRect(left + predicted * cell, top + true * cell, cell, cell)

    def cell_at(self, pos: QPoint) -> tuple[int, int] | None:
        if self.confusion is None:
            return None
        left, top, cell, _ = self._layout()
        n = len(self.class_names)
        col, row = (pos.x() - left) // cell, (pos.y() - top) // cell
        if pos.x() < left or pos.y() < top or not (0 <= col < n and 0 <= row < n):
            return None
        return int(row), int(col)

    # -- painting ----------------------------------------------------------------------------------------------------
    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), self.palette().window())
        if self.confusion is None:
            p.setPen(QColor(110, 110, 110))
            p.drawText(self.rect().adjusted(20, 20, -20, -20),
                       Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.message)
            return
        n = len(self.class_names)
        left, top, cell, vertical = self._layout()
        label_font = self._label_font()
        fm = QFontMetrics(label_font)
        title_h = fm.height() + PAD
        bold = QFont(label_font)
        bold.setBold(True)
        text_pen = QColor(40, 40, 40)

        # axis titles
        p.setFont(bold)
        p.setPen(text_pen)
        p.drawText(QRect(left, 0, cell * n, title_h), Qt.AlignmentFlag.AlignCenter, "predicted")
        p.save()
        p.translate(0, top + cell * n / 2)
        p.rotate(-90)
        p.drawText(QRect(-cell * n // 2, 0, cell * n, title_h), Qt.AlignmentFlag.AlignCenter, "true")
        p.restore()

        # class labels
        p.setFont(label_font)
        for i, name in enumerate(self.class_names):
            p.drawText(QRect(title_h, top + i * cell, left - title_h - PAD, cell),
                       Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, name)
            if vertical:
                p.save()
                p.translate(left + i * cell + cell / 2, top - PAD)
                p.rotate(-90)
                p.drawText(QRect(0, -fm.height() // 2, top - title_h - PAD, fm.height()),
                           Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, name)
                p.restore()
            else:
                p.drawText(QRect(left + i * cell, title_h, cell, top - title_h),
                           Qt.AlignmentFlag.AlignCenter, name)

        # cells with their counts, in a font that fits the largest count
        row_totals = self.confusion.sum(axis=1)
        count_font = QFont(label_font)
        widest_count = str(int(self.confusion.max())) if self.confusion.size else "0"
        size = max(6.0, cell * 0.32)
        count_font.setPixelSize(round(size))
        while size > 6 and QFontMetrics(count_font).horizontalAdvance(widest_count) > cell - 6:
            size -= 0.5
            count_font.setPixelSize(round(size))
        p.setFont(count_font)
        grid_pen = QPen(QColor(225, 225, 225))
        for t in range(n):
            for q in range(n):
                rect = QRect(left + q * cell, top + t * cell, cell, cell)
                count = int(self.confusion[t, q])
                bg = cell_colour(count, int(row_totals[t]), t == q)
                p.fillRect(rect, bg)
                p.setPen(grid_pen)
                p.drawRect(rect)
                p.setPen(_text_colour(bg) if count else QColor(185, 185, 185))
                p.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(count))
        if self._hover is not None:
            t, q = self._hover
            p.setPen(QPen(QColor(20, 20, 20), 2))
            p.drawRect(QRect(left + q * cell, top + t * cell, cell, cell).adjusted(1, 1, -1, -1))
        self._paint_legend(p, left, top + n * cell + PAD, cell * n, label_font)

    def _paint_legend(self, p: QPainter, x: int, y: int, width: int, font: QFont) -> None:
        """Two colour bars, each with its caption above and its scale below: what blue and red mean."""
        small = QFont(font)
        small.setPointSizeF(max(7.0, font.pointSizeF() - 1))
        p.setFont(small)
        fm = QFontMetrics(small)
        width = max(width, min(self.width() - x - PAD, 4 * fm.horizontalAdvance("100 % of the class")))
        half = (width - 2 * PAD) // 2
        bar_h = 8
        for i, (colour, caption, hi, short) in enumerate([
            (RIGHT_COLOUR, "right answers", "100 % of the class", "100 %"),
            (WRONG_COLOUR, "mistakes", f"≥ {ERROR_SATURATION * 100:.0f} % of the class", f"≥ {ERROR_SATURATION * 100:.0f} %"),
        ]):
            if fm.horizontalAdvance("0  " + hi) > half:  # a narrow legend: the scale's end without its words
                hi = short
            bx = x + i * (half + 2 * PAD)
            p.setPen(QColor(70, 70, 70))
            p.drawText(QRect(bx, y, half, fm.height()), Qt.AlignmentFlag.AlignLeft,
                       fm.elidedText(caption, Qt.TextElideMode.ElideRight, half))
            by = y + fm.height() + 1
            grad = QLinearGradient(bx, 0, bx + half, 0)
            grad.setColorAt(0, QColor("white"))
            grad.setColorAt(1, colour)
            p.setPen(QColor(200, 200, 200))
            p.setBrush(grad)
            p.drawRect(QRectF(bx, by, half, bar_h))
            p.setPen(QColor(70, 70, 70))
            p.drawText(QRect(bx, by + bar_h + 1, half, fm.height()), Qt.AlignmentFlag.AlignLeft, "0")
            p.drawText(QRect(bx, by + bar_h + 1, half, fm.height()), Qt.AlignmentFlag.AlignRight,
                       fm.elidedText(hi, Qt.TextElideMode.ElideRight, half - fm.horizontalAdvance("0  ")))

    # -- interaction -------------------------------------------------------------------------------------------------
    def mouseMoveEvent(self, event) -> None:
        hover = self.cell_at(event.position().toPoint())
        if hover != self._hover:
            self._hover = hover
            self.setCursor(Qt.CursorShape.PointingHandCursor if hover else Qt.CursorShape.ArrowCursor)
            self.update()

    def leaveEvent(self, _event) -> None:
        self._hover = None
        self.update()

    def mousePressEvent(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        cell = self.cell_at(event.position().toPoint())
        if cell is not None:
            self.cellClicked.emit(*cell)

    def describe_cell(self, true: int, predicted: int) -> str:
        count = self.count(true, predicted)
        total = int(self.confusion[true].sum())
        share = f"{count / total:.1%}" if total else "–"
        t, q = self.class_names[true], self.class_names[predicted]
        what = "read correctly" if true == predicted else f"read as {q}"
        return (f"true {t}, predicted {q}: {count:,} images ({share} of the {total:,} {t} images {what}). "
                "Click to see them.")

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            cell = self.cell_at(event.pos())
            if cell is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), self.describe_cell(*cell), self)
            return True
        return super().event(event)
