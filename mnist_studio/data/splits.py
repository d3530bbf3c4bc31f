"""Train / validation / test splits and shuffled mini-batches.

Images stay uint8 here (47 MB for MNIST's training set instead of 188 MB as float32); each batch is converted to
float32 when it is drawn, which costs nothing next to the forward pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from mnist_studio.data.datasets import Dataset


@dataclass
class Splits:
    train_x: np.ndarray
    train_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray

    def describe(self) -> str:
        return f"{len(self.train_x):,} train / {len(self.val_x):,} validation / {len(self.test_x):,} test"


def make_splits(ds: Dataset, val_size: int = 5000, limit: int | None = None, val_seed: int | None = None,
                test_limit: int | None = None) -> Splits:
    """Hold out ``val_size`` training images for validation: the last ones by default, or a random choice fixed
    by ``val_seed``. ``limit`` keeps only the first ``limit`` remaining training images (quick runs); the validation
    set is then shrunk to at most a fifth of that, so a quick run stays quick."""
    n = len(ds.train_images)
    if not 0 <= val_size < n:
        raise ValueError(f"the validation size must be between 0 and {n - 1:,}, got {val_size:,}")
    order = np.arange(n) if val_seed is None else np.random.default_rng(val_seed).permutation(n)
    train_idx, val_idx = order[: n - val_size], order[n - val_size:]
    if limit is not None:
        if limit < 1:
            raise ValueError(f"the limit must be at least 1 image, got {limit}")
        train_idx = train_idx[:limit]
        val_idx = val_idx[: max(limit // 5, min(100, len(val_idx)))]
    test_n = len(ds.test_images) if test_limit is None else min(test_limit, len(ds.test_images))
    return Splits(
        ds.train_images[train_idx], ds.train_labels[train_idx],
        ds.train_images[val_idx], ds.train_labels[val_idx],
        ds.test_images[:test_n], ds.test_labels[:test_n],
    )


def minibatches(n: int, batch_size: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Index arrays covering ``range(n)`` once in a random order; the last batch may be smaller."""
    order = rng.permutation(n)
    for s in range(0, n, batch_size):
        yield order[s:s + batch_size]


def batches_per_epoch(n: int, batch_size: int) -> int:
    return -(-n // batch_size)
