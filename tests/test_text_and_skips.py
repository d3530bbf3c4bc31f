"""Printed words around a handwritten number, and strokes a pen broke: synthetic photos with known boxes.

The handwriting is drawn with a thin pen (a ballpoint's few pixels on digits 80 px tall), the print in a bold
sans face of several sizes: thin digits have little ink, so many letters outweigh them, which is how a form's
labels became the line's digit height and a digit each."""

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from mnist_studio.data.photo import clean_page
from mnist_studio.data.picture import read_picture
from mnist_studio.data.segment import components, segment
from mnist_studio.data.strokes_join import stroke_bridges
from mnist_studio.data.text_rows import printed_rows

from test_segment import assert_boxes, glyph, photo, place, ramp, row


def printed(shape, words, x, y, size):
    """Ink (0-1) of ``words`` printed at (x, y) in the default face at ``size`` px, and its box x0, y0, x1, y1."""
    layer = Image.new("L", (shape[1], shape[0]), 0)
    ImageDraw.Draw(layer).text((x, y), words, fill=255, font=ImageFont.load_default(size=size))
    a = np.asarray(layer, np.float32) / 255.0
    rows, cols = np.flatnonzero(a.max(1) > 0.5), np.flatnonzero(a.max(0) > 0.5)
    return a, [cols[0], rows[0], cols[-1] + 1, rows[-1] + 1]


def thin_number(shape, kinds, x=170, y=90, gap=30):
    return place(shape, row([glyph(k, h=80, pen=2.5) for k in kinds], x=x, y=y, gap=gap))


@pytest.mark.parametrize("where", ["left", "above", "below"])
def test_a_printed_label_beside_a_thin_number_is_no_digit(where):
    shape = (300, 640)
    ink, boxes = thin_number(shape, ["1", "7", "4", "0"], x=300)
    at = {"left": ("Total due:", 20, 118, 28), "above": ("Invoice Number Date", 200, 15, 28),
          "below": ("Please write clearly", 200, 235, 28)}[where]
    text, _ = printed(shape, at[0], at[1], at[2], at[3])
    assert not (text > 0.5)[ink > 0.5].any()  # (the print stays clear of the digits)
    gray = photo(np.maximum(ink, text), ramp(shape, 0.75, 0.95))
    reading = read_picture(gray)
    assert_boxes(reading.boxes, boxes)
    assert reading.layout.printed == 1
    # the line's height is the handwriting's, not the letters'
    assert abs(reading.layout.height - 80) <= 6


def test_print_on_both_sides_and_a_fat_heading():
    shape = (340, 560)
    ink, boxes = thin_number(shape, ["4", "1", "7"], x=200, y=120)
    label, _ = printed(shape, "Amount:", 20, 150, 24)
    heading, _ = printed(shape, "ORDER FORM", 190, 20, 34)
    small, _ = printed(shape, "Received by", 380, 260, 16)
    gray = photo(np.maximum.reduce([ink, label, heading, small]), np.full(shape, 0.9, np.float32))
    reading = read_picture(gray)
    assert_boxes(reading.boxes, boxes)
    assert reading.layout.printed == 3


def test_handwritten_digits_in_a_row_are_not_taken_for_print():
    """Neat handwriting shares a baseline too; beside smaller print, it is the number."""
    shape = (260, 640)
    ink, boxes = place(shape, row([glyph(k, h=70, pen=6.0) for k in ["1", "7", "4", "0", "7", "1"]], x=40,
                                  y=70, gap=24))
    text, _ = printed(shape, "Customer account", 40, 200, 20)
    reading = read_picture(photo(np.maximum(ink, text), np.full(shape, 0.9, np.float32)))
    assert_boxes(reading.boxes, boxes)
    assert reading.layout.printed == 1


def test_a_picture_of_print_alone_is_read_but_doubted():
    shape = (200, 620)
    text, _ = printed(shape, "Please write clearly in ink", 20, 70, 40)
    reading = read_picture(photo(text, np.full(shape, 0.9, np.float32)))
    assert len(reading.boxes) >= 10  # a mark a letter: read, as there is nothing else ...
    assert any("printed" in d for d in reading.doubts)  # ... and said to be print


