"""What the training tab says, in words, when the model on screen and the designer's network part ways, or when
a continuation restarts the schedule: the texts only (the panel decides when to show them), so each is one place.
"""

from __future__ import annotations

from mnist_studio.data.augmentations import AUGMENTATIONS
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


def at_checkpoint(label: str) -> str:
    """A checkpoint of a run is shown (time travel): the views look back, training goes on from the latest weights."""
    return (f"<b>Showing {label or 'a checkpoint'}.</b> The views show the network as it was at that moment; "
            "Back to latest returns to the run's latest weights. Start trains the designer's network from scratch "
            "and +1 epoch continues the last run from its latest weights, not from this checkpoint.")


def more_tip(run_name: str, trained_from: str, schedule: str) -> str:
    tip = f"Continue {run_name} ({trained_from}) for one more epoch, with its own weights, optimizer state and settings"
    if schedule == "cosine":
        tip += "; past the end of its cosine schedule, the schedule restarts over the added epoch (warm restart)"
    return tip


def warm_restart(r: ScheduleRestart, min_factor: float) -> str:
    return (f"<b>The cosine schedule had ended</b> (the rate had glided down to {min_factor * r.lr:g}): it restarts "
            f"from lr {r.lr:g} at epoch {r.start:.4g} and glides down again by epoch {r.end:.4g} (a warm restart).")


SETTING_NAMES = {"momentum": "momentum", "beta1": "β1", "beta2": "β2", "rho": "ρ", "eps": "ε",
                 "weight_decay": "weight decay", "augment": "augment", "batch_size": "batch size"}


def setting_value(setting: str, value) -> str:
    """A live setting's value as the controls show it (weight decay 0 is "off", an augmentation its title)."""
    if value is None:
        return "?"
    if setting == "augment":
        return AUGMENTATIONS[value][0] if value in AUGMENTATIONS else str(value)
    if setting == "weight_decay" and value == 0:
        return "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def setting_change(setting: str, previous, value) -> str:
    """A live change as its curve marker says it: ``momentum 0.9 → 0.5``."""
    name = SETTING_NAMES.get(setting, setting)
    if previous is None:
        return f"{name} → {setting_value(setting, value)}"
    return f"{name} {setting_value(setting, previous)} → {setting_value(setting, value)}"


def batch_size_pending(size: int) -> str:
    return (f"Batch size {size} from the next epoch: the epoch in progress keeps its batches (its order was drawn "
            "when it started).")
