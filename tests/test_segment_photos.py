"""The segmenter on what phone photos got wrong (issue 12): faint pencil (strokes 10 % darker than the paper,
below the 12 % a shadow's edge needs) found whole, a faint printed grid alone giving no digits, the sheet's edge
and the desk beyond it (an L along two sides of the picture) neither counted as a digit nor allowed to set the
digits' height. Synthetic pictures with known boxes, built with the helpers of ``test_segment``."""

import numpy as np

from test_segment import assert_boxes, ds, four, glyph, mnist_digit, photo, place, ramp, row  # noqa: F401


def test_faint_pencil_digits_are_found(four):
    """Pencil 10 % darker than the paper (below the 12 % a shadow's edge needs), on grainy paper under uneven
    light: every digit found, boxes within a few pixels."""
    shape, (ink, boxes) = four
    rng = np.random.default_rng(5)
    paper = ramp(shape, 0.8, 0.95) * (1 + 0.004 * rng.normal(0, 1, shape)).astype(np.float32)
    gray = np.clip(paper * (1 - 0.1 * ink) + rng.normal(0, 0.003, shape), 0, 1).astype(np.float32)
    from mnist_studio.data.picture import read_picture

    reading = read_picture(gray)
    assert_boxes(reading.boxes, boxes, tol=4)


def test_the_sheet_edge_and_desk_are_no_digits(ds):
    """The desk shows along the top and the right of the picture (an L-shaped dark band, far bigger than the
    number): it is neither a digit nor the measure of the digits' height."""
    shape = (400, 600)
    ink, boxes = place(shape, row([mnist_digit(ds, i) for i in (0, 1, 2, 3)], x=60, y=170, gap=36))
    paper = np.full(shape, 0.9, np.float32)
    paper[:16, :] = 0.3  # the desk above the sheet ...
    paper[:, -22:] = 0.3  # ... and right of it
    from mnist_studio.data.picture import read_picture

    reading = read_picture(photo(ink, paper, noise=0.01))
    assert_boxes(reading.boxes, boxes)
    assert reading.layout.height < 1.3 * (boxes[0][3] - boxes[0][1])


def test_a_grid_of_faint_lines_leaves_no_digits():
    """Squared paper with faint grey lines (as faint as a pencil's strokes) and no writing: no digits."""
    shape = (240, 360)
    paper = np.full(shape, 0.92, np.float32)
    paper[5::24, :] *= 0.9
    paper[:, 7::24] *= 0.9
    rng = np.random.default_rng(2)
    from mnist_studio.data.picture import read_picture

    gray = np.clip(paper + rng.normal(0, 0.006, shape), 0, 1).astype(np.float32)
    assert read_picture(gray).boxes == []


def test_a_digit_written_small_is_read_but_a_stroke_that_small_is_dirt():
    """A 0 written half as tall as its neighbours (under the segmenter's fragment height, 0.55 × the line's) is a
    closed loop on the line: it is read, in its place. The same-sized open stroke on the line (a scratch, a
    broken-off piece with no digit to join) is still left out."""
    from mnist_studio.data.picture import read_picture

    shape = (180, 520)
    big = [glyph(k, h=72) for k in ("7", "4", "1")]
    small0, small_arc = glyph("0", h=34), glyph("1", h=34)
    items = [(big[0], 40, 50), (big[1], 130, 50), (small0, 230, 84), (big[2], 300, 50)]
    ink, boxes = place(shape, items)
    paper = np.full(shape, 0.92, np.float32)
    assert_boxes(read_picture(photo(ink, paper, noise=0.01)).boxes, boxes)
    # the same row with a short open stroke where the small 0 was: three digits
    items[2] = (small_arc, 240, 84)
    ink, boxes = place(shape, items)
    assert_boxes(read_picture(photo(ink, paper, noise=0.01)).boxes, [boxes[0], boxes[1], boxes[3]])


def test_a_faint_digit_beside_the_number_is_read_but_not_one_far_past_its_end(ds):
    """A digit written much lighter than the rest (below the threshold) right after the number's last digit is
    read as the number's; the same faint mark three digits' widths past the number's end is grain or a smudge on
    the line, not a digit of it (before, it was read as one)."""
    from mnist_studio.data.picture import read_picture

    shape = (170, 760)
    paper = np.full(shape, 0.92, np.float32)
    for gap, read in ((36, True), (260, False)):
        items = row([mnist_digit(ds, i) for i in (0, 1, 2, 3)], x=40, y=50, gap=36)
        last = items[-1]
        items.append((mnist_digit(ds, 4), last[1] + last[0].shape[1] + gap, 50))
        ink, boxes = place(shape, items)
        ink[:, boxes[4][0] - 2:boxes[4][2] + 2] *= 0.3  # the fifth digit written lightly
        reading = read_picture(photo(ink, paper, ink_level=0.1, noise=0.01))
        assert_boxes(reading.boxes, boxes if read else boxes[:4])


