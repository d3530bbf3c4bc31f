"""Time travel (issue 13, item 3): every run keeps checkpoints of its weights, so the studio can go back to any
moment of it. No Qt.

A :class:`CheckpointCollector` (a trainer :class:`~mnist_studio.training.events.Callback`) keeps a copy of the
model's ``state_dict`` — the exact float32 weights and BatchNorm statistics — at the start of the run, a few times
inside the first epoch (after 1 %, 5 %, 20 % and 50 % of it: most of the learning happens there), at every epoch end
(with the epoch's validation accuracy, which a restored checkpoint reproduces exactly) and where a fit was stopped.
Not to be confused with the trainer's own ``_checkpoint``, the divergence guard's restore point.

The checkpoints of a run have a budget (:data:`BUDGET_BYTES`, 50 MiB: about 27 checkpoints of ``lenet``'s 1.8 MB);
beyond it older ones are thinned (:func:`thin`): the first and the last are always kept, the rest an even spread.

On disk they sit beside the run's ``<id>.json`` and ``<id>.npz`` as ``<id>.ckpt.npz`` (plain arrays named
``c<k>.<layer>.<name>`` plus ``steps``; written atomically, read through the checked :func:`read_npz`, never with
pickle), and the run record keeps their index (step, epoch, validation accuracy) in its ``checkpoints`` field. A
record from before checkpoints has no such field and simply has none.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from mnist_studio.fileio import atomic_write
from mnist_studio.jsonread import JsonError, as_dict, as_list, get_float, get_int
from mnist_studio.npzread import read_npz
from mnist_studio.training.events import BatchEnd, Callback, EpochEnd, FitBegin, FitEnd

FIRST_EPOCH_FRACTIONS = (0.01, 0.05, 0.2, 0.5)  # where the first epoch is checkpointed (besides its end)
BUDGET_BYTES = 50 * 2**20  # per run (about 27 checkpoints of lenet)
MAX_CHECKPOINTS = 10_000  # a record's index longer than this is refused as damaged
MAX_FILE_BYTES = 2**31  # a checkpoint file announcing more is refused before reading


@dataclass
class Checkpoint:
    """One moment of a run: the step (optimizer steps taken), the epoch position (steps / steps per epoch), the
    validation accuracy measured there (epoch ends only) and the weights (``None`` when only the index is loaded)."""

    step: int
    epoch: float
    val_accuracy: float | None = None
    state: dict[str, np.ndarray] | None = field(default=None, repr=False, compare=False)

    @property
    def nbytes(self) -> int:
        return state_bytes(self.state)

    def label(self) -> str:
        """How the scrubber names it: "start", "epoch 2", "epoch 0.05" (with the step)."""
        if self.step == 0:
            return "start (untrained)"
        whole = abs(self.epoch - round(self.epoch)) < 1e-9
        return f"epoch {round(self.epoch) if whole else f'{self.epoch:.2f}'} · step {self.step:,}"

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "epoch": self.epoch, "val_accuracy": self.val_accuracy}

    def without_state(self) -> "Checkpoint":
        return dataclasses.replace(self, state=None)


def state_bytes(state: dict[str, np.ndarray] | None) -> int:
    return sum(int(v.nbytes) for v in state.values()) if state else 0


def index_from_json(value: Any) -> list[Checkpoint]:
    """The ``checkpoints`` field of a run record, checked (a record without it has none); raises JsonError."""
    if value is None:
        return []
    out = []
    for i, item in enumerate(as_list(value, "the checkpoints", max_len=MAX_CHECKPOINTS)):
        d = as_dict(item, f"checkpoint {i + 1}")
        acc = d.get("val_accuracy")
        out.append(Checkpoint(get_int(d, "step", lo=0, hi=2**53), get_float(d, "epoch", lo=0.0, hi=1e9),
                              None if acc is None else get_float(d, "val_accuracy", lo=0.0, hi=1.0)))
    steps = [c.step for c in out]
    if steps != sorted(set(steps)):
        raise JsonError("the checkpoints' steps must increase")
    return out


def thin(checkpoints: list[Checkpoint], budget: int = BUDGET_BYTES) -> list[Checkpoint]:
    """Checkpoints within ``budget`` bytes: all of them when they fit, else the first, the last and an even spread
    between (by position in the list, so the dense first epoch keeps its share); the last alone when only one fits,
    none when not even one does."""
    n = len(checkpoints)
    sizes = [c.nbytes for c in checkpoints]
    if n == 0 or sum(sizes) <= budget:
        return list(checkpoints)
    keep = int(budget // max(max(sizes), 1))
    if keep <= 0:
        return []
    if keep == 1:
        return [checkpoints[-1]]
    idx = np.unique(np.round(np.linspace(0, n - 1, keep)).astype(int))
    return [checkpoints[i] for i in idx]


def first_epoch_steps(per_epoch: int, fractions=FIRST_EPOCH_FRACTIONS) -> set[int]:
    """The steps inside the first epoch that are checkpointed (none that coincide with its end)."""
    steps = {max(1, int(round(f * per_epoch))) for f in fractions}
    return {s for s in steps if s < per_epoch}


class CheckpointCollector(Callback):
    """Keeps a run's checkpoints in memory while it trains (in the training thread): copies of ``model``'s state,
    thinned to ``budget``. ``on_kept(checkpoints)`` is called with the new list (a copy) after each one; the
    checkpoints themselves are never changed once made, so they may be handed to another thread."""

    def __init__(self, model, budget: int = BUDGET_BYTES,
                 on_kept: Callable[[list[Checkpoint]], None] | None = None) -> None:
        self.model = model
        self.budget = budget
        self.on_kept = on_kept
        self.checkpoints: list[Checkpoint] = []
        self.per_epoch = 1
        self._due: set[int] = set()

    def on_fit_begin(self, e: FitBegin) -> None:
        self.per_epoch = max(e.batches_per_epoch, 1)
        self._due = first_epoch_steps(self.per_epoch)
        if e.start_step == 0 and not self.checkpoints:
            self.keep(0, 0.0, None)  # the untrained start: where "watch it learn" begins

    def on_batch_end(self, e: BatchEnd) -> None:
        if e.step in self._due and e.epoch < 1.0:
            self.keep(e.step, e.epoch, None)

    def on_epoch_end(self, e: EpochEnd) -> None:
        self.keep(e.step, float(e.epoch), e.val_accuracy)

    def on_fit_end(self, e: FitEnd) -> None:
        if e.status == "stopped" and (not self.checkpoints or self.checkpoints[-1].step != e.step):
            self.keep(e.step, e.epoch, None)  # where the user stopped (a diverged run's weights went back: not a moment)

    def keep(self, step: int, epoch: float, val_accuracy: float | None) -> None:
        """A checkpoint of the model as it is now (``epoch``: the run's progress, as its events count it: the
        batch size may change between epochs)."""
        point = Checkpoint(int(step), float(epoch), None if val_accuracy is None else float(val_accuracy),
                           self.model.state_dict())
        kept = [c for c in self.checkpoints if c.step != point.step]  # a stop at an epoch end: the epoch's wins
        self.checkpoints = thin(kept + [point], self.budget)
        if self.on_kept is not None:
            self.on_kept(list(self.checkpoints))


# -- files -------------------------------------------------------------------------------------------------------
def save_checkpoints(path: str | Path, checkpoints: list[Checkpoint]) -> Path:
    """Write the checkpoints' weights (all must hold them) as one ``.npz`` of plain arrays, atomically."""
    arrays: dict[str, np.ndarray] = {"steps": np.array([c.step for c in checkpoints], np.int64)}
    for k, c in enumerate(checkpoints):
        if c.state is None:
            raise ValueError(f"checkpoint at step {c.step} holds no weights")
        for name, value in c.state.items():
            arrays[f"c{k}.{name}"] = value
    return atomic_write(path, lambda f: np.savez(f, **arrays))


