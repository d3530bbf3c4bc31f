"""The Dataset tab (issue 5): samples, class counts and mean images of the dataset in use, and switching to
another IDX dataset folder or back to the embedded MNIST.

``install(window)`` adds the tab and two File menu actions. A sample sent to the drawing pad goes through
``session.inspect``; the Draw tab comes forward by itself.
"""

from __future__ import annotations

from PyQt6.QtGui import QAction

from mnist_studio.gui.dataset.panel import DatasetPanel

__all__ = ["DatasetPanel", "install"]


def install(window) -> DatasetPanel:
    panel = DatasetPanel(window.session)
    window.tabs.addTab(panel, "Dataset")
    window.dataset_panel = panel

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
