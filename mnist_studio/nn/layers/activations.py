"""Element-wise activations and the softmax output.

They have no weights, so each is a forward formula and its derivative. ReLU and LeakyReLU keep only a mask (not
their input) for the backward pass; Sigmoid and Tanh keep their output, from which their derivative follows.
Each maps to one ONNX operator and one ``torch.nn`` module of the same name.
"""

from __future__ import annotations

import numpy as np

from mnist_studio.nn.layers.base import Layer, TorchModule
from mnist_studio.nn.params import Param


class ReLU(Layer):
    """``max(0, x)``: the default hidden activation; units whose input is always negative are "dead"."""

    category = "Activation"
    summary = "max(0, x): the usual hidden activation"
    per_value = True
    commutes_with_max = True  # monotonic, and its gradient depends on the sign alone
    counts_dead_units = True

    def describe(self) -> str:
        return ""

    def forward(self, x, training=False):
        self._y = np.maximum(x, 0)
        return self._y

    def backward(self, dy, need_input_grad=True):
        if not need_input_grad:
            return None
        np.multiply(dy, self._y > 0, out=dy)  # dy is this pass's own array: reuse it
        return dy

    def onnx_nodes(self, g, step, x):
        return g.node("Relu", [x])

    def torch_modules(self, step):
        return [TorchModule("nn.ReLU()")]


class LeakyReLU(Layer):
    """``x`` for positive inputs, ``alpha * x`` otherwise: no unit can die completely."""

    schema = (Param("alpha", "float", 0.01, "Slope for negative inputs (0 makes it a plain ReLU).", low=0.0, high=1.0),)
    category = "Activation"
    summary = "x, or alpha·x when negative: a ReLU whose units cannot die"
    per_value = True

    def describe(self) -> str:
        return f"alpha={self.config['alpha']:g}"

    def forward(self, x, training=False):
        self._slope = np.where(x > 0, 1.0, self.config["alpha"]).astype(x.dtype)
        return x * self._slope

    def backward(self, dy, need_input_grad=True):
        return dy * self._slope if need_input_grad else None

    def onnx_nodes(self, g, step, x):
        return g.node("LeakyRelu", [x], alpha=float(self.config["alpha"]))

    def torch_modules(self, step):
        return [TorchModule(f"nn.LeakyReLU(negative_slope={self.config['alpha']!r})")]


class Sigmoid(Layer):
    """``1 / (1 + e^-x)``: squashes to (0, 1); saturates (gradient near 0) for large |x|."""

    category = "Activation"
    summary = "1/(1+e^-x): the classic squashing function"
    per_value = True

    def describe(self) -> str:
        return ""

    def forward(self, x, training=False):
        e = np.exp(-np.abs(x))  # never overflows
        y = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)
        self._y = y
        return y

    def backward(self, dy, need_input_grad=True):
        return dy * self._y * (1.0 - self._y) if need_input_grad else None

    def onnx_nodes(self, g, step, x):
        return g.node("Sigmoid", [x])

    def torch_modules(self, step):
        return [TorchModule("nn.Sigmoid()")]


class Tanh(Layer):
    """``tanh(x)``: squashes to (-1, 1), centred on zero."""

    category = "Activation"
    summary = "tanh(x): squashing to (-1, 1), centred on zero"
    per_value = True

    def describe(self) -> str:
        return ""

    def forward(self, x, training=False):
        self._y = np.tanh(x)
        return self._y

    def backward(self, dy, need_input_grad=True):
        return dy * (1.0 - self._y * self._y) if need_input_grad else None

    def onnx_nodes(self, g, step, x):
        return g.node("Tanh", [x])

    def torch_modules(self, step):
        return [TorchModule("nn.Tanh()")]


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum so ``exp`` cannot overflow."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    e /= e.sum(axis=-1, keepdims=True)
    return e


class Softmax(Layer):
    """Turns 10 scores into 10 probabilities that sum to 1.

    With cross-entropy loss the model skips this layer in training and uses the fused, numerically stable
    softmax-cross-entropy on the scores instead (same result, exact gradient ``p - onehot``).
    """

    category = "Activation"
    summary = "Scores to probabilities (the output layer)"
    gives_probabilities = True

    def describe(self) -> str:
        return ""

    def forward(self, x, training=False):
        self._y = softmax(x)
        return self._y

    def backward(self, dy, need_input_grad=True):
        if not need_input_grad:
            return None
        y = self._y
        return y * (dy - np.sum(dy * y, axis=-1, keepdims=True))

    def onnx_nodes(self, g, step, x):
        return g.node("Softmax", [x], axis=1)  # our last axis is the channel axis, 1 in NCHW

    def torch_modules(self, step):
        return [TorchModule("nn.Softmax(dim=1)")]
