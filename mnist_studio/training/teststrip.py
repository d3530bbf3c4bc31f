"""The live test strip (issue 13, item 1, after ConvNetJS): a fixed row of test digits read by the network as it
trains.

The digits are chosen once per dataset, deterministically and without a trained network: a nearest-class-mean
reader (the mean image of each class over the first training images) gives every test digit a margin — how much
nearer it is to its own class's mean than to the nearest other one. Per class the strip takes the clearest digit
(largest margin) and the hardest (smallest, often nearer another class's mean: a 4 that looks like a 9), then the
hardest few left over; so the row shows both what the network gets at once and what it learns late. The order is by
class, so the row reads 0 0 1 1 2 2 ...

Predictions are the network's own (:meth:`Model.predict_proba`), taken in the training worker with each weight
snapshot; :func:`newly_right` says which digits went from wrong to right since the last update (the strip flashes
them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mnist_studio.data.datasets import to_float
from mnist_studio.nn.model import Model

SIZE = 24
POOL = 2000  # test digits the strip is chosen from (the first ones)
REFERENCE = 10000  # training digits the class means are taken over


def class_margins(images: np.ndarray, labels: np.ndarray, means: np.ndarray) -> np.ndarray:
    """Distance to the nearest other class's mean minus the distance to the own class's mean (negative: the digit
    is nearer another class)."""
    x = to_float(images).reshape(len(images), -1)
    d = np.sqrt(np.maximum(((x * x).sum(1)[:, None] - 2 * x @ means.T + (means * means).sum(1)[None, :]), 0.0))
    rows = np.arange(len(x))
    own = d[rows, labels]
    d[rows, labels] = np.inf
    return (d.min(axis=1) - own).astype(np.float32)


def choose_strip(test_images: np.ndarray, test_labels: np.ndarray, train_images: np.ndarray,
                 train_labels: np.ndarray, size: int = SIZE, pool: int = POOL) -> np.ndarray:
    """Indices of the strip's test digits: per class the clearest and the hardest, then the hardest left, ordered
    by class (ties broken by index, so the choice is the same on every machine)."""
    ref_x = to_float(train_images[:REFERENCE]).reshape(-1, test_images[0].size)
    ref_y = np.asarray(train_labels[:REFERENCE])
    classes = np.unique(ref_y)
    means = np.stack([ref_x[ref_y == c].mean(axis=0) for c in classes]).astype(np.float32)
    labels = np.asarray(test_labels[:pool])
    margin = class_margins(test_images[:pool], labels, means)
    chosen: list[int] = []
    for c in classes:
        idx = np.flatnonzero(labels == c)
        if len(idx) == 0:
            continue
        order = idx[np.lexsort((idx, margin[idx]))]  # hardest first
        chosen += [int(order[-1]), int(order[0])] if len(order) > 1 else [int(order[0])]
    rest = np.setdiff1d(np.arange(len(labels)), chosen)
    rest = rest[np.lexsort((rest, margin[rest]))]
    chosen += [int(i) for i in rest[:max(0, size - len(chosen))]]
    chosen = chosen[:size]
    return np.array(sorted(chosen, key=lambda i: (labels[i], i)), dtype=np.int64)


@dataclass
class StripPredictions:
    """What the network reads for each strip digit."""

    probabilities: np.ndarray  # (n, classes)
    labels: np.ndarray  # (n,) the true classes

    @property
    def predicted(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1)

    @property
    def confidence(self) -> np.ndarray:
        return self.probabilities.max(axis=1)

    @property
    def correct(self) -> np.ndarray:
        return self.predicted == self.labels


def strip_probabilities(model: Model, images: np.ndarray) -> np.ndarray:
    """The network's class probabilities for the strip's images (float images, n × 28 × 28)."""
    return model.predict_proba(np.asarray(images, np.float32).reshape(len(images), -1))


def newly_right(before: StripPredictions | None, after: StripPredictions) -> np.ndarray:
    """Which digits were read wrong before and are read right now (none when there was no before)."""
    if before is None or len(before.labels) != len(after.labels):
        return np.zeros(len(after.labels), bool)
    return ~before.correct & after.correct
