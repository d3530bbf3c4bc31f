"""Live changes to a run: commands go in, events come out.

Any thread (the studio's controls, a test, later a re-run replaying a recorded run) hands a command to the
trainer with :meth:`~mnist_studio.training.trainer.Trainer.send`. The trainer applies the queued commands between
two batches, records each effect in its history and reports it to its callbacks as a
:class:`~mnist_studio.training.events.SettingChanged` event, saying at which step and epoch it took effect. That
event is the only way a view learns of a change: nothing polls the history.

A command is a small frozen record. It checks its value when it is made, so a bad value is refused in the thread
that sent it, and it applies itself through the trainer's public methods. A new live knob is a new command class
here plus the trainer method it calls and a name in :func:`command_for` (what a replay rebuilds from the record):
the queue, the event and the history stay as they are. The knobs: the learning rate, the optimizer's own numeric
settings (momentum; Adam's β1, which is its momentum, and β2; RMSprop's ρ; ε), weight decay and the augmentation,
all between two batches, and the batch size, which changes the epoch's batch order and so waits for the next epoch
(``at_epoch_start``: the trainer holds it until the current epoch is over). A setting the run's optimizer does
not have (momentum for Adam, whose momentum is β1) is refused when the trainer comes to apply it: it has no
effect and leaves no record.

A change is recorded with ``step``, the optimizer steps taken before it, so a run can be replayed exactly: send a
change recorded at step 0 before ``fit``, and one recorded at step ``s`` from a callback's ``on_batch_end`` for
step ``s``; each then takes effect before the same batch as in the original run.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import ClassVar, Protocol

from mnist_studio.data.augmentations import augmentation_name
from mnist_studio.nn.optim import optimizer_settings

# the optimizers' settings that can change while training: the numeric ones (flags such as Nesterov stay as started)
LIVE_OPTIMIZER_SETTINGS = tuple(name for name, p in optimizer_settings().items() if p.kind == "float")
MAX_WEIGHT_DECAY = 1.0


class Steerable(Protocol):
    """What commands may call on a trainer (its public methods for live changes; a new knob adds its own)."""

    def set_learning_rate(self, lr: float, epoch: float) -> None: ...

    def set_optimizer_setting(self, name: str, value: float) -> None: ...

    def set_weight_decay(self, value: float) -> None: ...

    def set_augmentation(self, name: str) -> None: ...

    def set_batch_size(self, size: int) -> None: ...


class Command:
    """A live change. ``setting`` names what it changes (the name its events and history records carry)."""

    setting: ClassVar[str] = ""
    at_epoch_start: ClassVar[bool] = False  # held back until the next epoch starts (the batch size)

    def apply(self, trainer: Steerable, epoch: float) -> float | str:
        """Make the change on ``trainer`` before the batch at ``epoch``; returns the value now in effect."""
        raise NotImplementedError


@dataclass(frozen=True)
class SetLearningRate(Command):
    """The learning rate from the next batch on (a schedule then goes on from it)."""

    lr: float
    setting: ClassVar[str] = "lr"

    def __post_init__(self) -> None:
        if not (isinstance(self.lr, (int, float)) and self.lr > 0 and self.lr < 100):
            raise ValueError(f"the learning rate must be between 0 and 100, got {self.lr}")

    def apply(self, trainer: Steerable, epoch: float) -> float:
        trainer.set_learning_rate(float(self.lr), epoch)
        return float(self.lr)


@dataclass(frozen=True)
class SetOptimizerSetting(Command):
    """One of the optimizer's numeric settings from the next batch on (``momentum``, ``beta1``, ...; checked
    against the optimizer registry's range). Its moments are kept: the next step mixes them with the new value."""

    name: str
    value: float

    def __post_init__(self) -> None:
        if self.name not in LIVE_OPTIMIZER_SETTINGS:
            raise ValueError(f"{self.name!r} cannot change while training; these can: "
                             f"{', '.join(LIVE_OPTIMIZER_SETTINGS)}")
        object.__setattr__(self, "value", optimizer_settings()[self.name].coerce(self.value))  # ParamError

    @property
    def setting(self) -> str:  # type: ignore[override]
        return self.name

    def apply(self, trainer: Steerable, epoch: float) -> float:
        trainer.set_optimizer_setting(self.name, float(self.value))
        return float(self.value)


@dataclass(frozen=True)
class SetWeightDecay(Command):
    """Weight decay from the next batch on (0 turns it off)."""

    value: float
    setting: ClassVar[str] = "weight_decay"

    def __post_init__(self) -> None:
        if not (isinstance(self.value, (int, float)) and 0 <= self.value <= MAX_WEIGHT_DECAY):
            raise ValueError(f"weight decay must be between 0 and {MAX_WEIGHT_DECAY:g}, got {self.value}")

    def apply(self, trainer: Steerable, epoch: float) -> float:
        trainer.set_weight_decay(float(self.value))
        return float(self.value)


@dataclass(frozen=True)
class SetAugmentation(Command):
    """The augmentation (a name of :mod:`mnist_studio.data.augmentations`; ``none`` turns it off) from the next
    batch on. Its random stream goes on where it was, so a replay draws the same distortions."""

    name: str
    setting: ClassVar[str] = "augment"

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", augmentation_name(self.name))  # ValueError naming the choices

    def apply(self, trainer: Steerable, epoch: float) -> str:
        trainer.set_augmentation(self.name)
        return self.name


@dataclass(frozen=True)
class SetBatchSize(Command):
    """The batch size from the next epoch on: an epoch's batch order is drawn when it starts, so a change sent
    mid-epoch waits for the epoch's end (the trainer holds it; the event says where it took effect)."""

    size: int
    setting: ClassVar[str] = "batch_size"
    at_epoch_start: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if not (isinstance(self.size, int) and not isinstance(self.size, bool) and 1 <= self.size <= 60000):
            raise ValueError(f"the batch size must be between 1 and 60,000, got {self.size}")

    def apply(self, trainer: Steerable, epoch: float) -> int:
        trainer.set_batch_size(self.size)
        return self.size


def command_for(setting: str, value: float | str) -> Command:
    """The command that makes ``setting`` ``value`` (a replay rebuilds recorded changes with it); ValueError for a
    setting that cannot change while training or a value it cannot take."""
    if setting == "lr":
        return SetLearningRate(float(value))
    if setting == "weight_decay":
        return SetWeightDecay(float(value))
    if setting == "augment":
        return SetAugmentation(str(value))
    if setting == "batch_size":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return SetBatchSize(value)  # type: ignore[arg-type]
    if setting in LIVE_OPTIMIZER_SETTINGS:
        return SetOptimizerSetting(setting, float(value))
    raise ValueError(f"{setting!r} cannot change while training")


class CommandQueue:
    """Commands waiting for the next batch boundary, in the order they were sent; safe to use from any thread."""

    def __init__(self) -> None:
        self._items: deque[Command] = deque()
        self._lock = threading.Lock()

    def put(self, command: Command) -> None:
        if not isinstance(command, Command):
            raise TypeError(f"not a trainer command: {command!r}")
        with self._lock:
            self._items.append(command)

    def take_all(self) -> list[Command]:
        with self._lock:
            items = list(self._items)
            self._items.clear()
        return items
