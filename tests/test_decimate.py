"""The long-curve decimation the training plots draw with: exact bins, built incrementally, the same as at once."""

import numpy as np
import pytest

from mnist_studio.studio.decimate import Decimator


def reference(x, y, k, mode):
    whole = len(x) // k * k
    yb = y[:whole].reshape(-1, k)
    if mode == "peak":
        bx = np.repeat(x[:whole:k], 2)
        by = np.stack([yb.min(axis=1), yb.max(axis=1)], axis=1).ravel()
    else:
        bx, by = x[:whole:k], yb.mean(axis=1)
    return np.concatenate([bx, x[whole:]]), np.concatenate([by, y[whole:]])


@pytest.mark.parametrize("mode", ["peak", "mean"])
def test_bins_fed_piece_by_piece_equal_the_bins_of_the_whole_curve(mode):
    rng = np.random.default_rng(0)
    n = 50_000
    x, y = np.arange(n) / 1000.0, rng.normal(size=n)
    d = Decimator(target=256, mode=mode)
    start = 0
    for stop in list(range(37, n, 997)) + [n]:  # packets of odd sizes, as batches arrive
        cx, cy = d.curve(x[:stop], y[:stop])
        start = stop
    assert start == n
    k = d.k
    assert k == 128 and n // k <= 2 * 256 < n // (k // 2)  # the smallest power of two leaving <= 2 * target bins
    rx, ry = reference(x, y, k, mode)
    np.testing.assert_array_equal(cx, rx)
    np.testing.assert_array_equal(cy, ry)
    fresh = Decimator(target=256, mode=mode).curve(x, y)  # the same curve at once: the same picture
    np.testing.assert_array_equal(fresh[1], cy)
    assert cx.size <= (2 if mode == "peak" else 1) * 2 * 256 + k  # short, whatever n


def test_a_short_curve_is_drawn_as_it_is_and_a_spike_survives_peak_bins():
    d = Decimator(target=100, mode="peak")
    x, y = np.arange(150.0), np.zeros(150)
    cx, cy = d.curve(x, y)
    assert cx is x and cy is y
    x, y = np.arange(10_000.0), np.zeros(10_000)
    y[5_003] = 9.0
    cx, cy = d.curve(x, y)
    assert cy.max() == 9.0 and cx.size < 500
    d.clear()
    with pytest.raises(ValueError):
        Decimator(mode="median")
