"""One way to stop (and pause) work that runs in another thread: the :class:`StopToken`.

Whoever starts a piece of long work (the studio's training panel, its evaluation tab, the CLI, a test) makes a
token and hands it to the work; any thread may then call :meth:`StopToken.stop`. The work looks at the token only
at its own safe points, so nothing is ever cut in half:

- the trainer between two batches, and between the chunks of its validation pass (a validation of 20,000 images
  through a CNN takes seconds: closing the window must not wait for it);
- :func:`~mnist_studio.training.metrics.evaluate` between chunks, the robustness curves between two points, and
  anything that runs long in a worker later (teaching, for one) the same way.

Work that cannot end on its own terms at a safe point calls :meth:`StopToken.check`, which raises :class:`Stopped`;
the trainer catches it and ends the fit as "stopped", the evaluation worker drops the job. Pausing only means
something to work that can wait between steps (the trainer calls :meth:`StopToken.wait_while_paused`); evaluation
ignores it. A token serves one piece of work: a stop cannot be taken back, so the next piece gets a new token.
"""

from __future__ import annotations

import threading
import time


class Stopped(Exception):
    """Raised by :meth:`StopToken.check` once a stop was requested: the work gave up at a safe point."""


class StopToken:
    """Thread-safe stop and pause flags for one piece of work."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()  # wake a paused loop so it can see the stop

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def check(self) -> None:
        """Raise :class:`Stopped` if a stop was requested (call it at a safe point of the work)."""
        if self._stop.is_set():
            raise Stopped

    def pause(self) -> None:
        if not self._stop.is_set():
            self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_while_paused(self, poll: float = 0.05) -> float:
        """Block while paused (returns at once on a stop); returns the seconds spent waiting."""
        if self._running.is_set():
            return 0.0
        t0 = time.perf_counter()
        while not self._running.wait(poll):
            pass
        return time.perf_counter() - t0
