"""The main window's tab widget: every page sits in its own scroll area.

A QTabWidget is as large as its largest page's minimum, and a QMainWindow as large as its central widget's
minimum plus the docks': one tall page (the Dataset tab's class counts and mean images) used to make the whole
window at least 1344×929, and the window grew when that tab was first shown. In a scroll area a page keeps its own
minimum (its layout never squeezes its widgets over each other) while the window may be smaller: the page scrolls.

Panels keep addressing their own page: ``widget``, ``currentWidget``, ``indexOf`` and ``setCurrentWidget`` answer
with the page, not the scroll area around it.
"""

from __future__ import annotations

from PyQt6.QtCore import QEvent, QSize, Qt
from PyQt6.QtWidgets import QFrame, QScrollArea, QSplitter, QTabWidget, QWidget


class _PageHolder(QWidget):
    """Holds a page in its scroll area without a layout. A scroll area makes a page with word-wrapped labels (a
    layout with height-for-width) as tall as its *preferred* height for the width, so the Draw tab scrolled even
    in a 1600×1000 window; through the holder it sees only the page's minimum size and gives it the rest."""

    def __init__(self, page: QWidget) -> None:
        super().__init__()
        self.page = page
        page.setParent(self)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return self.page.minimumSizeHint().expandedTo(self.page.minimumSize())

    def sizeHint(self) -> QSize:  # noqa: N802
        return self.page.sizeHint()

    def resizeEvent(self, event) -> None:  # noqa: N802
        self.page.setGeometry(self.rect())
        super().resizeEvent(event)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:  # the page's minimum changed: tell the scroll area
            self.updateGeometry()
        return super().event(event)


class ScrollingTabs(QTabWidget):
    def _wrap(self, page: QWidget) -> QScrollArea:
        area = QScrollArea()
        area.setObjectName(f"{page.objectName() or 'page'}Scroll")
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        holder = _PageHolder(page)
        area.setWidget(holder)
        page.show()
        return area

    def addTab(self, page: QWidget, *args) -> int:  # noqa: N802 (Qt's name)
        return super().addTab(self._wrap(page), *args)

    def insertTab(self, index: int, page: QWidget, *args) -> int:  # noqa: N802
        return super().insertTab(index, self._wrap(page), *args)

    def widget(self, index: int) -> QWidget | None:
        area = super().widget(index)
        holder = area.widget() if isinstance(area, QScrollArea) else None
        return holder.page if isinstance(holder, _PageHolder) else area

    def currentWidget(self) -> QWidget | None:  # noqa: N802
        return self.widget(self.currentIndex())

    def indexOf(self, page: QWidget) -> int:  # noqa: N802
        for i in range(self.count()):
            if page is super().widget(i) or page is self.widget(i):
                return i
        return -1

    def setCurrentWidget(self, page: QWidget) -> None:  # noqa: N802
        index = self.indexOf(page)
        if index >= 0:
            self.setCurrentIndex(index)


class ReflowSplitter(QSplitter):
    """Side by side when there is room for both parts, one above the other when there is not.

    At the studio's smallest size (1024×700, docks open) the central area is about 500 px wide: two panes that need
    300 px each would otherwise force a horizontal scroll bar. Below ``min_side_by_side`` px the splitter turns
    vertical (the page then scrolls vertically, which reads naturally); above it, it turns back.
    """

    def __init__(self, min_side_by_side: int, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.min_side_by_side = min_side_by_side

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        """As narrow as the widest part (the vertical arrangement), so a narrow page never has to scroll sideways
        for it, even while it is still side by side (or hidden, on another page of a stack)."""
        hint = super().minimumSizeHint()
        if self.orientation() == Qt.Orientation.Horizontal:
            parts = [self.widget(i) for i in range(self.count()) if not self.widget(i).isHidden()]
            widest = max((max(w.minimumSizeHint().width(), w.minimumWidth()) for w in parts), default=0)
            hint.setWidth(min(hint.width(), widest))
        return hint

    def resizeEvent(self, event) -> None:  # noqa: N802
        wanted = (Qt.Orientation.Horizontal if event.size().width() >= self.min_side_by_side
                  else Qt.Orientation.Vertical)
        if wanted != self.orientation():
            self.setOrientation(wanted)
        super().resizeEvent(event)
