"""Looking inside a model while it learns: weight histograms, weight and gradient norms, dead ReLU units, and
the weights as pictures. Pure NumPy (it was ``training/inspect.py``, a name that shadowed the standard library's).

The studio's training worker calls :func:`layer_stats` between two batches (in its own thread) and sends the result
to the GUI, which only draws it; the same functions describe a model loaded from a file. Keeping the numbers here
means they are tested without a window and the widgets stay thin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from mnist_studio.nn.layers import shape_str
from mnist_studio.nn.model import Model
from mnist_studio.studio.scales import nice_limit, symmetric_limit
from mnist_studio.training.weight_history import WeightHistory, dead_share  # the history counts the same way

HISTOGRAM_BINS = 41
DEAD_PROBE_IMAGES = 128  # a unit counts as dead when silent for every probe image: too few would overstate it


# -- per-layer statistics ------------------------------------------------------------------------------------------

@dataclass
class WeightStats:
    """One weighted layer's main array (a Dense matrix, a convolution kernel, BatchNorm's scale)."""

    index: int  # position in model.layers
    label: str  # "7 · Dense 3136→128"
    layer_type: str
    param: str  # which array: the layer's main_weight() ("W", "gamma")
    shape: tuple[int, ...]
    weight_norm: float  # L2 norm of the array
    grad_norm: float  # L2 norm of its gradient from the last batch (0 for a model that never trained)
    mean_abs: float
    counts: np.ndarray  # histogram counts (HISTOGRAM_BINS)
    edges: np.ndarray  # histogram edges (HISTOGRAM_BINS + 1), symmetric around 0


@dataclass
class DeadUnits:
    """A ReLU layer's units that gave 0 for every image of a probe batch (and so pass back no gradient)."""

    index: int  # the ReLU's position in model.layers
    after: int | None  # the weighted layer feeding it, if any
    units: int  # units counted: Dense outputs, or a convolution's channels
    dead: int

    @property
    def share(self) -> float:
        return self.dead / self.units if self.units else 0.0


@dataclass
class LayerStats:
    weights: list[WeightStats] = field(default_factory=list)
    dead: list[DeadUnits] = field(default_factory=list)

    def weight(self, index: int) -> WeightStats | None:
        return next((w for w in self.weights if w.index == index), None)

    def dead_after(self, index: int) -> DeadUnits | None:
        """The dead-unit count of the ReLU that follows weighted layer ``index`` (e.g. for one table row)."""
        return next((d for d in self.dead if d.after == index), None)


def layer_label(model: Model, index: int) -> str:
    """How a layer is named to people: "1 · Conv2D 32×5×5", "8 · Dense 3136→128" (from the shape of the weights
    the layer says it draws as kernels or as units). Numbered from 1, as the designer's list numbers its rows, so
    "layer 2" is the same layer everywhere."""
    layer = model.layers[index]
    number = index + 1
    name = layer.main_weight()
    w = layer.params[name] if name is not None else None
    if layer.weight_picture == "kernels" and w is not None:
        return f"{number} · {layer.type_name()} {w.shape[3]}×{w.shape[0]}×{w.shape[1]}"
    if layer.weight_picture == "units" and w is not None:
        return f"{number} · {layer.type_name()} {w.shape[0]}→{w.shape[1]}"
    return f"{number} · {layer.type_name()}"


def histogram(values: np.ndarray, bins: int = HISTOGRAM_BINS) -> tuple[np.ndarray, np.ndarray]:
    """Counts over bins symmetric around zero, spanning a "nice" ±limit that covers every value (so left and
    right compare, and the range only changes when the weights outgrow it)."""
    v = np.asarray(values, dtype=np.float32).ravel()
    lim = nice_limit(float(np.max(np.abs(v)))) if v.size else 1.0
    counts, edges = np.histogram(v, bins=bins, range=(-lim, lim))
    return counts.astype(np.int64), edges


