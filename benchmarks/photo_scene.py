"""The surface, the light and the camera of a generated phone photo (see ``photo_gen.py``, which writes the digits).

What real phone photos of a handwritten number vary, and where it is made here:

- **Surface** (:func:`paper`, :func:`whiteboard`, :func:`chalkboard`): off-white paper with fibre texture and grain,
  sometimes a fold, dust specks (:func:`specks`); ruled paper (light blue or grey lines about a digit height apart, the digits sitting on one, a
  red margin line) or squared paper (a grid of about half a digit); a glossy whiteboard with ghosts of erased
  writing and the ceiling lights' glare washing out the ink; a dark green or black chalkboard with erased-chalk
  swipes, haze and smudged chalk; the desk beside the sheet (:func:`desk_around`).
- **Ink** (:func:`apply_ink`): ballpoint (thin, black or blue), gel pen, fat marker, pencil (faint, grey, grainy,
  uneven pressure), whiteboard marker (streaky as it dries), chalk (grainy, broken).
- **Light** (:func:`lighting`): a brightness gradient, a vignette, and in the ``shadow`` condition a soft-edged
  shadow of a hand or a phone.
- **Camera** (:func:`camera`): rotation ±6°, perspective (corners moved up to 6 %), defocus or motion blur, white
  balance and exposure, sensor noise (read noise plus shot noise, colour noise), the phone's sharpening halos;
  JPEG at quality 35-95 when saved.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from scipy import ndimage


def smooth_noise(shape: tuple[int, int], cells: float, rng: np.random.Generator) -> np.ndarray:
    """Noise varying over about ``cells`` cells across the picture, zero mean, unit-ish amplitude."""
    h, w = shape
    gh, gw = max(2, round(cells * h / max(h, w)) + 1), max(2, round(cells * w / max(h, w)) + 1)
    g = rng.normal(0, 1, (gh, gw)).astype(np.float32)
    return np.asarray(Image.fromarray(g, "F").resize((w, h), Image.Resampling.BICUBIC), np.float32)


def _grid(shape):
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return yy, xx


# -- surfaces -------------------------------------------------------------------------------------------------------

def paper(shape, rng, ruled: bool, number_box, digit_h: float) -> np.ndarray:
    """RGB paper; ``ruled``: ruled or squared lines, placed so the number (``number_box`` x0, y0, x1, y1 in the
    scene) sits on a rule."""
    tint = np.array([1.0, 1.0, 1.0]) + rng.normal(0, 0.012, 3)
    level = np.float32(rng.uniform(0.8, 0.97))
    texture = (1 + 0.012 * smooth_noise(shape, 60, rng) + 0.02 * smooth_noise(shape, 6, rng)
               + rng.uniform(0.004, 0.015) * rng.normal(0, 1, shape).astype(np.float32))
    if rng.random() < 0.15:  # a fold: a straight soft step in brightness
        yy, xx = _grid(shape)
        a = rng.uniform(0, np.pi)
        d = np.cos(a) * (xx - shape[1] * rng.uniform(0.2, 0.8)) + np.sin(a) * (yy - shape[0] * rng.uniform(0.2, 0.8))
        texture *= 1 - rng.uniform(0.03, 0.1) / (1 + np.exp(np.clip(-d / rng.uniform(1.0, 4.0), -50, 50)))
    out = (level * tint.astype(np.float32))[None, None] * texture[..., None]
    out = specks(out, rng, digit_h, dark=True)
    if ruled:
        out = rules(out, rng, number_box, digit_h)
    return out


def specks(scene: np.ndarray, rng, digit_h: float, dark: bool) -> np.ndarray:
    """Dust, crumbs of eraser or chalk, a pen's accidental dots: a few small blobs (up to 4 % of a digit)."""
    if rng.random() < 0.4:
        return scene
    SH, SW = scene.shape[:2]
    img = Image.new("L", (SW, SH), 0)
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(1, 10))):
        x, y, r = rng.uniform(0, SW), rng.uniform(0, SH), rng.uniform(0.005, 0.04) * digit_h + 0.5
        draw.ellipse((x - r, y - r * rng.uniform(0.5, 1.5), x + r, y + r), fill=int(rng.uniform(80, 255)))
    a = np.asarray(img, np.float32)[..., None] / 255.0
    return scene * (1 - a) + (np.float32(0.15) if dark else np.float32(0.85)) * a


