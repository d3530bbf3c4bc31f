"""The Draw tab: draw a digit or drop a picture; see the preprocessing, the answer, and why (issue 4).

``install(window)`` adds the tab and File > Classify Image…, and connects the panel to the session's
modelChanged / weightsUpdated / inspectImage signals (inside :class:`DrawPanel`). A picture read (File > Classify
Image… or a file dropped on the pad) opens the Classify Image window (:class:`PictureWindow`): the picture with
the digits boxed and answered, the reading's stages; a click on a digit opens it in the pad.
"""

from __future__ import annotations

from PyQt6.QtGui import QAction

from mnist_studio.gui.draw.panel import DrawPanel
from mnist_studio.gui.draw.picture_view import PictureWindow

__all__ = ["DrawPanel", "PictureWindow", "install"]


def install(window) -> DrawPanel:
    panel = DrawPanel(window.session)
    window.tabs.addTab(panel, "Draw")
    window.draw_panel = panel
    window.close_hooks.append(panel.teach.shutdown)  # the teaching thread must not outlive the window

    def classify_image() -> None:
        window.tabs.setCurrentWidget(panel)
        panel.open_image_dialog()

    action = QAction("Classify Image…", window)
    action.setObjectName("classifyImageAction")
    action.setStatusTip("Read the digits in a picture file with the current model")
    action.triggered.connect(classify_image)
    window.menus["File"].addAction(action)

    picture = PictureWindow(window)
    window.picture_window = picture

    def show_picture(shown) -> None:
        picture.show_picture(shown)
        if not picture.isVisible():
            screen = window.screen().availableGeometry()
            picture.resize(min(900, screen.width() - 80), min(640, screen.height() - 80))
            picture.show()
        picture.raise_()

    def open_digit(index: int) -> None:
        window.tabs.setCurrentWidget(panel)
        panel.select_picture_digit(index)
        window.raise_()

    panel.pictureRead.connect(show_picture)
    picture.digitClicked.connect(open_digit)

    def show_inspected(_image, _caption) -> None:  # the one "show in Draw tab": any panel calls session.inspect
        window.tabs.setCurrentWidget(panel)

    window.session.inspectImage.connect(show_inspected)
    return panel
