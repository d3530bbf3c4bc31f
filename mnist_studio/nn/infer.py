"""Prediction over many images: in chunks, spread over the usable cores, through forward-only copies of the layers.

Why: evaluating the 10,000 test images is a forward pass over 10,000 images. One pass over all of them at once
would hold gigabytes of patch matrices, so it goes in chunks (``PREDICT_CHUNK`` images, fewer when the model's
activations are large). As in training (``nn/parallel.py``) only the matmuls would use several cores, so a heavy
model's chunks are handed to one thread per usable core, each with its own copy of the layers (sharing the weights)
and single-threaded BLAS. Every chunk is computed alone, so the result does not depend on which thread took it.

The copies are *forward-only*: no backward pass follows, so a layer keeps nothing for one (a max-pool does not
record which position won) and works in its own scratch arrays, apart from the training model's.
"""

from __future__ import annotations

import concurrent.futures
import copy
import itertools
import queue
import threading

import numpy as np

from mnist_studio.nn.blas import CAN_LIMIT_THREADS, single_threaded_blas
from mnist_studio.nn.cores import usable_cores
from mnist_studio.nn.layers import softmax

PARALLEL_FLOPS = 5e6  # forward operations per image from which chunks are spread over the cores
MIN_CHUNK = 16  # smallest chunk worth a thread of its own

_pool: concurrent.futures.ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _shared_pool(workers: int) -> concurrent.futures.ThreadPoolExecutor:
    """One process-wide pool for prediction (models come and go; their threads should not)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool._max_workers < workers:  # noqa: SLF001 - grow by replacing
            _pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="predict")
        return _pool


class ForwardCopies:
    """Forward-only copies of a model's layers, one set per core, handed out to the threads that predict."""

    def __init__(self, model, sets: int) -> None:
        self.model = model
        self.free: queue.SimpleQueue = queue.SimpleQueue()
        for _ in range(sets):
            layers = []
            for layer in model.layers:
                twin = copy.copy(layer)  # the same weight arrays; own scratch and caches
                twin._work = {}
                twin.forward_only = True
                layers.append(twin)
            self.free.put(layers)
        self.sets = sets

    def forward(self, x: np.ndarray) -> np.ndarray:
        layers = self.free.get()
        try:
            for i in self.model._order:  # noqa: SLF001 - the model's execution order
                x = layers[i].forward(x, False)
            return x
        finally:
            for layer in layers:  # drop references to this chunk's arrays
                layer.__dict__.pop("_cache", None)
            self.free.put(layers)


def predict_proba(model, x: np.ndarray, batch_size: int, out: np.ndarray) -> np.ndarray:
    """Fill ``out`` with class probabilities for the prepared images ``x``, ``batch_size`` images per pass at most."""
    n = x.shape[0]
    cores = usable_cores() if CAN_LIMIT_THREADS and model.forward_flops_per_sample() >= PARALLEL_FLOPS else 1
    chunk = max(1, batch_size)
    if cores > 1 and n < cores * chunk:  # fewer images than the cores' chunks: share them out
        chunk = max(MIN_CHUNK, -(-n // cores))
    starts = list(range(0, n, chunk))
    threads = min(cores, len(starts))
    copies = model._forward_copies(threads)  # noqa: SLF001

    def run(s: int) -> None:
        y = copies.forward(x[s:s + chunk])
        out[s:s + chunk] = y if model.ends_with_softmax else softmax(y)

    if threads < 2:
        for s in starts:
            run(s)
        return out
    pool = _shared_pool(threads - 1)
    errors = np.geterr()
    counter = itertools.count()  # next() on it is atomic: each chunk goes to exactly one thread

    def take() -> None:
        for k in counter:
            if k >= len(starts):
                return
            run(starts[k])

    def task() -> None:
        with np.errstate(**errors):  # the caller's error settings (they are per thread)
            take()

    with single_threaded_blas():  # every thread, this one included, takes the next chunk until none is left
        futures = [pool.submit(task) for _ in range(threads - 1)]
        first_error = None
        try:
            take()
        except BaseException as e:  # noqa: BLE001 - re-raised once the others are done
            first_error = e
        concurrent.futures.wait(futures)
    if first_error is not None:
        raise first_error
    for f in futures:
        f.result()
    return out
