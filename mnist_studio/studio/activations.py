"""Activations as pictures: which layers are shown together (a Conv2D → ReLU run shows the ReLU's output under
the conv's name), a mosaic of feature maps for image-shaped outputs and a heat strip for vectors. This is numerics
the GUI only displays; no Qt here. The activations themselves come from :func:`mnist_studio.nn.explain.explain`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mnist_studio.nn.model import Model
from mnist_studio.studio.scales import normalise_signed


@dataclass(frozen=True)
class LayerGroup:
    """A run of layers shown as one picture: e.g. Conv2D → ReLU shows the ReLU's output under the conv's name."""

    first: int  # index of the layer that starts the group
    last: int  # index of the layer whose output is shown
    title: str
    shape: tuple[int, ...] = ()  # that output's shape for one image

    @property
    def aspect(self) -> float:
        """Width / height of the group's picture (so a view can give wide mosaics more room)."""
        if not self.shape:
            return 1.0
        pic = activation_picture(np.zeros(self.shape, np.float32))
        return pic.shape[1] / max(1, pic.shape[0])


def layer_groups(model: Model) -> list[LayerGroup]:
    """Group layers for display; every layer's output belongs to exactly one group.

    Each layer says how it groups (``activation_group``): weighted and pooling layers start a group, activations
    join the one before them (their output is what the group shows), and layers that change nothing worth seeing
    (Flatten, Dropout) are merged in without a name.
    """
    layers = model.layers
    shapes = []
    shape = model.input_shape
    for layer in layers:
        shape = layer.output_shape(shape)
        shapes.append(tuple(shape))
    groups: list[list[int]] = []
    lead: list[int] = []  # layers before the first group starter (e.g. an MLP's Flatten) join it
    for i, layer in enumerate(layers):
        if layer.activation_group == "starts":
            groups.append(lead + [i])
            lead = []
        elif groups:
            groups[-1].append(i)
        else:
            lead.append(i)
    if lead:
        groups.append(lead)
    out = []
    for g in groups:
        shown = [i for i in g if layers[i].activation_group != "hidden"] or g
        names = [layers[i].short_name() for i in g if layers[i].activation_group != "hidden"]
        out.append(LayerGroup(g[0], shown[-1], " → ".join(names) or layers[g[-1]].type_name(), shapes[shown[-1]]))
    return out


def tile_maps(act: np.ndarray, cols: int | None = None, gap: int = 1) -> np.ndarray:
    """H×W×C feature maps → one 2-D mosaic (C tiles, NaN in the gaps), scaled by the layer's largest magnitude.

    One scale for the whole layer (not per map) so that a map that barely fires looks faint and a dead one black,
    which is the point of looking.
    """
    act = np.asarray(act, dtype=np.float32)
    if act.ndim == 2:
        act = act[..., None]
    h, w, c = act.shape
    if cols is None:
        cols = max(1, int(math.ceil(math.sqrt(c * h / w * 4.0))))  # a wide block (about 4:1) fits a strip
        cols = min(cols, c)
    rows = int(math.ceil(c / cols))
    top = float(np.abs(act).max())
    maps = act / top if top > 0 else act
    mosaic = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan, dtype=np.float32)
    padded = np.full((rows * cols, h, w), np.nan, dtype=np.float32)
    padded[:c] = np.moveaxis(maps, -1, 0)
    grid = np.full((rows, cols, h + gap, w + gap), np.nan, dtype=np.float32)
    grid[:, :, :h, :w] = padded.reshape(rows, cols, h, w)
    mosaic[...] = grid.transpose(0, 2, 1, 3).reshape(rows * (h + gap), cols * (w + gap))[:mosaic.shape[0],
                                                                                         :mosaic.shape[1]]
    return mosaic


def heat_strip(vec: np.ndarray, width: int = 32) -> np.ndarray:
    """A vector of unit activations → rows of at most ``width`` cells (NaN pads the last row), scaled to [-1, 1]."""
    v = np.asarray(vec, dtype=np.float32).ravel()
    width = max(1, min(width, v.size))
    rows = int(math.ceil(v.size / width))
    out = np.full(rows * width, np.nan, dtype=np.float32)
    out[:v.size] = normalise_signed(v)
    return out.reshape(rows, width)


def activation_picture(act: np.ndarray) -> np.ndarray:
    """The picture for one group's output: a mosaic for images (H×W×C), a heat strip for vectors."""
    return tile_maps(act) if np.asarray(act).ndim >= 2 else heat_strip(act)


