"""Turning a drawing or a picture into what an MNIST network expects.

MNIST's own recipe: each digit was scaled so its longer side fits a 20×20 box (aspect kept, grey levels from
anti-aliasing), then placed in a 28×28 image so that its centre of mass sits at the centre. Drawings that skip this
(off-centre, small, thin, the wrong colour) are what most demos misread.

Two entry points share that recipe:

- :func:`preprocess_strokes` for the drawing pad: the strokes are kept as points and *re-rendered* at the final
  scale with an MNIST-like pen (about 2.5 px wide after scaling), so a digit drawn small or large, thin or thick,
  gets the same stroke thickness the network saw in training.
- :func:`preprocess_ink` for pictures (``mnist-studio predict``, files dropped on the pad): crop, scale with a
  smoothing filter, centre. :func:`load_gray` reads any image Pillow can; :mod:`mnist_studio.data.picture` finds
  the digits in it (photos included: uneven light, either polarity) and sends each through this recipe.

An empty drawing or picture gives ``None``: no ink, no guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw


BOX = 20  # the longer side of the digit after scaling, in pixels
SIZE = 28
PEN_WIDTH = 2.6  # stroke width in final (28×28) pixels, like MNIST's strokes
INK_THRESHOLD = 0.1  # grey level (0-1) that counts as ink when looking for the digit's extent
SUPERSAMPLE = 8
# Where the centre of mass goes, in pixel-centre coordinates: the geometric centre of the 28 px field. (MNIST's
# own images have it about half a pixel lower and further right, at 13.98, 14.01 on average; on drawn digits the
# difference did not change a lenet's answers on scripted strokes, and the geometric centre keeps
# every drawing within half a pixel of the centre.)
CENTRE = (SIZE - 1) / 2.0


@dataclass
class Stages:
    """Every step of the recipe, so the studio can show what the network sees.

    ``raw``: the input ink (0 = background, 1 = ink); ``cropped``: cut to the ink's bounding box; ``scaled``: the
    longer side at 20 px; ``centred``: the final 28×28 float32 image; ``shift``: (dy, dx) applied to centre it.
    """

    raw: np.ndarray
    cropped: np.ndarray
    scaled: np.ndarray
    centred: np.ndarray
    shift: tuple[int, int] = (0, 0)


# -- geometry helpers --------------------------------------------------------------------------------------------

def bounding_box(ink: np.ndarray, threshold: float = INK_THRESHOLD) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right), bottom/right exclusive, of pixels above ``threshold``; None if there are none."""
    mask = ink > threshold
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    """Intensity-weighted (row, column) centre, in pixel-centre coordinates."""
    total = float(img.sum())
    if total <= 0:
        return (img.shape[0] - 1) / 2.0, (img.shape[1] - 1) / 2.0
    rows = np.arange(img.shape[0], dtype=np.float64)
    cols = np.arange(img.shape[1], dtype=np.float64)
    return float(img.sum(axis=1) @ rows) / total, float(img.sum(axis=0) @ cols) / total


