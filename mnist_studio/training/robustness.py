"""How a model's accuracy holds up when its inputs are damaged: rotated, shifted, noisy, thinner or thicker.

A network that scores 99 % on MNIST's test set can still misread a digit drawn 20° tilted or with a thick pen;
these curves show where it breaks. Each point is one :func:`evaluate` on a transformed copy of a (small) subset of
the test set, the transforms are :mod:`mnist_studio.data.augment`'s batch operations, and random parts (the
direction of a shift, the noise) come from a fixed seed so the same model always gives the same curves.
The undamaged point (rotation 0, shift 0, noise 0, thickness 0) is evaluated once and shared by all four curves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from mnist_studio.data.augment import add_noise, affine, change_thickness
from mnist_studio.data.datasets import to_float
from mnist_studio.nn.model import Model
from mnist_studio.training.metrics import evaluate
from mnist_studio.training.stop import StopToken


@dataclass(frozen=True)
class Sweep:
    """One kind of damage and the strengths to try."""

    name: str  # "rotation", "shift", "noise", "thickness"
    title: str  # for a plot's title
    unit: str  # for the x axis
    values: tuple[float, ...]


SWEEPS: tuple[Sweep, ...] = (
    Sweep("rotation", "Rotation", "degrees", (-45.0, -30.0, -15.0, 0.0, 15.0, 30.0, 45.0)),
    Sweep("shift", "Shift", "pixels", (0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0)),
    Sweep("noise", "Gaussian noise", "sigma", (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)),
    Sweep("thickness", "Stroke thickness", "steps (− thinner, + thicker)", (-2.0, -1.0, 0.0, 1.0, 2.0, 3.0)),
)


@dataclass
class RobustnessCurve:
    sweep: Sweep
    accuracy: np.ndarray  # one per sweep value; NaN where not computed yet

    @property
    def values(self) -> np.ndarray:
        return np.asarray(self.sweep.values, np.float32)


@dataclass
class RobustnessReport:
    plain_accuracy: float
    curves: dict[str, RobustnessCurve] = field(default_factory=dict)
    images: int = 0


def _as_float(images: np.ndarray) -> np.ndarray:
    x = to_float(images) if images.dtype == np.uint8 else np.asarray(images, np.float32)
    return x.reshape(-1, 28, 28)


def rotated(x: np.ndarray, angle: float) -> np.ndarray:
    return affine(x, angle)


def shifted(x: np.ndarray, distance: float, seed: int = 0) -> np.ndarray:
    """Each image moved ``distance`` pixels in its own random direction (so no one direction is favoured)."""
    theta = np.random.default_rng(seed).uniform(0, 2 * np.pi, len(x)).astype(np.float32)
    return affine(x, 0.0, 1.0, distance * np.cos(theta), distance * np.sin(theta))


def noisy(x: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    return add_noise(x, sigma, np.random.default_rng(seed)) if sigma > 0 else x


def thickened(x: np.ndarray, steps: float) -> np.ndarray:
    return change_thickness(x, int(round(steps)))


TRANSFORMS: dict[str, Callable[[np.ndarray, float, int], np.ndarray]] = {
    "rotation": lambda x, v, seed: rotated(x, v),
    "shift": lambda x, v, seed: shifted(x, v, seed),
    "noise": lambda x, v, seed: noisy(x, v, seed),
    "thickness": lambda x, v, seed: thickened(x, v),
}


def damage(images: np.ndarray, kind: str, value: float, seed: int = 0) -> np.ndarray:
    """A damaged float32 copy of ``images`` (uint8 or float, N×28×28): what one point of a curve is measured on."""
    return TRANSFORMS[kind](_as_float(images), float(value), seed)


def accuracy_curve(model: Model, images: np.ndarray, labels: np.ndarray, kind: str, values, seed: int = 0,
                   stop: StopToken | None = None) -> np.ndarray:
    """Accuracy of ``model`` for each strength in ``values`` of one kind of damage (``stop``: see
    :func:`robustness_report`)."""
    x = _as_float(images)
    out = np.empty(len(values), np.float64)
    for i, v in enumerate(values):
        out[i] = evaluate(model, damage(x, kind, v, seed), labels, stop=stop).accuracy
    return out


def rotation_accuracy(model, images, labels, angles=SWEEPS[0].values) -> np.ndarray:
    return accuracy_curve(model, images, labels, "rotation", angles)


def shift_accuracy(model, images, labels, distances=SWEEPS[1].values, seed: int = 0) -> np.ndarray:
    return accuracy_curve(model, images, labels, "shift", distances, seed)


def noise_accuracy(model, images, labels, sigmas=SWEEPS[2].values, seed: int = 0) -> np.ndarray:
    return accuracy_curve(model, images, labels, "noise", sigmas, seed)


def thickness_accuracy(model, images, labels, steps=SWEEPS[3].values) -> np.ndarray:
    return accuracy_curve(model, images, labels, "thickness", steps)


def _is_identity(kind: str, value: float) -> bool:
    return value == 0.0  # rotation 0, shift 0, noise 0 and thickness 0 all leave the image as it is


def robustness_report(model: Model, images: np.ndarray, labels: np.ndarray, sweeps: tuple[Sweep, ...] = SWEEPS,
                      seed: int = 0, progress: Callable[[RobustnessReport, int, int], None] | None = None,
                      stop: StopToken | None = None) -> RobustnessReport:
    """All curves for one model. ``progress(report so far, done, total)`` is called after every point so a view
    can draw the curves as they grow; a stop (``stop``) raises :class:`~mnist_studio.training.stop.Stopped`
    between two points or two chunks of one."""
    x = _as_float(images)
    labels = np.asarray(labels)
    plain = evaluate(model, x, labels, stop=stop).accuracy
    report = RobustnessReport(plain, {s.name: RobustnessCurve(s, np.full(len(s.values), np.nan)) for s in sweeps},
                              len(x))
    todo = [(s, i, v) for s in sweeps for i, v in enumerate(s.values)]
    for done, (s, i, v) in enumerate(todo, 1):
        if stop is not None:
            stop.check()
        if _is_identity(s.name, v):
            acc = plain
        else:
            acc = evaluate(model, damage(x, s.name, v, seed), labels, stop=stop).accuracy
        report.curves[s.name].accuracy[i] = acc
        if progress is not None:
            progress(report, done, len(todo))
    return report


def subset_indices(labels: np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    """Indices of ``size`` test images drawn at random (sorted), or all of them when there are fewer: a subset
    small enough that every curve point takes a fraction of a second."""
    n = len(labels)
    if size >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size, replace=False))



def typical_example(images: np.ndarray) -> int:
    """Index of an image with the median amount of ink: a fair example to show each damage on (the first image
    may be a thin "1" that erosion wipes out entirely)."""
    ink = np.asarray(images, np.float32).reshape(len(images), -1).sum(axis=1)
    return int(np.argsort(ink, kind="stable")[len(ink) // 2]) if len(ink) else -1
