"""The history of a run's weights and gradients (issue 13, after TensorBoard's histograms): for every trainable
array, a histogram of its values and one of its gradient's magnitudes at regular points of training, and for every
ReLU layer the share of its units that are dead on a fixed probe batch. Kept in the run record, so a run reopened
from the Runs panel shows them again. Pure NumPy, no Qt; :mod:`.weight_recorder` takes the samples during a fit.

**When** (``points_per_epoch``, a power of two, 16 by default): sample ``j`` is taken after the first batch that
reaches epoch ``j / points_per_epoch``, so the samples sit on a grid uniform in epochs (one column of the heatmap
each; a batch size changed between epochs changes the steps per epoch, not the grid, unless an epoch then has
fewer batches than points) and every epoch end is one of them; sample 0 is the initial weights (no gradient yet). When the
samples get too many (``MAX_SAMPLES``) or cost too much time, every other one is dropped and the grid halves: what
is left is still uniform and still holds every epoch end.

**Bins, and why these.** A heatmap over time is only readable if a row means the same values in every column, so
each array's bins are fixed, not recomputed per sample as a one-off histogram would be:

- *weights*: ``WEIGHT_BINS`` equal bins over a symmetric range ``±limit`` chosen from the initial weights (the
  smallest 1, 2 or 5 × 10^k covering them). Weights drift slowly and their sign matters (a linear scale shows a
  distribution widening or going lopsided). When they outgrow the range it doubles: with a bin count divisible by
  four, each old bin pair becomes one new bin in the middle half, so the earlier samples are re-binned exactly and
  the whole history stays comparable (nothing is re-estimated).
- *gradients*: their magnitudes span many orders of magnitude within one run (large at first, then shrinking) and
  across layers, so equal bins would put everything in one or two rows. The bins are octaves, ``[2^k, 2^(k+1))``
  from 2^-34 (6e-11) to 2^7, the same for every array and every run (so layers and runs compare), plus one bin for
  exact zeros and anything smaller (a dead unit's weights get exactly zero gradient); the last bin also takes
  anything larger, infinities and NaN. Octaves are exact on float32 (the exponent bits), so the count is cheap and
  equals ``np.histogram`` on those edges. The sign of a gradient is dropped: over a whole array it is near 50/50
  and says little, while the magnitude shows vanishing and exploding gradients.

Counts are stored as whole numbers, each sample's row trimmed of its leading and trailing zeros, the edges once per
array (the range and the bin count, or the shared octave grid), so a 3-epoch LeNet run adds about 60 KB to its
record. :meth:`WeightHistory.from_dict` checks everything read from a file and names the first bad value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mnist_studio.jsonread import JsonError, as_dict, as_float, as_int, as_list, get_int, get_list, get_str

WEIGHT_BINS = 48  # divisible by 4: a doubled range merges pairs of bins into its middle half
GRAD_MIN_EXP, GRAD_MAX_EXP = -34, 7  # octave bins from 2^-34 to 2^7 (and one below: zero and anything smaller)
GRAD_BINS = GRAD_MAX_EXP - GRAD_MIN_EXP + 1
GRAD_EDGES = np.concatenate([[0.0], 2.0 ** np.arange(GRAD_MIN_EXP, GRAD_MAX_EXP + 1)])  # GRAD_BINS + 1 edges
POINTS_PER_EPOCH = 16  # a power of two, so halving the grid keeps every other sample
MAX_SAMPLES = 200  # beyond it every other sample goes (a long run keeps ~100-200 evenly spread)
ZERO_LIMIT = 0.01  # the starting range of an array that is all zeros (a bias)
FORMAT_VERSION = 1
_MAX_COUNT = 2**53


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 × 10^k that is ≥ ``value`` (``ZERO_LIMIT`` for 0 or a value that is not finite)."""
    if not (value > 0 and math.isfinite(value)):
        return ZERO_LIMIT
    k = math.floor(math.log10(value))
    for m in (1.0, 2.0, 5.0, 10.0):
        if m * 10.0 ** k >= value * (1 - 1e-6):
            return m * 10.0 ** k
    return 10.0 ** (k + 1)


