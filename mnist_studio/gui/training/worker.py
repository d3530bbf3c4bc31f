"""The training worker: one QObject per run, living in its own QThread, that owns the run's Trainer and speaks only
through signals.

The worker lives as long as its run: from Start until the next run replaces it or the window closes. Between two
fits its thread idles in its event loop; "+1 epoch" is one more queued fit on the same trainer, so the Trainer never
leaves the worker's thread. The GUI thread never touches the trainer's model: the worker sends out *copies*, batch
metrics condensed to at most ~5 packets a second (so a 3,000-batches-a-second logistic regression does not flood
the event queue), and weight snapshots with layer statistics at most one a second. Statistics cost training time,
so they also keep to a small share of it (``STATS_BUDGET``): on a big network they simply come less often.

The GUI steers a running fit without queueing behind it (the worker's thread is busy in ``fit``): each fit gets its
own :class:`~mnist_studio.training.stop.StopToken` for pause / resume / stop, and live changes are trainer commands
put straight into the run's thread-safe command queue (:meth:`TrainingWorker.send`). Their effects come back as
``settingChanged`` events. New kinds of work for the same model (teaching on the user's drawings, say) are further
request types served by the same slot, with the same stop token.

A re-run is one request carrying a :class:`~mnist_studio.training.replay.ReplayPlan`: the recorded fits (stops and
"+1 epoch" included) and live changes are replayed in the worker's thread as one run for the GUI (one ``started``,
one ``finished``), so it reproduces the recorded run batch for batch.
"""

from __future__ import annotations

import dataclasses
import time
import traceback
from dataclasses import dataclass, field

import numpy as np
from PyQt6.QtCore import QCoreApplication, QObject, QThread, pyqtSignal, pyqtSlot

from mnist_studio.data.datasets import Dataset, to_float
from mnist_studio.data.splits import batches_per_epoch, make_splits
from mnist_studio.nn.model import Model
from mnist_studio.nn.spec import validate
from mnist_studio.training import (BatchEnd, Callback, Command, EpochEnd, FitBegin, FitEnd, SettingChanged, StopToken,
                                   TrainConfig, Trainer)
from mnist_studio.training.checkpoints import CheckpointCollector
from mnist_studio.training.commands import CommandQueue
from mnist_studio.studio.weights import (DEAD_PROBE_IMAGES, DeadUnits, LayerStats, dead_from_history,
                                         dead_relu_units, layer_label, weight_stats)
from mnist_studio.training.replay import ReplayPlan
from mnist_studio.training.runs import RunRecord, new_run_id, record_of
from mnist_studio.training.teststrip import strip_probabilities
from mnist_studio.training.weight_history import WeightHistory
from mnist_studio.training.weight_recorder import WeightHistoryRecorder

BATCH_INTERVAL = 1 / 5  # seconds between two batch packets (the plots redraw twice a second anyway)
SNAPSHOT_INTERVAL = 1.0  # seconds between two weight snapshots (each costs the GUI a redraw of the weight views)
SNAPSHOT_BUDGET = 0.02  # share of training time copying the weights may take
STATS_BUDGET = 0.005  # share of training time the weight statistics may take
DEAD_BUDGET = 0.005  # share for the dead-unit probe (a forward pass)
STRIP_BUDGET = 0.01  # share for reading the test strip (a forward pass of 24 images: ~10 ms for lenet)
HISTORY_BUDGET = 0.01  # share for the weight history's samples (training/weight_recorder.py); None: no limit


@dataclass
class TrainJob:
    """One run: what to train, on which data, and the name and id its records carry."""

    spec: dict
    config: TrainConfig
    dataset: Dataset
    name: str = ""
    run_id: str = field(default_factory=new_run_id)
    created: float = field(default_factory=time.time)  # Unix time the run started
    strip: np.ndarray | None = None  # the test strip's images (n × 28 × 28 float): read with every snapshot


@dataclass
class FitRequest:
    """Train the run: its configured epochs the first time (``epochs=None``), then ``epochs`` more; or, with a
    ``plan``, replay a recorded run's fits and live changes."""

    epochs: int | None
    stop: StopToken
    plan: ReplayPlan | None = None


@dataclass
class RunStarted:
    job: TrainJob
    begin: FitBegin
    model: Model  # a copy for the GUI thread (never touched again by the worker)
    start_step: int
    continuing: bool
    strip: np.ndarray | None = None  # the test strip's probabilities at the start


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
    strip: np.ndarray | None = None  # the test strip's probabilities with these weights
    history: WeightHistory | None = None  # a copy of the run's weight and gradient history so far


