"""Max and average pooling.

Both loop over the offsets *inside* one pooling window (4 for 2×2), each step a strided slice over the whole batch,
so the work is a handful of full-array operations and never a loop over pixels. Windows that do not fit at the
right or bottom edge are dropped (floor), as in Keras and PyTorch.

Windows that tile the image (stride = pool size, the usual case) are pooled in two stages on a view of the input
as (N, Ho, p, Wo, p, C): first across the p rows of each window — for a fixed row offset the values of a whole
output row, Wo·p·C of them, are one contiguous run, so this stage runs at memory speed — then across the p columns,
on a p-times smaller array. (One slice per window offset walks runs of only C values: 32 for LeNet, and NumPy's
per-run overhead then costs more than the arithmetic.) The max-pool keeps which row and which column won, so its
backward pass is two stages of masked copies; on ties the first column whose maximum is the window's, and in it the
first row, takes the gradient.
"""

from __future__ import annotations

import numpy as np

from mnist_studio.nn.layers.base import Layer, LayerShapeError, Shape, TorchModule, shape_str
from mnist_studio.nn.params import Param


def max_pool_2x2(x6: np.ndarray, y: np.ndarray, row: np.ndarray | None = None,
                 col: np.ndarray | None = None) -> np.ndarray:
    """2×2 max-pool of the (n, ho, 2, wo, 2, c) view ``x6`` into ``y`` (n, ho, wo, c): first across the rows of each
    window, then its columns. ``row`` (n, ho, wo, 2, c) and ``col`` (n, ho, wo, c) receive the winners, strictly
    (on ties the first row, then the first column keeps it), unless None. (Also run by a convolution fused with its
    pool, on each chunk of its output: the same comparisons, the same winners.)"""
    if row is not None:
        np.greater(x6[:, :, 1], x6[:, :, 0], out=row)
    t = np.maximum(x6[:, :, 0], x6[:, :, 1])
    if col is not None:
        np.greater(t[:, :, :, 1], t[:, :, :, 0], out=col)
    return np.maximum(t[:, :, :, 0], t[:, :, :, 1], out=y)


