"""Optimizers, in order of increasing complexity, and learning-rate schedules.

Each optimizer type declares itself as the layer types do: its name, a title and a sentence for people, the
learning rate it usually wants, and its own settings as :class:`~mnist_studio.nn.params.Param` entries (Adam's betas,
RMSprop's rho, momentum and Nesterov, whether biases decay too). ``OPTIMIZER_TYPES`` is the registry; the training controls, the CLI's options
and the run configuration's validation are generated from it.

The base class owns the learning rate, weight decay and the loop over arrays; each optimizer writes only its own
update. Their moment buffers are plain named arrays (``state_dict``), so a model file can carry them and training can
continue where it stopped. Updates are done in place with BLAS ``axpy``/``axpby`` where they fit (a running mean is
one ``axpby`` pass, not three and a temporary) and one scratch array, allocated at the first step and reused. A
model's weights and gradients are views into one vector each (``nn/flat.py``); the moments and the scratch array are
then laid out the same way, and a step is a handful of calls on whole vectors (Adam: 7 passes over the model's
weights) instead of a dozen per weight array. Arrays that are not such views (a test's loose arrays) are updated one
by one with the same formulas. At batch size 64 an MLP step is about a millisecond, and per-array calls and fresh
temporaries at every step would be a visible part of it.

``lr``, ``weight_decay`` and each setting (``momentum``, ``beta1``, ...) are ordinary attributes, read at every step:
the trainer may change them between two batches (the studio's live controls, or a schedule).
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from mnist_studio.nn.blas import axpby, axpy, single_threaded_blas
from mnist_studio.nn.flat import flat_base, pack
from mnist_studio.nn.params import Param, ParamError


class Optimizer:
    """Base class. Subclasses set the class attributes below and implement :meth:`_update`; their settings are
    checked against ``schema`` and become attributes of the same names (``self.momentum``)."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""  # how a menu names it
    description: ClassVar[str] = ""  # one sentence: what it does
    default_lr: ClassVar[float] = 0.01  # the learning rate it usually works well with
    decoupled_decay: ClassVar[bool] = False  # weight decay shrinks the weights directly (AdamW), not the gradient
    schema: ClassVar[tuple[Param, ...]] = ()  # its own settings, beyond the learning rate and weight decay
    slot_names: ClassVar[tuple[str, ...]] = ()  # its per-weight moment arrays

    def __init__(self, lr: float, weight_decay: float = 0.0, **settings: Any) -> None:
        if not (lr > 0 and math.isfinite(lr)):
            raise ValueError(f"the learning rate must be a positive number, got {lr}")
        if weight_decay < 0:
            raise ValueError(f"weight decay must be ≥ 0, got {weight_decay}")
        known = {p.name: p for p in self.schema}
        unknown = sorted(set(settings) - set(known))
        if unknown:
            raise ParamError(f"{self.name} has no setting {', '.join(unknown)}"
                             + (f" (it takes {', '.join(known)})" if known else " (it takes none)"))
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.settings: dict[str, Any] = {p.name: p.coerce(settings.get(p.name, p.default)) for p in self.schema}
        for k, v in self.settings.items():
            setattr(self, k, v)
        self.reset()

    def reset(self) -> None:
        """Forget every moment and the step count: the next step is a first step again."""
        self.t = 0  # steps taken
        self.slots: dict[str, list[np.ndarray]] = {}
        self._scratch: list[np.ndarray] = []
        self._layout: tuple | None = None  # (params, grads, flat storage or None) of the last step
        self._decayed_grad: tuple | None = None  # coupled weight decay's gradient vector, on flat storage

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """Update every array in ``params`` in place from its gradient.

        Weight decay is applied to weight matrices and kernels only (arrays of 2+ dimensions: not biases or
        BatchNorm's scale and shift, whose decay usually only hurts), unless ``decay_all`` is on (what PyTorch does
        to every parameter it is given). Coupled (L2, like ``torch.optim.Adam``): ``weight_decay · w`` is added to
        the gradient. Decoupled (AdamW): the weights shrink by ``lr · weight_decay · w`` beside the update.
        """
        flat = self._storage(params, grads)
        self.t += 1
        decay_all = self.settings.get("decay_all", False)
        decayed = [i for i, p in enumerate(params) if p.ndim > 1 or decay_all] if self.weight_decay else []
        # BLAS's own threads split each vector call over 500,000 weights. For Adam, RMSprop and momentum their
        # hand-over costs more than it saves (Adam on the MLP: 0.44 ms on one thread, 0.55 ms on two; on a busy
        # machine a sleeping helper thread stalls a step for milliseconds), so one thread does the whole update;
        # plain SGD, a single axpy, keeps BLAS's threads (0.028 against 0.055 ms).
        with single_threaded_blas() if self.slot_names else nullcontext():
            if flat is not None:
                pf, gf, slots, tmp = flat
                if decayed:
                    gf = self._decay(params, grads, decayed, pf, gf, len(decayed) == len(params))
                self._update(pf, gf, tmp, slots)
                return
            for i, (p, g) in enumerate(zip(params, grads)):
                if i in decayed:
                    if self.decoupled_decay:
                        p *= 1.0 - self.lr * self.weight_decay
                    else:
                        g = g + self.weight_decay * p
                self._update(p, g, self._scratch[i], {k: v[i] for k, v in self.slots.items()})

    def _decay(self, params, grads, decayed, pf, gf, everything):
        """Weight decay on flat storage: shrink the decayed weights (decoupled) or return the decayed gradient in a
        second scratch vector (coupled; the model's own gradients are left as the backward pass made them)."""
        wd = self.weight_decay
        if self.decoupled_decay:
            if everything:
                pf *= 1.0 - self.lr * wd
            else:
                for i in decayed:
                    params[i] *= 1.0 - self.lr * wd
            return gf
        if self._decayed_grad is None or self._decayed_grad[0].size != gf.size:
            self._decayed_grad = pack(grads, zero=True)
        out, views = self._decayed_grad
        if everything:
            np.multiply(pf, wd, out=out)
            out += gf
        else:
            np.copyto(out, gf)
            for i in decayed:
                axpy(wd, params[i], views[i])
        return out

    def _storage(self, params, grads):
        """(flat weights, flat gradients, flat moments by name, flat scratch) when ``params`` and ``grads`` are each
        one vector's views with the same layout (a model's, ``nn/flat.py``), else None. The moment and scratch arrays
        are made on first use (moments from ``slots`` if a state was loaded, else zeros) and kept while the same
        arrays come back."""
        last = self._layout
        if (last is not None and len(last[0]) == len(params) and all(a is b for a, b in zip(last[0], params))
                and all(a is b for a, b in zip(last[1], grads))):
            return last[2]
        pf, gf = flat_base(params), flat_base(grads)
        flat = None
        self._decayed_grad = None
        if (pf is not None and gf is not None and pf.dtype == gf.dtype and len(params) == len(grads)
                and all(p.shape == g.shape for p, g in zip(params, grads))):
            slots = {}
            for name in self.slot_names:
                old = self.slots.get(name)
                fits = old is not None and len(old) == len(params) and all(
                    o.shape == p.shape for o, p in zip(old, params))
                slots[name], self.slots[name] = pack(old if fits else params, dtype=pf.dtype, zero=not fits)
            tmp, self._scratch = pack(params, zero=True)
            flat = (pf, gf, slots, tmp)
        else:
            for name in self.slot_names:
                old = self.slots.get(name)
                if old is None or len(old) != len(params) or any(o.shape != p.shape for o, p in zip(old, params)):
                    self.slots[name] = [np.zeros_like(p) for p in params]
            self._scratch = [np.empty_like(p) for p in params]
        self._layout = (list(params), list(grads), flat)
        return flat

    def _update(self, p: np.ndarray, g: np.ndarray, tmp: np.ndarray, slots: dict[str, np.ndarray]) -> None:
        """One update of ``p`` from ``g`` in place (whole vectors or one array); ``slots`` holds this optimizer's
        moments for the same values, ``tmp`` is scratch of the same shape."""
        raise NotImplementedError

    # -- saving ----------------------------------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "lr": self.lr, "weight_decay": self.weight_decay, **self.settings}

    def state_dict(self) -> dict[str, np.ndarray]:
        out = {"t": np.array(self.t, dtype=np.int64)}
        for slot, arrays in self.slots.items():
            for i, a in enumerate(arrays):
                out[f"{slot}.{i}"] = a.copy()
        return out

    def load_state_dict(self, state: dict[str, np.ndarray], params: list[np.ndarray]) -> None:
        """Restore moments saved by :meth:`state_dict` (shapes are checked against ``params``); a state saved
        before the first step (``t`` = 0) resets the optimizer."""
        if not int(state.get("t", 0)):
            self.reset()
            return
        slots = {}
        for slot in self.slot_names:
            arrays = []
            for i, p in enumerate(params):
                a = state.get(f"{slot}.{i}")
                if a is None or a.shape != p.shape:
                    raise ValueError(f"optimizer state {slot}.{i} is missing or does not match weight shape {p.shape}")
                arrays.append(a.astype(p.dtype))
            slots[slot] = arrays
        self.t = int(state["t"])
        self.slots = slots
        self._scratch = []
        self._layout = None  # the next step lays the moments out like the weights again


