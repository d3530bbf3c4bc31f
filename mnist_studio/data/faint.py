"""Digits fainter than the threshold let through (a glare over one digit, a lighter hand, a pencil pressed less),
looked for where the number's other digits say a digit may be: on their reading line, as tall as they are, beside
them. :func:`.picture.read_picture` adds what is found to the ink and segments again."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from mnist_studio.data.photo import Cleaned, rough_stroke_width
from mnist_studio.data.segment import Layout, along_line, components
from mnist_studio.data.stroke_scale import above_grain

FAINT = 0.2  # ink this strong (1 = the picture's typical ink) may be a faint digit, if shaped and placed like one
FAINT_GAP = 2  # gaps (px of the working copy, per side) closed in faint ink
FAINT_HEIGHT = (0.7, 1.4)  # ... and as tall as this share of the line's digits
SMALLEST = 0.9  # ... or as this share of the shortest digit found, if that is at least SMALL_FLOOR × theirs
SMALL_FLOOR = 0.6  # (a found "digit" shorter than that may be a fragment: it lowers the bar no further)
APART = 1  # the digits found, grown by FAINT_GAP + this many px, are kept out of the faint ink (0: off)
REACH = 1.0  # ... and at most this × their height beyond the number's digits along the line (0: anywhere)


def faint_digits(cleaned: Cleaned, layout: Layout) -> np.ndarray | None:
    """Digits fainter than the threshold let through, on the reading line of the digits found: the extra ink to
    add to ``cleaned.binary``, or None.

    The threshold is relative to the picture's ink, and one photo's digits are not all as dark: a glare washes
    part of a whiteboard out, a pencil is pressed harder on one digit than the next. A lower threshold over the
    whole picture would take shadow edges and chalk haze for ink, so the faint ink is looked for only where a
    digit is expected: blobs of it as tall as the line's digits (:data:`FAINT_HEIGHT`) or as the shortest of them
    (:data:`SMALLEST`), no wider than one, across the line's centre, clear of the digits already found. Those
    digits' own ink is left out first (:data:`APART`): a faint 7 written close to a bright 3 would otherwise join
    it through the closed gaps, and the blob, wider than a digit and on the 3's box, was never a candidate."""
    digits = layout.digits
    if not digits or cleaned.ink is None:
        return None
    # (a faint digit's darker parts may be there, as dirt; the paper's grain is not)
    weak = (above_grain(cleaned.ink, cleaned.binary, rough_stroke_width(cleaned.binary)) > FAINT) | cleaned.binary
    if APART:  # (the digits found are left out, so a faint digit close beside one is not joined to it)
        weak &= ~_near_digits(digits, weak.shape, FAINT_GAP + APART)
    # a faint stroke breaks into dashes: pieces a few pixels apart are one blob (its strokes a little fatter,
    # which the stroke normalisation undoes)
    weak = ndimage.binary_dilation(weak, iterations=FAINT_GAP)
    labels, boxes, areas = components(weak)
    if not len(areas):
        return None
    hh = boxes[:, 1] - boxes[:, 0]
    ww = boxes[:, 3] - boxes[:, 2]
    c, s = np.cos(layout.angle), np.sin(layout.angle)
    v = -s * (boxes[:, 2] + boxes[:, 3]) / 2 + c * (boxes[:, 0] + boxes[:, 1]) / 2
    found = np.array([d.box for d in digits], float)
    dv = -s * (found[:, 2] + found[:, 3]) / 2 + c * (found[:, 0] + found[:, 1]) / 2
    centres = np.array([np.median(dv[[d.line == li for d in digits]]) for li in sorted({d.line for d in digits})])
    # as tall as the digits found (the line's height estimate may be a fragment's, when few digits were found)
    tall = float(np.median(found[:, 1] - found[:, 0]))
    on_line = np.abs(v[:, None] - centres[None]).min(axis=1) < 0.35 * tall
    # (round digits are written shorter: a faint 0 may be as short as the 0 found beside it)
    least = FAINT_HEIGHT[0] * tall
    if SMALLEST:
        least = min(least, SMALLEST * max(float((found[:, 1] - found[:, 0]).min()), SMALL_FLOOR * tall))
    sized = (hh >= least) & (hh <= FAINT_HEIGHT[1] * tall) & (ww <= 1.2 * tall) & (ww >= 0.08 * tall)
    stroke_like = areas < 0.6 * hh * ww
    clear = np.ones(len(areas), bool)
    for y0, y1, x0, x1 in found:  # a few digits: clear of each one's box
        clear &= (boxes[:, 3] <= x0) | (boxes[:, 2] >= x1) | (boxes[:, 1] <= y0) | (boxes[:, 0] >= y1)
    pick = np.flatnonzero(on_line & sized & stroke_like & clear)
    if REACH > 0 and len(pick):
        pick = _beside_the_number(pick, boxes, found, c, s, REACH * tall)
    if not len(pick):
        return None
    return np.isin(labels, pick + 1)


def _near_digits(digits, shape: tuple[int, int], reach: int) -> np.ndarray:
    """The pixels of the digits found, grown by ``reach``."""
    near = np.zeros(shape, bool)
    for d in digits:
        y0, y1, x0, x1 = d.box
        near[y0:y1, x0:x1] |= d.mask
    return ndimage.binary_dilation(near, iterations=reach)


def _beside_the_number(pick: np.ndarray, boxes: np.ndarray, found: np.ndarray, c: float, s: float,
                       reach: float) -> np.ndarray:
    """The candidates of ``pick`` that belong to the number: among its digits (``found``) or at most ``reach``
    beyond them along the line, or beyond another faint digit that does. A faint digit is one of the number's,
    written or lit a little differently; grain or a smudge a few digits' widths past the number's end is not."""
    def along(b):
        u = along_line(b, c, s)[0]
        return u.min(1), u.max(1)

    f0, f1 = along(found)
    lo, hi = float(f0.min()), float(f1.max())
    p0, p1 = along(boxes[pick].astype(float))
    taken = np.zeros(len(pick), bool)
    while True:
        near = ~taken & (p1 >= lo - reach) & (p0 <= hi + reach)
        if not near.any():
            return pick[taken]
        taken |= near
        lo, hi = min(lo, float(p0[taken].min())), max(hi, float(p1[taken].max()))
