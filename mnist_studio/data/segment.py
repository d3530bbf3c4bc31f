"""Cutting a cleaned picture into digits: connected components, grouped into lines, merged, split, ordered.

A digit is one connected blob of ink most of the time, but not always: the bar of a 5 or a 7, the two strokes of
an open 4 or a loop broken by a faint stroke come apart; digits written close together touch. So:

1. **Components** of the thresholded ink (8-connected). Specks of dirt and noise (a handful of pixels) go first.
   Strokes a skipping pen broke are bridged (:mod:`.strokes_join`) and rows of printed text beside the number
   are left out of it (:mod:`.text_rows`), so that what follows sees the handwriting alone.
2. **The line's digit height** ``H``: the median height of the largest components. Everything else is judged in
   units of ``H``, so the rules hold for a 28 px row of MNIST digits and for a 1600 px photo alike.
3. **Not digits**: components much taller than ``H`` or long thin ones (a sheet's edge, the desk, a ruled line),
   and solid blocks; small pieces far from every digit.
4. **Reading lines**: the line's slant is fitted through the digits' centres (the photo may be rotated by a few
   degrees); digits are grouped into lines across it, top to bottom, and read along it, left to right.
5. **Merge** the parts of one digit: a small piece (shorter than about half ``H``) joins the digit whose extent
   along the line it overlaps or nearly touches; two tall pieces join only when one lies mostly within the other's
   extent (an open 4's stem beside its L).
6. **Split** touching digits: for a group wider than a digit usually is, the best cuts into 1, 2, 3, ... pieces
   are proposed (:mod:`.split`); the reader chooses among them, with the network's help when it has one.

The loops run over components and lines (a few dozen), never over pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from mnist_studio.data.photo import Cleaned, rough_stroke_width
from mnist_studio.data.split import PIECE, SHORT, alternatives
from mnist_studio.data.strokes_join import stroke_bridges
from mnist_studio.data.blob_filters import border_share, edge_bands, line_height, not_digits
from mnist_studio.data.text_rows import printed_rows

EIGHT = np.ones((3, 3), bool)
MIN_SPECK = 6  # components with fewer pixels (on the working copy) are specks
MAX_COMPONENTS = 1500  # a picture of text or texture: only the largest are looked at
FRAGMENT = 0.55  # a component shorter than this × H is a fragment of a digit (a 5's bar), not a digit
SMALL_LOOP = 0.4  # a closed loop this × H tall on the line is a small digit (a 0 written small), not dirt (0: off)
SPLIT_FROM = 0.7  # a group wider than this × H may hold touching digits: cutting it is proposed (the judge
# of :mod:`.pieces` and the network choose; pendigits writers' joined pairs are 0.8-1.0 H wide)
RULED = 0.25  # rules taken out of the ink this large a share of what is left: ruled or squared paper


@dataclass
class Digit:
    """One digit found in the picture: its pixels (a mask over its box, working-copy coordinates)."""

    box: tuple[int, int, int, int]  # y0, y1, x0, x1 on the working copy (end exclusive)
    mask: np.ndarray  # bool, the box's size
    line: int = 0
    pieces: int = 1  # connected components it was made of
    enclosed: int = 0  # of those, how many lie well inside the biggest one's box (eyes in a face, not a digit)


@dataclass
class Group:
    """A blob of ink (with its merged parts) and the ways of reading it: as one digit, or cut into 2, 3, ...
    pieces (touching digits); ``costs`` are their geometric costs, ``chosen`` the one taken."""

    alternatives: list[list[Digit]]
    costs: list[float]
    chosen: int = 0
    mask: np.ndarray | None = None  # the whole blob (its box), from which the alternatives were cut
    origin: tuple[int, int] = (0, 0)  # the box's top-left corner (y0, x0) on the working copy
    cuts: list[list[int]] = field(default_factory=list)  # each alternative's cut columns (into ``mask``)


@dataclass
class Layout:
    """What segmentation found: the groups in reading order, the line height and the lines' slant (radians)."""

    groups: list[Group] = field(default_factory=list)
    height: float = 0.0
    angle: float = 0.0
    printed: int = 0  # rows of printed text found beside the number and left out of it
    print_alone: bool = False  # the picture held print and nothing else to read: the print was read
    print_height: float = 0.0  # the printed rows' height (0: none found)
    print_mask: np.ndarray | None = None  # the printed rows' pixels (working copy), read or not
    print_like: np.ndarray | None = None  # ... and those of all other ink no taller than the print

    @property
    def digits(self) -> list[Digit]:
        """The digits, in reading order, as each group's chosen alternative cuts them."""
        return [d for g in self.groups for d in g.alternatives[g.chosen]]


