"""A photographed digit's 28×28 input: the stroke normalisation on synthetic masks (thickness in pixels, the
20 px box, the centre of mass, against the pad's own input of the same shape) and the shift average."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_studio.data.picture import normalise_stroke
from mnist_studio.data.preprocess import (BOX, CENTRE, PEN_WIDTH, bounding_box, centre_of_mass, preprocess_ink,
                                          preprocess_strokes)
from mnist_studio.data.shift_average import SHIFTS, averaged_proba, shifted_copies

SS = 4  # supersampling of the synthetic masks


def ring_mask(side: int, pen: float) -> np.ndarray:
    """A '0' as a binary mask: a circle ``side`` px across (pen included) drawn with a ``pen`` px line."""
    big = Image.new("L", (side * SS, side * SS), 0)
    ImageDraw.Draw(big).ellipse((0, 0, side * SS - 1, side * SS - 1), outline=255, width=round(pen * SS))
    return np.asarray(big.resize((side, side), Image.Resampling.BOX), np.float32) / 255.0 > 0.5


def ring_thickness(x: np.ndarray) -> float:
    """The stroke's thickness in a 28×28 ring: the ink across its left side, on the two middle rows (an
    anti-aliased stroke of width t holds t pixels' worth of ink across it)."""
    return float(x[13:15, :14].sum(axis=1).mean())


def ring_strokes(radius: float = 90.0) -> list[list[tuple[float, float]]]:
    t = np.linspace(0, 2 * np.pi, 120)
    return [list(zip(100 + radius * np.cos(t), 100 + radius * np.sin(t)))]


@pytest.mark.parametrize("side, pen", [(30, 2.0), (60, 3.0), (120, 3.0), (120, 25.0), (300, 6.0), (300, 60.0)])
def test_thin_and_fat_rings_come_out_with_an_mnist_stroke_in_the_20px_box(side, pen):
    mask = ring_mask(side, pen)
    x = preprocess_ink(normalise_stroke(mask)).centred
    t, b, l, r = bounding_box(x)
    assert (b - t, r - l) == (BOX, BOX)  # a round digit fills the 20 px box both ways
    cy, cx = centre_of_mass(x)
    assert abs(cy - CENTRE) < 0.5 and abs(cx - CENTRE) < 0.5
    # MNIST's strokes are 2-3 px; a 2 px ballpoint at 30 px and a marker a fifth of the digit both land there
    assert 1.7 <= ring_thickness(x) <= 3.2
    assert x.max() == pytest.approx(1.0)


def test_a_photographed_ring_is_within_a_pixel_of_the_pads_ring():
    pad = preprocess_strokes(ring_strokes()).centred
    assert ring_thickness(pad) == pytest.approx(PEN_WIDTH, abs=0.15)  # the pad re-draws with its pen exactly
    for side, pen in ((60, 3.0), (120, 25.0), (300, 6.0)):
        photo = preprocess_ink(normalise_stroke(ring_mask(side, pen))).centred
        assert abs(ring_thickness(photo) - ring_thickness(pad)) < 0.75
        assert bounding_box(photo) == bounding_box(pad) == (4, 24, 4, 24)
        assert np.corrcoef(photo.ravel(), pad.ravel())[0, 1] > 0.8


def test_a_tall_bar_keeps_its_height_and_a_thin_stroke():
    """A '1' as a 200×24 px bar: the long side becomes 20 px, the short side keeps its proportion, and the bar's
    thickness after the recipe is an MNIST stroke, not the marker's 24/200 of the height scaled."""
    mask = np.zeros((200, 24), bool)
    mask[:, :] = True
    x = preprocess_ink(normalise_stroke(mask)).centred
    t, b, l, r = bounding_box(x)
    assert b - t == BOX
    assert 2 <= r - l <= 4
    assert 2.0 <= float(x[8:20].sum(axis=1).mean()) <= 3.4
    cy, cx = centre_of_mass(x)
    assert abs(cy - CENTRE) <= 0.5 and abs(cx - CENTRE) <= 0.5  # whole-pixel shifts, as MNIST


def test_shifted_copies_move_each_digit_one_pixel_without_wrapping():
    x = np.zeros((2, 28, 28), np.float32)
    x[0, 10, 12] = 1.0
    x[1, 0, 27] = 0.5  # ink at the corner: a shift out of the picture loses it, nothing wraps around
    out = shifted_copies(x).reshape(len(SHIFTS), 2, 28, 28)
    for k, (dy, dx) in enumerate(SHIFTS):
        assert np.argwhere(out[k, 0]).tolist() == [[10 + dy, 12 + dx]]
    assert [float(out[k, 1].sum()) for k in range(len(SHIFTS))] == [0.5, 0.0, 0.5, 0.5, 0.0]
    assert out[SHIFTS.index((1, 0)), 1, 1, 27] == 0.5 and out[SHIFTS.index((0, -1)), 1, 0, 26] == 0.5


def test_averaged_proba_is_one_call_and_the_mean_over_the_shifts():
    calls = []

    def classify(batch):
        """Class 1's probability is the share of ink in the left half: it changes with the shift."""
        calls.append(batch.shape)
        left = batch[:, :, :14].sum(axis=(1, 2)) / np.maximum(batch.sum(axis=(1, 2)), 1e-9)
        return np.stack([1 - left, left] + [np.zeros_like(left)] * 8, axis=1)

    x = np.zeros((3, 28, 28), np.float32)
    x[:, 5:20, 13:15] = 1.0  # a bar across the middle: one column each side
    p = averaged_proba(classify, x)
    assert calls == [(15, 28, 28)]
    # as it is, up and down: half the ink on the left (0.5); one pixel left: all of it (1); right: none (0)
    assert p.shape == (3, 10)
    assert p[:, 1] == pytest.approx(0.5)
    assert p.sum(axis=1) == pytest.approx(1.0)
    assert averaged_proba(classify, np.zeros((0, 28, 28), np.float32)).shape == (0, 10)
    assert len(calls) == 1  # an empty batch does not reach the network
