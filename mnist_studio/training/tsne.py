"""t-SNE in NumPy, for the feature-space map (at most a few thousand points: every step is O(N²)).

Exact t-SNE (van der Maaten & Hinton, 2008): Gaussian neighbourhoods over each point's nearest neighbours in the
input space, their widths giving every point the chosen perplexity (a vectorised bisection over all rows at once);
a Student-t kernel in the map; gradient descent with momentum, per-coordinate gains and early exaggeration. The
start is the PCA map scaled down (as openTSNE does), so the result is deterministic and keeps the large-scale
layout PCA shows. For 2,000 points one iteration is a few N×N float32 array operations (30-150 ms here, depending on
the load), so it runs in a worker, checking the stop token every iteration and reporting the layout so far every
``report_every`` iterations: the view shows it converging.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

MAX_POINTS = 2000
PERPLEXITY = 30.0
EXAGGERATED, ITERATIONS = 250, 500  # early exaggeration for the first 250 of 500 iterations


def squared_distances(x: np.ndarray) -> np.ndarray:
    sq = (x * x).sum(axis=1)
    d = sq[:, None] + sq[None, :] - 2.0 * (x @ x.T)
    np.maximum(d, 0.0, out=d)
    np.fill_diagonal(d, 0.0)
    return d


def joint_probabilities(x: np.ndarray, perplexity: float = PERPLEXITY, rounds: int = 64) -> np.ndarray:
    """Symmetric input-space affinities P (N×N, summing to 1): each row's Gaussian, over the point's ``3 ×
    perplexity`` nearest neighbours (the rest would get next to nothing), has the entropy log(perplexity)."""
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    if n < 2:
        raise ValueError("t-SNE needs at least two points")
    perplexity = min(perplexity, (n - 1) / 3.0)
    k = min(n - 1, int(3 * perplexity) + 1)
    d_all = squared_distances(x)
    np.fill_diagonal(d_all, np.inf)
    near = np.argpartition(d_all, k - 1, axis=1)[:, :k]  # (N, k) neighbours, self excluded
    d = np.take_along_axis(d_all, near, axis=1)
    del d_all
    d -= d.min(axis=1, keepdims=True)  # shifting a row changes no row-normalised probability, and nothing underflows
    target = np.log(perplexity)
    beta = np.ones(n)
    lo = np.zeros(n)
    hi = np.full(n, np.inf)
    for _ in range(rounds):  # bisection on every row's precision at once
        p = np.exp(-d * beta[:, None])
        total = p.sum(axis=1)
        entropy = np.log(total) + beta * (d * p).sum(axis=1) / total
        too_flat = entropy > target  # too wide: a larger beta (narrower Gaussian)
        lo = np.where(too_flat, beta, lo)
        hi = np.where(too_flat, hi, beta)
        beta = np.where(np.isinf(hi), beta * 2.0, (lo + hi) / 2.0)
    p = np.exp(-d * beta[:, None])
    p /= p.sum(axis=1, keepdims=True)
    full = np.zeros((n, n))
    np.put_along_axis(full, near, p, axis=1)
    full += full.T
    full /= 2.0 * n
    return full


def _map_affinities(y: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The Student-t kernel ``1 / (1 + |y_i - y_j|²)`` of a 2-D layout into ``out`` (N×N, zero diagonal), with
    as few N×N temporaries as NumPy allows: the iterations are dominated by this."""
    dx = np.subtract.outer(y[:, 0], y[:, 0])
    np.multiply(dx, dx, out=out)
    np.subtract.outer(y[:, 1], y[:, 1], out=dx)
    dx *= dx
    out += dx
    out += 1.0
    np.reciprocal(out, out=out)
    np.fill_diagonal(out, 0.0)
    return out


def tsne(x: np.ndarray, init: np.ndarray | None = None, perplexity: float = PERPLEXITY,
         iterations: int = ITERATIONS, exaggerated: int = EXAGGERATED, exaggeration: float = 12.0, seed: int = 0,
         stop=None, progress: Callable[[int, int, np.ndarray], None] | None = None,
         report_every: int = 25) -> np.ndarray:
    """2-D t-SNE coordinates of the rows of ``x`` (N ≤ :data:`MAX_POINTS`).

    ``init``: a starting layout (N×2), e.g. the PCA map; random (from ``seed``) if None. ``stop``: anything with a
    ``check()`` that raises to abandon the work, looked at every iteration. ``progress(done, total, layout)`` every
    ``report_every`` iterations (the layout is a copy).
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    if n > MAX_POINTS:
        raise ValueError(f"t-SNE here is exact (O(N²)): at most {MAX_POINTS:,} points, got {n:,}")
    p = joint_probabilities(x, perplexity).astype(np.float32)
    if init is None:
        y = np.random.default_rng(seed).normal(0.0, 1e-4, (n, 2))
    else:
        y = np.asarray(init, dtype=np.float64).copy()
        y -= y.mean(axis=0)
        y *= 1e-4 / max(float(y[:, 0].std()), 1e-12)
    y = y.astype(np.float32)
    learning_rate = np.float32(max(n / exaggeration / 4.0, 50.0))
    velocity = np.zeros_like(y)
    gains = np.ones_like(y)
    num = np.empty((n, n), dtype=np.float32)
    pq = np.empty((n, n), dtype=np.float32)
    for it in range(iterations):
        if stop is not None:
            stop.check()
        scale = np.float32(exaggeration if it < exaggerated else 1.0)
        momentum = np.float32(0.5 if it < exaggerated else 0.8)
        _map_affinities(y, num)
        # pq = (scale·P - Q) ∘ num with Q = num / Σnum: the gradient is 4 Σ_j pq_ij (y_i - y_j)
        np.multiply(num, np.float32(-1.0 / max(float(num.sum(dtype=np.float64)), 1e-12)), out=pq)
        pq += scale * p
        pq *= num
        grad = 4.0 * (pq.sum(axis=1)[:, None] * y - pq @ y)
        same = np.sign(grad) == np.sign(velocity)
        gains = np.where(same, gains * np.float32(0.8), gains + np.float32(0.2))
        np.maximum(gains, np.float32(0.01), out=gains)
        velocity = momentum * velocity - learning_rate * gains * grad
        y += velocity
        y -= y.mean(axis=0)
        if progress is not None and ((it + 1) % report_every == 0 or it + 1 == iterations):
            progress(it + 1, iterations, y.copy())
    return y.astype(np.float32)