def max_unpool_2x2(dy: np.ndarray, row: np.ndarray, col: np.ndarray, dx6: np.ndarray, dt: np.ndarray) -> None:
    """The backward pass of :func:`max_pool_2x2` into the (n, ho, 2, wo, 2, c) view ``dx6``, through ``dt`` (a work
    array shaped like ``row``). The masks are booleans: the second gets dy·mask, the first the rest (dy or 0,
    exactly)."""
    np.multiply(dy, col, out=dt[:, :, :, 1])
    np.subtract(dy, dt[:, :, :, 1], out=dt[:, :, :, 0])
    np.multiply(dt, row, out=dx6[:, :, 1])
    np.subtract(dt, dx6[:, :, 1], out=dx6[:, :, 0])


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
        p, s = self.config["pool_size"], self._stride
        if s != p:
            views = self._windows(x, ho, wo)
            y = np.array(next(views))
            for v in views:
                np.maximum(y, v, out=y)
            self._cache = (x, y)
            return y
        n, c = x.shape[0], x.shape[3]
        x6 = x[:, :ho * p, :wo * p].reshape(n, ho, p, wo, p, c)
        if p == 2:  # the usual 2×2: masks straight from the comparisons (none for prediction)
            y = np.empty((n, ho, wo, c), dtype=x.dtype)
            if self.forward_only:
                return max_pool_2x2(x6, y)
            row, col = np.empty((n, ho, wo, 2, c), dtype=bool), np.empty((n, ho, wo, c), dtype=bool)
            self._cache = (x.shape, row, col)
            return max_pool_2x2(x6, y, row, col)
        # stage 1, across rows (long contiguous runs): t[n, i, j, b, c] = max over a of x[n, i·p+a, j·p+b, c]
        t = np.array(x6[:, :, 0])
        row = np.zeros(t.shape, dtype=np.uint8)
        for a in range(1, p):
            v = x6[:, :, a]
            better = v > t  # strictly: on ties the first row keeps it
            np.maximum(t, v, out=t)
            np.copyto(row, a, where=better)
        # stage 2, across the p columns of each window
        y = np.array(t[:, :, :, 0])
        col = np.zeros(y.shape, dtype=np.uint8)
        for b in range(1, p):
            v = t[:, :, :, b]
            better = v > y
            np.maximum(y, v, out=y)
            np.copyto(col, b, where=better)
        self._cache = (x.shape, row, col)
        return y

    def backward(self, dy, need_input_grad=True):
        if not need_input_grad:
            return None
        p, s = self.config["pool_size"], self._stride
        if s != p:
            x, y = self._cache
            return self._backward_overlapping(dy, x, y, y.shape[1], y.shape[2])
        x_shape, row, col = self._cache
        n, ho, wo, c = dy.shape
        # stage 2 backward: the column that won gets the window's gradient, the others 0
        dt = np.empty(row.shape, dtype=dy.dtype)
        exact = x_shape[1] == ho * p and x_shape[2] == wo * p
        dx = np.empty(x_shape, dtype=dy.dtype) if exact else np.zeros(x_shape, dtype=dy.dtype)
        dx6 = dx[:, :ho * p, :wo * p].reshape(n, ho, p, wo, p, c)
        if p == 2:
            max_unpool_2x2(dy, row, col, dx6, dt)
            return dx
        for b in range(p):
            np.multiply(dy, col == b, out=dt[:, :, :, b])
        # stage 1 backward: in each column the row that won (every input position written once, no accumulation)
        for a in range(p):
            np.multiply(dt, row == a, out=dx6[:, :, a])
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
        ho, wo, c = self.output_shape(x.shape[1:])
        p, s = self.config["pool_size"], self._stride
        self._x_shape = x.shape
        if s != p:
            views = self._windows(x, ho, wo)
            y = np.array(next(views))
            for v in views:
                y += v
            y *= 1.0 / p ** 2
            return y
        n = x.shape[0]
        x6 = x[:, :ho * p, :wo * p].reshape(n, ho, p, wo, p, c)
        t = np.array(x6[:, :, 0])  # stage 1: the rows of each window (long runs)
        for a in range(1, p):
            t += x6[:, :, a]
        # stage 2: the columns, as a matmul against a (p·c × c) summing matrix when c is small (runs of c values
        # are slow one by one), else by strided adds
        if c < 16:
            y = np.matmul(t.reshape(-1, p * c), self._summing(p, c, x.dtype)).reshape(n, ho, wo, c)
        else:
            y = np.array(t[:, :, :, 0])
            for b in range(1, p):
                y += t[:, :, :, b]
        y *= 1.0 / p ** 2
        return y

    def _summing(self, p: int, c: int, dtype) -> np.ndarray:
        """(p·c × c) matrix of ones at [b·c + k, k]: sums the p columns of a window, channel by channel."""
        key = ("sum", p, c, np.dtype(dtype).str)
        m = self._work.get(key)
        if m is None:
            m = self._work[key] = np.tile(np.eye(c, dtype=dtype), (p, 1))
        return m

    def backward(self, dy, need_input_grad=True):
        if not need_input_grad:
            return None
        p, s = self.config["pool_size"], self._stride
        ho, wo = dy.shape[1:3]
        share = dy * (1.0 / p ** 2)
        if s != p:
            dx = np.zeros(self._x_shape, dtype=dy.dtype)
            for dxv in self._windows(dx, ho, wo):
                dxv += share
            return dx
        n, c = dy.shape[0], dy.shape[3]
        if c < 16:
            dt = np.matmul(share.reshape(-1, c), self._summing(p, c, dy.dtype).T).reshape(n, ho, wo, p, c)
        else:
            dt = np.empty((n, ho, wo, p, c), dtype=dy.dtype)
            dt[...] = share[:, :, :, None, :]
        exact = self._x_shape[1] == ho * p and self._x_shape[2] == wo * p
        dx = np.empty(self._x_shape, dtype=dy.dtype) if exact else np.zeros(self._x_shape, dtype=dy.dtype)
        dx6 = dx[:, :ho * p, :wo * p].reshape(n, ho, p, wo, p, c)
        for a in range(p):
            dx6[:, :, a] = dt
        return dx
