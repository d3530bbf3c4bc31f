"""Flatten: images to vectors, so Dense layers can follow convolutions."""

from __future__ import annotations

import math

from mnist_studio.nn.layers.base import Layer, Shape, TorchModule


class Flatten(Layer):
    """Reshape each sample to one vector (row-major over height, width, channels)."""

    category = "Core"
    summary = "Turn an image (H×W×C) into a vector, so Dense layers can follow"
    activation_group = "hidden"
    per_value = True  # on a vector it changes nothing
    flattens = True

    def describe(self) -> str:
        return ""

    def output_shape(self, input_shape: Shape) -> Shape:
        return (math.prod(input_shape),)

    def forward(self, x, training=False):
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy, need_input_grad=True):
        return dy.reshape(self._shape) if need_input_grad else None

    # -- export: other runtimes flatten channel-first; export/layout.py either has the next Dense take its weight
    # rows in that order (nothing to do here) or asks for a channels-last transpose first -------------------------
    def onnx_nodes(self, g, step, x):
        if len(step.in_shape) == 1:
            return x
        if step.channels_last_flatten:
            x = g.node("Transpose", [x], suffix="_channels_last", perm=[0, 2, 3, 1])
        return g.node("Flatten", [x], axis=1)

    def torch_modules(self, step):
        if len(step.in_shape) == 1:
            return []  # already flat
        out = [TorchModule("ChannelsLast()", "height-width-channel order, as trained", helper=CHANNELS_LAST)] \
            if step.channels_last_flatten else []
        return out + [TorchModule("nn.Flatten()")]


CHANNELS_LAST = '''class ChannelsLast(nn.Module):
    """N×C×H×W -> N×H×W×C, so the Flatten after it yields the studio's height-width-channel order."""

    def forward(self, x):
        return x.permute(0, 2, 3, 1)
'''
