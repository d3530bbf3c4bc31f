"""Marks cut by the picture's frame at a line's end (data/frame_cut.py): a strip running along the left or right
border beside a number that stands clear of it is no digit; a digit that only touches the border, or a tight crop
whose digits all touch it, is read as before."""

import numpy as np

from mnist_studio.data.picture import read_picture

from test_segment import assert_boxes, glyph, photo, place, row

SHAPE = (200, 420)


def number(x=60):
    return row([glyph(k, h=60, pen=6.0) for k in ["1", "7", "4"]], x=x, y=60, gap=30)


def frame_piece() -> np.ndarray:
    """A hollow strip a digit tall (the page's rim past a sheet's edge, with paper showing through): neither long
    and thin nor solid, so its shape alone does not give it away."""
    a = np.zeros((64, 18), np.float32)
    a[:, :4] = a[:, -4:] = a[:4, :] = a[-4:, :] = 1.0
    a[28:34, :] = 1.0
    return a


def test_a_strip_along_the_right_border_is_left_out():
    piece = frame_piece()
    ink, boxes = place(SHAPE, number() + [(piece, SHAPE[1] - piece.shape[1], 64)])
    gray = photo(ink, np.full(SHAPE, 0.9, np.float32))
    assert_boxes(read_picture(gray).boxes, boxes[:3])
    # on the left too
    mirrored = photo(ink[:, ::-1].copy(), np.full(SHAPE, 0.9, np.float32))
    expected = [[SHAPE[1] - b[2], b[1], SHAPE[1] - b[0], b[3]] for b in boxes[:3]][::-1]
    assert_boxes(read_picture(mirrored).boxes, expected)


def test_a_digit_reaching_the_border_at_a_point_stays():
    seven = glyph("7", h=60, pen=6.0)
    cols = np.flatnonzero(seven.max(0) > 0.5)
    items = number() + [(seven[:, :cols[-1] + 1], SHAPE[1] - cols[-1] - 1, 66)]  # its corner at the border
    ink, boxes = place(SHAPE, items)
    assert_boxes(read_picture(photo(ink, np.full(SHAPE, 0.9, np.float32))).boxes, boxes)


def test_a_tight_crop_keeps_its_end_digits():
    """A scanned row of digits: every digit touches the top and bottom, the last one's side runs along the right
    border (a strip there, were the other digits clear of the border)."""
    inks = [glyph(k, h=60, pen=6.0) for k in ["7", "4", "0"]]
    crops = []
    for a in inks:
        rows, cols = np.flatnonzero(a.max(1) > 0.5), np.flatnonzero(a.max(0) > 0.5)
        crops.append(a[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1])
    h = max(c.shape[0] for c in crops)
    x, items = 8, []
    for c in crops:
        items.append((c, x, 0))
        x += c.shape[1] + 20
    shape = (h, x - 20)
    ink, boxes = place(shape, items)
    assert_boxes(read_picture(photo(ink, np.full(shape, 0.9, np.float32))).boxes, boxes)
