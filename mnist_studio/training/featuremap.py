"""The feature-space map: where the network puts test digits just before its last layer, flattened to 2-D.

The features are the input of the model's last weighted-sum layer (for ``lenet``, the 128 values after Dense 128
and its ReLU): the space in which the final layer draws its lines between classes. Two maps of them:

- **PCA** (always): the two directions of largest variance. It is a fixed linear map (``(f - mean) @ axes``), a
  deterministic function of the features (eigenvectors' signs are fixed so that each axis's largest loading is
  positive), and any new feature vector — the drawing's, as the user draws — projects onto it exactly.
- **t-SNE** (on request, at most :data:`~mnist_studio.training.tsne.MAX_POINTS` points): keeps neighbourhoods, so
  classes separate more clearly; it has no formula for a new point, so the drawing is placed at the
  distance-weighted mean of its nearest neighbours' positions (in feature space).

:func:`build_map` computes features, predictions and the PCA map in chunks (a stop token is checked between them);
:func:`with_tsne` adds t-SNE coordinates. No Qt here: the studio's map panel runs these in a worker.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from mnist_studio.data.datasets import to_float
from mnist_studio.nn.layers import softmax
from mnist_studio.nn.model import Model
from mnist_studio.nn.values import explains_values
from mnist_studio.training.tsne import MAX_POINTS, tsne

CHUNK = 250  # images per forward pass: the stop token is looked at between chunks
NEIGHBOURS = 8


def feature_layer(model: Model) -> int:
    """Index of the model's last weighted-sum layer: its input is the feature vector (0 for a model that is one
    layer deep: the pixels themselves are then the features)."""
    weighted = [i for i, layer in enumerate(model.layers) if explains_values(layer)]
    return weighted[-1] if weighted else len(model.layers)


def features(model: Model, images: np.ndarray, stop=None,
             progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(features N×D, class probabilities N×C) in evaluation mode, ``CHUNK`` images at a time. ``images``: uint8
    or float in [0, 1]; ``stop``: anything with a ``check()`` that raises to abandon the work."""
    k = feature_layer(model)
    n = len(images)
    feats, probs = None, np.empty((n, model.output_shape[0]), np.float32)
    for a in range(0, n, CHUNK):
        if stop is not None:
            stop.check()
        part = images[a:a + CHUNK]
        x = model.prepare(to_float(part) if part.dtype == np.uint8 else part)
        f = model.forward(x, upto=k)
        out = model.forward(f, from_layer=k)
        f = f.reshape(len(x), -1)
        if feats is None:
            feats = np.empty((n, f.shape[1]), np.float32)
        feats[a:a + len(x)] = f
        probs[a:a + len(x)] = out if model.ends_with_softmax else softmax(out)
        if progress is not None:
            progress(min(n, a + CHUNK), n)
    if feats is None:
        feats = np.zeros((0, 1), np.float32)
    return feats, probs


@dataclass(frozen=True)
class Projection:
    """A PCA map: ``(features - mean) @ axes``; ``variance`` is the share of the total variance along each axis."""

    mean: np.ndarray  # (D,)
    axes: np.ndarray  # (D, 2)
    variance: np.ndarray  # (2,)

    def __call__(self, feats: np.ndarray) -> np.ndarray:
        f = np.asarray(feats, dtype=np.float64).reshape(-1, self.mean.size)
        return ((f - self.mean) @ self.axes).astype(np.float32)


def fit_pca(feats: np.ndarray) -> Projection:
    """The two principal axes of ``feats`` (rows are samples), from the covariance's eigenvectors in float64."""
    f = np.asarray(feats, dtype=np.float64)
    mean = f.mean(axis=0)
    centred = f - mean
    cov = centred.T @ centred / max(1, len(f) - 1)
    values, vectors = np.linalg.eigh(cov)  # ascending
    order = np.argsort(values, kind="stable")[::-1][:2]
    axes = vectors[:, order]
    if axes.shape[1] < 2:  # a one-dimensional feature space: the second axis is all zeros
        axes = np.concatenate([axes, np.zeros((axes.shape[0], 2 - axes.shape[1]))], axis=1)
    big = np.argmax(np.abs(axes), axis=0)
    axes *= np.where(axes[big, [0, 1]] < 0, -1.0, 1.0)  # a fixed sign: the largest loading is positive
    total = float(values.clip(min=0).sum())
    variance = np.array([values[i] / total if total > 0 else 0.0 for i in order] + [0.0] * (2 - len(order)))
    return Projection(mean, axes, variance)


