"""Comparing runs by their settings (TensorBoard's HParams view), without Qt: which hyperparameters differ between
runs, what each run's cell says and sorts by, which runs a filter keeps, and the points of a hyperparameter vs
validation accuracy scatter.

Only hyperparameters that *vary* become columns: a setting every run shares says nothing about why one run did
better, and the runs list shares its width with the training controls.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass, fields
from typing import Any, Sequence

import numpy as np

from mnist_studio.training.config import TrainConfig
from mnist_studio.training.runs import RunRecord

ARCHITECTURE = "architecture"
HPARAM_KEYS = (ARCHITECTURE,) + tuple(f.name for f in fields(TrainConfig))
METRIC_ORDER = ("val_accuracy", "val_loss", "train_accuracy", "train_loss", "test_accuracy", "test_loss")


def hyperparameters(record: RunRecord) -> dict[str, Any]:
    """Every setting of the run, the architecture's name first (a run's most telling choice)."""
    config = record.config.to_dict()
    return {ARCHITECTURE: str(record.spec.get("name") or "custom"), **{k: config.get(k) for k in HPARAM_KEYS[1:]}}


def varying(records: Sequence[RunRecord]) -> list[str]:
    """The hyperparameters whose values are not the same in all ``records``, in the configuration's order."""
    values = [hyperparameters(r) for r in records]
    return [k for k in HPARAM_KEYS if len({repr(v[k]) for v in values}) > 1]


def metric_keys(records: Sequence[RunRecord]) -> list[str]:
    """The final metrics any of ``records`` measured: the usual ones in a fixed order, then any others by name."""
    present = {k for r in records for k in r.metrics} | {"val_accuracy"}
    return [k for k in METRIC_ORDER if k in present] + sorted(present - set(METRIC_ORDER))


def values_of(record: RunRecord) -> dict[str, Any]:
    """What the filter and the columns can ask about a run: its settings and its final metrics."""
    return {**hyperparameters(record), **record.metrics, "val_accuracy": record.val_accuracy()}


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def cell(value: Any, key: str = "") -> tuple[str, float | None]:
    """The text of a column's cell and the number it sorts by (None: sort by the text, as for an optimizer's
    name), so that lr 0.0001 < 0.001 < 0.01 whatever the text looks like. A missing value sorts first."""
    if value is None:
        return "—", -math.inf
    if isinstance(value, bool):
        return ("yes" if value else "no"), float(value)
    if is_number(value):
        if "accuracy" in key:
            return f"{value:.2%}", float(value)
        return (f"{value:.4g}" if isinstance(value, float) else str(value)), float(value)
    return str(value), None


_COMPARISON = re.compile(r"^([a-z_]+)\s*(<=|>=|!=|=|<|>)\s*(.+)$")
_OPS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt, "=": operator.eq,
        "!=": operator.ne}


def _term_matches(term: str, values: dict[str, Any], texts: Sequence[str]) -> bool:
    m = _COMPARISON.match(term)
    if m and m.group(1) in values:
        key, op, wanted = m.groups()
        have = values[key]
        if have is None:
            return False
        if is_number(have):
            try:
                number = float(wanted.rstrip("%")) / (100 if wanted.endswith("%") else 1)
            except ValueError:
                return False
            return _OPS[op](float(have), number)
        have_text = cell(have, key)[0].lower()
        return _OPS[op](have_text, wanted.lower()) if op in ("=", "!=") else False
    return any(term in t.lower() for t in texts)


def matches(query: str, values: dict[str, Any], texts: Sequence[str]) -> bool:
    """Whether a run passes the filter ``query``: every space-separated term must hold. A term ``key<value``
    (``<``, ``<=``, ``>``, ``>=``, ``=``, ``!=``; e.g. ``lr<0.01``, ``val_accuracy>97%``, ``optimizer=adam``)
    compares a setting or metric; any other term is looked for, case-insensitively, in the row's ``texts``."""
    terms = re.sub(r"\s*(<=|>=|!=|=|<|>)\s*", r"\1", query.strip().lower()).split()
    return all(_term_matches(t, values, texts) for t in terms)


LOG_SPAN = 30.0  # a positive numeric setting whose largest value is this many times its smallest is drawn on a log axis


@dataclass
class Scatter:
    """A hyperparameter against validation accuracy: one point per run that measured one. ``x`` holds the value
    for a numeric setting, the index of the value among ``labels`` (sorted) for a name or a yes/no; ``pos`` where
    the point is drawn: ``x``, or log10(``x``) for a positive setting spanning decades (a learning rate's 1e-4 and
    1e-3 would otherwise sit on top of each other next to 0.1); ``ticks`` the axis labels at those positions."""
    key: str
    x: np.ndarray  # float32
    y: np.ndarray  # float32 validation accuracies
    ids: list[str]  # the run of each point
    labels: list[str] | None  # categorical: the value at position i; None for a numeric setting
    log: bool = False
    pos: np.ndarray | None = None  # float32; None: same as x
    ticks: list[tuple[float, str]] | None = None  # None: the axis's own numbers

    def __post_init__(self) -> None:
        if self.pos is None:
            self.pos = self.x


def scatter(records: Sequence[RunRecord], key: str) -> Scatter:
    kept = [(r, values_of(r)) for r in records if r.val_accuracy() is not None]
    raw = [v.get(key) for _r, v in kept]
    y = np.array([v["val_accuracy"] for _r, v in kept], dtype=np.float32)
    ids = [r.id for r, _v in kept]
    if all(is_number(v) for v in raw):
        x = np.array(raw, dtype=np.float32)
        if x.size and x.min() > 0 and x.max() >= LOG_SPAN * x.min():
            pos = np.log10(x).astype(np.float32)
            # float32 log10(0.001) is a hair below -3: a tolerance keeps that decade the first tick
            decades = range(int(np.floor(pos.min() + 1e-4)), int(np.ceil(pos.max() - 1e-4)) + 1)
            return Scatter(key, x, y, ids, None, True, pos, [(float(e), f"{10.0 ** e:g}") for e in decades])
        return Scatter(key, x, y, ids, None)
    texts = [cell(v, key)[0] for v in raw]
    labels = sorted(set(texts))
    x = np.array([labels.index(t) for t in texts], dtype=np.float32)
    return Scatter(key, x, y, ids, labels, ticks=[(float(i), t) for i, t in enumerate(labels)])
