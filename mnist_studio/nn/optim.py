"""Optimizers, in order of increasing complexity, and learning-rate schedules.

The base class owns the learning rate, weight decay and the loop over arrays; each optimizer writes only its own
update. Their moment buffers are plain named arrays (``state_dict``), so a model file can carry them and training can
continue where it stopped. Updates are done in place with preallocated scratch arrays: at batch size 64 an MLP step
is a fraction of a millisecond and temporary allocations would be a visible part of it.

``lr`` is an ordinary attribute: the trainer may change it between two batches (the studio's live learning-rate
control, or a schedule).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from mnist_studio.nn.blas import axpy

OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop")
DESCRIPTIONS = {
    "sgd": "plain stochastic gradient descent: w -= lr·g",
    "momentum": "SGD with momentum (optionally Nesterov): a velocity smooths the steps",
    "adam": "Adam: per-weight step sizes from bias-corrected running moments of the gradient",
    "rmsprop": "RMSprop: steps divided by a running root-mean-square of the gradient",
}


class Optimizer:
    name = ""

    def __init__(self, lr: float, weight_decay: float = 0.0) -> None:
        if not (lr > 0 and math.isfinite(lr)):
            raise ValueError(f"the learning rate must be a positive number, got {lr}")
        if weight_decay < 0:
            raise ValueError(f"weight decay must be ≥ 0, got {weight_decay}")
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.t = 0  # steps taken
        self.slots: dict[str, list[np.ndarray]] = {}
        self._scratch: list[np.ndarray] = []

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """Update every array in ``params`` in place from its gradient.

        L2 weight decay is applied to weight matrices and kernels only (not to biases or BatchNorm scales, whose
        decay only hurts); it adds ``weight_decay · w`` to the gradient.
        """
        if not self._scratch:
            self._scratch = [np.empty_like(p) for p in params]
            for slot in self.slot_names():
                self.slots.setdefault(slot, [np.zeros_like(p) for p in params])
        self.t += 1
        for i, (p, g) in enumerate(zip(params, grads)):
            if self.weight_decay and p.ndim > 1:
                g = g + self.weight_decay * p
            self._update(i, p, g, self._scratch[i])

    def slot_names(self) -> tuple[str, ...]:
        return ()

    def _update(self, i: int, p: np.ndarray, g: np.ndarray, tmp: np.ndarray) -> None:
        raise NotImplementedError

    # -- saving ----------------------------------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "lr": self.lr, "weight_decay": self.weight_decay}

    def state_dict(self) -> dict[str, np.ndarray]:
        out = {"t": np.array(self.t, dtype=np.int64)}
        for slot, arrays in self.slots.items():
            for i, a in enumerate(arrays):
                out[f"{slot}.{i}"] = a.copy()
        return out

    def load_state_dict(self, state: dict[str, np.ndarray], params: list[np.ndarray]) -> None:
        """Restore moments saved by :meth:`state_dict`; shapes are checked against ``params``."""
        self.t = int(state.get("t", 0))
        self._scratch = [np.empty_like(p) for p in params]
        self.slots = {}
        for slot in self.slot_names():
            arrays = []
            for i, p in enumerate(params):
                a = state.get(f"{slot}.{i}")
                if a is None or a.shape != p.shape:
                    raise ValueError(f"optimizer state {slot}.{i} is missing or does not match weight shape {p.shape}")
                arrays.append(a.astype(p.dtype))
            self.slots[slot] = arrays


class SGD(Optimizer):
    """``w -= lr · g``."""

    name = "sgd"

    def _update(self, i, p, g, tmp):
        axpy(-self.lr, g, p)  # one pass, no temporary (nn/blas.py)


class Momentum(Optimizer):
    """``v = μ·v + g``; ``w -= lr·v`` (or ``lr·(g + μ·v)`` with Nesterov), PyTorch's formulation."""

    name = "momentum"

    def __init__(self, lr: float, momentum: float = 0.9, nesterov: bool = False, weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def slot_names(self):
        return ("velocity",)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}

    def _update(self, i, p, g, tmp):
        v = self.slots["velocity"][i]
        v *= self.momentum
        v += g
        if self.nesterov:
            axpy(-self.lr, g, p)
            axpy(-self.lr * self.momentum, v, p)
        else:
            axpy(-self.lr, v, p)


