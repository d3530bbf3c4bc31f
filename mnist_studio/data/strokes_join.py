"""Joining strokes a pen broke: a ballpoint that skips, a drying marker's streaks, a whiteboard's glare.

Such a stroke reaches the thresholded picture as pieces with short gaps between them, and each piece would be
judged on its own: a fragment here, an extra "digit" there, and a digit with holes in it read wrong. Closing all
gaps of that size (a morphological closing) would also join neighbouring digits of tight handwriting, whose gaps
are as small. What tells a skip from two digits side by side is the direction: across a skip the stroke goes on,
so both pieces *end* at the gap and both run along it (the gap continues each piece's stroke); two neighbouring
digits face each other with the sides of their strokes, or with one stroke's end against the other's side.

So (:func:`stroke_bridges`): for every pair of pieces closer than :data:`GAP` stroke widths, the nearest points of
the two (from one distance transform of the picture, with the nearest ink pixel of every background pixel); near
each of the two points, the piece's ink within a few stroke widths must lie behind the point (it is an end) and
be elongated along the gap (the stroke points across it). Those gaps are bridged with a stroke of the pen's
width, so the digit is one blob again, with its strokes whole for the network. Loops run over pairs of nearby
pieces (a few dozen), never over pixels.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

GAP = 3.0  # pieces at most this many stroke widths apart may be one broken stroke
MIN_GAP = 3.0  # px: ... and at least this far (a gap of a pixel or two is the threshold's noise on any pen)
REACH = 3.0  # the ink looked at near a gap's end: within this many stroke widths of it
ALONG = np.cos(np.deg2rad(40))  # the stroke's direction and the gap's differ by less than this angle
ELONGATED = 2.0  # the ink near an end is a stroke when its spread along its axis is this × the spread across
JUNCTION = 2.0  # a gap where only one side runs along it is bridged up to this many stroke widths
FAINT_GAP, FAINT_INK = 5.0, 0.12  # a gap crossed by ink this faint (1 = typical) may be this many widths long


def end_facing(ys: np.ndarray, xs: np.ndarray, point: np.ndarray, towards: np.ndarray,
               reach: float) -> tuple[bool, bool]:
    """(an end, running along) for the piece whose pixels are (ys, xs) at ``point``, the gap going ``towards``
    (a unit vector): its ink within ``reach`` lies behind the point (it ends there, it does not pass by), and that
    ink is a stroke running along the gap's direction."""
    d = np.stack([ys - point[0], xs - point[1]], 1).astype(np.float64)
    near = d[(d ** 2).sum(1) <= reach * reach]
    if len(near) < 3:
        return False, False
    centre = near.mean(0)
    if float(centre @ towards) > -0.25 * reach:
        return False, False
    vals, vecs = np.linalg.eigh(np.cov((near - centre).T))
    if vals[1] < ELONGATED ** 2 * max(vals[0], 0.25):
        # no stroke to follow: a blot, a short stub, or the side of a round digit seen from close by
        return True, False
    return True, abs(float(vecs[:, 1] @ towards)) >= ALONG


