"""The MNIST recipe for drawings and pictures (mnist_studio.data.preprocess) and the explanation numerics."""

import math

import numpy as np
import pytest
from PIL import Image

from mnist_studio.data.idx import DatasetError
from mnist_studio.data.picture import preprocess_picture
from mnist_studio.data.preprocess import (BOX, SIZE, bounding_box, centre_of_mass, load_ink, place_centred,
                                          preprocess_ink, preprocess_strokes,
                                          to_ink)
from mnist_studio.nn.explain import occlusion
from mnist_studio.studio.activations import heat_strip, layer_groups, tile_maps
from mnist_studio.studio.scales import normalise_signed
from mnist_studio.nn.explain import explain as explain_image
from mnist_studio.nn.model import Model
from mnist_studio.nn.spec import load_preset

CENTRE = (SIZE - 1) / 2.0


def ring(cx=140.0, cy=140.0, rx=60.0, ry=90.0, n=64):
    t = np.linspace(0, 2 * math.pi, n)
    return [list(zip(cx + rx * np.cos(t), cy + ry * np.sin(t)))]


def long_side(img):
    t, b, l, r = bounding_box(img, 0.05)
    return max(b - t, r - l)


@pytest.mark.parametrize("strokes", [
    ring(),
    [[(140.0, 30.0), (140.0, 250.0)]],  # a "1": tall and thin
    [[(20.0, 200.0), (260.0, 210.0)]],  # a wide dash
    ring(40, 40, 15, 25),  # small, in a corner
    [[(10.0, 10.0), (270.0, 20.0), (120.0, 270.0)]],  # a 7 touching the edges of the canvas
])
def test_strokes_are_centred_by_mass_and_20_px_long(strokes):
    st = preprocess_strokes(strokes, canvas_size=(280, 280), canvas_pen_width=20)
    assert st.centred.shape == (28, 28) and st.centred.dtype == np.float32
    cy, cx = centre_of_mass(st.centred)
    assert abs(cy - CENTRE) <= 0.5 and abs(cx - CENTRE) <= 0.5
    assert long_side(st.centred) == BOX
    assert st.centred.max() == pytest.approx(1.0, abs=0.02)
    # nothing lost on the way: the centred image holds all the scaled ink
    assert st.centred.sum() == pytest.approx(st.scaled.sum(), rel=1e-5)


def test_pen_width_after_scaling_is_mnist_like_whatever_the_drawing_size():
    big = preprocess_strokes([[(140.0, 10.0), (140.0, 270.0)]], canvas_size=(280, 280))
    small = preprocess_strokes([[(30.0, 30.0), (30.0, 60.0)]], canvas_size=(280, 280))
    for st in (big, small):
        row = st.centred[14]
        width = float(row.sum())  # ink across one row of a vertical stroke = its width in px
        assert 2.0 <= width <= 3.5


def test_empty_drawing_gives_no_stages():
    assert preprocess_strokes([]) is None
    assert preprocess_strokes([[]]) is None
    assert preprocess_ink(np.zeros((50, 50), np.float32)) is None
    assert preprocess_picture(np.zeros((50, 80), np.float32)) == []


def test_a_single_dot_is_not_blown_up_to_a_blob():
    st = preprocess_strokes([[(100.0, 100.0)]])
    assert st is not None
    assert long_side(st.centred) <= 4


def test_ink_at_the_edge_is_neither_cut_nor_wrapped():
    # a digit whose mass sits far from its box centre (a heavy blob at one end of a long bar): centring by mass
    # would push it past the border; the shift is clamped instead of wrapping or cutting
    digit = np.zeros((20, 20), np.float32)
    digit[:, 0:6] = 1.0
    digit[0, :] = 0.2
    out, _ = place_centred(digit)
    assert out.sum() == pytest.approx(digit.sum())
    t, b, l, r = bounding_box(out, 0.01)
    assert (b - t, r - l) == (20, 20)
    assert out[:, -1].sum() == 0 or out[:, 0].sum() == 0  # one side stays empty: no wrap-around
    # the same through the picture path: ink touching the picture's border
    pic = np.zeros((60, 60), np.float32)
    pic[:, 55:60] = 1.0
    pic[0:3, 30:60] = 1.0
    st = preprocess_ink(pic)
    assert long_side(st.centred) == BOX
    assert st.centred[:, 0].sum() + st.centred[:, -1].sum() < 1e-6 or st.centred.sum() == pytest.approx(
        st.scaled.sum(), rel=1e-5)
    assert st.centred.sum() == pytest.approx(st.scaled.sum(), rel=1e-5)


