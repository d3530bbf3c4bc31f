"""From our NHWC layout to the NCHW layout of ONNX and PyTorch: the one place that knows how.

Two things differ. Convolution kernels are stored (kh, kw, in, out) here and (out, in, kh, kw) there: a transpose
of the array. And flattening an image gives height-width-channel order here but channel-height-width order there,
so the Dense layer after a Flatten would read its inputs in the wrong order. Rather than moving data at run time,
the exporters permute that Dense layer's weight rows once (:func:`flatten_order`); only when something other than
element-wise layers sits between the Flatten and the next Dense (a BatchNorm, a Softmax, the output) do they put a
channels-last transpose in front of the Flatten instead, which is always exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mnist_studio.nn.layers import Layer
from mnist_studio.nn.model import Model

ELEMENTWISE = ("Dropout", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Flatten")  # order-preserving on flat vectors


class ExportError(Exception):
    """The model cannot be exported (a missing optional package, an unwritable file); the message says why."""


@dataclass
class Step:
    """One layer as an exporter sees it: shapes in our NHWC terms, and the layout fix it needs."""

    index: int
    layer: Layer
    in_shape: tuple[int, ...]  # without the batch axis
    out_shape: tuple[int, ...]
    channels_last_flatten: bool = False  # Flatten: transpose NCHW → NHWC first (the permutation was not absorbed)
    row_order: np.ndarray | None = None  # Dense: take weight rows in this order (absorbs a preceding Flatten)

    @property
    def kind(self) -> str:
        return self.layer.type_name()


def flatten_order(h: int, w: int, c: int) -> np.ndarray:
    """For each position of a channel-first flattened vector, the position of the same value in ours."""
    return np.arange(h * w * c).reshape(h, w, c).transpose(2, 0, 1).ravel()


def conv_weight_oihw(w: np.ndarray) -> np.ndarray:
    """(kh, kw, in, out) → (out, in, kh, kw), contiguous."""
    return np.ascontiguousarray(w.transpose(3, 2, 0, 1))


def plan(model: Model) -> list[Step]:
    """Walk the model once, recording each layer's shapes and the Flatten/Dense fix-ups."""
    steps: list[Step] = []
    shape = tuple(model.input_shape)
    for i, layer in enumerate(model.layers):
        out = layer.output_shape(shape)
        steps.append(Step(i, layer, shape, out))
        shape = out
    for k, step in enumerate(steps):
        if step.kind != "Flatten" or len(step.in_shape) != 3:
            continue
        h, w, c = step.in_shape
        if c == 1 or h * w == 1:
            continue  # the two orders coincide
        target = next((s for s in steps[k + 1:] if s.kind not in ELEMENTWISE), None)
        if target is not None and target.kind == "Dense":
            target.row_order = flatten_order(h, w, c)
        else:
            step.channels_last_flatten = True
    return steps


def dense_weight(step: Step) -> np.ndarray:
    """The Dense layer's (inputs, units) weights with rows in the exported graph's input order."""
    w = step.layer.params["W"]
    return np.ascontiguousarray(w if step.row_order is None else w[step.row_order])
