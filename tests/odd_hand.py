"""A deliberately odd hand for teaching tests: synthetic pen digits in styles MNIST hardly has.

Sevens are written European style with a long crossbar and a hooked foot, ones with a long flag and a base: a
model trained on MNIST misreads many of them, which is what teaching must fix. Each example gets its own slant,
size and jitter (seeded), so held-out examples are new drawings of the same style, not copies.
"""

from __future__ import annotations

import numpy as np

from mnist_studio.data.strokes import StrokeDigit

TEMPLATES = {
    # crossed 7: a top bar with a small lead-in, the stem, a long crossbar through the middle
    7: [[(0, 4), (1, 0), (12, 0)], [(12, 0), (8, 9), (5, 18), (6, 19)], [(2, 9), (13, 9)]],
    # flagged 1 with a base
    1: [[(1, 6), (6, 0), (6, 18)], [(1, 18), (11, 18)]],
}


def odd_digit(label: int, rng: np.random.Generator) -> StrokeDigit:
    slant = rng.uniform(-0.25, 0.15)
    scale = rng.uniform(0.8, 1.2)
    strokes = []
    for s in TEMPLATES[label]:
        a = np.array(s, np.float64)
        # densify so each stroke is drawn as a pen would sample it
        t = np.linspace(0, 1, 12)
        seg = np.concatenate([a[i] + (a[i + 1] - a[i]) * t[:, None] for i in range(len(a) - 1)])
        seg[:, 0] += slant * (seg[:, 1] - 9)
        seg = seg * scale * 10 + rng.normal(0, 2.5, seg.shape) + 100
        strokes.append([(float(x), float(y)) for x, y in seg])
    return StrokeDigit(label, strokes, {"writer": "odd"})


def odd_hand(n_per_digit: int = 15, seed: int = 0, labels=(7, 1)) -> list[StrokeDigit]:
    rng = np.random.default_rng(seed)
    return [odd_digit(d, rng) for _ in range(n_per_digit) for d in labels]
