"""Live changes to a run: commands go in, events come out.

Any thread (the studio's controls, a test, later a re-run replaying a recorded run) hands a command to the
trainer with :meth:`~mnist_studio.training.trainer.Trainer.send`. The trainer applies the queued commands between
two batches, records each effect in its history and reports it to its callbacks as a
:class:`~mnist_studio.training.events.SettingChanged` event, saying at which step and epoch it took effect. That
event is the only way a view learns of a change: nothing polls the history.

A command is a small frozen record. It checks its value when it is made, so a bad value is refused in the thread
that sent it, and it applies itself through the trainer's public methods. A new live knob (momentum, weight decay,
augmentation, ...) is a new command class here plus the trainer method it calls and a list in the run history:
the queue and the event stay as they are.

A change is recorded with ``step``, the optimizer steps taken before it, so a run can be replayed exactly: send a
change recorded at step 0 before ``fit``, and one recorded at step ``s`` from a callback's ``on_batch_end`` for
step ``s``; each then takes effect before the same batch as in the original run.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import ClassVar, Protocol


class Steerable(Protocol):
    """What commands may call on a trainer (its public methods for live changes; a new knob adds its own)."""

    def set_learning_rate(self, lr: float, epoch: float) -> None: ...


class Command:
    """A live change. ``setting`` names what it changes (the name its events and history records carry)."""

    setting: ClassVar[str] = ""

    def apply(self, trainer: Steerable, epoch: float) -> float:
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
