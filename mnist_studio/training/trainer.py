"""The fit loop.

One :class:`Trainer` owns a model, its optimizer, the data splits and the run's history. ``fit()`` runs epochs of
shuffled mini-batches and reports through callbacks; it can be called again to continue (the studio's "+1 epoch"),
with the optimizer's moments and the step counter carried over. Progress is counted in optimizer steps: a fit that
was stopped mid-epoch leaves the rest of that epoch's batch order for the next fit, so "one more epoch" after a stop
at epoch 0.08 trains to epoch 1.08 on exactly the batches an uninterrupted run would have seen.

Two things reach a running fit from other threads, both looked at between two batches only: the fit's
:class:`~mnist_studio.training.stop.StopToken` (pause, resume, stop; the validation pass looks at it between chunks
too) and live changes sent as :mod:`~mnist_studio.training.commands` with :meth:`Trainer.send`, whose effects come
back as ``on_setting_changed`` events. A batch-size change waits for the next epoch (the epoch's batch order is
drawn at its start); from there an epoch has another number of steps, so progress in epochs is counted from the
last such change (``_segment``: its step, its epoch, the steps per epoch since), and a fit's target step is
converted to the new size (one asked for epochs still ends at the end of an epoch). A run that blows up (a NaN, or a smoothed loss far above its best for 20
batches; see :mod:`mnist_studio.training.divergence`) stops as *diverged*, with the weights and optimizer state from
before the blow-up restored, so the model is left usable. The same seed gives the same run: the model's initial
weights, the shuffling, the dropout masks and the augmentation all draw from generators derived from it, and none
of them depends on how the run is cut into fits. Each fit is recorded (``history.fits``) beside the live changes, so
a run can be replayed exactly (:mod:`mnist_studio.training.replay`).

The learning rate is a schedule *piece*'s start rate times the schedule's factor since the piece began: the run's
rate from epoch 0, a live change from its epoch on, and a warm restart when "+1 epoch" goes past the end of a cosine
schedule (which ends at ``min_lr_factor``, by default 0: training on would do nothing).
"""

from __future__ import annotations

import time
from typing import Iterable

import numpy as np

from mnist_studio.data.augmentations import augmentation_name, make_augmentation
from mnist_studio.data.datasets import to_float
from mnist_studio.data.splits import Splits, batches_per_epoch, minibatches
from mnist_studio.nn.losses import make_loss
from mnist_studio.nn.model import Model
from mnist_studio.nn.spec import validate
from mnist_studio.nn.optim import Optimizer
from mnist_studio.nn.parallel import DataParallelStep, can_split
from mnist_studio.training.commands import Command, CommandQueue
from mnist_studio.training.config import TrainConfig
from mnist_studio.training.divergence import DivergenceGuard
from mnist_studio.training.events import (BatchEnd, Callback, EpochEnd, FitBegin, FitEnd, ScheduleRestart,
                                          SettingChanged)
from mnist_studio.training.history import RunHistory
from mnist_studio.training.metrics import evaluate
from mnist_studio.training.stop import Stopped, StopToken


class Diverged(RuntimeError):
    pass


