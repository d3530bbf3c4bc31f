"""Cleaning a photographed page before its digits are cut out: flatten the light, find the ink, threshold it.

A phone photo of a number is not a scan. The paper is brighter on one side than the other, darker in the corners
(vignette), crossed by the soft shadow of a hand or a phone; a chalkboard is the other way round (light ink on a dark,
hazy board). Any fixed grey level that separates ink from paper in one part of such a picture fails in another.
So, as a scanner's software does:

1. **Background.** The paper (or board) level is estimated on a coarse grid from a high (or low) percentile of each
   block of a shrunk copy, outlier blocks are replaced by their neighbours' level and the grid is smoothed and
   stretched back over the picture. Blocks are a few stroke widths wide, so a shadow's soft edge is followed but a
   stroke is never taken for background.
2. **Polarity.** Ink covers little of a picture of a number, so the median grey is the background's: light paper
   means dark ink, a dark board chalk; in between, the strong rare deviations from the background tell.
3. **Flattening.** Each pixel's contrast is its relative difference from the local background
   (``(bg - v) / bg`` for dark ink, ``(v - bg) / bg`` for light ink): illumination multiplies paper and ink alike,
   so a digit in a shadow has the same contrast as one in full light.
4. **Threshold.** Global on the flattened picture (it has no gradient left), relative to the ink's own level and
   never below the noise: hysteresis keeps every pixel above a low threshold that is connected to one above a
   high threshold, so faint parts of a stroke stay attached while isolated noise goes. On paper a faint pencil
   differs from the paper by 6-10 %, so ink may be that faint, except where the light changes fast (a shadow's
   edge, which the block background lags behind): there 12 %, as on a board (:func:`paper_floor`).
5. **Rules.** Printed lines (ruled or squared paper, a margin) are taken out of the ink (:mod:`.rules`), and
   looked for again among the faint ink: a light grid below the threshold is no faint digit either.
6. **Faint lines.** Where a faint stroke goes on from the ink found (a pencil pressed lightly, a glare on a marker),
   the ink is grown along it: a line as wide as the strokes, which grain and shadows are not (:mod:`.stroke_scale`).
7. **Gaps.** Faint gaps that break one stroke into dashes (a pencil's grain, a marker's streaks, a glare) are
   filled where faint ink joins two pieces (:func:`bridge_gaps`).

Everything is whole-array NumPy/SciPy; the picture is worked on at most :data:`WORK_SIDE` px on its long side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from mnist_studio.data.rules import cut_rule_stubs, remove_rules
from mnist_studio.data.stroke_scale import grow_along_lines

WORK_SIDE = 1024  # long side of the working copy: digits in a phone photo are still 60+ px tall at this size
SMALL_SIDE = 256  # long side of the copy on which the background is estimated
BLOCK = 8  # background block side on the small copy (px)
MIN_CONTRAST = 0.12  # ink must differ from its local background by at least 12 % of it (chalk on a board)
PAPER_CONTRAST = 0.07  # dark ink on paper: a faint pencil's strokes differ by 6-10 % ...
STEEP = 0.5  # ... but by 12 % where the light changes fast (a shadow's edge): + this × its change over a block
SIGNIFICANT, WEAK = 5.0, 3.0  # noise levels beyond which a difference is ink (seeds), or may be (grown from seeds)
MIN_INK_PIXELS = 12  # fewer ink pixels than this (on the working copy) is a blank picture
MIN_SIDE = 4  # px: a picture thinner than this (on the working copy) is blank
LIGHT_PAPER, DARK_BOARD = 0.5, 0.3  # a picture whose median is above (below) this is paper (a board)
DOT_FILL = 0.6  # a region filling this much of its box, about as wide as tall, is a dot, not a stroke
DENOISE = 0.8  # Gaussian sigma (px of the working copy) taken off the noise before thresholding
NOISY = 0.008  # pixel-to-pixel noise (grey levels) above which the picture is smoothed
HAZE = True  # on a board, strokes grow only where they stand out from the haze beside them (threshold())
BG_FLOOR = 0.08  # the background level divided by is never below this (pure black backgrounds)
FAINT_RULES = 0.2  # printed lines are also looked for among ink this faint (× the ink's level) ...
RULE_STUBS = 4.0  # ... and their stretches in the ink this many stroke widths from the writing go (0: off)
BRIDGE = 0.15  # a gap in a stroke is bridged by ink this faint (× the ink's level) ...
BRIDGE_SMOOTH = 1.0  # ... on a copy smoothed this much (Gaussian sigma, px of the working copy) ...
BRIDGE_NOISE = 2.0  # ... beyond this × that copy's noise ...
BRIDGE_REACH = 0.5  # ... within this × the stroke width of the ink


@dataclass
class Cleaned:
    """A picture prepared for segmentation (all arrays at the working size, ``scale`` × the picture's).

    ``gray``: 0 = black, 1 = white; ``background``: the estimated paper/board level; ``ink``: flattened ink,
    0 = background, 1 = the ink's typical strength (0 along printed lines); ``binary``: the thresholded ink;
    ``threshold``: the low hysteresis threshold on ``ink``; ``light_on_dark``: chalk-on-board polarity; ``noise``:
    the picture's noise level in grey levels.
    """

    gray: np.ndarray
    scale: float
    background: np.ndarray
    ink: np.ndarray
    binary: np.ndarray
    threshold: float
    light_on_dark: bool
    noise: float
    rules: np.ndarray | None = None  # printed lines taken out of ``binary`` (ruled or squared paper)
    level: float = 0.0  # the ink's typical contrast, which ``ink`` is divided by

    @property
    def blank(self) -> bool:
        return not self.binary.any()


def resize_float(img: np.ndarray, height: int, width: int, resample=Image.Resampling.BILINEAR) -> np.ndarray:
    """Resize a float image with Pillow (mode F); ``BOX`` averages areas when shrinking."""
    if img.shape == (height, width):
        return img.astype(np.float32, copy=False)
    return np.asarray(Image.fromarray(np.ascontiguousarray(img, dtype=np.float32), "F").resize(
        (max(1, width), max(1, height)), resample), dtype=np.float32)


def working_copy(gray: np.ndarray, max_side: int = WORK_SIDE) -> tuple[np.ndarray, float]:
    """The picture shrunk by a whole factor (mean of k×k blocks) so its long side is at most ``max_side``;
    (copy, scale). Whole factors keep it fast and the boxes exact."""
    gray = np.asarray(gray, dtype=np.float32)
    h, w = gray.shape
    k = -(-max(h, w) // max_side)
    if k <= 1:
        return gray, 1.0
    hk, wk = h // k, w // k
    total = np.zeros((hk, wk), np.float32)
    for dy in range(k):  # k² strided views: much faster than a mean over a reshaped 4-D view
        for dx in range(k):
            total += gray[dy:hk * k:k, dx:wk * k:k]
    return total / np.float32(k * k), 1.0 / k


def _block_grid(small: np.ndarray, block: int, q: float) -> np.ndarray:
    """The ``q``-th percentile of each ``block``×``block`` block (edge blocks padded by reflection)."""
    h, w = small.shape
    gh, gw = -(-h // block), -(-w // block)
    padded = np.pad(small, ((0, gh * block - h), (0, gw * block - w)), mode="reflect" if min(h, w) > 1 else "edge")
    blocks = padded.reshape(gh, block, gw, block).transpose(0, 2, 1, 3).reshape(gh, gw, block * block)
    return np.percentile(blocks, q, axis=2).astype(np.float32)


def estimate_background(gray: np.ndarray, q: float = 50.0, light_on_dark: bool | None = None,
                        stroke: float = 0.0) -> np.ndarray:
    """The paper/board level under every pixel of ``gray``.

    ``q``: the percentile taken in each block (50: polarity-blind; for dark ink a high one, so strokes count as
    outliers; for light ink a low one). Then the grid is cleaned: for a known polarity a grey closing (dark ink)
    or opening (light ink) over 3×3 blocks removes blocks still dominated by a fat stroke (over more blocks when
    ``stroke``, the strokes' width in ``gray``'s pixels, says they are fatter); a 3×3 median removes single odd
    blocks; a light blur avoids block edges. Returned at ``gray``'s size.
    """
    h, w = gray.shape
    k = min(1.0, SMALL_SIDE / max(h, w))
    small = resize_float(gray, max(1, round(h * k)), max(1, round(w * k)), Image.Resampling.BOX)
    block = max(2, min(BLOCK, min(small.shape) // 2))
    grid = _block_grid(small, block, q)
    if min(grid.shape) >= 3:
        size = max(3, 2 * int(np.ceil(2.0 * stroke * k / block)) + 1)
        if light_on_dark is False:
            grid = ndimage.grey_closing(grid, size=size, mode="nearest")
        elif light_on_dark is True:
            grid = ndimage.grey_opening(grid, size=size, mode="nearest")
        grid = ndimage.median_filter(grid, size=3, mode="nearest")
        grid = ndimage.gaussian_filter(grid, 0.7, mode="nearest")
    return resize_float(grid, h, w, Image.Resampling.BICUBIC if min(grid.shape) >= 4 else Image.Resampling.BILINEAR)


def robust_sigma(values: np.ndarray) -> float:
    """Noise level from the median absolute deviation (ink is a minority and does not move it)."""
    v = values.ravel()[:: max(1, values.size // 50_000)]
    return float(1.4826 * np.median(np.abs(v - np.median(v))))


def detect_polarity(gray: np.ndarray) -> bool:
    """True for light ink on a dark background (chalkboard, white on black), False for dark ink on paper.

    Ink covers a small part of a picture of a number, so the picture's median is its background: paper (however
    unevenly lit) is light, a board dark. Only in between (a dim photo of paper, a grey board) does the ink decide:
    against a polarity-blind background (block medians), dark ink gives strong rare dark deviations, chalk light
    ones.
    """
    level = float(np.median(gray.ravel()[:: max(1, gray.size // 50_000)]))
    if level >= LIGHT_PAPER:
        return False
    if level <= DARK_BOARD:
        return True
    r = gray - estimate_background(gray, 50.0)
    sigma = max(robust_sigma(r), 0.01)
    return float(np.clip(r - 3 * sigma, 0, None).sum()) > float(np.clip(-r - 3 * sigma, 0, None).sum())


def contrast(gray: np.ndarray, background: np.ndarray, light_on_dark: bool) -> tuple[np.ndarray, np.ndarray]:
    """(difference from the local background, ink positive, in grey levels; the same relative to the background).

    The difference is re-centred on its median: the background estimate sits at a high (low) percentile of the
    paper's (board's) noise, and without the shift noise would start out a fraction of a noise level "inky"."""
    diff = (gray - background) if light_on_dark else (background - gray)
    diff = diff - np.float32(np.median(diff.ravel()[:: max(1, diff.size // 50_000)]))
    return diff, diff / np.maximum(background, BG_FLOOR)


def hysteresis(weak: np.ndarray, strong: np.ndarray) -> np.ndarray:
    """The ``weak`` pixels that belong to a connected region of them holding at least one ``strong`` pixel."""
    labels, n = ndimage.label(weak, structure=np.ones((3, 3), bool))
    if n == 0:
        return weak
    keep = np.zeros(n + 1, bool)
    keep[np.unique(labels[strong & weak])] = True
    keep[0] = False
    return keep[labels]


def ink_level(c: np.ndarray, candidates: np.ndarray) -> float:
    """The ink's typical contrast: the 90th percentile over the candidate regions that do not touch the picture's
    border. A large area at the border (the desk beside the sheet, the board's frame) would otherwise set the bar
    above a faint pencil's strokes; if every region touches the border (a tight crop), all count."""
    regions, n = ndimage.label(candidates, structure=np.ones((3, 3), bool))
    edge = np.unique(np.concatenate([regions[0], regions[-1], regions[:, 0], regions[:, -1]]))
    inner = regions > 0
    inner &= ~np.isin(regions, edge[edge > 0])
    # nor do dots (dust, a pen's blot: small, round and filled, far darker than a pencil's strokes)
    areas = np.bincount(regions.ravel(), minlength=n + 1)
    dots = np.zeros(n + 1, bool)
    for i, sl in enumerate(ndimage.find_objects(regions)):  # over regions, not pixels
        hh, ww = sl[0].stop - sl[0].start, sl[1].stop - sl[1].start
        dots[i + 1] = areas[i + 1] > DOT_FILL * hh * ww and max(hh, ww) < 2.0 * min(hh, ww) + 2
    if (inner & ~dots[regions]).sum() >= MIN_INK_PIXELS:
        inner &= ~dots[regions]
    values = c[inner] if inner.sum() >= MIN_INK_PIXELS else c[regions > 0]
    return float(np.percentile(values, 90))


def clean_page(gray: np.ndarray, max_side: int = WORK_SIDE, exclude: np.ndarray | None = None) -> Cleaned:
    """Background, polarity, flattening and threshold for a grey picture (0 = black, 1 = white), any size.

    A pixel is ink when it differs from its background both significantly (beyond the picture's noise: sensor
    noise is about constant in grey levels, so this is judged on the plain difference) and by a real share of the
    background (judged on the relative contrast, which a shadow does not change). ``exclude`` (working-copy pixels,
    e.g. printed text found by a first reading) does not count toward the ink's level."""
    work, scale = working_copy(gray, max_side)
    work = np.clip(np.nan_to_num(work), 0.0, 1.0)
    if min(work.shape) < MIN_SIDE:  # a strip a few pixels thin holds no digit (nor a slope to measure the light by)
        empty = np.zeros(work.shape, np.float32)
        return Cleaned(work, scale, work.copy(), empty, empty.astype(bool), MIN_CONTRAST, False, 0.0)
    # sensor noise and paper grain vary from pixel to pixel, strokes are a few pixels wide: a slight blur lowers
    # the noise (and with it the bar a faint pencil must clear) far more than the strokes' contrast
    # (only on a noisy picture: a clean one would lose a little contrast for nothing)
    smooth = ndimage.gaussian_filter(work, DENOISE, mode="nearest")
    if robust_sigma(work - smooth) > NOISY:
        work = smooth
    light = detect_polarity(work)
    background = estimate_background(work, 20.0 if light else 80.0, light_on_dark=light)
    found = threshold(work, background, light, exclude)
    # Strokes wider than a background block (a fat marker on a small picture) partly count as background: measure
    # them and estimate the background again with a wide enough closing.
    # The first binary may hold only the thin remains of such strokes: twice at most, while they get wider.
    stroke, k = 0.0, min(1.0, SMALL_SIDE / max(work.shape))
    for _ in range(2):
        wider = rough_stroke_width(found.binary)
        if wider * k <= 0.6 * BLOCK or wider <= stroke * 1.1:
            break
        stroke = wider
        background = estimate_background(work, 20.0 if light else 80.0, light_on_dark=light, stroke=stroke)
        found = threshold(work, background, light, exclude)
    found.scale = scale
    return _finish(found)


def clean_again(first: Cleaned, exclude: np.ndarray) -> Cleaned:
    """``first``'s picture thresholded again with the pixels ``exclude`` left out of the ink's level (printed
    words found by a first reading, see :func:`.picture.read_picture`). The background, the polarity and the
    denoised copy are ``first``'s: only the threshold depends on the ink's level, and estimating the rest again
    doubled the time of a page with print."""
    found = threshold(first.gray, first.background, first.light_on_dark, exclude)
    found.scale = first.scale
    return _finish(found)


def _finish(found: Cleaned) -> Cleaned:
    """The thresholded ink of :func:`clean_page` without its printed lines, and with faint strokes grown and
    bridged (see there)."""
    diff, strength = contrast(found.gray, found.background, found.light_on_dark)  # (``ink``: clipped at the level)
    found.binary, found.rules = remove_rules(found.binary, found.ink, strength=strength)
    if found.binary.any():
        # Printed lines too faint to pass the threshold (a light grid, a margin's fringe) are still ink to the
        # faint-digit search (``ink`` > 0.2) and the gap bridging below: they are looked for among the faint ink
        # too, and the ink along every printed line is set to nothing (a grid square is no faint digit).
        # (with the strokes' own contrast: a dark pen stroke on a faint line, a 9's stem on a grid, is none of it)
        _, faint_rules = remove_rules((found.ink > FAINT_RULES) | found.binary, found.ink, grainy=True,
                                      strength=strength if RULE_STUBS else None)
        if RULE_STUBS:  # (the stretches of those lines dark enough to pass the threshold, away from the writing)
            found.binary = cut_rule_stubs(found.binary, faint_rules, RULE_STUBS * rough_stroke_width(found.binary))
        found.rules |= faint_rules & ~found.binary
        if found.rules.any():
            near_rule = ndimage.maximum_filter(found.rules.view(np.uint8), size=5).astype(bool)
            found.ink = np.where(near_rule & ~found.binary, np.float32(0), found.ink)
        # a faint stroke is still a line as wide as the others: grow the ink along such lines (stroke_scale.py)
        found.binary = grow_along_lines(found.binary, found.ink, rough_stroke_width(found.binary), found.rules)
        found.binary = bridge_gaps(found.binary, found.ink, diff)
    return found


def rough_stroke_width(binary: np.ndarray) -> float:
    """2 × ink area / boundary pixels: a quick stroke width (exact for straight strokes, up to 1.4× high for
    diagonal ones), enough to size the background's closing."""
    area = int(binary.sum())
    if area == 0:
        return 0.0
    cross = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool)
    edge = int((binary & ~ndimage.binary_erosion(binary, structure=cross)).sum())
    return 2.0 * area / max(edge, 1)


