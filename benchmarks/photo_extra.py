"""More of what real phone photos of a written number vary, on top of ``photo_scene.py`` (issue 12, item 3).

Each effect is drawn from its own random generator (``make_set`` seeds it from the set's seed and the photo's
index), so a photo made with them is the same photo as before - same digits, paper, light and camera - with these
added: the old conditions stay comparable, and ``--plain`` turns them off.

- **Printed text** around the number (:func:`printed_text`): a form's or a notebook's printed words - a label before
  the number, a heading above it, a line of small print below - in a dark grey, a third of a digit tall or less.
- **Pen pressure** (:func:`pressure`): a ballpoint skips (short gaps along a stroke), a pen pressed harder on one
  digit than on the next (slow changes across the number), a marker's streaks as it dries.
- **Page curl and lens** (:func:`curl_and_lens`): the sheet is not flat (rules and the line of digits bend a
  little), and a phone's wide lens bows straight lines (barrel distortion), more near the corners.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

from photo_scene import smooth_noise

WORDS = ("Total", "Amount", "Date", "Name", "Room", "Account", "Ref", "Signed", "Invoice", "Page", "Order",
         "Code", "Seat", "Weight", "Phone", "Notes", "Please write clearly", "Office use only", "Received by",
         "Balance due", "Customer", "Table", "Score", "Batch", "Lot", "Kilometres", "Reading", "Meter")
TEXT = 0.5  # share of photos with printed text around the number
SKIP = 0.35  # share of pen photos whose ballpoint skips
CURL = 0.6  # share of photos taken of a sheet that is not flat, or through a wide lens


def printed_text(scene: np.ndarray, rng: np.random.Generator, number_box, digit_h: float) -> np.ndarray:
    """Printed words around the number (never over it): a label at its left, a heading above, small print below.
    ``number_box``: x0, y0, x1, y1 of the number in the scene."""
    SH, SW = scene.shape[:2]
    x0, y0, x1, y1 = number_box
    layer = Image.new("L", (SW, SH), 0)
    draw = ImageDraw.Draw(layer)
    placed = 0
    for where in rng.permutation(["left", "above", "below", "right"])[: int(rng.integers(1, 4))]:
        size = max(6, int(digit_h * rng.uniform(0.18, 0.4)))
        font = ImageFont.load_default(size=size)
        text = " ".join(rng.choice(WORDS, int(rng.integers(1, 4))))
        if where == "left":
            text += ":"
        l, t, r, b = font.getbbox(text)
        tw, th = r - l, b - t
        gap = digit_h * rng.uniform(0.35, 0.9)
        if where == "left":
            pos = (x0 - gap - tw, (y0 + y1) / 2 - th * rng.uniform(0.2, 0.8))
        elif where == "right":
            pos = (x1 + gap, y1 - th * rng.uniform(0.8, 1.5))
        elif where == "above":
            pos = (x0 + rng.uniform(-0.5, 0.5) * digit_h, y0 - gap - th)
        else:
            pos = (x0 + rng.uniform(-0.5, 0.5) * digit_h, y1 + gap)
        if pos[0] < 0 or pos[1] < 0 or pos[0] + tw > SW or pos[1] + th > SH:
            continue
        draw.text((pos[0] - l, pos[1] - t), text, fill=int(rng.uniform(160, 255)), font=font)
        placed += 1
    if not placed:
        return scene
    a = np.asarray(layer, np.float32)[..., None] / 255.0
    ink = np.float32(rng.uniform(0.05, 0.3))
    return scene * (1 - a) + ink * scene.mean(axis=2, keepdims=True) * a


def pressure(alpha: np.ndarray, pen: str, rng: np.random.Generator, digit_h: float) -> np.ndarray:
    """The ink's strength over the number made uneven as a hand and a pen make it: harder on some digits than
    others (0.6-1 over about a digit), a ballpoint skipping (gaps of a stroke's width or two), a marker's
    streaks."""
    shape = alpha.shape
    cells = max(2.0, max(shape) / max(digit_h, 1.0))
    out = alpha * np.clip(0.8 + 0.25 * smooth_noise(shape, cells, rng), 0.55, 1.0)
    if pen in ("ballpoint", "gel") and rng.random() < SKIP:
        fine = smooth_noise(shape, max(shape) / max(2.0, 0.08 * digit_h), rng)
        out = out * np.clip((fine + rng.uniform(1.2, 1.8)) / 0.6, 0.05, 1.0)
    elif pen in ("marker", "whiteboard"):
        out = out * np.clip(0.85 + 0.3 * smooth_noise(shape, max(shape) / max(2.0, 0.15 * digit_h), rng), 0.4, 1)
    return out.astype(np.float32)


def curl_and_lens(scene: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The scene warped as a curled sheet and a wide lens see it: rows bend by up to 2 % of the height along a
    parabola (the page's curl), and a radial barrel (or slight pincushion) distortion k·r²."""
    if rng.random() >= CURL:
        return scene
    SH, SW = scene.shape[:2]
    yy, xx = np.mgrid[0:SH, 0:SW].astype(np.float32)
    u, v = (xx - SW / 2) / max(SW, SH), (yy - SH / 2) / max(SW, SH)
    r2 = u * u + v * v
    k = np.float32(rng.uniform(-0.04, 0.12))
    bend = np.float32(rng.uniform(-0.02, 0.02) * SH)
    shift = np.float32(rng.uniform(-0.3, 0.3))
    src_x = SW / 2 + u * (1 + k * r2) * max(SW, SH)
    src_y = SH / 2 + v * (1 + k * r2) * max(SW, SH) + bend * ((xx / SW - 0.5 - shift) ** 2 * 4 - 0.5)
    out = np.empty_like(scene)
    for ch in range(scene.shape[2]):
        out[..., ch] = ndimage.map_coordinates(scene[..., ch], [src_y, src_x], order=1, mode="reflect")
    return out
