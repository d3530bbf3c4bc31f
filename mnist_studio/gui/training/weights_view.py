"""The weights view (``weightsView``): what each layer has learned, live.

The first Dense layer after the input shows one 28×28 tile per unit (the pattern that excites it), a convolution
its kernels, a deeper Dense layer its matrix; all on a diverging colour map centred on zero (blue negative, red
positive) with a colour bar. Beside it, the selected layer's weight histogram and a table of every layer's weight
and gradient norms and its ReLU's share of dead units. The numbers come from ``studio.weights``; during training
they are computed in the worker thread and arrive with each snapshot.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (QAbstractItemView, QComboBox, QGraphicsItem, QHBoxLayout, QHeaderView, QLabel, QSplitter,
                             QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from mnist_studio.gui.labels import ElidedLabel, WrappedLabel
from mnist_studio.gui.training.plots_layout import StickyYRange, cache_axes
from mnist_studio.nn.model import Model
from mnist_studio.studio.weights import (LayerStats, WeightPicture, input_dense_index, layer_label, layer_stats,
                                        picture_channels, picture_layers, weight_picture)

MAX_TILES = 64  # 8×8 tiles stay legible in a panel a few hundred pixels wide
DIVERGING = pg.ColorMap(
    pos=[0.0, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0],
    color=[(5, 48, 97), (33, 102, 172), (146, 197, 222), (247, 247, 247), (244, 165, 130), (178, 24, 43),
           (103, 0, 31)],
)  # ColorBrewer RdBu, reversed: negative blue, zero white, positive red


def _item(text: str, tip: str = "", align_right: bool = True) -> QTableWidgetItem:
    it = QTableWidgetItem(text)
    if align_right:
        it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if tip:
        it.setToolTip(tip)
    return it


class WeightsView(QWidget):
    def __init__(self, probe: Callable[[], np.ndarray] | None = None, parent: QWidget | None = None) -> None:
        """``probe`` gives a few images for counting dead ReLU units of a model that is not training."""
        super().__init__(parent)
        self.setObjectName("weightsView")
        self._probe = probe
        self.model: Model | None = None
        self.stats: LayerStats | None = None
        self.picture: WeightPicture | None = None
        self._layers: list[int] = []
        self._stale = False  # weights or statistics changed while the view was hidden
        self._image_shape: tuple[int, int] | None = None

        self.layer_combo = QComboBox()
        self.layer_combo.setObjectName("weightsLayerCombo")
        self.layer_combo.setToolTip("Which layer's weights to draw")
        self.layer_combo.setMinimumContentsLength(16)
        self.channel_combo = QComboBox()
        self.channel_combo.setObjectName("weightsChannelCombo")
        self.channel_combo.setToolTip("A convolution with several input channels has one kernel slice per input "
                                      "channel: show their mean, or one of them")
        self.source_label = ElidedLabel()
        self.source_label.setObjectName("weightsSourceLabel")
        self.source_label.setStyleSheet("color: #555;")
        title = QLabel("<b>Weights</b>")
        head = QHBoxLayout()
        head.setContentsMargins(4, 0, 4, 0)
        head.addWidget(title)
        head.addWidget(self.layer_combo)
        head.addWidget(self.channel_combo)
        head.addWidget(self.source_label, 1)

        # the picture, with its colour bar
        self.image_widget = pg.GraphicsLayoutWidget()
        self.image_widget.setObjectName("weightsImage")
        self.image_plot = self.image_widget.addPlot()
        self.image_plot.hideAxis("left")
        self.image_plot.hideAxis("bottom")
        self.image_plot.setMenuEnabled(False)
        self.image_plot.invertY(True)
        self.image_plot.setMouseEnabled(x=True, y=True)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.image_plot.addItem(self.image_item)
        self.colorbar = pg.ColorBarItem(values=(-1, 1), colorMap=DIVERGING, interactive=False, width=14,
                                        colorMapMenu=False, rounding=1e-4)
        self.colorbar.setImageItem(self.image_item, insert_in=self.image_plot)
        self.colorbar.axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.image_widget.setMinimumSize(180, 150)
        self.note = WrappedLabel()
        self.note.setObjectName("weightsNote")
        self.note.setStyleSheet("color: #555;")
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.image_widget, 1)
        ll.addWidget(self.note)

        # histogram and per-layer table
        self.histogram = pg.PlotWidget()
        self.histogram.setObjectName("weightsHistogram")
        hp = self.histogram.getPlotItem()
        hp.setTitle("Weight distribution", size="10pt")
        hp.setLabel("bottom", "weight value")
        hp.setLabel("left", "count")
        hp.showGrid(x=True, y=True, alpha=0.15)
        hp.getAxis("bottom").enableAutoSIPrefix(False)
        cache_axes(hp)
        self.hist_item = hp.plot(stepMode="center", fillLevel=0, brush=(31, 119, 180, 110),
                                 pen=pg.mkPen((31, 119, 180), width=1.2))
        hp.addItem(pg.InfiniteLine(pos=0, angle=90, pen=pg.mkPen((120, 120, 120), style=Qt.PenStyle.DotLine)))
        self.histogram.setMinimumSize(170, 120)
        self._hist_range = StickyYRange(hp)
        self._hist_x: tuple[float, float] | None = None
        self._hist_title = "Weight distribution"

        self.table = QTableWidget(0, 4)
        self.table.setObjectName("layerStatsTable")
        self.table.setHorizontalHeaderLabels(["Layer", "‖W‖", "‖∇W‖", "Dead ReLU"])
        header_tips = ["Weighted layers in order", "L2 norm of the weights: grows as the layer learns",
                       "L2 norm of the last batch's gradient: near zero means the layer has stopped learning "
                       "(vanishing gradients), huge means trouble",
                       "Share of the following ReLU's units that gave 0 for every probe image: they pass back no "
                       "gradient and no longer learn"]
        for i, tip in enumerate(header_tips):
            self.table.horizontalHeaderItem(i).setToolTip(tip)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in (1, 2, 3):  # as wide as their numbers: the layer's name keeps the rest in a narrow window
            hh.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setAlternatingRowColors(True)
        self.table.itemSelectionChanged.connect(self._on_table_select)

        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.histogram)
        right.addWidget(self.table)
        right.setSizes([200, 160])
        body = QSplitter(Qt.Orientation.Horizontal)
        body.addWidget(left)
        body.addWidget(right)
        body.setSizes([500, 500])
        body.setChildrenCollapsible(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 4, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(head)
        lay.addWidget(body, 1)

        self.layer_combo.currentIndexChanged.connect(self._on_layer)
        self.channel_combo.currentIndexChanged.connect(lambda _: self.redraw())
        self.set_model(None)

    # -- input -----------------------------------------------------------------------------------------------------
    def set_model(self, model: Model | None, source: str = "", compute_stats: bool = True,
                  count_dead: bool = False) -> None:
        """Show ``model`` (a new run's copy, a loaded file, or an untrained preview). Keeps the selected layer when
        the architecture is the same. ``compute_stats``: work out the layer statistics here (a model that is not
        training; a training run sends its own); ``count_dead`` also runs the probe images through it."""
        keep = self.current_layer() if self.model is not None and model is not None and \
            self.model.spec.get("layers") == model.spec.get("layers") else None
        self.model = model
        self.source_label.setText(source)
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        self._layers = picture_layers(model) if model is not None else []
        for i in self._layers:
            self.layer_combo.addItem(layer_label(model, i), i)
        if self._layers:
            default = keep if keep in self._layers else self._default_layer(model)
            self.layer_combo.setCurrentIndex(self._layers.index(default))
        self.layer_combo.blockSignals(False)
        self.layer_combo.setEnabled(bool(self._layers))
        self._update_channels()
        self.stats = None
        if model is not None and compute_stats:
            probe = self._probe() if self._probe is not None and count_dead else None
            self.stats = layer_stats(model, probe)
        self.redraw()
        self._fill_table()

    def refresh(self, model: Model | None = None) -> None:
        """The same model's weights changed (a training snapshot): redraw the picture, now if the view is on
        screen, else when it is shown (a hidden tab costs the trainer nothing)."""
        if model is not None and model is not self.model:
            self.set_model(model, self.source_label.text(), compute_stats=False)
            return
        if self.isVisible():
            self.redraw()
        else:
            self._stale = True

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self.redraw()
            self._fill_table()

    def set_stats(self, stats: LayerStats, draw: bool = True) -> None:
        """New layer statistics; ``draw=False`` only keeps them (a redraw about to follow draws them)."""
        self.stats = stats
        if not draw:
            return
        if not self.isVisible():
            self._stale = True
            return
        self._draw_histogram()
        self._fill_table()

    def fill_table(self) -> None:
        """The statistics table, now if the view is on screen (else when it is shown)."""
        if self.isVisible():
            self._fill_table()
        else:
            self._stale = True

    def current_layer(self) -> int | None:
        return self.layer_combo.currentData()

    def select_layer(self, index: int) -> None:
        if index in self._layers:
            self.layer_combo.setCurrentIndex(self._layers.index(index))

    # -- drawing ---------------------------------------------------------------------------------------------------
    @staticmethod
    def _default_layer(model: Model) -> int:
        dense = input_dense_index(model)
        return dense if dense is not None else picture_layers(model)[0]

    def _update_channels(self) -> None:
        self.channel_combo.blockSignals(True)
        self.channel_combo.clear()
        idx = self.current_layer()
        cin = picture_channels(self.model, idx) if self.model is not None and idx is not None else 1
        if cin > 1:
            self.channel_combo.addItem("mean of input channels", None)
            for c in range(cin):
                self.channel_combo.addItem(f"input channel {c + 1}", c)
        self.channel_combo.blockSignals(False)
        self.channel_combo.setVisible(cin > 1)

    def redraw(self) -> None:
        idx = self.current_layer()
        if self.model is None or idx is None:
            self.picture = None
            self.image_item.setImage(np.full((28, 28), np.nan, dtype=np.float32), autoLevels=False)
            self.note.setText("No weights to show: this architecture has no weighted layer." if self.model else
                              "No model yet: press Start, or open a trained model.")
            self.hist_item.setData([0.0, 1.0], [0])
            return
        pic = weight_picture(self.model, idx, MAX_TILES, self.channel_combo.currentData())
        self.picture = pic
        self.image_item.setImage(pic.image, autoLevels=False)
        if self.colorbar.levels() != (-pic.limit, pic.limit):  # (re-setting the same levels re-renders the bar)
            self.colorbar.setLevels((-pic.limit, pic.limit))
        else:
            self.image_item.setLevels((-pic.limit, pic.limit))
        self.image_plot.setAspectLocked(pic.tile_shape is not None)
        h, w = pic.image.shape
        if self._image_shape != (h, w):
            self._image_shape = (h, w)
            self.image_plot.setRange(xRange=(0, w), yRange=(0, h), padding=0.02)
        self.note.setText(f"{pic.note} · colour: blue negative, white 0, red positive (±{pic.limit:.3g})")
        self._draw_histogram()

    def _draw_histogram(self) -> None:
        idx = self.current_layer()
        ws = self.stats.weight(idx) if self.stats is not None and idx is not None else None
        hp = self.histogram.getPlotItem()
        if ws is None:
            self.hist_item.setData([0.0, 1.0], [0])
            self._set_hist_title("Weight distribution")
            return
        self.hist_item.setData(ws.edges, ws.counts)
        lo, hi = float(ws.edges[0]), float(ws.edges[-1])
        # the x range moves only when the weights leave it or fill less than half of it: a new range redraws the
        # axis, which a snapshot a second while training would otherwise do every time
        old = self._hist_x
        if old is None or lo < old[0] or hi > old[1] or (hi - lo) < 0.5 * (old[1] - old[0]):
            pad = 0.1 * max(hi - lo, 1e-12)
            self._hist_x = (lo - pad, hi + pad)
            hp.setXRange(*self._hist_x, padding=0)
        self._hist_range.update(0.0, float(ws.counts.max()) if ws.counts.size else 1.0)
        self._set_hist_title(f"Weights of {ws.label}")

    def _set_hist_title(self, text: str) -> None:
        if text != self._hist_title:  # (a new title is a new text layout: not every snapshot)
            self._hist_title = text
            self.histogram.getPlotItem().setTitle(text, size="10pt")

    def _fill_table(self) -> None:
        s = self.stats
        rows = s.weights if s is not None else []
        self.table.blockSignals(True)
        self.table.setRowCount(len(rows))
        for r, ws in enumerate(rows):
            self.table.setItem(r, 0, _item(ws.label, f"{ws.param} {'×'.join(map(str, ws.shape))}", align_right=False))
            self.table.setItem(r, 1, _item(f"{ws.weight_norm:.3g}"))
            self.table.setItem(r, 2, _item(f"{ws.grad_norm:.3g}" if ws.grad_norm > 0 else "—",
                                           "" if ws.grad_norm > 0 else "no gradient yet (not trained in this session)"))
            dead = s.dead_after(ws.index)
            if dead is None:
                self.table.setItem(r, 3, _item("", "no ReLU follows this layer"))
            else:
                it = _item(f"{dead.share:.0%}", f"{dead.dead} of {dead.units} units of ReLU layer {dead.index + 1} "
                                                  "were 0 for every probe image")
                if dead.share >= 0.25:
                    it.setForeground(pg.mkColor("#b3261e"))
                self.table.setItem(r, 3, it)
            if ws.index == self.current_layer():
                self.table.selectRow(r)
        self.table.blockSignals(False)

    def _on_layer(self, _: int) -> None:
        self._update_channels()
        self.redraw()
        self._fill_table()

    def _on_table_select(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows and self.stats is not None and rows[0].row() < len(self.stats.weights):
            self.select_layer(self.stats.weights[rows[0].row()].index)
