"""Splitting touching digits: where to cut a blob that may hold several digits, and how many there are.

Width alone cannot tell: one writer's 5 with a long bar is as wide as two narrow digits touching. So the
segmenter does not decide alone: for a blob wider than a digit usually is, it proposes the best cuts for each
plausible number of pieces (:func:`alternatives`, by dynamic programming over its columns), each with a
geometric cost; :func:`choose` then picks one, with the network's help when there is a network (how sure it is of
each piece's answer), by geometry alone otherwise.

A cut costs the strokes it crosses: the runs of ink in that column (where two round digits touch, one run; through
the middle of a 0, two). A piece costs more the wider it is than a digit (0.9 H) and much more if narrower than a
stroke could be.
"""

from __future__ import annotations

import numpy as np

MAX_PIECES = 8
CUT = 0.7  # cost of crossing one stroke with a cut
PIECE = 1.0  # cost of one more piece (geometry alone: prefer fewer)
TOO_WIDE, TOO_NARROW = 0.9, 0.1  # piece widths (× H) beyond which pieces cost more
SHORT = 3.0  # a piece much shorter than the line's digits (the bar of a 5 cut off) is no digit ...
TALL = 0.55  # ... shorter than this × H (the segmenter's FRAGMENT)
EXTRA = 0.3  # with the network: each piece beyond one must be read this much more surely (nats)
JUDGE = 0.5  # weight of the judge's log-probability of the alternative's count (see :mod:`.pieces`): half the
#              network's, as the judge learnt from MNIST alone and is often sure that a pen's 0 begun with an
#              overlap (a stroke inside the ring) is two digits, where the network reads the whole 0 surely
PIECE_JUDGE = 0.25  # weight of the judge's log-probability that each piece of a cut is one digit (0: off; 0.5 lost
#                     more tight photos than it gained)


def strokes_crossed(mask: np.ndarray) -> np.ndarray:
    """Runs of ink a vertical cut crosses at each column of ``mask``."""
    return mask[0].astype(np.int64) + (mask[1:] & ~mask[:-1]).sum(axis=0)


def _column_runs(mask: np.ndarray, H: float) -> tuple[np.ndarray, int]:
    """Strokes crossed by a vertical cut in each bin of columns (bins of about H/40 px), and the bin width."""
    runs = strokes_crossed(mask).astype(np.float64)
    runs += 0.3 * mask.sum(axis=0) / max(1, mask.sum(axis=0).max())  # of equal runs, the column with less ink
    b = max(1, int(round(H / 40)))
    nb = -(-len(runs) // b)
    return np.pad(runs, (0, nb * b - len(runs))).reshape(nb, b).min(axis=1), b


def _piece_cost(w: np.ndarray) -> np.ndarray:
    """Geometric cost of pieces of width ``w`` (in units of H)."""
    return PIECE + 8.0 * np.clip(w - TOO_WIDE, 0, None) ** 2 + 10.0 * np.clip(TOO_NARROW - w, 0, None) / TOO_NARROW


def _bin_extents(mask: np.ndarray, b: int, nb: int) -> tuple[np.ndarray, np.ndarray]:
    """The highest and lowest ink row (end exclusive) in each bin of ``b`` columns; an empty bin has none
    (top = height, bottom = 0)."""
    h = mask.shape[0]
    any_ink = mask.any(axis=0)
    top = np.where(any_ink, mask.argmax(axis=0), h)
    bottom = np.where(any_ink, h - mask[::-1].argmax(axis=0), 0)
    top = np.pad(top, (0, nb * b - len(top)), constant_values=h).reshape(nb, b).min(axis=1)
    bottom = np.pad(bottom, (0, nb * b - len(bottom))).reshape(nb, b).max(axis=1)
    return top, bottom


def alternatives(mask: np.ndarray, H: float, max_pieces: int = MAX_PIECES,
                 tall: float = TALL) -> list[tuple[float, list[int]]]:
    """For every number of pieces k = 1 .. the most that fit, the cheapest cuts: [(cost, inner cut columns)],
    cheapest first. ``mask`` is the blob's box; cut columns are indices into it. A piece less than ``tall`` × H
    high costs :data:`SHORT` more, so the best two-way cut of a pair is between the two digits, not a sliver of
    one digit's stroke cut off at the blob's end (which the judge's "two" would otherwise pick)."""
    prof, b = _column_runs(mask, H)
    nb = len(prof)
    top, bottom = _bin_extents(mask, b, nb)
    bw = b / H
    k_max = int(min(max_pieces, max(1, nb * bw / TOO_NARROW // 2)))
    # best[k, j]: cheapest way to cover bins [0, j) with k pieces (a cut before bin j costs prof[j])
    best = np.full((k_max + 1, nb + 1), np.inf)
    back = np.zeros((k_max + 1, nb + 1), np.int64)
    best[0, 0] = 0.0
    cut_cost = np.append(CUT * prof, 0.0)
    cut_cost[0] = 0.0
    piece_cost = []  # for pieces ending before bin j: the cost of each start i < j
    for j in range(1, nb + 1):
        high = np.maximum.accumulate(bottom[:j][::-1])[::-1] - np.minimum.accumulate(top[:j][::-1])[::-1]
        piece_cost.append(_piece_cost((j - np.arange(j)) * bw) + SHORT * (high < tall * H))
    for k in range(1, k_max + 1):
        for j in range(1, nb + 1):
            i = np.arange(j)
            cost = best[k - 1, :j] + cut_cost[i] + piece_cost[j - 1]
            m = int(np.argmin(cost))
            best[k, j], back[k, j] = cost[m], m
    out = []
    for k in range(1, k_max + 1):
        if not np.isfinite(best[k, nb]):
            continue
        cuts, j = [], nb
        for kk in range(k, 0, -1):
            j = int(back[kk, j])
            if kk > 1:
                cuts.append(j * b)
        out.append((float(best[k, nb]), sorted(cuts)))
    out.sort(key=lambda t: t[0])
    return out


def choose(costs: list[float], confidences: list[np.ndarray] | None, pieces: list[int] | None = None,
           count_probs: np.ndarray | None = None, singles: list[float] | None = None) -> int:
    """Which alternative to take: the cheapest by geometry, or, given each alternative's pieces' confidences
    (the network's top probability per piece), the one whose pieces are read most surely, less the geometry's
    cost beyond one piece per digit and a price per extra piece: networks read slivers of a digit as confident 1s,
    so a cut must earn its place.

    ``count_probs`` (the judge's probabilities that the whole blob holds 1, 2, 3+ digits, :mod:`.pieces`) with
    ``pieces`` (each alternative's number of pieces) adds the judge's say: the digit network cannot tell a
    squeezed pair from one wide digit, the judge was taught exactly that. ``singles`` (each alternative's summed
    log-probability, by the judge, that each of its pieces is one digit) makes a cut that leaves a pair in one
    piece pay for it: the whole blob's "three or more" does not tell three pieces from four."""
    if confidences is None:
        scores = [-float(c) for c in costs]
    else:
        scores = [float(np.sum(np.log(np.clip(c, 1e-6, 1.0)))) - 0.5 * (cost - PIECE * len(c))
                  - EXTRA * (len(c) - 1) for cost, c in zip(costs, confidences)]
    if count_probs is not None and pieces is not None:
        last = len(count_probs) - 1
        scores = [s + JUDGE * float(np.log(max(count_probs[min(k, last + 1) - 1], 1e-4)))
                  for s, k in zip(scores, pieces)]
    if singles is not None:
        scores = [sc + PIECE_JUDGE * float(p) for sc, p in zip(scores, singles)]
    return int(np.argmax(scores))
