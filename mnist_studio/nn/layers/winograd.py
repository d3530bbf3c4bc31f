"""Winograd's minimal filtering, F(2×2, r×r), for stride-1 convolutions over many channels (LeNet's second layer).

Why: LeNet's second convolution was three quarters of its training step, and its three im2col matmuls already ran
near the machine's matmul rate; the rest was the patch copies and the col2im scatter of the input gradient. Winograd
computes each 2×2 block of outputs from a (r+1)×(r+1) tile of the input with α² = (r+1)² multiplications per
channel pair instead of 4·r² (36 instead of 100 for 5×5 kernels), after cheap linear transforms of the tile and the
kernel. Here the tiles of a few images at a time are gathered (one strided copy), transformed by one small matmul
against a Kronecker-product matrix, multiplied channel by channel as α² independent matmuls (``np.matmul`` on a
stack), and transformed back; every array stays in cache for the whole chain. The same algorithm gives the other
two passes:

* the input gradient is a stride-1 correlation of the zero-padded output gradient with the flipped kernel, whose
  input and output channels swap: the forward chain again, with no col2im at all;
* the weight gradient is F(r×r, 2×2), each 2×2 block of the output gradient acting as the "kernel" over its input
  tile; its data transform is the forward pass's (the same interpolation points), so the transformed input tiles
  are kept from the forward pass and only the output gradient is transformed.

The bias rides along: the output transform's column for the interpolation point 1 (in both directions) is all ones,
so adding the bias to that one of the α² products adds it to every output, and the same product of the transformed
output gradient summed over tiles is the bias gradient.

Results equal im2col's to rounding, not bit for bit: the transforms mix values of different magnitude (relative
errors about 5e-6 in float32 against 6e-7 for im2col, 1e-14 in float64, where the gradient checks run).
Measured on one core for LeNet's second convolution, 32 images: forward 3.8 ms against 6.6 ms, forward + backward
about 13 ms against 23 ms.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import as_strided

KERNELS = (3, 5)  # kernel sizes done this way (their transforms' entries are small binary fractions)
MIN_CHANNELS = 8  # fewer input channels (a first layer on grey images) go the im2col way: the matmuls would be tiny
CHUNK_BYTES = 600 << 10  # input tiles of the images handled together (2 images of 32 channels for LeNet)
TILE = 2  # output pixels per tile side


def fits(kernel: int, stride: int, channels: int, ph: tuple[int, int, int], pw: tuple[int, int, int],
         height: int, width: int) -> bool:
    """Whether a convolution with this geometry (``ph``/``pw``: padding before, after, output size) goes this way:
    stride 1, a kernel of :data:`KERNELS`, enough channels, even input and output sizes (whole tiles, in both
    passes), padding within the kernel (so the input gradient is a plain correlation)."""
    return (stride == 1 and kernel in KERNELS and channels >= MIN_CHANNELS
            and ph[2] % TILE == 0 and pw[2] % TILE == 0 and height % TILE == 0 and width % TILE == 0
            and max(ph[0], ph[1], pw[0], pw[1]) <= kernel - 1)


# Interpolation points (the first r of them, and ∞). With 0, -1, 1, 1/2, -2 the float32 error of a 5×5 convolution
# was 2.5× smaller than with the usual 0, ±1, ±2 (max 1.1e-6 against 2.7e-6 of the largest output; im2col: 4e-7),
# and every transform entry is still a binary fraction (exact in floating point).
POINTS = (Fraction(0), Fraction(-1), Fraction(1), Fraction(1, 2), Fraction(-2))


def ones_product(r: int) -> int:
    """Index of the product (of α²) for the point 1 in both directions: its output-transform column is all ones."""
    alpha = TILE + r - 1
    one = POINTS.index(1)
    return one * alpha + one


@lru_cache(maxsize=None)
def _exact(r: int) -> tuple[list, list, list]:
    """(Aᵀ, G, Bᵀ) of F(2, r) as exact fractions, from the first r :data:`POINTS` and ∞."""
    alpha = TILE + r - 1
    points = list(POINTS[:alpha - 1])
    at = [[p ** i for p in points] + [Fraction(int(i == TILE - 1))] for i in range(TILE)]
    g = [[p ** j / math.prod((p - q for q in points if q != p), start=Fraction(1)) for j in range(r)]
         for p in points] + [[Fraction(int(j == r - 1)) for j in range(r)]]
    # Bᵀ solves Σ_k Aᵀ[i,k]·G[k,j]·Bᵀ[k,l] = [l = i + j] (one output of a correlation); the solution is unique
    rows = np.array([[float(at[i][k] * g[k][j]) for k in range(alpha)] for i in range(TILE) for j in range(r)])
    rhs = np.array([[float(l == i + j) for l in range(alpha)] for i in range(TILE) for j in range(r)])
    bt = np.linalg.lstsq(rows, rhs, rcond=None)[0]
    quarters = np.rint(bt * 4)
    if not np.allclose(bt * 4, quarters, atol=1e-9):
        raise ValueError(f"F(2, {r}) has no data transform in quarters with these points")
    return at, g, [[Fraction(int(v), 4) for v in row] for row in quarters]


@lru_cache(maxsize=None)
def matrices(r: int, dtype: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """F(2, r)'s transforms for tiles flattened row-major: (the data transform Bᵀ, α×α, applied along each axis in
    turn; Kronecker products for the rest: output 4×α², its transpose α²×4 for the weight gradient's
    output-gradient transform, kernel α²×r²). (The data transform as one α²×α² Kronecker product is 2.6× the
    arithmetic: with 5×5 kernels it took 1.6 ms a batch against 0.8 ms in two passes over cached tiles.)"""
    at, g, bt = (np.array([[float(v) for v in row] for row in m]) for m in _exact(r))
    ka, kg = np.kron(at, at), np.kron(g, g)
    return tuple(np.ascontiguousarray(m, dtype=dtype) for m in (bt, ka, ka.T, kg))


def kernel_transform(w: np.ndarray, flipped: bool = False) -> np.ndarray:
    """(α², in, out) transformed kernels of HWIO weights ``w``; ``flipped``: of the kernel turned by 180° with input
    and output channels swapped (for the input gradient)."""
    r, _, c, f = w.shape
    if flipped:
        w, c, f = w[::-1, ::-1].transpose(0, 1, 3, 2), f, c
    kg = matrices(r, "<f8")[3]  # in float64, rounded once: the kernel's share of the rounding error vanishes
    return (kg @ w.reshape(r * r, c * f).astype(np.float64)).astype(w.dtype).reshape(-1, c, f)


def chunk_images(r: int, tiles: int, c: int, itemsize: int) -> int:
    """Images whose input tiles take about :data:`CHUNK_BYTES` (the transform passes run at cache speed then)."""
    return max(1, CHUNK_BYTES // ((TILE + r - 1) ** 2 * tiles * c * itemsize))


def correlate(xp: np.ndarray, u: np.ndarray, r: int, scratch, tag: str, bias: np.ndarray | None = None,
              keep: np.ndarray | None = None, pool: tuple | None = None) -> tuple[np.ndarray, int]:
    """(y, chunk): the stride-1 correlation of padded NHWC input ``xp`` with the kernels whose transform is ``u``
    (:func:`kernel_transform`), plus ``bias``, as an (n, ho, wo, out) array; ``keep``, a flat array of
    n·α²·tiles·in values, receives the transformed input tiles, chunk by chunk, for :func:`weight_grad`.
    ``scratch(key, shape, dtype)`` gives reusable work arrays.

    ``pool``: (row winners, column winners) boolean arrays of shapes (2, n·tiles, out) and (n·tiles, out), or
    (None, None) when no backward pass follows: then y is the 2×2 max-pool of the correlation, (n, ho/2, wo/2, out).
    A 2×2 output tile *is* a pooling window, so the pool runs on each chunk's tiles while they are in cache, with
    MaxPool2D's own comparisons (the same values and winners, ties included)."""
    n, hp, wp, c = xp.shape
    f = u.shape[2]
    alpha = TILE + r - 1
    a2 = alpha * alpha
    th, tw = (hp - r + 1) // TILE, (wp - r + 1) // TILE
    tt = th * tw
    bt, ka, _, _ = matrices(r, xp.dtype.str)
    ones = ones_product(r)
    chunk = chunk_images(r, tt, c, xp.itemsize)
    m = min(chunk, n)
    tiles = scratch(tag + "tiles", (a2 * m * tt * c,), xp.dtype)
    half_done = scratch(tag + "half", (a2 * m * tt * c,), xp.dtype)
    prod = scratch(tag + "prod", (a2 * m * tt * f,), xp.dtype)
    back = scratch(tag + "back", (TILE * TILE * m * tt * f,), xp.dtype)
    if pool is None:
        y = np.empty((n, th, TILE, tw, TILE, f), dtype=xp.dtype)
    else:
        y = np.empty((n * tt, f), dtype=xp.dtype)
        rows_won, cols_won = pool
        pair = scratch(tag + "pair", (TILE * m * tt * f,), xp.dtype)
    s0, s1, s2, s3 = xp.strides
    for a in range(0, n, chunk):
        b = min(n, a + chunk)
        k = b - a
        rows = k * tt
        d = tiles[:a2 * rows * c].reshape(a2, rows * c)
        d.reshape(alpha, alpha, k, th, tw, c)[...] = as_strided(
            xp[a:b], (alpha, alpha, k, th, tw, c), (s1, s2, s0, TILE * s1, TILE * s2, s3), writeable=False)
        # the second pass of the transform writes over the gathered tiles, no longer needed (less cache used)
        v = (d if keep is None else keep[a * a2 * tt * c:b * a2 * tt * c].reshape(a2, rows * c))
        half = half_done[:a2 * rows * c].reshape(alpha, alpha, rows * c)
        np.matmul(bt, d.reshape(alpha, alpha * rows * c), out=half.reshape(alpha, alpha * rows * c))  # tile rows
        np.matmul(bt, half, out=v.reshape(alpha, alpha, rows * c))  # then tile columns
        mk = prod[:a2 * rows * f].reshape(a2, rows, f)
        np.matmul(v.reshape(a2, rows, c), u, out=mk)
        if bias is not None:
            mk[ones] += bias  # the point 1 in both directions: its output column is all ones
        yk = back[:TILE * TILE * rows * f].reshape(TILE * TILE, rows * f)
        np.matmul(ka, mk.reshape(a2, rows * f), out=yk)
        if pool is None:
            y[a:b].transpose(2, 4, 0, 1, 3, 5)[...] = yk.reshape(TILE, TILE, k, th, tw, f)
            continue
        # 2×2 max-pool, as MaxPool2D: per column j the lower row wins if strictly greater, then the right column
        x4 = yk.reshape(TILE, TILE, rows, f)  # [row i, column j] of every tile
        t = pair[:TILE * rows * f].reshape(TILE, rows, f)
        if rows_won is not None:
            np.greater(x4[1], x4[0], out=rows_won[:, a * tt:b * tt])
        np.maximum(x4[0], x4[1], out=t)
        if cols_won is not None:
            np.greater(t[1], t[0], out=cols_won[a * tt:b * tt])
        np.maximum(t[0], t[1], out=y[a * tt:b * tt])
    if pool is None:
        return y.reshape(n, th * TILE, tw * TILE, f), chunk
    return y.reshape(n, th, tw, f), chunk