class Trainer:
    def __init__(self, model: Model, splits: Splits, config: TrainConfig, callbacks: Iterable[Callback] = (),
                 optimizer: Optimizer | None = None, commands: CommandQueue | None = None) -> None:
        validate(model.spec, batch_size=config.batch_size)  # SpecError if a batch's activations exceed the limit
        self.model = model
        self.splits = splits
        self.config = config
        self.callbacks = list(callbacks)
        self.commands = commands or CommandQueue()  # live changes waiting for the next batch (see send)
        self.optimizer = optimizer or config.make_optimizer()
        self.schedule = config.make_schedule()
        # the schedule piece in force: (start epoch, rate there, end epoch of a schedule that ends)
        self.piece: tuple[float, float, float] = (0.0, self.optimizer.lr, float(config.epochs))
        self.loss = make_loss(config.loss)
        self.history = RunHistory()
        self.epochs_done = 0
        self.step = 0
        self.samples_seen = 0
        self.train_seconds = 0.0
        seeds = np.random.SeedSequence(config.seed).spawn(3)
        self._shuffle_rng = np.random.default_rng(seeds[0])
        self._augment_rng = np.random.default_rng(seeds[1])
        dropout_base = int(np.random.default_rng(seeds[2]).integers(2**62))
        for k, layer in enumerate(model.layers):  # dropout masks follow the run's seed
            layer.reseed(dropout_base + k)
        self._augment = make_augmentation(config.augment)
        self.augment = augmentation_name(config.augment)  # the augmentation in force (a live change may switch it)
        self.batch_size = config.batch_size  # the batch size in force (a live change applies at an epoch start)
        # progress in epochs since the last batch-size change: (its step, its epoch, steps per epoch since)
        self._segment = (0, 0, batches_per_epoch(len(splits.train_x), config.batch_size))
        self._deferred: list[Command] = []  # changes waiting for the next epoch start (the batch size)
        self._fit_target = (0, None)  # the running fit's (planned step, until_step)
        self._params = [p for _, p, _ in model.named_params()]
        self._grads = [g for _, _, g in model.named_params()]
        self.guard = DivergenceGuard(config.batch_size)
        self._planned: list[tuple[int, Command]] = []  # recorded changes to make again at their steps (replay)
        self._twin_rngs: list | None = None  # the half-batch replica's random streams, kept from fit to fit
        # the epoch in progress: its batch order, batches done, (loss sum, hits, images) and training seconds
        self._batches: list[np.ndarray] | None = None
        self._batch_no = 0
        self._sums = [0.0, 0, 0]
        self._epoch_seconds = 0.0

    @property
    def base_lr(self) -> float:
        """The rate the schedule's current piece started from (the configured one until a change or restart)."""
        return self.piece[1]

    # -- helpers ---------------------------------------------------------------------------------------------------
    def _emit(self, name: str, event) -> None:
        for cb in self.callbacks:
            getattr(cb, name)(event)

    def _checkpoint(self, epoch_end: bool = False) -> None:
        """Consult the divergence guard: keep a copy of the weights when it asks for one, after checking that they
        are finite (checked at every epoch end too, so a last step that broke them is never reported as done)."""
        if not (epoch_end or self.guard.snapshot_due(self.step)):
            return
        if not all(np.isfinite(p).all() for p in self._params):
            self.guard.weights_went_bad(self.step)
            raise self._diverged()
        if self.guard.snapshot_due(self.step, epoch_end):
            self.guard.keep(self.step, (self.model.state_dict(), self.optimizer.state_dict()))

    def _diverged(self) -> Diverged:
        """Restore the weights from before the blow-up; the error to raise says what happened."""
        snap = self.guard.restore_point()
        weights, opt_state = snap.state
        self.model.load_state_dict(weights)
        self.optimizer.load_state_dict(opt_state, self._params)  # a state from before the first step resets it
        reason = self.guard.reason
        self.guard.restored(snap)
        return Diverged(f"diverged: lower the learning rate ({reason}, epoch {self._epoch_at(self.step):.2f}, "
                        f"with lr {self.optimizer.lr:g}); the weights from step {snap.step} were restored")

    def _lr_for(self, epoch: float) -> float:
        start, lr, end = self.piece
        return lr * self.schedule.factor_from(start, epoch, end)

    def _make_parallel(self) -> DataParallelStep | None:
        """The multi-core step for this fit, if the model allows it. Making its replica draws from every layer's
        random stream; that is undone, and the replicas get back the streams of the previous fit's, so a run cut
        into several fits sees the same dropout masks as one that was not."""
        if not can_split(self.model, self.batch_size):
            return None
        states = [layer.rng.bit_generator.state for layer in self.model.layers]
        parallel = DataParallelStep(self.model, self.loss)
        if self._twin_rngs is None:
            self._twin_rngs = [[layer.rng for layer in r.layers] for r in parallel.replicas]
        else:
            for layer, state in zip(self.model.layers, states):
                layer.rng.bit_generator.state = state
            for replica, rngs in zip(parallel.replicas, self._twin_rngs):
                for layer, rng in zip(replica.layers, rngs):
                    layer.rng = rng
        return parallel

    # -- live changes ----------------------------------------------------------------------------------------------
    def send(self, command: Command) -> None:
        """Queue a live change from any thread; it takes effect before the next batch (see :mod:`.commands`)."""
        self.commands.put(command)

    def plan(self, changes: Iterable[tuple[int, Command]]) -> None:
        """Changes to make again before the batch after ``step`` steps, as recorded (a re-run replays them)."""
        self._planned = sorted(list(self._planned) + list(changes), key=lambda sc: sc[0])

    def set_learning_rate(self, lr: float, epoch: float) -> None:
        """Make ``lr`` the rate at ``epoch``; the schedule goes on from it (a new piece, same end)."""
        self.piece = (epoch, float(lr), self.piece[2])

    def set_optimizer_setting(self, name: str, value: float) -> None:
        """One of the optimizer's own numeric settings (``momentum``, Adam's ``beta1``, ...) from the next step on;
        ValueError if the run's optimizer has no such setting."""
        opt = self.optimizer
        if name not in opt.settings:
            raise ValueError(f"{opt.name} has no setting {name!r}")
        opt.settings[name] = float(value)
        setattr(opt, name, float(value))

    def set_weight_decay(self, value: float) -> None:
        self.optimizer.weight_decay = float(value)

    def set_augmentation(self, name: str) -> None:
        self.augment = augmentation_name(name)
        self._augment = make_augmentation(self.augment)

    def set_batch_size(self, size: int) -> None:
        """The batch size from this epoch start on (called between epochs only; see :class:`SetBatchSize`).
        ValueError if the network's activations would exceed the size limits at that batch size."""
        if self._batches is not None:
            raise RuntimeError("the batch size changes between epochs only")
        validate(self.model.spec, batch_size=size)  # SpecError (a ValueError)
        start, epoch, old = self._segment
        new = batches_per_epoch(len(self.splits.train_x), size)
        self.batch_size = size
        self._segment = (self.step, self.epochs_done, new)
        planned, until = self._fit_target
        if planned > self.step:  # the fit's remaining epochs, counted in the new size's steps
            planned = self.step + ((planned - self.step) * new * 2 + old) // (2 * old)
        self._fit_target = (planned, until)

    def live_value(self, setting: str) -> float | str | None:
        """The value a live change of ``setting`` would replace (None: not one the trainer knows)."""
        opt = self.optimizer
        values = {"lr": opt.lr, "weight_decay": opt.weight_decay, "augment": self.augment,
                  "batch_size": self.batch_size}
        return values[setting] if setting in values else opt.settings.get(setting)

    def _apply_commands(self, epoch: float, epoch_start: bool = False) -> None:
        """Apply the changes due before the next batch: the queued ones and the planned ones of this step; one
        that waits for an epoch start is held until then. A change the run cannot take (a setting its optimizer
        does not have) is dropped, with no effect and no record."""
        due = []
        while self._planned and self._planned[0][0] <= self.step:
            due.append(self._planned.pop(0)[1])
        ready = []
        for command in due + self.commands.take_all():
            (ready if epoch_start or not command.at_epoch_start else self._deferred).append(command)
        if epoch_start:
            ready, self._deferred = self._deferred + ready, []
        for command in ready:
            previous = self.live_value(command.setting)
            try:
                value = command.apply(self, epoch)
            except ValueError:
                continue
            change = SettingChanged(self.step, epoch, command.setting, value, previous)
            self.history.add_change(change)
            self._emit("on_setting_changed", change)

    def _epoch_at(self, step: int) -> float:
        """Progress in epochs at ``step`` (a step since the last batch-size change): ``step / steps per epoch`` in a
        run that kept its batch size."""
        start, epoch, per_epoch = self._segment
        return (step - start) / per_epoch + epoch

    def _target(self) -> int:
        planned, until = self._fit_target
        return planned if until is None else min(planned, until)

    def _restart_if_ended(self, epochs: int | None, end_step: int, per_epoch: int) -> ScheduleRestart | None:
        """A continuation past the end of a schedule that ends restarts it over the added epochs, from the rate
        the finished piece started at (a warm restart)."""
        start, lr, end = self.piece
        here, until = self._epoch_at(self.step), self._epoch_at(end_step)
        if epochs is None or not self.schedule.ends or until <= end + 1e-9 or until <= here:
            return None
        self.piece = (here, lr, until)
        return ScheduleRestart(lr, here, until)

    # -- the loop --------------------------------------------------------------------------------------------------
    def fit(self, epochs: int | None = None, stop: StopToken | None = None, until_step: int | None = None) -> FitEnd:
        """Train ``epochs`` more epochs' worth of steps (default: up to ``config.epochs`` in all); returns how the
        run ended. ``stop`` pauses or ends it from another thread (a token serves one fit: give the next its own);
        ``until_step`` ends it as stopped at that step (a replay of a run the user stopped)."""
        stop = stop or StopToken()
        s = self.splits
        n = len(s.train_x)
        if self._segment[:2] == (0, 0):  # (the training set may have been swapped since)
            self._segment = (0, 0, batches_per_epoch(n, self.batch_size))
        seg_step, seg_epoch, per_epoch = self._segment
        start_step = self.step
        planned = (seg_step + (self.config.epochs - seg_epoch) * per_epoch if epochs is None
                   else self.step + max(0, epochs) * per_epoch)
        restart = self._restart_if_ended(epochs, planned, per_epoch)
        count = (self.config.epochs - self.epochs_done) if epochs is None else epochs
        self._emit("on_fit_begin", FitBegin(max(0, count), self.epochs_done, per_epoch, n, len(s.val_x),
                                            self.model.num_params(), start_step, max(planned, start_step), restart))
        self._fit_target = (planned, until_step)
        t_start = time.perf_counter()
        paused = 0.0
        status, message = "finished", f"trained {count} epoch{'s' if count != 1 else ''}"
        # the shards of each batch at once, one per core (see nn/parallel.py), when the model allows it
        self._parallel = self._make_parallel()
        try:
            while self.step < self._target():
                if stop.stopped:
                    break
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # divergence is checked below
                    stopped, waited = self._run_batches(n, stop)
                paused += waited
                if stopped:
                    break
            if self.step < self._fit_target[0]:
                status = "stopped"
                message = f"stopped by the user at epoch {self._epoch_at(self.step):.2f}"
        except Diverged as e:
            status, message = "diverged", str(e)
        except Stopped:  # during the validation pass, which the stop cut short: the epoch's steps are kept
            status, message = "stopped", f"stopped by the user during validation after epoch {self.epochs_done}"
        finally:
            if self._parallel is not None:
                self._parallel.close()
                self._parallel = None
        seconds = time.perf_counter() - t_start - paused
        self.train_seconds += seconds
        self.history.status, self.history.message = status, message
        self.history.fits.append({"epochs": epochs, "start_step": start_step, "end_step": self.step,
                                  "status": status})
        end = FitEnd(status, message, self._epoch_at(self.step), self.step, seconds)
        self._emit("on_fit_end", end)
        return end

    def _run_batches(self, n: int, stop: StopToken) -> tuple[bool, float]:
        """The epoch in progress up to its end or the fit's target step, whichever comes first; returns (stopped
        early, seconds spent paused). A stop during validation raises Stopped."""
        model, opt, loss = self.model, self.optimizer, self.loss
        s = self.splits
        if self._batches is None:  # a new epoch: its order is drawn now, once, after the changes waiting for it
            self._checkpoint()
            self._apply_commands(self._epoch_at(self.step), epoch_start=True)
            self._batches = list(minibatches(n, self.batch_size, self._shuffle_rng))
            self._batch_no, self._sums, self._epoch_seconds = 0, [0.0, 0, 0], 0.0
        t0 = time.perf_counter()
        paused = 0.0
        window_t, window_n = time.perf_counter(), 0
        rate = 0.0
        sums = self._sums
        per_epoch, target = self._segment[2], self._target()
        try:
            while self._batch_no < len(self._batches) and self.step < target:
                if stop.stopped:
                    return True, paused
                if stop.paused:
                    paused += stop.wait_while_paused()
                    window_t = time.perf_counter()
                    window_n = 0
                    if stop.stopped:
                        return True, paused
                idx = self._batches[self._batch_no]
                epoch_pos = self._epoch_at(self.step)
                self._apply_commands(epoch_pos)
                opt.lr = self._lr_for(epoch_pos)

                x = to_float(s.train_x[idx])
                y = s.train_y[idx]
                if self._augment is not None:
                    x = self._augment(x, self._augment_rng, y)
                if self._parallel is not None:
                    value, scores = self._parallel(model.prepare(x), y)
                else:
                    value, scores = model.loss_and_grads(model.prepare(x), y, loss)
                if self.guard.observe(self.step + 1, value):
                    raise self._diverged()
                opt.step(self._params, self._grads)
                self.step += 1
                self._batch_no += 1
                self.samples_seen += len(idx)
                self._checkpoint()

                hits = int(np.count_nonzero(scores.argmax(axis=1) == y))
                sums[0] += value * len(idx)
                sums[1] += hits
                sums[2] += len(idx)
                window_n += len(idx)
                now = time.perf_counter()
                if now - window_t >= 0.25:
                    rate = window_n / (now - window_t)
                    window_t, window_n = now, 0
                elif rate == 0.0:
                    rate = window_n / max(now - window_t, 1e-9)
                event = BatchEnd(self.step, self._epoch_at(self.step), self._batch_no, per_epoch, value,
                                 hits / len(idx), opt.lr, rate)
                self.history.add_batch(event)
                self._emit("on_batch_end", event)
        finally:
            self._epoch_seconds += time.perf_counter() - t0 - paused
        if self._batch_no < len(self._batches):
            return False, paused  # the target falls mid-epoch: the rest of the order waits for the next fit
        self._end_epoch(stop)
        return False, paused

    def _end_epoch(self, stop: StopToken) -> None:
        s = self.splits
        self._checkpoint(epoch_end=True)
        self.epochs_done += 1
        self._batches = None
        val_loss = val_acc = None
        if len(s.val_x):
            ev = evaluate(self.model, s.val_x, s.val_y, self.config.loss, stop=stop)
            val_loss, val_acc = ev.loss, ev.accuracy
        loss_sum, correct, seen = self._sums
        end = EpochEnd(self.epochs_done, self.step, loss_sum / max(seen, 1), correct / max(seen, 1), val_loss,
                       val_acc, self._epoch_seconds, self.optimizer.lr)
        self.history.add_epoch(end)
        self._emit("on_epoch_end", end)
