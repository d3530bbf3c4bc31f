"""Flatten: images to vectors, so Dense layers can follow convolutions."""

from __future__ import annotations

import math

from mnist_studio.nn.layers.base import Layer, Shape


class Flatten(Layer):
    """Reshape each sample to one vector (row-major over height, width, channels)."""

    category = "Core"
    summary = "Turn an image (H×W×C) into a vector, so Dense layers can follow"

    def describe(self) -> str:
        return ""

    def output_shape(self, input_shape: Shape) -> Shape:
        return (math.prod(input_shape),)

    def forward(self, x, training=False):
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy, need_input_grad=True):
        return dy.reshape(self._shape) if need_input_grad else None
