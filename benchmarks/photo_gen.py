"""Realistic phone photos of handwritten numbers, for measuring how `predict` reads pictures (issue 12).

Not for training, and not a convenient generator: each picture varies what real phone photos of a number vary.

- The digits: real pen trajectories of the 4 pendigits-dev writers (one writer per number, each digit drawn from
  that writer's own samples, so the number has one hand) or MNIST test digits upscaled (a fat marker look). The
  writer's own size differences are kept; the baseline wanders; spacing is normal or tight (touching digits).
- The pen: fine ballpoint to fat marker (stroke 1.5-13 % of the digit height), black, blue or pencil grey, with
  pressure that fades along the stroke; pencil has grain.
- The surface: paper (off-white, tinted by the white balance, fibre texture and grain), sometimes with the desk
  showing around the sheet's edge; or a chalkboard (dark green or black, erased-chalk haze, grainy broken chalk,
  sometimes a glare spot).
- The light: a brightness gradient, a vignette, and in the "shadow" condition a soft-edged shadow (a hand or a
  phone) across part of the number.
- The camera: rotation up to ±6°, mild perspective (corners moved up to 4 %), defocus blur, sensor noise, JPEG at
  quality 35-90, 300-1600 px wide.

Conditions: ``clean`` (paper, normal spacing, no shadow: still lit unevenly and photographed), ``shadow``,
``tight`` (digits touching or nearly), ``chalkboard`` (light on dark).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

PENDIGITS_NAME = Path("shared") / "data" / "pendigits-dev" / "pendigits_dev_strokes.json"
CONDITIONS = ("clean", "shadow", "tight", "chalkboard")


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
    """Digits side by side on a wandering baseline; tight: gaps from -6 % to +6 % of the digit height."""
    boxes, x = [], 0.0
    base = 0.0
    for ink in inks:
        h, w = ink.shape
        base += rng.normal(0, 0.04 * height_ref)
        boxes.append((int(round(x)), int(round(base - h))))
        gap = rng.uniform(-0.06, 0.06) if tight else rng.uniform(0.12, 0.5)
        x += w + gap * height_ref
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    W = max(b[0] + i.shape[1] for b, i in zip(boxes, inks)) - x0
    H = max(b[1] + i.shape[0] for b, i in zip(boxes, inks)) - y0
    out = np.zeros((H, W), np.float32)
    for (bx, by), ink in zip(boxes, inks):
        sl = out[by - y0:by - y0 + ink.shape[0], bx - x0:bx - x0 + ink.shape[1]]
        np.maximum(sl, ink, out=sl)
    return out


# -- fields ---------------------------------------------------------------------------------------------------------

def smooth_noise(shape: tuple[int, int], cells: int, rng: np.random.Generator) -> np.ndarray:
    """Noise varying over about ``cells`` cells across the picture, zero mean, unit-ish amplitude."""
    h, w = shape
    gh, gw = max(2, round(cells * h / max(h, w)) + 1), max(2, round(cells * w / max(h, w)) + 1)
    g = rng.normal(0, 1, (gh, gw)).astype(np.float32)
    return np.asarray(Image.fromarray(g, "F").resize((w, h), Image.Resampling.BICUBIC), np.float32)


def lighting(shape: tuple[int, int], shadow: bool, rng: np.random.Generator) -> np.ndarray:
    """Brightness gradient × vignette × (optionally) a soft shadow; multiplies the scene."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u, v = xx / w - 0.5, yy / h - 0.5
    a = rng.uniform(0, 2 * np.pi)
    field = 1.0 + rng.uniform(0.05, 0.35) * (np.cos(a) * u + np.sin(a) * v) * 2
    cx, cy = rng.normal(0, 0.15, 2)
    field *= 1.0 - rng.uniform(0.1, 0.45) * ((u - cx) ** 2 + (v - cy) ** 2) / 0.5
    field *= 1.0 + 0.05 * smooth_noise(shape, 3, rng)
    if shadow:  # a soft-edged shadow: a half-plane or a big blob crossing the middle of the picture
        depth = rng.uniform(0.3, 0.6)
        soft = rng.uniform(0.02, 0.12)
        if rng.random() < 0.6:
            b = rng.uniform(0, 2 * np.pi)
            d = (np.cos(b) * u + np.sin(b) * v) - rng.uniform(-0.25, 0.2)
        else:
            ex, ey = rng.uniform(-0.5, 0.5, 2)
            d = 0.35 - np.sqrt(((u - ex) / 1.3) ** 2 + (v - ey) ** 2) * rng.uniform(0.6, 1.2)
        d = d + 0.02 * smooth_noise(shape, 6, rng)
        field *= 1.0 - depth / (1.0 + np.exp(-d / soft))
    return np.clip(field, 0.05, 1.5)