DECAY_ALL = Param("decay_all", "bool", False, "Decay biases too: apply weight decay to every array, biases and "
                  "the scale and shift of BatchNorm layers included, as PyTorch does to every parameter given to "
                  "the optimizer. Off: only weight matrices and kernels decay.", label="Decay biases too")


class SGD(Optimizer):
    """``w -= lr · g``."""

    name = "sgd"
    title = "SGD"
    description = "plain stochastic gradient descent: w -= lr·g"
    default_lr = 0.01
    schema = (DECAY_ALL,)

    def _update(self, p, g, tmp, slots):
        axpy(-self.lr, g, p)  # one pass, no temporary (nn/blas.py)


class Momentum(Optimizer):
    """``v = μ·v + g``; ``w -= lr·v`` (or ``lr·(g + μ·v)`` with Nesterov), PyTorch's formulation."""

    name = "momentum"
    title = "SGD + momentum"
    description = "SGD with momentum (optionally Nesterov): a velocity smooths the steps"
    default_lr = 0.01
    schema = (
        Param("momentum", "float", 0.9, "Momentum μ: how much of the previous step carries over (0.9 is usual).",
              low=0.0, high=0.999, label="Momentum"),
        Param("nesterov", "bool", False, "Nesterov momentum: look ahead along the velocity before taking the "
              "gradient step.", label="Nesterov"),
        DECAY_ALL,
    )
    slot_names = ("velocity",)

    def _update(self, p, g, tmp, slots):
        v = slots["velocity"]
        axpby(1.0, g, self.momentum, v)  # v = μ·v + g
        if self.nesterov:
            axpy(-self.lr, g, p)
            axpy(-self.lr * self.momentum, v, p)
        else:
            axpy(-self.lr, v, p)


