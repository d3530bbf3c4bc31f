"""Numerical gradient checks: is each backward pass the true derivative of its forward pass?

Everything is done in float64 with central differences ``(f(x+h) - f(x-h)) / 2h``. The error of an array is
``‖analytic - numeric‖ / (‖analytic‖ + ‖numeric‖)``, which is scale-free and is below 1e-7 for a correct
backward pass (typically 1e-9 to 1e-11); a wrong one gives 1e-2 or more.

A layer is checked through the scalar ``sum(forward(x) * R)`` for a fixed random ``R``, so every output receives
a different gradient. Stochastic layers are reseeded before every forward pass so they draw the same mask.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from mnist_studio.nn.layers import Layer, from_config
from mnist_studio.nn.losses import make_loss
from mnist_studio.nn.model import Model

TOLERANCE = 1e-6


@dataclass
class GradCheckResult:
    name: str
    error: float
    checked: int  # number of coordinates compared
    # the compared values side by side (the studio's gradient-check panel shows them): flat indices into the array
    coords: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    analytic: np.ndarray = field(default_factory=lambda: np.zeros(0))
    numeric: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def ok(self) -> bool:
        return self.error < TOLERANCE


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - b) / denom)


def numerical_gradient(f: Callable[[], float], arr: np.ndarray, coords: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of ``f`` with respect to ``arr.flat[coords]`` (``arr`` is perturbed in place)."""
    flat = arr.reshape(-1)
    out = np.empty(len(coords))
    for n, c in enumerate(coords):
        old = flat[c]
        flat[c] = old + h
        plus = f()
        flat[c] = old - h
        minus = f()
        flat[c] = old
        out[n] = (plus - minus) / (2 * h)
    return out


def _coords(size: int, limit: int | None, rng: np.random.Generator) -> np.ndarray:
    if limit is None or size <= limit:
        return np.arange(size)
    return np.sort(rng.choice(size, limit, replace=False))


def check_layer(layer: Layer, input_shape: tuple[int, ...], batch: int = 3, training: bool = True,
                seed: int = 0, limit: int | None = None) -> list[GradCheckResult]:
    """Check a layer's input gradient and every weight gradient. ``limit`` samples that many coordinates."""
    rng = np.random.default_rng(seed)
    layer.build(input_shape, rng, "xavier", np.float64)
    for p in layer.params.values():  # move weights off their tidy initial values (e.g. BatchNorm's ones/zeros)
        p += rng.normal(0, 0.1, p.shape)
    x = rng.normal(0, 1, (batch, *input_shape))
    r = rng.normal(0, 1, (batch, *layer.output_shape(input_shape)))

    def f() -> float:
        layer.reseed(1234)
        return float(np.sum(layer.forward(x, training) * r))

    layer.reseed(1234)
    layer.forward(x, training)
    dx = layer.backward(r.copy(), need_input_grad=True)
    analytic = {"input": dx, **{k: g.copy() for k, g in layer.grads.items()}}
    targets = {"input": x, **layer.params}
    results = []
    for name, arr in targets.items():
        coords = _coords(arr.size, limit, rng)
        num = numerical_gradient(f, arr, coords)
        ana = analytic[name].reshape(-1)[coords]
        results.append(GradCheckResult(name, relative_error(ana, num), len(coords), coords, ana.copy(), num))
    return results


@dataclass
class LayerCheck:
    """One layer of an architecture, checked on its own: its position, its name and shapes, the results per array
    (``input`` for the gradient it passes back, then each weight array)."""

    index: int
    title: str
    input_shape: tuple[int, ...]
    results: list[GradCheckResult]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)


def check_layers(spec: dict[str, Any], batch: int = 2, limit: int = 12, seed: int = 0,
                 between: Callable[[], None] | None = None) -> Iterator[LayerCheck]:
    """Check every layer of an architecture on its own, in stack order, at the input shape it has there: a fresh
    layer of the same configuration in float64 (``limit`` sampled values per array). ``between()`` is called before
    each layer (a stop token's ``check``), so a caller in another thread can end the check between two layers."""
    model = Model(spec, seed=seed)
    shape = model.input_shape
    for i, layer in enumerate(model.layers):
        if between is not None:
            between()
        fresh = from_config(layer.get_config())
        title = f"{i + 1} {layer.short_name()}"
        yield LayerCheck(i, title, tuple(shape), check_layer(fresh, tuple(shape), batch=batch, seed=seed + i,
                                                             limit=limit))
        shape = layer.output_shape(shape)


