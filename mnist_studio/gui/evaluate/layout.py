"""The Evaluate tab's widgets, and how an evaluation is drawn into them; no state, no worker, no session.

:class:`EvaluateLayout` builds the tab: the Evaluate button, progress and summary line, the stale-results note, a
message page (shown while there are no results) and the results page (confusion matrix beside the per-class,
mistakes, threshold and robustness views). Its ``fill_*`` methods draw an :class:`Evaluation` into them. The
controller (:class:`~mnist_studio.gui.evaluate.panel.EvaluatePanel`) decides when.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (QComboBox, QHBoxLayout, QHeaderView, QLabel, QProgressBar, QPushButton, QSizePolicy,
                             QSlider, QStackedWidget, QTableWidget, QTableWidgetItem, QTabWidget,
                             QVBoxLayout, QWidget)

from mnist_studio.gui.evaluate.gallery import ImageGrid, scrolling
from mnist_studio.gui.evaluate.matrix import ConfusionMatrixView
from mnist_studio.gui.evaluate.robustness_view import RobustnessView
from mnist_studio.gui.labels import WrappedLabel, note_label, title_label
from mnist_studio.gui.tabs import ReflowSplitter
from mnist_studio.training.metrics import Evaluation
from mnist_studio.training.review import confident_mistakes, most_confused_with, threshold_summary

MISTAKES_SHOWN = 60
SUBSET_SIZES = (250, 500, 1000, 2000, 5000)
DEFAULT_SUBSET = 1000
THRESHOLDS = np.round(np.arange(0, 100) / 100, 2)
DEFAULT_THRESHOLD = 60  # percent: the studio's (session.threshold), the Draw tab's "not sure"
METRIC_COLUMNS = {  # header: its tooltip
    "Class": "",
    "Images": "How many test images have this class",
    "Precision": "Of the images the model called this class, the share that are",
    "Recall": "Of the images of this class, the share the model found",
    "F1": "The harmonic mean of precision and recall",
    "Confused with": "The class this one is most often mistaken for, and how many times",
}
MESSAGE_PAGE, RESULTS_PAGE = 0, 1


def percent(x: float) -> str:
    return f"{x:.1%}"


class EvaluateLayout(QWidget):
    """The whole tab's widgets. ``evaluation``, ``images`` and ``class_names`` are what the fill methods read."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("evaluatePanel")
        self.evaluation: Evaluation | None = None
        self.images = np.zeros((0, 28, 28), np.uint8)  # the test images the evaluation was made on
        self.class_names: tuple[str, ...] = tuple(str(d) for d in range(10))
        self.mistake_indices = np.zeros(0, np.int64)
        self._build()

    # -- building ------------------------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.evaluate_button = QPushButton("Evaluate")
        self.evaluate_button.setObjectName("evaluateButton")
        self.evaluate_button.setToolTip("Test the current model on every test image of the dataset")
        self.progress = QProgressBar()
        self.progress.setObjectName("evaluateProgress")
        self.progress.setMaximumWidth(220)
        self.progress.setFormat("testing %p%")
        self.progress.hide()
        self.summary = WrappedLabel("")
        self.summary.setObjectName("evaluationSummary")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.stale_label = WrappedLabel("")
        self.stale_label.setObjectName("staleNote")
        self.stale_label.setStyleSheet("color: #a35200; background: #fff4e0; border: 1px solid #f0c27b; "
                                       "border-radius: 3px; padding: 3px 6px;")
        self.stale_label.hide()
        top = QHBoxLayout()
        top.addWidget(self.evaluate_button)
        top.addWidget(self.progress)
        top.addWidget(self.summary, 1)

        self.message = WrappedLabel("")
        self.message.setObjectName("evaluateMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setStyleSheet("color: #444; font-size: 15px;")

        self.matrix = ConfusionMatrixView()
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(title_label("Confusion matrix"))
        lv.addWidget(note_label("Rows: the true class; columns: the model's answer. Click a cell to see its images."))
        lv.addWidget(self.matrix, 1)

        self.views = QTabWidget()
        self.views.setObjectName("evaluateViews")
        self.views.addTab(self._build_class_metrics(), "Per class")
        self.views.addTab(self._build_mistakes(), "Mistakes")
        self.views.addTab(self._build_threshold(), "Threshold")
        self.views.addTab(self._build_robustness(), "Robustness")

        splitter = ReflowSplitter(640)  # the matrix above the views when the central area is narrow
        splitter.addWidget(left)
        splitter.addWidget(self.views)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([1000, 1000])  # an even split whatever the panes' size hints say

        self.pages = QStackedWidget()
        self.pages.addWidget(self.message)
        self.pages.addWidget(splitter)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.stale_label)
        layout.addWidget(self.pages, 1)

    def _build_class_metrics(self) -> QWidget:
        self.class_table = QTableWidget(0, len(METRIC_COLUMNS))
        self.class_table.setObjectName("classMetricsTable")
        for c, (name, tip) in enumerate(METRIC_COLUMNS.items()):
            item = QTableWidgetItem(name)
            item.setToolTip(tip)
            self.class_table.setHorizontalHeaderItem(c, item)
        self.class_table.verticalHeader().hide()
        self.class_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.class_table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        header = self.class_table.horizontalHeader()
        for c in range(len(METRIC_COLUMNS)):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        w = QWidget()
        v = QVBoxLayout(w)
        v.addWidget(self.class_table, 1)
        v.addWidget(note_label("Precision: of the images the model called this class, the share that are. Recall: of "
                          "the images of this class, the share it found. F1: their harmonic mean."))
        return w

    def _build_mistakes(self) -> QWidget:
        self.mistakes = ImageGrid()
        self.mistakes.setObjectName("confidentMistakes")
        w = QWidget()
        v = QVBoxLayout(w)
        self.mistakes_note = note_label("")
        v.addWidget(self.mistakes_note)
        v.addWidget(scrolling(self.mistakes), 1)
        return w

    def _build_threshold(self) -> QWidget:
        self.threshold_slider = QSlider(Qt.Orientation.Horizontal)
        self.threshold_slider.setObjectName("thresholdSlider")
        self.threshold_slider.setRange(0, 99)
        self.threshold_slider.setValue(DEFAULT_THRESHOLD)
        self.threshold_slider.setToolTip("Only answer when the top probability is at least this high")
        self.threshold_slider.valueChanged.connect(self._on_threshold)
        self.threshold_label = QLabel(f"{DEFAULT_THRESHOLD} %")
        self.threshold_label.setMinimumWidth(48)
        self.coverage_sentence = WrappedLabel("")
        self.coverage_sentence.setObjectName("coverageSentence")
        f = self.coverage_sentence.font()
        f.setPointSizeF(f.pointSizeF() * 1.15)
        self.coverage_sentence.setFont(f)
        self.coverage_plot = pg.PlotWidget()
        self.coverage_plot.setObjectName("coveragePlot")
        self.coverage_plot.setBackground("w")
        self.coverage_plot.addLegend(offset=(10, -10))  # bottom left: the curves never go there
        self.coverage_plot.setLabel("bottom", "confidence threshold (%)")
        self.coverage_plot.setLabel("left", "share of the images (%)")
        self.coverage_plot.showGrid(x=True, y=True, alpha=0.25)
        self.coverage_plot.setXRange(0, 100, padding=0.01)
        self.coverage_plot.setMouseEnabled(x=False, y=False)
        self.coverage_plot.hideButtons()
        self.coverage_curve = self.coverage_plot.plot([], [], pen=pg.mkPen("#ff7f0e", width=2),
                                                      name="images answered")
        self.accuracy_curve = self.coverage_plot.plot([], [], pen=pg.mkPen("#1f77b4", width=2),
                                                      name="right among those answered")
        self.threshold_line = pg.InfiniteLine(DEFAULT_THRESHOLD, angle=90, movable=True,
                                              pen=pg.mkPen("#444", width=1.5, style=Qt.PenStyle.DashLine))
        self.threshold_line.setBounds((0, 99))
        self.threshold_line.sigPositionChanged.connect(
            lambda line: self.threshold_slider.setValue(int(round(line.value()))))
        self.coverage_plot.addItem(self.threshold_line)
        row = QHBoxLayout()
        row.addWidget(QLabel("Answer only when at least"))
        row.addWidget(self.threshold_slider, 1)
        row.addWidget(self.threshold_label)
        row.addWidget(QLabel("sure"))
        w = QWidget()
        v = QVBoxLayout(w)
        v.addLayout(row)
        v.addWidget(self.coverage_sentence)
        v.addWidget(self.coverage_plot, 1)
        v.addWidget(note_label("Raising the threshold makes the model say \"not sure\" more often and be right more "
                          "often when it does answer. Drag the dashed line or the slider."))
        return w

    def _build_robustness(self) -> QWidget:
        self.robustness_button = QPushButton("Compute robustness")
        self.robustness_button.setObjectName("robustnessButton")
        self.robustness_button.setToolTip("Measure accuracy on rotated, shifted, noisy, thinner and thicker "
                                          "copies of a subset of the test images")
        self.subset_combo = QComboBox()
        self.subset_combo.setObjectName("robustnessSubset")
        for n in SUBSET_SIZES:
            self.subset_combo.addItem(f"{n:,} test images", n)
        self.subset_combo.setCurrentIndex(SUBSET_SIZES.index(DEFAULT_SUBSET))
        self.subset_combo.setToolTip("More images: smoother curves, longer to compute")
        self.robustness_progress = QProgressBar()
        self.robustness_progress.setObjectName("robustnessProgress")
        self.robustness_progress.setMaximumWidth(200)
        self.robustness_progress.hide()
        self.robustness_status = note_label("")
        self.robustness_status.setObjectName("robustnessStatus")
        self.robustness_status.setMinimumHeight(2 * self.robustness_status.fontMetrics().lineSpacing() + 4)
        self.robustness_view = RobustnessView()
        row = QHBoxLayout()
        row.addWidget(self.robustness_button)
        row.addWidget(self.subset_combo)
        row.addWidget(self.robustness_progress)
        row.addStretch(1)
        w = QWidget()
        v = QVBoxLayout(w)
        v.addLayout(row)
        v.addWidget(self.robustness_status)
        v.addWidget(self.robustness_view, 1)
        return w

    # -- drawing an evaluation ----------------------------------------------------------------------------------------
    def fill_summary(self, ev: Evaluation, dataset_name: str, model_text: str) -> None:
        n = len(ev.labels)
        where = f" on {n:,} test images" + (f" of {dataset_name}" if dataset_name else "")
        self.summary.setText(
            f"<span style='font-size:17px'><b>Test accuracy {percent(ev.accuracy)}</b></span>"
            f"&nbsp;&nbsp; loss {ev.loss:.4f} &nbsp;·&nbsp; {n - int(np.trace(ev.confusion)):,} mistakes{where}"
            + (f" &nbsp;·&nbsp; {model_text}" if model_text else ""))

    def fill_class_table(self, ev: Evaluation) -> None:
        support = ev.confusion.sum(axis=1)
        other, other_count = most_confused_with(ev.confusion)
        names = self.class_names
        rows = [(names[c], f"{int(support[c]):,}", percent(ev.precision[c]), percent(ev.recall[c]),
                 percent(ev.f1[c]), f"{names[other[c]]} ({int(other_count[c])}×)" if other[c] >= 0 else "–")
                for c in range(len(names))]
        rows.append(("average", f"{int(support.sum()):,}", percent(ev.precision.mean()), percent(ev.recall.mean()),
                     percent(ev.f1.mean()), ""))
        self.class_table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                if c > 0:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if r == len(rows) - 1:
                    f = item.font()
                    f.setBold(True)
                    item.setFont(f)
                    item.setToolTip("Unweighted mean over the classes (macro average)")
                self.class_table.setItem(r, c, item)

    def captions(self, ev: Evaluation, indices: np.ndarray) -> tuple[list[str], list[str], list[bool]]:
        names = self.class_names
        captions, tips, right = [], [], []
        for i in indices:
            t, p, conf = int(ev.labels[i]), int(ev.predictions[i]), float(ev.confidence[i])
            arrow = " → " if max(len(names[t]), len(names[p])) <= 3 else "\n→ "  # long names: keep tiles narrow
            captions.append(f"{names[t]}{arrow}{names[p]}\n{conf:.0%}")
            tips.append(f"Test image #{i}: true {names[t]}, predicted {names[p]} with {conf:.1%} confidence. "
                        "Click to see why in the Draw tab.")
            right.append(t == p)
        return captions, tips, right

    def fill_mistakes(self, ev: Evaluation) -> None:
        self.mistake_indices = confident_mistakes(ev, MISTAKES_SHOWN)
        captions, tips, right = self.captions(ev, self.mistake_indices)
        self.mistakes.set_items(self.images[self.mistake_indices], captions, tips, right,
                                empty_text="No mistakes on the test set.")
        wrong = int(np.sum(ev.predictions != ev.labels))
        self.mistakes_note.setText(
            f"The {len(self.mistake_indices)} wrong answers (of {wrong:,}) given with the highest confidence, surest "
            "first — often ambiguous or mislabelled images. Caption: true → predicted, confidence. Click one to "
            "see why in the Draw tab.")

    def fill_threshold(self, ev: Evaluation) -> None:
        coverage, accuracy = ev.coverage_curve(THRESHOLDS)
        self.coverage_curve.setData(THRESHOLDS * 100, coverage * 100)
        self.accuracy_curve.setData(THRESHOLDS * 100, accuracy * 100)
        low = float(min(coverage.min(), accuracy.min()) * 100)
        self.coverage_plot.setYRange(max(0.0, low - 2), 100.5, padding=0)
        self._on_threshold(self.threshold_slider.value())

    def _on_threshold(self, value: int) -> None:
        self.threshold_label.setText(f"{value} %")
        if abs(self.threshold_line.value() - value) > 0.5:
            self.threshold_line.setValue(value)
        if self.evaluation is None:
            self.coverage_sentence.setText("")
            return
        coverage, accuracy, answered = threshold_summary(self.evaluation, value / 100)
        total = len(self.evaluation.labels)
        self.coverage_sentence.setText(
            f"At {value} % confidence the model answers {percent(coverage)} of the images, right on "
            f"{percent(accuracy) if answered else '–'} of those ({answered:,} of {total:,} answered; "
            f"{total - answered:,} \"not sure\").")

