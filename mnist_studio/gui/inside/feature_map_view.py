"""The feature-space map's widgets and how a :class:`FeatureMap` is drawn in them; no worker, no session.

A scatter of test digits coloured by their true class (rings mark the ones the network misreads), the drawing as a
star that follows the pen, and below it the digit last clicked, with a button that sends it to the Draw tab.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from mnist_studio.gui.inside.widgets import CLASS_COLOURS, Picture
from mnist_studio.training.featuremap import FeatureMap

METHODS = {
    "PCA": "PCA: the two directions in which the digits' features vary most (a fixed linear map; the drawing is "
           "projected onto it exactly)",
    "t-SNE": "t-SNE: a layout that keeps each digit near its nearest neighbours in feature space (the first 2,000 "
             "digits; computed in the background, then kept; the drawing is placed among its nearest neighbours)",
}
SIZES = (2000, 5000)
POINT_SIZE = 5


class FeatureMapView(QWidget):
    """The dock's widgets. ``pointClicked(i)`` gives the position of a clicked point in the shown map's arrays."""

    pointClicked = pyqtSignal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("featureMapPanel")
        self.method = QComboBox()
        self.method.setObjectName("featureMapMethod")
        for name, tip in METHODS.items():
            self.method.addItem(name)
            self.method.setItemData(self.method.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.method.setToolTip("\n".join(METHODS.values()))
        self.size_box = QComboBox()
        self.size_box.setObjectName("featureMapSize")
        for n in SIZES:
            self.size_box.addItem(f"{n:,} digits", n)
        self.size_box.setToolTip("How many test digits are placed on the map (t-SNE uses at most 2,000)")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("featureMapRefresh")
        self.refresh_button.setToolTip("Compute the map for the current weights (during training it is not redone "
                                       "by itself: that would slow the training down)")
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.method)
        top.addWidget(self.size_box)
        top.addStretch(1)
        top.addWidget(self.refresh_button)
        self.status = QLabel("")
        self.status.setObjectName("featureMapStatus")
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #555; font-size: 11px;")

        self.plot = pg.PlotWidget()
        self.plot.setObjectName("featureMapPlot")
        self.plot.setMenuEnabled(False)
        self.plot.setMinimumSize(160, 140)
        self.plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        for side in ("left", "bottom"):
            self.plot.getAxis(side).setStyle(showValues=False)
        self.plot.getPlotItem().setContentsMargins(0, 0, 4, 0)
        self._brushes = [pg.mkBrush(c) for c in CLASS_COLOURS]
        self.points = pg.ScatterPlotItem(size=POINT_SIZE, pen=None, hoverable=True, tip=None)
        self.misread = pg.ScatterPlotItem(size=POINT_SIZE + 5, pen=pg.mkPen("#d00000", width=1.3), brush=None)
        self.chosen = pg.ScatterPlotItem(size=16, pen=pg.mkPen("#000", width=2), brush=None)
        self.marker = pg.ScatterPlotItem(size=20, symbol="star", pen=pg.mkPen("#fff", width=1.5),
                                         brush=pg.mkBrush("#111"))
        for item in (self.points, self.misread, self.chosen, self.marker):
            self.plot.addItem(item)
        self.misread.setZValue(1)
        self.chosen.setZValue(2)
        self.marker.setZValue(3)
        self.points.sigClicked.connect(self._on_clicked)

        legend = QHBoxLayout()
        legend.setSpacing(2)
        legend.setContentsMargins(0, 0, 0, 0)
        for d, colour in enumerate(CLASS_COLOURS):
            lab = QLabel(str(d))
            lab.setStyleSheet(f"color: {colour}; font-weight: bold;")
            lab.setToolTip(f"true class {d}")
            legend.addWidget(lab)
        ring = QLabel("○ misread")
        ring.setStyleSheet("color: #d00000; font-size: 11px;")
        star = QLabel("★ drawing")
        star.setStyleSheet("font-size: 11px;")
        legend.addSpacing(6)
        legend.addWidget(ring)
        legend.addWidget(star)
        legend.addStretch(1)

        self.picture = Picture(54, "The test digit you clicked on the map")
        self.picked = QLabel("Click a point to see its digit.")
        self.picked.setObjectName("featureMapPicked")
        self.picked.setWordWrap(True)
        self.picked.setStyleSheet("color: #555;")
        self.inspect_button = QPushButton("Show in Draw tab")
        self.inspect_button.setObjectName("featureMapInspect")
        self.inspect_button.setEnabled(False)
        side = QVBoxLayout()
        side.addWidget(self.picked, 1)
        side.addWidget(self.inspect_button, 0, Qt.AlignmentFlag.AlignLeft)
        bottom = QHBoxLayout()
        bottom.setContentsMargins(0, 0, 0, 0)
        bottom.addWidget(self.picture)
        bottom.addLayout(side, 1)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.setSpacing(3)
        outer.addLayout(top)
        outer.addWidget(self.status)
        outer.addWidget(self.plot, 1)
        outer.addLayout(legend)
        outer.addLayout(bottom)

    # -- drawing a map ---------------------------------------------------------------------------------------------
    def show_map(self, fmap: FeatureMap | None, keep_view: bool = False) -> None:
        if fmap is None:
            for item in (self.points, self.misread, self.chosen, self.marker):
                item.setData([], [])
            return
        xy = fmap.coords
        self.points.setData(x=xy[:, 0], y=xy[:, 1], brush=[self._brushes[c % 10] for c in fmap.labels],
                            data=np.arange(len(xy)))
        wrong = fmap.wrong
        self.misread.setData(x=xy[wrong, 0], y=xy[wrong, 1])
        if fmap.method == "PCA":
            share = fmap.projection.variance
            self.plot.setLabel("bottom", f"PC 1 ({share[0]:.0%} of the variance)")
            self.plot.setLabel("left", f"PC 2 ({share[1]:.0%})")
        else:
            self.plot.setLabel("bottom", "t-SNE 1")
            self.plot.setLabel("left", "t-SNE 2")
        if not keep_view:
            self.plot.enableAutoRange()

    def show_marker(self, xy: np.ndarray | None) -> None:
        if xy is None:
            self.marker.setData([], [])
        else:
            self.marker.setData(x=[float(xy[0])], y=[float(xy[1])])

    def show_chosen(self, xy: np.ndarray | None) -> None:
        self.chosen.setData([], []) if xy is None else self.chosen.setData(x=[float(xy[0])], y=[float(xy[1])])

    def _on_clicked(self, _item, points, _event=None) -> None:
        if len(points):
            self.pointClicked.emit(int(points[0].data()))