def place_by_neighbours(feats: np.ndarray, coords: np.ndarray, new: np.ndarray, k: int = NEIGHBOURS) -> np.ndarray:
    """Map positions for new feature vectors (M×D) on a map without a formula: the inverse-distance-weighted mean
    of the positions of their ``k`` nearest neighbours in feature space.

    The neighbours are found with |a|² + |b|² - 2a·b (one matmul for all pairs), but their distances are then taken
    directly as |a - b|: the expanded form cancels catastrophically for a point on the map itself (its distance came
    out as float32 noise of |a|², not 0, so a map point was placed partly among its neighbours, not on itself)."""
    new = np.asarray(new, dtype=np.float32).reshape(-1, feats.shape[1])
    d2 = (new * new).sum(1)[:, None] + (feats * feats).sum(1)[None, :] - 2.0 * new @ feats.T
    k = min(k, len(feats))
    near = np.argpartition(d2, k - 1, axis=1)[:, :k]
    w = 1.0 / (np.sqrt(((feats[near] - new[:, None, :]) ** 2).sum(2)) + 1e-6)
    return ((w[:, :, None] * coords[near]).sum(1) / w.sum(1)[:, None]).astype(np.float32)


@dataclass(frozen=True)
class FeatureMap:
    method: str  # "PCA" or "t-SNE"
    indices: np.ndarray  # which test images (into the dataset's test set)
    labels: np.ndarray
    predictions: np.ndarray
    confidence: np.ndarray
    feats: np.ndarray  # (N, D)
    coords: np.ndarray  # (N, 2) float32
    projection: Projection
    layer: int  # the features are this layer's input
    fingerprint: str = ""  # of the weights the map was made with (a cache key)

    @property
    def wrong(self) -> np.ndarray:
        return self.predictions != self.labels

    def place(self, feature: np.ndarray) -> np.ndarray:
        """Where one or more new feature vectors go on this map (M×2)."""
        if self.method == "PCA":
            return self.projection(feature)
        return place_by_neighbours(self.feats, self.coords, feature)


def weights_fingerprint(model: Model) -> str:
    """A short hash of the architecture and every weight: the same weights give the same key (a map cache's key,
    so a map made once for a checkpoint is not made again)."""
    h = hashlib.blake2b(digest_size=12)
    h.update(repr(model.spec.get("layers")).encode())
    for name, arr in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def build_map(model: Model, images: np.ndarray, labels: np.ndarray, indices: np.ndarray | None = None, stop=None,
              progress: Callable[[int, int], None] | None = None) -> FeatureMap:
    """The PCA map of ``images`` (uint8 or float, N×28×28) through ``model``."""
    feats, probs = features(model, images, stop=stop, progress=progress)
    proj = fit_pca(feats)
    idx = np.arange(len(images)) if indices is None else np.asarray(indices)
    return FeatureMap("PCA", idx, np.asarray(labels).astype(np.int64), probs.argmax(1), probs.max(1), feats,
                      proj(feats), proj, feature_layer(model), weights_fingerprint(model))


def with_tsne(fmap: FeatureMap, max_points: int = MAX_POINTS, stop=None,
              progress: Callable[[int, int, np.ndarray], None] | None = None, **options) -> FeatureMap:
    """The same digits (the first ``max_points`` of them) laid out by t-SNE, started from their own PCA map (so the
    result depends on those digits' features alone, not on how many more the PCA map had)."""
    n = min(len(fmap.indices), max_points)
    feats = fmap.feats[:n]
    coords = tsne(feats, init=fit_pca(feats)(feats), stop=stop, progress=progress, **options)
    return replace(fmap, method="t-SNE", indices=fmap.indices[:n], labels=fmap.labels[:n],
                   predictions=fmap.predictions[:n], confidence=fmap.confidence[:n], feats=fmap.feats[:n],
                   coords=coords)
