"""What the weight-history panel draws, without Qt: one array's histograms over time as a heatmap image (columns =
samples, rows = bins, colour = count on a log scale), its axes, the words for one cell under the mouse, and the
dead-ReLU shares as curves. The numbers come from :mod:`mnist_studio.training.weight_history`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mnist_studio.training.weight_history import GRAD_BINS, GRAD_EDGES, GRAD_MIN_EXP, WeightHistory

KINDS = ("weights", "gradients")
LOG2 = math.log10(2.0)


@dataclass
class Heatmap:
    counts: np.ndarray  # (samples, rows) int64: the bins shown (empty rows at the ends left out)
    image: np.ndarray  # (samples, rows) float32: log10(1 + count), what is coloured
    x0: float  # the image spans [x0, x1] in epochs (each column centred on its sample)
    x1: float
    y0: float  # and [y0, y1]: values (weights), or log10 of the magnitude (gradients)
    y1: float
    row0: int  # the first bin shown
    ticks: list[tuple[float, str]] | None  # the y axis's labels (None: plain numbers)
    y_label: str
    epochs: np.ndarray  # each column's epoch
    steps: list[int]
    edges: np.ndarray  # the bin edges of the rows shown (rows + 1)

    @property
    def shape(self) -> tuple[int, int]:
        return self.image.shape

    def cell(self, x: float, y: float) -> tuple[int, int] | None:
        """(column, row) under a point of the plot, or None outside the image."""
        n, rows = self.image.shape
        if not n or not rows or not (self.x0 <= x < self.x1 and self.y0 <= y < self.y1):
            return None
        col = min(n - 1, int((x - self.x0) / (self.x1 - self.x0) * n))
        row = min(rows - 1, int((y - self.y0) / (self.y1 - self.y0) * rows))
        return col, row


def _occupied(counts: np.ndarray, keep: int = 1) -> tuple[int, int]:
    """The first and last row (inclusive) holding a count in any column, widened by ``keep`` rows."""
    any_row = np.flatnonzero(counts.any(axis=0)) if counts.size else np.zeros(0, np.int64)
    if not any_row.size:
        return 0, counts.shape[1] - 1
    return max(0, int(any_row[0]) - keep), min(counts.shape[1] - 1, int(any_row[-1]) + keep)


def heatmap(history: WeightHistory, track: int, kind: str = "weights") -> Heatmap:
    """Track ``track``'s weights (``kind="weights"``: equal bins on its symmetric range, rows cropped to where
    there are values) or gradient magnitudes (``"gradients"``: octaves on a log10 axis, the bottom row zero; the
    step-0 column is empty, no gradient yet)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    t = history.tracks[track]
    rows = t.weights if kind == "weights" else t.grads
    bins = len(t.weight_edges()) - 1 if kind == "weights" else GRAD_BINS
    counts = np.array(rows, dtype=np.int64).reshape(len(rows), bins)
    lo, hi = _occupied(counts)
    counts = counts[:, lo:hi + 1]
    epochs = history.epochs()
    dx = 1.0 / max(history.points_per_epoch, 1)
    x0 = float(epochs[0]) - dx / 2 if len(epochs) else 0.0
    x1 = float(epochs[-1]) + dx / 2 if len(epochs) else 1.0
    if kind == "weights":
        edges = t.weight_edges()[lo:hi + 2]
        y0, y1, ticks, label = float(edges[0]), float(edges[-1]), None, "weight value"
    else:
        edges = GRAD_EDGES[lo:hi + 2]
        # row k spans [log10 2^(MIN + k - 1), log10 2^(MIN + k)): the zero row sits one octave below the first
        y0, y1 = (GRAD_MIN_EXP + lo - 1) * LOG2, (GRAD_MIN_EXP + hi) * LOG2
        ticks = [(float(d), f"1e{d}") for d in range(math.ceil(y0), math.floor(y1) + 1)]
        if lo == 0:
            ticks.insert(0, ((GRAD_MIN_EXP - 0.5) * LOG2, "0"))
        label = "|gradient| (log scale)"
    image = np.log10(1.0 + counts.astype(np.float32))
    return Heatmap(counts, image, x0, x1, y0, y1, lo, ticks, label, epochs, list(history.steps), edges)


def describe(history: WeightHistory, track: int, kind: str, hm: Heatmap, x: float, y: float) -> str:
    """One cell in words: "epoch 1.25 (step 1075) · 1,234 of 401,408 weights in [-0.05, -0.04)"."""
    cell = hm.cell(x, y)
    if cell is None:
        return ""
    col, row = cell
    t = history.tracks[track]
    lo, hi = float(hm.edges[row]), float(hm.edges[row + 1])
    n = int(hm.counts[col, row])
    where = f"epoch {hm.epochs[col]:.3g} (step {hm.steps[col]:,})"
    if kind == "weights":
        return f"{where} · {n:,} of {t.size:,} values in [{lo:.3g}, {hi:.3g})"
    if hm.steps[col] == 0:
        return f"{where} · no gradient before the first step"
    span = (f"below {hi:.2g} (zero included)" if hm.row0 + row == 0 else
            f"{lo:.2g} and more" if hm.row0 + row == GRAD_BINS - 1 else f"in [{lo:.2g}, {hi:.2g})")
    return f"{where} · {n:,} of {t.size:,} gradient magnitudes {span}"


@dataclass
class DeadCurve:
    label: str
    epochs: np.ndarray
    share: np.ndarray  # dead units / units, 0-1
    units: int


def dead_curves(history: WeightHistory) -> list[DeadCurve]:
    """Each ReLU layer's dead share at the samples that counted them."""
    epochs = history.epochs()
    out = []
    for d in history.dead:
        dead = np.asarray(d.dead, np.float64)
        counted = dead >= 0
        out.append(DeadCurve(d.label, epochs[:len(dead)][counted], dead[counted] / max(d.units, 1), d.units))
    return out


def track_names(history: WeightHistory) -> list[str]:
    return [t.name for t in history.tracks]
