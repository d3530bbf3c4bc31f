"""Printed words beside a handwritten number: finding them so they are not read as digits.

A photographed number often has print around it: a form's "Total:", a heading, a line of small print. Each printed
letter is a blob of ink much like a small digit, and a word's letters are many: read as digits they add a "digit"
a letter, and when the handwriting is faint they outnumber its blobs and set the line's digit height.

Print differs from handwriting in how regular it is. A printed line's letters stand on one baseline (only
descenders such as g, p, y go below it), their tops are at one of two heights (x-height, capitals and ascenders),
they follow one another at a letter's spacing, and there are many of them. One writer's digits wander: sizes
differ by a tenth or more, the baseline drifts from digit to digit, each leans its own way. And print is usually
of another size than the writing beside it (a form's labels are smaller than what is written in them).

So (:func:`printed_rows`): neighbouring blobs of similar height that share a baseline (or, for a descender, a
top) are linked into rows; a row of at least :data:`MIN_MARKS` letter-shaped marks whose bottoms fit a straight
line to within a small share of their height is print if it is also clearly smaller than the other ink of the
picture, or, whatever its size, if it is long and very regular (no hand keeps that many marks on a line so
exactly). The work is vectorised over pairs of blobs; loops run over the rows found.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

MIN_MARKS = 3  # a printed row has at least this many marks (a three-letter word)
MAX_BLOBS = 600  # blobs looked at (the largest): a page of text needs no more to be told apart
MIN_HEIGHT = 4  # px: lower blobs cannot be judged (dots, commas, the working copy's noise)
GAP = 0.8  # neighbours in a row are at most this × the taller one's height apart (a word space included)
RATIO = 1.9  # ... their heights differ by at most this factor (x-height beside a capital)
ALIGN = 0.15  # ... and their bottoms (or, a descender, their tops) within this × the taller one's height
SLOPE = 0.12  # ... plus this × the distance between their centres (a row photographed up to 7° askew)
BASELINE = 0.06  # a row's bottoms fit a straight line within this × its marks' median height (RMS, inliers)
SMALLER = 0.7  # print smaller than this × the other ink's height is no part of the number
LONG, EXACT = 8, 0.02  # a row of this many marks on a baseline this exact is print at any size


def link_neighbours(boxes: np.ndarray) -> np.ndarray:
    """(n × n bool) pairs of blobs that could be neighbouring letters of one printed row, ``boxes`` y0, y1, x0, x1.
    Symmetric; only blobs at least :data:`MIN_HEIGHT` tall take part."""
    y0, y1, x0, x1 = (boxes[:, k].astype(np.float64) for k in range(4))
    h = y1 - y0
    m = np.maximum(h[:, None], h[None, :])
    ratio = m / np.maximum(np.minimum(h[:, None], h[None, :]), 1.0)
    # the gap from the right edge of i to the left edge of j (negative: they overlap a little along the row)
    gap = x0[None, :] - x1[:, None]
    ahead = (gap >= -0.2 * m) & (gap <= GAP * m) & ((x0[None, :] + x1[None, :]) > (x0[:, None] + x1[:, None]))
    # (a row photographed askew climbs from letter to letter: its slope times the letters' distance is allowed)
    tol = ALIGN * m + 1.0 + SLOPE * np.abs((x0[None, :] + x1[None, :]) - (x0[:, None] + x1[:, None])) / 2
    bottoms = np.abs(y1[:, None] - y1[None, :]) <= tol
    tops = (np.abs(y0[:, None] - y0[None, :]) <= tol) & (ratio <= 1.6)
    ok = ahead & (ratio <= RATIO) & (bottoms | tops)
    ok &= (h[:, None] >= MIN_HEIGHT) & (h[None, :] >= MIN_HEIGHT)
    return ok | ok.T


def baseline_fit(cx: np.ndarray, bottom: np.ndarray, h: np.ndarray) -> tuple[float, np.ndarray]:
    """(RMS residual of the inliers / median height, inlier mask) of a straight line through a row's bottoms.
    Descenders and punctuation (g, y, a comma) are the outliers: the line is first fitted robustly (the median of
    the slopes between pairs of marks, the median offset), then again by least squares through the bottoms near
    it."""
    med = float(np.median(h))
    tol = max(0.12 * med, 1.5)
    i, j = np.triu_indices(len(cx), 1)
    dx = cx[j] - cx[i]
    ok = dx != 0
    slope = float(np.median((bottom[j] - bottom[i])[ok] / dx[ok])) if ok.any() else 0.0
    res = bottom - slope * cx
    res = res - np.median(res)
    inl = np.abs(res) <= tol
    if inl.sum() >= 2:
        coef, *_ = np.linalg.lstsq(np.stack([cx[inl], np.ones(inl.sum())], 1), bottom[inl], rcond=None)
        res = bottom - (coef[0] * cx + coef[1])
        inl = np.abs(res) <= tol
    if inl.sum() < 2:
        return np.inf, inl
    return float(np.sqrt(np.mean(res[inl] ** 2)) / med), inl


def other_height(boxes: np.ndarray, areas: np.ndarray, shape: tuple[int, int]) -> float:
    """The height of the largest ink among ``boxes``: the median height of the blobs with at least a third of the
    largest one's area. Blobs cut by the picture's border do not count (the desk beside the sheet, a board's
    frame: a photographed number is inside the picture). 0 if there is none."""
    inner = (boxes[:, 0] > 0) & (boxes[:, 2] > 0) & (boxes[:, 1] < shape[0]) & (boxes[:, 3] < shape[1])
    hh, areas = (boxes[inner, 1] - boxes[inner, 0]).astype(np.float64), areas[inner]
    if not len(hh):
        return 0.0
    return float(np.median(hh[areas >= areas.max() / 3]))


def inside_taller(marks: np.ndarray, others: np.ndarray, cap: float, shape: tuple[int, int]) -> bool:
    """Whether some of a row's ``marks`` (boxes) lie on a blob much taller than they are (boxes ``others``; not
    those cut by the picture's border, the desk or a shadow's edge): the dashes of a digit's broken bar, not
    print (print stands apart from the handwriting)."""
    inner = (others[:, 0] > 0) & (others[:, 2] > 0) & (others[:, 1] < shape[0]) & (others[:, 3] < shape[1])
    tall = others[inner & ((others[:, 1] - others[:, 0]) > 1.5 * cap)]
    if not len(tall) or not len(marks):
        return False
    m = 0.1 * cap
    hit = ((marks[:, None, 0] - m < tall[None, :, 1]) & (marks[:, None, 1] + m > tall[None, :, 0])
           & (marks[:, None, 2] - m < tall[None, :, 3]) & (marks[:, None, 3] + m > tall[None, :, 2]))
    return bool(hit.any())


class Print(NamedTuple):
    """What :func:`printed_rows` found: ``mask`` (bool per blob: print to leave out of the number), ``rows`` (how
    many printed rows that is), ``alone`` (print was found but there is no other ink to read: it was left in)."""

    mask: np.ndarray
    rows: int
    alone: bool
    cap: float = 0.0  # the print's height (capitals and ascenders; the smallest printed row's), 0: none
    marks: np.ndarray | None = None  # the printed blobs, also when they were left in (``alone``)


def printed_rows(boxes: np.ndarray, areas: np.ndarray, shape: tuple[int, int]) -> Print:
    """The printed rows among blobs ``boxes`` (y0, y1, x0, x1) and ``areas`` of a picture of ``shape``.

    A regular row is print when it is clearly smaller than the largest other ink (the handwriting: a number is
    what the photo is taken of), or when it is long and exact at any size. When nothing else of note is left (no
    blob half as tall as the print), nothing is taken: a picture of text alone is read as it is, and
    ``alone`` says so (:func:`.picture.layout_doubts` then doubts the answer)."""
    n = len(boxes)
    none = Print(np.zeros(n, bool), 0, False)
    if n < MIN_MARKS:
        return none
    pool = np.argsort(-areas)[:MAX_BLOBS]
    b = boxes[pool].astype(np.float64)
    h = b[:, 1] - b[:, 0]
    pairs = np.argwhere(np.triu(link_neighbours(boxes[pool]), 1))
    if not len(pairs):
        return none
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(pool), len(pool)))
    n_rows, row_of = connected_components(graph, directed=False)
    sizes = np.bincount(row_of, minlength=n_rows)
    printed = np.zeros(n, bool)
    caps, regular = [], []
    for r in np.flatnonzero(sizes >= MIN_MARKS):
        idx = np.flatnonzero(row_of == r)
        resid, inl = baseline_fit((b[idx, 2] + b[idx, 3]) / 2, b[idx, 1], h[idx])
        if inl.sum() < max(MIN_MARKS, 0.7 * len(idx)) or resid > BASELINE:
            continue
        cap = float(np.percentile(h[idx][inl], 90))
        regular.append((pool[idx], cap))
        others = np.setdiff1d(np.arange(n), pool[idx])
        if inside_taller(boxes[pool[idx]], boxes[others], cap, shape):
            continue
        smaller = cap < SMALLER * other_height(boxes[others], areas[others], shape) if len(others) else False
        exact = len(idx) >= LONG and resid <= EXACT
        if smaller or exact:
            printed[pool[idx]] = True
            caps.append(cap)
    if not caps:
        return none
    # what else there is, besides the print and rows like it (a text's other lines)
    rest = ~printed
    for idx, cap in regular:
        if 0.6 * np.median(caps) <= cap <= 1.6 * np.median(caps):
            rest[idx] = False
    if not rest.any() or other_height(boxes[rest], areas[rest], shape) < 0.5 * min(caps):
        return Print(np.zeros(n, bool), 0, True, min(caps), printed)
    return Print(printed, len(caps), False, min(caps), printed)
