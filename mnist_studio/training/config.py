"""The training configuration: every hyperparameter of a run, as one JSON-able record."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from mnist_studio.nn.init import INITIALISERS
from mnist_studio.nn.losses import LOSSES
from mnist_studio.nn.optim import OPTIMIZERS, SCHEDULES, Optimizer, Schedule, make_optimizer


@dataclass
class TrainConfig:
    optimizer: str = "adam"
    lr: float = 0.001
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 0.0
    batch_size: int = 64
    epochs: int = 3
    loss: str = "cross_entropy"
    schedule: str = "constant"
    step_epochs: float = 1.0
    gamma: float = 0.5
    min_lr_factor: float = 0.0
    init: str | None = None  # None: the architecture's own choice
    seed: int = 0
    augment: bool = False
    val_size: int = 5000
    limit: int | None = None

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the first hyperparameter that cannot be used."""
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; choose one of {', '.join(LOSSES)}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.schedule!r}; choose one of {', '.join(SCHEDULES)}")
        if self.init is not None and self.init not in INITIALISERS:
            raise ValueError(f"unknown initialiser {self.init!r}; choose one of {', '.join(INITIALISERS)}")
        if not (self.lr > 0 and self.lr < 100):
            raise ValueError(f"the learning rate must be between 0 and 100, got {self.lr}")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum}")
        if self.weight_decay < 0:
            raise ValueError(f"weight decay must be ≥ 0, got {self.weight_decay}")
        if not 1 <= self.batch_size <= 60000:
            raise ValueError(f"the batch size must be between 1 and 60,000, got {self.batch_size}")
        if not 1 <= self.epochs <= 10000:
            raise ValueError(f"the number of epochs must be between 1 and 10,000, got {self.epochs}")
        if self.val_size < 0:
            raise ValueError(f"the validation size must be ≥ 0, got {self.val_size}")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"the limit must be at least 1 image, got {self.limit}")

    def make_optimizer(self) -> Optimizer:
        return make_optimizer(self.optimizer, self.lr, momentum=self.momentum, nesterov=self.nesterov,
                              weight_decay=self.weight_decay)

    def make_schedule(self) -> Schedule:
        return Schedule(self.schedule, step_epochs=self.step_epochs, gamma=self.gamma, total_epochs=self.epochs,
                        min_factor=self.min_lr_factor)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        """Build from a dict, ignoring keys this version does not know (files from other versions still open)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (d or {}).items() if k in known})

    @classmethod
    def for_spec(cls, spec: dict[str, Any], **overrides: Any) -> "TrainConfig":
        """The spec's suggested hyperparameters (its ``training`` block), then ``overrides`` (None = keep)."""
        base = {k: v for k, v in (spec.get("training") or {}).items()}
        base.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_dict(base)
