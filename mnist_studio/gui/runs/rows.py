"""What a row of the runs list shows about a run: its columns, its tooltip, and sorting by the numbers behind the
text."""

from __future__ import annotations

import time
from typing import Sequence

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QBrush, QColor
from PyQt6.QtWidgets import QTreeWidgetItem

from mnist_studio.nn.spec import SpecError, analyse, normalise
from mnist_studio.training.config import TrainConfig
from mnist_studio.training.hparams import cell, values_of
from mnist_studio.training.runs import RunRecord

COLUMNS = ("Run", "Val acc", "Architecture", "Hyperparameters", "Status", "Date")
COL_NAME, COL_ACC, COL_ARCH, COL_HYPER, COL_STATUS, COL_DATE = range(len(COLUMNS))
ID_ROLE = Qt.ItemDataRole.UserRole
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
STATUS_COLOURS = {"diverged": "#c0392b", "stopped": "#b9770e"}


def epochs_trained(record: RunRecord) -> float:
    """How far the run went in epochs (a stopped run 0.08, one continued by "+1 epoch" past its planned epochs)."""
    x = record.history.series("epoch")
    return float(x[-1]) if x.size else float(len(record.history.epochs))


def hyperparameters_text(c: TrainConfig, epochs: float | None = None) -> str:
    """``epochs``: the epochs trained (the configuration holds the planned ones)."""
    ep = c.epochs if epochs is None else epochs
    return f"{c.optimizer} · lr {c.lr:g} · bs {c.batch_size} · {ep:.3g} ep · seed {c.seed}"


def tooltip(record: RunRecord, note: str = "") -> str:
    c = record.config
    result = analyse(record.spec)
    params = f"{result.total_params:,} parameters" if result.ok else "invalid architecture"
    lines = [f"<b>{record.name}</b>", f"{record.spec.get('name', 'custom')} — {params}",
             f"{c.optimizer}, lr {c.lr:g}, momentum {c.momentum:g}, weight decay {c.weight_decay:g}",
             f"batch {c.batch_size}, {c.epochs} epochs planned ({epochs_trained(record):.3g} trained), "
             f"{c.schedule} schedule, seed {c.seed}"
             + (f", augment {c.augment}" if c.augment != "none" else ""),
             f"{len(record.history.epochs)} epochs recorded in {record.duration:.1f} s on {record.dataset}"]
    lines += [f"{k.replace('_', ' ')}: {v:.2%}" if "accuracy" in k else f"{k.replace('_', ' ')}: {v:.4f}"
              for k, v in sorted(record.metrics.items())]
    if record.message:
        lines.append(record.message)
    if note:
        lines.append(f"<i>{note}</i>")
    return "<br>".join(lines)


def same_architecture(a: dict, b: dict) -> bool:
    """Whether two specs build the same layers (the session's model may be a file opened during the run)."""
    try:
        return normalise(a)["layers"] == normalise(b)["layers"]
    except SpecError:
        return False


class RunRow(QTreeWidgetItem):
    """Sorts by the numbers behind the text (accuracy, time), not by the text itself."""

    def __lt__(self, other: QTreeWidgetItem) -> bool:
        col = self.treeWidget().sortColumn() if self.treeWidget() else 0
        a, b = self.data(col, SORT_ROLE), other.data(col, SORT_ROLE)
        if a is not None and b is not None:
            return a < b
        return self.text(col).lower() < other.text(col).lower()


def extra_header(key: str) -> str:
    return key.replace("_", " ").replace("accuracy", "acc")


def fill_row(item: QTreeWidgetItem, record: RunRecord, note: str = "", extra: Sequence[str] = ()) -> None:
    """Write ``record`` into its row; ``note`` says why it is not saved (shown in red in the status column);
    ``extra``: the settings and metrics shown in the columns after :data:`COLUMNS`, one each, sorting by number."""
    acc = record.val_accuracy()
    status = record.status or "—"
    if note:
        status += " (not saved)"
    elif not record.model_path:
        status += " (no model)"
    texts = {COL_NAME: record.name, COL_ACC: f"{acc:.2%}" if acc is not None else "—",
             COL_ARCH: str(record.spec.get("name") or "custom"),
             COL_HYPER: hyperparameters_text(record.config, epochs_trained(record)), COL_STATUS: status,
             COL_DATE: time.strftime("%Y-%m-%d %H:%M", time.localtime(record.created))}
    tip = tooltip(record, note)
    for col, text in texts.items():
        item.setText(col, text)
        item.setToolTip(col, tip)
    values = values_of(record)
    for col, key in enumerate(extra, start=len(COLUMNS)):
        text, number = cell(values.get(key), key)
        item.setText(col, text)
        item.setToolTip(col, tip)
        item.setData(col, SORT_ROLE, number)
        side = Qt.AlignmentFlag.AlignLeft if number is None else Qt.AlignmentFlag.AlignRight
        item.setTextAlignment(col, side | Qt.AlignmentFlag.AlignVCenter)  # always: the column may have held a number
    item.setData(COL_ACC, SORT_ROLE, -1.0 if acc is None else acc)
    item.setData(COL_DATE, SORT_ROLE, record.created)
    item.setTextAlignment(COL_ACC, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    colour = "#c0392b" if note else STATUS_COLOURS.get(record.status)
    item.setForeground(COL_STATUS, QBrush(QColor(colour)) if colour else QBrush())
