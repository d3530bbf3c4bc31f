"""The one array → picture helper: both scales, rounding, NaN, and the pixelated scaling."""

import numpy as np
from PyQt6.QtGui import QImage

from mnist_studio.gui.images import gray_bytes, gray_pixmap, gray_qimage


def pixels(img: QImage) -> list[list[int]]:
    return [[img.pixelColor(x, y).value() for x in range(img.width())] for y in range(img.height())]


def test_floats_are_drawn_against_their_white_and_uint8_as_it_is(qtbot):
    unit = np.array([[0.0, 0.5, 1.0, 1.7], [-0.3, np.nan, 0.002, 0.998]], np.float32)
    assert gray_bytes(unit).tolist() == [[0, 128, 255, 255], [0, 0, 1, 254]]
    assert pixels(gray_qimage(unit)) == [[0, 128, 255, 255], [0, 0, 1, 254]]
    means = unit * 255  # float statistics of 0-255 images, e.g. mean images
    assert pixels(gray_qimage(means, white=255.0)) == pixels(gray_qimage(unit))
    raw = np.array([[0, 7, 200, 255]], np.uint8)
    assert pixels(gray_qimage(raw)) == [[0, 7, 200, 255]] and pixels(gray_qimage(raw, white=255.0)) == [[0, 7, 200, 255]]


def test_pixmaps_keep_the_aspect_and_stay_pixelated(qtbot):
    img = np.zeros((28, 14), np.float32)
    img[:, 7:] = 1.0  # right half white
    pix = gray_pixmap(img, 56)
    assert (pix.width(), pix.height()) == (28, 56)
    out = pix.toImage()
    assert out.pixelColor(13, 30).value() == 0 and out.pixelColor(14, 30).value() == 255  # a hard edge: no smoothing
