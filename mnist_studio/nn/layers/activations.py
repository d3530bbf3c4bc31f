"""Element-wise activations and the softmax output.

They have no weights, so each is a forward formula and its derivative. ReLU and LeakyReLU keep only a mask (not
their input) for the backward pass; Sigmoid and Tanh keep their output, from which their derivative follows.
"""

from __future__ import annotations

import numpy as np

from mnist_studio.nn.layers.base import Layer, Param


class ReLU(Layer):
    """``max(0, x)``: the default hidden activation; units whose input is always negative are "dead"."""

    category = "Activation"
    summary = "max(0, x): the usual hidden activation"

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


class LeakyReLU(Layer):
    """``x`` for positive inputs, ``alpha * x`` otherwise: no unit can die completely."""

    schema = (Param("alpha", "float", 0.01, "Slope for negative inputs (0 makes it a plain ReLU).", low=0.0, high=1.0),)
    category = "Activation"
    summary = "x, or alpha·x when negative: a ReLU whose units cannot die"

    def describe(self) -> str:
        return f"alpha={self.config['alpha']:g}"

    def forward(self, x, training=False):
        self._slope = np.where(x > 0, 1.0, self.config["alpha"]).astype(x.dtype)
        return x * self._slope

    def backward(self, dy, need_input_grad=True):
        return dy * self._slope if need_input_grad else None


class Sigmoid(Layer):
    """``1 / (1 + e^-x)``: squashes to (0, 1); saturates (gradient near 0) for large |x|."""

    category = "Activation"
    summary = "1/(1+e^-x): the classic squashing function"

    def describe(self) -> str:
        return ""

    def forward(self, x, training=False):
        e = np.exp(-np.abs(x))  # never overflows
        y = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)
        self._y = y
        return y

    def backward(self, dy, need_input_grad=True):
        return dy * self._y * (1.0 - self._y) if need_input_grad else None


class Tanh(Layer):
    """``tanh(x)``: squashes to (-1, 1), centred on zero."""

    category = "Activation"
    summary = "tanh(x): squashing to (-1, 1), centred on zero"

    def describe(self) -> str:
        return ""

    def forward(self, x, training=False):
        self._y = np.tanh(x)
        return self._y

    def backward(self, dy, need_input_grad=True):
        return dy * (1.0 - self._y * self._y) if need_input_grad else None


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