def paper_floor(background: np.ndarray) -> np.ndarray:
    """The least contrast that may be ink on paper, pixel by pixel: :data:`PAPER_CONTRAST` where the light is
    even, up to :data:`MIN_CONTRAST` where it changes fast (the background estimated on blocks lags behind a
    shadow's sharp edge, and the lag looks like faint ink along it)."""
    block = BLOCK * max(1.0, max(background.shape) / SMALL_SIDE)  # a background block's side here
    gy, gx = np.gradient(np.log(np.maximum(background, BG_FLOOR)))
    return np.minimum(MIN_CONTRAST, PAPER_CONTRAST + STEEP * np.hypot(gy, gx) * np.float32(block)).astype(np.float32)


def threshold(work: np.ndarray, background: np.ndarray, light: bool, exclude: np.ndarray | None = None) -> Cleaned:
    """Flatten and threshold ``work`` against ``background`` (see :func:`clean_page`); ``scale`` left at 1."""
    diff, c = contrast(work, background, light)
    sigma = max(robust_sigma(diff), 0.002)
    floor = MIN_CONTRAST if light else paper_floor(background)
    candidates = (c > floor) & (diff > SIGNIFICANT * sigma)
    if candidates.sum() < MIN_INK_PIXELS:
        empty = np.zeros(work.shape, np.float32)
        return Cleaned(work, 1.0, background, empty, empty.astype(bool), MIN_CONTRAST, light, sigma)
    if exclude is not None and (candidates & ~exclude).sum() >= MIN_INK_PIXELS:
        candidates_for_level = candidates & ~exclude
    else:
        candidates_for_level = candidates
    level = ink_level(c, candidates_for_level)
    # Seeds at half the ink's level, growth down to 30 %: lower (tried: a third and a fifth, with an 8 % floor)
    # found fainter pencil digits but took more of a sharp shadow's edge and a chalkboard's haze for ink.
    high = np.maximum(0.5 * level, floor)
    low = np.maximum(0.3 * level, 0.75 * floor)
    strong = (c > high) & (diff > SIGNIFICANT * sigma)
    weak = (c > low) & (diff > WEAK * sigma)
    if light and HAZE:
        # A board's haze (chalk wiped off, smudges) is broad and smooth, a stroke narrow: the strokes' growth
        # goes only where the ink stands out from the haze beside it (a top-hat several stroke widths wide).
        # (Tried and not kept: the haze taken out of ``ink`` too, for the faint-ink searches after this (it lost
        # the faint ends of chalk strokes), or for the faint lines grown from the strokes only (as many lost as won).)
        weak &= (c - haze_level(c, 3.0 * rough_stroke_width(strong))) > low
    binary = hysteresis(weak, strong)
    ink = np.clip(c / level, 0.0, 1.0)
    return Cleaned(work, 1.0, background, ink, binary, float(np.median(low)) / level, light, sigma, level=level)


