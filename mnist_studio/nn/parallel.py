"""Data-parallel training steps: a batch split into shards, one per usable core, each in its own thread.

Why: in a NumPy network only the matmuls use several cores (through the BLAS library's own threads). Everything
else — im2col copies, col2im, pooling, activations, the optimizer — runs on one core, and the BLAS threads have to
meet at every matmul, which is costly on a shared virtual machine where a sleeping core may take a while to be
scheduled again. Splitting the batch and running each shard through its own *replica* of the model in its own
thread, all with single-threaded BLAS (``nn/blas.py``), keeps every core busy on all of the work and removes the
per-matmul meetings. NumPy releases the GIL inside its loops and BLAS calls, so the threads really run side by
side. On LeNet (batch 64) two shards were 1.4-1.9× faster here than one thread with two-threaded BLAS.

The shard count is the number of cores the process may use (``nn/cores.py``: affinity mask and cgroup quota),
capped so that every shard has at least ``MIN_SHARD`` images. A replica shares the weight arrays (one set of
weights, one optimizer) but has its own gradient buffers, caches, scratch arrays and random stream. BatchNorm
layers meet across shards to take their statistics over the whole batch (``nn/shards.py``).

Same seed, same run: the partition depends only on the batch size and the core count, single-threaded BLAS is
set once by the calling thread before any shard starts and given back only after all have finished (BLAS rounds
differently with one or two threads, so a count changing in the middle of a shard made runs differ in the last
bits), and the shards' gradients are combined in shard order after all of them are done, never in the order they
finish. Light models are not split: an MLP's step (2.9 MFLOP per image) is about a millisecond, and on an idle
machine BLAS's own two threads do it in 1.0 ms against 1.5 ms for two shards (measured; on a busy one the shards are
far steadier, but the benchmark's machine is idle). The very lightest (the tutorial CNN) run with single-threaded
BLAS (``Model.loss_and_grads``).
"""

from __future__ import annotations

import concurrent.futures
import threading

import numpy as np

from mnist_studio.nn.blas import CAN_LIMIT_THREADS, axpy, single_threaded_blas
from mnist_studio.nn.cores import usable_cores
from mnist_studio.nn.flat import flat_base
from mnist_studio.nn.losses import Loss, make_loss
from mnist_studio.nn.model import Model
from mnist_studio.nn.shards import ShardGroup

MIN_SHARD = 16  # smallest shard worth a thread
MIN_FLOPS = 10e6  # per image and step: lighter models (an MLP) lose more to the hand-over than they gain


def shard_count(model: Model, batch_size: int, cores: int | None = None) -> int:
    """How many shards :class:`DataParallelStep` cuts a batch of this size into (1: it runs on one thread)."""
    if not CAN_LIMIT_THREADS or model.train_flops_per_sample() < MIN_FLOPS:
        return 1
    if not all(layer.splits_over_batch for layer in model.layers):
        return 1
    return max(1, min(usable_cores() if cores is None else cores, batch_size // MIN_SHARD))


def can_split(model: Model, batch_size: int, cores: int | None = None) -> bool:
    """Whether :class:`DataParallelStep` would run this model and batch size on several cores."""
    return shard_count(model, batch_size, cores) >= 2


def partition(n: int, shards: int) -> list[int]:
    """Shard boundaries: ``shards`` runs as even as possible, the larger ones first (``[0, ..., n]``)."""
    q, r = divmod(n, shards)
    bounds = [0]
    for i in range(shards):
        bounds.append(bounds[-1] + q + (i < r))
    return bounds


class DataParallelStep:
    """``step(x, labels) -> (loss, scores)`` like ``Model.loss_and_grads``, with the batch split over threads.

    ``cores`` caps the shards (default: the cores this process may use). Falls back to the plain single-thread step
    for batches too small to share. Gradients end up in ``model``'s own buffers, as after ``Model.loss_and_grads``.
    """

    def __init__(self, model: Model, loss: Loss, cores: int | None = None) -> None:
        self.model = model
        self.loss = loss
        self.cores = usable_cores() if cores is None else max(1, cores)
        self.replicas = [model.replica() for _ in range(self.cores - 1)]
        self._losses = [loss] + [make_loss(loss.name) for _ in self.replicas]
        self._pool = (concurrent.futures.ThreadPoolExecutor(len(self.replicas), thread_name_prefix="shard")
                      if self.replicas else None)
        self._lock = threading.Lock()

    @property
    def twin(self) -> Model | None:
        """The first replica (kept for callers written for the two-thread step)."""
        return self.replicas[0] if self.replicas else None

    def shards_for(self, n: int) -> int:
        return max(1, min(self.cores, n // MIN_SHARD))

    def _shard(self, index: int, model: Model, x: np.ndarray, labels: np.ndarray, groups: list[ShardGroup],
               errors: dict):
        """One shard's pass; a failure releases the shards waiting for this one at a BatchNorm meeting."""
        try:
            with np.errstate(**errors):  # the caller's error settings (they are per thread)
                return model.loss_and_grads(x, labels, self._losses[index])
        except BaseException:
            for g in groups:
                g.abort()
            raise

    def __call__(self, x: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
        n = x.shape[0]
        k = self.shards_for(n)
        if k < 2:
            return self.model.loss_and_grads(x, labels, self.loss)
        bounds = partition(n, k)
        weights = [(bounds[i + 1] - bounds[i]) / n for i in range(k)]
        models = [self.model] + self.replicas[:k - 1]
        coupled = [j for j, layer in enumerate(self.model.layers) if getattr(layer, "couples_batch", False)]
        groups = [ShardGroup(weights) for _ in coupled]
        with self._lock, single_threaded_blas():
            for i, m in enumerate(models):
                for j, g in zip(coupled, groups):
                    m.layers[j].shard = (g, i)
            try:
                errors = np.geterr()
                futures = [self._pool.submit(self._shard, i, models[i], x[bounds[i]:bounds[i + 1]],
                                             labels[bounds[i]:bounds[i + 1]], groups, errors) for i in range(1, k)]
                first, first_error = None, None
                try:
                    first = self._shard(0, self.model, x[:bounds[1]], labels[:bounds[1]], groups, errors)
                except BaseException as e:  # noqa: BLE001 - re-raised below, once the other shards have stopped
                    first_error = e
                concurrent.futures.wait(futures)
                failures = [e for e in [first_error] + [f.exception() for f in futures] if e is not None]
                if failures:  # the shard that failed first, not one only released by it
                    raise next((e for e in failures if not isinstance(e, threading.BrokenBarrierError)), failures[0])
                results = [first] + [f.result() for f in futures]
            finally:
                for m in models:
                    for j in coupled:
                        m.layers[j].shard = None
            # mean over the whole batch = weighted sum of the shards' means, added in shard order
            grads = [[g for _, _, g in m.named_params()] for m in models]
            flats = [flat_base(g) for g in grads]
            if all(f is not None and f.shape == flats[0].shape for f in flats):
                grads = [[f] for f in flats]  # one vector per model (nn/flat.py): two calls per shard
            for gi, g in enumerate(grads[0]):
                g *= weights[0]
                for i in range(1, k):
                    axpy(weights[i], grads[i][gi], g)
        loss = sum(w * r[0] for w, r in zip(weights, results))
        return loss, np.concatenate([r[1] for r in results])

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
