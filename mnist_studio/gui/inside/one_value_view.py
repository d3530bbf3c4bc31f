"""The "How one value is computed" dock's widgets (after CNN Explainer): a layer's output for the drawing, on which a
click picks one value, and that value taken apart.

For a convolution: the input patch under the kernel, the kernel, their element-wise products (one input channel at a
time when there are several), and the sum: ``Σ products + bias = value``, then what the activation after it makes of
it. For a Dense unit: the inputs that contribute most (input × weight), the rest summed, the bias, the value.
Only displays a :class:`~mnist_studio.nn.values.ValueExplanation` computed in the core.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (QComboBox, QFrame, QGridLayout, QHBoxLayout, QLabel, QScrollArea, QSizePolicy, QSpinBox,
                             QStackedWidget, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from mnist_studio.gui.inside.widgets import NumberGrid, caption
from mnist_studio.nn.values import ValueExplanation, describe_input

TOP = 10  # Dense: contributions listed
CELL = 24  # pixels per number in the grids (a 5×5 kernel: 121 px, two fit side by side in the dock)


def _symbol(text: str) -> QLabel:
    lab = QLabel(text)
    lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
    lab.setStyleSheet("font-size: 16px; color: #444;")
    return lab


def number(v: float) -> str:
    return f"{v:.4f}" if abs(v) < 100 else f"{v:.1f}"


class ConvTerms(QWidget):
    """patch × kernel = products, for one input channel, and the sum over all of them."""

    channelChanged = pyqtSignal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.patch = NumberGrid(signed=False, cell=CELL)
        self.patch.setObjectName("oneValuePatch")
        self.patch.setToolTip("The input under the kernel (zeros outside the image: the padding)")
        self.kernel = NumberGrid(signed=True, cell=CELL)
        self.kernel.setObjectName("oneValueKernel")
        self.kernel.setToolTip("The kernel's weights for this input channel")
        self.products = NumberGrid(signed=True, cell=CELL)
        self.products.setObjectName("oneValueProducts")
        self.products.setToolTip("input × weight, element by element")
        self.in_channel = QSpinBox()
        self.in_channel.setObjectName("oneValueInChannel")
        self.in_channel.setPrefix("input channel ")
        self.in_channel.setToolTip("The patch and kernel have a slice per input channel: which one to show")
        self.in_channel.valueChanged.connect(self.channelChanged.emit)
        self.channel_sum = QLabel("")
        self.channel_sum.setObjectName("oneValueChannelSum")
        self.channel_sum.setWordWrap(True)
        self.channel_sum.setStyleSheet("color: #555; font-size: 11px;")
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(3)
        grid.setVerticalSpacing(1)
        grid.addWidget(self.patch, 0, 0)
        grid.addWidget(_symbol("×"), 0, 1)
        grid.addWidget(self.kernel, 0, 2)
        grid.addWidget(caption("input patch"), 1, 0)
        grid.addWidget(caption("kernel"), 1, 2)
        grid.addWidget(_symbol("="), 2, 1)
        grid.addWidget(self.products, 2, 2)
        grid.addWidget(caption("products"), 3, 2)
        side = QVBoxLayout()
        side.addWidget(self.in_channel)
        side.addWidget(self.channel_sum, 1)
        grid.addLayout(side, 2, 0)
        grid.setColumnStretch(3, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(grid)

    def show_terms(self, e: ValueExplanation, channel: int) -> None:
        t = e.terms
        c = t.inputs.shape[-1]
        self.in_channel.blockSignals(True)
        self.in_channel.setRange(0, c - 1)
        self.in_channel.setValue(min(channel, c - 1))
        self.in_channel.blockSignals(False)
        self.in_channel.setVisible(c > 1)
        k = self.in_channel.value()
        prod = t.products
        self.patch.set_values(t.inputs[..., k])
        self.kernel.set_values(t.weights[..., k])
        self.products.set_values(prod[..., k])
        if c > 1:
            self.channel_sum.setText(f"channel {k}'s products sum to {number(float(prod[..., k].sum()))}; the value "
                                     f"sums all {c} channels' {prod[..., 0].size} products")
        else:
            self.channel_sum.setText("")


class DenseTerms(QTableWidget):
    """The inputs that contribute most to a Dense unit: where the input comes from, its value, its weight, the
    product."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 4, parent)
        self.setObjectName("oneValueContributions")
        self.setHorizontalHeaderLabels(["input", "value", "× weight", "= product"])
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.horizontalHeader().setStretchLastSection(True)
        self.setMinimumHeight(80)

    def show_terms(self, e: ValueExplanation, shape: tuple[int, ...]) -> None:
        top, _ = e.top_terms(TOP)
        inputs = e.terms.inputs.reshape(-1)
        weights = e.terms.weights.reshape(-1)
        prod = e.terms.products.reshape(-1)
        self.setRowCount(len(top))
        for row, i in enumerate(top):
            cells = (describe_input(shape, int(i)), number(float(inputs[i])), number(float(weights[i])),
                     number(float(prod[i])))
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if col == 3:
                    item.setForeground(pg.mkColor("#b3261e" if prod[i] > 0 else "#1f5fb4"))
                self.setItem(row, col, item)
        self.resizeColumnsToContents()