def haze_level(c: np.ndarray, side: float) -> np.ndarray:
    """The broad part of the contrast ``c``: a grey opening ``side`` px wide (whatever is narrower, a stroke, is
    taken off), worked out on a copy half the size (haze is smooth; the opening's cost grows with its width)."""
    h, w = c.shape
    if side < 6 or min(h, w) < 8:
        return ndimage.grey_opening(c, size=(max(1, int(side) | 1),) * 2)
    small = resize_float(c, -(-h // 2), -(-w // 2), Image.Resampling.BOX)
    opened = ndimage.grey_opening(small, size=(int(side / 2) | 1,) * 2)
    return np.minimum(resize_float(opened, h, w, Image.Resampling.BILINEAR), c)


def bridge_gaps(binary: np.ndarray, ink: np.ndarray, diff: np.ndarray) -> np.ndarray:
    """``binary`` with the faint gaps that part pieces of one stroke filled in.

    A pencil's grain, a drying marker's streaks or a glare break a stroke into dashes a few pixels apart, each
    read as a digit or a fragment. Near the ink (within half a stroke width), ink much fainter than the threshold
    (:data:`BRIDGE` × the ink's level, both as it is and on a copy smoothed at a stroke's scale, where it must also
    stand :data:`BRIDGE_NOISE` × that copy's noise above the paper) is taken where a blob of it touches two or
    more pieces: it joins them and adds nothing else, so faint noise beside a stroke does not fatten it, noise
    between specks is not taken unless it bridges, and two strokes a pixel apart with clean paper between them
    (touching digits, a pupil in an eye) stay apart. A printed line's pixels (zero ``ink``, see
    :func:`clean_page`) bridge nothing."""
    width = rough_stroke_width(binary)
    reach = max(1, int(round(BRIDGE_REACH * width)))
    near = ndimage.maximum_filter(binary.view(np.uint8), size=2 * reach + 1).astype(bool)
    smooth_ink = ndimage.gaussian_filter(ink, BRIDGE_SMOOTH, mode="nearest")
    diff = ndimage.gaussian_filter(diff, BRIDGE_SMOOTH, mode="nearest")
    faint = near & ~binary & (smooth_ink > BRIDGE) & (diff > BRIDGE_NOISE * max(robust_sigma(diff), 0.001))
    faint &= ink > BRIDGE  # (faint ink really there: not only the blur of two strokes a pixel or two apart)
    gaps, n_gaps = ndimage.label(faint, structure=np.ones((3, 3), bool))
    if n_gaps == 0:
        return binary
    pieces, _ = ndimage.label(binary, structure=np.ones((3, 3), bool))
    # (gap, piece) pairs where a gap's pixel is next to a piece's: the pieces each gap touches
    beside = ndimage.maximum_filter(gaps, size=3)[binary]
    pairs = np.unique(np.stack([beside, pieces[binary]], axis=1), axis=0)
    pairs = pairs[pairs[:, 0] > 0]
    bridges = np.bincount(pairs[:, 0], minlength=n_gaps + 1) >= 2
    bridges[0] = False
    return binary | bridges[gaps]