def largest_magnitude(values: np.ndarray) -> float:
    """max |values| over the finite values (0 when there are none), without an |values| temporary."""
    if values.size == 0:
        return 0.0
    m = max(float(values.max()), -float(values.min()))
    if math.isfinite(m):
        return m
    finite = values[np.isfinite(values)]
    return largest_magnitude(finite) if finite.size else 0.0


def weight_counts(values: np.ndarray, limit: float, bins: int = WEIGHT_BINS) -> np.ndarray:
    """``np.histogram`` of the values over ``bins`` equal bins on [-limit, limit] (values outside, NaN and
    infinities are not counted)."""
    counts, _ = np.histogram(values, bins=bins, range=(-limit, limit))
    return counts.astype(np.int64)


def grad_counts(grad: np.ndarray) -> np.ndarray:
    """Octave counts of |grad| over ``GRAD_EDGES`` (bin 0: below 2^-34, zeros included; the last bin: 2^6 and up,
    infinities and NaN), read from the float32 exponent bits: equal to ``np.histogram(np.minimum(|g|, 2^7),
    GRAD_EDGES)``."""
    g = np.ascontiguousarray(grad, dtype=np.float32).ravel()
    e = (g.view(np.int32) >> 23) & 0xFF  # the biased exponent (sign dropped): 127 + k for |g| in [2^k, 2^(k+1))
    e -= 127 + GRAD_MIN_EXP - 1
    np.clip(e, 0, GRAD_BINS - 1, out=e)
    return np.bincount(e, minlength=GRAD_BINS).astype(np.int64)


def dead_share(activation: np.ndarray) -> tuple[int, int]:
    """(dead units, units) of one ReLU output: a unit (the last axis: a neuron or a channel) is dead when it is 0
    for every image and every position of the batch."""
    a = np.asarray(activation)
    alive = (a > 0).reshape(-1, a.shape[-1]).any(axis=0)
    return int(alive.size - np.count_nonzero(alive)), int(alive.size)


@dataclass
class Track:
    """One trainable array's history: a row of weight counts and one of gradient counts per sample."""

    layer: int  # position in model.layers
    param: str  # the array's name in the layer ("W", "b", "gamma")
    label: str  # how the layer is named to people ("1 · Conv2D 32×5×5")
    size: int  # values in the array
    limit: float  # the weight bins span [-limit, limit]
    weights: list[np.ndarray] = field(default_factory=list)  # per sample, WEIGHT_BINS counts
    grads: list[np.ndarray] = field(default_factory=list)  # per sample, GRAD_BINS counts (zeros at step 0)
    weight_norm: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.label} · {self.param}"

    def weight_edges(self) -> np.ndarray:
        return np.linspace(-self.limit, self.limit, WEIGHT_BINS + 1)

    def grow(self) -> None:
        """Double the range: the old samples' bin pairs become the middle half of the new bins (exact)."""
        self.limit *= 2.0
        q = WEIGHT_BINS // 4
        rows = []
        for r in self.weights:
            new = np.zeros(WEIGHT_BINS, np.int64)
            new[q:3 * q] = r.reshape(-1, 2).sum(axis=1)
            rows.append(new)
        self.weights = rows

    def copy(self) -> "Track":
        return Track(self.layer, self.param, self.label, self.size, self.limit, list(self.weights), list(self.grads),
                     list(self.weight_norm), list(self.grad_norm))

    def keep(self, chosen: list[int]) -> None:
        for name in ("weights", "grads", "weight_norm", "grad_norm"):
            values = getattr(self, name)
            setattr(self, name, [values[i] for i in chosen])


@dataclass
class DeadTrack:
    """One ReLU layer's dead units (of ``units``) on the probe batch, per sample (-1: not counted at that one)."""

    layer: int
    label: str
    units: int
    dead: list[int] = field(default_factory=list)

    def copy(self) -> "DeadTrack":
        return DeadTrack(self.layer, self.label, self.units, list(self.dead))