def nearest_pairs(labels: np.ndarray, ids: np.ndarray, boxes: np.ndarray,
                  max_gap: float) -> list[tuple[int, int, np.ndarray, np.ndarray]]:
    """[(label a, label b, point of a, point of b)]: for every two pieces among ``ids`` (labels; ``boxes`` indexed
    by label - 1) less than ``max_gap`` apart, their nearest points (y, x), from one distance transform of the
    part of the picture they occupy."""
    if not len(ids):
        return []
    m = int(np.ceil(max_gap)) + 2
    sel = boxes[ids - 1]
    oy, ox = max(0, int(sel[:, 0].min()) - m), max(0, int(sel[:, 2].min()) - m)
    crop = labels[oy:int(sel[:, 1].max()) + m, ox:int(sel[:, 3].max()) + m]
    ink = np.isin(crop, ids)
    dist, (iy, ix) = ndimage.distance_transform_edt(~ink, return_indices=True)
    owner = np.where(ink, crop, crop[iy, ix])  # the piece nearest to each pixel (its own, on ink)
    half = max_gap / 2 + 1
    keys, gaps, pa, pb = [], [], [], []
    n = int(labels.max()) + 1
    for dy, dx in ((0, 1), (1, 0)):  # neighbouring pixels (right, below) nearest to different pieces
        h, w = owner.shape[0] - dy, owner.shape[1] - dx
        oa, ob = owner[:h, :w], owner[dy:, dx:]
        da, db = dist[:h, :w], dist[dy:, dx:]
        where = (oa != ob) & (oa > 0) & (ob > 0) & (da <= half) & (db <= half)
        if not where.any():
            continue
        ya, xa = np.nonzero(where)
        a_lab, b_lab = oa[where], ob[where]
        src_a = np.stack([iy[ya, xa], ix[ya, xa]], 1)
        src_b = np.stack([iy[ya + dy, xa + dx], ix[ya + dy, xa + dx]], 1)
        swap = (a_lab > b_lab)[:, None]
        keys.append(np.minimum(a_lab, b_lab).astype(np.int64) * n + np.maximum(a_lab, b_lab))
        gaps.append(da[where] + db[where])
        pa.append(np.where(swap, src_b, src_a))
        pb.append(np.where(swap, src_a, src_b))
    if not keys:
        return []
    keys, gaps = np.concatenate(keys), np.concatenate(gaps)
    pa, pb = np.concatenate(pa) + (oy, ox), np.concatenate(pb) + (oy, ox)
    order = np.lexsort((gaps, keys))
    first = order[np.r_[True, keys[order][1:] != keys[order][:-1]]]
    out = []
    for k in first:
        a, b = pa[k], pb[k]
        if np.hypot(*(a - b)) <= max_gap:
            out.append((int(keys[k] // n), int(keys[k] % n), a, b))
    return out


def gap_ink(ink: np.ndarray, a: np.ndarray, b: np.ndarray, stroke: float) -> float:
    """The faintest ink along the gap from ``a`` to ``b`` (each point along it: the strongest ink across a pen's
    width there), in ``ink``'s units (1 = the picture's typical ink)."""
    v = (b - a).astype(np.float64)
    d = float(np.hypot(*v))
    t = np.linspace(0.0, 1.0, max(3, int(np.ceil(d)) + 1))[1:-1, None]
    n = np.array([-v[1], v[0]]) / max(d, 1e-9)
    k = np.arange(-max(1, round(stroke / 2)), max(1, round(stroke / 2)) + 1)[None, :, None]
    pts = np.rint(a[None, None] + t[:, :, None] * v[None, None] + k * n[None, None]).astype(np.int64)
    pts[..., 0] = np.clip(pts[..., 0], 0, ink.shape[0] - 1)
    pts[..., 1] = np.clip(pts[..., 1], 0, ink.shape[1] - 1)
    return float(ink[pts[..., 0], pts[..., 1]].max(axis=1).min())


def stroke_bridges(labels: np.ndarray, boxes: np.ndarray, ids: np.ndarray, stroke: float,
                   ink: np.ndarray | None = None) -> np.ndarray | None:
    """Ink to add (a bool picture) that bridges the gaps of broken strokes among the pieces ``ids`` (labels, 1-based;
    ``boxes`` indexed by label - 1: y0, y1, x0, x1) drawn with a pen ``stroke`` px wide; None if there are none.
    ``ink`` (the flattened ink, 1 = typical): a gap the pen crossed faintly (a marker's streak, a glare) is
    bridged up to :data:`FAINT_GAP` stroke widths if one of its ends runs along it."""
    if len(ids) < 2 or stroke <= 0:
        return None
    max_gap = max(MIN_GAP, (FAINT_GAP if ink is not None else GAP) * stroke)
    reach = max(3.0, REACH * stroke)
    lines = []
    for la, lb, a, b in nearest_pairs(labels, ids, boxes, max_gap):
        v = (b - a).astype(np.float64)
        d = float(np.hypot(*v))
        if d < 1.5:  # touching already (8-connected) or one pixel apart: nothing to bridge
            continue
        faint = ink is not None and gap_ink(ink, a, b, stroke) >= FAINT_INK
        if d > max(MIN_GAP, GAP * stroke) and not faint:
            continue
        v /= d
        ends = []
        for lab, p, towards in ((la, a, v), (lb, b, -v)):
            y0, y1, x0, x1 = boxes[lab - 1]
            r = int(np.ceil(reach))
            wy0, wy1 = max(y0, p[0] - r), min(y1, p[0] + r + 1)
            wx0, wx1 = max(x0, p[1] - r), min(x1, p[1] + r + 1)
            ys, xs = np.nonzero(labels[wy0:wy1, wx0:wx1] == lab)
            ends.append(end_facing(ys + wy0, xs + wx0, p, towards, reach))
        (end_a, along_a), (end_b, along_b) = ends
        # both ends run along the gap: a skip in a stroke; one only, close by: a skip where a stroke meets
        # another (the stem of a 4 at its bar), whose ink beyond the gap runs across - or a digit's stroke
        # ending against its neighbour's side in tight writing, which makes a blob wider than tall
        ba, bb = boxes[la - 1], boxes[lb - 1]
        upright = max(ba[3], bb[3]) - min(ba[2], bb[2]) <= max(ba[1], bb[1]) - min(ba[0], bb[0])
        junction = (along_a or along_b) and d <= JUNCTION * stroke and upright
        if end_a and end_b and ((along_a and along_b) or junction or (faint and (along_a or along_b))):
            lines.append((a, b))
    if not lines:
        return None
    out = np.zeros(labels.shape, bool)
    radius = max(0, int(round(stroke / 2 - 0.5)))
    yy, xx = np.mgrid[-radius:radius + 1, -radius:radius + 1]
    disk = np.stack([yy[yy * yy + xx * xx <= radius * radius], xx[yy * yy + xx * xx <= radius * radius]], 1)
    for a, b in lines:  # the pen drawn along the gap: a disk at every half pixel
        t = np.linspace(0.0, 1.0, int(np.ceil(np.hypot(*(b - a)) * 2)) + 1)[:, None]
        pts = (np.rint(a[None] * (1 - t) + b[None] * t).astype(np.int64)[:, None, :] + disk[None]).reshape(-1, 2)
        pts = pts[(pts[:, 0] >= 0) & (pts[:, 1] >= 0) & (pts[:, 0] < out.shape[0]) & (pts[:, 1] < out.shape[1])]
        out[pts[:, 0], pts[:, 1]] = True
    return out
