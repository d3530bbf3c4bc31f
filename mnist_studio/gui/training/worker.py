"""The training worker: a QObject living in its own QThread that owns the Trainer and speaks only through signals.

The GUI thread never touches the trainer's model. The worker builds it, trains it, and sends out *copies*: batch
metrics condensed to at most ~10 packets a second (so a 3,000-batches-a-second logistic regression does not flood
the event queue), and weight snapshots with layer statistics at most one a second. Statistics cost training time,
so they also keep to a small share of it (``STATS_BUDGET``): on a big network they simply come less often.

Pause, resume, stop and the live learning rate go through the thread-safe :class:`TrainingControl`, which the
trainer reads between two batches; the GUI calls it directly rather than queueing a signal behind a running fit.
Each run gets its own worker and thread, so "Stop" ends the thread and an idle studio runs no thread at all.
"""

from __future__ import annotations

import copy
import dataclasses
import time
import traceback
from dataclasses import dataclass, field

import numpy as np
from PyQt6.QtCore import QCoreApplication, QObject, QThread, pyqtSignal, pyqtSlot

from mnist_studio.data.datasets import Dataset, to_float
from mnist_studio.data.splits import make_splits
from mnist_studio.nn.model import Model
from mnist_studio.training import BatchEnd, Callback, EpochEnd, FitBegin, FitEnd, TrainConfig, Trainer, TrainingControl
from mnist_studio.training.history import RunHistory
from mnist_studio.training.inspect import DEAD_PROBE_IMAGES, DeadUnits, LayerStats, dead_relu_units, weight_stats

BATCH_INTERVAL = 1 / 10  # seconds between two batch packets (the plots redraw twice a second anyway)
SNAPSHOT_INTERVAL = 1.0  # seconds between two weight snapshots (each costs the GUI a redraw of the weight views)
SNAPSHOT_BUDGET = 0.02  # share of training time copying the weights may take
STATS_BUDGET = 0.005  # share of training time the weight statistics may take
DEAD_BUDGET = 0.005  # share for the dead-unit probe (a forward pass)


@dataclass
class TrainJob:
    """One request to the worker: a new run, or ``more_epochs`` more for the last one."""

    spec: dict
    config: TrainConfig
    dataset: Dataset
    name: str = ""
    more_epochs: int = 0  # > 0: continue the last run (same model and optimizer state)


@dataclass
class RunStarted:
    job: TrainJob
    begin: FitBegin
    model: Model  # a copy for the GUI thread (never touched again by the worker)
    start_step: int
    continuing: bool


@dataclass
class BatchPacket:
    """The batches since the last packet (arrays) and the newest one in full (for progress and rates)."""

    epoch: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray
    last: BatchEnd


@dataclass
class Snapshot:
    state: dict  # Model.state_dict() copy
    stats: LayerStats
    step: int


@dataclass
class RunFinished:
    job: TrainJob
    end: FitEnd
    history: RunHistory  # a deep copy
    config: TrainConfig  # epochs = epochs trained in all
    state: dict  # the final (or, after divergence, the restored) weights
    stats: LayerStats
    duration: float  # seconds of training over every fit of this run, pauses excluded
    metrics: dict = field(default_factory=dict)
    trainer: Trainer | None = None  # kept by the panel only to hand to the next "+1 epoch" worker


class _Cancelled(Exception):
    """A stop arrived while the trainer was evaluating the validation set."""


class _StoppableModel(Model):
    """The worker's model: an evaluation pass (the trainer's validation at each epoch end, seconds for a CNN)
    gives up between two chunks when a stop is requested, so closing the window never waits for it."""

    should_stop = staticmethod(lambda: False)

    def forward(self, x, training=False, stop=None):
        if not training and self.should_stop():
            raise _Cancelled
        return super().forward(x, training, stop)


class _Forwarder(Callback):
    """Trainer callbacks (worker thread) → throttled signals."""

    def __init__(self, worker: "TrainingWorker", trainer: Trainer, probe: np.ndarray) -> None:
        self.w, self.trainer, self.probe = worker, trainer, probe
        self.epochs: list[float] = []
        self.losses: list[float] = []
        self.accs: list[float] = []
        self.last_emit = self.last_snapshot = 0.0
        self.next_stats = self.next_dead = 0.0
        self.lr_seen = len(trainer.history.lr_changes)
        self.last: BatchEnd | None = None
        self.dead: list[DeadUnits] = []
        self.stats = LayerStats()

    def on_batch_end(self, e: BatchEnd) -> None:
        self.epochs.append(e.epoch)
        self.losses.append(e.loss)
        self.accs.append(e.accuracy)
        self.last = e
        changes = self.trainer.history.lr_changes
        while self.lr_seen < len(changes):
            c = changes[self.lr_seen]
            self.lr_seen += 1
            self.w.lrChanged.emit(float(c["epoch"]), float(c["lr"]))
        now = time.perf_counter()
        if now - self.last_emit >= BATCH_INTERVAL:
            self.flush(now)
        if now - self.last_snapshot >= SNAPSHOT_INTERVAL:
            self.snapshot(now)

    def on_epoch_end(self, e: EpochEnd) -> None:
        self.flush(time.perf_counter())
        self.w.epochEnded.emit(e)

    def flush(self, now: float) -> None:
        if not self.epochs or self.last is None:
            return
        packet = BatchPacket(np.asarray(self.epochs), np.asarray(self.losses), np.asarray(self.accs), self.last)
        self.epochs, self.losses, self.accs = [], [], []
        self.last_emit = now
        self.w.batches.emit(packet)

    def compute_stats(self, now: float, force: bool = False) -> LayerStats:
        """Weight statistics when their time budget allows (always when ``force``), the dead-unit probe likewise."""
        model = self.trainer.model
        if force or now >= self.next_stats:
            t0 = time.perf_counter()
            weights = weight_stats(model)
            cost = time.perf_counter() - t0
            self.next_stats = now + max(SNAPSHOT_INTERVAL, cost / STATS_BUDGET)
            self.stats = LayerStats(weights, self.dead)
        if len(self.probe) and (force or now >= self.next_dead):
            t0 = time.perf_counter()
            self.dead = dead_relu_units(model, self.probe)
            cost = time.perf_counter() - t0
            self.next_dead = now + max(1.0, cost / DEAD_BUDGET)
            self.stats = LayerStats(self.stats.weights, self.dead)
        return self.stats

    def snapshot(self, now: float) -> None:
        stats = self.compute_stats(now)
        t0 = time.perf_counter()
        state = self.trainer.model.state_dict()
        # a big model's copy (and the GUI's load of it) costs more: space the snapshots out to keep it ~2 %
        self.last_snapshot = now + max(0.0, (time.perf_counter() - t0) / SNAPSHOT_BUDGET - SNAPSHOT_INTERVAL)
        self.w.snapshot.emit(Snapshot(state, stats, self.trainer.step))


