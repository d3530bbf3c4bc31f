"""A dismissable message strip above the plots: a diverged run or a run that could not start says so in plain
words where the user is looking, without a modal dialog interrupting the session."""

from __future__ import annotations

from PyQt6.QtWidgets import QFrame, QHBoxLayout, QToolButton

from mnist_studio.gui.labels import WrappedLabel

STYLES = {
    "error": "background: #fdecea; border: 1px solid #f1aeb5; color: #611a15;",
    "warning": "background: #fff4e5; border: 1px solid #f5c98b; color: #663c00;",
    "info": "background: #e8f4fd; border: 1px solid #a6d1f3; color: #0d3c61;",
}


class Banner(QFrame):
    def __init__(self, parent=None, name: str = "trainingBanner") -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.label = WrappedLabel()
        self.label.setObjectName(f"{name}Text")
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 6, 6, 6)
        lay.addWidget(self.label, 1)
        lay.addWidget(close)
        self.kind = ""
        self.hide()

    def show_message(self, text: str, kind: str = "error") -> None:
        self.kind = kind
        self.setStyleSheet(f"#{self.objectName()} {{ {STYLES[kind]} border-radius: 4px; }} "
                           "QLabel { border: none; }")
        self.label.setText(text)
        self.show()

    def text(self) -> str:
        return "" if self.isHidden() else self.label.text()
