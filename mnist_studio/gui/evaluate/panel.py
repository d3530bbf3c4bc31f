"""The Evaluate tab's controller: how good the current model is on the test set, where it goes wrong, and how sure
it is (the widgets are :mod:`.layout`'s).

The current model (the one training, or one opened from a file) is evaluated on the session dataset's test set in
the background (:mod:`.worker`). Any image can be sent to the Draw tab's "why" views.

The results are always in one of four states, set in one place (:meth:`EvaluatePanel._enter`):

- ``idle``: nothing is shown but a message (no model; a model not tested yet; training running);
- ``running``: an evaluation is under way (earlier results, if any, stay visible with their note);
- ``fresh``: the results are for the current weights and dataset;
- ``stale``: results are shown, but the model, its weights or the dataset changed since (the note says how).

Evaluation runs by itself when a model file is opened and when a training run ends. During training the results
are only marked stale: re-evaluating on every weight snapshot would compete with the trainer for the CPU.
"""

from __future__ import annotations

import os

import numpy as np
from PyQt6.QtCore import pyqtSignal

from mnist_studio.data.datasets import to_float
from mnist_studio.gui.evaluate.gallery import GalleryDialog
from mnist_studio.gui.evaluate.layout import MESSAGE_PAGE, RESULTS_PAGE, EvaluateLayout, percent
from mnist_studio.gui.evaluate.worker import EVALUATE, ROBUSTNESS, EvaluationRunner
from mnist_studio.training.metrics import Evaluation
from mnist_studio.training.review import cell_indices
from mnist_studio.training.robustness import subset_indices, typical_example

IDLE, RUNNING, FRESH, STALE = "idle", "running", "fresh", "stale"
NO_MODEL = ("No model yet.\n\nOpen a model file (File ▸ Open Model…) or train one in the Training tab, "
            "then press Evaluate to test it on the dataset's test images.")
TRAINING = ("Training is running. The results appear when the run ends — or press Evaluate to test the current "
            "weights now.")


def model_description(model, source: str, label: str = "") -> str:
    """``label``: how the session names the model (its run, and the file it came from)."""
    name = (model.spec.get("name") if model is not None else "") or "network"
    if not source:
        return f"{name} (untrained)"
    if source == "training":
        return f"{name} (trained in this session)"
    return f"{name} ({label or (os.path.basename(source) if os.sep in source else source)})"


