"""studio.weights, studio.scales and studio.smoothing: the numbers behind the weights view and the smoothed curves, checked against hand-computed
values."""

import math

import numpy as np
import pytest

from mnist_studio.nn.model import Model
from mnist_studio.nn.spec import load_preset
from mnist_studio.studio.scales import nice_limit, symmetric_limit
from mnist_studio.studio.smoothing import EmaSmoother, smooth_ema
from mnist_studio.studio.weights import (conv_tiles, dead_relu_units, dead_share, dense_tiles, histogram,
                                         input_dense_index, layer_stats, tile_grid, weight_picture, weight_stats)

MLP = {"name": "mlp", "input_shape": [28, 28, 1], "init": "he",
       "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 5}, {"type": "ReLU"}, {"type": "Dense", "units": 10},
                  {"type": "Softmax"}]}


def tensorboard_smoothing(values, weight):
    """TensorBoard's own loop (the reference)."""
    last, out = 0.0, []
    for i, v in enumerate(values, start=1):
        last = last * weight + (1 - weight) * v
        out.append(last / (1 - weight ** i))
    return np.array(out)


# -- dead units ------------------------------------------------------------------------------------------------------

def test_dead_share_counts_units_that_are_never_positive():
    a = np.array([[1.0, 0.0, 0.0], [2.0, 0.0, 0.5], [0.0, 0.0, 0.0], [3.0, 0.0, 0.0]])
    assert dead_share(a) == (1, 3)  # unit 1 is 0 for every image; unit 2 fired once: alive
    conv = np.zeros((2, 4, 4, 3))
    conv[0, 1, 2, 0] = 0.1
    conv[1, 3, 3, 1] = 2.0
    assert dead_share(conv) == (1, 3)  # channels: channel 2 never fires anywhere


def test_dead_relu_units_finds_units_switched_off_by_their_bias():
    model = Model(MLP, seed=0)
    dense = model.layers[1]
    dense.params["W"][:, :2] = 0.0
    dense.params["b"][:2] = -1.0  # units 0 and 1 can never be positive
    dense.params["b"][2:] = 10.0  # the others always are
    probe = np.random.default_rng(0).random((16, 28, 28)).astype(np.float32)
    (d,) = dead_relu_units(model, probe)
    assert (d.index, d.after, d.units, d.dead) == (2, 1, 5, 2)
    assert d.share == pytest.approx(0.4)
    stats = layer_stats(model, probe)
    assert stats.dead_after(1) is d or stats.dead_after(1) == d
    assert stats.dead_after(3) is None


# -- weight statistics -----------------------------------------------------------------------------------------------

def test_weight_stats_norms_histograms_and_gradients():
    model = Model(MLP, seed=1)
    model.layers[3].grads["W"][...] = 0.5  # as if a batch had produced this gradient
    stats = weight_stats(model, bins=21)
    assert [s.index for s in stats] == [1, 3]
    assert [s.label for s in stats] == ["2 · Dense 784→5", "4 · Dense 5→10"]  # numbered as the designer rows
    for s in stats:
        w = model.layers[s.index].params["W"]
        assert s.weight_norm == pytest.approx(float(np.sqrt((w.astype(np.float64) ** 2).sum())), rel=1e-5)
        assert s.mean_abs == pytest.approx(float(np.abs(w).mean()), rel=1e-5)
        assert s.counts.sum() == w.size and len(s.edges) == 22
        assert s.edges[0] == pytest.approx(-s.edges[-1]) and s.edges[-1] >= np.abs(w).max()
    assert stats[0].grad_norm == 0.0
    assert stats[1].grad_norm == pytest.approx(0.5 * math.sqrt(50))


def test_histogram_is_symmetric_and_counts_every_value():
    counts, edges = histogram(np.array([-0.3, 0.0, 0.1, 0.1, 0.29]), bins=6)
    assert edges[0] == pytest.approx(-0.3) and edges[-1] == pytest.approx(0.3)
    assert counts.tolist() == [1, 0, 0, 1, 2, 1]


@pytest.mark.parametrize("value, nice", [(0.013, 0.015), (0.1, 0.1), (0.101, 0.15), (0.71, 1.0), (7.0, 7.0),
                                         (2.5, 3.0), (0.0, 1.0), (float("nan"), 1.0)])
