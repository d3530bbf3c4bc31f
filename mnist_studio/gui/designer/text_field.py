"""A one-sentence text field that wraps instead of scrolling: the architecture's "About" line.

A QLineEdit shows a long sentence cut at the dock's edge (the 1400 px window showed "784-512-256-10 ReLU multilayer
perce"); this field shows it on up to three lines. It keeps QLineEdit's small interface that the designer uses:
``text``/``setText``/``setCursorPosition``/``setPlaceholderText`` and ``editingFinished`` (Enter or leaving the
field). Enter ends the edit rather than starting a new line: the description is one sentence.
"""

from __future__ import annotations

from PyQt6.QtCore import QSize, Qt, pyqtSignal
from PyQt6.QtGui import QTextOption
from PyQt6.QtWidgets import QFrame, QPlainTextEdit, QSizePolicy


class WrappingLineEdit(QPlainTextEdit):
    editingFinished = pyqtSignal()

    MAX_LINES = 3

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)
        self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.document().setDocumentMargin(2)
        self.textChanged.connect(self._fit_height)
        self._fit_height()

    def text(self) -> str:
        return self.toPlainText()

    def setText(self, text: str) -> None:  # noqa: N802 (QLineEdit's name)
        self.setPlainText(text)

    def setCursorPosition(self, position: int) -> None:  # noqa: N802
        cursor = self.textCursor()
        cursor.setPosition(min(position, len(self.toPlainText())))
        self.setTextCursor(cursor)

    def keyPressEvent(self, e) -> None:  # noqa: N802
        if e.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.editingFinished.emit()
            e.accept()
            return
        super().keyPressEvent(e)

    def focusOutEvent(self, e) -> None:  # noqa: N802
        super().focusOutEvent(e)
        self.editingFinished.emit()

    def insertFromMimeData(self, source) -> None:  # noqa: N802
        """A pasted text joins one sentence: line breaks become spaces."""
        self.textCursor().insertText(" ".join(source.text().split()))

    def resizeEvent(self, e) -> None:  # noqa: N802
        super().resizeEvent(e)
        self._fit_height()

    def _fit_height(self) -> None:
        """As tall as the wrapped text (one to MAX_LINES lines)."""
        lines = max(1, min(self.MAX_LINES, self._wrapped_lines()))
        line = self.fontMetrics().lineSpacing()
        height = lines * line + 2 * int(self.document().documentMargin()) + 2 * self.frameWidth() + 2
        if self.height() != height:
            self.setFixedHeight(height)

    def _wrapped_lines(self) -> int:
        layout = self.document().documentLayout()
        block = self.document().firstBlock()
        count = 0
        while block.isValid():
            count += max(1, block.layout().lineCount() if block.layout() else 1)
            block = block.next()
        return count if layout is not None else 1

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(200, self.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(60, self.height())

