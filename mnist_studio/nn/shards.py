"""What the shards of one batch share while they run in separate threads: a meeting point per BatchNorm layer.

Why: BatchNorm normalises with statistics over the *whole* batch. When the batch is split over threads
(``nn/parallel.py``), each shard's replica of the layer computes its own part — count, mean and centred sum of
squares in the forward pass, two gradient sums in the backward pass — hands it in here, waits for the others, and
combines all parts in shard order. Every shard thus gets the same numbers, whatever thread finishes first, and the
model trains as on one thread, to float rounding.
"""

from __future__ import annotations

import threading
from typing import Any


class ShardGroup:
    """The replicas of one layer across the shards of one batch: ``exchange`` is an all-gather in shard order.

    ``weights[i]`` is shard i's share of the batch (its size / the batch size): the loss of the batch is the
    weighted sum of the shards' mean losses, and a layer that couples samples needs it to turn its part of the
    whole-batch gradient into the shard's own units."""

    def __init__(self, weights: list[float]) -> None:
        self.weights = weights
        self._slots: list[Any] = [None] * len(weights)
        self._barrier = threading.Barrier(len(weights))

    def exchange(self, index: int, part: Any) -> list[Any]:
        """Hand in shard ``index``'s part; return every shard's part, in shard order, once all have handed in."""
        self._slots[index] = part
        self._barrier.wait()
        parts = list(self._slots)
        self._barrier.wait()  # nobody hands in the next part before every shard has read this one
        return parts

    def abort(self) -> None:
        """Release the shards waiting here (they raise ``threading.BrokenBarrierError``): another shard failed."""
        self._barrier.abort()
