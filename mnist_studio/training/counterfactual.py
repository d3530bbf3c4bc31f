""""What would make it a 3?": move an image, by small gradient steps on its pixels, until the network reads it as
another class (issue 13, item 5).

The objective is the log-probability of the chosen class, minus a small total-variation penalty (so the change
comes as strokes rather than as scattered grey noise) and a small L2 penalty on the distance to the original (so
the image stays the user's digit as long as it can). Each step moves the image by a fixed length in pixel space
(``step`` in L2 norm, about half a fully inked pixel by default) along that objective's gradient, then clips the
pixels to [0, 1], the range the network was trained on. A fixed step length makes "steps" a unit one can read: the
probability curve says how much ink, at least, the network needs changed to change its mind.

Everything is vectorised over a batch of images (each with its own target), so the benchmark that measures how
many steps it usually takes (``benchmarks/counterfactual_steps.py``) runs hundreds of them at once. The model's
gradient buffers are overwritten: pass a copy of a model that is being trained or shown elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from mnist_studio.nn.layers import softmax
from mnist_studio.nn.model import Model
from mnist_studio.training.stop import StopToken

STEPS = 60  # default maximum number of steps
STEP = 0.5  # L2 length of one step in pixel space (one fully inked pixel is 1.0)
TV_WEIGHT = 0.02  # total-variation penalty (smoothed, per pixel edge)
L2_WEIGHT = 0.01  # penalty on the squared distance to the original
UNTIL = 0.9  # stop once every image's chosen class is at least this probable (further steps only wear the digit away)
_TV_EPS = 1e-2


@dataclass
class Counterfactual:
    """One image's path to class ``target``: ``frames[0]`` is the original, ``frames[k]`` the image after k
    steps; ``probability[k]`` the target's probability for ``frames[k]``, ``predicted[k]`` the network's answer."""

    target: int
    frames: np.ndarray  # (steps + 1, 28, 28) float32 in [0, 1]
    probability: np.ndarray  # (steps + 1,) float32
    predicted: np.ndarray  # (steps + 1,) int

    @property
    def steps(self) -> int:
        return len(self.frames) - 1

    def steps_to(self, level: float) -> int | None:
        """The first step at which the target is at least ``level`` probable (0: it already was), or None."""
        return first_reaching(self.probability[:, None], level)[0]


def first_reaching(probability: np.ndarray, level: float) -> list[int | None]:
    """For each column of ``probability`` (steps + 1, N): the first row at or above ``level``, or None."""
    hit = np.asarray(probability) >= level
    first = hit.argmax(axis=0)
    return [int(f) if hit[f, n] else None for n, f in enumerate(first)]


def total_variation_grad(x: np.ndarray) -> np.ndarray:
    """Gradient of the smoothed anisotropic total variation ``Σ sqrt(d² + ε)`` over horizontal and vertical pixel
    differences d, for a batch (N, H, W)."""
    g = np.zeros_like(x)
    dh = x[:, :, 1:] - x[:, :, :-1]
    gh = dh / np.sqrt(dh * dh + _TV_EPS)
    g[:, :, 1:] += gh
    g[:, :, :-1] -= gh
    dv = x[:, 1:, :] - x[:, :-1, :]
    gv = dv / np.sqrt(dv * dv + _TV_EPS)
    g[:, 1:, :] += gv
    g[:, :-1, :] -= gv
    return g


def log_prob_gradient(model: Model, x: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """d log p(target | x) / dx for a batch (N, H, W), in evaluation mode, and the probabilities (N, classes)."""
    prepared = model.prepare(x.reshape(len(x), -1))
    upto = len(model.layers) - 1 if model.ends_with_softmax else None  # the scores before the softmax
    scores = model.forward(prepared, training=False, upto=upto)
    probs = softmax(scores)
    d = -probs
    d[np.arange(len(x)), targets] += 1.0  # d log softmax_t / d scores = onehot(t) - p
    grad = model.backward(d.astype(scores.dtype), from_layer=upto, to_input=True)
    return np.asarray(grad, np.float32).reshape(x.shape), probs


def counterfactuals(model: Model, images: np.ndarray, targets, steps: int = STEPS, step: float = STEP,
                    tv_weight: float = TV_WEIGHT, l2_weight: float = L2_WEIGHT, until: float | None = UNTIL,
                    keep_frames: bool = True, stop: StopToken | None = None,
                    progress: Callable[[int, np.ndarray], None] | None = None) -> tuple[np.ndarray | None, np.ndarray]:
    """Gradient steps on every image (N, 28, 28) toward its target (N,) class.

    Returns (frames (k + 1, N, 28, 28) or None when not ``keep_frames``, target probabilities (k + 1, N)), where
    k <= ``steps`` (fewer when every image reached ``until``). ``stop`` is checked between steps; ``progress(k,
    probabilities)`` is called after each.
    """
    x0 = np.asarray(images, np.float32).reshape(-1, *np.shape(images)[-2:])
    targets = np.broadcast_to(np.asarray(targets, np.int64), (len(x0),))
    rows = np.arange(len(x0))
    x = x0.copy()
    frames = [x.copy()] if keep_frames else None
    probs = []
    for k in range(steps + 1):
        grad, p = log_prob_gradient(model, x, targets)
        probs.append(p[rows, targets].astype(np.float32))
        if progress is not None and k:
            progress(k, probs[-1])
        if k == steps or (until is not None and np.all(probs[-1] >= until)):
            break
        if stop is not None:
            stop.check()
        grad -= tv_weight * total_variation_grad(x) + 2 * l2_weight * (x - x0)
        norm = np.sqrt((grad.reshape(len(x), -1) ** 2).sum(axis=1))[:, None, None]
        x = np.clip(x + step * grad / np.maximum(norm, 1e-12), 0.0, 1.0).astype(np.float32)
        if keep_frames:
            frames.append(x.copy())
    return (np.stack(frames) if keep_frames else None), np.stack(probs)


def counterfactual(model: Model, image: np.ndarray, target: int, steps: int = STEPS, **kwargs) -> Counterfactual:
    """One image's path to ``target`` (see :func:`counterfactuals` for the settings)."""
    frames, probs = counterfactuals(model, np.asarray(image, np.float32)[None], [target], steps=steps, **kwargs)
    predicted = model.predict(frames[:, 0].reshape(len(frames), -1))
    return Counterfactual(int(target), frames[:, 0], probs[:, 0], predicted)
