"""Image transforms for augmentation and for robustness tests, vectorised over the whole batch.

Geometric changes (rotation, scale, shift) are one affine warp: every output pixel is mapped back to a source
position and read by bilinear interpolation, for all images at once (pixels outside the image read as 0). Stroke
thickness changes are a 3×3 grey-level dilation or erosion. No loop over samples or pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SIZE = 28
_CENTRE = (SIZE - 1) / 2.0


def affine(x: np.ndarray, angle_deg, scale=1.0, shift_x=0.0, shift_y=0.0) -> np.ndarray:
    """Rotate (counter-clockwise, degrees), scale and shift (pixels) each N×28×28 image about its centre.

    Each parameter is a scalar or one value per image.
    """
    n = x.shape[0]
    ang = np.deg2rad(np.broadcast_to(np.asarray(angle_deg, np.float32), (n,)))[:, None, None]
    s = np.broadcast_to(np.asarray(scale, np.float32), (n,))[:, None, None]
    tx = np.broadcast_to(np.asarray(shift_x, np.float32), (n,))[:, None, None]
    ty = np.broadcast_to(np.asarray(shift_y, np.float32), (n,))[:, None, None]
    rows, cols = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    u = cols[None] - _CENTRE - tx  # output coordinates relative to the centre, shift undone
    v = rows[None] - _CENTRE - ty
    cos, sin = np.cos(ang), np.sin(ang)
    # inverse rotation (image y axis points down, so a positive angle turns the digit counter-clockwise)
    src_x = (cos * u - sin * v) / s + _CENTRE
    src_y = (sin * u + cos * v) / s + _CENTRE
    return bilinear(x, src_x, src_y)


def bilinear(x: np.ndarray, src_x: np.ndarray, src_y: np.ndarray) -> np.ndarray:
    """Sample N×H×W images at fractional positions (N×H×W each); outside the image counts as 0."""
    n, h, w = x.shape
    padded = np.zeros((n, h + 2, w + 2), dtype=np.float32)
    padded[:, 1:-1, 1:-1] = x
    sx = np.clip(src_x + 1, 0, w + 0.999)  # shift by the 1-pixel border; clipped positions land on zeros
    sy = np.clip(src_y + 1, 0, h + 0.999)
    x0 = np.floor(sx).astype(np.intp)
    y0 = np.floor(sy).astype(np.intp)
    fx = (sx - x0).astype(np.float32)
    fy = (sy - y0).astype(np.float32)
    flat = padded.reshape(n, -1)
    base = y0 * (w + 2) + x0
    b = base.reshape(n, -1)

    def at(offset: int) -> np.ndarray:
        return np.take_along_axis(flat, b + offset, axis=1).reshape(n, h, w)

    top = at(0) * (1 - fx) + at(1) * fx
    bottom = at(w + 2) * (1 - fx) + at(w + 3) * fx
    return (top * (1 - fy) + bottom * fy).astype(np.float32)


def change_thickness(x: np.ndarray, steps: int) -> np.ndarray:
    """Thicken (steps > 0, grey dilation) or thin (steps < 0, grey erosion) strokes by ``|steps|`` 3×3 passes."""
    out = x
    for _ in range(abs(steps)):  # one pass per step of thickness, each a whole-batch operation
        padded = np.pad(out, ((0, 0), (1, 1), (1, 1)))
        shifted = [padded[:, 1 + dy:1 + dy + SIZE, 1 + dx:1 + dx + SIZE] for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                   if abs(dx) + abs(dy) <= 1]  # a plus-shaped element keeps digits from turning into blobs
        out = np.maximum.reduce(shifted) if steps > 0 else np.minimum.reduce(shifted)
    return out


def add_noise(x: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian pixel noise of standard deviation ``sigma``, clipped back to [0, 1]."""
    return np.clip(x + rng.normal(0, sigma, x.shape).astype(np.float32), 0.0, 1.0)


@dataclass(frozen=True)
class Augmentation:
    """Random mild distortions applied to each training batch (all images differently).

    Defaults follow what helps hand-drawn digits most: rotation ±12°, shift ±2 px, scale ±10 %, and light noise
    on half the images.
    """

    rotation: float = 12.0
    shift: float = 2.0
    scale: float = 0.1
    noise: float = 0.05

    def __call__(self, x: np.ndarray, rng: np.random.Generator, y: np.ndarray | None = None) -> np.ndarray:
        """Distort a float32 batch (N×28×28 or N×28×28×1; the shape is kept); the labels ``y`` are not needed."""
        shape = x.shape
        imgs = x.reshape(-1, SIZE, SIZE)
        n = imgs.shape[0]
        out = affine(
            imgs,
            rng.uniform(-self.rotation, self.rotation, n),
            1.0 + rng.uniform(-self.scale, self.scale, n),
            rng.uniform(-self.shift, self.shift, n),
            rng.uniform(-self.shift, self.shift, n),
        )
        if self.noise > 0:
            noisy = rng.random(n) < 0.5
            out[noisy] = add_noise(out[noisy], self.noise, rng)
        return out.reshape(shape)