def weight_stats(model: Model, bins: int = HISTOGRAM_BINS) -> list[WeightStats]:
    out = []
    for i, layer in enumerate(model.layers):
        name = layer.main_weight()
        if name is None:
            continue
        w = layer.params[name]
        g = layer.grads.get(name)
        counts, edges = histogram(w, bins)
        out.append(WeightStats(
            index=i, label=layer_label(model, i), layer_type=layer.type_name(), param=name, shape=tuple(w.shape),
            weight_norm=float(np.linalg.norm(w.ravel())), grad_norm=float(np.linalg.norm(g.ravel())) if g is not None else 0.0,
            mean_abs=float(np.mean(np.abs(w))) if w.size else 0.0, counts=counts, edges=edges,
        ))
    return out


def dead_relu_units(model: Model, probe: np.ndarray) -> list[DeadUnits]:
    """Dead units of every layer whose units can die (``counts_dead_units``: ReLU) on ``probe`` images (evaluation
    mode; the weights are not touched)."""
    relus = [i for i, layer in enumerate(model.layers) if layer.counts_dead_units]
    if not relus or len(probe) == 0:
        return []
    outs = model.activations(probe)
    result = []
    for i in relus:
        dead, units = dead_share(outs[i])
        result.append(DeadUnits(index=i, after=_feeding(model, i), units=units, dead=dead))
    return result


def _feeding(model: Model, index: int) -> int | None:
    """The weighted layer before layer ``index``, if any."""
    return next((j for j in range(index - 1, -1, -1) if model.layers[j].params), None)


def dead_from_history(model: Model, history: WeightHistory) -> tuple[int, list[DeadUnits]] | None:
    """(step, dead units) of a weight history's last sample that counted them (on the same probe batch as
    :func:`dead_relu_units`), or None: the training worker reuses them rather than running the probe twice."""
    last = history.last_dead()
    if last is None:
        return None
    step, tracks = last
    return step, [DeadUnits(index=d.layer, after=_feeding(model, d.layer), units=d.units, dead=d.dead[-1])
                  for d in tracks]


def layer_stats(model: Model, probe: np.ndarray | None = None, bins: int = HISTOGRAM_BINS) -> LayerStats:
    """Everything the weights view shows about every layer; dead units only when a probe batch is given."""
    dead = dead_relu_units(model, probe) if probe is not None else []
    return LayerStats(weight_stats(model, bins), dead)


# -- weights as pictures -------------------------------------------------------------------------------------------

def input_dense_index(model: Model) -> int | None:
    """The first weighted layer, when it draws its weights as units and reads the input pixels directly (through
    Flatten, Dropout and the like): its columns are images, one per unit."""
    pixels = math.prod(model.input_shape)
    for i, layer in enumerate(model.layers):
        name = layer.main_weight()
        if name is not None:
            w = layer.params[name]
            return i if layer.weight_picture == "units" and w.ndim == 2 and w.shape[0] == pixels else None
    return None


def dense_tiles(w: np.ndarray, image_shape: tuple[int, ...], max_tiles: int) -> np.ndarray:
    """Unit j's incoming weights as an image: ``W[:, j]`` reshaped to the input (channels averaged), for the
    first ``max_tiles`` units. Returns (tiles, height, width)."""
    k = min(w.shape[1], max_tiles)
    h, wd = image_shape[0], image_shape[1]
    tiles = np.ascontiguousarray(w[:, :k].T).reshape(k, h, wd, -1)
    return tiles.mean(axis=3) if tiles.shape[3] > 1 else tiles[..., 0]


def conv_tiles(w: np.ndarray, channel: int | None = None, max_tiles: int | None = None) -> np.ndarray:
    """A (kh, kw, cin, cout) kernel as (cout, kh, kw) pictures: input channel ``channel``, or the mean over the
    input channels when None."""
    k = w[:, :, channel, :] if channel is not None else w.mean(axis=2)
    tiles = np.transpose(k, (2, 0, 1))
    return tiles[:max_tiles] if max_tiles else tiles


