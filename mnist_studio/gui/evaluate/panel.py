"""The Evaluate tab: how good the current model is on the test set, where it goes wrong, and how sure it is.

The current model (the one training, or one opened from a file) is evaluated on the session dataset's test set in
the background (:mod:`.worker`). Results: accuracy and loss, a clickable confusion matrix whose cells open a gallery
of their images, per-class precision / recall / F1, the mistakes the model was surest of, a confidence threshold
with its coverage/accuracy curve, and robustness curves. Any image can be sent to the Draw tab's "why" views.

Evaluation runs by itself when a model file is opened and when a training run ends. During training the results
are only marked stale — re-evaluating on every weight snapshot would compete with the trainer for the CPU.
"""

from __future__ import annotations

import os

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (QComboBox, QHBoxLayout, QHeaderView, QLabel, QProgressBar, QPushButton, QSizePolicy,
                             QSlider, QSplitter, QStackedWidget, QTableWidget, QTableWidgetItem, QTabWidget,
                             QVBoxLayout, QWidget)

from mnist_studio.data.datasets import to_float
from mnist_studio.gui.evaluate.gallery import GalleryDialog, ImageGrid, scrolling
from mnist_studio.gui.evaluate.matrix import ConfusionMatrixView
from mnist_studio.gui.evaluate.robustness_view import RobustnessView
from mnist_studio.gui.evaluate.worker import EVALUATE, ROBUSTNESS, EvaluationRunner
from mnist_studio.gui.labels import note_label, title_label
from mnist_studio.training.metrics import Evaluation
from mnist_studio.training.review import cell_indices, confident_mistakes, most_confused_with, threshold_summary
from mnist_studio.training.robustness import subset_indices, typical_example

NO_MODEL = ("No model yet.\n\nOpen a model file (File ▸ Open Model…) or train one in the Training tab, "
            "then press Evaluate to test it on the dataset's test images.")
MISTAKES_SHOWN = 60
SUBSET_SIZES = (250, 500, 1000, 2000, 5000)
DEFAULT_SUBSET = 1000
THRESHOLDS = np.round(np.arange(0, 100) / 100, 2)
DEFAULT_THRESHOLD = 50  # percent
METRIC_COLUMNS = {  # header: its tooltip
    "Class": "",
    "Images": "How many test images have this class",
    "Precision": "Of the images the model called this class, the share that are",
    "Recall": "Of the images of this class, the share the model found",
    "F1": "The harmonic mean of precision and recall",
    "Confused with": "The class this one is most often mistaken for, and how many times",
}


def percent(x: float) -> str:
    return f"{x:.1%}"


def model_description(model, source: str) -> str:
    name = (model.spec.get("name") if model is not None else "") or "network"
    if not source:
        return f"{name} (untrained)"
    if source == "training":
        return f"{name} (trained in this session)"
    return f"{name} ({os.path.basename(source) if os.sep in source else source})"


