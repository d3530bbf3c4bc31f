"""Looking into an :class:`Evaluation`: which images sit in a confusion-matrix cell, which mistakes the model was
surest of, what a confidence threshold buys — and evaluating in parts, so a long evaluation reports progress and
can be abandoned between parts (the evaluation tab's worker must stop within a moment when the window closes).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from mnist_studio.training.metrics import Evaluation, confusion_matrix, evaluate
from mnist_studio.training.stop import StopToken


def merge_evaluations(parts: list[Evaluation]) -> Evaluation:
    """One evaluation of the concatenated images: counts add, the loss is weighted by the number of images."""
    parts = [p for p in parts if len(p.labels)]
    if not parts:
        raise ValueError("nothing to merge")
    labels = np.concatenate([p.labels for p in parts])
    predictions = np.concatenate([p.predictions for p in parts])
    sizes = np.array([len(p.labels) for p in parts], np.float64)
    return Evaluation(
        accuracy=float(np.mean(predictions == labels)),
        loss=float(np.dot(sizes, [p.loss for p in parts]) / sizes.sum()),
        confusion=confusion_matrix(labels, predictions),
        probabilities=np.concatenate([p.probabilities for p in parts]),
        labels=labels,
        predictions=predictions,
    )


def evaluate_in_parts(model, images: np.ndarray, labels: np.ndarray, parts: int = 10,
                      progress: Callable[[int, int], None] | None = None,
                      stop: StopToken | None = None) -> Evaluation:
    """:func:`evaluate` over ``parts`` consecutive slices; ``progress(done images, total)`` after each slice. A stop
    (``stop``) raises :class:`~mnist_studio.training.stop.Stopped` between two chunks. The result equals one
    whole-set evaluation."""
    n = len(labels)
    if n == 0:
        return evaluate(model, images, labels)
    bounds = np.linspace(0, n, min(parts, n) + 1).astype(int)
    results = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        results.append(evaluate(model, images[a:b], labels[a:b], stop=stop))
        if progress is not None:
            progress(int(b), n)
    return merge_evaluations(results)


def cell_indices(ev: Evaluation, true: int, predicted: int) -> np.ndarray:
    """Indices of the images of class ``true`` predicted as ``predicted``, most confident first."""
    idx = np.flatnonzero((ev.labels == true) & (ev.predictions == predicted))
    return idx[np.argsort(-ev.confidence[idx], kind="stable")]


def confident_mistakes(ev: Evaluation, count: int = 48) -> np.ndarray:
    """Indices of the ``count`` wrong answers given with the highest confidence: the errors worth a look (often
    mislabelled or genuinely ambiguous images)."""
    wrong = np.flatnonzero(ev.predictions != ev.labels)
    return wrong[np.argsort(-ev.confidence[wrong], kind="stable")][:count]


def threshold_summary(ev: Evaluation, threshold: float) -> tuple[float, float, int]:
    """(share of images answered, accuracy on those answered, how many answered) when the model only answers
    with at least ``threshold`` confidence."""
    coverage, accuracy = ev.coverage_curve(np.array([threshold], np.float64))
    answered = int(np.sum(ev.confidence >= threshold))
    return float(coverage[0]), float(accuracy[0]), answered


def most_confused_with(confusion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each true class: the class it is most often mistaken for, and how many times (-1 and 0 when never)."""
    off = np.asarray(confusion, np.int64).copy()
    np.fill_diagonal(off, -1)
    other = off.argmax(axis=1)
    count = off[np.arange(len(off)), other]
    return np.where(count > 0, other, -1), np.maximum(count, 0)