def tile_grid(tiles: np.ndarray, columns: int | None = None, gap: int = 1) -> np.ndarray:
    """Lay (n, h, w) tiles out in a grid, row by row, with ``gap`` pixels of NaN between them (drawn transparent,
    so the tiles stand apart whatever the colour map). ``columns`` defaults to a near-square grid."""
    n, h, w = tiles.shape
    if n == 0:
        return np.full((h, w), np.nan, dtype=np.float32)
    cols = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    padded = np.full((rows * cols, h, w), np.nan, dtype=np.float32)
    padded[:n] = tiles
    # (rows, cols, h, w) -> (rows, h, cols, w): the whole layout is one transpose, no per-tile loop
    view = np.full((rows, h + gap, cols, w + gap), np.nan, dtype=np.float32)
    view[:, :h, :, :w] = padded.reshape(rows, cols, h, w).transpose(0, 2, 1, 3)
    return view.reshape(rows * (h + gap), cols * (w + gap))[: rows * (h + gap) - gap, : cols * (w + gap) - gap].copy()


@dataclass
class WeightPicture:
    """What the weights view draws for one layer."""

    image: np.ndarray  # 2-D float32, NaN between tiles
    limit: float  # colour scale runs from -limit to +limit
    note: str  # e.g. "first 100 of 128 units"
    tile_shape: tuple[int, int] | None  # (h, w) of one tile, None for a plain matrix


def weight_picture(model: Model, index: int, max_tiles: int = 100, channel: int | None = None) -> WeightPicture:
    """Layer ``index`` as the picture it declares (``weight_picture``): kernels as tiles, units as 28×28 tiles when
    the layer reads the input pixels and as a matrix (one row per unit) otherwise, any other array as a strip."""
    layer = model.layers[index]
    p = layer.main_weight()
    w = layer.params[p] if p is not None else None
    kind = layer.weight_picture
    if kind == "kernels" and w is not None:
        tiles = conv_tiles(w, channel, max_tiles)
        cout, cin = w.shape[3], w.shape[2]
        src = "mean over input channels" if channel is None and cin > 1 else (
            f"input channel {channel + 1} of {cin}" if cin > 1 else "")
        shown = f"first {len(tiles)} of {cout} filters" if len(tiles) < cout else f"{cout} filters"
        note = f"{shown}, {w.shape[0]}×{w.shape[1]}" + (f" · {src}" if src else "")
        return WeightPicture(tile_grid(tiles), symmetric_limit(tiles), note, (w.shape[0], w.shape[1]))
    if kind == "units" and w is not None:
        if index == input_dense_index(model):
            shape = model.input_shape
            tiles = dense_tiles(w, shape, max_tiles)
            units = w.shape[1]
            shown = f"first {len(tiles)} of {units} units" if len(tiles) < units else f"{units} units"
            return WeightPicture(tile_grid(tiles), symmetric_limit(tiles),
                                 f"{shown}: each tile is the {shape_str(shape[:2])} input pattern that excites one "
                                 "unit", (shape[0], shape[1]))
        mat = np.ascontiguousarray(w.T, dtype=np.float32)
        return WeightPicture(mat, symmetric_limit(mat), f"matrix: {w.shape[1]} units (rows) × {w.shape[0]} inputs",
                             None)
    arr = w.reshape(1, -1).astype(np.float32) if w is not None else np.zeros((1, 1), np.float32)
    return WeightPicture(arr, symmetric_limit(arr), f"{p}: {arr.size} values", None)


def picture_channels(model: Model, index: int) -> int:
    """How many input channels layer ``index``'s picture can be shown for, one at a time (a convolution's kernel
    slices); 1 when there is no such choice."""
    layer = model.layers[index]
    p = layer.main_weight()
    return int(layer.params[p].shape[2]) if layer.weight_picture == "kernels" and p is not None else 1


def picture_layers(model: Model) -> list[int]:
    """Indices of the layers :func:`weight_picture` can draw (those with weights)."""
    return [i for i, layer in enumerate(model.layers) if layer.params]
