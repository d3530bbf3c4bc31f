"""What the training tab says, in words, when the model on screen and the designer's network part ways, or when
a continuation restarts the schedule: the texts only (the panel decides when to show them), so each is one place.
"""

from __future__ import annotations

from mnist_studio.training import ScheduleRestart

MORE_TIP = "Continue the last run for one more epoch (same weights and optimizer state)"


def continued_run(run_name: str, trained_from: str, designer: str | None, changed: bool) -> str:
    """The designer shows another architecture than the finished run's (a preset loaded after training)."""
    if not changed:
        return ""
    return (f"<b>The current model is {run_name}, trained from another architecture ({trained_from}).</b> "
            f"Start trains {designer or 'the designer’s network'} from scratch with these settings; +1 epoch "
            f"continues {run_name} with its own.")


def opened_model(label: str, designer: str | None, same: bool) -> str:
    """An opened model file (or a past run's model) is shown: Start does not continue it."""
    new = designer or "the designer’s network"
    differs = "" if same else f" (the designer now shows {new})"
    return (f"<b>Showing {label or 'a model file'}.</b> Start trains {new} from scratch{differs}: the opened weights "
            "are not continued, they stay in the Draw and Evaluate tabs until a new run starts.")


def more_tip(run_name: str, trained_from: str, schedule: str) -> str:
    tip = f"Continue {run_name} ({trained_from}) for one more epoch, with its own weights, optimizer state and settings"
    if schedule == "cosine":
        tip += "; past the end of its cosine schedule, the schedule restarts over the added epoch (warm restart)"
    return tip


def warm_restart(r: ScheduleRestart, min_factor: float) -> str:
    return (f"<b>The cosine schedule had ended</b> (the rate had glided down to {min_factor * r.lr:g}): it restarts "
            f"from lr {r.lr:g} at epoch {r.start:.4g} and glides down again by epoch {r.end:.4g} (a warm restart).")
