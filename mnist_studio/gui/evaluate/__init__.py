"""The Evaluate tab (issue 5): test accuracy, a clickable confusion matrix, per-class metrics, confident mistakes,
a confidence threshold and robustness curves for the current model.

``install(window)`` adds the tab and Train > Evaluate Model, stops the background thread in the window's close
hooks, and switches to the Draw tab when an image is sent there (found by its tab text, so this package never
imports the drawing panel).
"""

from __future__ import annotations

from PyQt6.QtGui import QAction

from mnist_studio.gui.evaluate.panel import EvaluatePanel

__all__ = ["EvaluatePanel", "install", "show_tab"]


def show_tab(tabs, text: str) -> bool:
    """Make the tab whose text is ``text`` current; False when there is none."""
    for i in range(tabs.count()):
        if tabs.tabText(i).replace("&", "") == text:
            tabs.setCurrentIndex(i)
            return True
    return False


def install(window) -> EvaluatePanel:
    panel = EvaluatePanel(window.session)
    window.tabs.addTab(panel, "Evaluate")
    window.evaluate_panel = panel
    window.close_hooks.append(panel.shutdown)
    panel.inspected.connect(lambda: show_tab(window.tabs, "Draw"))

    def evaluate_now() -> None:
        window.tabs.setCurrentWidget(panel)
        panel.evaluate()

    action = QAction("Evaluate Model", window)
    action.setObjectName("evaluateModelAction")
    action.setStatusTip("Test the current model on the dataset's test images")
    action.triggered.connect(evaluate_now)
    window.menus["Train"].addAction(action)
    return panel
