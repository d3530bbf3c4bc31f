"""From our NHWC layout to the NCHW layout of ONNX and PyTorch: the one place that knows how.

Two things differ. Convolution kernels are stored (kh, kw, in, out) here and (out, in, kh, kw) there: a transpose
of the array, which the convolution layer does in its own export. And flattening an image gives
height-width-channel order here but channel-height-width order there, so the layer reading the flattened vector
would get its inputs in the wrong order. Rather than moving data at run time, :func:`plan` has that layer permute
its weight rows once (a layer that ``absorbs_input_order``, such as Dense; :func:`flatten_order`); only when
something else sits between the Flatten and it (anything not ``per_value``: a BatchNorm, a Softmax, the output)
does the Flatten put a channels-last transpose in front of itself instead, which is always exact.

The plan asks the layers (their declared properties), never their type names; each layer then writes its own ONNX
nodes and PyTorch modules from its :class:`Step`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mnist_studio.nn.layers import Layer
from mnist_studio.nn.model import Model


class ExportError(Exception):
    """The model cannot be exported (a missing optional package, an unwritable file); the message says why."""


@dataclass
class Step:
    """One layer as an exporter sees it: shapes in our NHWC terms, and the layout fix it needs."""

    index: int
    layer: Layer
    in_shape: tuple[int, ...]  # without the batch axis
    out_shape: tuple[int, ...]
    channels_last_flatten: bool = False  # a flattening layer: transpose NCHW → NHWC first (nothing absorbed it)
    absorbed_flatten: tuple[int, int, int] | None = None  # (h, w, c) of the image whose flattening this layer's
    # weight rows take in channel-first order

    @property
    def kind(self) -> str:
        return self.layer.type_name()

    @property
    def tag(self) -> str:
        """The layer's name in exported graphs: ``layer3_Conv2D`` (counted from 1, as the designer does)."""
        return f"layer{self.index + 1}_{self.kind}"

    @property
    def row_order(self) -> np.ndarray | None:
        """The weight rows in the order of the exported graph's input (None: the order is ours)."""
        return None if self.absorbed_flatten is None else flatten_order(*self.absorbed_flatten)


def flatten_order(h: int, w: int, c: int) -> np.ndarray:
    """For each position of a channel-first flattened vector, the position of the same value in ours."""
    return np.arange(h * w * c).reshape(h, w, c).transpose(2, 0, 1).ravel()


def plan(model: Model) -> list[Step]:
    """Walk the model once, recording each layer's shapes and the flatten fix-ups."""
    steps: list[Step] = []
    shape = tuple(model.input_shape)
    for i, layer in enumerate(model.layers):
        out = layer.output_shape(shape)
        steps.append(Step(i, layer, shape, out))
        shape = out
    for k, step in enumerate(steps):
        if not step.layer.flattens or len(step.in_shape) != 3:
            continue
        h, w, c = step.in_shape
        if c == 1 or h * w == 1:
            continue  # the two orders coincide
        target = next((s for s in steps[k + 1:] if not s.layer.per_value), None)
        if target is not None and target.layer.absorbs_input_order:
            target.absorbed_flatten = (h, w, c)
        else:
            step.channels_last_flatten = True
    return steps
