"""Smoothed curves for the training plots: TensorBoard's exponential moving average with bias correction,
vectorised in blocks, and fed piece by piece so a live plot smooths only its new points. No Qt."""

from __future__ import annotations

import numpy as np

EMA_BLOCK = 256  # values smoothed per matrix product in smooth_ema


def _ema_raw(x: np.ndarray, w: float, carry: float) -> tuple[np.ndarray, float]:
    """``e_t = w·e_{t-1} + (1-w)·x_t`` from ``e_{-1} = carry``, in blocks: each block is one matrix product with a
    lower-triangular matrix of powers of ``w``, and only the block ends are chained in Python."""
    n = len(x)
    b = min(EMA_BLOCK, n)
    j = np.arange(b)
    lag = j[:, None] - j[None, :]
    m = np.where(lag >= 0, (1.0 - w) * np.power(w, np.maximum(lag, 0)), 0.0)
    nb = -(-n // b)
    xb = np.zeros(nb * b)
    xb[:n] = x
    y = xb.reshape(nb, b) @ m.T
    carry_weights = np.power(w, j + 1.0)
    for i in range(nb):
        y[i] += carry_weights * carry
        carry = y[i, -1]
    y = y.ravel()[:n]
    return y, float(y[-1])


def smooth_ema(values: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's smoothing: an exponential moving average with bias correction, so the curve starts at the
    first value instead of climbing from zero. ``weight`` 0 returns the values; 0.99 is very smooth."""
    return EmaSmoother(weight).extend(values)


class EmaSmoother:
    """The same smoothing, fed piece by piece: a live plot smooths only the new points of each update."""

    def __init__(self, weight: float) -> None:
        if not 0.0 <= weight < 1.0:
            raise ValueError(f"the smoothing weight must be in [0, 1), got {weight}")
        self.weight = float(weight)
        self._carry = 0.0
        self.count = 0

    def extend(self, values: np.ndarray) -> np.ndarray:
        x = np.asarray(values, dtype=np.float64).ravel()
        if x.size == 0:
            return x.copy()
        if self.weight == 0.0:
            self.count += x.size
            return x.copy()
        raw, self._carry = _ema_raw(x, self.weight, self._carry)
        t = np.arange(self.count + 1, self.count + x.size + 1, dtype=np.float64)
        self.count += x.size
        return raw / (1.0 - np.power(self.weight, t))
