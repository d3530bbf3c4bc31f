"""The segmenter on the surfaces of issue 12's third round: squared paper with a margin line (faint pieces of the
grid are no digits), faint pencil broken into dashes by its grain, and a whiteboard marker's stroke cut by a
glare. Synthetic pictures with known boxes, built with ``test_segment``'s
helpers; each failed before the change it tests (the digit count or the boxes were wrong)."""

import numpy as np
import pytest

from test_segment import assert_boxes, ds, glyph, mnist_digit, photo, place, row  # noqa: F401

from mnist_studio.data.picture import read_picture


def grid_paper(shape, spacing, strength, thickness=2, margin=None, offset=(5, 7)):
    """Paper (0.92) with a squared grid every ``spacing`` px of ``strength`` contrast, and a vertical margin line
    (twice as strong, three px wide) at column ``margin``: the printed lines' own ink map."""
    lines = np.zeros(shape, np.float32)
    for y in range(offset[0], shape[0], spacing):
        lines[y:y + thickness] = strength
    for x in range(offset[1], shape[1], spacing):
        lines[:, x:x + thickness] = strength
    if margin is not None:
        lines[:, margin:margin + 3] = min(1.0, 2 * strength)
    return np.full(shape, 0.92, np.float32), lines


def test_faint_grid_squares_beside_the_number_are_no_digits(ds):
    """Squared paper whose faint grid (a third of the pen's contrast: below the threshold, above the faint-digit
    search's bar) comes and goes in patches, with a margin line: pieces of squares as tall as the digits sit on
    their line, yet none is read as a faint digit (before, one was)."""
    from scipy import ndimage

    shape = (260, 560)
    ink, boxes = place(shape, row([mnist_digit(ds, i, h=72) for i in (1, 2, 3)], x=190, y=90, gap=40))
    paper, lines = grid_paper(shape, spacing=40, strength=0.22)
    rng = np.random.default_rng(1)
    patches = ndimage.zoom(rng.random((14, 29)), 20, order=0)[:shape[0], :shape[1]] < 0.75
    lines = np.where(patches, lines, 0)
    lines[:, 120:123] = 0.6  # the margin
    reading = read_picture(photo(np.maximum(ink, lines), paper, noise=0.006, seed=1))
    assert_boxes(reading.boxes, boxes, tol=4)


def dashed(ink, period, gap, seed=0):
    """``ink`` broken into dashes: every ``period`` px along x and y, ``gap`` px where the pencil left almost
    nothing (a fifth of its ink): a pencil's grain on a rough sheet."""
    rng = np.random.default_rng(seed)
    h, w = ink.shape
    yy, xx = np.mgrid[0:h, 0:w]
    phase = rng.integers(0, period, 2)
    holes = ((xx + phase[0]) % period < gap) | ((yy + phase[1]) % period < gap)
    return np.where(holes, 0.2 * ink, ink)


def test_faint_pencil_broken_into_dashes_is_one_digit_each(ds):
    """Faint pencil (17 % darker than the paper) whose strokes the grain breaks every 9 px for 3 px: each digit
    is still one box, not a handful of dashes read as digits."""
    shape = (200, 460)
    ink, boxes = place(shape, row([mnist_digit(ds, i, h=90) for i in (0, 7, 4)], x=50, y=50, gap=50))
    gray = photo(dashed(ink, period=9, gap=3), np.full(shape, 0.9, np.float32), ink_level=0.83, noise=0.008)
    reading = read_picture(gray)
    assert_boxes(reading.boxes, boxes, tol=4)


def test_a_glare_across_a_marker_stroke_does_not_cut_it():
    """A whiteboard 7 and 4 with a glare's bright band across the 7's stem: there the marker keeps under a third
    of its contrast (faint, but still there); the 7 is one digit, not its bar and its foot."""
    shape = (220, 420)
    seven, four = glyph("7", h=120, pen=12.0), glyph("4", h=120, pen=12.0)
    ink, boxes = place(shape, [(seven, 90, 50), (four, 230, 50)])
    band = np.exp(-((np.arange(shape[0])[:, None] - 125) / 12.0) ** 4)  # the glare, 24 px high, across the stem
    washed = ink.copy()
    washed[:, :200] *= 1 - 0.7 * band
    board = np.full(shape, 0.85, np.float32) + 0.12 * band  # the glare also brightens the board
    reading = read_picture(photo(washed, board, ink_level=0.2, noise=0.008))
    assert_boxes(reading.boxes, boxes, tol=4)