class RMSprop(Optimizer):
    """``s = ρ·s + (1-ρ)·g²``; ``w -= lr · g / (√s + ε)``."""

    name = "rmsprop"

    def __init__(self, lr: float, rho: float = 0.9, eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)
        self.rho, self.eps = float(rho), float(eps)

    def slot_names(self):
        return ("square_avg",)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "eps": self.eps}

    def _update(self, i, p, g, tmp):
        s = self.slots["square_avg"][i]
        s *= self.rho
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - self.rho
        s += tmp
        np.sqrt(s, out=tmp)
        tmp += self.eps
        np.divide(g, tmp, out=tmp)
        tmp *= self.lr
        p -= tmp


class Adam(Optimizer):
    """Adam with bias correction: ``w -= lr · m̂ / (√v̂ + ε)``."""

    name = "adam"

    def __init__(self, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)

    def slot_names(self):
        return ("m", "v")

    def get_config(self):
        return {**super().get_config(), "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}

    def _update(self, i, p, g, tmp):
        m, v = self.slots["m"][i], self.slots["v"][i]
        b1, b2 = self.beta1, self.beta2
        m *= b1
        np.multiply(g, 1.0 - b1, out=tmp)
        m += tmp
        v *= b2
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - b2
        v += tmp
        c2 = math.sqrt(1.0 - b2 ** self.t)
        step = self.lr * c2 / (1.0 - b1 ** self.t)
        # m̂/(√v̂+ε) = (m/(1-b1^t)) / (√v/c2 + ε) = m·c2/(1-b1^t) / (√v + ε·c2)
        np.sqrt(v, out=tmp)
        tmp += self.eps * c2
        np.divide(m, tmp, out=tmp)
        tmp *= step
        p -= tmp


def make_optimizer(name: str, lr: float, *, momentum: float = 0.9, nesterov: bool = False,
                   weight_decay: float = 0.0, **extra: Any) -> Optimizer:
    """Build an optimizer by name (``sgd``, ``momentum``, ``adam``, ``rmsprop``)."""
    if name == "sgd":
        return SGD(lr, weight_decay=weight_decay)
    if name == "momentum":
        return Momentum(lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)
    if name == "adam":
        return Adam(lr, weight_decay=weight_decay, **{k: extra[k] for k in ("beta1", "beta2", "eps") if k in extra})
    if name == "rmsprop":
        return RMSprop(lr, weight_decay=weight_decay, **{k: extra[k] for k in ("rho", "eps") if k in extra})
    raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")


def optimizer_from_config(config: dict[str, Any]) -> Optimizer:
    cfg = dict(config)
    return make_optimizer(cfg.pop("name"), cfg.pop("lr"), **cfg)


SCHEDULES = ("constant", "step", "cosine")


@dataclass(frozen=True)
class Schedule:
    """A learning-rate multiplier as a function of training progress in epochs (a float: 2.5 = halfway through
    the third epoch).

    ``step``: multiply by ``gamma`` every ``step_epochs`` epochs. ``cosine``: from 1 down to ``min_factor`` along
    half a cosine over ``total_epochs``.
    """

    kind: str = "constant"
    step_epochs: float = 1.0
    gamma: float = 0.5
    total_epochs: float = 10.0
    min_factor: float = 0.0

    def __post_init__(self):
        if self.kind not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.kind!r}; choose one of {', '.join(SCHEDULES)}")

    def factor(self, epoch: float) -> float:
        if self.kind == "step":
            return self.gamma ** math.floor(epoch / self.step_epochs + 1e-9)
        if self.kind == "cosine":
            t = min(max(epoch / self.total_epochs, 0.0), 1.0)
            return self.min_factor + (1 - self.min_factor) * 0.5 * (1 + math.cos(math.pi * t))
        return 1.0
