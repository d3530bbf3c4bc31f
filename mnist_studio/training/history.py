"""A run's history: per-batch series, per-epoch records and learning-rate changes, saved with the model.

Per-batch series live in growing NumPy buffers (amortised doubling), so a long run appends in O(1) and a plot
can take a view of the first ``n`` values without copying Python lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mnist_studio.training.events import BatchEnd, EpochEnd, SettingChanged

SERIES = ("step", "epoch", "loss", "accuracy", "lr")
SAVED_BATCH_POINTS = 20000  # longer series are thinned (every k-th point) when saved


class GrowingArray:
    def __init__(self, capacity: int = 1024) -> None:
        self._data = np.empty(capacity, dtype=np.float64)
        self.n = 0

    def append(self, value: float) -> None:
        if self.n == self._data.size:
            self._data = np.resize(self._data, self._data.size * 2)
        self._data[self.n] = value
        self.n += 1

    def view(self) -> np.ndarray:
        return self._data[: self.n]


@dataclass
class RunHistory:
    batches: dict[str, GrowingArray] = field(default_factory=lambda: {k: GrowingArray() for k in SERIES})
    epochs: list[dict[str, Any]] = field(default_factory=list)
    lr_changes: list[dict[str, float]] = field(default_factory=list)  # {"step", "epoch", "lr"}
    # each fit of the run in order: {"epochs" (asked for; None = the configured ones), "start_step", "end_step",
    # "status"}; with the live changes, what a re-run replays (training/replay.py)
    fits: list[dict[str, Any]] = field(default_factory=list)
    status: str = ""
    message: str = ""

    def add_batch(self, e: BatchEnd) -> None:
        for k in SERIES:
            self.batches[k].append(getattr(e, k))

    def add_epoch(self, e: EpochEnd) -> None:
        self.epochs.append(e.to_dict())

    def add_change(self, e: SettingChanged) -> None:
        """Record a live change (a new live setting adds its own list beside ``lr_changes``, saved the same way)."""
        if e.setting != "lr":
            raise ValueError(f"no record is kept for live changes of {e.setting!r}")
        self.lr_changes.append({"step": e.step, "epoch": e.epoch, "lr": e.value})

    def series(self, name: str) -> np.ndarray:
        return self.batches[name].view()

    def to_dict(self) -> dict[str, Any]:
        n = self.batches["step"].n
        stride = max(1, -(-n // SAVED_BATCH_POINTS))
        return {
            "batches": {k: [float(v) for v in self.batches[k].view()[::stride]] for k in SERIES},
            "epochs": self.epochs,
            "lr_changes": self.lr_changes,
            "fits": self.fits,
            "status": self.status,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> "RunHistory":
        h = cls()
        d = d or {}
        b = d.get("batches") or {}
        try:
            cols = [b.get(k, []) for k in SERIES]
            for row in zip(*cols):
                for k, v in zip(SERIES, row):
                    h.batches[k].append(float(v))
            h.epochs = [dict(e) for e in d.get("epochs", []) if isinstance(e, dict)]
            h.lr_changes = [dict(e) for e in d.get("lr_changes", []) if isinstance(e, dict)]
            h.fits = [dict(e) for e in d.get("fits", []) if isinstance(e, dict)]
        except (TypeError, ValueError):
            return cls()  # an unreadable history is dropped, the model itself still loads
        h.status, h.message = str(d.get("status", "")), str(d.get("message", ""))
        return h
