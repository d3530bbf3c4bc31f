"""Printed lines on the page (ruled or squared paper, a margin line): found and taken out of the ink before the
digits are labelled.

A number written on ruled paper sits on a rule, and a rule dark enough to pass the threshold joins every digit of
the line into one blob (and a squared grid joins everything). A rule is unlike a handwritten stroke in two ways: it
is long (it runs across the sheet, far beyond any digit) and straight and thin (a printed line, within a few pixels
of a straight line over its whole length). So:

1. **Runs**: the ink is thickened by a pixel across the direction looked at (a rule photographed a few degrees
   askew steps from row to row) and opened by a line :data:`RUN` of the picture long (a 1-D minimum then maximum
   filter, O(n) whatever the length): what survives are long straight runs.
2. **Rules**: connected runs spanning most of the picture, or a good part of it and reaching its border, thin for
   their length; one inside the picture also has ink on its straight line along most of its length (the flat
   tops of a row of large digits line up too, but with bare paper between them). A digit's bar
   or base is never that long next to the picture (a number of two digits filling the frame comes closest: its
   bars are still short of that).
3. **Removal** of the rules' pixels, except where a stroke crosses the rule (ink continues on both sides of it
   within a rule's thickness), or where the ink is much darker than the rule itself (a pen stroke lying along a
   printed line: the base of a 2 written on the line). Darker is judged on the strokes' own contrast: on ruled
   paper every digit touches a rule and through it the picture's border, so the ink's level is measured on what
   does not (grain, specks) and the flattened ink map, clipped at that level, shows rules and pen alike at 1.

Done for horizontal rules and, on the transposed picture, for vertical ones (a margin, a grid's columns).
Everything is whole-array NumPy/SciPy.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

RUN = 0.03  # a run must be this share of the picture's side long (at least MIN_RUN px)
MIN_RUN = 12
SPAN = (0.6, 0.75)  # a rule spans this share of the picture's width (across rules), height (down rules) ...
BORDER_SPAN = (0.35, 0.5)  # ... or this share, reaching the picture's border (a rule runs off the sheet; the
#                            bar of a big digit in a tight crop is as long, but stops short of the border)
THIN = 0.08  # ... straight and thin (its width under this share of its length)
SLANT = 0.2  # ... at most this steep (±11°: the photo turned by a few degrees, and its perspective)
TALL = 0.015  # a rule is thinner than this share of the picture's side (+3 px)
COVER = (0.6, 0.25)  # share of a rule's length seen as thin straight pieces (inside the picture, reaching its border)
PIECE = 0.04  # pieces of rules shorter than this share of the side are not looked at
GAP = 0.05  # gaps in a rule up to this share of the side (where strokes crossed it) are bridged
POOL_FROM = 400  # pictures at least this many px on their short side are searched at half size
ON_LINE = 0.6  # ... and ink on its straight line along this share of its length (not bare paper between pieces)
TEXTURE = 0.4  # in faint ink, a line with this share of its ink along both its sides too is grain
STRONGER = 2.0  # a pixel of a rule over this × the rule's median contrast is pen on it (``strength``)
STUB_PAGE = 0.25  # faint lines this large a share of the ink: a ruled page, whose lines' dark stretches are cut
DARKER = 1.6  # ... and, on a faint rule, over this × its median on the clipped ink map


def _rules_along_rows(binary: np.ndarray, span: float, border_span: float,
                      grainy: bool = False) -> np.ndarray:
    """The pixels of ``binary`` on horizontal rules (long straight thin runs; see the module doc).

    The rules are looked for on a copy halved in size (any ink in 2×2 pixels: a rule stays a connected line) when
    the picture is large, a quarter of the work; their pixels are then taken at full size along the lines found."""
    full_h, full_w = binary.shape
    f = 2 if min(full_h, full_w) >= POOL_FROM else 1
    if f > 1:
        hs, ws = full_h // 2, full_w // 2
        binary_full, binary = binary, binary[:2 * hs, :2 * ws].reshape(hs, 2, ws, 2).any(axis=(1, 3))
    else:
        binary_full = binary
    h, w = binary.shape
    run = max(MIN_RUN // f, int(RUN * w))
    # only thin ink can be a rule: without the pixels of tall vertical runs (strokes crossing it, fat digits'
    # bodies), two rules are never joined through a digit; the gaps left where strokes crossed are bridged below
    tall = max(4, int(TALL * h) + 3)
    b8 = binary.view(np.uint8)
    thin = binary & ~ndimage.maximum_filter1d(ndimage.minimum_filter1d(b8, tall, axis=0), tall, axis=0).astype(bool)
    thick = thin.copy()
    thick[1:] |= thin[:-1]
    thick[:-1] |= thin[1:]
    t8 = thick.view(np.uint8)
    runs = ndimage.maximum_filter1d(ndimage.minimum_filter1d(t8, run, axis=1), run, axis=1)
    gap = max(3, int(GAP * w))
    runs = ndimage.minimum_filter1d(ndimage.maximum_filter1d(runs, gap, axis=1), gap, axis=1).astype(bool)
    if not runs.any():
        return np.zeros_like(binary_full)
    labels, n = ndimage.label(runs, structure=np.ones((3, 3), bool))
    pieces = []  # straight thin pieces: (height at the picture's middle column, slope, x0, x1, band thickness, slice)
    areas = np.bincount(labels.ravel(), minlength=n + 1)
    for i, sl in enumerate(ndimage.find_objects(labels)):  # over run-components (a few dozen), not pixels
        x0, x1 = sl[1].start, sl[1].stop
        if x1 - x0 < PIECE * w or areas[i + 1] > 3 * (THIN * (x1 - x0) + 4) * (x1 - x0):  # short, or a thick blob
            continue
        ys, xs = np.nonzero(labels[sl] == i + 1)
        counts = np.bincount(xs)
        seen = counts > 0
        thick_t = float(np.median(counts[seen]))
        # the line through the columns that hold nothing but the rule (a digit's stroke may join it in places)
        cols = np.flatnonzero(seen & (counts <= thick_t + 1))
        if len(cols) < 0.5 * (x1 - x0) or thick_t > THIN * (x1 - x0) + 4:
            continue
        mid = np.bincount(xs, ys.astype(np.float64))[cols] / counts[cols]
        slope, icpt = np.polyfit(cols, mid, 1)
        off = np.abs(mid - (slope * cols + icpt))
        if np.median(off) > 1.0 or np.percentile(off, 90) > 2.5 or abs(slope) > SLANT:  # not straight: handwriting
            continue
        pieces.append((sl[0].start + icpt + slope * (w / 2 - x0), slope, x0, x1, thick_t, sl))
    rule = np.zeros_like(binary_full)
    if not pieces:
        return rule
    pieces.sort(key=lambda p: p[0])
    edge = max(2, int(0.02 * w))
    # pieces of one rule, broken where strokes ran along it or crossed it, lie on one straight line
    # (a short piece's slope is uncertain: the farther it is from the middle column, the more its height there is)
    def slack(p):
        return 3 + p[4] + 0.02 * abs((p[2] + p[3]) / 2 - w / 2)

    breaks = [k for k in range(1, len(pieces))
              if pieces[k][0] - pieces[k - 1][0] > max(slack(pieces[k]), slack(pieces[k - 1]))]
    for group in np.split(np.arange(len(pieces)), breaks):
        x0 = min(pieces[k][2] for k in group)
        x1 = max(pieces[k][3] for k in group)
        covered = sum(pieces[k][3] - pieces[k][2] for k in group)
        at_border = x0 < edge or x1 > w - edge
        long_enough = (x1 - x0) >= span * w or ((x1 - x0) >= border_span * w and at_border)
        # a rule is seen along most of its length, or runs off the picture and is seen between the digits
        # sitting on it (the bars of a row of 7s line up too, but stop short of the picture's border)
        if not long_enough or covered < (COVER[1] if at_border else COVER[0]) * (x1 - x0):
            continue
        on, beside = _cover_on_line(binary, [pieces[k] for k in group], x0, x1)
        if not at_border and on < ON_LINE:
            continue  # bare paper between its pieces: the tops or feet of a row of digits, lined up
        if grainy and beside >= TEXTURE * on:
            continue  # as much ink beside it as on it: runs that grain lined up by chance
        for k in group:
            mid, slope, _, _, thick_t, sl = pieces[k]
            sl = (slice(max(0, f * sl[0].start - 2), min(full_h, f * sl[0].stop + 2)),
                  slice(f * sl[1].start, min(full_w, f * sl[1].stop)))
            yy, xx = np.mgrid[sl]
            centre = f * (mid + slope * ((xx + 0.5) / f - 0.5 - w / 2)) + (f - 1) / 2
            rule[sl] |= (np.abs(yy - centre) <= f * thick_t / 2 + 1) & binary_full[sl]  # with its ragged fringe
    return rule


def _cover_on_line(binary: np.ndarray, group: list, x0: int, x1: int) -> tuple[float, float]:
    """(the share of the columns from ``x0`` to ``x1`` where ``binary`` has ink on the straight line through the
    ``group`` of rule pieces, within their thickness; the same share on the emptier of two thin lines just above
    and just below it).

    A printed line runs on between the digits, crossed by their strokes, with bare paper along both its sides; the
    tops of a row of large digits also line up, but with bare paper between them; and grain (a grainy pencil
    photo's faint ink) has runs on any line, beside it as much as on it."""
    h, w = binary.shape
    xs = np.arange(x0, x1)
    if not len(xs):
        return 0.0, 0.0
    length = np.array([p[3] - p[2] for p in group], np.float64)
    mid = float(np.average([p[0] for p in group], weights=length))
    slope = float(np.average([p[1] for p in group], weights=length))
    centre = mid + slope * (xs - w / 2)
    half = int(np.ceil(max(p[4] for p in group) / 2)) + 1

    def cover(offset: int, reach: int) -> float:
        hits = np.zeros(len(xs), bool)
        for d in range(offset - reach, offset + reach + 1):  # a few rows of offsets, one gather over the columns
            ys = np.round(centre + d).astype(np.int64)
            ok = (ys >= 0) & (ys < h)
            hits[ok] |= binary[ys[ok], xs[ok]]
        return float(hits.mean())

    return cover(0, half), min(cover(-(2 * half + 2), 1), cover(2 * half + 2, 1))


def _longest_run(mask: np.ndarray) -> int:
    """The longest run of True down any column of ``mask`` (at least 1)."""
    col = np.pad(mask.T, ((0, 0), (1, 1))).ravel().view(np.int8)
    edges = np.flatnonzero(np.diff(col))
    return max(1, int((edges[1::2] - edges[::2]).max())) if edges.size else 1


def _kept_on_rows(rule: np.ndarray, other: np.ndarray) -> np.ndarray:
    """The pixels of horizontal ``rule`` where a stroke of ``other`` ink crosses it (ink within the rule's
    thickness both above and below), spread over the rule's thickness."""
    # how far to look: the longest run of rule pixels down a column (where a stroke crosses, its pixels fill the
    # rule's whole band, fringe included), not a column's count of rule pixels, which on ruled or squared paper
    # adds up every rule the column crosses and made the search reach dozens of pixels, keeping the rules by
    # the digits (ink a line or two away on both sides counted as a crossing)
    t = _longest_run(rule)
    above = np.zeros_like(rule)
    below = np.zeros_like(rule)
    for d in range(1, t + 3):
        above[d:] |= other[:-d]
        below[:-d] |= other[d:]
    crossing = above & below & rule
    return ndimage.maximum_filter1d(crossing.view(np.uint8), 2 * t + 1, axis=0).astype(bool) & rule


def remove_rules(binary: np.ndarray, ink: np.ndarray, grainy: bool = False,
                 strength: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(``binary`` without its printed rules, the rules' pixels removed). ``ink``: the flattened ink strength
    (1 = the ink's typical contrast), to tell a pen stroke lying on a rule from the rule; ``grainy``: ``binary``
    is faint ink, grain and all, in which runs with as much ink beside them as on them are no rules; ``strength``:
    the ink's contrast unclipped, which tells a pen stroke lying on a rule from it where ``ink`` cannot."""
    empty = np.zeros_like(binary)
    if not binary.any():
        return binary, empty
    rows = _rules_along_rows(binary, SPAN[0], BORDER_SPAN[0], grainy)
    cols = _rules_along_rows(binary.T, SPAN[1], BORDER_SPAN[1], grainy).T
    rule = rows | cols
    if not rule.any():
        return binary, empty
    other = binary & ~rule  # the handwriting: strokes that cross a rule go on beyond it
    kept = empty.copy()
    if rows.any():
        kept |= _kept_on_rows(rows, other)
    if cols.any():
        kept |= _kept_on_rows(cols.T, other.T).T
    if strength is not None:  # (tried 1.6 and 3 × as well: each lost a held-out number the others kept)
        kept |= rule & (strength > STRONGER * float(np.median(strength[rule])))
    level = float(np.median(ink[rule]))
    if level < 0.6:  # a faint printed line: much darker ink on it is a pen stroke lying along it
        kept |= rule & (ink > min(1.0, DARKER * level))
    removed = rule & ~kept
    return binary & ~removed, removed


def cut_rule_stubs(binary: np.ndarray, faint_rules: np.ndarray, reach: float) -> np.ndarray:
    """``binary`` without the stretches of the faint printed lines ``faint_rules`` (found among faint ink) that
    are dark enough to be in it, farther than ``reach`` px from the writing, and without what is left of them.

    A grid too faint for the threshold is found only among faint ink, and was taken out of that alone. But light
    and perspective darken parts of it: those parts pass the threshold, hang off the digits they touch as bars
    and stubs (a 2 read as 1, a 7 as 4) and are too short for the search among the thresholded ink. Only a page
    whose lines are a good share of the ink is ruled (a pencil's grain lines up in places too); and near the
    writing the line's pixels stay, since a pen stroke may lie along a printed line for a while (a 7's bar)."""
    on = faint_rules & binary
    if not on.any() or faint_rules.sum() <= STUB_PAGE * binary.sum():
        return binary
    hand = binary & ~faint_rules
    near = ndimage.binary_dilation(hand, iterations=max(2, int(round(reach))))
    cut = on & ~near
    out = binary & ~cut
    # what is left of a line beside a cut (a stub between the cut and the writing's reach) goes too
    labels, n = ndimage.label(out, structure=np.ones((3, 3), bool))
    if n:
        band = ndimage.binary_dilation(faint_rules, iterations=2)
        area = np.bincount(labels.ravel(), minlength=n + 1)
        on_band = np.bincount(labels[band].ravel(), minlength=n + 1)
        touched = np.bincount(labels[ndimage.binary_dilation(cut, iterations=2)].ravel(), minlength=n + 1)
        stub = (on_band > 0.8 * area) & (touched > 0)
        stub[0] = False
        out &= ~stub[labels]
    return out
