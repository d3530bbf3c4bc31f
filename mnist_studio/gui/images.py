"""Grey images as Qt pictures, one way everywhere: a 2-D array becomes an 8-bit grey QImage or a pixelated pixmap.

Arrays come in two scales, and the caller says which: uint8 is always 0-255; a float array is drawn with
``white`` as full white (1.0 for the network's inputs and the pad's ink, 255.0 for float statistics of uint8
images such as mean images). Values are clipped and rounded; NaN counts as black.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QImage, QPixmap


def gray_bytes(img: np.ndarray, white: float = 1.0) -> np.ndarray:
    """``img`` as contiguous uint8 (0 black, 255 white)."""
    a = np.asarray(img)
    if a.dtype != np.uint8:
        a = (np.clip(np.nan_to_num(a.astype(np.float32) / white), 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
    return np.ascontiguousarray(a)


def gray_qimage(img: np.ndarray, white: float = 1.0) -> QImage:
    """An 8-bit grey QImage that owns its pixels (a copy, so the array may go away)."""
    a = gray_bytes(img, white)
    h, w = a.shape
    return QImage(a.data, w, h, w, QImage.Format.Format_Grayscale8).copy()


def gray_pixmap(img: np.ndarray, side: int, white: float = 1.0) -> QPixmap:
    """The image scaled to ``side`` px on its longer side, pixelated so single pixels stay visible."""
    return QPixmap.fromImage(gray_qimage(img, white)).scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                                             Qt.TransformationMode.FastTransformation)
