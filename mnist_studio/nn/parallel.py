"""Data-parallel training steps: both halves of a batch at once, one per core.

Why: in a NumPy network only the matmuls use several cores (through the BLAS library's own threads). Everything
else — im2col copies, col2im, pooling, activations, the optimizer — runs on one core, and the BLAS threads have to
meet at every matmul, which is costly on a shared virtual machine where a sleeping core may take a while to be
scheduled again. Splitting the batch in two and running each half through its own *replica* of the model in its
own thread, each with single-threaded BLAS (``nn/blas.py``), keeps every core busy on all of the
work and removes the per-matmul meetings. NumPy releases the GIL inside its loops and BLAS calls, so the threads
really run side by side. On LeNet (batch 64) this was 1.4-1.9× faster here than one thread with two-threaded BLAS.

A replica shares the weight arrays (so there is one set of weights and one optimizer) but has its own gradient
buffers, caches, scratch arrays and random stream. The gradients of the halves are combined as the mean over the
whole batch, exactly what one thread would compute up to float rounding. Models with BatchNorm are not split (its
statistics would be taken over half batches, which changes the result), nor light models (an MLP's step is about
a millisecond, and the hand-over between threads costs more than it saves), nor batches too small to share.
"""

from __future__ import annotations

import concurrent.futures
import os
import threading

import numpy as np

from mnist_studio.nn.blas import CAN_LIMIT_THREADS, single_threaded_blas
from mnist_studio.nn.losses import Loss, make_loss
from mnist_studio.nn.model import Model

MIN_HALF = 16  # smallest half-batch worth a thread
MIN_FLOPS = 10e6  # per image and step: lighter models (an MLP) lose more to the threads' overhead than they gain


def can_split(model: Model, batch_size: int) -> bool:
    """Whether :class:`DataParallelStep` would run this model and batch size on several cores."""
    return (
        CAN_LIMIT_THREADS
        and (os.cpu_count() or 1) >= 2
        and batch_size >= 2 * MIN_HALF
        and model.train_flops_per_sample() >= MIN_FLOPS
        and all(layer.splits_over_batch for layer in model.layers)
    )


class DataParallelStep:
    """``step(x, labels) -> (loss, scores)`` like ``Model.loss_and_grads``, with the batch split over two threads.

    Falls back to the plain single-thread step for small batches (and use :func:`can_split` to know whether it
    splits at all). Gradients end up in ``model``'s own buffers, as after ``Model.loss_and_grads``.
    """

    def __init__(self, model: Model, loss: Loss) -> None:
        self.model = model
        self.loss = loss
        self.twin = model.replica()
        self.twin_loss = make_loss(loss.name)
        self._pairs = [(g, t) for (_, _, g), (_, _, t) in zip(model.named_params(), self.twin.named_params())]
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="half-batch")
        self._lock = threading.Lock()

    def _half(self, model: Model, x: np.ndarray, labels: np.ndarray, loss: Loss, errors: dict | None = None):
        # each half enters single-threaded BLAS itself (per thread in an OpenMP build; in a pthreads build the
        # count stays at one until both have left) and gets the caller's errstate (it is per thread)
        with single_threaded_blas(), np.errstate(**(errors or np.geterr())):
            return model.loss_and_grads(x, labels, loss)

    def __call__(self, x: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
        n = x.shape[0]
        if n < 2 * MIN_HALF:
            return self.model.loss_and_grads(x, labels, self.loss)
        h = n // 2
        with self._lock:
            other = self._pool.submit(self._half, self.twin, x[h:], labels[h:], self.twin_loss, np.geterr())
            try:
                loss_a, scores_a = self._half(self.model, x[:h], labels[:h], self.loss)
            finally:
                loss_b, scores_b = other.result()
            wa, wb = h / n, (n - h) / n
            for g, t in self._pairs:  # mean over the whole batch = weighted mean of the halves' means
                g *= wa
                g += wb * t
        return wa * loss_a + wb * loss_b, np.concatenate([scores_a, scores_b])

    def close(self) -> None:
        self._pool.shutdown(wait=True)
