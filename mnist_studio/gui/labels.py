"""Label styles the panels share, so headings, explanatory notes and one-line captions look the same everywhere."""

from __future__ import annotations

from PyQt6.QtCore import QSize, Qt
from PyQt6.QtWidgets import QFrame, QLabel, QScrollArea, QSizePolicy


def title_label(text: str) -> QLabel:
    """A bold heading above a view."""
    lab = QLabel(text)
    f = lab.font()
    f.setBold(True)
    lab.setFont(f)
    return lab


def note_label(text: str) -> QLabel:
    """A grey, word-wrapped sentence explaining what a view shows (all its lines: see WrappedLabel)."""
    lab = WrappedLabel(text)
    lab.setStyleSheet("color: #555;")
    return lab


class ElidedLabel(QLabel):
    """A one-line label that gives way: with too little room it ends in "…" (the whole text in its tooltip)
    instead of being cut mid-letter, and it never widens its row (its minimum width is a few characters)."""

    def __init__(self, text: str = "", parent=None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        self._full = text
        self.setToolTip(text)
        self._elide()

    def text(self) -> str:
        return self._full

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(self.fontMetrics().horizontalAdvance("…") * 3, super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(self.fontMetrics().horizontalAdvance(self._full) + 4, super().sizeHint().height())

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, max(self.width() - 2, 0))
        super().setText(shown)

    def shown_text(self) -> str:
        """What is on screen (the text, or its elided form)."""
        return super().text()


class WrappedLabel(QLabel):
    """A word-wrapped label that claims the height of its wrapped lines as its minimum.

    A plain word-wrapped QLabel counts as one line in its layout's minimum, so a column squeezed to its minimum
    (the Draw tab in a 1024×700 window) pushed its other views over each other to make room for the second and
    third lines. This one tells its layout, at its current width, how tall it really is."""

    def __init__(self, text: str = "", parent=None) -> None:
        super().__init__(text, parent)
        self.setWordWrap(True)
        self._hfw = -1

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        hint = super().minimumSizeHint()
        if self.width() > 0 and self.text():
            hint.setHeight(max(hint.height(), self.heightForWidth(self.width())))
        return hint

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        super().setText(text)
        self._hfw = -1
        self.updateGeometry()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        h = self.heightForWidth(self.width())
        if h != self._hfw:  # a new width wraps differently: the layout asks for the new minimum
            self._hfw = h
            self.updateGeometry()


def scrolling_note(label: QLabel, lines: int = 3) -> QScrollArea:
    """A long explanation in a crowded dock: ``lines`` lines high at the least, the rest scrolls (as a
    WrappedLabel it would make the dock, and so the window, taller than a 1024×700 screen; as a plain label its
    end was cut off)."""
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    area = QScrollArea()
    area.setObjectName(f"{label.objectName() or 'note'}Scroll")
    area.setWidget(label)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setMinimumHeight(lines * label.fontMetrics().lineSpacing() + 4)
    area.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
    return area
