"""Divergence as a user means it: the loss blew up (and stays up), or something became NaN or infinite.

A NaN loss is only the last stage of a blow-up. With plain SGD at a learning rate of 50, an MLP's cross-entropy goes
2.4 → 2.5e10 in three steps and then wanders between 1e10 and 1e14, finite all along, while the weights become
useless. So the :class:`DivergenceGuard` watches a smoothed loss (an exponential moving average over about 256
images, so a batch of 1 is as steady as a batch of 256) and calls a run diverged when

- a loss or a weight is NaN or infinite, or
- the smoothed loss stays above ``max(10 × best, best + 2)`` for 20 batches in a row, where ``best`` is the lowest
  smoothed loss of this run so far (a continued run — the studio's "+1 epoch" — keeps its best, so a model whose
  loss was 0.05 is caught when it climbs back to chance, 2.3; the "+ 2" keeps the noise of a nearly perfect fit,
  whose best may be 0.001, from counting).

It also decides when the trainer should keep a copy of the weights (a *snapshot*): whenever the smoothed loss
reaches a new best (at most every ``spacing`` batches) and at each epoch end while the run is healthy. When the run
diverges, :meth:`DivergenceGuard.restore_point` is the newest snapshot taken before the blow-up began: before the
first of the batches whose own loss was above the line up to the moment the smoothed loss crossed it (the average
lags behind a slow rise). The guard knows nothing of models: the trainer hands it opaque snapshots and gets one
back. No Qt, no NumPy needed.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any

FACTOR = 10.0  # "far above the best": more than FACTOR × best ...
MARGIN = 2.0  # ... and more than best + MARGIN
PATIENCE = 20  # consecutive batches above the line
SMOOTHING_IMAGES = 256  # the moving average's time constant, in images
MIN_SMOOTHING_BATCHES = 10
MIN_SPACING = 50  # batches between two new-best snapshots, at least


@dataclass
class Snapshot:
    step: int
    state: Any  # whatever the trainer needs to restore (weights, optimizer moments)
    ema: tuple[float, int]  # the guard's own smoothing state at that step, restored with it


class DivergenceGuard:
    """Feed it every batch's loss with :meth:`observe`; ask :meth:`snapshot_due` after each step and at epoch ends;
    store snapshots with :meth:`keep`; after a divergence, take :meth:`restore_point` and :meth:`restored`."""

    def __init__(self, batch_size: int = 64, factor: float = FACTOR, margin: float = MARGIN,
                 patience: int = PATIENCE) -> None:
        self.factor, self.margin, self.patience = factor, margin, patience
        self.lag = max(MIN_SMOOTHING_BATCHES, math.ceil(SMOOTHING_IMAGES / max(1, batch_size)))
        self.beta = 1.0 - 1.0 / self.lag
        self.spacing = max(MIN_SPACING, 2 * self.lag)
        self.horizon = 4 * self.lag  # how far back a slow rise may have begun before the average crossed the line
        self._ema = 0.0
        self._n = 0  # batches averaged (for the start-up bias correction)
        self.smoothed = math.nan
        self.best = math.inf
        self.streak = 0  # consecutive batches above the line
        self.streak_start = 0  # the step whose smoothed loss first crossed the line
        self.bad_from = 0  # after a divergence: the first step whose weights are suspect
        self._recent: deque[tuple[int, float]] = deque(maxlen=self.horizon + patience)  # (step, raw loss)
        self.step = 0
        self.reason = ""
        self._best_step = -1  # step of the newest best not yet kept in a snapshot
        self._last_kept = -(10**9)
        self.snapshots: list[Snapshot] = []

    # -- the losses ------------------------------------------------------------------------------------------------
    def limit(self) -> float:
        """The line the smoothed loss must not stay above."""
        return max(self.factor * self.best, self.best + self.margin)

    def observe(self, step: int, loss: float) -> bool:
        """Record batch ``step``'s loss; True when the run has diverged (then :attr:`reason` says how)."""
        self.step = step
        self._recent.append((step, loss))
        if not math.isfinite(loss):
            self.reason = f"the loss became {loss} at step {step}"
            self._blown_up(step)
            return True
        self._n += 1
        self._ema = self.beta * self._ema + (1.0 - self.beta) * loss
        self.smoothed = self._ema / (1.0 - self.beta ** self._n)
        if self.smoothed > self.limit():
            if not self.streak:
                self.streak_start = step
            self.streak += 1
            if self.streak >= self.patience:
                self.reason = (f"the smoothed loss rose from its best {self.best:.4g} to {self.smoothed:.4g} and "
                               f"stayed above {self.limit():.4g} for {self.streak} batches, up to step {step}")
                self._blown_up(self.streak_start)
                return True
            return False
        self.streak = 0
        if self.smoothed < self.best:
            self.best = self.smoothed
            self._best_step = step
        return False

    def _blown_up(self, step: int) -> None:
        """The loss of ``step`` was bad: walk back over the batches just before it whose loss was above the line
        too; the weights that gave the first of them (one step earlier) are the first suspect ones."""
        limit = self.limit()
        onset = step
        for s, value in reversed(self._recent):
            if s == onset - 1 and not value <= limit:
                onset = s
            elif s < onset - 1:
                break
        self.bad_from = onset - 1

    def weights_went_bad(self, step: int) -> None:
        """The trainer found a NaN or infinite weight after the update of ``step``."""
        self.reason = f"a weight became NaN or infinite by step {step}"
        self.bad_from = step

    @property
    def healthy(self) -> bool:
        """Neither the average nor the last batch's own loss is above the line."""
        return self.streak == 0 and self._n > 0 and self._recent[-1][1] <= self.limit()

    # -- snapshots -------------------------------------------------------------------------------------------------
    def snapshot_due(self, step: int, epoch_end: bool = False) -> bool:
        """Whether to keep a copy now: the first one of a run, a new best (spaced out), or a healthy epoch end."""
        if not self.snapshots:
            return True
        if not self.healthy:
            return False
        if epoch_end:
            return step > self._last_kept
        return self._best_step > self._last_kept and step - self._last_kept >= self.spacing

    def keep(self, step: int, state: Any) -> None:
        """Store a snapshot. Older ones are dropped once a newer one is older than :attr:`horizon` (it then
        predates any blow-up that could still be detected)."""
        self.snapshots.append(Snapshot(step, state, (self._ema, self._n)))
        self._last_kept = step
        confirmed = [i for i, s in enumerate(self.snapshots) if s.step <= step - self.horizon]
        if confirmed:
            del self.snapshots[:confirmed[-1]]

    def restore_point(self) -> Snapshot | None:
        """The newest snapshot from before the blow-up began (see :meth:`_blown_up`), or the oldest one if every
        snapshot is more recent than that."""
        if not self.snapshots:
            return None
        before = [s for s in self.snapshots if s.step < self.bad_from]
        return before[-1] if before else self.snapshots[0]

    def restored(self, snap: Snapshot) -> None:
        """The trainer went back to ``snap``: forget the blow-up (the best is kept), so a continuation starts
        clean, and drop the snapshots taken after it."""
        self._ema, self._n = snap.ema
        self.smoothed = self._ema / (1.0 - self.beta ** self._n) if self._n else math.nan
        self.streak = self.streak_start = 0
        self._recent.clear()
        self.snapshots = [s for s in self.snapshots if s.step <= snap.step]
        self._last_kept = snap.step
        self._best_step = -1
