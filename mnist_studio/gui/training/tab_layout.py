"""The training tab's widgets and their layout (the behaviour is in :mod:`panel`): the banners, the curves with the
test strip under them, and the weights view, in a splitter; the controls live in their dock."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from mnist_studio.gui.training.banner import Banner
from mnist_studio.gui.training.controls import TrainingControls
from mnist_studio.gui.training.digit_strip import DigitStrip
from mnist_studio.gui.training.plots import TrainingPlots
from mnist_studio.gui.training.weights_view import WeightsView


def build_training_tab(panel, session) -> None:
    """Make the panel's widgets as its attributes (``controls``, ``plots``, ``strip``, ``weights``, ``banner``,
    ``notice``, ``tab``) and lay the tab out."""
    panel.controls = TrainingControls()
    panel.plots = TrainingPlots()
    panel.strip = DigitStrip(session)
    panel.weights = WeightsView(probe=panel._probe_images)
    panel.banner = Banner()
    # what Start and "+1 epoch" will do when the model shown is not the designer's network (see _update_notice)
    panel.notice = Banner(name="modelNotice")
    panel.tab = QWidget()
    panel.tab.setObjectName("trainingTab")
    curves = QWidget()  # the curves with the test strip under them
    curves_lay = QVBoxLayout(curves)
    curves_lay.setContentsMargins(0, 0, 0, 0)
    curves_lay.setSpacing(2)
    curves_lay.addWidget(panel.plots, 1)
    curves_lay.addWidget(panel.strip)
    split = QSplitter(Qt.Orientation.Vertical)
    split.addWidget(curves)
    split.addWidget(panel.weights)
    split.setStretchFactor(0, 11)
    split.setStretchFactor(1, 9)
    split.setChildrenCollapsible(False)
    lay = QVBoxLayout(panel.tab)
    lay.setContentsMargins(6, 6, 6, 4)
    lay.addWidget(panel.banner)
    lay.addWidget(panel.notice)
    lay.addWidget(split, 1)