def test_polarity_is_detected_both_ways(tmp_path):
    ink = np.zeros((40, 40), np.float32)
    ink[5:35, 18:22] = 1.0  # a bar
    dark_on_light = (1.0 - ink) * 0.9 + 0.05  # grey paper, dark pen
    light_on_dark = ink * 0.8 + 0.1
    for gray in (dark_on_light, light_on_dark):
        out = to_ink(gray)
        assert out[20, 20] == pytest.approx(1.0) and out[2, 2] == pytest.approx(0.0)
        path = tmp_path / "x.png"
        Image.fromarray((gray * 255).astype(np.uint8)).save(path)
        loaded = load_ink(path)
        assert loaded[20, 20] > 0.95 and loaded[2, 2] < 0.05
    assert to_ink(np.full((30, 30), 0.7, np.float32)).max() == 0.0  # blank paper: no ink at all


def test_load_ink_errors_are_readable(tmp_path):
    with pytest.raises(DatasetError, match="no such file"):
        load_ink(tmp_path / "missing.png")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(DatasetError, match="not an image"):
        load_ink(bad)


def test_several_digits_are_split_left_to_right():
    from mnist_studio.data import load_mnist
    from mnist_studio.data.picture import read_picture

    ds = load_mnist()
    digits = ds.test_images[:4].astype(np.float32) / 255.0
    row = np.concatenate([np.pad(d, ((4, 4), (6, 6))) for d in digits], axis=1)
    reading = read_picture(row)
    assert len(reading.stages) == 4 and len(preprocess_picture(row)) == 4
    for k, (box, d) in enumerate(zip(reading.boxes, digits)):  # each box is its own digit's ink extent
        t, b, l, r = bounding_box(d, 0.3)
        x0, y0, x1, y1 = box
        assert abs(x0 - (k * 40 + 6 + l)) <= 1 and abs(x1 - (k * 40 + 6 + r)) <= 1
        assert abs(y0 - (4 + t)) <= 1 and abs(y1 - (4 + b)) <= 1
    row[0, 3] = 0.5  # a speck of dirt is not a digit
    assert len(read_picture(row).stages) == 4


def test_mnist_digits_survive_the_recipe_nearly_unchanged():
    """MNIST images already follow the recipe: re-applying it gives back the same picture, up to MNIST's own
    centring convention (its centre of mass sits at 14.0, half a pixel from the geometric centre we use)."""
    from mnist_studio.data import load_mnist

    imgs = load_mnist().test_images[:50].astype(np.float32) / 255.0
    best = []
    for img in imgs:
        out = preprocess_ink(img).centred
        cors = [np.corrcoef(np.roll(out, (dy, dx), axis=(0, 1)).ravel(), img.ravel())[0, 1]
                for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
        best.append(max(cors))
    assert np.median(best) > 0.97
    assert min(best) > 0.85


# -- explanation numerics --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def lenet():
    return Model(load_preset("lenet"), seed=1)


def test_explain_matches_the_model_passes(lenet):
    x = preprocess_strokes(ring()).centred
    ex = explain_image(lenet, x)
    assert ex.probabilities == pytest.approx(lenet.predict_proba(x[None])[0], abs=1e-5)
    grad, _ = lenet.copy().input_gradient(x[None])
    assert ex.saliency.shape == (28, 28)
    assert np.allclose(ex.saliency, grad.reshape(28, 28), atol=1e-6)
    assert len(ex.activations) == len(lenet.layers)
    assert ex.activations[0].shape == (28, 28, 32)


def test_occlusion_is_strongest_on_the_ink(lenet):
    x = preprocess_strokes(ring()).centred
    heat = occlusion(lenet, x, patch=6, stride=2)
    assert heat.shape == (28, 28)
    assert np.abs(heat).max() > 0
    assert np.abs(heat[0:2, 0:2]).max() < np.abs(heat).max()  # the empty corner matters less than the ring


def test_layer_groups_and_pictures(lenet):
    groups = layer_groups(lenet)
    assert [g.title for g in groups] == ["Conv 32@5×5 → ReLU", "MaxPool 2", "Conv 64@5×5 → ReLU", "MaxPool 2",
                                         "Dense 128 → ReLU", "Dense 10 → Softmax"]
    assert groups[3].last == 5  # the pooled image, not the flattened vector
    covered = sorted(i for g in groups for i in range(g.first, (groups[groups.index(g) + 1].first
                                                                  if g is not groups[-1] else len(lenet.layers))))
    assert covered == list(range(len(lenet.layers)))
    act = np.zeros((7, 7, 64), np.float32)
    act[..., 3] = 2.0
    mosaic = tile_maps(act)
    assert np.nanmax(mosaic) == 1.0 and np.isnan(mosaic).any()
    assert np.nansum(mosaic) == pytest.approx(49.0)
    strip = heat_strip(np.arange(100, dtype=np.float32) - 50)
    assert strip.shape == (4, 32) and np.isnan(strip[-1, -1])
    assert np.nanmin(strip) == -1.0
    assert np.array_equal(normalise_signed(np.zeros(3)), np.zeros(3))
