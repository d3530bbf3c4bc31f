"""Faint strokes grown along their own lines (data/stroke_scale.py): a pencil's stroke that the threshold broke
into dashes is whole again; grain, specks and lines that continue no ink are not taken."""

import numpy as np
from scipy import ndimage

from mnist_studio.data.stroke_scale import grow_along_lines, line_strength


def pieces(mask: np.ndarray) -> int:
    return ndimage.label(mask, structure=np.ones((3, 3), bool))[1]


def pencil_page(rng, faint: float = 0.3):
    """A 3 px vertical stroke at full ink with two faint stretches (where the pencil was pressed lightly), on paper
    with grain (noise 0.04); returns (ink, binary as a threshold at half the ink's level gives it)."""
    ink = rng.normal(0.0, 0.04, (90, 60)).astype(np.float32)
    ink[10:80, 28:31] += 1.0
    ink[30:40, 28:31] -= 1.0 - faint
    ink[55:62, 28:31] -= 1.0 - faint
    ink = np.clip(ink, 0, 1)
    return ink, ink > 0.5


def test_a_line_is_measured_across_not_along():
    ink = np.zeros((40, 40), np.float32)
    ink[5:35, 19:22] = 1.0
    across, along, _ = line_strength(ink, 1.5)
    assert across[20, 20] > 0.2 and across[20, 20] > 5 * along[20, 20]  # on the stroke's centre line
    assert across[20, 10] < 1e-3 and across[2, 2] < 1e-3  # paper


def test_a_stroke_broken_by_light_pressure_is_whole_again():
    rng = np.random.default_rng(0)
    ink, binary = pencil_page(rng)
    assert pieces(binary) == 3  # the threshold's dashes
    grown = grow_along_lines(binary, ink, 3.0)
    assert pieces(grown) == 1
    assert grown[30:40, 29].all() and grown[55:62, 29].all()  # the faint stretches, along the centre line
    assert not grown[:, :24].any() and not grown[:, 34:].any()  # no wider than the stroke (and its blur)
    assert (grown & ~binary).sum() < 3 * (10 + 7) + 10  # what is added is the two gaps, not the grain around


def test_nothing_appears_on_its_own_or_from_grain():
    rng = np.random.default_rng(1)
    ink, binary = pencil_page(rng)
    ink[20:70, 45:48] = 0.3  # a faint line continuing no ink (another sheet's writing showing through)
    ink[70:76, 5:11] = 0.3  # and a faint smudge
    grown = grow_along_lines(binary, ink, 3.0)
    assert not grown[:, 40:].any() and not grown[65:80, :20].any()
    assert not grow_along_lines(np.zeros_like(binary), ink, 3.0).any()  # no ink found: nothing to continue


def test_a_faint_line_ending_on_a_stroke_is_taken_but_not_a_faint_blob_beside_it():
    ink = np.zeros((60, 60), np.float32)
    ink[10:50, 20:23] = 1.0  # a stroke
    ink[30:33, 23:50] = 0.3  # a faint bar leaving it (a 4's bar written lightly)
    ink[12:20, 23:31] = 0.3  # a faint round blot touching it
    binary = ink > 0.5
    grown = grow_along_lines(binary, ink, 3.0)
    assert grown[31, 23:48].all()
    assert grown[13:19, 26:30].sum() < 6  # the blot's middle is no line


def test_a_short_stub_leaving_a_stroke_is_not_taken():
    """Where a faint grid line crosses a digit, only a stub beside the stroke is faint ink: it would widen the
    digit's box."""
    ink = np.zeros((60, 60), np.float32)
    ink[10:50, 20:23] = 1.0
    ink[30:33, 23:28] = 0.3  # 5 px: under three stroke widths
    grown = grow_along_lines(ink > 0.5, ink, 3.0)
    assert not grown[:, 25:].any()


def test_on_ruled_paper_no_faint_line_runs_along_the_rules():
    ink = np.zeros((80, 80), np.float32)
    ink[10:60, 30:33] = 1.0  # a stroke
    ink[40:43, 33:75] = 0.3  # a rule's faint continuation, not recognised as a rule, meeting it
    ink[45:48, 15:30] = 0.3  # and one from the other side: two pieces of line...
    ink[20:60, 50:53] = 1.0  # ... the second ending on another stroke
    rules = np.zeros(ink.shape, bool)
    rules[41, 0:12] = rules[41, 76:80] = rules[70, :] = True  # the printed lines found: horizontal
    binary = ink > 0.5
    assert grow_along_lines(binary, ink, 3.0)[41, 40:48].all()  # plain paper: a faint bar between two strokes
    grown = grow_along_lines(binary, ink, 3.0, rules)
    assert not (grown & ~binary).any()
    slanted = np.zeros(ink.shape, bool)
    idx = np.arange(70)
    slanted[idx // 3 + 5, idx + 5] = True  # rules at about 18 degrees: the horizontal line is taken again
    assert grow_along_lines(binary, ink, 3.0, slanted)[41, 40:48].all()


def test_a_thick_markers_stroke_is_measured_on_a_shrunk_copy_and_still_joined():
    """Width 12: the line measure runs on a copy shrunk 3 times (sigma 6 -> 2), given back at full size."""
    from mnist_studio.data.stroke_scale import line_strength_coarse

    ink = np.zeros((200, 120), np.float32)
    ink[20:180, 54:66] = 1.0
    ink[80:110, 54:66] = 0.3  # a glare across the marker's stroke
    across, along, direction = line_strength_coarse(ink, 6.0)
    assert across.shape == along.shape == ink.shape and direction.shape == (2,) + ink.shape
    assert across[95, 60] > 4 * along[95, 60] and abs(direction[1, 95, 60]) > 0.9  # across the stroke: along x
    binary = ink > 0.5
    assert pieces(binary) == 2
    grown = grow_along_lines(binary, ink, 12.0)
    assert pieces(grown) == 1 and grown[80:110, 58:62].all()
    assert not grown[:, :45].any() and not grown[:, 75:].any()


def test_pictures_a_pixel_or_two_thin_and_tiny_shrunk_copies_are_no_error():
    for shape in [(1, 50), (50, 1), (2, 2), (3, 40), (7, 300)]:
        binary, ink = np.ones(shape, bool), np.full(shape, 0.3, np.float32)
        for width in (1.0, 10.0, 60.0):
            assert grow_along_lines(binary, ink, width).shape == shape
