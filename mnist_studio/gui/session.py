"""The studio's shared state: what every panel looks at, and the signals that say it changed.

Panels never talk to each other directly; they read from and write to one :class:`StudioSession`. The designer
sets the spec, the training worker publishes weight snapshots into ``model`` (a copy that only the GUI thread
touches), a file open replaces it, and the drawing pad, the weights view and the evaluation tab redraw from
``modelChanged``. The Draw tab publishes its current network input as ``drawing`` for the views that follow it. The trainer's own model lives in the worker thread and is never shared.

Time travel: :meth:`StudioSession.show_moment` makes a checkpoint's model the one every view shows, through the same
``modelChanged`` (``model_source`` is ``"checkpoint"``, ``moment`` says which); :meth:`back_to_latest` puts back the
model it replaced. Meanwhile training snapshots go into that latest model quietly (:meth:`latest_model`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QObject, pyqtSignal

from mnist_studio.data.datasets import Dataset, load_mnist
from mnist_studio.nn.model import Model
from mnist_studio.training.runs import next_run_name


@dataclass
class ModelInfo:
    """What is known of how a model was trained, beside its weights: a model file keeps it (``training`` and
    ``history``), a run record too. The training tab shows the curves and settings of an opened model from it."""

    name: str = ""  # the run's name ("Run 3 · lenet"), when known
    training: dict[str, Any] = field(default_factory=dict)  # its TrainConfig as a dict
    history: dict[str, Any] = field(default_factory=dict)  # RunHistory.to_dict(), final metrics, dataset
    run_id: str = ""  # the stored run it is (opened from the runs list): its checkpoints can be gone back to

    @classmethod
    def of_file(cls, loaded) -> "ModelInfo":
        """From a :class:`~mnist_studio.nn.modelfile.LoadedModel` (the run's name is kept in its history)."""
        history = dict(loaded.history or {})
        return cls(str(history.get("name") or ""), dict(loaded.training or {}), history)


DEFAULT_THRESHOLD = 0.6  # as data.picture.LOW_CONFIDENCE: a photo's digit below it is marked unsure too


class StudioSession(QObject):
    specChanged = pyqtSignal(object)  # dict: the architecture being designed
    modelChanged = pyqtSignal(object)  # Model | None: the model to show and predict with (GUI-thread copy)
    weightsUpdated = pyqtSignal(object)  # Model: same object as `model`, weights refreshed during training
    datasetChanged = pyqtSignal(object)  # Dataset
    stateChanged = pyqtSignal(str)  # "idle", "running", "paused"
    status = pyqtSignal(str)  # a one-line message for the status bar
    runRecorded = pyqtSignal(object)  # RunRecord: a training run ended (finished, stopped or diverged)
    overlaysChanged = pyqtSignal(object)  # list[RunRecord]: past runs ticked for overlay on the plots
    # (spec dict, TrainConfig, ReplayPlan | None): start this run; a re-run of a past one replays its fits and changes
    trainRequested = pyqtSignal(object, object, object)
    inspectImage = pyqtSignal(object, str)  # (28×28 float32 image, caption): show it in the drawing pad's views
    drawingChanged = pyqtSignal(object)  # 28×28 float32 | None: what the Draw tab's network sees now (live)
    handwritingChanged = pyqtSignal()  # the user's examples ("My handwriting") were added to or deleted
    thresholdChanged = pyqtSignal(float)  # the confidence below which an answer is "not sure" (0-1)
    weightHistory = pyqtSignal(object, str)  # (WeightHistory copy, run name): the running run's history so far
    runChosen = pyqtSignal(object)  # RunRecord: the one run selected in the Runs panel
    # a checkpoint shown (after its modelChanged), None back at the latest weights; emitted again when the moment's
    # cached readings (``moment.result``: test evaluation and strip) arrive
    momentChanged = pyqtSignal(object)
    # (run id, run name, spec, list[Checkpoint]): the training run's checkpoints so far, while it trains
    checkpointsKept = pyqtSignal(str, str, object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.spec: dict[str, Any] | None = None
        self.model: Model | None = None
        self.model_source: str = ""  # "training", a file path, or "" (untrained)
        self.model_info = ModelInfo()  # the model's run name, settings and history, as far as known
        self._dataset: Dataset | None = None
        self.state = "idle"
        self.drawing = None  # the Draw tab's current 28×28 network input (None: nothing drawn)
        self.run_names: set[str] = set()  # every run listed (the runs panel adds the store's): new names differ
        self._handwriting = None
        self.threshold = DEFAULT_THRESHOLD  # Evaluate's "answer only when at least" = the Draw tab's "not sure"
        # the checkpoint shown (time travel: ``.step``, ``.label``, ``.result``), and what it replaced
        self.moment = None
        self._latest: tuple | None = None  # (model, source, info) to go back to

    # -- dataset ---------------------------------------------------------------------------------------------------
    @property
    def dataset(self) -> Dataset:
        """The dataset in use (the embedded MNIST unless another was opened); loaded on first use."""
        if self._dataset is None:
            self._dataset = load_mnist()
        return self._dataset

    def set_dataset(self, ds: Dataset) -> None:
        self._dataset = ds
        self.datasetChanged.emit(ds)

    def handwriting(self):
        """The user's own examples (:class:`~mnist_studio.data.handwriting.HandwritingStore`), read from the user
        data folder on first use. A damaged file is refused: the store starts empty, the status bar says why, and
        the file is moved aside (not overwritten) by the next save."""
        if self._handwriting is None:
            from PyQt6.QtCore import QStandardPaths

            from mnist_studio.data.handwriting import FILE_NAME, HandwritingError, HandwritingStore

            base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
            store = HandwritingStore(Path(base) / FILE_NAME)
            try:
                store.load()
            except HandwritingError as e:
                self.status.emit(f"My handwriting: {e}")
            self._handwriting = store
        return self._handwriting

    # -- architecture and model ------------------------------------------------------------------------------------
    def set_spec(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.specChanged.emit(spec)

    def set_model(self, model: Model | None, source: str = "", info: ModelInfo | None = None) -> None:
        """Replace the model the views use (a trained file, or the start of a new training run); ``info``: its
        run's name, settings and history when known (an opened file's). Leaves a checkpoint being shown."""
        was_moment = self.moment is not None
        self.moment, self._latest = None, None
        self._set_model(model, source, info)
        if was_moment:
            self.momentChanged.emit(None)

    def _set_model(self, model, source: str, info: ModelInfo | None) -> None:
        self.model = model
        self.model_source = source
        self.model_info = info or ModelInfo()
        self.modelChanged.emit(model)

    # -- time travel -----------------------------------------------------------------------------------------------
    def show_moment(self, model: Model, moment, info: ModelInfo | None = None) -> None:
        """Show a checkpoint's ``model`` everywhere (``moment``: which one; its ``result`` may come later, see
        :meth:`moment_updated`); the model shown before is kept for :meth:`back_to_latest`."""
        if self.moment is None:
            self._latest = (self.model, self.model_source, self.model_info)
        self.moment = moment
        self._set_model(model, "checkpoint", info)
        self.momentChanged.emit(moment)

    def moment_updated(self, moment) -> None:
        """The moment shown got its cached readings (test evaluation, strip): tell the views."""
        if moment is self.moment and moment is not None:
            self.momentChanged.emit(moment)

    def back_to_latest(self) -> None:
        """Leave the checkpoint: the model it replaced (the run's latest weights) is shown again."""
        if self.moment is None:
            return
        model, source, info = self._latest
        self.moment, self._latest = None, None
        self._set_model(model, source, info)
        self.momentChanged.emit(None)

    def share_checkpoints(self, run_id: str, name: str, spec: dict, checkpoints: list) -> None:
        """The training run kept a checkpoint (the training panel says so; time travel listens)."""
        self.checkpointsKept.emit(run_id, name, spec, checkpoints)

    def latest_source(self) -> str:
        """Where the model of now came from (see :meth:`latest_model`)."""
        return self._latest[1] if self.moment is not None else self.model_source

    def latest_model(self) -> Model | None:
        """The model of now: the one shown, or the one a checkpoint being shown replaced."""
        return self._latest[0] if self.moment is not None else self.model

    def model_name(self) -> str:
        """How the views name the current model: its run's name when known (with the file it came from), else the
        file's name; "" when untrained or training (the training panel names its run)."""
        src = self.model_source
        file = Path(src).name if src and src != "training" and Path(src).suffix else ""
        name = self.model_info.name
        if name and file:
            return f"{name} ({file})"
        return name or file or src

    def update_weights(self, state: dict) -> None:
        """Load a weight snapshot from the training worker into the view model and tell the views (while a
        checkpoint is shown, into the latest model, quietly: the views stay at the checkpoint)."""
        model = self.latest_model()
        if model is None:
            return
        try:
            model.load_state_dict(state)
        except ValueError:
            return  # a snapshot from an earlier architecture that arrived late: ignore it
        if model is self.model:
            self.weightsUpdated.emit(self.model)

    def new_run_name(self, architecture: str) -> str:
        """A name no listed run has, from this session or an earlier one ("Run 7 · lenet")."""
        name = next_run_name(self.run_names, architecture)
        self.run_names.add(name)
        return name

    def record_run(self, record) -> None:
        self.runRecorded.emit(record)

    def publish_weight_history(self, history, run_name: str) -> None:
        """The training worker's latest copy of the run's weight and gradient history (with each snapshot)."""
        if history is not None:
            self.weightHistory.emit(history, run_name)

    def choose_run(self, record) -> None:
        """The Runs panel's selection is this one run (views of a run's own records follow it)."""
        self.runChosen.emit(record)

    def set_overlays(self, records: list) -> None:
        self.overlaysChanged.emit(list(records))

    def request_training(self, spec: dict, config, plan=None) -> None:
        self.trainRequested.emit(spec, config, plan)

    def inspect(self, image, caption: str = "") -> None:
        self.inspectImage.emit(image, caption)

    def set_drawing(self, image) -> None:
        """The Draw tab says what its network input is now (while a stroke is drawn, up to 15 times a second); the
        views that follow the drawing (feature map, counterfactual, one value) read it from here."""
        if image is None and self.drawing is None:
            return
        self.drawing = image
        self.drawingChanged.emit(image)

    def set_threshold(self, value: float) -> None:
        """One confidence threshold for the studio: Evaluate's slider sets it, the Draw tab marks answers below it
        "not sure" and draws it as the dashed line on the probability bars."""
        value = float(value)
        if abs(value - self.threshold) < 1e-9:
            return
        self.threshold = value
        self.thresholdChanged.emit(value)

    def set_state(self, state: str) -> None:
        self.state = state
        self.stateChanged.emit(state)
