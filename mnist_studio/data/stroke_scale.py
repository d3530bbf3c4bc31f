"""Ink found as lines at the strokes' own scale: the faint parts of a pencil's or a worn marker's strokes.

A threshold judges each pixel by its own contrast. A pencil's stroke is grainy: along it, runs of pixels fall below
any threshold that noise does not cross, so the stroke reads as dashes (extra digits, fragments) or is lost where
the hand pressed lightly; a whiteboard's glare or a drying marker does the same to a marker's stroke. What the eye
uses instead is shape: a faint stroke is a *line*, a narrow ridge of ink as wide as the other strokes, which grain
(round specks) and a shadow (wide and smooth) are not.

The Hessian of the ink map, smoothed at the strokes' own scale, measures that: across a line the ink's second
derivative is strongly negative, along it about zero (Steger's and Frangi's line detectors rest on the same
eigenvalues). Its strength is judged against the same measure on the ink already found (what a real stroke gives
here) and on the paper (what grain gives). Lines are kept only where they continue the ink found: between two of
its pieces (a stroke broken into dashes), or on from one piece for a few stroke widths at least (a 7's bar written
lightly, the faint rim of a marker's stroke that a glare thinned), not a stub where a faint grid line crosses a
digit. Printed rules are kept out by the caller (zero ink along them); where a rule's faint continuation was not
recognised as a rule, it still runs in a rule's direction, and no faint line in that direction is taken on a page
with printed lines (a faint bar on ruled paper stays as it was).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

LINE_SIGMA = 0.5  # Gaussian scale of the line measure, × the strokes' width (a bar's profile fits about w/2)
MIN_SIGMA = 1.0  # px of the working copy: below it the measure is the pixels' own noise
LINE_LEVEL = 0.15  # a faint line must reach this × a found stroke's line strength ...
LINE_NOISE = 1.0  # ... and this × the strength 1 % of the paper's pixels reach (grain, noise) ...
FAINT_INK = 0.12  # ... over ink at least this faint (× the ink's level): no line made of the paper's grain
ANISOTROPY = 2.0  # and be a line, not a blob: its across-curvature this × its along-curvature or more
TAIL = 3.0  # a line leaving one piece of ink is kept if it runs on this × the stroke width
RULE_ANGLE = np.deg2rad(12.0)  # on ruled paper, no faint line within this of a printed rule's direction
MIN_RULE = 20  # px: a printed-line piece shorter than this gives no reliable direction
GRAIN = 5.0  # faint ink counts where its stroke-wide mean passes the paper's (grain) by this × that mean's spread


def line_strength(ink: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(how strongly each pixel lies on a line of ink about 2·sigma wide, how strongly it is a crest along that
    line as well, the unit direction across the line as (dy, dx)): the Hessian's eigenvalues and eigenvector of
    ``ink`` smoothed by ``sigma``, scale-normalised by sigma², negative curvature counted positive."""
    # one Gaussian, then central differences: a third of the cost of three derivative-of-Gaussian filters, and
    # the same eigenvalues to within a few per cent at these scales (sigma >= 1 px)
    smooth = ndimage.gaussian_filter(np.asarray(ink, np.float32), sigma, mode="nearest")
    gy, gx = np.gradient(smooth)
    hyy, hxy = np.gradient(gy)
    hxx = np.gradient(gx, axis=1)
    half_trace = 0.5 * (hxx + hyy)
    root = np.sqrt(0.25 * (hxx - hyy) ** 2 + hxy ** 2)
    low = half_trace - root  # the most negative eigenvalue: ink rises to a crest across the line
    s2 = np.float32(sigma * sigma)
    across = np.clip(-low, 0.0, None) * s2
    # a crest along the line too is a blob (a line's own ends and its faint stretches between darker ones curve up
    # along it, which is no sign of a blob)
    along = np.clip(-(half_trace + root), 0.0, None) * s2
    # eigenvector of ``low``: (hxy, low - hxx) in (x, y), or (low - hyy, hxy) where that one degenerates
    vx, vy = hxy, low - hxx
    flat = np.hypot(vx, vy) < 1e-12
    vx, vy = np.where(flat, low - hyy, vx), np.where(flat, hxy, vy)
    norm = np.maximum(np.hypot(vx, vy), 1e-12)
    return across.astype(np.float32), along.astype(np.float32), np.stack([vy / norm, vx / norm])


