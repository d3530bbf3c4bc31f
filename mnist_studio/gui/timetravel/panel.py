"""Time travel's controller (issue 13, item 3): a scrubber on a run that moves the whole studio to one of its
checkpoints, and the drawing's probabilities through them.

Which run: the current run of the training tab (its checkpoints arrive with its record when a fit ends) or a run
opened from the Runs list (``ModelInfo.run_id``: its checkpoints are read from the run store). Another model (a file,
a new run starting) leaves the scrubber empty until there is a run to scrub.

Moving the scrubber builds the checkpoint's model (its exact weights) and hands it to
:meth:`StudioSession.show_moment`: every view follows through ``modelChanged`` as for any other model — the weights
view, the test strip, the Draw tab's answer, the Evaluate tab (and the See-inside docks). What takes seconds, the
test set's evaluation (the confusion matrix) and the strip's reading, is computed once per checkpoint in the
background, while no run trains, and cached here, so the views take it from ``moment.result`` at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QHBoxLayout, QWidget

from mnist_studio.gui.background import BackgroundRunner
from mnist_studio.gui.session import ModelInfo
from mnist_studio.gui.timetravel.views import ScrubberView, WatchPlot, tick_text, watch_box
from mnist_studio.training.checkpoints import Checkpoint
from mnist_studio.training.runstore import RunStoreError
from mnist_studio.training.teststrip import choose_strip
from mnist_studio.training.timetravel import MomentResult, analyse_run, model_at, watch_probabilities

ANALYSE, WATCH = "analyse", "watch"
MAX_HEIGHT = 60  # px
WATCH_HINT = "Draw a digit in the Draw tab: here, what the network made of it at every checkpoint of the run."
WATCH_NO_RUN = "Open a run (Runs list) or train one: its checkpoints, then your drawing through them, show here."
WATCH_DELAY_MS = 150
DRAG_DELAY_MS = 40  # a dragged handle passes many ticks: the studio moves to the one it rests on  # the drawing changes up to 15 times a second: the watch plot follows at most ~6


@dataclass
class Moment:
    """The checkpoint the studio shows (``session.moment``): its step, its name, and its cached readings once
    computed (``result``: the test-set evaluation and the strip's probabilities)."""

    run_id: str
    step: int
    label: str
    result: MomentResult | None = None


class TimeTravelPanel(QWidget):
    def __init__(self, session, store=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timeTravel")
        self.session = session
        self.store = store
        self.run_id = ""
        self.run_name = ""
        self.spec: dict | None = None
        self.info = ModelInfo()
        self.checkpoints: list[Checkpoint] = []
        self.results: dict[int, MomentResult] = {}  # step → readings, for the current run and dataset
        self._strip = None  # (images, labels) of the test strip's digits for the session's dataset
        self.runner = BackgroundRunner("timeTravelThread", self)
        self.runner.progress.connect(self._on_progress)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        self.watch_runner = BackgroundRunner("watchThread", self)  # its own thread: never queued behind the above
        self.watch_runner.finished.connect(self._on_finished)
        self.watch_runner.failed.connect(self._on_failed)
        self.scrubber = ScrubberView()
        self.slider = self.scrubber.slider
        self.watch = WatchPlot()  # in its own dock (see install)
        self.watch_box = watch_box(self.watch)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.scrubber)
        self.setMaximumHeight(MAX_HEIGHT)  # a strip along the bottom: the tabs keep the window's height
        self._watch_timer = QTimer(self)
        self._watch_timer.setSingleShot(True)
        self._watch_timer.setInterval(WATCH_DELAY_MS)
        self._watch_timer.timeout.connect(self.update_watch)
        self._drag_timer = QTimer(self)  # while the handle is dragged, the studio follows its latest position
        self._drag_timer.setSingleShot(True)
        self._drag_timer.setInterval(DRAG_DELAY_MS)
        self._drag_timer.timeout.connect(lambda: self.go_to(self.slider.value()))
        self.slider.valueChanged.connect(self._on_slider)
        self.slider.sliderReleased.connect(self._drag_timer.stop)
        self.slider.sliderReleased.connect(lambda: self._show_if_new(self.slider.value()))
        self.scrubber.latest_button.clicked.connect(self.back_to_latest)
        session.modelChanged.connect(self._on_model)
        session.momentChanged.connect(self._on_moment)
        session.runRecorded.connect(self._on_run_recorded)
        session.checkpointsKept.connect(self._on_checkpoints_kept)
        session.stateChanged.connect(self._on_state)
        session.datasetChanged.connect(self._on_dataset)
        session.drawingChanged.connect(self._on_drawing)
        self.set_run("", None, [], "")

    # -- the run -------------------------------------------------------------------------------------------------
    def set_run(self, run_id: str, spec: dict | None, checkpoints: list[Checkpoint], name: str,
                info: ModelInfo | None = None, why_none: str = "") -> None:
        """Scrub this run (``checkpoints`` with their weights); an empty list clears the scrubber."""
        if run_id != self.run_id:
            self.runner.cancel()
            self.results = {}
        self.run_id, self.spec, self.checkpoints, self.run_name = run_id, spec, list(checkpoints), name
        self.latest = self.session.latest_model() if self.checkpoints else None  # the model of the run's now
        self.info = info or ModelInfo(name=name)
        self.scrubber.set_ticks([tick_text(c.step, c.epoch) for c in self.checkpoints],
                                [self._describe(c) for c in self.checkpoints])
        self.scrubber.latest_button.setEnabled(self.session.moment is not None)
        moment = self.session.moment
        at = self.index_of(moment.step) if moment is not None and moment.run_id == run_id else None
        if at is not None:  # a checkpoint of this run is shown: the handle stays on it
            self.slider.blockSignals(True)
            self.slider.setValue(at)
            self.slider.blockSignals(False)
        if not self.checkpoints:
            self.scrubber.moment_label.setText("Time travel: no checkpoints to go back to")
            self.scrubber.status.setText(why_none)
        else:
            self._say_latest()
            self.analyse()
        self.update_watch()

    def _describe(self, c: Checkpoint) -> str:
        acc = f" · validation {c.val_accuracy:.2%}" if c.val_accuracy is not None else ""
        return f"{c.label()}{acc}"

    def _say_latest(self) -> None:
        n = len(self.checkpoints)
        self.scrubber.moment_label.setText(f"{self.run_name}: latest weights · {n} checkpoint{'s' if n != 1 else ''}"
                                           " to go back to")

    def _on_model(self, model) -> None:
        """A model from elsewhere (a run started, a run or file opened): which run there is to scrub."""
        s = self.session
        if s.moment is not None or model is None and not self.checkpoints:
            return
        if model is not None and model is self.latest:
            return  # the run already shown (back from one of its checkpoints)
        if s.model_source == "training":
            self.set_run("", None, [], "", why_none="The run's first checkpoint comes with its first batches.")
            return
        run_id = getattr(s.model_info, "run_id", "")
        if not run_id or self.store is None:
            why = "" if model is None else "This model came from a file: open a run from the Runs list to scrub it."
            self.set_run("", None, [], "", why_none=why)
            return
        if run_id == self.run_id and self.checkpoints:
            return
        try:
            record = self.store.get(run_id)
            checkpoints = self.store.load_checkpoints(record)
        except RunStoreError as e:
            self.set_run("", None, [], "", why_none=f"Cannot read the run's checkpoints: {e}")
            return
        why = "" if checkpoints else "This run was recorded without checkpoints (an earlier version)."
        self.set_run(run_id, record.spec, checkpoints, record.name, s.model_info, why)

    def _on_run_recorded(self, record) -> None:
        """A fit of the training tab's run ended: its checkpoints (weights in memory, or just saved)."""
        s = self.session
        if s.latest_source() != "training":
            return
        try:
            checkpoints = self.store.load_checkpoints(record) if self.store is not None else \
                [c for c in record.checkpoints if c.state is not None]
        except RunStoreError as e:
            self.set_run("", None, [], "", why_none=f"Cannot read the run's checkpoints: {e}")
            return
        info = ModelInfo(record.name, record.config.to_dict(),
                         {**record.history.to_dict(), **record.metrics, "dataset": record.dataset}, run_id=record.id)
        self.set_run(record.id, record.spec, checkpoints, record.name, info)

    def _on_checkpoints_kept(self, run_id: str, name: str, spec: dict, checkpoints: list) -> None:
        """The training run kept one more checkpoint: scrub it while it trains (if its model is the one shown)."""
        if self.session.latest_source() != "training":
            return
        self.set_run(run_id, spec, checkpoints, name, self.info if run_id == self.run_id else ModelInfo(name=name,
                                                                                                        run_id=run_id))

    # -- moving in time ------------------------------------------------------------------------------------------
    def _on_slider(self, index: int) -> None:
        if self.slider.isSliderDown():
            if not self._drag_timer.isActive():
                self._drag_timer.start()
        else:
            self.go_to(index)

    def _show_if_new(self, index: int) -> None:
        moment = self.session.moment
        if not (0 <= index < len(self.checkpoints)) or moment is None or \
                moment.step != self.checkpoints[index].step:
            self.go_to(index)

    def go_to(self, index: int) -> None:
        """Show checkpoint ``index`` everywhere."""
        if not (0 <= index < len(self.checkpoints)) or self.spec is None:
            return
        c = self.checkpoints[index]
        try:
            model = model_at(self.spec, c)
        except ValueError as e:
            self.scrubber.status.setText(f"Cannot restore this checkpoint: {e}")
            return
        moment = Moment(self.run_id, c.step, c.label(), self.results.get(c.step))
        info = ModelInfo(f"{self.run_name} at {c.label()}", self.info.training, self.info.history, self.run_id)
        self.session.show_moment(model, moment, info)

    def back_to_latest(self) -> None:
        self.session.back_to_latest()

    def _on_moment(self, moment) -> None:
        self.scrubber.latest_button.setEnabled(moment is not None)
        if moment is None:
            self.slider.blockSignals(True)
            self.slider.setValue(self.slider.maximum())
            self.slider.blockSignals(False)
            self.watch.set_cursor(None)
            if self.checkpoints:
                self._say_latest()
            return
        index = self.index_of(moment.step)
        if index is not None:
            c = self.checkpoints[index]
            ev = moment.result.evaluation if moment.result is not None else None
            test = f" · test {ev.accuracy:.2%}" if ev is not None else ""
            self.scrubber.moment_label.setText(f"Showing {self.run_name} at {self._describe(c)}{test}")
            self.watch.set_cursor(index)

    def index_of(self, step: int) -> int | None:
        steps = [c.step for c in self.checkpoints]
        return steps.index(step) if step in steps else None

    # -- the readings, in the background -------------------------------------------------------------------------
    def strip_digits(self) -> np.ndarray:
        if self._strip is None:
            ds = self.session.dataset
            idx = choose_strip(ds.test_images, ds.test_labels, ds.train_images, ds.train_labels)
            from mnist_studio.data.datasets import to_float

            self._strip = to_float(ds.test_images[idx])
        return self._strip

    def analyse(self) -> None:
        """Compute the readings of every checkpoint not cached yet (not while a run trains: it needs the CPU)."""
        todo = [c for c in self.checkpoints if c.step not in self.results]
        if not todo or self.spec is None:
            self.scrubber.status.setText("")
            return
        if self.session.state != "idle":
            self.scrubber.status.setText("The checkpoints' confusion matrices are computed when training pauses.")
            return
        ds = self.session.dataset
        spec, images, labels, strip = self.spec, ds.test_images, ds.test_labels, self.strip_digits()
        done = frozenset(self.results)
        self.scrubber.status.setText(f"Reading the test set at {len(todo)} checkpoint{'s' if len(todo) != 1 else ''}"
                                     "…")
        self.runner.submit(ANALYSE, lambda stop, report: analyse_run(spec, todo, images, labels, strip, stop,
                                                                     report, done))

    def _on_progress(self, kind: str, result) -> None:
        if kind != ANALYSE or not isinstance(result, MomentResult):
            return
        self.results[result.step] = result
        left = sum(c.step not in self.results for c in self.checkpoints)
        self.scrubber.status.setText(f"Reading the test set at {left} more checkpoint{'s' if left != 1 else ''}…"
                                     if left else "")
        moment = self.session.moment
        if moment is not None and moment.run_id == self.run_id and moment.step == result.step:
            moment.result = result
            self.session.moment_updated(moment)

    def _on_finished(self, kind: str, result) -> None:
        if kind == ANALYSE:
            self.scrubber.status.setText("")
        elif kind == WATCH:
            self.watch.show_probabilities(result, [tick_text(c.step, c.epoch) for c in self.checkpoints])
            self.watch_box.note.setText(f"Your drawing at each of the {len(result)} checkpoints of {self.run_name}"
                                        " (x: epoch)")
            moment = self.session.moment
            self.watch.set_cursor(self.index_of(moment.step) if moment is not None else None)

    def _on_failed(self, kind: str, message: str) -> None:
        self.scrubber.status.setText(f"Time travel: {message}")

    def _on_state(self, state: str) -> None:
        if state == "idle":
            self.analyse()
        else:
            self.runner.cancel(ANALYSE)  # the trainer needs the CPU; the rest is computed when it stops

    def _on_dataset(self, _ds) -> None:
        self.runner.cancel(ANALYSE)
        self.results, self._strip = {}, None
        self.analyse()

    # -- watch it learn my 7 -------------------------------------------------------------------------------------
    def _on_drawing(self, _image) -> None:
        if not self._watch_timer.isActive():
            self._watch_timer.start()

    def update_watch(self) -> None:
        """The drawing's probabilities at every checkpoint (in the background; the plot shows the latest answer)."""
        image = self.session.drawing
        if image is None or not self.checkpoints or self.spec is None:
            self.watch_runner.cancel(WATCH)
            self.watch.show_probabilities(None, [])
            self.watch_box.note.setText(WATCH_HINT if self.checkpoints else WATCH_NO_RUN)
            return
        spec, checkpoints, image = self.spec, list(self.checkpoints), np.array(image, np.float32)
        self.watch_runner.submit(WATCH, lambda stop, _report: watch_probabilities(spec, checkpoints, image, stop))

    def shutdown(self) -> None:
        self._watch_timer.stop()
        self.runner.shutdown()
        self.watch_runner.shutdown()