@dataclass
class RunFinished:
    """A fit ended: how, the run's record as it stands (same id after "+1 epoch"), and the final weights."""

    job: TrainJob
    end: FitEnd
    record: RunRecord
    state: dict  # the final (or, after divergence, the restored) weights
    stats: LayerStats
    strip: np.ndarray | None = None  # the test strip's probabilities with those weights


class _Forwarder(Callback):
    """Trainer callbacks (worker thread) → throttled signals."""

    def __init__(self, worker: "TrainingWorker", trainer: Trainer, probe: np.ndarray) -> None:
        self.w, self.trainer, self.probe = worker, trainer, probe
        self.epochs: list[float] = []
        self.losses: list[float] = []
        self.accs: list[float] = []
        self.last_emit = self.last_snapshot = 0.0
        self.next_stats = self.next_dead = self.next_strip = 0.0
        self.last: BatchEnd | None = None
        self.dead: list[DeadUnits] = []
        self.dead_step = -1  # the step self.dead was counted at
        self.stats = LayerStats()
        self.continuing = False  # set by the worker before each fit
        self.announce = True  # a replay's later fits are part of the same run for the GUI: not announced
        self.end_step: int | None = None  # a replay's last step (its first fit's begin says so)

    def on_fit_begin(self, e: FitBegin) -> None:
        if not self.announce:
            return
        t = self.trainer
        if self.end_step is not None:
            e = dataclasses.replace(e, end_step=self.end_step)
        self.w.started.emit(RunStarted(self.w.job, e, t.model.copy(), t.step, self.continuing,
                                       self.strip(force=True)))

    def on_batch_end(self, e: BatchEnd) -> None:
        self.epochs.append(e.epoch)
        self.losses.append(e.loss)
        self.accs.append(e.accuracy)
        self.last = e
        now = time.perf_counter()
        if now - self.last_emit >= BATCH_INTERVAL:
            self.flush(now)
        if now - self.last_snapshot >= SNAPSHOT_INTERVAL:
            self.snapshot(now)

    def on_setting_changed(self, e: SettingChanged) -> None:
        self.w.settingChanged.emit(e)

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
            rec = self.w._recorder
            last = dead_from_history(model, rec.history) if rec is not None else None
            if last is not None and last[0] > self.dead_step and (not force or last[0] == self.trainer.step):
                self.dead_step, self.dead = last  # the history counted them since: no second probe
            else:
                t0 = time.perf_counter()
                self.dead, self.dead_step = dead_relu_units(model, self.probe), self.trainer.step
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
        self.w.snapshot.emit(Snapshot(state, stats, self.trainer.step, self.strip(), self.w.weight_history()))

    def strip(self, force: bool = False) -> np.ndarray | None:
        """The test strip read with the current weights (24 images, one forward pass in evaluation mode), when its
        time budget allows (always when ``force``); None otherwise (the strip keeps showing the last reading)."""
        images = self.w.job.strip
        now = time.perf_counter()
        if images is None or not len(images) or not (force or now >= self.next_strip):
            return None
        probs = strip_probabilities(self.trainer.model, images)
        cost = time.perf_counter() - now
        self.next_strip = now + max(SNAPSHOT_INTERVAL, cost / STRIP_BUDGET)
        return probs


