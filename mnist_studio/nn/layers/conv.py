"""2-D convolution by im2col: a strided view of the input becomes a patch matrix, and one matmul does the rest.

Layout (NHWC input, HWIO kernel) is chosen so that no transpose is needed anywhere in the forward pass:

* the patch matrix is a reshape of a strided *view* (one copy, made by the reshape), rows = output pixels,
  columns = (kernel row, kernel column, input channel);
* ``patches @ W.reshape(-1, filters)`` has rows = output pixels and columns = filters, which *is* the NHWC output.

The backward pass reuses the patch matrix for the weight gradient (one matmul) and scatters the patch gradient
back onto the input with one strided add per kernel offset (kh·kw adds, 25 for a 5×5 kernel) instead of
``np.add.at`` over every pixel, which is the slow part of naive im2col code.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from mnist_studio.nn.init import init_weights
from mnist_studio.nn.layers.base import Layer, LayerShapeError, Param, Shape, shape_str
from mnist_studio.nn.layers.dense import INIT_PARAM


def resolve_padding(padding, size: int, kernel: int, stride: int) -> tuple[int, int, int]:
    """(pad_before, pad_after, output_size) along one axis, TensorFlow's rules for ``"same"``."""
    if padding == "valid":
        before = after = 0
    elif padding == "same":
        out = math.ceil(size / stride)
        total = max((out - 1) * stride + kernel - size, 0)
        before, after = total // 2, total - total // 2
    else:
        before = after = int(padding)
    out = (size + before + after - kernel) // stride + 1
    return before, after, out


def patch_view(xp: np.ndarray, kh: int, kw: int, sh: int, sw: int, ho: int, wo: int) -> np.ndarray:
    """A read-only (N, Ho, Wo, kh, kw, C) view of every kernel-sized patch of padded NHWC input ``xp``."""
    n, _, _, c = xp.shape
    s0, s1, s2, s3 = xp.strides
    return as_strided(xp, (n, ho, wo, kh, kw, c), (s0, s1 * sh, s2 * sw, s1, s2, s3), writeable=False)


class Conv2D(Layer):
    """Slides ``filters`` learned kernels over the image; each gives one output channel (a feature map)."""

    schema = (
        Param("filters", "int", 8, "Number of kernels, i.e. output channels (feature maps).", low=1, high=1024),
        Param("kernel_size", "int", 3, "Width and height of each square kernel, in pixels.", low=1, high=28),
        Param("stride", "int", 1, "Step between neighbouring kernel positions; 2 halves the image size.", low=1, high=28),
        Param("padding", "padding", "valid",
              "'valid': no padding, the image shrinks by kernel-1; 'same': zero-pad so the size is kept "
              "(divided by the stride); a number: that many zero pixels on every side."),
        INIT_PARAM,
    )
    category = "Convolution"
    summary = "Slide small learned kernels over the image (feature maps)"

    def describe(self) -> str:
        c = self.config
        k = c["kernel_size"]
        s = f", stride {c['stride']}" if c["stride"] != 1 else ""
        return f"{c['filters']} filters {k}×{k}{s}, {c['padding']}"

    def _geometry(self, input_shape: Shape):
        if len(input_shape) != 3:
            raise LayerShapeError(
                f"Conv2D needs an image (height×width×channels) but receives a flat vector of {input_shape[0]}"
                if len(input_shape) == 1 else f"Conv2D needs an image (height×width×channels), got {shape_str(input_shape)}"
            )
        h, w, _ = input_shape
        k, s, p = self.config["kernel_size"], self.config["stride"], self.config["padding"]
        ph = resolve_padding(p, h, k, s)
        pw = resolve_padding(p, w, k, s)
        if ph[2] < 1 or pw[2] < 1:
            extra = f" even with padding {p}" if p not in ("valid", 0) else ""
            raise LayerShapeError(f"its {k}×{k} kernel is larger than its {h}×{w} input{extra}")
        return ph, pw

    def output_shape(self, input_shape: Shape) -> Shape:
        ph, pw = self._geometry(input_shape)
        return (ph[2], pw[2], self.config["filters"])

    def param_shapes(self, input_shape: Shape) -> dict[str, Shape]:
        k, f = self.config["kernel_size"], self.config["filters"]
        return {"W": (k, k, input_shape[-1], f), "b": (f,)}

    def _init_params(self, input_shape, rng, init):
        k, f, c = self.config["kernel_size"], self.config["filters"], input_shape[-1]
        name = init if self.config["init"] == "auto" else self.config["init"]
        return {"W": init_weights(name, (k, k, c, f), k * k * c, k * k * f, rng), "b": np.zeros(f)}

    def forward(self, x, training=False):
        (pt, pb, ho), (pl, pr, wo) = self._geometry(x.shape[1:])
        k, s, f = self.config["kernel_size"], self.config["stride"], self.config["filters"]
        n = x.shape[0]
        xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0))) if pt or pb or pl or pr else x
        cols = patch_view(xp, k, k, s, s, ho, wo).reshape(n * ho * wo, k * k * x.shape[3])
        y = cols @ self.params["W"].reshape(-1, f)
        y += self.params["b"]
        self._cache = (cols, x.shape, xp.shape, (pt, pl), (ho, wo))
        return y.reshape(n, ho, wo, f)

    def backward(self, dy, need_input_grad=True):
        cols, x_shape, xp_shape, (pt, pl), (ho, wo) = self._cache
        k, s, f = self.config["kernel_size"], self.config["stride"], self.config["filters"]
        dy2 = dy.reshape(-1, f)
        np.matmul(cols.T, dy2, out=self.grads["W"].reshape(-1, f))
        np.sum(dy2, axis=0, out=self.grads["b"])
        if not need_input_grad:
            return None
        n, h, w, c = x_shape
        dcols = (dy2 @ self.params["W"].reshape(-1, f).T).reshape(n, ho, wo, k, k, c)
        dxp = np.zeros(xp_shape, dtype=dy.dtype)
        for i in range(k):  # one strided add per kernel offset, never per pixel
            for j in range(k):
                dxp[:, i:i + s * (ho - 1) + 1:s, j:j + s * (wo - 1) + 1:s, :] += dcols[:, :, :, i, j, :]
        return dxp[:, pt:pt + h, pl:pl + w, :]