class EvaluatePanel(QWidget):
    """The whole tab. ``inspected`` fires after an image was sent to the drawing pad (install switches tabs)."""

    inspected = pyqtSignal()
    evaluated = pyqtSignal()  # results shown (tests wait on it)
    robustnessDone = pyqtSignal()

    def __init__(self, session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("evaluatePanel")
        self.session = session
        self.runner = EvaluationRunner(self)
        self.evaluation: Evaluation | None = None
        self.images = np.zeros((0, 28, 28), np.uint8)  # the test images the evaluation was made on
        self.class_names: tuple[str, ...] = tuple(str(d) for d in range(10))
        self.dataset_name = ""
        self.model_text = ""
        self.stale = ""
        self.mistake_indices = np.zeros(0, np.int64)
        self.robustness_report = None
        self._pending: tuple | None = None  # (images, class names, dataset name, model text) of the running job
        self.gallery: GalleryDialog | None = None
        self._build()
        self.runner.progress.connect(self._on_progress)
        self.runner.partial.connect(self._on_robustness_partial)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        session.modelChanged.connect(self._on_model_changed)
        session.weightsUpdated.connect(self._on_weights_updated)
        session.datasetChanged.connect(self._on_dataset_changed)
        session.runRecorded.connect(self._on_run_recorded)
        session.stateChanged.connect(self._on_training_state)
        self._show_message(NO_MODEL if session.model is None else self._ready_message())
        self._update_buttons()

    # -- layout ------------------------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.evaluate_button = QPushButton("Evaluate")
        self.evaluate_button.setObjectName("evaluateButton")
        self.evaluate_button.setToolTip("Test the current model on every test image of the dataset")
        self.evaluate_button.clicked.connect(self.evaluate)
        self.progress = QProgressBar()
        self.progress.setObjectName("evaluateProgress")
        self.progress.setMaximumWidth(220)
        self.progress.setFormat("testing %p%")
        self.progress.hide()
        self.summary = QLabel("")
        self.summary.setObjectName("evaluationSummary")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.summary.setWordWrap(True)
        self.stale_label = QLabel("")
        self.stale_label.setObjectName("staleNote")
        self.stale_label.setWordWrap(True)
        self.stale_label.setStyleSheet("color: #a35200; background: #fff4e0; border: 1px solid #f0c27b; "
                                       "border-radius: 3px; padding: 3px 6px;")
        self.stale_label.hide()
        top = QHBoxLayout()
        top.addWidget(self.evaluate_button)
        top.addWidget(self.progress)
        top.addWidget(self.summary, 1)

        self.message = QLabel("")
        self.message.setObjectName("evaluateMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #444; font-size: 15px;")

        self.matrix = ConfusionMatrixView()
        self.matrix.cellClicked.connect(self.open_cell)
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

        splitter = QSplitter(Qt.Orientation.Horizontal)
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
        self.mistakes.imageClicked.connect(lambda i: self.inspect_index(int(self.mistake_indices[i])))
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
        self.coverage_sentence = QLabel("")
        self.coverage_sentence.setObjectName("coverageSentence")
        self.coverage_sentence.setWordWrap(True)
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
        self.robustness_button.clicked.connect(self.compute_robustness)
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
        self._set_robustness_status(None)
        return w

    # -- state -------------------------------------------------------------------------------------------------------
    def _ready_message(self) -> str:
        ds = self.session.dataset
        return (f"Model ready: {model_description(self.session.model, self.session.model_source)}.\n\n"
                f"Press Evaluate to test it on the {len(ds.test_labels):,} test images of {ds.name}.")

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.pages.setCurrentIndex(0)

    def _set_stale(self, text: str) -> None:
        self.stale = text
        self.stale_label.setText(text)
        self.stale_label.setVisible(bool(text))

    def _update_buttons(self) -> None:
        has_model = self.session.model is not None
        self.evaluate_button.setEnabled(has_model)
        self.robustness_button.setEnabled(has_model)

    def _set_robustness_status(self, report) -> None:
        if self.session.model is None:
            text = "Open or train a model, then compute how it copes with damaged images."
        elif report is None:
            text = ("How does the model cope with images unlike its training data? Each curve is its accuracy on "
                    "the same test images, damaged more and more (examples under each plot). Dashed: undamaged.")
        else:
            text = (f"Accuracy on {report.images:,} test images ({self.dataset_name or self.session.dataset.name}), "
                    f"damaged as shown under each plot. Dashed line: undamaged ({percent(report.plain_accuracy)}).")
        self.robustness_status.setText(text)

    # -- evaluation --------------------------------------------------------------------------------------------------
    def evaluate(self) -> None:
        """Evaluate the session's current model on the session dataset's test set, in the background."""
        model = self.session.model
        if model is None:
            return
        ds = self.session.dataset
        self._pending = (ds.test_images, tuple(ds.class_names), ds.name,
                         model_description(model, self.session.model_source))
        self.runner.start(EVALUATE, model, ds.test_images, ds.test_labels)
        self.progress.setRange(0, max(1, len(ds.test_labels)))
        self.progress.setValue(0)
        self.progress.show()
        if self.evaluation is None:
            self._show_message(f"Testing {self._pending[3]} on {len(ds.test_labels):,} test images of {ds.name}…")

    def show_evaluation(self, ev: Evaluation, images: np.ndarray, class_names, dataset_name: str = "",
                        model_text: str = "") -> None:
        """Show an evaluation of ``images`` (uint8 N×28×28, in the order of ``ev.labels``)."""
        self.evaluation = ev
        self.images = images
        self.class_names = tuple(class_names)
        self.dataset_name = dataset_name
        self.model_text = model_text
        n = len(ev.labels)
        where = f" on {n:,} test images" + (f" of {dataset_name}" if dataset_name else "")
        self.summary.setText(
            f"<span style='font-size:17px'><b>Test accuracy {percent(ev.accuracy)}</b></span>"
            f"&nbsp;&nbsp; loss {ev.loss:.4f} &nbsp;·&nbsp; {n - int(np.trace(ev.confusion)):,} mistakes{where}"
            + (f" &nbsp;·&nbsp; {model_text}" if model_text else ""))
        self.matrix.set_matrix(ev.confusion, self.class_names)
        self._fill_class_table(ev)
        self._fill_mistakes(ev)
        self._fill_threshold(ev)
        self._set_stale("")
        self.pages.setCurrentIndex(1)
        if self.gallery is not None:
            self.gallery.hide()
        self.evaluated.emit()

    def _fill_class_table(self, ev: Evaluation) -> None:
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

    def _captions(self, ev: Evaluation, indices: np.ndarray) -> tuple[list[str], list[str], list[bool]]:
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

    def _fill_mistakes(self, ev: Evaluation) -> None:
        self.mistake_indices = confident_mistakes(ev, MISTAKES_SHOWN)
        captions, tips, right = self._captions(ev, self.mistake_indices)
        self.mistakes.set_items(self.images[self.mistake_indices], captions, tips, right,
                                empty_text="No mistakes on the test set.")
        wrong = int(np.sum(ev.predictions != ev.labels))
        self.mistakes_note.setText(
            f"The {len(self.mistake_indices)} wrong answers (of {wrong:,}) given with the highest confidence, surest "
            "first — often ambiguous or mislabelled images. Caption: true → predicted, confidence. Click one to "
            "see why in the Draw tab.")

    def _fill_threshold(self, ev: Evaluation) -> None:
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

    # -- gallery and inspection --------------------------------------------------------------------------------------
    def open_cell(self, true: int, predicted: int) -> None:
        ev = self.evaluation
        if ev is None:
            return
        idx = cell_indices(ev, true, predicted)
        names = self.class_names
        captions, tips, right = self._captions(ev, idx)
        if self.gallery is None:
            self.gallery = GalleryDialog(self)
            self.gallery.grid.imageClicked.connect(lambda i: self.inspect_index(int(self.gallery.indices[i])))
        what = "read correctly" if true == predicted else f"read as {names[predicted]}"
        self.gallery.show_cell(
            f"true {names[true]} → predicted {names[predicted]}",
            f"<b>{len(idx):,}</b> test images of <b>{names[true]}</b> {what}, most confident first. "
            "Click an image to see in the Draw tab what the network saw.",
            idx, self.images[idx], captions, tips, right)

    def inspect_index(self, index: int) -> None:
        """Send test image ``index`` to the drawing pad's "why" views."""
        ev = self.evaluation
        if ev is None:
            return
        names = self.class_names
        t, p = int(ev.labels[index]), int(ev.predictions[index])
        caption = (f"Test image #{index} of {self.dataset_name or 'the test set'}: true {names[t]}, "
                   f"predicted {names[p]} ({float(ev.confidence[index]):.0%})")
        self.session.inspect(to_float(self.images[index]), caption)
        self.inspected.emit()

    # -- robustness --------------------------------------------------------------------------------------------------
    def compute_robustness(self) -> None:
        model = self.session.model
        if model is None:
            return
        ds = self.session.dataset
        idx = subset_indices(ds.test_labels, int(self.subset_combo.currentData()), seed=0)
        self.dataset_name = self.dataset_name or ds.name
        self.runner.start(ROBUSTNESS, model, ds.test_images[idx], ds.test_labels[idx])
        example = typical_example(ds.test_images[idx])
        self.robustness_view.set_example(to_float(ds.test_images[idx[example]]) if example >= 0 else None)
        self.robustness_view.show_report(None)
        self.robustness_progress.setRange(0, 1)
        self.robustness_progress.setValue(0)
        self.robustness_progress.show()
        self.robustness_status.setText(f"Measuring on {len(idx):,} test images of {ds.name}…")

    def _on_robustness_partial(self, report) -> None:
        self.robustness_view.show_report(report)

    # -- worker results ----------------------------------------------------------------------------------------------
    def _on_progress(self, kind: str, done: int, total: int) -> None:
        bar = self.progress if kind == EVALUATE else self.robustness_progress
        bar.setRange(0, total)
        bar.setValue(done)

    def _on_finished(self, kind: str, result) -> None:
        if kind == EVALUATE:
            self.progress.hide()
            images, names, dataset_name, model_text = self._pending
            self.show_evaluation(result, images, names, dataset_name, model_text)
        else:
            self.robustness_progress.hide()
            self.robustness_report = result
            self.robustness_view.show_report(result)
            self._set_robustness_status(result)
            self.robustnessDone.emit()

    def _on_failed(self, kind: str, message: str) -> None:
        text = f"Could not {'evaluate' if kind == EVALUATE else 'compute robustness'}: {message}"
        if kind == EVALUATE:
            self.progress.hide()
            if self.evaluation is None:
                self._show_message(text)
            else:
                self._set_stale(text)
        else:
            self.robustness_progress.hide()
            self.robustness_status.setText(text)
        self.session.status.emit(text)

    # -- session events ----------------------------------------------------------------------------------------------
    def _forget_robustness(self) -> None:
        self.runner.cancel(ROBUSTNESS)
        self.robustness_progress.hide()
        self.robustness_report = None
        self.robustness_view.show_report(None)
        self.robustness_view.set_example(None)
        self._set_robustness_status(None)

    def _on_model_changed(self, model) -> None:
        self.runner.cancel(EVALUATE)
        self.progress.hide()
        self._forget_robustness()
        self._update_buttons()
        if model is None:
            self.evaluation = None
            self._set_stale("")
            self.summary.setText("")
            self._show_message(NO_MODEL)
            return
        if self.session.model_source == "training":
            if self.evaluation is not None:
                self._set_stale("A new training run started: these results are for the previous model. They "
                                "refresh when the run ends; press Evaluate to test the current weights now.")
            else:
                self._show_message("Training is running. The results appear when the run ends — or press "
                                   "Evaluate to test the current weights now.")
            return
        self.evaluate()  # an opened model file: worth testing at once (seconds, in the background)
        if self.evaluation is not None:
            self._set_stale("Another model was opened; testing it now…")

    def _on_weights_updated(self, _model) -> None:
        if self.evaluation is not None and not self.stale:
            self._set_stale("Training has changed the weights since this evaluation. Press Evaluate to test the "
                            "current weights, or wait for the run to end.")

    def _on_training_state(self, state: str) -> None:
        """Training resumed (e.g. "+1 epoch"): leave the CPU to the trainer; the run's end evaluates again."""
        if state == "running" and self.runner.busy(EVALUATE):
            self.runner.cancel(EVALUATE)
            self.progress.hide()
            if self.evaluation is not None:
                self._set_stale("Training resumed: these results are for earlier weights. They refresh when the "
                                "run ends.")
            else:
                self._show_message("Training is running. The results appear when the run ends — or press "
                                   "Evaluate to test the current weights now.")

    def _on_run_recorded(self, _record) -> None:
        if self.session.model is not None:
            self.evaluate()

    def _on_dataset_changed(self, ds) -> None:
        self.runner.cancel()
        self.progress.hide()
        self._forget_robustness()
        if self.evaluation is not None:
            self._set_stale(f"The dataset is now {ds.name}; these results are for {self.dataset_name}. "
                            "Press Evaluate to test the model on the new test set.")
        elif self.session.model is not None:
            self._show_message(self._ready_message())

    def shutdown(self) -> None:
        """Stop the background work and wait for its thread (run from the window's close hooks)."""
        self.runner.shutdown()
        if self.gallery is not None:
            self.gallery.close()