def unpool_fill(dy: np.ndarray, rows_won: np.ndarray, cols_won: np.ndarray, scratch):
    """A ``fill`` for :func:`weight_grad` after a pooled :func:`correlate`: each window's gradient to its winner,
    with MaxPool2D's backward arithmetic (so the result is the same bit for bit)."""
    flat = dy.reshape(-1, dy.shape[-1])

    def fill(a: int, b: int, tt: int, blocks: np.ndarray) -> None:  # blocks: (2, 2, rows, f), [row i, column j]
        g = flat[a * tt:b * tt]
        dt = scratch("unpool", (TILE,) + g.shape, g.dtype)
        np.multiply(g, cols_won[a * tt:b * tt], out=dt[1])
        np.subtract(g, dt[1], out=dt[0])
        np.multiply(dt, rows_won[:, a * tt:b * tt], out=blocks[1])
        np.subtract(dt, blocks[1], out=blocks[0])
    return fill


def copy_fill(dy: np.ndarray):
    """A ``fill`` for :func:`weight_grad`: the output gradient's 2×2 blocks, tile by tile."""
    n, ho, wo, f = dy.shape
    th, tw = ho // TILE, wo // TILE

    def fill(a: int, b: int, tt: int, blocks: np.ndarray) -> None:
        blocks.reshape(TILE, TILE, b - a, th, tw, f)[...] = (
            dy[a:b].reshape(b - a, th, TILE, tw, TILE, f).transpose(2, 4, 0, 1, 3, 5))
    return fill