def perspective_coeffs(src: np.ndarray, dst: np.ndarray) -> list[float]:
    """PIL PERSPECTIVE data mapping output points ``dst`` to input points ``src`` (4 × 2 each)."""
    A, b = [], []
    for (x, y), (X, Y) in zip(dst, src):
        A.append([x, y, 1, 0, 0, 0, -X * x, -X * y])
        A.append([0, 0, 0, x, y, 1, -Y * x, -Y * y])
        b += [X, Y]
    return list(np.linalg.solve(np.asarray(A, float), np.asarray(b, float)))


# -- the photo ------------------------------------------------------------------------------------------------------

def compose(ink: np.ndarray, condition: str, rng: np.random.Generator, width: int | None = None) -> Image.Image:
    """Put a number's ink on paper or a chalkboard, light it, photograph it."""
    W = width or int(rng.uniform(300, 1600))
    H = int(W * rng.uniform(0.55, 1.0))
    ih, iw = ink.shape
    # the number fills 35-85 % of the width, never more than 55 % of the height
    k = min(W * rng.uniform(0.35, 0.85) / iw, H * 0.55 / ih)
    margin = 1.3  # the scene is made larger and cropped after rotation and perspective
    SW, SH = int(W * margin), int(H * margin)
    nw, nh = max(2, round(iw * k)), max(2, round(ih * k))
    ink_img = np.asarray(Image.fromarray(ink, "F").resize((nw, nh), Image.Resampling.BILINEAR), np.float32)
    alpha = np.zeros((SH, SW), np.float32)
    # off-centre, but inside the frame (people frame the number they photograph)
    dx = np.clip(rng.normal(0, 0.06) * W, -max(0, W * 0.9 - nw) / 2, max(0, W * 0.9 - nw) / 2)
    dy = np.clip(rng.normal(0, 0.08) * H, -max(0, H * 0.85 - nh) / 2, max(0, H * 0.85 - nh) / 2)
    ox, oy = int((SW - nw) / 2 + dx), int((SH - nh) / 2 + dy)
    alpha[oy:oy + nh, ox:ox + nw] = np.clip(ink_img, 0, 1)
    digit_h = nh
    shape = (SH, SW)
    if condition == "chalkboard":
        board = np.array(rng.choice([[0.16, 0.24, 0.2], [0.1, 0.11, 0.12], [0.2, 0.3, 0.26]]), np.float32)
        surface = board[None, None] * (1 + 0.12 * smooth_noise(shape, 8, rng))[..., None]
        haze = np.clip(smooth_noise(shape, 10, rng) * 0.5 + rng.uniform(-0.6, 0.1), 0, 1) * rng.uniform(0.05, 0.25)
        grain = rng.random(shape).astype(np.float32)
        chalk_alpha = alpha * np.clip(rng.uniform(0.55, 0.9) + 0.5 * (grain - 0.5) * rng.uniform(0.5, 1.6), 0, 1)
        chalk = np.array([0.92, 0.92, 0.88], np.float32)
        a = np.clip(chalk_alpha + haze * (1 - chalk_alpha), 0, 1)[..., None]
        scene = surface * (1 - a) + chalk * a
        if rng.random() < 0.35:  # glare
            yy, xx = np.mgrid[0:SH, 0:SW].astype(np.float32)
            gx, gy = rng.uniform(0.2, 0.8) * SW, rng.uniform(0.2, 0.8) * SH
            rad = rng.uniform(0.15, 0.4) * SW
            scene = scene + rng.uniform(0.1, 0.3) * np.exp(-((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * rad ** 2))[..., None]
    else:
        tint = np.array([1.0, 1.0, 1.0]) + rng.normal(0, 0.03, 3)
        paper = np.float32(rng.uniform(0.82, 0.97)) * tint.astype(np.float32)
        texture = 1 + 0.015 * smooth_noise(shape, 40, rng) + 0.01 * rng.normal(0, 1, shape).astype(np.float32)
        surface = paper[None, None] * texture[..., None]
        kind = rng.choice(["black", "blue", "pencil", "marker"], p=[0.35, 0.3, 0.15, 0.2])
        colour = {"black": [0.08, 0.08, 0.1], "blue": [0.12, 0.16, 0.45], "pencil": [0.3, 0.3, 0.32],
                  "marker": [0.05, 0.05, 0.06]}[kind]
        a = alpha * rng.uniform(0.75, 0.95)
        if kind == "pencil":
            a = a * np.clip(0.75 + 0.35 * rng.normal(0, 1, shape).astype(np.float32), 0.2, 1)
        a = a[..., None]
        scene = surface * (1 - a) + np.array(colour, np.float32) * a
        if rng.random() < 0.3:  # the desk shows around the sheet
            desk = np.array(rng.choice([[0.45, 0.32, 0.2], [0.3, 0.3, 0.32], [0.15, 0.13, 0.12],
                                        [0.6, 0.6, 0.58]]), np.float32)
            sheet = Image.new("L", (SW, SH), 0)
            m = rng.uniform(0.0, 0.12, 4) * [SW, SH, SW, SH]
            corners = [(m[0], m[1]), (SW - m[2], m[1] + rng.normal(0, 8)), (SW - m[2], SH - m[3]),
                       (m[0] + rng.normal(0, 8), SH - m[3])]
            ImageDraw.Draw(sheet).polygon(corners, fill=255)
            ImageDraw.Draw(sheet).rectangle((ox, oy, ox + nw, oy + nh), fill=255)
            inside = np.asarray(sheet.filter(ImageFilter.GaussianBlur(1.5)), np.float32)[..., None] / 255.0
            scene = scene * inside + desk[None, None] * (1 + 0.1 * smooth_noise(shape, 12, rng)[..., None]) * (1 - inside)
    scene = scene * lighting(shape, condition == "shadow", rng)[..., None]
    img = Image.fromarray((np.clip(scene, 0, 1) * 255).astype(np.uint8), "RGB")
    # camera: rotation ±6°, perspective, crop to W × H
    ang = np.deg2rad(rng.uniform(-6, 6))
    c, s = np.cos(ang), np.sin(ang)
    dst = np.array([[0, 0], [W, 0], [W, H], [0, H]], float)
    centred = dst - [W / 2, H / 2]
    src = centred @ np.array([[c, -s], [s, c]]).T + [SW / 2, SH / 2]
    src += rng.uniform(-0.04, 0.04, (4, 2)) * [W, H]
    img = img.transform((W, H), Image.Transform.PERSPECTIVE, perspective_coeffs(src, dst), Image.Resampling.BICUBIC)
    blur = rng.uniform(0.3, 1.6) * max(W, 400) / 800 * min(1.0, digit_h / 80)
    img = img.filter(ImageFilter.GaussianBlur(blur))
    arr = np.asarray(img, np.float32) / 255.0
    arr = arr + rng.normal(0, rng.uniform(0.008, 0.035), arr.shape).astype(np.float32)
    img = Image.fromarray((np.clip(arr, 0, 1) * 255).astype(np.uint8), "RGB")
    return img


def make_photo(kind: str, condition: str, pen: list[dict], mnist_x: np.ndarray, mnist_y: np.ndarray,
               rng: np.random.Generator, width: int | None = None) -> Photo:
    n = int(rng.integers(2, 7))
    number = "".join(str(int(d)) for d in rng.integers(0, 10, n))
    tight = condition == "tight"
    if kind == "mnist":
        ids = [int(rng.choice(np.flatnonzero(mnist_y == int(d)))) for d in number]
        height = 160.0
        inks = [mnist_digit_ink(mnist_x[i], height * rng.uniform(0.92, 1.05)) for i in ids]
        source = "mnist"
    else:
        writer = int(rng.integers(1, 5))
        by_label = {d: [i for i, s in enumerate(pen) if s["writer"] == writer and s["label"] == d] for d in range(10)}
        ids = [int(rng.choice(by_label[int(d)])) for d in number]
        height = 160.0
        scale = height / 156.0  # the writers' median digit height in tablet units -> 160 px
        frac = float(np.exp(rng.uniform(np.log(0.015), np.log(0.13))))
        if condition == "chalkboard":
            frac = rng.uniform(0.05, 0.12)
        inks = [pen_digit_ink(pen[i], scale, max(1.2, frac * height), rng) for i in ids]
        source = f"pen:{writer}"
    ink = layout_number(inks, height, tight, rng)
    return Photo(compose(ink, condition, rng, width), number, condition, source, ids)


def make_set(n: int, seed: int = 0, pen_share: float = 0.7) -> list[Photo]:
    """``n`` photos, conditions in turn, a ``pen_share`` of them written with pendigits strokes, the rest MNIST."""
    from mnist_studio.data.datasets import load_mnist

    rng = np.random.default_rng(seed)
    pen = load_pen_digits()
    ds = load_mnist()
    out = []
    for i in range(n):
        kind = "pen" if rng.random() < pen_share else "mnist"
        out.append(make_photo(kind, CONDITIONS[i % len(CONDITIONS)], pen, ds.test_images, ds.test_labels, rng))
    return out


def save_set(photos: list[Photo], folder: Path, rng: np.random.Generator | None = None) -> Path:
    """JPEG files (quality 35-90) and ``labels.json``: [{"file", "number", "condition", "source"}, ...]."""
    rng = rng or np.random.default_rng(123)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, p in enumerate(photos):
        name = f"photo_{i:04d}.jpg"
        p.image.save(folder / name, quality=int(rng.integers(35, 91)))
        rows.append({"file": name, "number": p.number, "condition": p.condition, "source": p.source})
    (folder / "labels.json").write_text(json.dumps(rows, indent=0))
    return folder / "labels.json"


if __name__ == "__main__":
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/photos")
    save_set(make_set(int(sys.argv[2]) if len(sys.argv) > 2 else 16), out)
    print(f"wrote {out}")
