"""The training configuration: every hyperparameter of a run, as one JSON-able record.

The optimizers' own settings (momentum, Nesterov, Adam's betas, RMSprop's rho, eps) are fields here so that a run
record and a model file keep them, but their defaults, ranges and checks come from the optimizer registry
(:func:`mnist_studio.nn.optim.optimizer_settings`): a field per setting name, nothing else. Each optimizer reads only
its own settings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from mnist_studio.data.augmentations import augmentation_name
from mnist_studio.jsonread import JsonError, get_bool, get_float, get_int, get_str
from mnist_studio.nn.init import INITIALISERS
from mnist_studio.nn.losses import LOSSES
from mnist_studio.nn.optim import (OPTIMIZERS, SCHEDULES, Optimizer, Schedule, make_optimizer, optimizer_class,
                                   optimizer_settings)

_SETTINGS = optimizer_settings()


@dataclass
class TrainConfig:
    optimizer: str = "adam"
    lr: float = 0.001
    momentum: float = _SETTINGS["momentum"].default
    nesterov: bool = _SETTINGS["nesterov"].default
    beta1: float = _SETTINGS["beta1"].default
    beta2: float = _SETTINGS["beta2"].default
    rho: float = _SETTINGS["rho"].default
    eps: float = _SETTINGS["eps"].default
    decay_all: bool = _SETTINGS["decay_all"].default
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
    augment: str = "none"  # a name in data.augmentations (files from before names: true = "distort")
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
        self.augment = augmentation_name(self.augment)  # ValueError naming the choices
        if self.init is not None and self.init not in INITIALISERS:
            raise ValueError(f"unknown initialiser {self.init!r}; choose one of {', '.join(INITIALISERS)}")
        if not (self.lr > 0 and self.lr < 100):
            raise ValueError(f"the learning rate must be between 0 and 100, got {self.lr}")
        for name, param in _SETTINGS.items():  # ParamError is a ValueError naming the setting
            setattr(self, name, param.coerce(getattr(self, name)))
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

    def optimizer_settings(self) -> dict[str, Any]:
        """The chosen optimizer's own settings, by name."""
        return {p.name: getattr(self, p.name) for p in optimizer_class(self.optimizer).schema}

    def make_optimizer(self) -> Optimizer:
        return make_optimizer(self.optimizer, self.lr, weight_decay=self.weight_decay, **self.optimizer_settings())

    def make_schedule(self) -> Schedule:
        return Schedule(self.schedule, step_epochs=self.step_epochs, gamma=self.gamma, total_epochs=self.epochs,
                        min_factor=self.min_lr_factor)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        """Build from a dict (read from a file), ignoring keys this version does not know (files from other
        versions still open). Each known value must have its JSON type (``batch_size: 64.5`` or ``"lr": "x"`` is
        refused naming the field): raises ValueError (:class:`~mnist_studio.jsonread.JsonError` for a type)."""
        if d is None:
            d = {}
        if not isinstance(d, dict):
            raise JsonError(f"the training settings must be an object, got {type(d).__name__}")
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in d:
                continue
            kind = _FIELD_KINDS[f.name]
            if d[f.name] is None and kind.endswith("?"):
                values[f.name] = None
            elif f.name == "augment" and isinstance(d[f.name], bool):  # files from before augmentations had names
                values[f.name] = d[f.name]
            else:
                values[f.name] = _READERS[kind.rstrip("?")](d, f.name)
        return cls(**values)

    @classmethod
    def for_spec(cls, spec: dict[str, Any], **overrides: Any) -> "TrainConfig":
        """The spec's suggested hyperparameters (its ``training`` block), then ``overrides`` (None = keep).

        Another optimizer than the suggested one, without a learning rate, gets that optimizer's usual rate (the
        registry's ``default_lr``): a rate suggested for SGD is far too high for Adam. The suggested optimizer keeps
        the suggested rate."""
        block = spec.get("training") or {}
        if not isinstance(block, dict):
            raise JsonError(f"the architecture's 'training' block must be an object, got {type(block).__name__}")
        base = dict(block)
        given = {k: v for k, v in overrides.items() if v is not None}
        suggested = base.get("optimizer", cls.optimizer)
        if given.get("optimizer", suggested) != suggested and "lr" not in given and given["optimizer"] in OPTIMIZERS:
            given["lr"] = optimizer_class(given["optimizer"]).default_lr
        base.update(given)
        return cls.from_dict(base)


# each field's JSON type ("?": null allowed), checked when a config is read from a file
_FIELD_KINDS = {f.name: f.type.replace(" | None", "?").replace("None | ", "") for f in fields(TrainConfig)}
_READERS = {
    "str": lambda d, k: get_str(d, k, max_len=100),
    "float": lambda d, k: get_float(d, k),
    "int": lambda d, k: get_int(d, k, lo=0, hi=2**63 - 1),  # counts and seeds: none is negative
    "bool": get_bool,
}
assert set(k.rstrip("?") for k in _FIELD_KINDS.values()) <= set(_READERS), _FIELD_KINDS
