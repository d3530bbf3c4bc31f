"""The studio's standard dialogs, in one place: file choosers, questions and messages.

Panels call them through this module (``dialogs.warn(...)``), never QFileDialog or QMessageBox directly, so they
look and behave the same everywhere and a test can answer them all by replacing these functions
(``monkeypatch.setattr(dialogs, "warn", ...)``). ``warn``/``inform``/``confirm`` block until answered;
:func:`show_warning` does not (for a message that must not stop the caller, e.g. a refused file).
"""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QInputDialog, QMessageBox, QTextBrowser,
                             QVBoxLayout, QWidget)


def ask_open_path(parent: QWidget, title: str, folder: str, filters: str) -> str:
    """A file to open ("" when cancelled)."""
    return QFileDialog.getOpenFileName(parent, title, folder, filters)[0]


def ask_folder(parent: QWidget, title: str, folder: str) -> str:
    """A folder to open ("" when cancelled)."""
    return QFileDialog.getExistingDirectory(parent, title, folder)


def ask_save_path(parent: QWidget, title: str, suggested: str, filters: str) -> str:
    """Where to save ("" when cancelled)."""
    return QFileDialog.getSaveFileName(parent, title, suggested, filters)[0]


def choose(parent: QWidget, title: str, label: str, items: list[str]) -> str | None:
    """One of ``items`` (None when cancelled)."""
    item, ok = QInputDialog.getItem(parent, title, label, items, 0, False)
    return item if ok else None


def confirm(parent: QWidget, title: str, text: str) -> bool:
    """Yes or no; No is the default."""
    answer = QMessageBox.question(parent, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def warn(parent: QWidget, title: str, text: str) -> None:
    QMessageBox.warning(parent, title, text)


def inform(parent: QWidget, title: str, text: str) -> None:
    QMessageBox.information(parent, title, text)


def about(parent: QWidget, title: str, text: str) -> None:
    """The About box (the application's icon, rich text)."""
    QMessageBox.about(parent, title, text)


def show_warning(parent: QWidget, title: str, text: str) -> QMessageBox:
    """A warning that does not block: window-modal, opened with ``open()``, deleted when closed."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def show_document(parent: QWidget, title: str, markdown: str) -> QDialog:
    """A page of text (Markdown, tables included) in a window of its own that does not block, links opening in the
    browser; deleted when closed."""
    box = QDialog(parent)
    box.setWindowTitle(title)
    box.setObjectName("documentDialog")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    text = QTextBrowser(box)
    text.setObjectName("documentText")
    text.setOpenExternalLinks(True)
    text.setMarkdown(markdown)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, box)
    buttons.rejected.connect(box.close)
    layout = QVBoxLayout(box)
    layout.addWidget(text)
    layout.addWidget(buttons)
    box.resize(980, 680)
    box.show()
    return box
