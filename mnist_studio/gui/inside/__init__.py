"""See inside (issue 13): views of what the network computes, each fed by the core and each in its own panel.

- the **feature map** dock (``featureMapDock``): the test digits in the space the last layer reads, by PCA or
  t-SNE, with the pad's drawing as a marker that follows the pen;
- **What would make it a 3?** (``counterfactualDock``): gradient steps on the drawing toward a chosen class, played
  as an animation beside the original, with the class's probability over the steps;
- **One value** (``oneValueDock``): a click on a layer's output for the drawing takes that value apart (a
  convolution's patch × kernel + bias, a Dense unit's largest contributions);
- **Gradient check** (``gradCheckDock``): every layer's backward pass against numerical gradients, side by side,
  and why training uses backprop (both timed on one batch);
- **Weight history** (a tab after Training, ``weightHistory``): per trainable array its weights' or gradients'
  histograms over training time as a heatmap, and the dead-ReLU share, live and for a run picked in the Runs panel;

``install(window)`` adds them and registers their background threads' shutdown as close hooks. Every view takes its
model from the session and redraws on ``modelChanged``/``weightsUpdated``, so whatever moves the studio to other
weights (a file, a training snapshot, a checkpoint) moves these views too.
"""

from __future__ import annotations

from PyQt6 import sip
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QDockWidget, QTabBar

from mnist_studio.gui.inside.counterfactual import CounterfactualPanel
from mnist_studio.gui.inside.feature_map import FeatureMapPanel
from mnist_studio.gui.inside.gradcheck import GradCheckPanel
from mnist_studio.gui.inside.one_value import OneValuePanel
from mnist_studio.gui.inside.weight_history import WeightHistoryPanel

__all__ = ["CounterfactualPanel", "FeatureMapPanel", "GradCheckPanel", "OneValuePanel", "WeightHistoryPanel", "install"]

# (panel class, dock title, dock objectName, attribute of the window that keeps the panel)
PANELS = (
    (FeatureMapPanel, "Feature map", "featureMapDock", "feature_map"),
    (CounterfactualPanel, "Make it…", "counterfactualDock", "counterfactual"),
    (OneValuePanel, "One value", "oneValueDock", "one_value"),
    (GradCheckPanel, "Grad check", "gradCheckDock", "gradcheck"),
)


def install(window) -> None:
    runs = window.findChild(QDockWidget, "runsDock")
    for cls, title, name, attr in PANELS:
        panel = cls(window.session)
        dock = window.add_dock(panel, title, Qt.DockWidgetArea.RightDockWidgetArea, name)
        if runs is not None:  # share the runs list's place (a tab beside it) rather than squeezing the right column
            window.tabifyDockWidget(runs, dock)
        setattr(window, attr, panel)
        window.close_hooks.append(panel.shutdown)
        dock.visibilityChanged.connect(lambda _v: readable_dock_tabs(window))  # (the tab bar exists by then)
    if runs is not None:
        runs.raise_()
    install_history_tab(window)


def install_history_tab(window) -> WeightHistoryPanel:
    """The weight history is wide (training time across): a tab of its own, right after Training."""
    panel = WeightHistoryPanel(window.session)
    tabs = window.tabs
    after = next((i + 1 for i in range(tabs.count()) if tabs.tabText(i) == "Training"), tabs.count())
    tabs.insertTab(after, panel, "Weight history")
    window.weight_history = panel
    window.close_hooks.append(panel.shutdown)
    return panel


def readable_dock_tabs(window) -> None:
    """Five docks share the right column's lower place: their tabs scroll rather than shrink to "R…", "Fe…".

    Docks also report a visibility change while the window is being destroyed (a script that ends without closing
    it): by then the window's C++ side is gone, and there is nothing left to arrange."""
    if sip.isdeleted(window):
        return
    for bar in window.findChildren(QTabBar):
        if bar.parent() is window:  # the main window's tab bars of tabified docks (not a panel's own tabs)
            bar.setElideMode(Qt.TextElideMode.ElideNone)
            bar.setUsesScrollButtons(True)