@dataclass
class WeightHistory:
    batches_per_epoch: int = 1  # at the run's start (a batch-size change alters it; the epochs say where)
    points_per_epoch: int = POINTS_PER_EPOCH
    steps: list[int] = field(default_factory=list)  # the optimizer step of each sample (0: before training)
    epoch_at: list[float] = field(default_factory=list)  # each sample's place in epochs
    grid: list[int] = field(default_factory=list)  # each sample's point of the grid: j for epoch j / points
    tracks: list[Track] = field(default_factory=list)
    dead: list[DeadTrack] = field(default_factory=list)
    probe_images: int = 0  # images in the probe batch the dead units were counted on

    def __len__(self) -> int:
        return len(self.steps)

    def epochs(self) -> np.ndarray:
        """Each sample's place in epochs (step / batches per epoch)."""
        return np.asarray(self.epoch_at, np.float64)

    def halve(self) -> None:
        """Keep every other sample of the grid (the even ones: every epoch end stays) and halve the grid."""
        chosen = [i for i, j in enumerate(self.grid) if j % 2 == 0]
        self.steps = [self.steps[i] for i in chosen]
        self.epoch_at = [self.epoch_at[i] for i in chosen]
        self.grid = [self.grid[i] // 2 for i in chosen]
        for t in self.tracks:
            t.keep(chosen)
        for d in self.dead:
            d.dead = [d.dead[i] for i in chosen]
        self.points_per_epoch = max(1, self.points_per_epoch // 2)

    def last_dead(self) -> tuple[int, list[DeadTrack]] | None:
        """(step, tracks) of the last sample that counted the dead units: each track's ``dead[-1]`` is that count
        (trimmed copies), or None when none did."""
        counted = [i for i in range(len(self.steps)) if self.dead and self.dead[0].dead[i] >= 0]
        if not counted:
            return None
        i = counted[-1]
        return self.steps[i], [DeadTrack(d.layer, d.label, d.units, [d.dead[i]]) for d in self.dead]

    def copy(self) -> "WeightHistory":
        """An independent copy (its lists; the count rows are never changed in place, so they are shared): what
        the training worker sends to the GUI thread."""
        return WeightHistory(self.batches_per_epoch, self.points_per_epoch, list(self.steps), list(self.epoch_at),
                             list(self.grid),
                             [t.copy() for t in self.tracks], [d.copy() for d in self.dead], self.probe_images)

    # -- the run record ----------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "version": FORMAT_VERSION, "batches_per_epoch": self.batches_per_epoch,
            "points_per_epoch": self.points_per_epoch, "steps": list(self.steps), "grid": list(self.grid),
            "epochs": [round(e, 6) for e in self.epoch_at], "weight_bins": WEIGHT_BINS,
            "grad_edges": {"zero_below": 2.0 ** GRAD_MIN_EXP, "octaves_to": 2.0 ** (GRAD_MAX_EXP + 1)},
            "probe_images": self.probe_images,
            "tracks": [{"layer": t.layer, "param": t.param, "label": t.label, "size": t.size, "limit": t.limit,
                        "weights": [_trim(r) for r in t.weights], "grads": [_trim(r) for r in t.grads],
                        "weight_norm": [_short(v) for v in t.weight_norm],
                        "grad_norm": [_short(v) for v in t.grad_norm]} for t in self.tracks],
            "dead": [{"layer": d.layer, "label": d.label, "units": d.units, "dead": list(d.dead)} for d in self.dead],
        }

    @classmethod
    def from_dict(cls, d: Any) -> "WeightHistory":
        """Rebuild a saved history, checking every value; raises :class:`~mnist_studio.jsonread.JsonError` naming
        the first one that is not what :meth:`to_dict` writes."""
        d = as_dict(d, "the weight history")
        version = get_int(d, "version", lo=1, hi=2**31)
        if version > FORMAT_VERSION:
            raise JsonError(f"the weight history was written by a newer version (format {version})")
        if get_int(d, "weight_bins") != WEIGHT_BINS:
            raise JsonError(f"the weight history's 'weight_bins' must be {WEIGHT_BINS}")
        edges = as_dict(d.get("grad_edges"), "the weight history's 'grad_edges'")
        if (edges.get("zero_below"), edges.get("octaves_to")) != (2.0 ** GRAD_MIN_EXP, 2.0 ** (GRAD_MAX_EXP + 1)):
            raise JsonError("the weight history's 'grad_edges' are not the octaves this version counts in")
        h = cls(get_int(d, "batches_per_epoch", lo=1, hi=2**40), get_int(d, "points_per_epoch", lo=1, hi=2**20),
                probe_images=get_int(d, "probe_images", 0, lo=0, hi=2**31))
        h.steps = [as_int(s, f"weight history steps[{i}]", lo=0, hi=2**53)
                   for i, s in enumerate(get_list(d, "steps", max_len=100_000))]
        n = len(h.steps)
        h.grid = [as_int(j, f"weight history grid[{i}]", lo=0, hi=2**53) for i, j in enumerate(_list(d, "grid", n, "weight history"))]
        h.epoch_at = [as_float(e, f"weight history epochs[{i}]", lo=0.0, hi=1e9)
                      for i, e in enumerate(_list(d, "epochs", n, "weight history"))]
        for i, t in enumerate(get_list(d, "tracks", max_len=100_000)):
            what = f"weight history tracks[{i}]"
            t = as_dict(t, what)
            track = Track(get_int(t, "layer", lo=0, hi=10**6), get_str(t, "param", max_len=100),
                          get_str(t, "label", max_len=1000), get_int(t, "size", lo=0, hi=2**53),
                          as_float(t.get("limit"), f"{what}.limit", lo=1e-30, hi=1e30))
            track.weights = _rows(t, "weights", WEIGHT_BINS, n, what)
            track.grads = _rows(t, "grads", GRAD_BINS, n, what)
            track.weight_norm = _numbers(t, "weight_norm", n, what)
            track.grad_norm = _numbers(t, "grad_norm", n, what)
            h.tracks.append(track)
        for i, x in enumerate(get_list(d, "dead", max_len=100_000)):
            what = f"weight history dead[{i}]"
            x = as_dict(x, what)
            dt = DeadTrack(get_int(x, "layer", lo=0, hi=10**6), get_str(x, "label", max_len=1000),
                           get_int(x, "units", lo=0, hi=2**53))
            dt.dead = [as_int(v, f"{what}.dead[{k}]", lo=-1, hi=dt.units)
                       for k, v in enumerate(_list(x, "dead", n, what))]
            h.dead.append(dt)
        return h


def _trim(counts: np.ndarray) -> list[int]:
    """[offset, c_offset, c_offset+1, ...]: the row without its leading and trailing zeros (``[0]`` when empty)."""
    nz = np.flatnonzero(counts)
    if not nz.size:
        return [0]
    return [int(nz[0])] + [int(c) for c in counts[nz[0]:nz[-1] + 1]]


def _short(v: float) -> float:
    """A norm with float32's precision (7 significant digits are all it has): shorter JSON."""
    return float(f"{v:.7g}") if math.isfinite(v) else v


def _list(d: dict, key: str, n: int, what: str) -> list:
    values = as_list(d.get(key), f"{what}.{key}")
    if len(values) != n:
        raise JsonError(f"{what}.{key} holds {len(values)} samples, the steps {n}")
    return values


def _rows(d: dict, key: str, bins: int, n: int, what: str) -> list[np.ndarray]:
    rows = []
    for k, r in enumerate(_list(d, key, n, what)):
        where = f"{what}.{key}[{k}]"
        r = as_list(r, where, max_len=bins + 1)
        if not r or not all(type(c) is int and 0 <= c <= _MAX_COUNT for c in r):
            raise JsonError(f"{where} must be an offset and counts (whole numbers ≥ 0)")
        offset, counts = r[0], r[1:]
        if offset + len(counts) > bins:
            raise JsonError(f"{where} reaches past the last of its {bins} bins")
        row = np.zeros(bins, np.int64)
        row[offset:offset + len(counts)] = counts
        rows.append(row)
    return rows


def _numbers(d: dict, key: str, n: int, what: str) -> list[float]:
    return [as_float(v, f"{what}.{key}[{k}]", lo=0.0, allow_nan=True) for k, v in enumerate(_list(d, key, n, what))]


def read_weight_history(d: dict) -> WeightHistory | None:
    """A run record's ``weight_history`` (None when the record has none: written before histories were kept)."""
    value = d.get("weight_history")
    if value is None:
        return None
    try:
        return WeightHistory.from_dict(value)
    except JsonError as e:
        raise JsonError(f"'weight_history': {e}") from None


__all__ = ["DeadTrack", "GRAD_BINS", "GRAD_EDGES", "Track", "WEIGHT_BINS", "WeightHistory", "dead_share",
           "grad_counts", "largest_magnitude", "nice_ceiling", "read_weight_history", "weight_counts"]
