"""Handwriting styles MNIST rarely has, drawn into MNIST training digits, vectorised over the batch.

A network trained on MNIST alone reads the pad's American-looking digits well and real people's pen digits badly,
and the errors are *styles*, not noise: 9s whose stem ends in a hook curving to the left (like a "g") read as 3,
7s with a crossbar read as 2, 1s with a flag and a base read as 7. Generic distortions (elastic, affine, stroke
thickness) do not create those shapes, so this module draws them into the MNIST digits of the right class:

- :func:`hook_nines`: the 9's loop and stem are squeezed upwards and the stem continued by an arc that turns
  down and to the left, ending under the loop;
- :func:`cross_sevens`: a short, slightly tilted bar across the stem, halfway down;
- :func:`flag_ones`: a flag from the top of the stem down to the left, and on some a base across the foot.

Each new stroke is a polyline of points rendered as a round pen of the digit's own thickness (the ink's area over
its length, estimated per image) and merged with ``max``; the digit is then refitted to MNIST's recipe (longer side
20 px, centre of mass at the centre), because a hook or a flag changes the digit's extent. Everything works on
whole arrays of images at once (the selected digits of a batch); positions come from per-image ink statistics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mnist_studio.data.augment import SIZE, bilinear

BOX = 20.0  # MNIST's longer side of a digit, in pixels
INK = 0.3  # grey level counted as ink when measuring a digit
POINTS = 36  # points per planned stroke, under a pixel apart: every style plans as many, so one pass draws all
_ROWS, _COLS = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)


# -- measuring digits --------------------------------------------------------------------------------------------

def ink_extent(x: np.ndarray) -> tuple[np.ndarray, ...]:
    """(top, bottom, left, right) ink rows/columns of each N×28×28 image, inclusive, as float32 arrays."""
    mask = x > INK
    rows, cols = mask.any(axis=2), mask.any(axis=1)
    top = rows.argmax(axis=1)
    bottom = SIZE - 1 - rows[:, ::-1].argmax(axis=1)
    left = cols.argmax(axis=1)
    right = SIZE - 1 - cols[:, ::-1].argmax(axis=1)
    return tuple(a.astype(np.float32) for a in (top, bottom, left, right))


def row_centre(x: np.ndarray, row: np.ndarray, band: int = 1) -> np.ndarray:
    """The ink's mean column in rows ``row - band .. row + band`` of each image (the image's centre if empty)."""
    r = np.clip(np.round(row).astype(np.intp), 0, SIZE - 1)
    sel = np.abs(np.arange(SIZE)[None, :] - r[:, None]) <= band  # N×28 rows to use
    weights = (x * sel[:, :, None]).sum(axis=1)  # N×28 ink per column
    total = weights.sum(axis=1)
    centre = (weights @ np.arange(SIZE, dtype=np.float32)) / np.maximum(total, 1e-6)
    return np.where(total > 1e-3, centre, (SIZE - 1) / 2.0).astype(np.float32)


def stroke_radius(x: np.ndarray) -> np.ndarray:
    """Half the pen width of each digit: twice its ink over its outline. The outline is counted as the grey-level
    changes along rows and columns (a stroke of width w and length L has ink wL and changes about 2L), which
    reads a slanted stroke up to 30 % thin; 1.15 splits the difference."""
    area = x.sum(axis=(1, 2))
    outline = np.abs(np.diff(x, axis=1)).sum(axis=(1, 2)) + np.abs(np.diff(x, axis=2)).sum(axis=(1, 2))
    width = 1.15 * 2.0 * area / np.maximum(outline, 1e-6)
    return np.clip(width / 2.0, 0.6, 2.0).astype(np.float32)


# -- drawing and refitting ---------------------------------------------------------------------------------------

def draw_polylines(x: np.ndarray, points: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Add to each image a stroke through its K points (N×K×2, (x, y) in pixel units, dense enough that they are
    under a pixel apart), drawn as a round anti-aliased pen of ``radius`` (N); merged by maximum."""
    px = points[:, :, 0, None, None]
    py = points[:, :, 1, None, None]
    d2 = (_COLS[None, None] - px) ** 2 + (_ROWS[None, None] - py) ** 2  # N×K×28×28
    d = np.sqrt(d2.min(axis=1))
    ink = np.clip(radius[:, None, None] + 0.5 - d, 0.0, 1.0)
    return np.maximum(x, ink).astype(np.float32)


def segment(a: np.ndarray, b: np.ndarray, k: int = 16) -> np.ndarray:
    """K points evenly along the segments from a (N×2) to b (N×2): N×K×2."""
    t = np.linspace(0.0, 1.0, k, dtype=np.float32)[None, :, None]
    return (a[:, None, :] * (1 - t) + b[:, None, :] * t).astype(np.float32)