class TrainingWorker(QObject):
    """One run (or one "+1 epoch" continuation) in one thread: the panel makes a worker and a QThread per run,
    connects ``thread.started`` to :meth:`run`, and the thread ends when the run does. A continuation hands the
    previous run's Trainer (which only worker threads ever use) to the next worker."""

    started = pyqtSignal(object)  # RunStarted
    batches = pyqtSignal(object)  # BatchPacket
    epochEnded = pyqtSignal(object)  # EpochEnd
    lrChanged = pyqtSignal(float, float)  # (epoch position, new learning rate) once the trainer applied it
    snapshot = pyqtSignal(object)  # Snapshot
    finished = pyqtSignal(object)  # RunFinished
    failed = pyqtSignal(str)  # a readable message; the run did not start or broke off

    def __init__(self, control: TrainingControl, job: TrainJob, trainer: Trainer | None = None,
                 duration: float = 0.0) -> None:
        super().__init__()  # no parent, or moveToThread would silently refuse
        self.control = control
        self.job = job
        self.trainer = trainer
        self._duration = duration

    @pyqtSlot()
    def run(self) -> None:
        """Train (in the worker thread) until the run finishes, diverges or is stopped; then end the thread."""
        try:
            self._run(self.job)
        except Exception as e:  # a bug or a dataset surprise must not take the window down
            detail = traceback.format_exception_only(type(e), e)[-1].strip()
            self.failed.emit(f"Training failed: {detail}")
        finally:
            app = QCoreApplication.instance()
            if app is not None:
                self.moveToThread(app.thread())  # hand the object back, so the GUI thread may delete it
            QThread.currentThread().quit()

    def _run(self, job: TrainJob) -> None:
        ctl = self.control
        if ctl.stop_requested:  # stopped (or the window closed) before the thread got going
            self.failed.emit("Stopped before the run started")
            return
        continuing = job.more_epochs > 0 and self.trainer is not None
        if continuing:
            trainer = self.trainer
        else:
            try:
                job.config.validate()
                splits = make_splits(job.dataset, val_size=job.config.val_size, limit=job.config.limit)
            except ValueError as e:
                self.failed.emit(f"Cannot start: {e}")
                return
            if len(splits.train_x) == 0:
                self.failed.emit("Cannot start: no training images left after holding out the validation set")
                return
            model = _StoppableModel(job.spec, seed=job.config.seed, init=job.config.init)
            model.should_stop = lambda: ctl.stop_requested
            trainer = Trainer(model, splits, job.config, control=ctl)
            self.trainer, self._duration = trainer, 0.0
        src = trainer.splits.val_x if len(trainer.splits.val_x) else trainer.splits.train_x
        probe = to_float(src[:DEAD_PROBE_IMAGES])
        fwd = _Forwarder(self, trainer, probe)
        start_step = trainer.step

        class _Begin(Callback):
            def on_fit_begin(_, e: FitBegin) -> None:
                self.started.emit(RunStarted(job, e, trainer.model.copy(), start_step, continuing))

        trainer.callbacks = [_Begin(), fwd]
        t0 = time.perf_counter()
        try:
            end = trainer.fit(job.more_epochs if continuing else None)
        except _Cancelled:
            per_epoch = max(1, -(-len(trainer.splits.train_x) // trainer.config.batch_size))
            msg = f"stopped by the user during validation after epoch {trainer.epochs_done}"
            trainer.history.status, trainer.history.message = "stopped", msg
            end = FitEnd("stopped", msg, trainer.step / per_epoch, trainer.step, time.perf_counter() - t0)
        finally:
            trainer.callbacks = []
        self._duration += end.seconds
        fwd.flush(time.perf_counter())
        stats = fwd.compute_stats(time.perf_counter(), force=True)
        self.finished.emit(RunFinished(
            job=job, end=end, history=copy.deepcopy(trainer.history),
            config=dataclasses.replace(trainer.config, epochs=max(trainer.epochs_done, 1)),
            state=trainer.model.state_dict(), stats=stats, duration=self._duration,
            metrics=final_metrics(trainer.history), trainer=trainer,
        ))


def final_metrics(history: RunHistory) -> dict[str, float]:
    """The last epoch's numbers (what the runs list shows); only those that were measured."""
    if not history.epochs:
        return {}
    last = history.epochs[-1]
    keys = ("val_accuracy", "val_loss", "train_accuracy", "train_loss")
    return {k: float(last[k]) for k in keys if last.get(k) is not None}
