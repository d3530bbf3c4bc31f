"""The layer-stack designer: a left dock to build the network, with a Presets menu and Open/Save architecture."""

from __future__ import annotations

from PyQt6.QtCore import Qt

from mnist_studio.gui.designer.panel import DesignerPanel

DOCK_WIDTH = 360


def install(window) -> DesignerPanel:
    panel = DesignerPanel(window.session)
    dock = window.add_dock(panel, "Architecture", Qt.DockWidgetArea.LeftDockWidgetArea, "designerDock")
    window.resizeDocks([dock], [DOCK_WIDTH], Qt.Orientation.Horizontal)
    panel.install_menus(window)
    return panel


__all__ = ["DesignerPanel", "install"]