def rules(scene: np.ndarray, rng, number_box, digit_h: float) -> np.ndarray:
    """Ruled lines (a digit height apart, the number on one) or a squared grid (about half a digit), printed in
    light blue or grey; a red margin line on some ruled sheets."""
    shape = scene.shape[:2]
    yy, xx = _grid(shape)
    x0, y0, x1, y1 = number_box
    colour = np.array(rng.choice([[0.45, 0.62, 0.9], [0.55, 0.7, 0.95], [0.45, 0.45, 0.5], [0.6, 0.75, 0.7]]),
                      np.float32)
    strength = rng.uniform(0.35, 0.85)
    t = max(0.8, rng.uniform(0.012, 0.035) * digit_h)  # a printed rule is about 0.2 mm; a digit 6-9 mm

    def band(coord, spacing, offset):
        d = np.mod(coord - offset, spacing)
        d = np.minimum(d, spacing - d)
        return np.clip(t / 2 + 0.5 - d, 0, 1)

    if rng.random() < 0.65:  # ruled: the number sits on a rule (a little above or through it)
        spacing = digit_h / rng.uniform(0.6, 1.05)
        a = band(yy, spacing, y1 + rng.uniform(-0.08, 0.04) * digit_h)
        margin = x0 - rng.uniform(0.3, 1.5) * digit_h
        if rng.random() < 0.4 and margin > 5:
            red = np.clip(t / 2 + 1 - np.abs(xx - margin), 0, 1)[..., None] * rng.uniform(0.5, 0.9)
            scene = scene * (1 - red) + np.array([0.85, 0.3, 0.32], np.float32) * red
    else:  # squared: a grid of about half a digit (5 mm squares, digits two squares tall)
        spacing = digit_h * rng.uniform(0.4, 0.65)
        a = np.maximum(band(yy, spacing, rng.uniform(0, spacing)), band(xx, spacing, rng.uniform(0, spacing)))
    a = (a * strength)[..., None]
    return scene * (1 - a) + colour * scene.mean(axis=2, keepdims=True) * a


def whiteboard(shape, rng) -> np.ndarray:
    """A glossy white board with faint ghosts of erased writing (the glare is added after the ink)."""
    base = np.array([0.93, 0.94, 0.95], np.float32) * rng.uniform(0.85, 1.0)
    surface = base[None, None] * (1 + 0.01 * smooth_noise(shape, 20, rng))[..., None]
    ghost = np.clip(smooth_noise(shape, 14, rng) - 1.0, 0, 1) * rng.uniform(0.04, 0.15)
    return surface * (1 - ghost[..., None]) + np.float32(0.45) * ghost[..., None]


def chalkboard(shape, rng) -> tuple[np.ndarray, np.ndarray]:
    """A dark board and its haze (erased chalk: broad horizontal swipes and clouds), as (surface, haze 0-1)."""
    board = np.array(rng.choice([[0.16, 0.24, 0.2], [0.1, 0.11, 0.12], [0.2, 0.3, 0.26], [0.13, 0.17, 0.15]]),
                     np.float32)
    surface = board[None, None] * (1 + 0.12 * smooth_noise(shape, 8, rng))[..., None]
    surface = specks(surface, rng, 0.1 * max(shape), dark=False)
    haze = np.clip(smooth_noise(shape, 10, rng) * 0.5 + rng.uniform(-0.6, 0.1), 0, 1) * rng.uniform(0.05, 0.25)
    if rng.random() < 0.6:  # eraser swipes: long soft horizontal bands
        yy, xx = _grid(shape)
        for _ in range(int(rng.integers(1, 4))):
            yc, width = rng.uniform(0.1, 0.9) * shape[0], rng.uniform(0.05, 0.2) * shape[0]
            wave = 0.03 * shape[0] * np.sin(xx / shape[1] * rng.uniform(2, 6) + rng.uniform(0, 6))
            haze = haze + rng.uniform(0.05, 0.18) * np.exp(-((yy - yc - wave) / width) ** 2) * (
                0.6 + 0.4 * smooth_noise(shape, 30, rng))
    return surface, np.clip(haze, 0, 1)