def weight_grad(kept: np.ndarray, fill, shape: tuple[int, int, int, int], r: int, chunk: int, scratch,
                gw: np.ndarray, gb: np.ndarray, unpooled: np.ndarray | None = None) -> None:
    """Write the kernel gradient (HWIO) into ``gw`` and the bias gradient into ``gb``, from the transformed input
    tiles ``kept`` by :func:`correlate` (with the same ``chunk``) and the output gradient of ``shape`` (n, ho, wo,
    out), which ``fill(a, b, tiles, blocks)`` writes for images a..b as tile blocks (2, 2, rows, out). ``unpooled``,
    an (n, ho, wo, out) view (the inside of the zero-bordered buffer :func:`input_grad` reads), receives the output
    gradient as well, while each chunk is in cache."""
    n, ho, wo, f = shape
    alpha = TILE + r - 1
    a2 = alpha * alpha
    th, tw = ho // TILE, wo // TILE
    tt = th * tw
    c = kept.size // (n * a2 * tt)
    _, _, kat, kg = matrices(r, gw.dtype.str)
    ones = ones_product(r)
    m = min(chunk, n)
    blocks = scratch("gtiles", (TILE * TILE * m * tt * f,), gw.dtype)
    zs = scratch("gtrans", (a2 * m * tt * f,), gw.dtype)
    total = scratch("gsum", (a2, c, f), gw.dtype)
    part = scratch("gpart", (a2, c, f), gw.dtype)
    gb[...] = 0
    for a in range(0, n, chunk):
        b = min(n, a + chunk)
        k = b - a
        rows = k * tt
        d = blocks[:TILE * TILE * rows * f].reshape(TILE * TILE, rows * f)
        fill(a, b, tt, d.reshape(TILE, TILE, rows, f))
        if unpooled is not None:
            unpooled[a:b].reshape(k, th, TILE, tw, TILE, f).transpose(2, 4, 0, 1, 3, 5)[...] = (
                d.reshape(TILE, TILE, k, th, tw, f))
        z = zs[:a2 * rows * f].reshape(a2, rows, f)
        np.matmul(kat, d, out=z.reshape(a2, rows * f))
        v = kept[a * a2 * tt * c:b * a2 * tt * c].reshape(a2, rows, c)
        np.matmul(v.transpose(0, 2, 1), z, out=total if a == 0 else part)
        if a:
            total += part
        gb += z[ones].sum(axis=0)  # the all-ones output column again: Σ of the output gradient
    result = kg.T @ total.reshape(a2, c * f)
    gw[...] = result.reshape(gw.shape)


