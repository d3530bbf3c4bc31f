"""One flat buffer behind many arrays: a model's weights (and its gradients) are views into one vector each.

Why: an optimizer step is element-wise, and done one array at a time it is a dozen small NumPy calls per weight
array (LeNet has 8, an MLP 6), each paying its call overhead and walking memory in its own pass. When the arrays are
consecutive views of one vector, the optimizer updates the vector instead: a handful of large vector operations per
step, whatever the number of layers (``nn/optim.py``); the data-parallel step combines its shards' gradients the
same way (``nn/parallel.py``). The layers and the trainer still see ordinary arrays of their own shapes.

:func:`pack` builds the vector and the views; :func:`flat_base` recognises a list of arrays that tiles one vector
exactly, in order (anything else gets ``None`` and is updated array by array, as before).
"""

from __future__ import annotations

import numpy as np


def pack(arrays: list[np.ndarray], dtype=None, zero: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
    """A new 1-D vector holding ``arrays`` one after another (their values copied in, or zeros when ``zero``), and
    views of it shaped like each array."""
    dtype = np.dtype(dtype if dtype is not None else (arrays[0].dtype if arrays else np.float32))
    flat = np.zeros(sum(a.size for a in arrays), dtype=dtype)
    views, off = [], 0
    for a in arrays:
        v = flat[off:off + a.size].reshape(a.shape)
        if not zero:
            v[...] = a
        views.append(v)
        off += a.size
    return flat, views


def flat_base(arrays: list[np.ndarray]) -> np.ndarray | None:
    """The 1-D vector that ``arrays`` are consecutive, contiguous views of, covering it exactly and in this order;
    None when they are not (separate arrays, gaps, another order, another dtype)."""
    if not arrays:
        return None
    first = arrays[0]
    base = first.base if first.base is not None else first
    if (not isinstance(base, np.ndarray) or base.ndim != 1 or not base.flags.c_contiguous
            or not base.flags.writeable):
        return None
    item = base.itemsize
    addr = base.__array_interface__["data"][0]
    for a in arrays:
        if (not (a is base or a.base is base) or a.dtype != base.dtype or not a.flags.c_contiguous
                or a.__array_interface__["data"][0] != addr):
            return None
        addr += a.size * item
    if addr != base.__array_interface__["data"][0] + base.size * item:
        return None
    return base


def same_layout(a: np.ndarray, b: np.ndarray, arrays_a: list[np.ndarray], arrays_b: list[np.ndarray]) -> bool:
    """Whether two flat vectors hold their arrays at the same offsets with the same shapes."""
    return a.size == b.size and a.dtype == b.dtype and all(x.shape == y.shape for x, y in zip(arrays_a, arrays_b))


def with_row(matrix: np.ndarray, row: np.ndarray) -> np.ndarray | None:
    """``matrix`` (r×f) with ``row`` (f values) as an extra last row, as a view — when ``row`` lies right after
    ``matrix`` in the same vector (a layer's bias after its weights, as :func:`pack` lays them out); else None.

    A convolution then multiplies its patches, given a last column of ones, by this (r+1)×f view: the bias is
    added inside the matmul, and the weight-gradient matmul yields the bias gradient as its last row, so neither
    needs a pass of its own over the layer's output."""
    base = matrix.base
    if (base is None or row.base is not base or base.ndim != 1 or matrix.ndim != 2 or row.shape != matrix.shape[1:]
            or row.dtype != matrix.dtype or not (matrix.flags.c_contiguous and row.flags.c_contiguous)):
        return None
    start = base.__array_interface__["data"][0]
    at = matrix.__array_interface__["data"][0]
    if row.__array_interface__["data"][0] != at + matrix.nbytes:
        return None
    off = (at - start) // base.itemsize
    return base[off:off + matrix.size + row.size].reshape(matrix.shape[0] + 1, matrix.shape[1])
