"""What the trainer reports, as plain records, and the callback interface that receives them.

Keeping these free of any GUI type is what lets the same loop drive the CLI's progress bar, the studio's plots
(through one Qt worker that forwards them as signals) and the tests.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class FitBegin:
    epochs: int  # epochs this call will run
    start_epoch: int  # epochs completed before it
    batches_per_epoch: int
    train_size: int
    val_size: int
    num_params: int
    start_step: int = 0  # optimizer steps taken before it (a stopped run continues mid-epoch)
    end_step: int = 0  # the step it trains up to: the x axis ends at end_step / batches_per_epoch
    restart: "ScheduleRestart | None" = None  # a warm restart of an ended schedule over this fit's epochs


@dataclass
class ScheduleRestart:
    """A continuation went past the end of the schedule (cosine reaches its minimum there): the schedule starts
    again from ``lr`` at epoch ``start`` and ends at ``end`` (a warm restart)."""

    lr: float
    start: float
    end: float


@dataclass
class BatchEnd:
    step: int  # optimizer steps taken so far in the run (1 after the first batch)
    epoch: float  # progress in epochs: 1.5 = half-way through the second epoch
    batch: int  # batch number within the current epoch, from 1
    batches_per_epoch: int
    loss: float
    accuracy: float  # share of the batch classified right
    lr: float
    samples_per_second: float


@dataclass
class EpochEnd:
    epoch: int  # epochs completed, from 1
    step: int
    train_loss: float  # mean over the epoch's batches
    train_accuracy: float
    val_loss: float | None
    val_accuracy: float | None
    seconds: float
    lr: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SettingChanged:
    """A live change (a :mod:`~mnist_studio.training.commands` command) took effect before batch ``step + 1``."""

    step: int  # optimizer steps taken before the change
    epoch: float  # progress in epochs where it took effect
    setting: str  # what changed: "lr", "momentum", "beta1", "weight_decay", "augment", "batch_size", ...
    value: float | str  # its new value (the augmentation's name; a whole number for the batch size)
    previous: float | str | None = None  # the value before the change


@dataclass
class FitEnd:
    status: str  # "finished", "stopped" or "diverged"
    message: str
    epoch: float
    step: int
    seconds: float  # time spent training in this call, pauses excluded


class Callback:
    """Override what you need; every method is called from the training thread."""

    def on_fit_begin(self, event: FitBegin) -> None: ...

    def on_batch_end(self, event: BatchEnd) -> None: ...

    def on_epoch_end(self, event: EpochEnd) -> None: ...

    def on_setting_changed(self, event: SettingChanged) -> None: ...

    def on_fit_end(self, event: FitEnd) -> None: ...
