"""2-D convolution by im2col: a strided view of the input becomes a patch matrix, and one matmul does the rest.

Layout (NHWC input, HWIO kernel) is chosen so that no transpose is needed anywhere in the forward pass:

* the patch matrix is a reshape of a strided *view* (one copy, made by the reshape), rows = output pixels,
  columns = (kernel row, kernel column, input channel);
* ``patches @ W.reshape(-1, filters)`` has rows = output pixels and columns = filters, which *is* the NHWC output.

The backward pass uses the patch matrix for the weight gradient (one matmul) and scatters the patch gradient
back onto the input with one strided add per kernel offset (kh·kw adds, 25 for a 5×5 kernel) instead of
``np.add.at`` over every pixel, which is the slow part of naive im2col code.

Both passes work through the batch in chunks of a few samples (about 6 MB of patches each), and the backward pass
rebuilds each chunk's patches instead of keeping the whole matrix: LeNet's second convolution has a 40 MB patch
matrix per batch of 64, and streaming that through memory three times costs more than rebuilding 6 MB pieces that
then stay in cache for their matmuls and their col2im. This made that layer's forward+backward 1.6× faster here.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from mnist_studio.nn.init import init_weights
from mnist_studio.nn.layers.base import Layer, LayerShapeError, Shape, TorchModule, ValueTerms, shape_str
from mnist_studio.nn.layers.dense import INIT_PARAM
from mnist_studio.nn.params import Param


CHUNK_BYTES = 6 << 20  # patch-matrix bytes per chunk: about what stays in this machine's caches


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
              "(divided by the stride); a number: that many zero pixels on every side. 'same' follows "
              "TensorFlow/Keras: an odd total padding puts the extra pixel after (bottom, right); PyTorch refuses "
              "padding='same' with a stride, and the exports pad explicitly."),
        INIT_PARAM,
    )
    category = "Convolution"
    summary = "Slide small learned kernels over the image (feature maps)"
    activation_group = "starts"
    weight_picture = "kernels"

    def describe(self) -> str:
        c = self.config
        k = c["kernel_size"]
        s = f", stride {c['stride']}" if c["stride"] != 1 else ""
        return f"{c['filters']} filters {k}×{k}{s}, {c['padding']}"

    def short_name(self) -> str:
        k = self.config["kernel_size"]
        return f"Conv {self.config['filters']}@{k}×{k}"

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

    def forward_flops(self, input_shape: Shape) -> float:
        ho, wo, f = self.output_shape(input_shape)
        k = self.config["kernel_size"]
        return 2.0 * k * k * input_shape[-1] * ho * wo * f

    def _init_params(self, input_shape, rng, init):
        k, f, c = self.config["kernel_size"], self.config["filters"], input_shape[-1]
        name = init if self.config["init"] == "auto" else self.config["init"]
        return {"W": init_weights(name, (k, k, c, f), k * k * c, k * k * f, rng), "b": np.zeros(f)}

    def _scratch(self, key: str, shape: tuple[int, int], dtype) -> np.ndarray:
        """A reusable work array (allocating 5 MB per batch would cost as much as filling it)."""
        buf = self._work.get(key)
        if buf is None or buf.size < shape[0] * shape[1] or buf.dtype != dtype:
            buf = self._work[key] = np.empty(shape[0] * shape[1], dtype=dtype)
        return buf[: shape[0] * shape[1]].reshape(shape)

    def forward(self, x, training=False):
        (pt, pb, ho), (pl, pr, wo) = self._geometry(x.shape[1:])
        k, s, f = self.config["kernel_size"], self.config["stride"], self.config["filters"]
        n, c = x.shape[0], x.shape[3]
        xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0))) if pt or pb or pl or pr else x
        rows, width = ho * wo, k * k * c
        chunk = max(1, CHUNK_BYTES // (rows * width * x.itemsize))  # samples whose patches stay in cache
        w2 = self.params["W"].reshape(width, f)
        y = np.empty((n * rows, f), dtype=x.dtype)
        cols = self._scratch("train" if training else "eval", (min(chunk, n) * rows, width), x.dtype)
        for a in range(0, n, chunk):
            b = min(n, a + chunk)
            part = cols[: (b - a) * rows]
            part.reshape(b - a, ho, wo, k, k, c)[...] = patch_view(xp[a:b], k, k, s, s, ho, wo)
            np.matmul(part, w2, out=y[a * rows:b * rows])
        y += self.params["b"]
        # one chunk: its patches are still in the scratch array for the backward pass; more: they are rebuilt there
        self._cache = (xp, x.shape, (pt, pl), (ho, wo), chunk, n <= chunk and training)
        return y.reshape(n, ho, wo, f)

    def backward(self, dy, need_input_grad=True):
        xp, x_shape, (pt, pl), (ho, wo), chunk, cols_kept = self._cache
        k, s, f = self.config["kernel_size"], self.config["stride"], self.config["filters"]
        n, h, w, c = x_shape
        rows, width = ho * wo, k * k * c
        dy2 = dy.reshape(-1, f)
        w2 = self.params["W"].reshape(width, f)
        gw = self.grads["W"].reshape(width, f)
        np.sum(dy2, axis=0, out=self.grads["b"])
        cols = self._scratch("train", (min(chunk, n) * rows, width), dy.dtype)
        if need_input_grad:
            dxp = np.zeros(xp.shape, dtype=dy.dtype)
            dcols = self._scratch("dcols", (min(chunk, n) * rows, width), dy.dtype)
            gw_part = self._scratch("gw", (width, f), dy.dtype) if n > chunk else None
        elif n > chunk:
            gw_part = self._scratch("gw", (width, f), dy.dtype)
        # Chunk by chunk, so the patch matrix and its gradient stay in cache while they are used.
        for a in range(0, n, chunk):
            b = min(n, a + chunk)
            part = cols[: (b - a) * rows]
            if not cols_kept:
                part.reshape(b - a, ho, wo, k, k, c)[...] = patch_view(xp[a:b], k, k, s, s, ho, wo)
            dpart = dy2[a * rows:b * rows]
            if a == 0:
                np.matmul(part.T, dpart, out=gw)
            else:
                np.matmul(part.T, dpart, out=gw_part)
                gw += gw_part
            if need_input_grad:
                d = dcols[: (b - a) * rows]
                np.matmul(dpart, w2.T, out=d)
                d6 = d.reshape(b - a, ho, wo, k, k, c)
                dx = dxp[a:b]
                for i in range(k):  # one strided add per kernel offset, never per pixel
                    for j in range(k):
                        dx[:, i:i + s * (ho - 1) + 1:s, j:j + s * (wo - 1) + 1:s, :] += d6[:, :, :, i, j, :]
        if not need_input_grad:
            return None
        return dxp[:, pt:pt + h, pl:pl + w, :]

    def value_terms(self, x, index):
        """Output ``(row, col, filter)``: the kernel-sized patch of the (zero-padded) input under that position,
        times the filter's kernel, plus its bias."""
        row, col, f = index
        (pt, pb, _), (pl, pr, _) = self._geometry(x.shape)
        xp = np.pad(x, ((pt, pb), (pl, pr), (0, 0)))
        k, s = self.config["kernel_size"], self.config["stride"]
        patch = xp[row * s:row * s + k, col * s:col * s + k, :]
        return ValueTerms(patch.copy(), self.params["W"][..., f].copy(), float(self.params["b"][f]))

    # -- export: kernels go from (kh, kw, in, out) to the (out, in, kh, kw) of ONNX and PyTorch -------------------
    def _pads(self, in_shape: Shape) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) zero padding."""
        k, s, p = self.config["kernel_size"], self.config["stride"], self.config["padding"]
        pt, pb, _ = resolve_padding(p, in_shape[0], k, s)
        pl, pr, _ = resolve_padding(p, in_shape[1], k, s)
        return pt, pl, pb, pr

    def onnx_nodes(self, g, step, x):
        k, s = self.config["kernel_size"], self.config["stride"]
        w = g.const("W", self.params["W"].transpose(3, 2, 0, 1))
        return g.node("Conv", [x, w, g.const("b", self.params["b"])], kernel_shape=[k, k], strides=[s, s],
                      pads=list(self._pads(step.in_shape)))

    def torch_modules(self, step):
        k, s = self.config["kernel_size"], self.config["stride"]
        pt, pl, pb, pr = self._pads(step.in_shape)
        out = []
        if (pt, pl) != (pb, pr):  # 'same' with an even kernel pads one more pixel after than before
            out.append(TorchModule(f"nn.ZeroPad2d(({pl}, {pr}, {pt}, {pb}))", "uneven 'same' padding"))
            pad = "0"
        else:
            pad = f"({pt}, {pl})"
        out.append(TorchModule(
            f"nn.Conv2d({step.in_shape[-1]}, {self.config['filters']}, kernel_size={k}, stride={s}, padding={pad})",
            loads={"weight": "{W}.transpose(3, 2, 0, 1)", "bias": "{b}"}))
        return out