def refit(x: np.ndarray) -> np.ndarray:
    """MNIST's recipe again after a change of extent: the ink's longer side to 20 px, centre of mass centred.

    One bilinear resampling per image (scale about the ink box, then the shift that centres the mass)."""
    top, bottom, left, right = ink_extent(x)
    extent = np.maximum(bottom - top, right - left) + 1.0
    k = BOX / np.maximum(extent, 1.0)  # output pixels per input pixel
    cy, cx = (top + bottom) / 2.0, (left + right) / 2.0
    c = (SIZE - 1) / 2.0
    # output (u, v) reads input ((u - c) / k + cx, (v - c) / k + cy): the box centred; then centre the mass
    src_x = (_COLS[None] - c) / k[:, None, None] + cx[:, None, None]
    src_y = (_ROWS[None] - c) / k[:, None, None] + cy[:, None, None]
    out = bilinear(x, src_x, src_y)
    # full-strength ink again (resampling greys thin strokes), then a whole-pixel shift, as MNIST did: no more blur
    out = out / np.maximum(out.max(axis=(1, 2)), 1e-6)[:, None, None]
    total = np.maximum(out.sum(axis=(1, 2)), 1e-6)
    my = (out.sum(axis=2) @ np.arange(SIZE, dtype=np.float32)) / total
    mx = (out.sum(axis=1) @ np.arange(SIZE, dtype=np.float32)) / total
    return shift_whole(out, np.round(my - c).astype(np.intp), np.round(mx - c).astype(np.intp))


