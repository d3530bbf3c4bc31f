"""Evaluation: accuracy, loss, confusion matrix, per-class precision / recall / F1, probabilities.

Images are pushed through the model in chunks, so evaluating 10,000 images through a CNN never builds a
multi-gigabyte im2col matrix, and a :class:`~mnist_studio.training.stop.StopToken` is looked at between two chunks
(a stop raises :class:`~mnist_studio.training.stop.Stopped`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from mnist_studio.data.datasets import to_float
from mnist_studio.nn.losses import one_hot
from mnist_studio.nn.model import Model
from mnist_studio.training.stop import StopToken

EPS = 1e-7


@dataclass
class Evaluation:
    accuracy: float
    loss: float
    confusion: np.ndarray  # [true, predicted] counts, 10×10
    probabilities: np.ndarray  # N×10
    labels: np.ndarray
    predictions: np.ndarray

    @property
    def precision(self) -> np.ndarray:
        """Per class: of the images predicted as c, the share that are c (NaN-free: 0 when never predicted)."""
        col = self.confusion.sum(axis=0)
        return np.divide(np.diag(self.confusion), col, out=np.zeros(10), where=col > 0)

    @property
    def recall(self) -> np.ndarray:
        """Per class: of the images that are c, the share predicted as c."""
        row = self.confusion.sum(axis=1)
        return np.divide(np.diag(self.confusion), row, out=np.zeros(10), where=row > 0)

    @property
    def f1(self) -> np.ndarray:
        p, r = self.precision, self.recall
        return np.divide(2 * p * r, p + r, out=np.zeros(10), where=(p + r) > 0)

    @cached_property
    def confidence(self) -> np.ndarray:
        """Each image's top probability (computed once: the Evaluate tab's captions ask for it per image)."""
        return self.probabilities.max(axis=1)

    def coverage_curve(self, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each confidence threshold: (share of images answered, accuracy on those answered)."""
        conf = self.confidence
        right = self.predictions == self.labels
        answered = conf[None, :] >= thresholds[:, None]
        count = answered.sum(axis=1)
        coverage = count / max(len(conf), 1)
        acc = np.divide((answered & right[None, :]).sum(axis=1), count, out=np.ones(len(thresholds)), where=count > 0)
        return coverage, acc


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, classes: int = 10) -> np.ndarray:
    return np.bincount(labels.astype(np.int64) * classes + predictions, minlength=classes * classes).reshape(classes, classes)


def loss_from_probabilities(probs: np.ndarray, labels: np.ndarray, loss: str = "cross_entropy",
                            outputs: np.ndarray | None = None) -> float:
    if loss == "mse":
        out = probs if outputs is None else outputs
        return float(np.mean((out - one_hot(labels, out.shape[1], out.dtype)) ** 2))
    p = probs[np.arange(len(labels)), labels]
    return float(np.mean(-np.log(np.maximum(p, EPS))))


def evaluate(model: Model, images: np.ndarray, labels: np.ndarray, loss: str = "cross_entropy",
             batch_size: int = 500, stop: StopToken | None = None) -> Evaluation:
    """Evaluate on uint8 or float images; labels are 0-9. ``stop`` is checked before each chunk of ``batch_size``."""
    if len(images) == 0:
        return Evaluation(float("nan"), float("nan"), np.zeros((10, 10), np.int64), np.zeros((0, 10), np.float32),
                          labels, labels)
    x = to_float(images) if images.dtype == np.uint8 else images
    chunks = []
    for s in range(0, len(x), batch_size):
        if stop is not None:
            stop.check()
        chunks.append(model.predict_proba(x[s:s + batch_size], batch_size))
    probs = np.concatenate(chunks)
    pred = probs.argmax(axis=1)
    labels = labels.astype(np.int64)
    return Evaluation(
        accuracy=float(np.mean(pred == labels)),
        loss=loss_from_probabilities(probs, labels, loss),
        confusion=confusion_matrix(labels, pred),
        probabilities=probs,
        labels=labels,
        predictions=pred,
    )
