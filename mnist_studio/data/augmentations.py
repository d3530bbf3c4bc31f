"""The named training augmentations: what ``--augment NAME`` and the training controls offer.

A run stores its augmentation by name (``TrainConfig.augment``). Files and settings written before names existed
hold ``true`` or ``false``: ``true`` meant the geometric distortions, so it reads as ``"distort"``, and ``false``
as ``"none"``. Each entry makes a callable ``(batch, rng, labels) -> batch`` (vectorised over the batch; the
labels matter to the style synthesis, which draws a class's style only into digits of that class).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from mnist_studio.data.augment import Augmentation
from mnist_studio.data.styles import StyleSynthesis

BatchAugment = Callable[[np.ndarray, np.random.Generator, "np.ndarray | None"], np.ndarray]
DEFAULT = "distort"  # what a bare --augment, or a stored ``true``, means


_DISTORT = Augmentation()
_STYLES = StyleSynthesis()

# name: (title for menus, one-line help, the batch function or None)
AUGMENTATIONS: dict[str, tuple[str, str, BatchAugment | None]] = {
    "none": ("none", "the training images as they are", None),
    "distort": ("distort", "random rotation (±12°), shift (±2 px), scale (±10 %) and light noise", _DISTORT),
    "styles": ("pen styles", "30 % of the 9s get a tail hooked to the left like a \"g\", 30 % of the 7s a "
                             "crossbar, 30 % of the 1s a flag (half of them a base too): styles real writers use "
                             "and MNIST rarely has", _STYLES),
}


def augmentation_name(value: object) -> str:
    """The canonical name of a stored or typed augmentation: a name, or the booleans of older files."""
    if value is None or value is False:
        return "none"
    if value is True:
        return DEFAULT
    if isinstance(value, str) and value in AUGMENTATIONS:
        return value
    raise ValueError(f"unknown augmentation {value!r}; choose one of {', '.join(AUGMENTATIONS)}")


def make_augmentation(name: object) -> BatchAugment | None:
    """The batch function for a name (None: no augmentation)."""
    return AUGMENTATIONS[augmentation_name(name)][2]
