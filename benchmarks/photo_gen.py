"""Realistic phone photos of handwritten numbers, for measuring how `predict` reads pictures (issue 12).

Not for training, and not a convenient generator: each picture varies what real phone photos of a number vary
(the surface, light and camera are in ``photo_scene.py``; this module writes the digits).

- The digits: real pen trajectories of the 4 pendigits-dev writers (one writer per number, each digit drawn from
  that writer's own samples, so the number has one hand) or MNIST test digits upscaled (a fat marker look). Sizes
  differ from digit to digit (±12 %), each leans a little its own way, the baseline wanders; spacing is normal or
  tight (touching digits).
- The pen, by condition: ballpoint (thin), gel pen, fat marker; pencil (faint, grey, grainy); whiteboard marker;
  chalk. Pressure fades along each stroke and at its ends.

Conditions, reported separately: ``clean`` (plain paper, normal spacing, no shadow: still lit unevenly and
photographed), ``shadow``, ``tight`` (digits touching or nearly), ``chalkboard`` (light on dark, smudged),
``ruled`` (ruled or squared paper), ``pencil`` (faint grey pencil on plain paper), ``whiteboard`` (marker, glare).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

import photo_extra as extra_fx
import photo_scene as scene

PENDIGITS_NAME = Path("shared") / "data" / "pendigits-dev" / "pendigits_dev_strokes.json"
CONDITIONS = ("clean", "shadow", "tight", "chalkboard", "ruled", "pencil", "whiteboard")
DIGIT_H = 160.0  # a digit's height in the ink drawings (px), before the photo's scale


@dataclass
class Photo:
    image: Image.Image  # RGB
    number: str
    condition: str
    source: str  # "pen:W" (pendigits writer W) or "mnist"
    digit_ids: list[int]  # pendigits sample index or MNIST test index, per digit


# -- digits as ink --------------------------------------------------------------------------------------------------

def find_pen_digits() -> Path:
    """``shared/data/pendigits-dev`` beside the checkout (or beside the folder holding the worktrees)."""
    for parent in Path(__file__).resolve().parents:
        if (parent / PENDIGITS_NAME).exists():
            return parent / PENDIGITS_NAME
    raise FileNotFoundError(f"{PENDIGITS_NAME} not found beside this checkout")


def load_pen_digits(path: Path | None = None) -> list[dict]:
    return json.loads(Path(path or find_pen_digits()).read_text())


def _catmull_rom(p: np.ndarray, per: int = 4) -> np.ndarray:
    """A smooth curve through the sampled pen points (the tablet samples a smooth hand movement)."""
    if len(p) < 3:
        return p
    q = np.vstack([p[0], p, p[-1]])
    t = np.linspace(0, 1, per, endpoint=False)[:, None]
    t2, t3 = t * t, t * t * t
    p0, p1, p2, p3 = q[:-3, None], q[1:-2, None], q[2:-1, None], q[3:, None]
    seg = 0.5 * (2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t2 + (-p0 + 3 * p1 - 3 * p2 + p3) * t3)
    return np.vstack([seg.reshape(-1, 2), p[-1:]])


def pen_digit_ink(sample: dict, scale: float, pen_px: float, rng: np.random.Generator) -> np.ndarray:
    """One pendigits sample drawn as ink (0-1) with a round pen of ``pen_px`` px; ``scale`` px per tablet unit.

    Pressure: the ink's strength varies slowly along each stroke and fades at a stroke's ends, as a ballpoint does.
    """
    strokes = [_catmull_rom(np.asarray(s, np.float64)) for s in sample["strokes"] if len(s)]
    pts = np.vstack(strokes)
    lo = pts.min(axis=0) - pen_px / scale
    hi = pts.max(axis=0) + pen_px / scale
    w, h = (np.ceil((hi - lo) * scale) + 2).astype(int)
    ss = 3
    canvas = Image.new("L", (w * ss, h * ss), 0)
    draw = ImageDraw.Draw(canvas)
    r = pen_px * ss / 2
    for s in strokes:
        xy = (s - lo) * scale * ss
        n = len(xy)
        strength = np.clip(rng.uniform(0.75, 1.0) + np.cumsum(rng.normal(0, 0.03, n)), 0.5, 1.0)
        strength[:2] *= 0.8
        strength[-2:] *= 0.85
        for i in range(max(1, n - 1)):
            a, b = xy[i], xy[min(i + 1, n - 1)]
            v = int(255 * strength[i])
            draw.line([tuple(a), tuple(b)], fill=v, width=max(1, round(pen_px * ss)))
            draw.ellipse((a[0] - r, a[1] - r, a[0] + r, a[1] + r), fill=v)
        draw.ellipse((xy[-1][0] - r, xy[-1][1] - r, xy[-1][0] + r, xy[-1][1] + r), fill=int(255 * strength[-1]))
    return np.asarray(canvas.resize((w, h), Image.Resampling.BOX), np.float32) / 255.0


def mnist_digit_ink(img28: np.ndarray, height: float) -> np.ndarray:
    """An MNIST test digit scaled to ``height`` px (its 20 px box), edges sharpened back to a marker's."""
    a = img28.astype(np.float32) / 255.0
    rows, cols = np.flatnonzero(a.max(axis=1) > 0.05), np.flatnonzero(a.max(axis=0) > 0.05)
    a = a[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    k = height / max(a.shape[0], 1)
    size = (max(2, round(a.shape[1] * k)), max(2, round(a.shape[0] * k)))
    big = np.asarray(Image.fromarray(a, "F").resize(size, Image.Resampling.BICUBIC), np.float32)
    return np.clip((big - 0.25) / 0.4, 0, 1)


def layout_number(inks: list[np.ndarray], height_ref: float, tight: bool,
                  rng: np.random.Generator) -> np.ndarray:
    """Digits side by side on a wandering baseline, each leaning a little its own way (±4°); tight: gaps from -6 %
    to +6 % of the digit height, else 12-50 %."""
    boxes, x = [], 0.0
    base = 0.0
    leaned = []
    for ink in inks:
        ink = np.asarray(Image.fromarray(ink, "F").rotate(rng.uniform(-4, 4), Image.Resampling.BILINEAR,
                                                          expand=True), np.float32)
        rows, cols = np.flatnonzero(ink.max(axis=1) > 0.05), np.flatnonzero(ink.max(axis=0) > 0.05)
        ink = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        leaned.append(ink)
        h, w = ink.shape
        base += rng.normal(0, 0.05 * height_ref)
        boxes.append((int(round(x)), int(round(base - h))))
        gap = rng.uniform(-0.06, 0.06) if tight else rng.uniform(0.12, 0.5)
        x += w + gap * height_ref
    inks = leaned
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    W = max(b[0] + i.shape[1] for b, i in zip(boxes, inks)) - x0
    H = max(b[1] + i.shape[0] for b, i in zip(boxes, inks)) - y0
    out = np.zeros((H, W), np.float32)
    for (bx, by), ink in zip(boxes, inks):
        sl = out[by - y0:by - y0 + ink.shape[0], bx - x0:bx - x0 + ink.shape[1]]
        np.maximum(sl, ink, out=sl)
    return out


# -- the photo ------------------------------------------------------------------------------------------------------

def compose(ink: np.ndarray, condition: str, pen: str, rng: np.random.Generator,
            width: int | None = None, extra: np.random.Generator | None = None) -> Image.Image:
    """Put a number's ink on the condition's surface with ``pen``, light it, photograph it. ``extra``: the
    generator of ``photo_extra``'s effects (printed text, pen pressure, page curl and lens); None: none of them."""
    W = width or int(rng.uniform(300, 1600))
    H = int(W * rng.uniform(0.55, 1.0))
    ih, iw = ink.shape
    # the number fills 35-85 % of the width, never more than 55 % of the height
    k = min(W * rng.uniform(0.35, 0.85) / iw, H * 0.55 / ih)
    margin = 1.35  # the scene is made larger and cropped after rotation and perspective
    SW, SH = int(W * margin), int(H * margin)
    nw, nh = max(2, round(iw * k)), max(2, round(ih * k))
    ink_img = np.asarray(Image.fromarray(ink, "F").resize((nw, nh), Image.Resampling.BILINEAR), np.float32)
    alpha = np.zeros((SH, SW), np.float32)
    # off-centre, but inside the frame (people frame the number they photograph)
    dx = np.clip(rng.normal(0, 0.06) * W, -max(0, W * 0.9 - nw) / 2, max(0, W * 0.9 - nw) / 2)
    dy = np.clip(rng.normal(0, 0.08) * H, -max(0, H * 0.85 - nh) / 2, max(0, H * 0.85 - nh) / 2)
    ox, oy = int((SW - nw) / 2 + dx), int((SH - nh) / 2 + dy)
    alpha[oy:oy + nh, ox:ox + nw] = np.clip(ink_img, 0, 1)
    digit_h = k * DIGIT_H  # one digit's height in the scene
    shape = (SH, SW)
    box = (ox, oy, ox + nw, oy + nh)
    if extra is not None:
        alpha = extra_fx.pressure(alpha, pen, extra, digit_h)
    if condition == "chalkboard":
        surface, haze = scene.chalkboard(shape, rng)
        lit = scene.chalk(surface, haze, alpha, rng)
        if rng.random() < 0.35:
            lit = scene.glare(lit, rng, (0.1, 0.3))
    elif condition == "whiteboard":
        colour = str(rng.choice(["black", "blue", "red", "green"], p=[0.45, 0.3, 0.15, 0.1]))
        lit = scene.apply_ink(scene.whiteboard(shape, rng), alpha, "whiteboard", colour, rng)
        lit = scene.glare(lit, rng)
    else:
        colour = "pencil" if pen == "pencil" else str(rng.choice(["black", "blue"], p=[0.55, 0.45]))
        surface = scene.paper(shape, rng, condition == "ruled", box, digit_h)
        if extra is not None and extra.random() < extra_fx.TEXT:
            surface = extra_fx.printed_text(surface, extra, box, digit_h)
        lit = scene.apply_ink(surface, alpha, pen, colour, rng)
        if rng.random() < 0.35:  # the desk shows around the sheet
            lit = scene.desk_around(lit, rng, (ox, oy, ox + nw, oy + nh))
    if extra is not None:
        lit = extra_fx.curl_and_lens(lit, extra)
    lit = lit * scene.lighting(shape, condition == "shadow", rng)[..., None]
    return scene.camera(lit, W, H, digit_h, rng)


def make_photo(kind: str, condition: str, pen: list[dict], mnist_x: np.ndarray, mnist_y: np.ndarray,
               rng: np.random.Generator, width: int | None = None,
               extra: np.random.Generator | None = None, writer: int | None = None,
               allowed: set[int] | None = None) -> Photo:
    """One photo of a number of 2-6 digits. ``kind``: "pen" (one pendigits writer's strokes: ``writer``, else one
    at random; only the samples in ``allowed`` if given) or "mnist"."""
    n = int(rng.integers(2, 7))
    number = "".join(str(int(d)) for d in rng.integers(0, 10, n))
    tight = condition == "tight"
    size = rng.uniform(0.88, 1.12, n)  # one writer's digits differ in size
    if condition == "pencil":
        pen_kind = "pencil"
    elif condition in ("whiteboard", "chalkboard"):
        pen_kind = condition
    else:
        pen_kind = str(rng.choice(["ballpoint", "gel", "marker"], p=[0.45, 0.3, 0.25]))
    if kind == "mnist":
        ids = [int(rng.choice(np.flatnonzero(mnist_y == int(d)))) for d in number]
        inks = [mnist_digit_ink(mnist_x[i], DIGIT_H * z) for i, z in zip(ids, size)]
        source = "mnist"
    else:
        drawn = int(rng.integers(1, 5))
        writer = drawn if writer is None else writer
        by_label = {d: [i for i, s in enumerate(pen) if s["writer"] == writer and s["label"] == d
                        and (allowed is None or i in allowed)] for d in range(10)}
        ids = [int(rng.choice(by_label[int(d)])) for d in number]
        scale = DIGIT_H / 156.0  # the writers' median digit height in tablet units -> DIGIT_H px
        # line widths as a share of the digit's height: a 0.3-0.5 mm ballpoint or a 0.5 mm pencil on digits
        # 6-12 mm tall, a 1-2 mm marker
        lo, hi = {"ballpoint": (0.025, 0.06), "gel": (0.04, 0.08), "marker": (0.08, 0.15), "pencil": (0.03, 0.07),
                  "whiteboard": (0.06, 0.12), "chalkboard": (0.05, 0.12)}[pen_kind]
        frac = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
        inks = [pen_digit_ink(pen[i], scale * z, max(1.2, frac * DIGIT_H), rng) for i, z in zip(ids, size)]
        source = f"pen:{writer}"
    ink = layout_number(inks, DIGIT_H, tight, rng)
    return Photo(compose(ink, condition, pen_kind, rng, width, extra), number, condition, source, ids)


def make_set(n: int, seed: int = 0, pen_share: float = 0.7, plain: bool = False) -> list[Photo]:
    """``n`` photos, conditions in turn, a ``pen_share`` of them written with pendigits strokes, the rest MNIST.
    ``plain``: without ``photo_extra``'s effects (each photo is otherwise the same: they have their own random
    generator per photo)."""
    from mnist_studio.data.datasets import load_mnist

    rng = np.random.default_rng(seed)
    pen = load_pen_digits()
    ds = load_mnist()
    out = []
    for i in range(n):
        kind = "pen" if rng.random() < pen_share else "mnist"
        extra = None if plain else np.random.default_rng([seed, i, 12])
        out.append(make_photo(kind, CONDITIONS[i % len(CONDITIONS)], pen, ds.test_images, ds.test_labels, rng,
                              extra=extra))
    return out


def save_set(photos: list[Photo], folder: Path, rng: np.random.Generator | None = None) -> Path:
    """JPEG files (quality 35-95) and ``labels.json``: [{"file", "number", "condition", "source"}, ...]."""
    rng = rng or np.random.default_rng(123)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, p in enumerate(photos):
        name = f"photo_{i:04d}.jpg"
        p.image.save(folder / name, quality=int(rng.integers(35, 96)))
        rows.append({"file": name, "number": p.number, "condition": p.condition, "source": p.source})
    (folder / "labels.json").write_text(json.dumps(rows, indent=0))
    return folder / "labels.json"


if __name__ == "__main__":
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/photos")
    save_set(make_set(int(sys.argv[2]) if len(sys.argv) > 2 else 16), out)
    print(f"wrote {out}")
