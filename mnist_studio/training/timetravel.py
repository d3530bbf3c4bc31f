"""What the studio shows at a checkpoint (issue 13, item 3): the model of that moment, its test-set evaluation (the
confusion matrix) and the test strip's reading, computed once per checkpoint so scrubbing is instant; and "watch it
learn my 7": one drawing's class probabilities through every checkpoint. No Qt.

Evaluation goes in chunks with a :class:`~mnist_studio.training.stop.StopToken` looked at between them (the studio
runs it in a background thread and stops it when the run changes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from mnist_studio.nn.model import Model
from mnist_studio.training.checkpoints import Checkpoint
from mnist_studio.training.metrics import Evaluation, evaluate
from mnist_studio.training.stop import StopToken
from mnist_studio.training.teststrip import strip_probabilities

CHUNK = 500  # test images per chunk (a stop waits at most one chunk)


@dataclass
class MomentResult:
    """A checkpoint's readings: the test-set evaluation and the strip's probabilities (None without a strip)."""

    step: int
    evaluation: Evaluation
    strip: np.ndarray | None

    @property
    def confusion(self) -> np.ndarray:
        return self.evaluation.confusion


def model_at(spec: dict, checkpoint: Checkpoint) -> Model:
    """A model of ``spec`` with the checkpoint's exact weights (ValueError when they do not fit ``spec``)."""
    if checkpoint.state is None:
        raise ValueError(f"the checkpoint at step {checkpoint.step} holds no weights")
    model = Model(spec)
    model.load_state_dict(checkpoint.state)
    return model


def analyse(model: Model, test_images: np.ndarray, test_labels: np.ndarray, strip_images: np.ndarray | None,
            step: int = 0, stop: StopToken | None = None) -> MomentResult:
    """One checkpoint's model read on the test set (in chunks) and on the strip's digits."""
    ev = evaluate(model, test_images, test_labels, batch_size=CHUNK, stop=stop)
    strip = None
    if strip_images is not None and len(strip_images):
        strip = strip_probabilities(model, strip_images)
    return MomentResult(step, ev, strip)


def analyse_run(spec: dict, checkpoints: list[Checkpoint], test_images: np.ndarray, test_labels: np.ndarray,
                strip_images: np.ndarray | None, stop: StopToken | None = None,
                report: Callable[[MomentResult], None] | None = None,
                done: set[int] | frozenset = frozenset()) -> list[MomentResult]:
    """Every checkpoint's readings (those whose step is in ``done`` are skipped: already cached), in order;
    ``report`` receives each as soon as it is ready. The latest checkpoint goes first (scrubbing usually starts
    at the end), then the rest from the start."""
    todo = [c for c in checkpoints if c.step not in done]
    if len(todo) > 1:
        todo = [todo[-1]] + todo[:-1]
    out = []
    for c in todo:
        if stop is not None:
            stop.check()
        result = analyse(model_at(spec, c), test_images, test_labels, strip_images, c.step, stop)
        out.append(result)
        if report is not None:
            report(result)
    return out


def watch_probabilities(spec: dict, checkpoints: list[Checkpoint], image: np.ndarray,
                        stop: StopToken | None = None) -> np.ndarray:
    """"Watch it learn my 7": the class probabilities of one input (a 28×28 float image) at every checkpoint, as
    an (n_checkpoints × classes) float32 array, row i for ``checkpoints[i]``."""
    model = Model(spec)
    x = np.asarray(image, np.float32).reshape(1, -1)
    rows = []
    for c in checkpoints:
        if stop is not None:
            stop.check()
        if c.state is None:
            raise ValueError(f"the checkpoint at step {c.step} holds no weights")
        model.load_state_dict(c.state)
        rows.append(model.predict_proba(x)[0])
    if not rows:
        return np.zeros((0, model.output_shape[0]), np.float32)
    return np.stack(rows).astype(np.float32, copy=False)