EPS = Param("eps", "float", 1e-8, "ε: added to the root-mean-square before dividing, so a weight whose gradient "
            "has been near zero does not take a huge step.", low=1e-10, high=1e-2, label="ε")


class RMSprop(Optimizer):
    """``s = ρ·s + (1-ρ)·g²``; ``w -= lr · g / (√s + ε)``."""

    name = "rmsprop"
    title = "RMSprop"
    description = "RMSprop: steps divided by a running root-mean-square of the gradient"
    default_lr = 0.001
    schema = (
        Param("rho", "float", 0.9, "ρ: how much of the running mean of squared gradients is kept at each step. "
              "0.9 is Keras's default; PyTorch's RMSprop calls it alpha and defaults to 0.99.",
              low=0.0, high=0.9999, label="ρ"),
        EPS,
        DECAY_ALL,
    )
    slot_names = ("square_avg",)

    def _update(self, p, g, tmp, slots):
        s = slots["square_avg"]
        np.multiply(g, g, out=tmp)
        axpby(1.0 - self.rho, tmp, self.rho, s)  # s = ρ·s + (1-ρ)·g²
        np.sqrt(s, out=tmp)
        tmp += self.eps
        np.divide(g, tmp, out=tmp)
        axpy(-self.lr, tmp, p)


