"""See inside (issue 13): views of what the network computes, each fed by the core and each in its own panel.

- the **feature map** dock (``featureMapDock``): the test digits in the space the last layer reads, by PCA or
  t-SNE, with the pad's drawing as a marker that follows the pen;

``install(window)`` adds them and registers their background threads' shutdown as close hooks. Every view takes its
model from the session and redraws on ``modelChanged``/``weightsUpdated``, so whatever moves the studio to other
weights (a file, a training snapshot, a checkpoint) moves these views too.
"""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QDockWidget

from mnist_studio.gui.inside.feature_map import FeatureMapPanel

__all__ = ["FeatureMapPanel", "install"]


def install(window) -> None:
    feature_map = FeatureMapPanel(window.session)
    dock = window.add_dock(feature_map, "Feature map", Qt.DockWidgetArea.RightDockWidgetArea, "featureMapDock")
    runs = window.findChild(QDockWidget, "runsDock")
    if runs is not None:  # share the runs list's place (a tab beside it) rather than squeezing the right column
        window.tabifyDockWidget(runs, dock)
        runs.raise_()
    window.feature_map = feature_map
    window.close_hooks.append(feature_map.shutdown)