def padded_grad_buffer(work: dict, shape: tuple[int, int, int, int], r: int, pads: tuple[int, int, int, int],
                       dtype) -> tuple[np.ndarray, np.ndarray]:
    """(buffer, inside): a reused zero-bordered array for the output gradient of ``shape``, padded by ``r - 1 - pad``
    on each side (``pads``: top, bottom, left, right of the forward pass), and the view of its inside. Only the
    inside is ever written, so the border stays zero."""
    n, ho, wo, f = shape
    pt, pb, pl, pr = pads
    full = (n, ho + 2 * (r - 1) - pt - pb, wo + 2 * (r - 1) - pl - pr, f)
    key = ("winograd_dy", full, np.dtype(dtype).str)
    buf = work.get(key)
    if buf is None:
        buf = work[key] = np.zeros(full, dtype=dtype)
    return buf, buf[:, r - 1 - pt:r - 1 - pt + ho, r - 1 - pl:r - 1 - pl + wo]


def input_grad(dyp: np.ndarray, w: np.ndarray, scratch) -> np.ndarray:
    """The gradient with respect to the (unpadded) input: the correlation of the padded output gradient
    (:func:`padded_grad_buffer`) with the kernel turned by 180°, input and output channels swapped."""
    return correlate(dyp, kernel_transform(w, flipped=True), w.shape[0], scratch, "dx")[0]