def desk_around(scene: np.ndarray, rng, keep_box) -> np.ndarray:
    """The desk (wood, grey, dark, light) showing beyond the sheet's edges; ``keep_box`` stays on the sheet."""
    SH, SW = scene.shape[:2]
    desk = np.array(rng.choice([[0.45, 0.32, 0.2], [0.3, 0.3, 0.32], [0.15, 0.13, 0.12], [0.6, 0.6, 0.58]]),
                    np.float32)
    sheet = Image.new("L", (SW, SH), 0)
    m = rng.uniform(0.0, 0.14, 4) * [SW, SH, SW, SH]
    corners = [(m[0], m[1]), (SW - m[2], m[1] + rng.normal(0, 8)), (SW - m[2], SH - m[3]),
               (m[0] + rng.normal(0, 8), SH - m[3])]
    ImageDraw.Draw(sheet).polygon(corners, fill=255)
    ImageDraw.Draw(sheet).rectangle(keep_box, fill=255)
    inside = np.asarray(sheet.filter(ImageFilter.GaussianBlur(1.5)), np.float32)[..., None] / 255.0
    wood = 1 + 0.1 * smooth_noise(scene.shape[:2], 12, rng)[..., None]
    return scene * inside + desk[None, None] * wood * (1 - inside)


# -- ink ------------------------------------------------------------------------------------------------------------

PEN_COLOURS = {"black": [0.08, 0.08, 0.1], "blue": [0.12, 0.16, 0.45], "pencil": [0.32, 0.32, 0.34],
               "red": [0.7, 0.12, 0.12], "green": [0.1, 0.4, 0.2]}


def apply_ink(surface: np.ndarray, alpha: np.ndarray, pen: str, colour: str, rng) -> np.ndarray:
    """Ink of ``pen`` (ballpoint, gel, marker, pencil, whiteboard) laid over ``surface`` where ``alpha`` > 0;
    uneven: pressure, a drying marker's streaks, a pencil's grain."""
    shape = alpha.shape
    a = alpha * rng.uniform(0.75, 0.95) * np.clip(1 + 0.15 * smooth_noise(shape, 12, rng), 0.5, 1.2)
    if pen == "pencil":  # faint, grey, grainy: graphite catches only the paper's raised fibres
        grain = np.clip(0.7 + 0.4 * rng.normal(0, 1, shape).astype(np.float32), 0.1, 1)
        a = a * rng.uniform(0.5, 0.9) * grain * np.clip(1 + 0.3 * smooth_noise(shape, 8, rng), 0.4, 1.3)
    elif pen == "whiteboard":  # a drying marker leaves streaks along the stroke
        a = a * np.clip(0.8 + 0.25 * smooth_noise(shape, 80, rng), 0.35, 1)
    a = np.clip(a, 0, 1)[..., None]
    ink = np.array(PEN_COLOURS[colour], np.float32)
    return surface * (1 - a) + ink * a


def chalk(surface: np.ndarray, haze: np.ndarray, alpha: np.ndarray, rng) -> np.ndarray:
    """Grainy broken chalk over the board, partly smudged (wiped by a hand), with the board's haze."""
    shape = alpha.shape
    grain = rng.random(shape).astype(np.float32)
    a = alpha * np.clip(rng.uniform(0.55, 0.9) + 0.5 * (grain - 0.5) * rng.uniform(0.5, 1.6), 0, 1)
    if rng.random() < 0.4:  # a smudge: part of the number wiped into a soft cloud
        sm = ndimage.gaussian_filter(a, rng.uniform(3, 10))
        yy, xx = _grid(shape)
        ys, xs = np.nonzero(alpha > 0.5)
        if len(ys):
            k = rng.integers(len(ys))
            r = rng.uniform(0.05, 0.15) * max(shape)
            wipe = np.exp(-((yy - ys[k]) ** 2 + (xx - xs[k]) ** 2) / (2 * r * r))
            a = a * (1 - 0.7 * wipe) + 0.6 * sm * wipe
    col = np.array([0.92, 0.92, 0.88], np.float32)
    a = np.clip(a + haze * (1 - a), 0, 1)[..., None]
    return surface * (1 - a) + col * a