def test_printed_rows_judges_rows_not_single_blobs():
    # three marks of one height on one baseline, half the height of the other ink, apart from it: print
    boxes = np.array([[100, 110, 10, 18], [100, 110, 20, 27], [100, 110, 29, 36],
                      [20, 60, 100, 125], [22, 61, 140, 165]])
    areas = np.array([40, 40, 40, 300, 300])
    mask, rows, alone, cap, _ = printed_rows(boxes, areas, (200, 300))
    assert mask.tolist() == [True, True, True, False, False] and rows == 1 and not alone and cap == 10
    # the same marks with wandering bottoms (a hand's) are no printed row
    wander = boxes.copy()
    wander[1, :2] += 3
    wander[2, :2] -= 3
    assert not printed_rows(wander, areas, (200, 300))[0].any()
    # and marks on a much taller blob (the dashes of a digit's broken bar) are none either
    on_digit = boxes.copy()
    on_digit[3] = [90, 140, 5, 40]
    assert not printed_rows(on_digit, areas, (200, 300))[0][:3].any()


def skipping(ink, spots, radius, strength=0.0):
    """``ink`` with round gaps (a ballpoint skipping) at ``spots`` [(x, y)], ``radius`` px; ``strength`` > 0: the
    ink is not gone there but that much weaker (a marker's streak, below the threshold)."""
    yy, xx = np.mgrid[0:ink.shape[0], 0:ink.shape[1]]
    out = ink.copy()
    for x, y in spots:
        spot = (yy - y) ** 2 + (xx - x) ** 2 <= radius ** 2
        out[spot] *= strength
    return out


def skip_at_mid_height(ink, boxes, radius, strength=0.0):
    """Gaps where each digit's strokes cross its middle height: every digit comes apart into a top and a bottom
    half, so the pieces are half a digit tall (the line's height, taken from them, would be halved)."""
    spots = []
    for x0, y0, x1, y1 in boxes:
        y = (y0 + y1) // 2
        cols = np.flatnonzero(ink[y, x0:x1] > 0.5)
        runs = np.split(cols, np.flatnonzero(np.diff(cols) > 1) + 1)
        spots += [(x0 + int(r.mean()), y) for r in runs if len(r)]
    return skipping(ink, spots, radius, strength)


def test_a_skipping_pen_leaves_each_digit_whole():
    shape = (200, 520)
    ink, boxes = place(shape, row([glyph(k, h=80, pen=5.0) for k in ["1", "7", "0", "4", "1"]], x=40, y=50,
                                  gap=34))
    broken = skip_at_mid_height(ink, boxes, radius=4)
    gray = photo(broken, ramp(shape, 0.75, 0.95))
    clean = clean_page(gray)
    assert len(components(clean.binary)[2]) >= 11  # really in pieces: 5 digits, 6 strokes cut
    reading = read_picture(gray)
    assert_boxes(reading.boxes, boxes)
    assert [d.pieces for d in reading.layout.digits] == [1] * 5  # each bridged into one blob
    # and the network gets the digits as if the pen had not skipped
    whole = read_picture(photo(ink, ramp(shape, 0.75, 0.95)))
    assert np.abs(reading.inputs - whole.inputs).mean(axis=(1, 2)).max() < 0.05


@pytest.mark.parametrize("lines_grown", [True, False])
def test_a_marker_streak_is_bridged_where_the_ink_goes_on_faintly(lines_grown, monkeypatch):
    """Twice: the cleaning grows the strokes along the faint line (stroke_scale.py); without that, the segmenter's
    bridging of faint gaps still joins the halves."""
    from mnist_studio.data import photo as photo_cleaning

    if not lines_grown:
        monkeypatch.setattr(photo_cleaning, "grow_along_lines", lambda binary, *args: binary)
    shape = (200, 460)
    ink, boxes = place(shape, row([glyph(k, h=80, pen=7.0) for k in ["1", "7", "0", "1"]], x=40, y=50, gap=40))
    # streaks 4-5 pen widths long where the ink is a fifth as strong: too long a gap for a skip ...
    streaked = skip_at_mid_height(ink, boxes, radius=16, strength=0.2)
    gray = photo(streaked, np.full(shape, 0.9, np.float32))
    assert len(components(clean_page(gray).binary)[2]) == (4 if lines_grown else 8)  # whole, or each in two
    reading = read_picture(gray)
    # ... but the faint ink across it says the stroke goes on
    assert_boxes(reading.boxes, boxes)
    assert [d.pieces for d in reading.layout.digits] == [1] * 4
    # where the gap holds no ink at all, it is left open (and the number falls apart: halves of digits)
    gone = photo(skip_at_mid_height(ink, boxes, radius=16), np.full(shape, 0.9, np.float32))
    assert len(read_picture(gone).boxes) > 4