@pytest.mark.parametrize("strength", [0.38, 0.42])
def test_a_boards_haze_against_the_digits_is_no_ink(ds, strength):
    """Chalk on a board with a smudge of wiped-off chalk under the feet of the first two digits: a broad, smooth
    cloud of light at two fifths of the strokes' contrast, above the threshold strokes grow into. The strokes grew
    into the cloud (the 1 and the 0 became one blob, with the cloud in its box); a stroke now grows only where it
    stands out from the haze beside it, and every box is the digit's. (Where a cloud lies along a stroke, the
    faint lines grown from the strokes later still reach into it a little: not tested here.)"""
    shape = (240, 520)
    ink, boxes = place(shape, row([mnist_digit(ds, i, h=72) for i in (2, 3, 7)], x=120, y=80, gap=40))
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    haze = (strength * np.exp(-(((xx - 190) / 70.0) ** 2 + ((yy - 160) / 26.0) ** 2))).astype(np.float32)
    gray = photo(np.maximum(ink, haze), np.full(shape, 0.9, np.float32), noise=0.01, seed=3, light_on_dark=True)
    assert_boxes(read_picture(gray).boxes, boxes, tol=4)



def test_a_pen_stroke_along_a_printed_rule_is_told_from_it_by_its_own_strength():
    """On ruled paper every digit touches a rule, and through it the picture's border, so the ink's level is
    measured on what does not (grain, specks) and the ink map, clipped at that level, is 1 on rules and pen
    alike: a 2's base lying along a rule went with it (a 2 read as a 7). The strokes' unclipped strength tells
    them apart: pen more than twice as strong as the rule's median is kept."""
    from mnist_studio.data.rules import remove_rules

    h, w = 400, 700
    binary = np.zeros((h, w), bool)
    strength = np.zeros((h, w), np.float32)
    for y in (130, 170, 210):  # three printed rules across the page, 3 px thick
        binary[y:y + 3] = True
        strength[y:y + 3] = 0.2
    binary[169:174, 150:200] = True  # a pen stroke lying along the middle rule, a little fatter (a 2's base)
    strength[169:174, 150:200] = 0.55
    binary[140:174, 196:200] = True  # ... and the stroke of the 2 coming down to it
    strength[140:174, 196:200] = 0.55
    ink = binary.astype(np.float32)  # clipped: all of it at the ink's level
    kept, _ = remove_rules(binary, ink, strength=strength)
    assert kept[170:173, 150:200].all()  # the base where it lies on the rule
    assert not kept[170:173, :140].any() and not kept[130:133].any() and not kept[210:213].any()  # rules go
    without, _ = remove_rules(binary, ink)
    assert not without[170:173, 150:190].any()  # told by the clipped ink alone, the base went with the rule


def test_the_dark_stretches_of_a_faint_grid_are_cut_away_from_the_writing():
    """A grid too faint for the threshold, darker in places (light, perspective): those stretches pass it and hang
    off the digits as bars (7/0067: 297788 read 154188). They go, farther than the reach from the writing, with
    the stub left between; a pen stroke lying along a line (a 7's bar) stays. On a page whose faint lines are few
    (grain lining up in a pencil photo), nothing is cut."""
    from mnist_studio.data.rules import cut_rule_stubs

    shape = (240, 400)
    seven = np.zeros(shape, bool)
    seven[98:104, 100:160] = True  # the bar, along a printed line
    for y in range(104, 200):  # the stem
        x = int(160 - (y - 104) * 0.5)
        seven[y, x - 2:x + 3] = True
    lines = np.zeros(shape, bool)
    lines[100:102, :] = lines[40:42, :] = lines[160:162, :] = True
    lines[:, 130:132] = lines[:, 300:302] = True
    binary = seven.copy()
    binary[20:98, 130:132] = True  # a dark stretch of a line, hanging off the 7's bar
    binary[30:210, 300:302] = True  # another, alone
    out = cut_rule_stubs(binary, lines, reach=12)
    assert (out & seven).sum() == seven.sum()  # the 7 whole, its bar too
    assert not out[20:85, 130:132].any() and out[90:98, 130:132].all()  # cut beyond the reach, kept near the 7
    assert not out[:, 290:].any()
    few = np.zeros(shape, bool)
    few[100:200, 300:302] = True  # one short line: less than a quarter of the ink
    assert np.array_equal(cut_rule_stubs(binary, few, reach=12), binary)
