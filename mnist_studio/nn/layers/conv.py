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

from mnist_studio.nn.flat import with_row
from mnist_studio.nn.layers import conv_wide, winograd
from mnist_studio.nn.init import init_weights
from mnist_studio.nn.layers.base import Layer, LayerShapeError, Shape, TorchModule, ValueTerms, shape_str
from mnist_studio.nn.layers.dense import INIT_PARAM
from mnist_studio.nn.params import Param


CHUNK_BYTES = 6 << 20  # patch-matrix bytes per chunk: about what stays in this machine's caches
EVAL_KEEP_IMAGES = 32  # an evaluation pass of at most this many images keeps its Winograd tiles for a backward pass
SHORT_ROWS = 16  # a stride-1 convolution whose patch rows are shorter (kernel width × channels) uses the wide grid


def _patches_into(part: np.ndarray, xp: np.ndarray, k: int, s: int, ho: int, wo: int, width: int) -> None:
    """Fill the patch matrix ``part`` (rows = output pixels of the images in ``xp``) from padded NHWC input; a
    column beyond ``width`` is set to ones (for the bias row of the weights)."""
    n, c = xp.shape[0], xp.shape[3]
    it = part.itemsize
    row = part.strides[0]  # width or width + 1 values
    dest = as_strided(part, (n, ho, wo, k, k, c), (ho * wo * row, wo * row, row, k * c * it, c * it, it))
    dest[...] = patch_view(xp, k, k, s, s, ho, wo)
    if part.shape[1] > width:
        part[:, width] = 1.0


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
    #: Stride-1 convolutions over many channels go by Winograd's F(2×2, r×r) (``winograd.py``); False keeps im2col
    #: (the reference the tests compare with).
    use_winograd = True

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

    def _scratch(self, key: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        """A reusable work array (allocating 5 MB per batch would cost as much as filling it)."""
        size = math.prod(shape)
        buf = self._work.get(key)
        if buf is None or buf.size < size or buf.dtype != dtype:
            buf = self._work[key] = np.empty(size, dtype=dtype)
        return buf[:size].reshape(shape)

    def _weights(self, width: int, f: int, grads: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """(W as a width×f matrix, the same with the bias as an extra last row or None): the second when the bias
        lies right after the kernel in the model's weight vector (``nn/flat.py``), so one matmul does both."""
        d = self.grads if grads else self.params
        w2 = d["W"].reshape(width, f)
        return w2, with_row(w2, d["b"])

    def forward(self, x, training=False):
        (pt, pb, ho), (pl, pr, wo) = self._geometry(x.shape[1:])
        k, s, f = self.config["kernel_size"], self.config["stride"], self.config["filters"]
        n, c = x.shape[0], x.shape[3]
        if s == 1 and k * c < SHORT_ROWS:
            return conv_wide.forward(self, x, training, (pt, pb, ho), (pl, pr, wo))
        if self.use_winograd and winograd.fits(k, s, c, (pt, pb, ho), (pl, pr, wo), x.shape[1], x.shape[2]):
            return self._forward_winograd(x, training, (pt, pb, pl, pr))
        xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0))) if pt or pb or pl or pr else x
        rows, width = ho * wo, k * k * c
        chunk = max(1, CHUNK_BYTES // (rows * width * x.itemsize))  # samples whose patches stay in cache
        w2, w_aug = self._weights(width, f)
        extra = w_aug is not None  # patches get a column of ones, the weights the bias as their last row
        y = np.empty((n * rows, f), dtype=x.dtype)
        cols = self._scratch("train" if training else "eval", (min(chunk, n) * rows, width + extra), x.dtype)
        for a in range(0, n, chunk):
            b = min(n, a + chunk)
            part = cols[: (b - a) * rows]
            _patches_into(part, xp[a:b], k, s, ho, wo, width)
            np.matmul(part, w_aug if extra else w2, out=y[a * rows:b * rows])
        if not extra:
            y += self.params["b"]
        # one chunk: its patches are still in the scratch array for the backward pass; more: they are rebuilt there
        self._cache = ("patches", xp, x.shape, (pt, pl), (ho, wo), chunk, n <= chunk and training, extra)
        return y.reshape(n, ho, wo, f)

    def backward(self, dy, need_input_grad=True):
        if self._cache[0] == "wide":
            return conv_wide.backward(self, dy, need_input_grad)
        if self._cache[0] == "winograd":
            return self._backward_winograd(winograd.copy_fill(dy), dy.shape, need_input_grad)
        _, xp, x_shape, (pt, pl), (ho, wo), chunk, cols_kept, extra = self._cache
        k, s, f = self.config["kernel_size"], self.config["stride"], self.config["filters"]
        n, h, w, c = x_shape
        rows, width = ho * wo, k * k * c
        dy2 = dy.reshape(-1, f)
        w2, _ = self._weights(width, f)
        gw2, gw_aug = self._weights(width, f, grads=True)
        if extra and gw_aug is None:  # (cannot happen: the weights and the gradients are laid out alike)
            extra = False
        gw = gw_aug if extra else gw2
        if not extra:
            np.sum(dy2, axis=0, out=self.grads["b"])
        cols = self._scratch("train", (min(chunk, n) * rows, width + extra), dy.dtype)
        if need_input_grad:
            dxp = np.zeros(xp.shape, dtype=dy.dtype)
            dcols = self._scratch("dcols", (min(chunk, n) * rows, width), dy.dtype)
        gw_part = self._scratch("gw", gw.shape, dy.dtype) if n > chunk else None
        # Chunk by chunk, so the patch matrix and its gradient stay in cache while they are used.
        for a in range(0, n, chunk):
            b = min(n, a + chunk)
            part = cols[: (b - a) * rows]
            if not cols_kept:
                _patches_into(part, xp[a:b], k, s, ho, wo, width)
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

    def _forward_winograd(self, x, training, pads, pooled=False):
        pt, pb, pl, pr = pads
        xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0))) if any(pads) else x
        r, f = self.config["kernel_size"], self.config["filters"]
        n, hp, wp, c = xp.shape
        ho, wo = hp - r + 1, wp - r + 1
        tiles = (ho // winograd.TILE) * (wo // winograd.TILE)
        # the transformed input tiles, kept for the weight gradient (a reused array: one pass in flight per layer).
        # An evaluation pass keeps its own when small (saliency maps back-propagate through one); a larger one (a
        # feature map's 250 images: 56 MB for LeNet) keeps only its input, and a backward pass redoes the transform
        end = "" if training else "_eval"
        keep = not self.forward_only and (training or n <= EVAL_KEEP_IMAGES)
        kept = self._scratch("wino_kept" + end, (n * (r + 1) ** 2 * tiles * c,), x.dtype) if keep else None
        pool = None
        if pooled:  # the pool's winners (MaxPool2D keeps the same)
            pool = (None, None) if self.forward_only else (self._scratch("wino_rows" + end, (2, n * tiles, f), bool),
                                                          self._scratch("wino_cols" + end, (n * tiles, f), bool))
        u = winograd.kernel_transform(self.params["W"])
        y, chunk = winograd.correlate(xp, u, r, self._scratch, "fw" if training else "ev", self.params["b"], kept,
                                      pool)
        self._cache = ("winograd", pads, kept if keep else xp, chunk, (n, ho, wo, f), pool)
        return y

    def _backward_winograd(self, fill, shape, need_input_grad):
        _, pads, kept, chunk, _, _ = self._cache
        r = self.config["kernel_size"]
        if kept.ndim > 1:  # the padded input of a large evaluation pass: transform its tiles now
            xp, u = kept, winograd.kernel_transform(self.params["W"])
            kept = self._scratch("wino_kept_late", (xp.shape[0] * (r + 1) ** 2 * (shape[1] // 2) * (shape[2] // 2)
                                                    * xp.shape[3],), xp.dtype)
            winograd.correlate(xp, u, r, self._scratch, "late", None, kept)
        dyp, inside = winograd.padded_grad_buffer(self._work, shape, r, pads, kept.dtype) if need_input_grad else (
            None, None)
        winograd.weight_grad(kept, fill, shape, r, chunk, self._scratch, self.grads["W"], self.grads["b"], inside)
        return winograd.input_grad(dyp, self.params["W"], self._scratch) if need_input_grad else None

    # -- a following 2×2 max-pool in the same pass: on the Winograd output tiles (each tile is one pooling window),
    # or on the wide path's output a few images at a time, while it is in cache ------------------------------------
    def _pool_path(self, input_shape) -> str | None:
        (pt, pb, ho), (pl, pr, wo) = self._geometry(input_shape)
        h, w, c = input_shape
        k, s = self.config["kernel_size"], self.config["stride"]
        if s == 1 and k * c < SHORT_ROWS:
            return "wide" if ho % 2 == 0 and wo % 2 == 0 else None
        if self.use_winograd and winograd.fits(k, s, c, (pt, pb, ho), (pl, pr, wo), h, w):
            return "winograd"
        return None

    def fuses_with(self, following, input_shape):
        return (following.window_max and following.config.get("pool_size") == 2 and len(input_shape) == 3
                and following.config.get("stride") in (None, 2) and self._pool_path(input_shape) is not None)

    def forward_fused(self, x, following, training=False):
        ph, pw = self._geometry(x.shape[1:])
        if self._pool_path(x.shape[1:]) == "wide":
            return conv_wide.forward(self, x, training, ph, pw, pooled=True)
        return self._forward_winograd(x, training, (ph[0], ph[1], pw[0], pw[1]), pooled=True)

    def backward_fused(self, dy, following, need_input_grad=True):
        if self._cache[0] == "wide":
            return conv_wide.backward(self, dy, need_input_grad)
        *_, shape, (rows_won, cols_won) = self._cache
        fill = winograd.unpool_fill(dy, rows_won, cols_won, self._scratch)
        return self._backward_winograd(fill, shape, need_input_grad)

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
