"""The Draw tab: draw a digit or drop a picture; see the preprocessing, the answer, and why (issue 4).

``install(window)`` adds the tab and File > Classify Image…, and connects the panel to the session's
modelChanged / weightsUpdated / inspectImage signals (inside :class:`DrawPanel`).
"""

from __future__ import annotations

from PyQt6.QtGui import QAction

from mnist_studio.gui.draw.panel import DrawPanel

__all__ = ["DrawPanel", "install"]


def install(window) -> DrawPanel:
    panel = DrawPanel(window.session)
    window.tabs.addTab(panel, "Draw")
    window.draw_panel = panel

    def classify_image() -> None:
        window.tabs.setCurrentWidget(panel)
        panel.open_image_dialog()

    action = QAction("Classify Image…", window)
    action.setObjectName("classifyImageAction")
    action.setStatusTip("Read the digits in a picture file with the current model")
    action.triggered.connect(classify_image)
    window.menus["File"].addAction(action)

    def show_inspected(_image, _caption) -> None:  # the one "show in Draw tab": any panel calls session.inspect
        window.tabs.setCurrentWidget(panel)

    window.session.inspectImage.connect(show_inspected)
    return panel
