"""One way to read a picture file as grey levels, used by ``predict``, the pad's drop and open, and photos.

Why one reader: a picture can be a 48-megapixel phone JPEG, a 16-bit scan, a float TIFF, a palette GIF or a
175 KB PNG that decodes to 12000 × 12000 pixels. :func:`read_image`

- refuses what is not a regular file, and any picture above :data:`MAX_DECODED_PIXELS` once decoded at the
  smallest size its format allows, from the header alone (milliseconds, no memory);
- decodes JPEGs already reduced (Pillow's ``draft``: the decoder scales by 1/2, 1/4 or 1/8 and outputs grey), and
  reduces any other large picture right after decoding, so the working picture has at most
  :data:`MAX_WORK_PIXELS` pixels (a 48 MP phone photo needs well under 500 MB);
- turns every mode into grey levels 0..1 by what its numbers mean: 8-bit modes by 255, 16-bit by 65535, 32-bit
  integers by the smallest of the 8/16/32-bit ranges that holds them, floats as 0..1 if they are, else by the
  same rule; colour by luminance; transparency over a sheet of the opposite brightness to the ink (dark ink over
  white), so a transparent drawing stays visible;
- turns the picture upright by its EXIF orientation (a phone photo taken sideways).

Every failure is a :class:`~mnist_studio.data.idx.DatasetError` naming the file and the problem.
"""

from __future__ import annotations

import io
import math
import stat
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from mnist_studio.data.idx import DatasetError

MAX_DECODED_PIXELS = 60_000_000  # after the reduced decode a format allows; above: refused
MAX_WORK_PIXELS = 16_000_000  # the picture the reader hands on: digits in a phone photo stay 100+ px tall
MAX_FILE_BYTES = 256 * 2**20
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
_REDUCIBLE = ("L", "RGB", "I", "F", "CMYK")  # modes Image.reduce takes (alpha modes: not premultiplied, so no)


@dataclass
class Picture:
    """Grey levels (H × W float32, 0 = black, 1 = white) and how much the file's picture was reduced: a pixel of
    ``gray`` covers ``scale`` × ``scale`` pixels of the original (1.0: not reduced)."""

    gray: np.ndarray
    scale: float = 1.0
    original_size: tuple[int, int] = (0, 0)  # (width, height) in the file, after EXIF rotation


def read_image(path: str | Path) -> Picture:
    """Read ``path`` as grey levels (see the module docstring); raises DatasetError."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except OSError as e:
        raise DatasetError(f"{path}: cannot be read ({e.strerror or e})") from None
    if not stat.S_ISREG(st.st_mode):
        raise DatasetError(f"{path}: not a picture file (a folder or a special file)")
    if st.st_size > MAX_FILE_BYTES:
        raise DatasetError(f"{path}: {st.st_size / 2**20:,.0f} MB is too large for a picture "
                           f"(at most {MAX_FILE_BYTES // 2**20} MB)")
    try:
        data = path.read_bytes()  # Pillow then reads from memory: a damaged chunk length cannot make it
    except OSError as e:  # allocate gigabytes for a read, as a file's read(n) does
        raise DatasetError(f"{path}: cannot be read ({e.strerror or e})") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's own bomb warnings: our limits below are stricter
            with Image.open(io.BytesIO(data)) as im:
                return _read(im, path)
    except DatasetError:
        raise
    except UnidentifiedImageError:
        raise DatasetError(f"{path}: not an image file Pillow can read") from None
    except Image.DecompressionBombError:
        raise DatasetError(f"{path}: the picture is far too large to read (more than "
                           f"{MAX_DECODED_PIXELS / 1e6:.0f} megapixels)") from None
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError, KeyError, ZeroDivisionError,
            struct.error, MemoryError) as e:  # what Pillow's decoders raise for damaged data
        raise DatasetError(f"{path}: cannot read the image ({str(e)[:200] or type(e).__name__})") from None


def _read(im: Image.Image, path: Path) -> Picture:
    w, h = im.size
    if w < 1 or h < 1:
        raise DatasetError(f"{path}: the picture has no pixels ({w}×{h})")
    if im.format == "JPEG" and w * h > MAX_WORK_PIXELS:  # decode at 1/2, 1/4 or 1/8 of the size, in grey
        k = _factor(w * h, MAX_WORK_PIXELS)
        im.draft("L" if im.mode in ("L", "RGB", "YCbCr") else None, (max(1, w // k), max(1, h // k)))
    if im.width * im.height > MAX_DECODED_PIXELS:  # im.size is the reduced size a draft will decode
        raise DatasetError(f"{path}: the picture is {w:,}×{h:,} pixels ({w * h / 1e6:,.0f} megapixels); at most "
                           f"{MAX_DECODED_PIXELS / 1e6:.0f} megapixels can be read")
    im.load()
    stored = im.size
    try:
        im = ImageOps.exif_transpose(im)
    except (ValueError, TypeError, KeyError, SyntaxError, OSError, struct.error):
        pass  # damaged EXIF data: the picture as stored
    original = (h, w) if im.size != stored else (w, h)  # a quarter turn swaps the sides
    k = _factor(im.width * im.height, MAX_WORK_PIXELS)
    if k > 1 and im.mode in _REDUCIBLE:
        im = im.reduce(k)  # block means, before any conversion copies the full picture
        k = 1
    gray = _gray(im)
    if k > 1:  # a mode Pillow cannot reduce: block means of the grey levels
        hh, ww = gray.shape[0] // k * k, gray.shape[1] // k * k
        gray = gray[:hh, :ww].reshape(hh // k, k, ww // k, k).mean(axis=(1, 3), dtype=np.float32)
    return Picture(np.ascontiguousarray(gray, dtype=np.float32), original[0] / gray.shape[1], original)


def _factor(pixels: int, limit: int) -> int:
    """The smallest whole reduction factor k with pixels / k² ≤ limit."""
    return max(1, math.ceil(math.sqrt(pixels / limit)))


def _scaled(values: np.ndarray) -> np.ndarray:
    """Integer or float grey values to 0..1 by the smallest of the 8/16/32-bit ranges that holds them (floats
    already within 0..1 are kept)."""
    v = values.astype(np.float32, copy=False)
    if v.size == 0:
        return v
    finite = np.isfinite(v)
    if not finite.all():
        v = np.where(finite, v, 0.0).astype(np.float32)
    top = float(v.max())
    if values.dtype.kind == "f" and top <= 1.0:
        return np.clip(v, 0.0, 1.0)
    for full in (255.0, 65535.0, 2.0**31 - 1):
        if top <= full:
            break
    else:
        full = top
    v = v / np.float32(full)
    return np.clip(v, 0.0, 1.0, out=v)


def _gray(im: Image.Image) -> np.ndarray:
    """Any mode as grey levels 0..1 (float32)."""
    mode = im.mode
    if mode in _ALPHA_MODES or (mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        alpha = np.asarray(rgba.getchannel("A"), dtype=np.float32) / 255.0
        lum = np.asarray(rgba.convert("L"), dtype=np.float32) / 255.0
        if alpha.min() < 0.99:  # ink drawn on a transparent sheet: put it on a sheet of the opposite brightness
            solid = alpha > 0.5
            dark_ink = solid.any() and float(np.median(lum[solid])) < 0.5
            background = 1.0 if dark_ink else 0.0
            return lum * alpha + background * (1.0 - alpha)
        return lum
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return _scaled(np.asarray(im))
    if mode == "L":
        return np.asarray(im, dtype=np.float32) / np.float32(255.0)
    return np.asarray(im.convert("L"), dtype=np.float32) / np.float32(255.0)
