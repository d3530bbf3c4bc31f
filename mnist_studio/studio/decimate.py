"""A long curve made short for drawing, incrementally: what the training plots hand to pyqtgraph once a run has
more batches than a plot has pixels. No Qt.

pyqtgraph downsamples a curve itself, but from the whole array at every redraw: O(n) twice a second per curve,
and at a million batches (a per-sample SGD run of twenty epochs) tens of milliseconds of the GUI thread each time,
more while the trainer competes for the CPU. A :class:`Decimator` keeps the curve as bins of ``k`` points (``k`` a
power of two, the smallest that leaves at most ``2 * target`` bins) and bins only the points that arrived since
the last call; when ``k`` has to double it bins the whole curve again (O(n) once per doubling: amortised O(1) per
point). A bin is its minimum and maximum (``peak``: a spike survives, like pyqtgraph's "peak" mode) or its mean
(``mean``: a smoothed line), at its first point's x. The points after the last whole bin are drawn as they are,
so the newest batch shows at once. Bins are whole ``k``-point runs from the curve's start: the same points
always give the same picture. A curve of at most ``2 * target`` points is drawn as it is.
"""

from __future__ import annotations

import numpy as np


class Decimator:
    def __init__(self, target: int = 2048, mode: str = "peak") -> None:
        if mode not in ("peak", "mean"):
            raise ValueError(f"unknown decimation mode {mode!r}")
        self.target, self.mode = int(target), mode
        self.clear()

    def clear(self) -> None:
        self.k = 1  # points per bin
        self.binned = 0  # points in whole bins so far
        self._x = np.empty(0)  # each bin's first x
        self._a = np.empty(0)  # its minimum (peak) or mean
        self._b = np.empty(0)  # its maximum (peak)

    def _bins(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        yb = y.reshape(-1, self.k)
        if self.mode == "peak":
            return x[:: self.k], yb.min(axis=1), yb.max(axis=1)
        return x[:: self.k], yb.mean(axis=1), np.empty(0)

    def curve(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The curve to draw for the whole series ``x, y`` (the same arrays as last time, longer; anything else
        starts afresh)."""
        n = len(x)
        if n <= 2 * self.target:
            if self.binned:
                self.clear()
            return x, y
        if n < self.binned:
            self.clear()
        k = max(self.k, 1)
        while n // k > 2 * self.target:
            k *= 2
        if k != self.k or not self.binned:  # (again) from the start, in bins of the new size
            self.k = k
            whole = n // k * k
            self._x, self._a, self._b = self._bins(x[:whole], y[:whole])
            self.binned = whole
        else:
            whole = n // k * k
            if whole > self.binned:
                bx, ba, bb = self._bins(x[self.binned:whole], y[self.binned:whole])
                self._x = np.concatenate([self._x, bx])
                self._a = np.concatenate([self._a, ba])
                if self.mode == "peak":
                    self._b = np.concatenate([self._b, bb])
                self.binned = whole
        if self.mode == "peak":
            bx = np.repeat(self._x, 2)
            by = np.empty(bx.size)
            by[0::2], by[1::2] = self._a, self._b
        else:
            bx, by = self._x, self._a
        return np.concatenate([bx, x[self.binned:]]), np.concatenate([by, y[self.binned:]])
