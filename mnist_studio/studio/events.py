"""Signals without Qt: an :class:`Event` is a list of callbacks, and :class:`StackEvents` are the ones the layer
stack emits, named after Qt's row-model calls so a Qt model adapts them one to one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


class Event:
    """A list of callbacks: ``connect(fn)``, ``disconnect(fn)``, ``emit(*args)`` (a signal without Qt)."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[..., None]] = []

    def connect(self, fn: Callable[..., None]) -> None:
        self._callbacks.append(fn)

    def disconnect(self, fn: Callable[..., None]) -> None:
        self._callbacks.remove(fn)

    def emit(self, *args: Any) -> None:
        for fn in list(self._callbacks):
            fn(*args)


@dataclass
class StackEvents:
    """What a view needs to stay in step. The "-ing" events fire before the list changes (Qt's ``begin*Rows``
    must be called then), the "-ed" events after. ``edited`` fires once after every operation, undo and redo
    included, when the whole stack is consistent again: the place to publish the spec or refresh totals."""

    inserting: Event = field(default_factory=Event)  # (index)
    inserted: Event = field(default_factory=Event)  # (index)
    removing: Event = field(default_factory=Event)  # (index)
    removed: Event = field(default_factory=Event)  # (index)
    moving: Event = field(default_factory=Event)  # (src, dst): dst is the item's index after the move
    moved: Event = field(default_factory=Event)  # (src, dst)
    changed: Event = field(default_factory=Event)  # (index): a layer's parameters changed
    meta_changed: Event = field(default_factory=Event)  # (field name): name, description or init
    resetting: Event = field(default_factory=Event)  # ()
    reset: Event = field(default_factory=Event)  # ()
    edited: Event = field(default_factory=Event)  # (): after any operation
