"""Label styles the panels share, so headings, explanatory notes and one-line captions look the same everywhere."""

from __future__ import annotations

from PyQt6.QtCore import QSize, Qt
from PyQt6.QtWidgets import QLabel, QSizePolicy


def title_label(text: str) -> QLabel:
    """A bold heading above a view."""
    lab = QLabel(text)
    f = lab.font()
    f.setBold(True)
    lab.setFont(f)
    return lab


def note_label(text: str) -> QLabel:
    """A grey, word-wrapped sentence explaining what a view shows."""
    lab = QLabel(text)
    lab.setWordWrap(True)
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