def test_neighbouring_digits_of_tight_handwriting_are_not_bridged():
    shape = (180, 360)
    one, zero = glyph("1", h=80, pen=5.0), glyph("0", h=80, pen=5.0)
    # gaps of 5-8 px (one to two pen widths): as close as a skip, but side by side
    ink, boxes = place(shape, [(one, 40, 40), (one, 40 + one.shape[1] + 6, 40),
                               (zero, 40 + 2 * one.shape[1] + 12, 40),
                               (zero, 40 + 2 * one.shape[1] + zero.shape[1] + 20, 40)])
    gray = photo(ink, np.full(shape, 0.9, np.float32))
    clean = clean_page(gray)
    labels, boxes_, areas = components(clean.binary)
    from mnist_studio.data.photo import rough_stroke_width

    assert stroke_bridges(labels, boxes_, np.arange(1, len(areas) + 1), rough_stroke_width(clean.binary)) is None
    assert_boxes(read_picture(gray).boxes, boxes)


def test_a_printed_row_photographed_askew_is_print(monkeypatch):
    """Words photographed 6° askew climb from one to the next by more than a tenth of their height: they are still
    linked into a row (``text_rows.SLOPE``) and found to be print beside the taller handwriting."""
    import mnist_studio.data.text_rows as text_rows

    words = [[300 - 6 * k, 320 - 6 * k, 40 + 62 * k, 96 + 62 * k] for k in range(5)]  # 20 px tall, 56 wide
    digits = [[100, 200, 60 + 90 * k, 120 + 90 * k] for k in range(3)]
    boxes = np.array(words + digits)
    areas = np.array([500] * 5 + [900] * 3)
    assert printed_rows(boxes, areas, (400, 500)).mask.tolist() == [True] * 5 + [False] * 3
    monkeypatch.setattr(text_rows, "SLOPE", 0.0)
    assert not printed_rows(boxes, areas, (400, 500)).mask.any()


def test_a_faint_number_beside_black_print_is_read(monkeypatch):
    """Two rows of black print and a pencil number five times fainter: the print set the ink's level, the
    number fell under the threshold and the print was read as digits. The page is read again with the print (and
    ink no taller) left out of the ink's level (``picture.PRINT_LEVEL``): the three digits, exactly."""
    import mnist_studio.data.picture as picture

    shape = (360, 640)
    ink, boxes = place(shape, row([glyph(k, h=90) for k in ("7", "4", "1")], x=200, y=170, gap=60))
    top, _ = printed(shape, "Please write the total clearly", 40, 40, 26)
    bottom, _ = printed(shape, "Signature and date", 40, 300, 26)
    paper = np.full(shape, 0.9, np.float32)
    gray = paper * (1 - 0.85 * np.maximum(top, bottom)) * (1 - 0.18 * ink)
    gray = np.clip(gray + np.random.default_rng(0).normal(0, 0.01, shape), 0, 1).astype(np.float32)
    assert_boxes(read_picture(gray).boxes, boxes, tol=2)
    monkeypatch.setattr(picture, "PRINT_LEVEL", 0.0)
    assert len(read_picture(gray).boxes) > 20  # the print, letter by letter


def test_the_second_reading_of_a_page_with_print_keeps_the_first_ones_background(monkeypatch):
    """Read again without the print, only the threshold changes (it depends on the ink's level): ``clean_again``
    gives the very ink a whole new cleaning with the same pixels excluded gives, without estimating the
    background a second time."""
    import mnist_studio.data.photo as photo_mod
    from mnist_studio.data.photo import clean_again

    shape = (360, 640)
    ink, _ = place(shape, row([glyph(k, h=90) for k in ("7", "4", "1")], x=200, y=170, gap=60))
    top, _ = printed(shape, "Please write the total clearly", 40, 40, 26)
    gray = ramp(shape, 0.75, 0.95) * (1 - 0.85 * top) * (1 - 0.18 * ink)
    gray = np.clip(gray + np.random.default_rng(1).normal(0, 0.01, shape), 0, 1).astype(np.float32)
    first = clean_page(gray)
    exclude = np.zeros(first.binary.shape, bool)
    exclude[: first.binary.shape[0] // 4] = True  # the print's rows
    whole = clean_page(gray, exclude=exclude)
    assert whole.level < 0.5 * first.level  # the pencil number's own level: the test has something to show
    estimates = []
    real = photo_mod.estimate_background
    monkeypatch.setattr(photo_mod, "estimate_background", lambda *a, **k: estimates.append(1) or real(*a, **k))
    again = clean_again(first, exclude)
    assert not estimates
    assert again.level == pytest.approx(whole.level, rel=1e-6)
    assert np.array_equal(again.binary, whole.binary)
    assert np.array_equal(again.background, first.background)