class EvaluatePanel(EvaluateLayout):
    """The whole tab."""

    evaluated = pyqtSignal()  # results shown (tests wait on it)
    robustnessDone = pyqtSignal()

    def __init__(self, session, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.runner = EvaluationRunner(self)
        self.state = IDLE
        self.note = ""  # the message (no results) or what makes the results stale
        self.dataset_name = ""
        self.model_text = ""
        self.robustness_report = None
        self._pending: tuple | None = None  # (images, class names, dataset name, model text) of the running job
        self._left_moment = False  # a checkpoint was shown (time travel): coming back re-evaluates the latest
        self._asked = None  # the checkpoint being evaluated here (it had no cached evaluation yet)
        self.gallery: GalleryDialog | None = None
        self.evaluate_button.clicked.connect(self.evaluate)
        self.matrix.cellClicked.connect(self.open_cell)
        self.mistakes.imageClicked.connect(lambda i: self.inspect_index(int(self.mistake_indices[i])))
        self.robustness_button.clicked.connect(self.compute_robustness)
        self.runner.progress.connect(self._on_progress)
        self.runner.partial.connect(self.robustness_view.show_report)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        session.modelChanged.connect(self._on_model_changed)
        session.weightsUpdated.connect(self._on_weights_updated)
        session.datasetChanged.connect(self._on_dataset_changed)
        session.runRecorded.connect(self._on_run_recorded)
        session.stateChanged.connect(self._on_training_state)
        if hasattr(session, "momentChanged"):  # time travel: a checkpoint's cached evaluation
            session.momentChanged.connect(self._on_moment)
        # the threshold is the studio's, shared with the Draw tab's "not sure" line
        self.threshold_slider.setValue(round(session.threshold * 100))
        self.threshold_slider.valueChanged.connect(lambda v: session.set_threshold(v / 100))
        session.thresholdChanged.connect(self._on_studio_threshold)
        self._set_robustness_status(None)
        self._enter(IDLE, NO_MODEL if session.model is None else self._ready_message())
        self._update_buttons()

    def _on_studio_threshold(self, value: float) -> None:
        self.threshold_slider.setValue(round(value * 100))

    # -- the state -----------------------------------------------------------------------------------------------
    def _enter(self, state: str, note: str = "") -> None:
        """The one place that shows the state: the progress bar while running, the message page while there are
        no results, else the results with ``note`` above them (stale or being replaced) or without (fresh)."""
        self.state, self.note = state, note
        if state != RUNNING:
            self.progress.hide()
        if self.evaluation is None:
            self.message.setText(note)
            self.pages.setCurrentIndex(MESSAGE_PAGE)
            self.stale_label.hide()
            return
        self.pages.setCurrentIndex(RESULTS_PAGE)
        self.stale_label.setText(note)
        self.stale_label.setVisible(bool(note) and state != FRESH)

    def _ready_message(self) -> str:
        ds = self.session.dataset
        return (f"Model ready: {model_description(self.session.model, self.session.model_source, self.session.model_name())}.\n\n"
                f"Press Evaluate to test it on the {len(ds.test_labels):,} test images of {ds.name}.")

    def _stop_evaluation(self, results_note: str, message: str) -> None:
        """The evaluation in flight (if any) is abandoned: stale results with ``results_note``, or ``message``."""
        self.runner.cancel(EVALUATE)
        if self.evaluation is not None:
            self._enter(STALE, results_note)
        else:
            self._enter(IDLE, message)

    def _update_buttons(self) -> None:
        has_model = self.session.model is not None
        self.evaluate_button.setEnabled(has_model)
        self.robustness_button.setEnabled(has_model)

    # -- evaluation ----------------------------------------------------------------------------------------------
    def evaluate(self) -> None:
        """Evaluate the session's current model on the session dataset's test set, in the background."""
        model = self.session.model
        if model is None:
            return
        ds = self.session.dataset
        text = model_description(model, self.session.model_source, self.session.model_name())
        self._pending = (ds.test_images, tuple(ds.class_names), ds.name, text)
        self.runner.start(EVALUATE, model, ds.test_images, ds.test_labels)
        self.progress.setRange(0, max(1, len(ds.test_labels)))
        self.progress.setValue(0)
        self.progress.show()
        if self.evaluation is None:
            self._enter(RUNNING, f"Testing {text} on {len(ds.test_labels):,} test images of {ds.name}…")
        else:  # the results on view stay until the new ones arrive, with what was said about them
            self._enter(RUNNING, self.note if self.state in (STALE, RUNNING) else "")

    def show_evaluation(self, ev: Evaluation, images: np.ndarray, class_names, dataset_name: str = "",
                        model_text: str = "") -> None:
        """Show an evaluation of ``images`` (uint8 N×28×28, in the order of ``ev.labels``) as fresh results."""
        self.evaluation = ev
        self.images = images
        self.class_names = tuple(class_names)
        self.dataset_name = dataset_name
        self.model_text = model_text
        self.fill_summary(ev, dataset_name, model_text)
        self.matrix.set_matrix(ev.confusion, self.class_names)
        self.fill_class_table(ev)
        self.fill_mistakes(ev)
        self.fill_threshold(ev)
        self._enter(FRESH)
        if self.gallery is not None:
            self.gallery.hide()
        self.evaluated.emit()

    def _on_progress(self, kind: str, done: int, total: int) -> None:
        bar = self.progress if kind == EVALUATE else self.robustness_progress
        bar.setRange(0, total)
        bar.setValue(done)

    def _on_finished(self, kind: str, result) -> None:
        if kind == EVALUATE:
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
            self._enter(STALE if self.evaluation is not None else IDLE, text)
        else:
            self.robustness_progress.hide()
            self.robustness_status.setText(text)
        self.session.status.emit(text)

    # -- gallery and inspection ----------------------------------------------------------------------------------
    def open_cell(self, true: int, predicted: int) -> None:
        ev = self.evaluation
        if ev is None:
            return
        idx = cell_indices(ev, true, predicted)
        names = self.class_names
        captions, tips, right = self.captions(ev, idx)
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
        """Send test image ``index`` to the drawing pad's "why" views (the Draw tab comes forward by itself)."""
        ev = self.evaluation
        if ev is None:
            return
        names = self.class_names
        t, p = int(ev.labels[index]), int(ev.predictions[index])
        caption = (f"Test image #{index} of {self.dataset_name or 'the test set'}: true {names[t]}, "
                   f"predicted {names[p]} ({float(ev.confidence[index]):.0%})")
        self.session.inspect(to_float(self.images[index]), caption)

    # -- robustness ----------------------------------------------------------------------------------------------
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

    def _forget_robustness(self) -> None:
        self.runner.cancel(ROBUSTNESS)
        self.robustness_progress.hide()
        self.robustness_report = None
        self.robustness_view.show_report(None)
        self.robustness_view.set_example(None)
        self._set_robustness_status(None)

    # -- session events ------------------------------------------------------------------------------------------
    def _on_model_changed(self, model) -> None:
        self.runner.cancel(EVALUATE)
        self._forget_robustness()
        self._update_buttons()
        if model is None:
            self.evaluation = None
            self.summary.setText("")
            self._enter(IDLE, NO_MODEL)
        elif getattr(self.session, "moment", None) is not None:
            self._on_moment(self.session.moment)  # a checkpoint: its cached evaluation, else evaluated now
        elif self.session.model_source == "training" and self._left_moment:
            self._left_moment = False
            self.evaluate()  # back at the run's latest weights from a checkpoint
        elif self.session.model_source == "training":
            self._stop_evaluation("A new training run started: these results are for the previous model. They "
                                  "refresh when the run ends; press Evaluate to test the current weights now.",
                                  TRAINING)
        else:
            self.evaluate()  # an opened model file: worth testing at once (seconds, in the background)
            if self.evaluation is not None:
                self._enter(RUNNING, "Another model was opened; testing it now…")

    def _on_moment(self, moment) -> None:
        """Time travel: show the checkpoint's evaluation from the cache (instant), or evaluate it when it has none
        yet; the cache's answer replaces that evaluation when it comes."""
        if moment is None:
            return
        self._left_moment = True
        result = getattr(moment, "result", None)
        ds = self.session.dataset
        if result is None or len(result.evaluation.labels) != len(ds.test_labels):
            if self._asked is not moment or not self.runner.busy(EVALUATE):
                self._asked = moment
                self.evaluate()
            return
        if self.evaluation is result.evaluation:
            return
        self.runner.cancel(EVALUATE)
        text = model_description(self.session.model, self.session.model_source, self.session.model_name())
        self.show_evaluation(result.evaluation, ds.test_images, ds.class_names, ds.name, text)

    def _on_weights_updated(self, _model) -> None:
        if self.evaluation is not None and self.state in (FRESH, RUNNING) and not self.note:
            self._enter(STALE if self.state == FRESH else RUNNING,
                        "Training has changed the weights since this evaluation. Press Evaluate to test the current "
                        "weights, or wait for the run to end.")

    def _on_training_state(self, state: str) -> None:
        """Training resumed (e.g. "+1 epoch"): leave the CPU to the trainer; the run's end evaluates again."""
        if state == "running" and self.state == RUNNING:
            self._stop_evaluation("Training resumed: these results are for earlier weights. They refresh when the "
                                  "run ends.", TRAINING)

    def _on_run_recorded(self, _record) -> None:
        if self.session.model is not None:
            self.evaluate()

    def _on_dataset_changed(self, ds) -> None:
        self.runner.cancel()
        self._forget_robustness()
        if self.evaluation is not None:
            self._enter(STALE, f"The dataset is now {ds.name}; these results are for {self.dataset_name}. "
                               "Press Evaluate to test the model on the new test set.")
        elif self.session.model is not None:
            self._enter(IDLE, self._ready_message())
        else:
            self._enter(IDLE, self.note)

    def shutdown(self) -> None:
        """Stop the background work and wait for its thread (run from the window's close hooks)."""
        self.runner.shutdown()
        if self.gallery is not None:
            self.gallery.close()