def test_nice_limit(value, nice):
    assert nice_limit(value) == pytest.approx(nice)


def test_symmetric_limit_is_not_washed_out_by_one_outlier():
    v = np.concatenate([np.linspace(-0.1, 0.1, 10000), [50.0]])
    lim = symmetric_limit(v)
    assert 0.1 <= lim <= 0.15


# -- weights as pictures ---------------------------------------------------------------------------------------------

def test_tile_grid_places_tiles_row_by_row_with_nan_gaps():
    tiles = np.arange(5 * 2 * 3, dtype=np.float32).reshape(5, 2, 3)
    g = tile_grid(tiles, columns=3)
    assert g.shape == (2 * 2 + 1, 3 * 3 + 2)
    assert np.array_equal(g[0:2, 0:3], tiles[0])
    assert np.array_equal(g[0:2, 4:7], tiles[1])
    assert np.array_equal(g[3:5, 4:7], tiles[4])
    assert np.isnan(g[2]).all() and np.isnan(g[:, 3]).all()  # gaps
    assert np.isnan(g[3:5, 8:11]).all()  # the missing sixth tile
    assert tile_grid(np.zeros((9, 4, 4))).shape == (14, 14)  # near-square by default: 3×3


def test_dense_tiles_are_the_columns_as_images():
    w = np.random.default_rng(0).standard_normal((784, 12)).astype(np.float32)
    tiles = dense_tiles(w, (28, 28, 1), max_tiles=8)
    assert tiles.shape == (8, 28, 28)
    assert np.array_equal(tiles[5], w[:, 5].reshape(28, 28))


def test_conv_tiles_per_output_channel():
    w = np.random.default_rng(0).standard_normal((5, 5, 3, 4)).astype(np.float32)
    assert np.array_equal(conv_tiles(w, 1)[2], w[:, :, 1, 2])
    assert np.allclose(conv_tiles(w)[3], w[:, :, :, 3].mean(axis=2))
    assert conv_tiles(w, None, max_tiles=2).shape == (2, 5, 5)


def test_input_dense_index_and_pictures():
    assert input_dense_index(Model(load_preset("logistic"))) == 1
    assert input_dense_index(Model(load_preset("tutorial-cnn"))) is None  # its Dense sees conv features
    dropout_first = {**MLP, "layers": [{"type": "Flatten"}, {"type": "Dropout", "rate": 0.2}] + MLP["layers"][1:]}
    model = Model(dropout_first)
    assert input_dense_index(model) == 2
    pic = weight_picture(model, 2, max_tiles=4)
    assert pic.tile_shape == (28, 28) and pic.image.shape == (57, 57) and "first 4 of 5 units" in pic.note
    assert pic.limit >= symmetric_limit(model.layers[2].params["W"][:, :4]) * 0.999
    mat = weight_picture(model, 4)
    assert mat.tile_shape is None and mat.image.shape == (10, 5)  # units × inputs
    mlp = Model(load_preset("mlp-512-256"))
    assert "first 100 of 512 units" in weight_picture(mlp, 1, max_tiles=100).note


# -- smoothing -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("weight", [0.0, 0.3, 0.6, 0.9, 0.99])
def test_smoothing_matches_tensorboard(weight):
    x = np.random.default_rng(1).random(1000) * 3
    assert np.allclose(smooth_ema(x, weight), tensorboard_smoothing(x, weight), rtol=1e-10, atol=1e-12)


def test_smoothing_starts_at_the_first_value_and_can_be_fed_piece_by_piece():
    x = np.random.default_rng(2).random(3000)
    assert smooth_ema(x, 0.95)[0] == pytest.approx(x[0])
    s = EmaSmoother(0.8)
    parts = [s.extend(x[:1]), s.extend(x[1:300]), s.extend(x[300:300]), s.extend(x[300:2999]), s.extend(x[2999:])]
    assert np.allclose(np.concatenate(parts), smooth_ema(x, 0.8))
    with pytest.raises(ValueError):
        EmaSmoother(1.0)


def test_smoothing_100k_points_is_vectorised():
    x = np.random.default_rng(3).random(100_000)
    y = smooth_ema(x, 0.99)
    assert y.shape == x.shape and np.all(np.isfinite(y))
    assert np.std(y[1000:]) < 0.1 * np.std(x)