class TrainingWorker(QObject):
    """The worker of one run. The panel moves it into a new QThread, starts the thread and asks for fits with
    :meth:`fit`; :meth:`close` ends the thread once the current fit is over."""

    started = pyqtSignal(object)  # RunStarted
    batches = pyqtSignal(object)  # BatchPacket
    epochEnded = pyqtSignal(object)  # EpochEnd
    settingChanged = pyqtSignal(object)  # SettingChanged: a live change took effect
    snapshot = pyqtSignal(object)  # Snapshot
    finished = pyqtSignal(object)  # RunFinished
    failed = pyqtSignal(str)  # a readable message; the fit did not start or broke off
    checkpointsKept = pyqtSignal(object)  # list[Checkpoint]: the run's checkpoints so far (a new one was kept)
    _requested = pyqtSignal(object)  # FitRequest, or None to close (queued into the worker's thread)

    def __init__(self, job: TrainJob) -> None:
        super().__init__()  # no parent, or moveToThread would silently refuse
        self.job = job
        self.trainer: Trainer | None = None  # made by the first fit, in the worker's thread
        self.commands = CommandQueue()  # the run's live changes, also those sent before its trainer exists
        self.duration = 0.0  # seconds of training over every fit of this run, pauses excluded
        self._forwarder: _Forwarder | None = None
        self._checkpoints: CheckpointCollector | None = None  # the run's moments to go back to (time travel)
        self._recorder: WeightHistoryRecorder | None = None  # the run's weight and gradient history
        self._requested.connect(self._serve)

    # -- called from the GUI thread ----------------------------------------------------------------------------------
    def fit(self, epochs: int | None, stop: StopToken, plan: ReplayPlan | None = None) -> None:
        """Queue a fit: the run's configured epochs the first time (``None``), then ``epochs`` more; or the
        replay of a recorded run (``plan``, as the run's first request)."""
        self._requested.emit(FitRequest(epochs, stop, plan))

    def send(self, command: Command) -> None:
        """A live change for the running (or next) fit; safe from any thread, takes effect between two batches."""
        self.commands.put(command)

    def close(self) -> None:
        """End the thread after the current fit (stop that first with its token, or this waits for it)."""
        self._requested.emit(None)

    # -- in the worker's thread --------------------------------------------------------------------------------------
    def weight_history(self) -> WeightHistory | None:
        """A copy of the run's weight history so far, for another thread."""
        return self._recorder.history.copy() if self._recorder is not None else None

    @pyqtSlot(object)
    def _serve(self, request: FitRequest | None) -> None:
        if request is None:
            app = QCoreApplication.instance()
            if app is not None:
                self.moveToThread(app.thread())  # hand the object back, so the GUI thread may delete it
            QThread.currentThread().quit()
            return
        try:
            self._fit(request)
        except Exception as e:  # a bug or a dataset surprise must not take the window down
            detail = traceback.format_exception_only(type(e), e)[-1].strip()
            self.trainer = None  # in an unknown state: the run cannot be continued
            self.failed.emit(f"Training failed: {detail}")

    def _make_trainer(self) -> Trainer | None:
        job = self.job
        try:
            job.config.validate()
            validate(job.spec, batch_size=job.config.batch_size)  # the size limits at this batch size
            splits = make_splits(job.dataset, val_size=job.config.val_size, limit=job.config.limit)
        except ValueError as e:
            self.failed.emit(f"Cannot start: {e}")
            return None
        if len(splits.train_x) == 0:
            self.failed.emit("Cannot start: no training images left after holding out the validation set")
            return None
        model = Model(job.spec, seed=job.config.seed, init=job.config.init)
        trainer = Trainer(model, splits, job.config, commands=self.commands)
        src = splits.val_x if len(splits.val_x) else splits.train_x
        probe = to_float(src[:DEAD_PROBE_IMAGES])
        self._forwarder = _Forwarder(self, trainer, probe)
        self._recorder = WeightHistoryRecorder(model, probe, label=layer_label, budget=HISTORY_BUDGET,
                                               dead_budget=DEAD_BUDGET)
        self._checkpoints = CheckpointCollector(model, on_kept=self.checkpointsKept.emit)
        trainer.callbacks = [self._recorder, self._forwarder, self._checkpoints]  # (a snapshot holds the newest sample)
        return trainer

    def _fit(self, request: FitRequest) -> None:
        continuing = self.trainer is not None
        if not continuing:
            if request.stop.stopped:  # stopped (or the window closed) before the thread got going
                self.failed.emit("Stopped before the run started")
                return
            self.trainer = self._make_trainer()
            if self.trainer is None:
                return
        trainer, fwd = self.trainer, self._forwarder
        fwd.continuing = continuing
        if request.plan is None:
            end = trainer.fit(request.epochs, stop=request.stop)
            self.duration += end.seconds
        else:
            end = self._replay(trainer, fwd, request)
        fwd.flush(time.perf_counter())
        stats = fwd.compute_stats(time.perf_counter(), force=True)
        job = self.job
        record = record_of(trainer, job.spec, name=job.name, run_id=job.run_id, created=job.created,
                           dataset=job.dataset.name, duration=self.duration)
        record.checkpoints = list(self._checkpoints.checkpoints)  # copies of weights, never changed: shareable
        record.weight_history = self.weight_history()
        self.finished.emit(RunFinished(job, end, record, trainer.model.state_dict(), stats, fwd.strip(force=True)))

    def _replay(self, trainer: Trainer, fwd: _Forwarder, request: FitRequest) -> FitEnd:
        """The recorded fits one after the other, the recorded changes at their steps; a user's stop ends it."""
        plan = request.plan
        trainer.plan(plan.changes)
        per_epoch = batches_per_epoch(len(trainer.splits.train_x), trainer.config.batch_size)
        fwd.end_step = plan.end_step(trainer.config.epochs, per_epoch)
        try:
            for i, f in enumerate(plan.fits):
                fwd.announce = i == 0
                end = trainer.fit(f.epochs, stop=request.stop, until_step=f.until_step)
                self.duration += end.seconds
                if request.stop.stopped:
                    break
        finally:
            fwd.announce, fwd.end_step = True, None
        return end
