"""The "What would make it a 3?" dock's widgets: the class to aim for, the drawing, the image as it changes (an
animation that ends on the final image), the change itself, and the chosen class's probability over the steps.

Only displays a :class:`~mnist_studio.training.counterfactual.Counterfactual` computed in the core.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (QComboBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSlider,
                             QVBoxLayout, QWidget)

from mnist_studio.gui.labels import scrolling_note
from mnist_studio.gui.inside.widgets import Picture, caption
from mnist_studio.training.counterfactual import STEP

# measured by benchmarks/counterfactual_steps.py (the README says how): keep the two in step
HELP = (f"Each step moves the image by {STEP:g} in pixel space (half a fully inked pixel) along the gradient of the "
        "chosen class's log-probability, with a small total-variation penalty (changes come as strokes, not noise) "
        "and a small pull back to your drawing; pixels stay in [0, 1]; it stops at 90 %. How many steps it usually "
        "takes, for a LeNet trained one epoch, from 30 test digits to each of the 9 other classes: a median of 7 to "
        "reach 50 % (half of them 6 to 9) and 10 to reach 90 % (7 to 13); 3 of the 270 did not reach 90 % in 60.")


class CounterfactualView(QWidget):
    SIDE = 84

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("counterfactualPanel")
        self.target = QComboBox()
        self.target.setObjectName("counterfactualTarget")
        for d in range(10):
            self.target.addItem(str(d), d)
        self.target.setCurrentIndex(3)
        self.target.setToolTip("The class the drawing is pushed toward")
        self.go_button = QPushButton("Show me")
        self.go_button.setObjectName("counterfactualGo")
        self.go_button.setToolTip("Compute the changes (also redone by itself when the drawing or the class "
                                  "changes while this panel is visible)")
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(QLabel("What would make it a"))
        top.addWidget(self.target)
        top.addWidget(QLabel("?"))
        top.addStretch(1)
        top.addWidget(self.go_button)

        self.status = QLabel("Draw a digit in the Draw tab.")
        self.status.setWordWrap(True)
        self.status.setObjectName("counterfactualStatus")
        self.status.setStyleSheet("color: #555; font-size: 11px;")

        self.original = Picture(self.SIDE, "Your drawing, as the network sees it")
        self.current = Picture(self.SIDE, "The image after the steps shown on the slider (plays once, then rests on "
                                          "the last step)")
        self.change = Picture(self.SIDE, "What changed: ink added in red, ink removed in blue")
        self.original_caption = caption("your drawing")
        self.current_caption = caption("after 0 steps")
        self.change_caption = caption("change")
        pics = QGridLayout()
        pics.setContentsMargins(0, 0, 0, 0)
        pics.setHorizontalSpacing(4)
        pics.setVerticalSpacing(1)
        for col, (pic, cap) in enumerate(((self.original, self.original_caption), (self.current, self.current_caption),
                                          (self.change, self.change_caption))):
            pics.addWidget(pic, 0, col)
            pics.addWidget(cap, 1, col)
        pics.setColumnStretch(3, 1)

        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("counterfactualStep")
        self.slider.setRange(0, 0)
        self.slider.setToolTip("Step through the changes")
        self.slider.valueChanged.connect(self.show_step)

        self.plot = pg.PlotWidget()
        self.plot.setObjectName("counterfactualPlot")
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.plot.setMinimumSize(150, 70)
        self.plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.plot.setYRange(0, 1, padding=0.04)
        self.plot.setLabel("left", "p(class)")
        # three labels, not six: the plot is about 60 px high in a 1024×700 window, where 0.2 … 1.0 ran together
        self.plot.getAxis("left").setTicks([[(0, "0"), (0.5, ".5"), (1, "1")], [(0.9, "")]])
        self.plot.setLabel("bottom", "step")
        self.plot.showGrid(y=True, alpha=0.25)
        for level in (0.5, 0.9):
            self.plot.addItem(pg.InfiniteLine(pos=level, angle=0, pen=pg.mkPen("#bbb", style=Qt.PenStyle.DashLine)))
        self.curve = self.plot.plot([], [], pen=pg.mkPen("#1f6fd1", width=2))
        self.cursor = pg.InfiniteLine(pos=0, angle=90, pen=pg.mkPen("#d08770"))
        self.plot.addItem(self.cursor)

        self.help = QLabel(HELP)
        self.help.setObjectName("counterfactualHelp")
        self.help.setStyleSheet("color: #666; font-size: 10px;")

        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.setSpacing(3)
        outer.addLayout(top)
        outer.addWidget(self.status)
        outer.addLayout(pics)
        outer.addWidget(self.slider)
        outer.addWidget(self.plot, 1)
        outer.addWidget(scrolling_note(self.help, lines=2))
        self.result = None

    # -- showing a result ------------------------------------------------------------------------------------------
    def show_result(self, result) -> None:
        """Show a Counterfactual (None: nothing to show); the slider is put on its last step."""
        self.result = result
        if result is None:
            for pic in (self.original, self.current, self.change):
                pic.show_gray(None)
            self.slider.setRange(0, 0)
            self.curve.setData([], [])
            self.current_caption.setText("after 0 steps")
            return
        self.original.show_gray(result.frames[0])
        self.change.show_signed(result.frames[-1] - result.frames[0], limit=1.0)
        self.curve.setData(np.arange(len(result.probability)), result.probability)
        self.plot.setXRange(0, max(1, result.steps), padding=0.02)
        self.slider.blockSignals(True)
        self.slider.setRange(0, result.steps)
        self.slider.setValue(result.steps)
        self.slider.blockSignals(False)
        self.show_step(result.steps)

    def show_step(self, k: int) -> None:
        r = self.result
        if r is None or not 0 <= k < len(r.frames):
            return
        self.current.show_gray(r.frames[k])
        self.current_caption.setText(f"after {k} step{'s' if k != 1 else ''}: {int(r.predicted[k])}")
        self.cursor.setValue(k)
