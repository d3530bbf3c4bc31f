"""Replaying a recorded run: the same fits, stopped at the same steps, with the same live changes at the same batches.

A run in the studio is rarely one uninterrupted fit: the user stops it, continues it with "+1 epoch" (which may
warm-restart a cosine schedule), changes the learning rate, momentum, weight decay, augmentation or batch size while
it trains. The run's history records each fit (``history.fits``: the epochs asked for and the step it ended at) and
each live change (``history.lr_changes`` and ``history.setting_changes``: the step before which it took effect; a
batch size's is the first step of the epoch it took effect at). Together with the run's configuration (as it was when the run started:
the schedule's length is its planned epochs) and seed, that is everything the run did, so a re-run that replays
them reproduces the run batch for batch. A record from before fits were kept replays as one fit of its epochs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mnist_studio.training.commands import Command, SetLearningRate, command_for
from mnist_studio.training.history import RunHistory


@dataclass(frozen=True)
class FitPlan:
    """One fit to make again: ``epochs`` (None: the configured ones) and, for a fit the user stopped, the step
    to stop at."""

    epochs: int | None
    until_step: int | None = None


@dataclass
class ReplayPlan:
    fits: list[FitPlan] = field(default_factory=lambda: [FitPlan(None)])
    changes: list[tuple[int, Command]] = field(default_factory=list)  # (steps taken before it, command)

    @classmethod
    def of(cls, history: RunHistory) -> "ReplayPlan":
        """What ``history``'s run did, as a plan. A fit that ended diverged is replayed as asked (it diverges again
        at the same batch); one the user stopped, up to the step it reached."""
        fits = [FitPlan(_epochs(f.get("epochs")), int(f["end_step"]) if f.get("status") == "stopped" else None)
                for f in history.fits if "end_step" in f]
        changes = [(int(c["step"]), SetLearningRate(float(c["lr"]))) for c in history.lr_changes
                   if "step" in c and "lr" in c]
        for c in history.setting_changes:
            try:
                changes.append((int(c["step"]), command_for(c["setting"], c["value"])))
            except (KeyError, TypeError, ValueError):  # a setting this version cannot change: replayed without it
                continue
        changes.sort(key=lambda sc: sc[0])  # stable: same-step changes keep their recorded order
        return cls(fits or [FitPlan(None)], changes)

    def end_step(self, configured: int, per_epoch: int) -> int:
        """The step the whole replay ends at (unless it diverges): what a progress bar and an axis span."""
        step = 0
        for f in self.fits:
            planned = configured * per_epoch if f.epochs is None else step + f.epochs * per_epoch
            step = max(step, planned if f.until_step is None else min(planned, f.until_step))
        return step


def _epochs(value: Any) -> int | None:
    return None if value is None else int(value)


def replay(trainer, plan: ReplayPlan, stop=None):
    """Run ``plan`` on a fresh ``trainer`` (built from the record's spec, configuration and seed); returns the last
    fit's end. ``stop`` (a StopToken) ends the replay early, between or inside fits."""
    trainer.plan(plan.changes)
    end = None
    for f in plan.fits:
        end = trainer.fit(f.epochs, stop=stop, until_step=f.until_step)
        if stop is not None and stop.stopped:
            break
    return end