def glare(scene: np.ndarray, rng, strength=(0.2, 0.65)) -> np.ndarray:
    """Reflections of lights on a glossy surface: bright soft ellipses that wash the ink out."""
    SH, SW = scene.shape[:2]
    yy, xx = _grid((SH, SW))
    g = np.zeros((SH, SW), np.float32)
    for _ in range(int(rng.integers(1, 3))):
        gx, gy = rng.uniform(0.1, 0.9) * SW, rng.uniform(0.1, 0.9) * SH
        rx, ry = rng.uniform(0.08, 0.35) * SW, rng.uniform(0.05, 0.2) * SH
        g += rng.uniform(*strength) * np.exp(-(((xx - gx) / rx) ** 2 + ((yy - gy) / ry) ** 2) ** 1.5)
    g = np.clip(g, 0, 1)[..., None]
    return scene + (1.05 - scene) * g


# -- light and camera -----------------------------------------------------------------------------------------------

def lighting(shape: tuple[int, int], shadow: bool, rng: np.random.Generator) -> np.ndarray:
    """Brightness gradient × vignette × (optionally) a soft shadow; multiplies the scene."""
    h, w = shape
    yy, xx = _grid(shape)
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


def motion_blur(arr: np.ndarray, length: float, angle: float) -> np.ndarray:
    """The phone moving during the exposure: the mean of copies shifted along a short line."""
    n = max(2, int(round(length)))
    out = np.zeros_like(arr)
    for t in np.linspace(-length / 2, length / 2, n):
        dy, dx = int(round(t * np.sin(angle))), int(round(t * np.cos(angle)))
        out += np.roll(arr, (dy, dx), axis=(0, 1))
    return out / n


def camera(scene: np.ndarray, W: int, H: int, digit_h: float, rng) -> Image.Image:
    """Photograph a lit RGB scene (larger than the frame): rotation, perspective, crop to W × H, blur, white
    balance, exposure, sensor noise, sharpening."""
    SH, SW = scene.shape[:2]
    img = Image.fromarray((np.clip(scene, 0, 1) * 255).astype(np.uint8), "RGB")
    ang = np.deg2rad(rng.uniform(-6, 6))
    c, s = np.cos(ang), np.sin(ang)
    dst = np.array([[0, 0], [W, 0], [W, H], [0, H]], float)
    src = (dst - [W / 2, H / 2]) @ np.array([[c, -s], [s, c]]).T + [SW / 2, SH / 2]
    src += rng.uniform(-0.06, 0.06, (4, 2)) * [W, H]
    img = img.transform((W, H), Image.Transform.PERSPECTIVE, perspective_coeffs(src, dst), Image.Resampling.BICUBIC)
    scale = max(W, 400) / 800 * min(1.0, digit_h / 80)
    img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.6) * scale))
    arr = np.asarray(img, np.float32) / 255.0
    if rng.random() < 0.25:
        arr = motion_blur(arr, rng.uniform(2, 9) * scale, rng.uniform(0, np.pi))
    # white balance (tungsten warm, shade cool, or neutral) and exposure, clipped like a sensor
    wb = np.array([1.0, 1.0, 1.0]) + rng.normal(0, 0.02, 3)  # auto white balance keeps paper near grey
    if rng.random() < 0.3:
        wb *= rng.choice([[1.06, 0.99, 0.85], [0.93, 0.99, 1.07]])
    arr = arr * (wb * rng.uniform(0.8, 1.15)).astype(np.float32)
    read, shot = rng.uniform(0.004, 0.02), rng.uniform(0.01, 0.04)
    sigma = read + shot * np.sqrt(np.clip(arr, 0, 1))
    lum = rng.normal(0, 1, arr.shape[:2]).astype(np.float32)[..., None]
    chroma = rng.normal(0, 0.5, arr.shape).astype(np.float32)
    arr = np.clip(arr + sigma * (lum + chroma), 0, 1)
    img = Image.fromarray((arr * 255).astype(np.uint8), "RGB")
    if rng.random() < 0.5:  # the phone's sharpening: halos along edges
        img = img.filter(ImageFilter.UnsharpMask(radius=rng.uniform(1, 2.5), percent=int(rng.uniform(40, 150)),
                                                 threshold=2))
    return img
