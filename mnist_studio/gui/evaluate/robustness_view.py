"""Four small plots: accuracy against rotation, shift, noise and stroke thickness, with the undamaged accuracy as
a dashed reference line and, under each plot, one test image damaged at each strength, so "noise 0.3" or
"thickness −2" means something at a glance. The numbers come from mnist_studio.training.robustness."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from mnist_studio.gui.images import gray_pixmap
from mnist_studio.training.robustness import SWEEPS, RobustnessReport, damage

CURVE = "#1f77b4"


class RobustnessPlot(QWidget):
    def __init__(self, sweep, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sweep = sweep
        self.plot = pg.PlotWidget()
        self.plot.setObjectName(f"robustness_{sweep.name}")
        self.plot.setBackground("w")
        self.plot.setTitle(sweep.title, color="#222", size="11pt")
        self.plot.setLabel("bottom", sweep.unit)
        self.plot.setLabel("left", "accuracy (%)")
        for axis in ("bottom", "left"):
            self.plot.getAxis(axis).enableAutoSIPrefix(False)  # "sigma (x0.001)" helps nobody
        self.plot.setYRange(0, 100, padding=0.02)
        self.plot.setXRange(min(sweep.values), max(sweep.values), padding=0.05)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setMinimumHeight(140)
        self.curve = self.plot.plot([], [], pen=pg.mkPen(CURVE, width=2), symbol="o", symbolSize=6,
                                    symbolBrush=CURVE, symbolPen=None)
        self.reference = pg.InfiniteLine(angle=0, pen=pg.mkPen("#888", width=1, style=Qt.PenStyle.DashLine))
        self.reference.setVisible(False)
        self.plot.addItem(self.reference)
        self.examples = QHBoxLayout()
        self.examples.setSpacing(2)
        self._example_labels: list[QLabel] = []
        for v in sweep.values:
            lab = QLabel()
            lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
            lab.setToolTip(f"{sweep.title} {v:g}")
            self._example_labels.append(lab)
            self.examples.addWidget(lab)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addLayout(self.examples)

    def set_curve(self, values: np.ndarray, accuracy: np.ndarray, plain: float | None) -> None:
        done = ~np.isnan(accuracy)
        self.curve.setData(np.asarray(values)[done], 100 * np.asarray(accuracy)[done])
        self.reference.setVisible(plain is not None)
        if plain is not None:
            self.reference.setValue(100 * plain)

    def set_example(self, image: np.ndarray | None) -> None:
        for lab, v in zip(self._example_labels, self.sweep.values):
            if image is None:
                lab.clear()
            else:
                lab.setPixmap(gray_pixmap(damage(image[None], self.sweep.name, v)[0], 36))


class RobustnessView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("robustnessPlots")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.plots = {s.name: RobustnessPlot(s) for s in SWEEPS}
        for i, p in enumerate(self.plots.values()):
            grid.addWidget(p, i // 2, i % 2)
        self.report: RobustnessReport | None = None

    def show_report(self, report: RobustnessReport | None) -> None:
        self.report = report
        for name, p in self.plots.items():
            if report is None or name not in report.curves:
                p.set_curve(np.zeros(0), np.zeros(0), None)
            else:
                c = report.curves[name]
                p.set_curve(c.values, c.accuracy, report.plain_accuracy)

    def set_example(self, image: np.ndarray | None) -> None:
        for p in self.plots.values():
            p.set_example(image)
