"""What a dataset holds, in numbers the dataset explorer draws: class counts, the mean image of each class, and a
random sample of images per class.

A user opening Fashion-MNIST or KMNIST first wants to see that the classes are balanced, what a typical image of
each class looks like, and a handful of real examples; these are the arrays behind those three views. The loops
here run over the (ten) classes, never over images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def class_counts(labels: np.ndarray, classes: int = 10) -> np.ndarray:
    """How many images each class has (int64, length ``classes``)."""
    return np.bincount(np.asarray(labels, np.int64), minlength=classes)[:classes]


def mean_images(images: np.ndarray, labels: np.ndarray, classes: int = 10) -> np.ndarray:
    """The average image of each class, float32 in the images' own scale (0-255 for uint8); zeros for an empty
    class. Summed per class with float64 accumulators so 6,000 uint8 images do not lose precision."""
    h, w = images.shape[1:3]
    out = np.zeros((classes, h, w), np.float32)
    labels = np.asarray(labels)
    for c in range(classes):
        members = images[labels == c]
        if len(members):
            out[c] = members.sum(axis=0, dtype=np.float64) / len(members)
    return out


def sample_indices(labels: np.ndarray, per_class: int, classes: int = 10, seed: int = 0) -> np.ndarray:
    """``classes × per_class`` indices of randomly chosen images of each class (-1 where a class has fewer).

    One shuffle and one stable sort by label give every class's members in random order at once.
    """
    labels = np.asarray(labels, np.int64)
    n = len(labels)
    out = np.full((classes, per_class), -1, np.int64)
    if n == 0 or per_class <= 0:
        return out
    perm = np.random.default_rng(seed).permutation(n)
    order = perm[np.argsort(labels[perm], kind="stable")]
    sorted_labels = labels[order]
    starts = np.searchsorted(sorted_labels, np.arange(classes), side="left")
    counts = np.searchsorted(sorted_labels, np.arange(classes), side="right") - starts
    pos = starts[:, None] + np.arange(per_class)[None, :]
    valid = np.arange(per_class)[None, :] < counts[:, None]
    out[valid] = order[np.minimum(pos, n - 1)][valid]
    return out


@dataclass
class DatasetStats:
    """Everything the dataset explorer shows about one dataset."""

    train_counts: np.ndarray  # per class
    test_counts: np.ndarray
    mean_images: np.ndarray  # classes × 28 × 28, float32 in 0-255, over the training images
    samples: np.ndarray  # classes × per_class training-image indices (-1 = none)


def dataset_stats(train_images: np.ndarray, train_labels: np.ndarray, test_labels: np.ndarray, per_class: int = 12,
                  classes: int = 10, seed: int = 0) -> DatasetStats:
    return DatasetStats(
        train_counts=class_counts(train_labels, classes),
        test_counts=class_counts(test_labels, classes),
        mean_images=mean_images(train_images, train_labels, classes),
        samples=sample_indices(train_labels, per_class, classes, seed),
    )
