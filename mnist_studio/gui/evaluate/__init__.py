"""The Evaluate tab (issue 5): test accuracy, a clickable confusion matrix, per-class metrics, confident mistakes,
a confidence threshold and robustness curves for the current model.

``install(window)`` adds the tab and Train > Evaluate Model and stops the background thread in the window's close
hooks. An image sent to the drawing pad goes through ``session.inspect``; the Draw tab comes forward by itself.
"""

from __future__ import annotations

from PyQt6.QtGui import QAction

from mnist_studio.gui.evaluate.panel import EvaluatePanel

__all__ = ["EvaluatePanel", "install"]


def install(window) -> EvaluatePanel:
    panel = EvaluatePanel(window.session)
    window.tabs.addTab(panel, "Evaluate")
    window.evaluate_panel = panel
    window.close_hooks.append(panel.shutdown)

    def evaluate_now() -> None:
        window.tabs.setCurrentWidget(panel)
        panel.evaluate()

    action = QAction("Evaluate Model", window)
    action.setObjectName("evaluateModelAction")
    action.setStatusTip("Test the current model on the dataset's test images")
    action.triggered.connect(evaluate_now)
    window.menus["Train"].addAction(action)
    return panel
