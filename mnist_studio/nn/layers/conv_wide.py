"""Convolutions with few input channels (a first layer on grey images): the patch matrix transposed, on a widened
grid.

With one input channel a patch row holds only k values in a row of the input, so the usual patch matrix is built
from runs of k floats (5 for LeNet's first layer: half of that layer's time went to the copy). Here the output is
computed on the padded input's full width (Wp columns a row, the last Wp - Wo of them unused): then for a fixed
kernel offset (i, j) the inputs of all output positions of an image are ONE run of Ho·Wp values, starting i·Wp + j
into the padded image. The patch matrix is built transposed, (kernel offsets × positions), from such long runs, and
one matmul gives all outputs; the unused columns are left out of the output by a strided view, and their gradients
are zero in the backward pass.

A 2×2 max-pool that follows (LeNet's) can run in the same pass (``Conv2D.forward_fused``): the matmul then goes a
few images at a time and each piece is pooled while it is in cache (the 6 MB output of LeNet's first layer is never
written whole), and the backward pass unpools straight into the widened gradient the weight-gradient matmul reads.
Same comparisons as MaxPool2D (``pool.max_pool_2x2``), so the same values and winners.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from mnist_studio.nn.layers.pool import max_pool_2x2, max_unpool_2x2

POOL_CHUNK_BYTES = 512 << 10  # convolution output pooled at a time when fused: about a core's L2 cache


def forward(layer, x, training, ph, pw, pooled=False):
    (pt, pb, ho), (pl, pr, wo) = ph, pw
    k, f = layer.config["kernel_size"], layer.config["filters"]
    n, h, w, c = x.shape
    hp, wp = h + pt + pb, w + pl + pr
    width, per = k * k * c, ho * wp  # patch length; widened output positions per image
    end = "" if training else "_eval"
    # the padded images one after another, then k·c spare values read (for unused columns) past the last one
    buf = layer._scratch("wide_in" + end, (n * hp * wp * c + k * c,), x.dtype)
    buf[n * hp * wp * c:] = 0
    img = buf[:n * hp * wp * c].reshape(n, hp, wp, c)
    if pt or pb or pl or pr:
        img[:, :pt], img[:, hp - pb:], img[:, :, :pl], img[:, :, wp - pr:] = 0, 0, 0, 0
    img[:, pt:pt + h, pl:pl + w] = x
    w2, w_aug = layer._weights(width, f)
    extra = w_aug is not None
    cols = layer._scratch("wide_cols" + end, (width + extra, n * per), x.dtype)
    it = x.itemsize
    src = as_strided(buf, (k, k, c, n, per), (wp * c * it, c * it, it, hp * wp * c * it, c * it), writeable=False)
    cols[:width].reshape(k, k, c, n, per)[...] = src
    if extra:
        cols[width] = 1.0
    weights = w_aug if extra else w2
    # the matmul a few images at a time, pooled or not (BLAS may round a row differently in a call of another size,
    # and the fused pass must give what the layers alone give, bit for bit)
    step = max(1, POOL_CHUNK_BYTES // (per * f * x.itemsize))
    pool = None
    if pooled:
        ph2, pw2 = ho // 2, wo // 2
        out = np.empty((n, ph2, pw2, f), dtype=x.dtype)
        if not layer.forward_only:
            pool = (layer._scratch("wide_rows" + end, (n, ph2, pw2, 2, f), bool),
                    layer._scratch("wide_cols_won" + end, (n, ph2, pw2, f), bool))
        part = layer._scratch("wide_part" + end, (min(step, n) * per, f), x.dtype)
    else:
        whole = np.empty((n * per, f), dtype=x.dtype)
    for a in range(0, n, step):
        b = min(n, a + step)
        y = part[:(b - a) * per] if pooled else whole[a * per:b * per]
        np.matmul(cols[:, a * per:b * per].T, weights, out=y)
        if not extra:
            y += layer.params["b"]
        if pooled:
            x6 = y.reshape(b - a, ho, wp, f)[:, :, :wo].reshape(b - a, ph2, 2, pw2, 2, f)
            max_pool_2x2(x6, out[a:b], *((pool[0][a:b], pool[1][a:b]) if pool else ()))
    if not pooled:
        out = whole.reshape(n, ho, wp, f)[:, :, :wo, :]
    layer._cache = ("wide", x.shape, (pt, pl), (ho, wo, hp, wp), extra, cols, pool)
    return out


def backward(layer, dy, need_input_grad):
    """After :func:`forward`; ``dy`` is the pooled output's gradient when it ran pooled."""
    _, (n, h, w, c), (pt, pl), (ho, wo, hp, wp), extra, cols, pool = layer._cache
    k, f = layer.config["kernel_size"], layer.config["filters"]
    width, per = k * k * c, ho * wp
    w2, _ = layer._weights(width, f)
    gw2, gw_aug = layer._weights(width, f, grads=True)
    gw, rows = (gw_aug, cols) if extra and gw_aug is not None else (gw2, cols[:width])
    # the widened output gradient: the unused columns stay zero (they get no gradient); without an input gradient
    # to compute, only a few images' worth at a time, each piece multiplied while it is in cache
    step = n if need_input_grad else max(1, POOL_CHUNK_BYTES // (per * f * dy.itemsize))
    key = ("wide_dy", step, ho, wp, f)
    dy_wide = layer._work.get(key)
    if dy_wide is None or dy_wide.dtype != dy.dtype:
        dy_wide = layer._work[key] = np.zeros((step, ho, wp, f), dtype=dy.dtype)
    part = layer._scratch("wide_gw", gw.shape, dy.dtype)
    for a in range(0, n, step):
        b = min(n, a + step)
        piece = dy_wide[:b - a]
        if pool is None:
            piece[:, :, :wo] = dy[a:b]
        else:
            dx6 = piece[:, :, :wo].reshape(b - a, ho // 2, 2, wo // 2, 2, f)
            max_unpool_2x2(dy[a:b], pool[0][a:b], pool[1][a:b], dx6,
                           layer._scratch("wide_unpool", pool[0][a:b].shape, dy.dtype))
        np.matmul(rows[:, a * per:b * per], piece.reshape(-1, f), out=gw if a == 0 else part)
        if a:
            gw += part
        if gw is gw2:  # no bias row in the weights (they are not laid out in one vector): the bias's own sum
            layer.grads["b"][...] = (layer.grads["b"] if a else 0) + piece[:, :, :wo].sum(axis=(0, 1, 2))
    if not need_input_grad:
        return None
    d2 = dy_wide.reshape(n * per, f)
    # dx_padded[position + i·wp + j] += Σ_f dy[position, f] · W[i, j, :, f], for every kernel offset (i, j)
    grad = np.matmul(w2, d2.T).reshape(k, k, c, n, per)
    dbuf = np.zeros(n * hp * wp * c + k * wp * c + k * c, dtype=dy.dtype)
    it = dy.itemsize
    for i in range(k):
        for j in range(k):
            off = (i * wp + j) * c
            target = as_strided(dbuf[off:], (n, per, c), (hp * wp * c * it, c * it, it))
            target += grad[i, j].transpose(1, 2, 0)
    dxp = dbuf[:n * hp * wp * c].reshape(n, hp, wp, c)
    return dxp[:, pt:pt + h, pl:pl + w, :]
