"""Two label styles the panels share, so headings and explanatory notes look the same everywhere."""

from __future__ import annotations

from PyQt6.QtWidgets import QLabel


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
