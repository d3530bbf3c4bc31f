"""Classify Image: the picture with every digit found boxed and labelled with its answer and confidence, the
reading's stages as a strip, and a click on a digit to open it in the pad.

Only display: the picture, the boxes, the stages and the answers are computed by the core
(:func:`mnist_studio.data.picture.read_picture` and the model); this file maps them to the screen and back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QFont, QFontMetricsF, QIcon, QPainter, QPen, QPixmap
from PyQt6.QtWidgets import (QDialog, QFrame, QHBoxLayout, QLabel, QScrollArea, QSizePolicy, QToolButton,
                             QVBoxLayout, QWidget)

from mnist_studio.gui.labels import WrappedLabel
from mnist_studio.gui.images import gray_pixmap, gray_qimage

SURE, UNSURE, SELECTED = QColor("#1f9d55"), QColor("#e8891c"), QColor("#1f6fd1")


@dataclass
class PictureShown:
    """What the window shows: all of it computed elsewhere."""

    name: str
    gray: np.ndarray  # the picture, 0 = black, 1 = white
    boxes: list[list[int]]  # [x0, y0, x1, y1] per digit, picture pixels
    answers: list[str]
    confidences: list[float]
    unsure: list[bool]
    stages: list[tuple[str, np.ndarray]] = field(default_factory=list)  # (caption, grey image 1 = white)
    inputs: list[np.ndarray] = field(default_factory=list)  # the 28×28 inputs (1 = ink)
    doubts: list[str] = field(default_factory=list)


class PictureCanvas(QWidget):
    """The picture scaled to fit, each digit's box and its answer over it; a click on a box selects it."""

    digitClicked = pyqtSignal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pictureCanvas")
        self.setMinimumSize(320, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.shown: PictureShown | None = None
        self._image = None
        self.selected = -1

    def set_picture(self, shown: PictureShown | None) -> None:
        self.shown = shown
        self._image = gray_qimage(shown.gray) if shown is not None else None
        self.selected = -1
        self.update()

    def image_rect(self) -> QRectF:
        """Where the picture is drawn (aspect kept, centred)."""
        if self._image is None:
            return QRectF()
        w, h = self._image.width(), self._image.height()
        s = min((self.width() - 8) / w, (self.height() - 8) / h)
        return QRectF((self.width() - w * s) / 2, (self.height() - h * s) / 2, w * s, h * s)

    def box_rects(self) -> list[QRectF]:
        """Each digit's box on screen."""
        if self.shown is None:
            return []
        r = self.image_rect()
        s = r.width() / self._image.width()
        return [QRectF(r.left() + x0 * s, r.top() + y0 * s, (x1 - x0) * s, (y1 - y0) * s)
                for x0, y0, x1, y1 in self.shown.boxes]

    def digit_at(self, pos: QPointF) -> int:
        """The digit whose box holds ``pos`` (the smallest, if boxes overlap), or -1."""
        hits = [(r.width() * r.height(), i) for i, r in enumerate(self.box_rects()) if r.contains(pos)]
        return min(hits)[1] if hits else -1

    def mousePressEvent(self, e) -> None:
        i = self.digit_at(e.position())
        if i >= 0:
            self.selected = i
            self.update()
            self.digitClicked.emit(i)
        e.accept()

    def paintEvent(self, _e) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#2b2f33"))
        if self._image is None:
            p.end()
            return
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.drawImage(self.image_rect(), self._image)
        font = QFont(self.font())
        font.setBold(True)
        rects = self.box_rects()
        # labels about as wide as the digits' boxes, readable however small the picture is
        size = max(8.0, min(15.0, min((r.height() for r in rects), default=40) / 3.5,
                            min((r.width() for r in rects if r.width() > 8), default=60) / 4.0))
        font.setPointSizeF(size)
        p.setFont(font)
        fm = QFontMetricsF(font)
        sh = self.shown
        placed: list[QRectF] = []
        for i, r in enumerate(rects):
            colour = SELECTED if i == self.selected else (UNSURE if sh.unsure[i] else SURE)
            p.setPen(QPen(colour, 3 if i == self.selected else 2))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(r)
            text = f"{sh.answers[i]} · {sh.confidences[i]:.0%}" + ("?" if sh.unsure[i] else "")
            tw, th = fm.horizontalAdvance(text) + 8, fm.height() + 2
            above = QRectF(r.left(), r.top() - th - 1, tw, th)
            below = QRectF(r.left(), r.bottom() + 1, tw, th)
            # above the box unless that leaves the picture or covers an earlier label: then below it
            tag = above if above.top() >= 0 and not any(above.intersects(t) for t in placed) else below
            placed.append(tag)
            p.fillRect(tag, colour)
            p.setPen(QColor("white"))
            p.drawText(tag, Qt.AlignmentFlag.AlignCenter, text)
        p.end()


def _thumb(img: np.ndarray, side: int, smooth: bool = True) -> QPixmap:
    """A picture scaled to ``side`` px on its longer side (smoothly: photos), or pixelated (28×28 inputs)."""
    if not smooth:
        return gray_pixmap(img, side)
    return QPixmap.fromImage(gray_qimage(img)).scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                                      Qt.TransformationMode.SmoothTransformation)