def test_a_faint_digit_as_short_as_the_shortest_digit_found_is_read():
    """Round digits are written shorter than the rest (a 0 beside a 7 and a 4); one of them under a glare, below
    the threshold, is looked for as tall as the line's digits (0.7 × their median) and was missed. A faint digit
    as tall as the shortest digit found is read now; the same faint 0 beside digits all full height, shorter than
    every one of them, is still not taken for a digit."""
    from mnist_studio.data.picture import read_picture

    shape = (180, 620)
    paper = np.full(shape, 0.92, np.float32)
    for short_found, read in ((52, True), (72, False)):
        items = [(glyph("7", h=72), 40, 50), (glyph("4", h=72), 130, 50), (glyph("0", h=short_found), 230, 60),
                 (glyph("0", h=48), 330, 66), (glyph("1", h=72), 430, 50)]
        ink, boxes = place(shape, items)
        ink[:, boxes[3][0] - 3:boxes[3][2] + 3] *= 0.3  # the second 0 under a glare
        reading = read_picture(photo(ink, paper, ink_level=0.1, noise=0.01))
        assert_boxes(reading.boxes, boxes if read else boxes[:3] + boxes[4:])


def test_the_ragged_strip_the_desk_leaves_along_the_sheets_edge_is_no_digit(monkeypatch):
    """Where the desk shows beyond the sheet, the flattening leaves a ragged strip of it along the sheet's edge,
    which turns up the side of the picture: an L, neither thin nor hollow in its box, that was cut into three
    "digits" (211 read 24711). Nearly all of it lies along the picture's border: it is the sheet's edge."""
    from mnist_studio.data import blob_filters, segment
    from mnist_studio.data.photo import Cleaned

    shape = (400, 600)
    ink, boxes = place(shape, row([glyph(k, h=90) for k in ("7", "1", "4")], x=150, y=250, gap=60))
    binary = ink > 0.5  # (low in the picture, beside the L's middle: on its reading line)
    rng = np.random.default_rng(3)
    xs = np.arange(150, shape[1])
    top = (shape[0] - 20 - 8 * np.sin(xs / 23.0) - 6 * rng.random(len(xs))).astype(int)
    binary[:, 150:] |= np.arange(shape[0])[:, None] >= top[None, :]  # the strip along the bottom ...
    binary[220:, -3:] = True  # ... and up the right edge
    cleaned = Cleaned(1.0 - 0.5 * binary, 1.0, np.ones(shape, np.float32), binary.astype(np.float32), binary,
                      0.3, False, 0.01)

    def found():
        return [[d.box[2], d.box[0], d.box[3], d.box[1]] for d in segment.segment(cleaned).digits]

    assert_boxes(found(), boxes, tol=1)
    monkeypatch.setattr(blob_filters, "RIM_SHARE", 2.0)  # the border's rim not looked at: the L is read as digits
    assert len(found()) > 3


def test_a_faint_digit_close_beside_a_found_one_is_read(monkeypatch):
    """A faint chalk 7 written a few pixels from a bright 3 (437454 read 43454): its faint ink, the gaps in it
    closed, joined the 3 and the blob was no candidate. The found digit's own ink is left out of the search."""
    from mnist_studio.data import faint
    from mnist_studio.data.photo import Cleaned
    from mnist_studio.data.segment import Digit, Group, Layout

    shape = (200, 300)
    binary = np.zeros(shape, bool)
    binary[50:150, 140:148] = binary[50:58, 140:200] = binary[142:150, 140:200] = True  # a bright digit
    binary[50:150, 192:200] = True
    ink = binary.astype(np.float32)
    seven = np.zeros(shape, bool)
    seven[52:60, 90:136] = seven[52:148, 128:136] = True  # a faint 7, 4 px from it
    ink[seven] = 0.4
    cleaned = Cleaned(1.0 - 0.5 * ink, 1.0, np.ones(shape, np.float32), ink, binary, 0.3, False, 0.01)
    layout = Layout([Group([[Digit((50, 150, 140, 200), binary[50:150, 140:200])]], [1.0])], height=100.0)
    extra = faint.faint_digits(cleaned, layout)
    assert extra is not None and extra[seven].all() and not extra[:, 138:].any()
    monkeypatch.setattr(faint, "APART", 0)  # found digits left in: the 7 joins the bright digit and is lost
    assert faint.faint_digits(cleaned, layout) is None