def line_strength_coarse(ink: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`line_strength` of a thick stroke's ink measured on a copy shrunk by block means, so that the
    smoothing there is 1-2 px, and given back pixel by pixel at the full size: a marker's lines are as well
    measured and the Gaussian of a 40 px wide chalk stroke no longer costs a 160 px kernel on every pixel."""
    h, w = ink.shape
    k = max(1, min(int(sigma // 2), h // 3, w // 3))  # (the shrunk copy keeps 3 px a side for its differences)
    if k == 1:
        return line_strength(ink, sigma)
    padded = np.pad(ink, ((0, -h % k), (0, -w % k)), mode="edge")
    small = padded.reshape(padded.shape[0] // k, k, padded.shape[1] // k, k).mean(axis=(1, 3))
    across, along, direction = line_strength(small, sigma / k)

    def full(a: np.ndarray) -> np.ndarray:
        return np.repeat(np.repeat(a, k, axis=-2), k, axis=-1)[..., :h, :w]

    return full(across), full(along), full(direction)


def rule_directions(rules: np.ndarray | None) -> np.ndarray:
    """The directions (radians, modulo pi) of the printed lines' pieces at least :data:`MIN_RULE` px long."""
    if rules is None or not rules.any():
        return np.zeros(0)
    labels, n = ndimage.label(rules, structure=np.ones((3, 3), bool))
    angles = []
    for i, sl in enumerate(ndimage.find_objects(labels)):  # over pieces of printed line, not pixels
        if max(sl[0].stop - sl[0].start, sl[1].stop - sl[1].start) < MIN_RULE:
            continue
        ys, xs = np.nonzero(labels[sl] == i + 1)
        cov = np.cov(np.stack([xs, ys]).astype(np.float64))
        angles.append(0.5 * np.arctan2(2 * cov[0, 1], cov[0, 0] - cov[1, 1]))
    return np.mod(np.asarray(angles), np.pi)


def grow_along_lines(binary: np.ndarray, ink: np.ndarray, width: float,
                     rules: np.ndarray | None = None) -> np.ndarray:
    """``binary`` with the faint lines that continue its strokes added (see the module's docstring).

    ``ink``: the flattened ink (1 = the ink's typical strength, 0 = paper and printed rules); ``width``: the
    strokes' width in px; ``rules``: the printed lines found on the page, if any."""
    if not binary.any() or width <= 0 or min(binary.shape) < 3:  # (a picture 1-2 px thin holds no line across)
        return binary
    sigma = max(MIN_SIGMA, LINE_SIGMA * width)
    across, along, direction = line_strength_coarse(ink, sigma)
    found = across[binary]
    level = float(np.percentile(found, 75))
    paper = ~ndimage.maximum_filter(binary.view(np.uint8), size=int(4 * sigma) + 3).astype(bool)
    on_paper = across[paper][:: max(1, int(paper.sum()) // 100_000)]
    noise = float(np.percentile(on_paper, 99)) if on_paper.size else 0.0
    bar = max(LINE_LEVEL * level, LINE_NOISE * noise, 1e-6)
    faint = (across > bar) & (across > ANISOTROPY * along) & (ink > FAINT_INK) & ~binary
    eight = np.ones((3, 3), bool)
    lines, n = ndimage.label(faint, structure=eight)
    if n == 0:
        return binary
    pieces, _ = ndimage.label(binary, structure=eight)
    # the pieces each line touches (within half a stroke width: where a faint line meets a stroke, the stroke's
    # own ridge bends the crest away for a pixel or two), and how far each line runs
    reach = max(1, int(round(0.5 * width)))
    beside = ndimage.maximum_filter(lines, size=2 * reach + 1)[binary]
    pairs = np.unique(np.stack([beside, pieces[binary]], axis=1), axis=0)
    pairs = pairs[pairs[:, 0] > 0]
    touches = np.bincount(pairs[:, 0], minlength=n + 1)
    extent = np.zeros(n + 1)
    for i, sl in enumerate(ndimage.find_objects(lines)):  # over lines, not pixels
        extent[i + 1] = max(sl[0].stop - sl[0].start, sl[1].stop - sl[1].start)
    keep = (touches >= 2) | ((touches == 1) & (extent >= TAIL * width))
    ruled = rule_directions(rules)
    if ruled.size:
        # each line's direction: the mean of its pixels' directions along it, on doubled angles (modulo pi)
        theta = 2 * np.arctan2(direction[1], -direction[0])[faint]  # along = across turned by 90 degrees
        idx = lines[faint]
        c, s = np.bincount(idx, np.cos(theta), n + 1), np.bincount(idx, np.sin(theta), n + 1)
        line_angle = np.mod(0.5 * np.arctan2(s, c), np.pi)
        off = np.abs(line_angle[:, None] - ruled[None, :])
        keep &= ~(np.minimum(off, np.pi - off) < RULE_ANGLE).any(axis=1)
    keep[0] = False
    kept = keep[lines]
    if not kept.any():
        return binary
    # and the faint ink around them, a stroke's half-width wide (this also closes the pixel or two between a
    # line's end and the stroke it meets)
    # (a distance transform over the lines' box: a dilation by a thick marker's half-width took 0.4 s)
    ys, xs = np.nonzero(kept)
    box = (slice(max(0, ys.min() - reach), ys.max() + reach + 1), slice(max(0, xs.min() - reach), xs.max() + reach + 1))
    body = np.zeros_like(binary)
    body[box] = (ndimage.distance_transform_edt(~kept[box]) <= reach + 0.25) & (ink[box] > FAINT_INK)
    return binary | kept | body


def above_grain(ink: np.ndarray, binary: np.ndarray, width: float) -> np.ndarray:
    """``ink`` where its mean over a square a stroke wide (``width`` px) stands above what the paper's grain
    reaches there (:data:`GRAIN` × the spread of that mean away from the ink found, ``binary``), 0 elsewhere.

    A grainy photo (a pencil under a dim vignette, a high ISO) is full of faint specks as strong as a light
    pencil's stroke pixel by pixel; over a stroke's width the specks average out to a low grey, and the stroke,
    continuous, does not. Without this, specks a few pixels apart join into digit-sized blobs (read as extra
    digits) and swallow a faint digit lying among them."""
    side = max(3, int(round(width)) | 1)
    mean = ndimage.uniform_filter(ink, side, mode="nearest")  # a box: the same cost at any stroke width
    paper = ~ndimage.maximum_filter(binary.view(np.uint8), size=int(4 * width) + 3).astype(bool)
    values = mean[paper][:: max(1, int(paper.sum()) // 100_000)]
    if not values.size:
        return ink
    # the grain's level and spread from the median and the median deviation: a faint digit among the paper's
    # pixels (it is not in the ink found) moves neither, as it would a high percentile on a small picture
    centre = float(np.median(values))
    spread = 1.4826 * float(np.median(np.abs(values - centre)))
    return np.where(mean > centre + GRAIN * spread, ink, np.float32(0))
