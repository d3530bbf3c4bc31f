"""Python's cyclic garbage collection, moved to the GUI thread.

Python runs a cyclic collection in whichever thread happens to allocate when a generation's counter overflows. The
trainer's worker thread allocates all the time, so a collection there may free Qt objects held only by a reference
cycle (a pyqtgraph label or curve that was taken out of its scene, a closed window) while the GUI thread is laying
them out or drawing them: Qt then uses freed memory and the process dies (seen as ``wrapped C/C++ object of type
QGraphicsTextItem has been deleted`` inside a ``LabelItem.resizeEvent``, then a segmentation fault). pyqtgraph knows
the problem (``pyqtgraph.util.garbage_collector``); this is the same remedy, owned by the application: automatic
collection is switched off and the GUI thread collects on a timer, generation by generation, with Python's own
thresholds, so memory behaves as before and no Qt object is ever freed outside the GUI thread.
"""

from __future__ import annotations

import gc

from PyQt6.QtCore import QCoreApplication, QObject, QTimer

INTERVAL_MS = 500


class GuiThreadCollector(QObject):
    """Collects cyclic garbage on a GUI-thread timer (automatic collection stays off while it exists)."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.collect_due)
        self.timer.start(interval_ms)

    def collect_due(self) -> int:
        """Collect the generations whose counters passed Python's thresholds (as automatic collection would have);
        returns the number of unreachable objects found."""
        found = 0
        counts = gc.get_count()
        for generation in range(3):
            if counts[generation] <= self.threshold[generation]:
                break
            found += gc.collect(generation)
        return found


def install(app: QCoreApplication) -> GuiThreadCollector:
    """The application's collector, created once (a child of the application, so it lives as long as it)."""
    existing = app.findChild(GuiThreadCollector)
    if existing is not None:
        return existing
    collector = GuiThreadCollector(app)
    collector.setObjectName("guiThreadCollector")
    return collector