def shift_whole(x: np.ndarray, dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """Move each image by whole pixels: output (r, c) reads input (r + dy, c + dx), zero outside (one gather)."""
    n = len(x)
    p = SIZE  # a border as wide as the image: any shift that keeps some of it reads zeros, never wraps
    padded = np.zeros((n, 3 * SIZE, 3 * SIZE), np.float32)
    padded[:, p:p + SIZE, p:p + SIZE] = x
    dy = np.clip(dy, -SIZE, SIZE)[:, None, None]
    dx = np.clip(dx, -SIZE, SIZE)[:, None, None]
    index = ((_ROWS.astype(np.intp)[None] + dy + p) * 3 * SIZE + _COLS.astype(np.intp)[None] + dx + p).reshape(n, -1)
    return np.take_along_axis(padded.reshape(n, -1), index, axis=1).reshape(n, SIZE, SIZE)


# -- the styles --------------------------------------------------------------------------------------------------

def plan_hooked_nines(x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """9s whose stem ends in a hook to the left, like a "g", as people write them with a pen: the whole 9 is
    shrunk towards the top of its stem (a smaller loop, as a quick pen makes it), the stem continued straight in
    its own direction, then turned by an elliptic arc down and round to the left, often as far as under the loop,
    with the digit's own pen; then refitted."""
    n = len(x)
    top, bottom, left, right = ink_extent(x)
    height = bottom - top + 1.0
    shrink = rng.uniform(0.5, 0.85, n).astype(np.float32)
    ax = row_centre(x, top + 1.0)  # the anchor: the top of the 9, which stays where it is
    ax = np.maximum(ax, (left + right) / 2.0)
    src_x = ax[:, None, None] + (_COLS[None] - ax[:, None, None]) / shrink[:, None, None]
    src_y = top[:, None, None] + (_ROWS[None] - top[:, None, None]) / shrink[:, None, None]
    small = np.clip(bilinear(x, src_x, src_y) / shrink[:, None, None], 0.0, 1.0)  # thin strokes: ink again
    foot_y = top + shrink * (bottom - top) - 1.0
    foot_x = row_centre(small, foot_y)
    above = row_centre(small, foot_y - 0.35 * shrink * height)
    slope = np.clip((foot_x - above) / np.maximum(0.35 * shrink * height, 1.0), -0.6, 0.6)  # dx per dy
    drop = height * (1.0 - shrink) * rng.uniform(0.4, 0.9, n).astype(np.float32)  # the stem's straight part
    turn = np.stack([foot_x + slope * drop, foot_y + drop], axis=1)
    stem = segment(np.stack([foot_x, foot_y], axis=1), turn, POINTS // 3)
    rx = (height * rng.uniform(0.15, 0.32, n)).astype(np.float32)
    ry = (height * rng.uniform(0.08, 0.2, n)).astype(np.float32)
    end = np.deg2rad(rng.uniform(110.0, 220.0, n)).astype(np.float32)
    theta = np.linspace(0.0, 1.0, POINTS - POINTS // 3, dtype=np.float32)[None, :] * end[:, None]
    cx, cy = turn[:, 0] - rx, turn[:, 1]  # from 0 (straight down) through 90° (the bottom) to the left and up
    arc = np.stack([cx[:, None] + rx[:, None] * np.cos(theta), cy[:, None] + ry[:, None] * np.sin(theta)], axis=2)
    return small, np.concatenate([stem, arc], axis=1)


def plan_crossed_sevens(x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """7s with a crossbar: a short bar, slightly tilted, across the stem 40-60 % of the way down; refitted."""
    n = len(x)
    top, bottom, _, _ = ink_extent(x)
    height = bottom - top + 1.0
    row = top + height * rng.uniform(0.4, 0.6, n).astype(np.float32)
    stem = row_centre(x, row)
    reach_l = height * rng.uniform(0.12, 0.25, n).astype(np.float32)
    reach_r = height * rng.uniform(0.12, 0.25, n).astype(np.float32)
    tilt = rng.uniform(-0.15, 0.1, n).astype(np.float32)  # rising to the right, as a pen's bar usually does
    a = np.stack([stem - reach_l, row + tilt * reach_l], axis=1)
    b = np.stack([stem + reach_r, row - tilt * reach_r], axis=1)
    return x, segment(a, b, POINTS)


def plan_flagged_ones(x: np.ndarray, rng: np.random.Generator,
                      base_share: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """1s with a flag from the top of the stem down to the left, and on ``base_share`` of them a base across the
    foot; refitted."""
    n = len(x)
    top, bottom, _, _ = ink_extent(x)
    height = bottom - top + 1.0
    head = np.stack([row_centre(x, top + 0.5), top + 0.5], axis=1)
    # a short, steep flag: a long flat one is a 7's bar, and teaches MNIST's short-barred 7s to read as 1
    length = height * rng.uniform(0.15, 0.3, n).astype(np.float32)
    angle = np.deg2rad(rng.uniform(30.0, 65.0, n)).astype(np.float32)  # below the horizontal
    tip = head + np.stack([-np.cos(angle), np.sin(angle)], axis=1) * length[:, None]
    pts = segment(tip, head, POINTS // 2)
    foot_x = row_centre(x, bottom - 0.5)
    half = height * rng.uniform(0.12, 0.25, n).astype(np.float32)
    base = segment(np.stack([foot_x - half, bottom - 0.5], 1), np.stack([foot_x + half, bottom - 0.5], 1),
                   POINTS - POINTS // 2)
    has_base = rng.random(n) < base_share
    # without a base, the base's points collapse onto the flag's tip (drawn already): one array for all images
    base = np.where(has_base[:, None, None], base, tip[:, None, :])
    return x, np.concatenate([pts, base], axis=1)


def draw_plan(images: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Draw the planned strokes with each digit's own pen, then refit the digits to MNIST's recipe."""
    if len(images) == 0:
        return images
    return refit(draw_polylines(images, points, stroke_radius(images)))


def hook_nines(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return draw_plan(*plan_hooked_nines(x, rng)) if len(x) else x


def cross_sevens(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return draw_plan(*plan_crossed_sevens(x, rng)) if len(x) else x


def flag_ones(x: np.ndarray, rng: np.random.Generator, base_share: float = 0.5) -> np.ndarray:
    return draw_plan(*plan_flagged_ones(x, rng, base_share)) if len(x) else x


# each style: the class it belongs to and its planner (every plan has POINTS points per digit)
STYLES = {9: plan_hooked_nines, 7: plan_crossed_sevens, 1: plan_flagged_ones}


@dataclass(frozen=True)
class StyleSynthesis:
    """A training-batch augmentation: ``share`` of the batch's 9s, 7s and 1s get their style (each class its own
    share if ``shares`` is given); the other images are returned unchanged. Needs the labels."""

    share: float = 0.3
    shares: tuple[tuple[int, float], ...] = ()

    def __call__(self, x: np.ndarray, rng: np.random.Generator, y: np.ndarray | None = None) -> np.ndarray:
        if y is None:
            raise ValueError("style synthesis needs the batch's labels")
        shape = x.shape
        out = np.array(x, dtype=np.float32).reshape(-1, SIZE, SIZE)
        shares = dict(self.shares)
        pick = rng.random(len(out))
        where, images, points = [], [], []
        for label, plan in STYLES.items():  # a loop over the three styles, never over images
            chosen = np.flatnonzero((y == label) & (pick < shares.get(label, self.share)))
            if chosen.size:
                img, pts = plan(out[chosen], rng)
                where.append(chosen), images.append(img), points.append(pts)
        if where:  # one drawing and one refit for every styled digit of the batch
            out[np.concatenate(where)] = draw_plan(np.concatenate(images), np.concatenate(points))
        return out.reshape(shape)
