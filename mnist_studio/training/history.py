"""A run's history: per-batch series, per-epoch records and learning-rate changes, saved with the model.

Per-batch series live in growing NumPy buffers (amortised doubling), so a long run appends in O(1) and a plot
can take a view of the first ``n`` values without copying Python lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mnist_studio.jsonread import JsonError, get_dict, get_float, get_int, get_list, get_str
from mnist_studio.training.events import BatchEnd, EpochEnd, SettingChanged

SERIES = ("step", "epoch", "loss", "accuracy", "lr")
EPOCH_FIELDS = tuple(EpochEnd.__dataclass_fields__)
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

    def extend(self, values: np.ndarray) -> None:
        if self.n + values.size > self._data.size:
            self._data = np.resize(self._data, max(self._data.size * 2, self.n + values.size))
        self._data[self.n:self.n + values.size] = values
        self.n += values.size

    def view(self) -> np.ndarray:
        return self._data[: self.n]


@dataclass
class RunHistory:
    batches: dict[str, GrowingArray] = field(default_factory=lambda: {k: GrowingArray() for k in SERIES})
    epochs: list[dict[str, Any]] = field(default_factory=list)
    lr_changes: list[dict[str, float]] = field(default_factory=list)  # {"step", "epoch", "lr"}
    # the other live changes, in the order they took effect: {"step", "epoch", "setting", "value", "previous"}
    # (records from before them have none)
    setting_changes: list[dict[str, Any]] = field(default_factory=list)
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
        """Record a live change: the learning rate's in ``lr_changes`` (as records always had them), the others in
        ``setting_changes``."""
        if e.setting == "lr":
            self.lr_changes.append({"step": e.step, "epoch": e.epoch, "lr": e.value})
            return
        if not isinstance(e.setting, str) or not e.setting or not isinstance(e.value, (int, float, str)):
            raise ValueError(f"not a live change that can be recorded: {e!r}")
        self.setting_changes.append({"step": e.step, "epoch": e.epoch, "setting": e.setting, "value": e.value,
                                     "previous": e.previous})

    def series(self, name: str) -> np.ndarray:
        return self.batches[name].view()

    def to_dict(self) -> dict[str, Any]:
        n = self.batches["step"].n
        stride = max(1, -(-n // SAVED_BATCH_POINTS))
        return {
            "batches": {k: [float(v) for v in self.batches[k].view()[::stride]] for k in SERIES},
            "epochs": self.epochs,
            "lr_changes": self.lr_changes,
            "setting_changes": self.setting_changes,
            "fits": self.fits,
            "status": self.status,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> "RunHistory":
        """Rebuild a saved history, checking every value (a file may hold anything): raises
        :class:`~mnist_studio.jsonread.JsonError` naming the first value that is not what :meth:`to_dict` writes."""
        h = cls()
        if d is None:
            return h
        if not isinstance(d, dict):
            raise JsonError(f"the history must be an object, got {type(d).__name__}")
        b = get_dict(d, "batches", {})
        cols = [get_list(b, k, []) for k in SERIES]
        if len({len(c) for c in cols}) > 1:
            raise JsonError("the per-batch series of the history have different lengths")
        for k, col in zip(SERIES, cols):
            if not all(type(v) in (int, float) for v in col):  # ints and floats only (not bool, str, list, ...)
                i = next(i for i, v in enumerate(col) if type(v) not in (int, float))
                raise JsonError(f"the history's value batches.{k}[{i}] must be a number, got {col[i]!r:.40}")
            try:
                h.batches[k].extend(np.asarray(col, dtype=np.float64))
            except OverflowError:
                raise JsonError(f"the history's series batches.{k} holds a number too large") from None
        for i, e in enumerate(get_list(d, "epochs", [])):
            if not isinstance(e, dict):
                raise JsonError(f"epoch record {i + 1} must be an object, got {type(e).__name__}")
            h.epochs.append({k: (None if e.get(k) is None else get_int(e, k, lo=0, hi=2**53) if k in ("epoch", "step")
                                 else get_float(e, k, allow_nan=True)) for k in EPOCH_FIELDS if k in e})
        for i, c in enumerate(get_list(d, "lr_changes", [])):
            if not isinstance(c, dict):
                raise JsonError(f"learning-rate change {i + 1} must be an object, got {type(c).__name__}")
            h.lr_changes.append({"step": get_int(c, "step", lo=0, hi=2**53), "epoch": get_float(c, "epoch"),
                                 "lr": get_float(c, "lr")})
        for i, c in enumerate(get_list(d, "setting_changes", [])):
            h.setting_changes.append(_setting_change(c, i))
        for i, f in enumerate(get_list(d, "fits", [])):
            if not isinstance(f, dict):
                raise JsonError(f"fit record {i + 1} must be an object, got {type(f).__name__}")
            fit = {k: get_int(f, k, lo=0, hi=2**53) for k in ("start_step", "end_step") if k in f}
            if "epochs" in f:
                fit["epochs"] = None if f["epochs"] is None else get_int(f, "epochs", lo=0, hi=10**6)
            if "status" in f:
                fit["status"] = get_str(f, "status", max_len=100)
            h.fits.append(fit)
        h.status, h.message = get_str(d, "status", "", max_len=100), get_str(d, "message", "")
        return h


def _setting_change(c: Any, i: int) -> dict[str, Any]:
    """A recorded live change other than the learning rate, checked: a number or a short name for the values."""
    if not isinstance(c, dict):
        raise JsonError(f"setting change {i + 1} must be an object, got {type(c).__name__}")
    out: dict[str, Any] = {"step": get_int(c, "step", lo=0, hi=2**53), "epoch": get_float(c, "epoch"),
                           "setting": get_str(c, "setting", max_len=100)}
    for key in ("value", "previous"):
        v = c.get(key)
        if key == "previous" and v is None:
            out[key] = None
        elif isinstance(v, str):
            out[key] = get_str(c, key, max_len=100)
        elif type(v) is int:
            out[key] = get_int(c, key, lo=0, hi=2**53)
        else:
            out[key] = get_float(c, key)  # JsonError naming the value for anything else
    return out
