"""The drawing tab's views: the preprocessing stages, the answer, the saliency and the activations.

Each view only displays arrays that the core computed (mnist_studio.data.preprocess, mnist_studio.nn.explain, mnist_studio.studio.activations);
none of them does numerics of its own beyond mapping values to colours.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QIcon
from PyQt6.QtWidgets import QButtonGroup, QFrame, QGridLayout, QHBoxLayout, QLabel, QScrollArea, QToolButton, QWidget

from mnist_studio.gui.images import gray_pixmap
from mnist_studio.studio.activations import LayerGroup, activation_picture

DIVERGING = "CET-D1A"  # blue - white - red, for signed maps (saliency, signed activations)
SEQUENTIAL = "inferno"  # black - yellow, for non-negative activations


def _caption(text: str) -> QLabel:
    lab = QLabel(text)
    lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
    lab.setStyleSheet("color: #555; font-size: 11px;")
    return lab


class StageStrip(QWidget):
    """raw → cropped → 20 px → centred 28×28: the steps that turn a drawing into the network's input."""

    NAMES = ("drawn", "cropped", "20 px box", "28×28 input")
    SHORT_NAMES = ("drawn", "cropped", "20 px", "input")
    SIDE = 64

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stageStrip")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(3)
        grid.setVerticalSpacing(2)
        self.images: list[QLabel] = []
        self.captions: list[QLabel] = []
        for i, name in enumerate(self.NAMES):
            img = QLabel()
            img.setFixedSize(self.SIDE, self.SIDE)
            img.setAlignment(Qt.AlignmentFlag.AlignCenter)
            img.setStyleSheet("background: #101418; border: 1px solid #c8ccd0;")
            img.setToolTip(["What you drew, as ink", "Cut to the ink's bounding box",
                            "Longer side scaled to 20 px, the pen re-drawn at MNIST's stroke width",
                            "Placed in 28×28 with its centre of mass at the centre: exactly what the network "
                            "receives"][i])
            grid.addWidget(img, 0, 2 * i)
            caption = _caption(name)
            grid.addWidget(caption, 1, 2 * i)
            self.captions.append(caption)
            if i < len(self.NAMES) - 1:
                arrow = QLabel("→")
                arrow.setStyleSheet("color: #888;")
                grid.addWidget(arrow, 0, 2 * i + 1)
            self.images.append(img)
        grid.setColumnStretch(2 * len(self.NAMES), 1)

    def set_side(self, side: int) -> None:
        """Smaller tiles in a narrow Draw tab; the next drawing renders at the new size."""
        self.SIDE = side
        for img in self.images:
            img.setFixedSize(side, side)
        names = self.NAMES if side >= 64 else self.SHORT_NAMES
        for caption, name in zip(self.captions, names):
            caption.setText(name)

    def show_stages(self, stages) -> None:
        if stages is None:
            for lab in self.images:
                lab.clear()
            return
        for lab, img in zip(self.images, (stages.raw, stages.cropped, stages.scaled, stages.centred)):
            lab.setPixmap(gray_pixmap(img, self.SIDE - 2))


def _image_box(layout: pg.GraphicsLayout, title: str, row: int, col: int, colspan: int = 1):
    """A view box with a title, y pointing down, aspect locked, no mouse interaction; returns its ImageItem."""
    vb = layout.addViewBox(row=row, col=col, colspan=colspan, lockAspect=True, enableMouse=False,
                           invertY=True, enableMenu=False)
    vb.setDefaultPadding(0.02)
    item = pg.ImageItem(axisOrder="row-major")
    vb.addItem(item)
    return vb, item


