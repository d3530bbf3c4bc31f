"""The weight-history tab's widgets and how a :class:`~mnist_studio.studio.history_heatmap.Heatmap` is drawn in them;
no session, no numbers of its own.

Above: which array (layer · weights or bias) and what of it (its values, or its gradient's magnitudes). In the
middle: the heatmap, training time to the right (epochs), the bins up, the count as colour (log scale; dark:
none). Below, on the same time axis: the share of each ReLU layer's units that are dead on the probe batch.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from mnist_studio.studio.history_heatmap import DeadCurve, Heatmap

KIND_ITEMS = (("Weights", "weights", "The array's values: equal bins on a range fixed from the initial weights "
                                     "(doubled, and the earlier samples re-binned, if the weights outgrow it)"),
              ("Gradient magnitudes", "gradients", "|gradient| of the batch before each sample, in octaves "
                                                   "(factor-2 bins) on a log axis; the bottom row is zero"))
CURVE_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
_CMAP = pg.colormap.get("inferno")
AXIS_WIDTH = 58  # both plots' left axes: their time axes line up


def _plot(name: str, min_height: int) -> pg.PlotWidget:
    plot = pg.PlotWidget()
    plot.setObjectName(name)
    plot.setBackground("w")
    plot.setMenuEnabled(False)
    plot.setMinimumHeight(min_height)
    plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
    plot.getPlotItem().setContentsMargins(0, 4, 8, 0)
    for side in ("left", "bottom"):
        plot.getAxis(side).setTextPen("#333")
        plot.getAxis(side).setPen("#888")
    plot.getAxis("left").setWidth(AXIS_WIDTH)
    return plot


class WeightHistoryView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("weightHistory")
        self.layer = QComboBox()
        self.layer.setObjectName("weightHistoryLayer")
        self.layer.setToolTip("Which trainable array: the layer (numbered as in the designer) and its weights (W), "
                              "bias (b) or BatchNorm scale and shift")
        self.layer.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.kind = QComboBox()
        self.kind.setObjectName("weightHistoryKind")
        for text, key, tip in KIND_ITEMS:
            self.kind.addItem(text, key)
            self.kind.setItemData(self.kind.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.kind.setToolTip("\n".join(tip for _, _, tip in KIND_ITEMS))
        self.source = QLabel("")
        self.source.setObjectName("weightHistorySource")
        self.source.setStyleSheet("color: #555;")
        self.source.setWordWrap(True)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(QLabel("Array:"))
        top.addWidget(self.layer)
        top.addWidget(self.kind)
        top.addStretch(1)

        self.plot = _plot("weightHistoryPlot", 220)
        self.image = pg.ImageItem(axisOrder="col-major")
        self.image.setColorMap(_CMAP)
        self.plot.addItem(self.image)
        self.plot.setLabel("bottom", "epoch")
        self.plot.getViewBox().setMouseEnabled(x=False, y=False)  # (a live redraw would undo a zoom every second)
        self.colour_bar = pg.ColorBarItem(colorMap=_CMAP, interactive=False, width=12, label="log10(1 + count)")
        self.colour_bar.setImageItem(self.image)
        bar = pg.GraphicsLayoutWidget()
        bar.setObjectName("weightHistoryColourBar")
        bar.setBackground("w")
        bar.addItem(self.colour_bar)
        self.colour_bar.axis.setTextPen("#333")
        self.colour_bar.axis.setPen("#888")
        bar.setFixedWidth(74)
        bar.setMinimumHeight(120)
        bar.setToolTip("Colour: how many values fall in the bin at that moment, on a log scale (black: none)")
        self.readout = QLabel(" ")
        self.readout.setObjectName("weightHistoryReadout")
        self.readout.setStyleSheet("color: #333; font-size: 11px;")
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        self.dead_plot = _plot("weightHistoryDead", 110)
        self.dead_plot.setLabel("left", "dead, %")
        self.dead_plot.setLabel("bottom", "epoch")
        self.dead_plot.setXLink(self.plot)
        self.dead_plot.setYRange(0, 100)
        self.dead_plot.getViewBox().setMouseEnabled(x=False, y=False)
        self.dead_plot.setToolTip("The share of each ReLU layer's units that give 0 for every probe image: they pass "
                                  "no gradient back, so they stop learning")
        self.dead_note = QLabel("")
        self.dead_note.setObjectName("weightHistoryDeadNote")
        self.dead_note.setWordWrap(True)
        self.dead_note.setStyleSheet("color: #555; font-size: 11px;")

        self.empty = QLabel("")
        self.empty.setObjectName("weightHistoryEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: #666; font-size: 13px;")

        grid = QGridLayout()  # the colour bar in a column of its own: both plots get the same width
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(2)
        grid.addWidget(self.plot, 0, 0)
        grid.addWidget(bar, 0, 1)
        grid.addWidget(self.readout, 1, 0, 1, 2)
        grid.addWidget(self.dead_plot, 2, 0)
        grid.setRowStretch(0, 3)
        grid.setRowStretch(2, 1)
        self.colour_bar_widget = bar
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.addLayout(top)
        lay.addWidget(self.source)
        lay.addWidget(self.empty, 1)
        lay.addLayout(grid, 1)
        lay.addWidget(self.dead_note)
        self._curves: list[pg.PlotDataItem] = []
        self.shown: Heatmap | None = None

    def show_empty(self, text: str) -> None:
        self.empty.setText(text)
        self.empty.show()
        self.shown = None
        self.image.clear()
        self.readout.setText(" ")
        self.show_dead([], "")
        for w in (self.plot, self.dead_plot, self.readout, self.dead_note, self.colour_bar_widget):
            w.hide()
        self.layer.setEnabled(False)
        self.kind.setEnabled(False)

    def show_heatmap(self, hm: Heatmap) -> None:
        self.empty.hide()
        for w in (self.plot, self.dead_plot, self.readout, self.colour_bar_widget):
            w.show()
        self.layer.setEnabled(True)
        self.kind.setEnabled(True)
        self.shown = hm
        top = float(hm.image.max()) if hm.image.size else 1.0
        self.image.setImage(hm.image, autoLevels=False, levels=(0.0, max(top, 1e-6)))
        self.colour_bar.setLevels((0.0, max(top, 1e-6)))
        self.image.setRect(QRectF(hm.x0, hm.y0, hm.x1 - hm.x0, hm.y1 - hm.y0))
        axis = self.plot.getAxis("left")
        axis.setTicks([hm.ticks] if hm.ticks is not None else None)
        self.plot.setLabel("left", hm.y_label)
        self.plot.setXRange(hm.x0, hm.x1, padding=0)
        self.plot.setYRange(hm.y0, hm.y1, padding=0)

    def show_dead(self, curves: list[DeadCurve], note: str) -> None:
        for c in self._curves:
            self.dead_plot.removeItem(c)
        self._curves = []
        keys = []
        for i, c in enumerate(curves):
            colour = CURVE_COLOURS[i % len(CURVE_COLOURS)]
            self._curves.append(self.dead_plot.plot(c.epochs, 100.0 * c.share, pen=pg.mkPen(colour, width=2),
                                                    symbol="o", symbolSize=5, symbolPen=None, symbolBrush=colour))
            # (the dots: where the units were counted; between them the line only joins the counts)
            keys.append(f"<span style='color:{colour}'>&#9632;</span>&nbsp;{c.label} ({c.units:,} units, "
                        f"{100 * c.share[-1]:.0f} % dead now)" if len(c.share) else c.label)
        self.dead_note.setText(("Dead ReLU units: " + " &nbsp; ".join(keys) + ". " if keys else "") + note)
        self.dead_note.setVisible(bool(note))
        self.dead_plot.setVisible(bool(curves))

    def curve_data(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The dead-share curves as drawn (x, y in %)."""
        return [c.getData() for c in self._curves]
