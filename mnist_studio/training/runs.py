"""A training run as a record: what was trained, how, and how it went. Pure data, JSON-able.

The studio makes one (:func:`record_of`) each time a fit of a run ends (finished, stopped or diverged; "+1 epoch"
makes an updated one with the same id); the runs panel lists, overlays, renames and persists them; re-running one
with its seed reproduces its curve.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

from mnist_studio.jsonread import as_dict, as_float, as_str, get_dict, get_float, get_str
from mnist_studio.training.checkpoints import Checkpoint, index_from_json
from mnist_studio.training.config import TrainConfig
from mnist_studio.training.history import RunHistory
from mnist_studio.training.weight_history import WeightHistory, read_weight_history

if TYPE_CHECKING:
    from mnist_studio.training.trainer import Trainer


LATEST_TIME = 253402214400.0  # 9999-12-31 UTC: the last moment a calendar (and time.localtime) can show


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


_NUMBERED = re.compile(r"^Run (\d+)\b")


def next_run_name(taken: Iterable[str], architecture: str) -> str:
    """``Run N · architecture`` with N one more than any "Run N" among ``taken`` (the runs listed: this session's
    and the store's), so names never repeat from one session to the next."""
    numbers = [int(m.group(1)) for name in taken if (m := _NUMBERED.match(name))]
    return f"Run {max(numbers, default=0) + 1} · {architecture}"


def final_metrics(history: RunHistory) -> dict[str, float]:
    """The last epoch's numbers (what the runs list shows); only those that were measured."""
    if not history.epochs:
        return {}
    last = history.epochs[-1]
    keys = ("val_accuracy", "val_loss", "train_accuracy", "train_loss")
    return {k: float(last[k]) for k in keys if last.get(k) is not None}


@dataclass
class RunRecord:
    name: str
    spec: dict[str, Any]
    config: TrainConfig
    history: RunHistory = field(default_factory=RunHistory)
    status: str = ""  # "finished", "stopped", "diverged" (or "running" while live)
    message: str = ""
    metrics: dict[str, float] = field(default_factory=dict)  # e.g. val_accuracy, val_loss, test_accuracy
    duration: float = 0.0  # seconds of training, pauses excluded
    created: float = field(default_factory=time.time)  # Unix time the run started
    dataset: str = "MNIST"
    id: str = field(default_factory=new_run_id)
    model_path: str | None = None  # the saved model file, once persisted
    # moments of the run to go back to (training/checkpoints.py): the index is saved here, the weights beside it
    checkpoints: list[Checkpoint] = field(default_factory=list, repr=False)
    weight_history: WeightHistory | None = None  # histograms over time (training/weight_history.py), when recorded

    def val_accuracy(self) -> float | None:
        """The run's final validation accuracy: its metrics, else the last epoch that measured one (a run stopped
        mid-epoch, or a record written before metrics were kept)."""
        if self.metrics.get("val_accuracy") is not None:
            return self.metrics["val_accuracy"]
        for e in reversed(self.history.epochs):
            if e.get("val_accuracy") is not None:
                return float(e["val_accuracy"])
        return None

    def summary(self) -> str:
        """One line: architecture, optimizer and learning rate, final validation accuracy."""
        c = self.config
        acc = self.metrics.get("val_accuracy")
        tail = f", val {acc:.2%}" if acc is not None else ""
        return f"{self.spec.get('name', 'custom')} · {c.optimizer} lr {c.lr:g} · bs {c.batch_size}{tail}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "created": self.created, "spec": self.spec,
            "config": self.config.to_dict(), "history": self.history.to_dict(), "status": self.status,
            "message": self.message, "metrics": self.metrics, "duration": self.duration, "dataset": self.dataset,
            "model_path": self.model_path, "checkpoints": [c.to_dict() for c in self.checkpoints],
            **({"weight_history": self.weight_history.to_dict()} if self.weight_history is not None else {}),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RunRecord":
        """Rebuild a record read from a file, checking every field's JSON type and range; raises ValueError
        (:class:`~mnist_studio.jsonread.JsonError`) naming the first field that is not what :meth:`to_dict`
        writes, so a damaged record is skipped with its reason instead of crashing whatever displays it."""
        d = as_dict(d, "a run record")
        metrics = get_dict(d, "metrics", {})
        model_path = d.get("model_path")
        return cls(
            name=get_str(d, "name", max_len=1000), spec=get_dict(d, "spec"),
            config=TrainConfig.from_dict(get_dict(d, "config", {})), history=RunHistory.from_dict(d.get("history")),
            status=get_str(d, "status", "", max_len=100), message=get_str(d, "message", ""),
            metrics={as_str(k, "a metric name", max_len=100): as_float(v, f"metric '{k}'", allow_nan=True)
                     for k, v in metrics.items()},
            duration=get_float(d, "duration", 0.0, lo=0.0, hi=1e10),
            created=get_float(d, "created", 0.0, lo=0.0, hi=LATEST_TIME),
            dataset=get_str(d, "dataset", "MNIST", max_len=1000), id=get_str(d, "id", "", max_len=64) or new_run_id(),
            model_path=None if model_path is None else get_str(d, "model_path", max_len=4096),
            checkpoints=index_from_json(d.get("checkpoints")),  # none in a record from before checkpoints
            weight_history=read_weight_history(d),
        )


def record_of(trainer: "Trainer", spec: dict[str, Any], *, name: str, run_id: str, created: float, dataset: str,
              duration: float) -> RunRecord:
    """The record of ``trainer``'s run as it stands after a fit: copies of its history and of its settings as the
    run started (``epochs`` = the planned ones, which a cosine schedule spans; ``history.fits`` says how far it
    went, stops and "+1 epoch" included), how the last fit ended, and the last epoch's metrics. Made in the thread
    that owns the trainer, so the record can travel to another thread."""
    history = copy.deepcopy(trainer.history)
    return RunRecord(name=name, spec=copy.deepcopy(spec), config=dataclasses.replace(trainer.config),
                     history=history, status=history.status, message=history.message,
                     metrics=final_metrics(history), duration=duration, created=created, dataset=dataset, id=run_id)