def components(binary: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(labels, boxes (n × 4: y0, y1, x0, x1, end exclusive), areas) of the 8-connected ink blobs."""
    labels, n = ndimage.label(binary, structure=EIGHT)
    if n == 0:
        return labels, np.zeros((0, 4), np.int64), np.zeros(0, np.int64)
    ys, xs = np.nonzero(labels)
    lab = labels[ys, xs] - 1
    order = np.argsort(lab, kind="stable")
    areas = np.bincount(lab, minlength=n)
    starts = np.concatenate([[0], np.cumsum(areas)[:-1]])
    ys, xs = ys[order], xs[order]
    boxes = np.stack([np.minimum.reduceat(ys, starts), np.maximum.reduceat(ys, starts) + 1,
                      np.minimum.reduceat(xs, starts), np.maximum.reduceat(xs, starts) + 1], axis=1)
    return labels, boxes.astype(np.int64), areas.astype(np.int64)


def fit_angle(cx: np.ndarray, cy: np.ndarray, H: float) -> float:
    """The reading lines' slant from the digit centres (lines grouped at 0°, slopes pooled), within ±10°."""
    if len(cx) < 2:
        return 0.0
    num = den = 0.0
    for idx in group_lines(cy, H):
        if len(idx) < 2:
            continue
        x, y = cx[idx], cy[idx]
        dx = x - x.mean()
        num += float(dx @ (y - y.mean()))
        den += float(dx @ dx)
    if den <= 0:
        return 0.0
    return float(np.clip(np.arctan(num / den), -np.deg2rad(10), np.deg2rad(10)))


def group_lines(v: np.ndarray, H: float) -> list[np.ndarray]:
    """Indices grouped into lines by their position across the reading direction, top to bottom."""
    order = np.argsort(v)
    breaks = np.flatnonzero(np.diff(v[order]) > 0.6 * H) + 1
    return [g for g in np.split(order, breaks) if len(g)]


def _overlap(a0, a1, b0, b1) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def opens_sideways(mask: np.ndarray) -> tuple[bool, bool]:
    """(opens to the right like "(", opens to the left like ")"): the piece's ink in its outer quarter on that
    side is at its top and bottom but not in its middle: half of a loop broken at the top and bottom."""
    h, w = mask.shape
    q = max(1, w // 4)

    def arc(side: np.ndarray) -> bool:
        rows = side.any(axis=1)
        t = max(1, h // 3)
        return bool(rows[:t].any() and rows[-t:].any() and not rows[t:h - t].any())

    return arc(mask[:, w - q:]), arc(mask[:, :q])


def merge_pieces(ext: np.ndarray, tall: np.ndarray, H: float,
                 halves: np.ndarray | None = None) -> list[list[int]]:
    """Groups of the pieces of one line that form one digit. ``ext``: (n × 2) extents along the line, sorted by
    start; ``tall``: whether each piece is digit-sized (not a fragment); ``halves``: (n × 2) whether each piece
    opens to the right / to the left (see :func:`opens_sideways`)."""
    n = len(ext)
    parent = list(range(n))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    width = ext[:, 1] - ext[:, 0]
    for i in range(n):  # tall pieces: join when one lies mostly within the other
        for j in range(i + 1, n):
            if ext[j, 0] >= ext[i, 1] + 0.2 * H:
                break
            if tall[i] and tall[j]:
                ov = _overlap(*ext[i], *ext[j]) / max(min(width[i], width[j]), 1.0)
                span = max(ext[i, 1], ext[j, 1]) - min(ext[i, 0], ext[j, 0])
                loop = halves is not None and halves[i, 0] and halves[j, 1] and ext[j, 0] - ext[i, 1] < 0.2 * H
                if (ov >= 0.6 or loop) and span <= 1.0 * H:
                    parent[find(j)] = find(i)
    for i in np.flatnonzero(~tall):  # each fragment joins the one piece it overlaps most or nearly touches
        best, best_score = None, -np.inf
        for j in range(n):
            if j == i:
                continue
            ov = _overlap(*ext[i], *ext[j])
            gap = max(ext[i, 0], ext[j, 0]) - min(ext[i, 1], ext[j, 1])
            span = max(ext[i, 1], ext[j, 1]) - min(ext[i, 0], ext[j, 0])
            score = ov / max(width[i], 1.0) - max(gap, 0.0) / H + (0.5 if tall[j] else 0.0)
            ok = (ov >= 0.3 * min(width[i], width[j]) or gap < 0.12 * H) and span <= 1.4 * H
            if ok and score > best_score:
                best, best_score = j, score
        if best is not None:
            parent[find(int(i))] = find(best)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


def small_loop(labels: np.ndarray, box: np.ndarray, label: int, H: float) -> bool:
    """Whether component ``label`` (its ``box``: y0 y1 x0 x1) is a closed loop at least :data:`SMALL_LOOP` × H
    tall around a hole a fifth of its height across: a digit written smaller than the rest (a small 0, 6, 8, 9).
    Dirt and a broken digit's pieces are strokes or specks; they seldom close on a hole that size."""
    y0, y1, x0, x1 = (int(v) for v in box)
    if SMALL_LOOP <= 0 or y1 - y0 < SMALL_LOOP * H:
        return False
    mask = labels[y0:y1, x0:x1] == label
    hole = ndimage.binary_fill_holes(mask) & ~mask
    if not hole.any():
        return False
    rows, cols = np.flatnonzero(hole.any(axis=1)), np.flatnonzero(hole.any(axis=0))
    return bool(min(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 >= 0.2 * (y1 - y0))


def along_line(boxes: np.ndarray, c: float, s: float) -> tuple[np.ndarray, np.ndarray]:
    """Each box's four corners (n × 4) along a line slanted by the angle whose cosine and sine are ``c`` and ``s``
    (u) and across it (v); ``boxes``: y0, y1, x0, x1."""
    xs = np.stack([boxes[:, 2], boxes[:, 3], boxes[:, 2], boxes[:, 3]], 1)
    ys = np.stack([boxes[:, 0], boxes[:, 0], boxes[:, 1], boxes[:, 1]], 1)
    return c * xs + s * ys, -s * xs + c * ys


def cut_digits(mask: np.ndarray, origin: tuple[int, int], cuts: list[int], line: int = 0, pieces: int = 1,
               enclosed: int = 0) -> list[Digit]:
    """The digits a blob's ``mask`` (its box's top-left corner at ``origin``) is cut into at columns ``cuts``,
    left to right, each cropped to its ink (a piece with no ink is left out)."""
    y0, x0 = origin
    edges = [0, *cuts, mask.shape[1]]
    out = []
    for a, z in zip(edges[:-1], edges[1:]):
        sub = mask[:, a:z]
        rows = np.flatnonzero(sub.any(axis=1))
        colz = np.flatnonzero(sub.any(axis=0))
        if rows.size == 0:
            continue
        sub = sub[rows[0]:rows[-1] + 1, colz[0]:colz[-1] + 1]
        box = (int(y0 + rows[0]), int(y0 + rows[-1] + 1), int(x0 + a + colz[0]), int(x0 + a + colz[-1] + 1))
        out.append(Digit(box, sub, line, pieces, enclosed))
    return out


def stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width of a binary drawing, from the Euclidean distance of its pixels to the background: across
    a stroke of width w the distances run from 0 to w/2, averaging about w/4 (calibrated on straight strokes of
    2-20 px at 0-45°: within half a pixel to two pixels, whatever the angle)."""
    if not mask.any():
        return 0.0
    dist = ndimage.distance_transform_edt(np.pad(mask, 1))
    return max(1.0, 4.0 * float(dist[dist > 0].mean()) - 1.5)


def pieces(binary: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(labels, boxes, areas, keep): the components of ``binary`` and the indices of those worth looking at (no
    specks, at most :data:`MAX_COMPONENTS`, largest first, no bands along the border)."""
    labels, boxes, areas = components(binary)
    keep = np.flatnonzero(areas >= MIN_SPECK)
    keep = keep[np.argsort(-areas[keep])][:MAX_COMPONENTS]
    keep = keep[~edge_bands(boxes[keep], areas[keep], binary.shape, border_share(labels, areas)[keep])]
    return labels, boxes, areas, keep


def segment(cleaned: Cleaned) -> Layout:
    """Find the digits of a cleaned picture (see the module doc). Empty layout for a blank picture."""
    binary = cleaned.binary
    labels, boxes, areas, keep = pieces(binary)
    if keep.size == 0:
        return Layout()
    # strokes a skipping pen or a streaky marker broke are bridged, so each digit is one blob (:mod:`.strokes_join`)
    ids = keep + 1
    # (faint ink across a gap is a stroke's, except on ruled or squared paper, where it is as often a rule's
    # left over: a page whose rules had a good share of the ink)
    ruled = cleaned.rules is not None and int(cleaned.rules.sum()) > RULED * int(binary.sum())
    bridges = stroke_bridges(labels, boxes, ids, rough_stroke_width(np.isin(labels, ids)),
                             None if ruled else cleaned.ink)
    if bridges is not None:
        labels, boxes, areas, keep = pieces(binary | bridges)
    # printed words beside the number (a form's label, a heading) are no digits, and the line's height is the
    # handwriting's (:mod:`.text_rows`)
    found = printed_rows(boxes[keep], areas[keep], binary.shape)
    # the print's pixels; and those of every blob no taller than it (a text's other rows, less regular; or the
    # fragments of a faint hand)
    marks = like = None
    if found.cap > 0:
        print_sized = (boxes[keep, 1] - boxes[keep, 0]) <= 1.6 * found.cap
        marks = np.isin(labels, keep[found.marks] + 1)
        like = np.isin(labels, keep[print_sized | found.marks] + 1)
    keep, n_printed = keep[~found.mask], found.rows
    H = line_height(boxes[keep], areas[keep], binary.shape)
    keep = keep[~not_digits(boxes[keep], areas[keep], H)]
    if keep.size == 0:
        return Layout(height=H, printed=n_printed, print_alone=found.alone, print_height=found.cap, print_mask=marks,
                      print_like=like)
    b = boxes[keep].astype(np.float64)
    hh, ww = b[:, 1] - b[:, 0], b[:, 3] - b[:, 2]
    tall = hh >= FRAGMENT * H
    if not tall.any():
        return Layout(height=H, printed=n_printed, print_alone=found.alone, print_height=found.cap, print_mask=marks,
                      print_like=like)
    cy, cx = (b[:, 0] + b[:, 1]) / 2, (b[:, 2] + b[:, 3]) / 2
    angle = fit_angle(cx[tall], cy[tall], H)
    c, s = np.cos(angle), np.sin(angle)
    # along the line (u) and across it (v), from the boxes' corners
    u, v = along_line(b, c, s)
    u0, u1, vc = u.min(1), u.max(1), (v.min(1) + v.max(1)) / 2
    tall_idx = np.flatnonzero(tall)
    lines = group_lines(vc[tall_idx], H)
    touching = ((b[:, 0] <= 0) | (b[:, 2] <= 0) | (b[:, 1] >= binary.shape[0]) | (b[:, 3] >= binary.shape[1]))
    if len(lines) > 1:  # a line of nothing but blobs cut by the picture's edge is the edge of the sheet or board
        inner_lines = [idx for idx in lines if not touching[tall_idx[idx]].all()]
        lines = inner_lines or lines
    line_of = np.full(len(keep), -1)
    centres = []
    for li, idx in enumerate(lines):
        line_of[tall_idx[idx]] = li
        centres.append(float(np.median(vc[tall_idx[idx]])))
    for i in np.flatnonzero(~tall):  # fragments join the nearest line, if close to it
        d = np.abs(np.asarray(centres) - vc[i])
        if d.min() < 0.75 * H:
            line_of[i] = int(np.argmin(d))
    groups_out: list[Group] = []
    for li in range(len(lines)):
        members = np.flatnonzero(line_of == li)
        members = members[np.argsort(u0[members])]
        ext = np.stack([u0[members], u1[members]], 1)
        halves = np.zeros((len(members), 2), bool)
        for k, m in enumerate(members):  # narrow tall pieces: is it half of a broken loop?
            y0, y1, x0, x1 = boxes[keep[m]]
            if tall[m] and x1 - x0 < 0.5 * H:
                halves[k] = opens_sideways(labels[y0:y1, x0:x1] == keep[m] + 1)
        groups = merge_pieces(ext, tall[members], H, halves)
        # a group of fragments only is dirt, unless it is a small closed loop (a 0 written small)
        groups = [g for g in groups if tall[members[g]].any()
                  or (len(g) == 1 and small_loop(labels, boxes[keep[members[g[0]]]], keep[members[g[0]]] + 1, H))]
        groups.sort(key=lambda g: float(np.mean([(u0[members[k]] + u1[members[k]]) / 2 for k in g])))
        for g in groups:
            ids = keep[members[g]] + 1
            gb = boxes[ids - 1]
            y0, y1, x0, x1 = gb[:, 0].min(), gb[:, 1].max(), gb[:, 2].min(), gb[:, 3].max()
            mask = np.isin(labels[y0:y1, x0:x1], ids)
            main = gb[np.argmax(areas[ids - 1])]
            my, mx = 0.15 * (main[1] - main[0]), 0.15 * (main[3] - main[2])
            enclosed = int(((gb[:, 0] > main[0] + my) & (gb[:, 1] < main[1] - my) & (gb[:, 2] > main[2] + mx)
                            & (gb[:, 3] < main[3] - mx)).sum())
            options = [(PIECE, [])]
            if (x1 - x0) > SPLIT_FROM * H:
                options = alternatives(mask, H)
            alts, costs, cut_lists = [], [], []
            for cost, cuts in options:
                alt = cut_digits(mask, (int(y0), int(x0)), cuts, li, len(ids), enclosed)
                if alt:
                    alts.append(alt)
                    cut_lists.append(list(cuts))
                    if len(alt) > 1:  # cut pieces must be digit-tall
                        cost += SHORT * sum((d.box[1] - d.box[0]) < FRAGMENT * H for d in alt)
                    costs.append(cost)
            groups_out.append(Group(alts, costs, int(np.argmin(costs)), mask, (int(y0), int(x0)), cut_lists))
    return Layout(groups_out, H, angle, n_printed, found.alone, found.cap, marks, like)