@dataclass
class GradientTiming:
    """Backprop against numerical gradients on one batch, measured: all the gradients by one backward pass, or two
    forward passes per weight (timed on ``timed`` weights and extrapolated to all ``params``)."""

    batch: int
    params: int
    backprop_seconds: float
    numeric_seconds_per_weight: float
    timed: int

    @property
    def numeric_seconds(self) -> float:
        return self.numeric_seconds_per_weight * self.params

    @property
    def ratio(self) -> float:
        return self.numeric_seconds / max(self.backprop_seconds, 1e-12)


def time_gradients(model: Model, x: np.ndarray, labels: np.ndarray, loss_name: str = "cross_entropy",
                   timed: int = 10, seed: int = 0) -> GradientTiming:
    """Time one backprop pass (forward + backward, all gradients) on the batch ``x`` and ``timed`` numerical
    gradients by central differences on the same batch. Changes weights only transiently (each is restored) but
    overwrites the model's gradient buffers: pass a copy of a model in use."""
    loss = make_loss(loss_name)
    x = model.prepare(x)
    stochastic = [layer for layer in model.layers if layer.stochastic]

    def f() -> float:
        for k, layer in enumerate(stochastic):
            layer.reseed(1000 + k)
        upto = len(model.layers) - 1 if loss.takes_logits and model.ends_with_softmax else None
        return loss(model.forward(x, training=True, upto=upto), labels)[0]

    model.loss_and_grads(x, labels, loss)  # warm up (allocations, caches)
    t0 = time.perf_counter()
    model.loss_and_grads(x, labels, loss)
    backprop = time.perf_counter() - t0
    rng = np.random.default_rng(seed)
    arrays = [p for _, p, _ in model.named_params()]
    t0 = time.perf_counter()
    for _ in range(timed):
        p = arrays[int(rng.integers(len(arrays)))]
        numerical_gradient(f, p, np.array([int(rng.integers(p.size))]), h=1e-3)
    per_weight = (time.perf_counter() - t0) / max(1, timed)
    return GradientTiming(len(x), model.num_params(), backprop, per_weight, timed)


def check_loss(loss_name: str, batch: int = 4, classes: int = 10, seed: int = 0) -> GradCheckResult:
    """Check a loss's gradient with respect to its input (logits for cross-entropy, outputs for MSE)."""
    rng = np.random.default_rng(seed)
    loss = make_loss(loss_name)
    z = rng.normal(0, 2, (batch, classes))
    if loss_name == "mse":
        z = rng.uniform(0, 1, (batch, classes))
    labels = rng.integers(0, classes, batch)
    _, grad = loss(z, labels)
    num = numerical_gradient(lambda: loss(z, labels)[0], z, np.arange(z.size))
    return GradCheckResult(f"loss {loss_name}", relative_error(grad.reshape(-1), num), z.size, np.arange(z.size),
                           grad.reshape(-1).copy(), num)


def check_model(spec: dict[str, Any], loss_name: str = "cross_entropy", batch: int = 4, seed: int = 0,
                per_array: int = 12, inputs: np.ndarray | None = None) -> list[GradCheckResult]:
    """Check every weight array of a whole model (``per_array`` sampled coordinates each) through the loss."""
    rng = np.random.default_rng(seed)
    model = Model(spec, seed=seed).astype(np.float64)
    loss = make_loss(loss_name)
    x = rng.uniform(0, 1, (batch, *model.input_shape)) if inputs is None else model.prepare(inputs).astype(np.float64)
    labels = rng.integers(0, 10, x.shape[0])
    stochastic = [layer for layer in model.layers if layer.stochastic]

    def reseed() -> None:
        for k, layer in enumerate(stochastic):
            layer.reseed(1000 + k)

    def f() -> float:
        reseed()
        upto = len(model.layers) - 1 if loss.takes_logits and model.ends_with_softmax else None
        return loss(model.forward(x, training=True, upto=upto), labels)[0]

    reseed()
    model.loss_and_grads(x, labels, loss)
    results = []
    for name, p, g in list(model.named_params()):
        coords = _coords(p.size, per_array, rng)
        analytic = g.reshape(-1)[coords].copy()
        num = numerical_gradient(f, p, coords)
        idx = int(name.split(".")[0])
        results.append(GradCheckResult(f"{name} ({model.layers[idx].type_name()})", relative_error(analytic, num),
                                       len(coords)))
    return results