def resize(img: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a float image with Pillow's Lanczos filter (area-correct smoothing when shrinking), clipped to [0, 1]."""
    pil = Image.fromarray(img.astype(np.float32), mode="F")
    out = np.asarray(pil.resize((width, height), Image.Resampling.LANCZOS), dtype=np.float32)
    return np.clip(out, 0.0, 1.0)


def place_centred(digit: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """Put a ≤20×20 digit in a 28×28 image with its centre of mass at :data:`CENTRE`, to the nearest pixel.

    Whole-pixel shifts, as MNIST did: the digit keeps its exact 20 px box and its sharpness (a sub-pixel shift
    would smear every stroke over one more row and column), and the centre of mass lands within half a pixel of
    the centre. The shift is clamped so that no ink leaves the image: nothing wraps around, nothing is cut.
    Returns (image, shift (dy, dx) relative to placing the box in the middle).
    """
    h, w = digit.shape
    out = np.zeros((SIZE, SIZE), dtype=np.float32)
    cy, cx = centre_of_mass(digit)
    top = min(max(int(round(CENTRE - cy)), 0), SIZE - h)
    left = min(max(int(round(CENTRE - cx)), 0), SIZE - w)
    out[top:top + h, left:left + w] = digit
    return out, (top - (SIZE - h) // 2, left - (SIZE - w) // 2)


# -- pictures ----------------------------------------------------------------------------------------------------

def preprocess_ink(ink: np.ndarray) -> Stages | None:
    """Apply the MNIST recipe to an ink image (any size, 0 = background, 1 = ink); None if it holds no ink."""
    ink = np.clip(np.asarray(ink, dtype=np.float32), 0.0, 1.0)
    box = bounding_box(ink)
    if box is None:
        return None
    t, b, l, r = box
    cropped = ink[t:b, l:r]
    h, w = cropped.shape
    scale = BOX / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    scaled = resize(cropped, nh, nw)
    if scaled.max() > 0:
        scaled = scaled / scaled.max()  # keep full-strength ink even when a thin stroke is averaged away
    centred, shift = place_centred(scaled)
    return Stages(ink, cropped, scaled, centred, shift)


def to_ink(gray: np.ndarray) -> np.ndarray:
    """Grey levels (0 = black, 1 = white) to ink (0 = background, 1 = ink), whatever the polarity.

    The background is the most common level along the border; if it is light the picture is dark-on-light and is
    inverted. Then the background level is subtracted and the strongest ink scaled to 1, which also copes with
    grey paper or a faint pen.
    """
    gray = np.asarray(gray, dtype=np.float32)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    background = float(np.median(border))
    ink = (1.0 - gray) if background > 0.5 else gray.copy()
    bg_ink = (1.0 - background) if background > 0.5 else background
    ink = ink - bg_ink
    top = float(ink.max())
    if top < 0.15:  # no contrast anywhere: a blank picture
        return np.zeros_like(ink)
    return np.clip(ink / top, 0.0, 1.0)


def load_gray(path: str | Path) -> np.ndarray:
    """Read any picture Pillow understands as grey levels (0 = black, 1 = white): :func:`~mnist_studio.data.images.
    read_image` (every mode, EXIF orientation, transparency, size limits), reduced if it is very large."""
    from mnist_studio.data.images import read_image

    return read_image(path).gray


def load_ink(path: str | Path) -> np.ndarray:
    """Read any picture Pillow understands as an ink image (see :func:`to_ink`); transparency is respected."""
    return to_ink(load_gray(path))


# -- drawings ----------------------------------------------------------------------------------------------------

Stroke = Sequence[tuple[float, float]]


def render_strokes(strokes: Sequence[Stroke], scale: float, offset: tuple[float, float], size: tuple[int, int],
                   pen_width: float, supersample: int = SUPERSAMPLE) -> np.ndarray:
    """Draw strokes (lists of (x, y) points) as round anti-aliased lines into a float image of ``size`` (h, w).

    Points are mapped by ``(p - offset) * scale``; drawing ``supersample`` times larger and averaging down gives
    the anti-aliasing.
    """
    h, w = max(1, size[0]), max(1, size[1])
    ss = supersample
    canvas = Image.new("L", (w * ss, h * ss), 0)
    draw = ImageDraw.Draw(canvas)
    r = pen_width * ss / 2.0
    for stroke in strokes:
        pts = [((x - offset[0]) * scale * ss, (y - offset[1]) * scale * ss) for x, y in stroke]
        if len(pts) > 1:
            draw.line(pts, fill=255, width=max(1, round(pen_width * ss)), joint="curve")
        for x, y in {pts[0], pts[-1]}:  # round caps
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return np.asarray(canvas.resize((w, h), Image.Resampling.BOX), dtype=np.float32) / 255.0


def preprocess_strokes(strokes: Sequence[Stroke], raw: np.ndarray | None = None,
                       canvas_size: tuple[int, int] = (280, 280), canvas_pen_width: float = 18.0,
                       pen_width: float = PEN_WIDTH, raw_scale: float = 1.0) -> Stages | None:
    """The MNIST recipe for pen strokes (canvas coordinates), re-rendered at the final scale.

    The strokes' extent is scaled so that the digit's longer side, pen included, is 20 px; they are then drawn
    with an MNIST-like pen and centred by mass. ``raw`` is the canvas as the user sees it (ink 0-1), shown as the
    first stages; without it the strokes are drawn at ``canvas_size`` (h, w) with ``canvas_pen_width``, times
    ``raw_scale`` (the pad shows the raw stage as a thumbnail, so it renders it at half size: faster). ``pen_width``
    is the stroke width in final pixels. None if there are no points.
    """
    pts = [np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in strokes if len(s)]
    if not pts:
        return None
    allp = np.concatenate(pts)
    (x0, y0), (x1, y1) = allp.min(axis=0), allp.max(axis=0)
    extent = max(x1 - x0, y1 - y0)
    # scale so that extent·k + pen = 20 px; a dot or a tiny scribble is not blown up to full size
    k = (BOX - pen_width) / max(extent, 1e-9)
    k = min(k, (BOX - pen_width) / 5.0)
    h = min(BOX, int(np.ceil((y1 - y0) * k + pen_width - 1e-6)))
    w = min(BOX, int(np.ceil((x1 - x0) * k + pen_width - 1e-6)))
    offset = (x0 - pen_width / 2.0 / k, y0 - pen_width / 2.0 / k)
    scaled = render_strokes(pts, k, offset, (h, w), pen_width)
    if scaled.max() <= 0:
        return None
    centred, shift = place_centred(scaled)
    if raw is None:
        size = (max(1, round(canvas_size[0] * raw_scale)), max(1, round(canvas_size[1] * raw_scale)))
        raw = render_strokes(pts, raw_scale, (0.0, 0.0), size, canvas_pen_width * raw_scale, supersample=2)
    box = bounding_box(raw)
    cropped = raw[box[0]:box[1], box[2]:box[3]] if box else raw
    return Stages(raw, cropped, scaled, centred, shift)