class Adam(Optimizer):
    """Adam with bias correction: ``w -= lr · m̂ / (√v̂ + ε)``."""

    name = "adam"
    title = "Adam"
    description = ("Adam: per-weight step sizes from bias-corrected running moments of the gradient; weight decay "
                   "is coupled L2 (added to the gradient), as in torch.optim.Adam")
    default_lr = 0.001
    schema = (
        Param("beta1", "float", 0.9, "β1: how much of the running mean of the gradient is kept at each step.",
              low=0.0, high=0.9999, label="β1"),
        Param("beta2", "float", 0.999, "β2: how much of the running mean of squared gradients is kept at each step "
              "(close to 1: a long memory).", low=0.0, high=0.99999, label="β2"),
        EPS,
        DECAY_ALL,
    )
    slot_names = ("m", "v")

    def _update(self, p, g, tmp, slots):
        m, v = slots["m"], slots["v"]
        b1, b2 = self.beta1, self.beta2
        axpby(1.0 - b1, g, b1, m)  # m = b1·m + (1-b1)·g, one pass
        np.multiply(g, g, out=tmp)
        axpby(1.0 - b2, tmp, b2, v)  # v = b2·v + (1-b2)·g²
        c2 = math.sqrt(1.0 - b2 ** self.t)
        step = self.lr * c2 / (1.0 - b1 ** self.t)
        # m̂/(√v̂+ε) = (m/(1-b1^t)) / (√v/c2 + ε) = m·c2/(1-b1^t) / (√v + ε·c2)
        np.sqrt(v, out=tmp)
        tmp += self.eps * c2
        np.divide(m, tmp, out=tmp)
        axpy(-step, tmp, p)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``w -= lr · weight_decay · w`` beside the Adam step,
    so the decay is not divided by √v̂ as coupled L2 is; the same update as ``torch.optim.AdamW``."""

    name = "adamw"
    title = "AdamW"
    description = "AdamW: Adam with decoupled weight decay (the weights shrink directly), as in torch.optim.AdamW"
    decoupled_decay = True


OPTIMIZER_TYPES: dict[str, type[Optimizer]] = {cls.name: cls for cls in (SGD, Momentum, Adam, AdamW, RMSprop)}
OPTIMIZERS = tuple(OPTIMIZER_TYPES)
DESCRIPTIONS = {name: cls.description for name, cls in OPTIMIZER_TYPES.items()}


def optimizer_class(name: Any) -> type[Optimizer]:
    cls = OPTIMIZER_TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZER_TYPES)}")
    return cls


def optimizer_settings() -> dict[str, Param]:
    """Every setting any optimizer declares, by name, in registry order. A name two optimizers share (eps) means
    the same thing to both, so a run configuration holds one value for it. Settings every optimizer has
    (``decay_all``, which goes with weight decay) come last."""
    out: dict[str, Param] = {}
    for cls in OPTIMIZER_TYPES.values():
        for p in cls.schema:
            out.setdefault(p.name, p)
    shared = set.intersection(*({p.name for p in cls.schema} for cls in OPTIMIZER_TYPES.values()))
    return {**{k: p for k, p in out.items() if k not in shared}, **{k: p for k, p in out.items() if k in shared}}


def make_optimizer(name: str, lr: float, weight_decay: float = 0.0, **settings: Any) -> Optimizer:
    """Build an optimizer by name with its own settings (``momentum=0.8``); unknown ones raise ParamError."""
    return optimizer_class(name)(lr, weight_decay=weight_decay, **settings)


def optimizer_from_config(config: dict[str, Any]) -> Optimizer:
    """Rebuild an optimizer from :meth:`Optimizer.get_config` (what model files store)."""
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
        return self.factor_from(0.0, epoch, self.total_epochs)

    def factor_from(self, start: float, epoch: float, end: float) -> float:
        """The multiplier at ``epoch`` of a schedule that began at ``start`` (factor 1 there) and, for cosine, ends
        at ``end``. A live learning-rate change starts a new piece at its epoch (the schedule goes on from the new
        rate, ``end`` kept), and a warm restart one over the added epochs: the rate is always the piece's start rate
        times this factor, never divided by one (a cosine factor reaches 0)."""
        if self.kind == "step":
            return self.gamma ** (math.floor(epoch / self.step_epochs + 1e-9)
                                  - math.floor(start / self.step_epochs + 1e-9))
        if self.kind == "cosine":
            if end - start <= 1e-9:  # a piece begun at or after the schedule's end: the rate stays as set
                return 1.0
            t = min(max((epoch - start) / (end - start), 0.0), 1.0)
            return self.min_factor + (1 - self.min_factor) * 0.5 * (1 + math.cos(math.pi * t))
        return 1.0

    @property
    def ends(self) -> bool:
        """Whether the schedule has an end (cosine: it glides to ``min_factor`` by ``total_epochs``)."""
        return self.kind == "cosine"