def load_checkpoints(path: str | Path, index: list[Checkpoint]) -> list[Checkpoint]:
    """The checkpoints of ``index`` with their weights read from ``path``; raises ValueError (a damaged or
    mismatched file, with the reason) or OSError."""
    arrays = read_npz(path, max_bytes=MAX_FILE_BYTES, max_entries=200_000)
    steps = arrays.pop("steps", None)
    if steps is None or steps.ndim != 1 or steps.dtype.kind not in "iu":
        raise ValueError("the checkpoint file has no list of steps")
    states: list[dict[str, np.ndarray]] = [{} for _ in range(len(steps))]
    for key, value in arrays.items():
        head, _, name = key.partition(".")
        if not (head[:1] == "c" and head[1:].isdigit() and int(head[1:]) < len(steps) and name):
            raise ValueError(f"unexpected entry {key!r:.60} in the checkpoint file")
        if value.dtype.kind != "f":
            raise ValueError(f"the entry {key!r:.60} holds {value.dtype} values, not weights")
        states[int(head[1:])][name] = value
    where = {int(s): k for k, s in enumerate(steps)}
    out = []
    for c in index:
        if c.step not in where:
            raise ValueError(f"the checkpoint file has no weights for step {c.step}")
        out.append(dataclasses.replace(c, state=states[where[c.step]]))
    return out
