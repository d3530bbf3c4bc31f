"""The Draw tab's widgets and how they are laid out (the behaviour is in :mod:`panel`).

Two columns over a full-width strip: [pad, stages] | [answer, bars, saliency] / activations. Sized for the central
area left between the studio's docks (about 800×780 px in a 1500×940 window), so everything is visible without
scrolling; in a narrower area the panel's ``resizeEvent`` shrinks the pad or stacks the columns.
"""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QBoxLayout, QComboBox, QHBoxLayout, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from mnist_studio.gui.draw.pad import DrawingPad
from mnist_studio.gui.draw.teach import TeachBox
from mnist_studio.gui.draw.answer import AnswerView
from mnist_studio.gui.draw.views import ActivationsView, PictureResults, SaliencyView, StageStrip
from mnist_studio.gui.labels import WrappedLabel, title_label

SALIENCY_MODES = {
    "gradient": "Gradient: where more ink would raise (red) or lower (blue) the answer's score",
    "gradient × input": "Gradient × input: which of the drawn pixels speak for (red) or against (blue) the answer",
    "occlusion": "Occlusion: how much the answer's probability drops when a 6×6 patch is hidden (slower; "
                 "updated at the end of each stroke)",
}
# what a PyTorch user may notice in the gradient maps (docs/coming-from-pytorch.md)
MAX_POOL_TIES = ("Max pooling sends the gradient to the first of exactly equal inputs (row-major), as PyTorch does; "
                 "values equal only mathematically can differ in the last bit after BLAS, so a gradient map may "
                 "light a neighbouring pixel instead of PyTorch's.")


def build_draw_panel(panel) -> None:
    """Make the Draw panel's widgets as attributes of ``panel`` and lay them out in it."""
    panel.pad = DrawingPad()
    panel.pad.setFixedSize(304, 304)
    clear = QPushButton("Clear")
    clear.setObjectName("clearButton")
    clear.setToolTip("Clear the pad (Delete, Escape or right-click on the pad)")
    clear.clicked.connect(panel.clear)
    undo = QPushButton("Undo stroke")
    undo.setObjectName("undoStrokeButton")
    undo.setToolTip("Remove the last stroke (Ctrl+Z on the pad)")
    undo.clicked.connect(panel.pad.undo)
    open_btn = QPushButton("Image…")
    open_btn.setObjectName("classifyImageButton")
    open_btn.setToolTip("Classify the digits in a picture file (or drop the file on the pad)")
    open_btn.clicked.connect(panel.open_image_dialog)
    buttons = QHBoxLayout()
    for b in (clear, undo, open_btn):
        buttons.addWidget(b)
    panel.clear_button, panel.undo_button, panel.open_button = clear, undo, open_btn
    panel.caption = WrappedLabel("")
    panel.caption.setObjectName("drawCaption")
    panel.caption.setStyleSheet("color: #555;")
    panel.stage_strip = StageStrip()

    left = QVBoxLayout()
    left.setSpacing(4)
    left.addWidget(title_label("Draw a digit"))
    left.addWidget(panel.pad)
    left.addLayout(buttons)
    panel.teach = TeachBox(panel)
    left.addWidget(panel.teach)
    left.addWidget(panel.caption)
    left.addWidget(title_label("What the network sees"))
    left.addWidget(panel.stage_strip)
    panel.results = PictureResults()
    panel.results.selected.connect(panel.select_picture_digit)
    panel.results_title = title_label("Digits in the picture (click one)")
    left.addWidget(panel.results_title)
    left.addWidget(panel.results)
    left.addStretch(1)
    left_box = QWidget()
    left_box.setLayout(left)
    left_box.setFixedWidth(panel.pad.width() + 12)
    panel._left_box = left_box
    left.setContentsMargins(0, 0, 0, 0)

    panel.answer = AnswerView()
    panel.model_label = WrappedLabel("")
    panel.model_label.setObjectName("drawModelLabel")
    panel.model_label.setStyleSheet("color: #555;")
    panel.answer.side.addWidget(panel.model_label)

    panel.saliency_view = SaliencyView()
    panel.saliency_mode = QComboBox()
    panel.saliency_mode.setObjectName("saliencyMode")
    for name, tip in SALIENCY_MODES.items():
        panel.saliency_mode.addItem(name)
        panel.saliency_mode.setItemData(panel.saliency_mode.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
    panel.saliency_mode.setToolTip("\n".join([*SALIENCY_MODES.values(), "", MAX_POOL_TIES]))
    panel.saliency_mode.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    panel.saliency_mode.setMinimumContentsLength(8)  # fits the narrow (1024 px window) answer column
    # index -1: the combo is being destroyed with the panel (its model cleared), nothing to refresh
    panel.saliency_mode.currentIndexChanged.connect(lambda i: panel.refresh(final=True) if i >= 0 else None)
    panel.saliency_help = WrappedLabel(SALIENCY_MODES["gradient"])
    panel.saliency_help.setToolTip(MAX_POOL_TIES)
    panel.saliency_help.setStyleSheet("color: #555; font-size: 11px;")
    head = QHBoxLayout()
    head.addWidget(title_label("Why: saliency"))
    head.addStretch(1)
    head.addWidget(panel.saliency_mode)

    right = QVBoxLayout()
    right.setSpacing(4)
    right.addWidget(title_label("The answer"))
    right.addWidget(panel.answer, 0)
    right.addLayout(head)
    right.addWidget(panel.saliency_view, 1)
    right.addWidget(panel.saliency_help)

    panel.activations = ActivationsView()

    top = QBoxLayout(QBoxLayout.Direction.LeftToRight)
    panel._top = top
    top.addWidget(left_box, 0)
    top.addSpacing(8)
    top.addLayout(right, 1)
    outer = QVBoxLayout(panel)
    outer.setContentsMargins(4, 6, 4, 6)
    outer.setSpacing(4)
    outer.addLayout(top, 0)
    outer.addWidget(title_label("Why: every layer's activations for this digit"))
    outer.addWidget(panel.activations, 1)
    panel.results.hide()
    panel.results_title.hide()
    panel.activations.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
