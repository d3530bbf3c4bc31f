"""The Dataset tab (issue 5): samples, class counts and mean images of the dataset in use, and switching to
another IDX dataset folder or back to the embedded MNIST.

``install(window)`` adds the tab and two File menu actions; a sample sent to the drawing pad switches to the Draw
tab (found by its text, so this package never imports the drawing panel).
"""

from __future__ import annotations

from PyQt6.QtGui import QAction

from mnist_studio.gui.dataset.panel import DatasetPanel

__all__ = ["DatasetPanel", "install"]


def _show_tab(tabs, text: str) -> None:
    for i in range(tabs.count()):
        if tabs.tabText(i).replace("&", "") == text:
            tabs.setCurrentIndex(i)
            return


def install(window) -> DatasetPanel:
    panel = DatasetPanel(window.session)
    window.tabs.addTab(panel, "Dataset")
    window.dataset_panel = panel
    panel.inspected.connect(lambda: _show_tab(window.tabs, "Draw"))

    open_action = QAction("Open Dataset Folder…", window)
    open_action.setObjectName("openDatasetAction")
    open_action.setStatusTip("Train and evaluate on another dataset in MNIST's IDX format (Fashion-MNIST, KMNIST)")
    open_action.triggered.connect(panel.open_dialog)
    embedded_action = QAction("Use Embedded MNIST", window)
    embedded_action.setObjectName("embeddedMnistAction")
    embedded_action.setStatusTip("Go back to the MNIST digits that come with the studio")
    embedded_action.triggered.connect(panel.use_embedded)
    window.menus["File"].addSeparator()
    window.menus["File"].addAction(open_action)
    window.menus["File"].addAction(embedded_action)
    return panel
