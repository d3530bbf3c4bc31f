"""Pause, resume, stop and live learning-rate changes, safe to call from any thread.

The training loop looks at these flags between two batches only, so a batch is never cut in half: a stop leaves
the model in the state after its last complete step, and a learning-rate change takes effect on the next batch.
"""

from __future__ import annotations

import threading


class TrainingControl:
    def __init__(self) -> None:
        self._running = threading.Event()
        self._running.set()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._pending_lr: float | None = None

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()  # wake a paused loop so it can see the stop

    def set_lr(self, lr: float) -> None:
        if not lr > 0:
            raise ValueError(f"the learning rate must be positive, got {lr}")
        with self._lock:
            self._pending_lr = float(lr)

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def take_lr(self) -> float | None:
        """The learning rate asked for since the last call, if any (consumed)."""
        with self._lock:
            lr, self._pending_lr = self._pending_lr, None
            return lr

    def wait_while_paused(self, on_wait=None) -> float:
        """Block while paused (returns at once on stop); returns the seconds spent waiting."""
        if self._running.is_set():
            return 0.0
        import time

        t0 = time.perf_counter()
        while not self._running.wait(0.05):
            if on_wait is not None:
                on_wait()
        return time.perf_counter() - t0

    def reset(self) -> None:
        """Clear a stop so the same control can drive another fit (the studio's "+1 epoch")."""
        self._stop.clear()
        self._running.set()