class OneValueView(QWidget):
    """The dock's widgets. ``valueClicked(index)`` gives the output position a click on the map picked."""

    valueClicked = pyqtSignal(tuple)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("oneValuePanel")
        self.layer_box = QComboBox()
        self.layer_box.setObjectName("oneValueLayer")
        self.layer_box.setToolTip("A layer whose values are weighted sums (a convolution or a Dense layer)")
        self.layer_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.layer_box.setMinimumContentsLength(12)
        self.channel = QSpinBox()
        self.channel.setObjectName("oneValueChannel")
        self.channel.setPrefix("map ")
        self.channel.setToolTip("Which of the layer's feature maps (output channels) to show")
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.layer_box, 1)
        top.addWidget(self.channel)
        self.status = QLabel("")
        self.status.setObjectName("oneValueStatus")
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #555; font-size: 11px;")

        self.map_view = pg.GraphicsLayoutWidget()
        self.map_view.setObjectName("oneValueMap")
        self.map_view.setMinimumSize(120, 90)
        self.map_view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.map_view.ci.setContentsMargins(0, 0, 0, 0)
        self.box = self.map_view.addViewBox(lockAspect=True, enableMouse=False, invertY=True, enableMenu=False)
        self.map_item = pg.ImageItem(axisOrder="row-major")
        self.box.addItem(self.map_item)
        self.mark = pg.ScatterPlotItem(size=11, symbol="s", pen=pg.mkPen("#00e0ff", width=2), brush=None, pxMode=True)
        self.box.addItem(self.mark)
        self._lut = pg.colormap.get("CET-D1A").getLookupTable(nPts=256)
        self.map_item.setLookupTable(self._lut)
        self.map_item.mouseClickEvent = self._on_map_click
        self.map_width = 1  # a Dense layer's units are laid out in rows of this many cells

        self.formula = QLabel("")
        self.formula.setObjectName("oneValueFormula")
        self.formula.setWordWrap(True)
        self.formula.setTextFormat(Qt.TextFormat.RichText)
        self.conv_terms = ConvTerms()
        self.dense_terms = DenseTerms()
        self.terms = QStackedWidget()
        self.terms.addWidget(self.conv_terms)
        self.terms.addWidget(self.dense_terms)
        # the terms scroll rather than squeeze (or force the window larger) when the dock is small
        self.terms_area = QScrollArea()
        self.terms_area.setObjectName("oneValueTerms")
        self.terms_area.setWidgetResizable(True)
        self.terms_area.setFrameShape(QFrame.Shape.NoFrame)
        self.terms_area.setWidget(self.terms)
        self.terms_area.setMinimumHeight(100)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.setSpacing(3)
        outer.addLayout(top)
        outer.addWidget(self.status)
        outer.addWidget(self.map_view, 2)
        outer.addWidget(self.terms_area, 3)
        outer.addWidget(self.formula)

    # -- the map ---------------------------------------------------------------------------------------------------
    def show_map(self, picture: np.ndarray | None, width: int = 1) -> None:
        """A conv layer's feature map (H×W), or a Dense layer's units in rows of ``width`` (NaN pads the last)."""
        self.map_width = width
        if picture is None:
            self.map_item.clear()
            self.mark.setData([], [])
            return
        top = float(np.nanmax(np.abs(picture))) if np.isfinite(picture).any() else 0.0
        self.map_item.setImage(np.nan_to_num(picture), levels=(-top, top) if top > 0 else (-1, 1))
        self.box.autoRange(padding=0.02)

    def show_mark(self, row: int | None, col: int | None) -> None:
        if row is None:
            self.mark.setData([], [])
        else:
            self.mark.setData(x=[col + 0.5], y=[row + 0.5])

    def _on_map_click(self, event) -> None:
        img = self.map_item.image
        if img is None:
            return
        pos = event.pos()
        r, c = int(np.floor(pos.y())), int(np.floor(pos.x()))
        if 0 <= r < img.shape[0] and 0 <= c < img.shape[1]:
            event.accept()
            self.valueClicked.emit((r, c))

    # -- the explanation -------------------------------------------------------------------------------------------
    def show_formula(self, e: ValueExplanation | None, what: str = "") -> None:
        if e is None:
            self.formula.setText("")
            return
        total = float(e.terms.products.sum())
        parts = [f"<b>{what}</b>: Σ {e.terms.products.size:,} products = {number(total)}",
                 f"+ bias {number(e.terms.bias)} = <b>{number(e.terms.value)}</b>"]
        if e.terms.products.ndim == 1:
            top, rest = e.top_terms(TOP)
            parts[0] = (f"<b>{what}</b>: top {len(top)} products {number(float(e.terms.products[top].sum()))} "
                        f"+ the other {e.terms.products.size - len(top):,} {number(rest)}")
        parts += [f"→ {name} → <b>{number(v)}</b>" for name, v in e.then]
        parts.append(f"<span style='color:#777'>(the network's own value: {number(e.activation)})</span>")
        self.formula.setText(" ".join(parts))
