"""Time travel (issue 13, item 3): the "Time travel" dock (objectName ``timeTravelDock``) along the bottom of the
window, visible from every tab: the scrubber on the current or opened run (its slider is ``timeScrubber``), "Back to
latest"; and the "Watch it learn" dock (``watchDock``, a tab beside the runs list): the drawing's probabilities
through the run's checkpoints.

``install(window)`` adds it after the runs panel (whose run store it reads opened runs' checkpoints from) and
registers its background thread's shutdown as a close hook.
"""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QDockWidget, QWidget

from mnist_studio.gui.timetravel.panel import Moment, TimeTravelPanel

__all__ = ["Moment", "TimeTravelPanel", "install"]


def install(window) -> TimeTravelPanel:
    panel = TimeTravelPanel(window.session, getattr(window, "run_store", None))
    dock = window.add_dock(panel, "Time travel", Qt.DockWidgetArea.BottomDockWidgetArea, "timeTravelDock")
    window.time_travel = panel
    window.close_hooks.append(panel.shutdown)
    dock.setTitleBarWidget(QWidget())  # a slim bar (it names itself); View ▸ Time travel shows or hides it
    window.time_travel_dock = dock
    watch = window.add_dock(panel.watch_box, "Watch it learn", Qt.DockWidgetArea.RightDockWidgetArea, "watchDock")
    runs = window.findChild(QDockWidget, "runsDock")
    if runs is not None:  # a tab beside the runs list and the See-inside docks
        window.tabifyDockWidget(runs, watch)
        runs.raise_()
    window.watch_dock = watch
    return panel
