"""The drawing pad: a square canvas that keeps what you draw as strokes (lists of points), not as pixels.

Points are stored in canvas units (a fixed 280×280 square, ten times MNIST's size) whatever the widget's size on
screen, so the drawing survives a resize and the preprocessing can re-render it at the final 28×28 scale with an
MNIST-like pen. White ink on black, as the network sees it. A picture shown in the pad (a gallery or dataset image,
a digit of a photo) can be touched up: strokes are drawn over it and :meth:`DrawingPad.picture_with_strokes` gives
the picture with them added; undo takes the strokes back first, clear removes both. Mouse and tablet both draw;
clear with the button, Delete/Backspace/Escape or a right-click; undo the last stroke with Ctrl+Z while the pad
has focus (the pad
claims the key through ``ShortcutOverride`` so the window-wide Edit > Undo of the designer does not take it).
An image file dropped on the pad is handed on through :attr:`DrawingPad.imageDropped`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PyQt6.QtCore import QEvent, QPointF, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QFont, QImage, QKeySequence, QPainter, QPainterPath, QPen
from PyQt6.QtWidgets import QSizePolicy, QWidget

from mnist_studio.data.preprocess import render_strokes
from mnist_studio.gui.images import gray_qimage

CANVAS = 280.0  # side of the canvas in stored units
PEN_WIDTH = 22.0  # pen width in canvas units: about 8% of the side, a fat marker like MNIST's strokes
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm"}

Stroke = list[tuple[float, float]]


class DrawingPad(QWidget):
    strokesChanged = pyqtSignal()  # the drawing changed while a stroke is being drawn (many per second)
    strokeFinished = pyqtSignal()  # a stroke ended, or undo / clear changed the drawing
    imageDropped = pyqtSignal(str)  # the path of an image file dropped on the pad

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("drawingPad")
        self.setAccessibleName("Drawing pad")
        self.setToolTip("Draw a digit with the mouse or a pen.\nRight-click, Delete or Escape: clear · "
                        "Ctrl+Z: undo the last stroke · Drop an image file here to classify it")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setMinimumSize(200, 200)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.strokes: list[Stroke] = []
        self._current: Stroke | None = None
        self._picture: QImage | None = None  # a picture shown under the strokes (inspected, a photo's digit)
        self._picture_ink: np.ndarray | None = None  # the same picture as ink 0-1, for the network
        self._hint = "draw a digit"

    # -- geometry --------------------------------------------------------------------------------------------------
    def sizeHint(self):
        from PyQt6.QtCore import QSize

        return QSize(360, 360)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, w: int) -> int:
        return w

    def square(self) -> QRectF:
        """The largest centred square of the widget: the canvas on screen."""
        side = float(min(self.width(), self.height()))
        return QRectF((self.width() - side) / 2.0, (self.height() - side) / 2.0, side, side)

    def to_canvas(self, pos: QPointF) -> tuple[float, float]:
        sq = self.square()
        k = CANVAS / max(sq.width(), 1.0)
        x = min(max((pos.x() - sq.left()) * k, 0.0), CANVAS)
        y = min(max((pos.y() - sq.top()) * k, 0.0), CANVAS)
        return (x, y)

    # -- the drawing -----------------------------------------------------------------------------------------------
    @property
    def is_empty(self) -> bool:
        return not self.strokes and self._current is None and self._picture is None

    def all_strokes(self) -> list[Stroke]:
        """Finished strokes plus the one being drawn (what the live prediction reads)."""
        return self.strokes + ([self._current] if self._current else [])

    def clear(self) -> None:
        had = not self.is_empty
        self.strokes = []
        self._current = None
        self._picture = self._picture_ink = None
        self.update()
        if had:
            self.strokeFinished.emit()

    def undo(self) -> None:
        """Remove the last stroke; with none left, the picture shown."""
        if self.strokes:
            self.strokes.pop()
        elif self._picture is not None:
            self._picture = self._picture_ink = None
        else:
            return
        self.update()
        self.strokeFinished.emit()

    def show_picture(self, ink: np.ndarray | None, hint: str = "") -> None:
        """Show a picture (ink 0-1, any size) in place of the strokes; strokes drawn next add to it. No signal."""
        self.strokes = []
        self._current = None
        self._picture_ink = None if ink is None else np.clip(np.asarray(ink, dtype=np.float32), 0.0, 1.0)
        self._picture = None if ink is None else gray_qimage(self._picture_ink)
        if hint:
            self._hint = hint
        self.update()

    @property
    def showing_picture(self) -> bool:
        return self._picture is not None

    @property
    def touched_up(self) -> bool:
        """A picture is shown and strokes were drawn over it."""
        return self._picture_ink is not None and bool(self.all_strokes())

    def picture_rect(self) -> QRectF:
        """Where the picture sits on the canvas (in canvas units): fitted and centred, as it is painted."""
        h, w = self._picture_ink.shape
        s = min(CANVAS / w, CANVAS / h)
        return QRectF((CANVAS - w * s) / 2.0, (CANVAS - h * s) / 2.0, w * s, h * s)

    def picture_with_strokes(self) -> np.ndarray | None:
        """The picture's ink with the strokes drawn into it, at the picture's own resolution (the pen as wide,
        relative to the picture, as it looks on screen): what the network should read of a touched-up picture."""
        if self._picture_ink is None:
            return None
        ink = self._picture_ink
        strokes = self.all_strokes()
        if not strokes:
            return ink.copy()
        h, w = ink.shape
        r = self.picture_rect()
        k = w / r.width()  # picture pixels per canvas unit
        ss = max(1, min(4, round(1200 / max(h, w))))  # anti-aliasing, cheaper on big pictures
        drawn = render_strokes(strokes, k, (r.left(), r.top()), (h, w), PEN_WIDTH * k, supersample=ss)
        return np.maximum(ink, drawn)

    def _begin(self, pos: QPointF) -> None:
        self._current = [self.to_canvas(pos)]
        self.update()
        self.strokesChanged.emit()

    def _extend(self, pos: QPointF) -> None:
        if self._current is None:
            return
        p = self.to_canvas(pos)
        last = self._current[-1]
        if (p[0] - last[0]) ** 2 + (p[1] - last[1]) ** 2 < 0.25:  # under half a unit: no new point
            return
        self._current.append(p)
        self.update()
        self.strokesChanged.emit()

    def _end(self, pos: QPointF | None = None) -> None:
        if self._current is None:
            return
        if pos is not None:
            self._extend(pos)
        self.strokes.append(self._current)
        self._current = None
        self.update()
        self.strokeFinished.emit()

    # -- input -----------------------------------------------------------------------------------------------------
    def mousePressEvent(self, e) -> None:
        if e.button() == Qt.MouseButton.LeftButton:
            self._begin(e.position())
        elif e.button() == Qt.MouseButton.RightButton:
            self._current = None
            self.clear()
        e.accept()

    def mouseMoveEvent(self, e) -> None:
        if e.buttons() & Qt.MouseButton.LeftButton:
            self._extend(e.position())
        e.accept()

    def mouseReleaseEvent(self, e) -> None:
        if e.button() == Qt.MouseButton.LeftButton:
            self._end(e.position())
        e.accept()

    def tabletEvent(self, e) -> None:
        """A pen draws like the mouse; accepting the event stops Qt from also sending synthesised mouse events."""
        t = e.type()
        if t == QEvent.Type.TabletPress:
            self._begin(e.position())
        elif t == QEvent.Type.TabletMove and e.pressure() > 0:
            self._extend(e.position())
        elif t == QEvent.Type.TabletRelease:
            self._end(e.position())
        e.accept()

    def event(self, e) -> bool:
        # Claim Ctrl+Z before the window's Edit > Undo shortcut sees it, but only while the pad has focus.
        if e.type() == QEvent.Type.ShortcutOverride and e.matches(QKeySequence.StandardKey.Undo):
            e.accept()
            return True
        return super().event(e)

    def keyPressEvent(self, e) -> None:
        if e.matches(QKeySequence.StandardKey.Undo):
            self.undo()
        elif e.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace, Qt.Key.Key_Escape):
            self.clear()
        else:
            super().keyPressEvent(e)
            return
        e.accept()

    def dragEnterEvent(self, e) -> None:
        if self._dropped_image(e.mimeData()):
            e.acceptProposedAction()
        else:
            e.ignore()

    def dragMoveEvent(self, e) -> None:
        if self._dropped_image(e.mimeData()):
            e.acceptProposedAction()

    def dropEvent(self, e) -> None:
        path = self._dropped_image(e.mimeData())
        if path:
            e.acceptProposedAction()
            self.imageDropped.emit(path)

    @staticmethod
    def _dropped_image(mime) -> str | None:
        if not mime.hasUrls():
            return None
        for url in mime.urls():
            if url.isLocalFile() and Path(url.toLocalFile()).suffix.lower() in IMAGE_SUFFIXES:
                return url.toLocalFile()
        return None

    # -- painting --------------------------------------------------------------------------------------------------
    def paintEvent(self, _e) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        sq = self.square()
        p.fillRect(self.rect(), self.palette().window())
        p.fillRect(sq, QColor("#101418"))
        if self.hasFocus():
            p.setPen(QPen(QColor("#3d8bfd"), 2))
            p.drawRect(sq.adjusted(1, 1, -1, -1))
        k = sq.width() / CANVAS
        if self._picture is not None:
            img = self._picture
            scale = min(sq.width() / img.width(), sq.height() / img.height())
            w, h = img.width() * scale, img.height() * scale
            target = QRectF(sq.center().x() - w / 2, sq.center().y() - h / 2, w, h)
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, max(img.width(), img.height()) > 64)
            p.drawImage(target, img)
        elif not self.strokes and self._current is None:
            p.setPen(QColor("#6c7a89"))
            f = QFont(self.font())
            f.setPointSizeF(max(11.0, sq.width() / 22.0))
            p.setFont(f)
            p.drawText(sq, Qt.AlignmentFlag.AlignCenter, self._hint)
        pen = QPen(QColor("white"), PEN_WIDTH * k, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                   Qt.PenJoinStyle.RoundJoin)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        for stroke in self.all_strokes():
            p.drawPath(self._path(stroke, sq.left(), sq.top(), k))
        p.end()

    @staticmethod
    def _path(stroke: Stroke, left: float, top: float, k: float) -> QPainterPath:
        """Smooth the polyline: quadratic curves through the midpoints, each point a control point."""
        pts = [QPointF(left + x * k, top + y * k) for x, y in stroke]
        path = QPainterPath(pts[0])
        if len(pts) == 1:
            path.lineTo(pts[0] + QPointF(0.01, 0.0))  # a dot: a zero-length line still gets round caps
            return path
        if len(pts) == 2:
            path.lineTo(pts[1])
            return path
        for a, b in zip(pts[1:-1], pts[2:]):
            path.quadTo(a, (a + b) / 2.0)
        path.lineTo(pts[-1])
        return path