class PictureWindow(QDialog):
    """The Classify Image window: a caption with the reading, the boxed picture, the stages strip."""

    digitClicked = pyqtSignal(int)
    THUMB = 84

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pictureWindow")
        self.setWindowTitle("Classify image")
        self.setModal(False)
        self.caption = WrappedLabel("")
        self.caption.setObjectName("pictureCaption")
        self.caption.setStyleSheet("font-size: 15px;")
        self.hint = WrappedLabel("Click a digit (in the picture or in the strip) to open it in the pad of the Draw "
                                 "tab; there, its key (0-9) or ✓ keeps it as one of your examples to teach.")
        self.hint.setStyleSheet("color: #555;")
        self.canvas = PictureCanvas()
        self.canvas.digitClicked.connect(self._clicked)
        self.strip = QWidget()
        self.strip_row = QHBoxLayout(self.strip)
        self.strip_row.setContentsMargins(0, 0, 0, 0)
        self.strip_row.setSpacing(6)
        scroll = QScrollArea()
        scroll.setObjectName("pictureStages")
        scroll.setWidget(self.strip)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFixedHeight(self.THUMB + 46)
        self.digit_buttons: list[QToolButton] = []
        lay = QVBoxLayout(self)
        lay.addWidget(self.caption)
        lay.addWidget(self.canvas, 1)
        lay.addWidget(scroll)
        lay.addWidget(self.hint)

    def sizeHint(self) -> QSize:
        return QSize(900, 640)

    def _clicked(self, i: int) -> None:
        self.canvas.selected = i
        self.canvas.update()
        for k, b in enumerate(self.digit_buttons):
            b.setChecked(k == i)
        self.digitClicked.emit(i)

    def show_picture(self, shown: PictureShown) -> None:
        self.setWindowTitle(f"Classify image: {shown.name}")
        self.canvas.set_picture(shown)
        n = len(shown.boxes)
        if n == 0:
            self.caption.setText(f"<b>{shown.name}</b>: no digit found (the picture looks blank)")
        else:
            read = "".join(shown.answers)
            unsure = sum(shown.unsure)
            text = f"<b>{shown.name}</b>: read as <b style='font-size: 20px'>{read}</b> ({n} digit{'s' * (n > 1)})"
            if unsure:
                text += f" · <span style='color: #c0640a'>{unsure} not sure</span>"
            if shown.doubts:
                text += f"<br><span style='color: #c0640a'>Not sure this is a number: {'; '.join(shown.doubts)}</span>"
            self.caption.setText(text)
        self._fill_strip(shown)

    def _fill_strip(self, shown: PictureShown) -> None:
        while self.strip_row.count():
            item = self.strip_row.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.digit_buttons = []
        for caption, img in shown.stages:
            box = QVBoxLayout()
            lab = QLabel()
            lab.setPixmap(_thumb(img, self.THUMB))
            lab.setFixedSize(self.THUMB + 2, self.THUMB + 2)
            lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
            lab.setStyleSheet("border: 1px solid #c8ccd0;")
            cap = QLabel(caption)
            cap.setAlignment(Qt.AlignmentFlag.AlignCenter)
            cap.setStyleSheet("color: #555; font-size: 11px;")
            holder = QWidget()
            box.setContentsMargins(0, 0, 0, 0)
            box.addWidget(lab)
            box.addWidget(cap)
            holder.setLayout(box)
            self.strip_row.addWidget(holder)
            arrow = QLabel("→")
            arrow.setStyleSheet("color: #888;")
            self.strip_row.addWidget(arrow)
        for i, x in enumerate(shown.inputs):
            b = QToolButton()
            b.setObjectName(f"pictureDigit{i + 1}")
            b.setCheckable(True)
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            pix = _thumb(x, 56, smooth=False)
            b.setIcon(QIcon(pix))
            b.setIconSize(pix.size())
            b.setText(f"{shown.answers[i]} · {shown.confidences[i]:.0%}" + ("?" if shown.unsure[i] else ""))
            b.setToolTip(f"digit {i + 1}: the 28×28 input the network read as {shown.answers[i]}; "
                         "click to open it in the pad")
            b.clicked.connect(lambda _c=False, k=i: self._clicked(k))
            self.strip_row.addWidget(b)
            self.digit_buttons.append(b)
        if not shown.inputs and shown.stages:
            self.strip_row.takeAt(self.strip_row.count() - 1).widget().deleteLater()  # no arrow to nothing
        self.strip_row.addStretch(1)