class SaliencyView(pg.GraphicsLayoutWidget):
    """The 28×28 input and, beside it, which pixels drive the answer (diverging: red for, blue against)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("saliencyView")
        self.setMinimumSize(180, 150)
        self.setMaximumHeight(220)
        self.ci.setContentsMargins(2, 2, 2, 2)
        self.ci.addLabel("network input", row=0, col=0, size="9pt")
        self.map_label = self.ci.addLabel("saliency", row=0, col=1, size="9pt")
        self.input_box, self.input_item = _image_box(self.ci, "input", 1, 0)
        self.map_box, self.map_item = _image_box(self.ci, "saliency", 1, 1)
        self.input_item.setLookupTable(pg.colormap.get("CET-L1").getLookupTable(nPts=256))  # black → white
        self.map_item.setLookupTable(pg.colormap.get(DIVERGING).getLookupTable(nPts=256))
        self.saliency: np.ndarray | None = None
        self.reset_maps()

    def reset_maps(self) -> None:
        # (not ``clear``: GraphicsLayoutWidget binds ``clear`` to its layout's clear on the instance)
        self.saliency = None
        self.input_item.setImage(np.zeros((28, 28), np.float32), levels=(0, 1))
        self.map_item.setImage(np.zeros((28, 28), np.float32), levels=(-1, 1))

    def show_maps(self, image: np.ndarray, saliency: np.ndarray | None, title: str = "saliency") -> None:
        self.input_item.setImage(np.asarray(image, np.float32), levels=(0, 1))
        self.saliency = saliency
        self.map_label.setText(title, size="9pt")
        if saliency is not None:
            self.map_item.setImage(np.asarray(saliency, np.float32), levels=(-1, 1))
        else:
            self.map_item.setImage(np.zeros_like(image, dtype=np.float32), levels=(-1, 1))


class ActivationsView(pg.GraphicsLayoutWidget):
    """Every layer group's output for the current image: feature-map mosaics for conv/pool, heat strips for dense.

    Rebuilt when the architecture changes, then only image data changes (cheap enough for every stroke).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("activationsView")
        self.setMinimumHeight(150)
        self.groups: list[LayerGroup] = []
        self.items: list[pg.ImageItem] = []
        self.labels = []
        self._seq = pg.colormap.get(SEQUENTIAL).getLookupTable(nPts=256)
        self._div = pg.colormap.get(DIVERGING).getLookupTable(nPts=256)
        self.set_groups([])

    def set_groups(self, groups: list[LayerGroup]) -> None:
        self.clear()
        self.groups = list(groups)
        self.items, self.labels = [], []
        if not groups:
            self.ci.addLabel("Activations appear here once there is a model and a drawing.", row=0, col=0,
                             color="#666")
            return
        cols = len(groups) if len(groups) <= 3 else math.ceil(len(groups) / 2)  # two rows for deep models
        for i, g in enumerate(groups):
            r, c = divmod(i, cols)
            self.labels.append(self.ci.addLabel(g.title, row=2 * r, col=c, size="9pt"))
            _, item = _image_box(self.ci, g.title, 2 * r + 1, c)
            self.items.append(item)
            self.ci.layout.setRowStretchFactor(2 * r + 1, 1)

    def show_activations(self, activations: list[np.ndarray] | None) -> None:
        for g, item in zip(self.groups, self.items):
            if activations is None:
                item.clear()
                continue
            act = activations[g.last]
            pic = activation_picture(act)
            signed = bool(np.nanmin(pic) < 0) if np.isfinite(pic).any() else False
            item.setLookupTable(self._div if signed else self._seq)
            item.setImage(pic, levels=(-1, 1) if signed else (0, 1))


class PictureResults(QScrollArea):
    """A row of the digits found in a picture, each with its answer; clicking one shows it in the other views."""

    selected = pyqtSignal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pictureResults")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFixedHeight(104)
        self._inner = QWidget()
        self._row = QHBoxLayout(self._inner)
        self._row.setContentsMargins(0, 0, 0, 0)
        self.setWidget(self._inner)
        self.buttons: list[QToolButton] = []
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        self._group.idClicked.connect(self.selected.emit)

    def set_results(self, images: list[np.ndarray], probs: np.ndarray | None) -> None:
        for b in self.buttons:
            self._group.removeButton(b)
            b.deleteLater()
        self.buttons = []
        while self._row.count():
            self._row.takeAt(0)
        for i, img in enumerate(images):
            b = QToolButton()
            b.setCheckable(True)
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            pix = gray_pixmap(img, 56)
            b.setIcon(QIcon(pix))
            b.setIconSize(pix.size())
            if probs is not None:
                d = int(np.argmax(probs[i]))
                b.setText(f"{d}  ·  {float(probs[i][d]):.0%}")
                b.setToolTip(f"digit {i + 1}: read as {d} ({float(probs[i][d]):.0%})")
            else:
                b.setText("?")
            self._group.addButton(b, i)
            self._row.addWidget(b)
            self.buttons.append(b)
        self._row.addStretch(1)
        if self.buttons:
            self.buttons[0].setChecked(True)

    def answers(self) -> list[str]:
        return [b.text().split()[0] for b in self.buttons]
