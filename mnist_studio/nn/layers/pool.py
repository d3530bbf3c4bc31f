"""Max and average pooling.

Both loop over the offsets *inside* one pooling window (4 for 2×2), each step a strided slice over the whole batch,
so the work is a handful of full-array operations and never a loop over pixels. Windows that do not fit at the
right or bottom edge are dropped (floor), as in Keras and PyTorch.
"""

from __future__ import annotations

import numpy as np

from mnist_studio.nn.layers.base import Layer, LayerShapeError, Shape, TorchModule, shape_str
from mnist_studio.nn.params import Param


class _Pool2D(Layer):
    schema = (
        Param("pool_size", "int", 2, "Width and height of the pooling window, in pixels.", low=1, high=28),
        Param("stride", "int", None, "Step between windows; empty means the pool size (windows do not overlap).",
              low=1, high=28, optional=True),
    )
    category = "Pooling"
    activation_group = "starts"
    onnx_op: str = ""  # the ONNX operator and the torch.nn module class that pool the same way
    torch_class: str = ""

    def describe(self) -> str:
        p, s = self.config["pool_size"], self.config["stride"]
        return f"{p}×{p}" + (f", stride {s}" if s not in (None, p) else "")

    def short_name(self) -> str:
        return f"{self.type_name()[:3]}Pool {self.config['pool_size']}"

    def onnx_nodes(self, g, step, x):
        p, s = self.config["pool_size"], self._stride
        return g.node(self.onnx_op, [x], kernel_shape=[p, p], strides=[s, s])

    def torch_modules(self, step):
        return [TorchModule(f"nn.{self.torch_class}(kernel_size={self.config['pool_size']}, stride={self._stride})")]

    @property
    def _stride(self) -> int:
        return self.config["stride"] or self.config["pool_size"]

    def output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 3:
            raise LayerShapeError(f"pooling needs an image (height×width×channels) but receives {shape_str(input_shape)}")
        h, w, c = input_shape
        p, s = self.config["pool_size"], self._stride
        if p > h or p > w:
            raise LayerShapeError(f"its {p}×{p} window does not fit in its {h}×{w} input")
        return ((h - p) // s + 1, (w - p) // s + 1, c)

    def _windows(self, a: np.ndarray, ho: int, wo: int):
        """(i, j, view) for each offset inside the window: view[n, y, x, c] = a[n, y*s+i, x*s+j, c]."""
        p, s = self.config["pool_size"], self._stride
        for i in range(p):
            for j in range(p):
                yield a[:, i:i + s * (ho - 1) + 1:s, j:j + s * (wo - 1) + 1:s, :]


class MaxPool2D(_Pool2D):
    """Keeps the largest value of each window: shrinks the image and tolerates small shifts."""

    summary = "Keep the largest value in each window (shrinks the image)"
    window_max = True
    onnx_op, torch_class = "MaxPool", "MaxPool2d"

    def forward(self, x, training=False):
        ho, wo, _ = self.output_shape(x.shape[1:])
        views = self._windows(x, ho, wo)
        y = np.array(next(views))
        for v in views:
            np.maximum(y, v, out=y)
        self._cache = (x, y)
        return y

    def backward(self, dy, need_input_grad=True):
        if not need_input_grad:
            return None
        x, y = self._cache
        ho, wo = y.shape[1:3]
        p, s = self.config["pool_size"], self._stride
        if s != p:
            return self._backward_overlapping(dy, x, y, ho, wo)
        # Windows tile the input: every input position belongs to one window, so each gets written exactly once
        # (no zeroing, no accumulation). On ties the first position in the window takes the gradient.
        exact = x.shape[1] == ho * p and x.shape[2] == wo * p
        dx = np.empty_like(x) if exact else np.zeros_like(x)
        unclaimed = None
        pairs = list(zip(self._windows(x, ho, wo), self._windows(dx, ho, wo)))
        for k, (xv, dxv) in enumerate(pairs):
            if k == len(pairs) - 1 and unclaimed is not None:
                hit = unclaimed  # the max is somewhere: whatever no earlier position claimed is here
            else:
                hit = xv == y
                if unclaimed is None:
                    unclaimed = ~hit
                else:
                    hit &= unclaimed
                    np.greater(unclaimed, hit, out=unclaimed)  # unclaimed and not hit
            np.multiply(dy, hit, out=dxv)
        return dx

    def _backward_overlapping(self, dy, x, y, ho, wo):
        dx = np.zeros_like(x)
        unclaimed = np.ones(y.shape, dtype=bool)  # on ties the first position in the window takes the gradient
        for xv, dxv in zip(self._windows(x, ho, wo), self._windows(dx, ho, wo)):
            hit = (xv == y) & unclaimed
            unclaimed &= ~hit
            dxv += dy * hit
        return dx


class AvgPool2D(_Pool2D):
    """Averages each window: shrinks the image, smoothing it."""

    summary = "Average each window (shrinks and smooths the image)"
    onnx_op, torch_class = "AveragePool", "AvgPool2d"

    def forward(self, x, training=False):
        ho, wo, _ = self.output_shape(x.shape[1:])
        views = self._windows(x, ho, wo)
        y = np.array(next(views))
        for v in views:
            y += v
        y *= 1.0 / self.config["pool_size"] ** 2
        self._x_shape = x.shape
        return y

    def backward(self, dy, need_input_grad=True):
        if not need_input_grad:
            return None
        dx = np.zeros(self._x_shape, dtype=dy.dtype)
        ho, wo = dy.shape[1:3]
        share = dy * (1.0 / self.config["pool_size"] ** 2)
        for dxv in self._windows(dx, ho, wo):
            dxv += share
        return dx
