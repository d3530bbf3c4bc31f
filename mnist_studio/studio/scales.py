"""Scales for views: colour limits and axis ranges that stay put while the numbers drift, and signed
normalisation for diverging colour maps. Pure numbers, no Qt, so they are tested without a window."""

from __future__ import annotations

import math

import numpy as np

NICE_STEPS = (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.0, 10.0)


def nice_limit(value: float) -> float:
    """The smallest of 1, 1.5, 2, 3, 4, 5, 7 × 10^k that is ≥ ``value``: scales and histogram ranges then stay put
    while the weights drift a little (a live view that rescales on every snapshot flickers, and costs redraws)."""
    if not (value > 0 and math.isfinite(value)):
        return 1.0
    k = math.floor(math.log10(value))
    for m in NICE_STEPS:
        nice = m * 10.0 ** k
        if nice >= value * (1 - 1e-6):  # float32 rounding must not push 0.3 up to 0.4
            return nice
    return 10.0 ** (k + 1)



def symmetric_limit(values: np.ndarray, percentile: float = 99.5) -> float:
    """A colour-scale limit centred on zero: the ``percentile`` of |values| (a few outliers do not wash the
    picture out) rounded up by :func:`nice_limit`; never 0."""
    v = np.abs(np.asarray(values, dtype=np.float32))
    v = v[np.isfinite(v)]
    if v.size == 0:
        return 1.0
    lim = float(np.percentile(v, percentile))
    return nice_limit(lim if lim > 0 else float(v.max()) or 1.0)


def normalise_signed(m: np.ndarray) -> np.ndarray:
    """Scale to [-1, 1] by the largest magnitude (zeros stay zeros), for a diverging colour map."""
    m = np.asarray(m, dtype=np.float32)
    top = float(np.abs(m).max()) if m.size else 0.0
    return m / top if top > 0 else np.zeros_like(m)
