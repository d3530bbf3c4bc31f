"""Winograd convolutions (``nn/layers/winograd.py``) against the im2col path they replace, which stays the
reference: outputs, input gradients, kernel and bias gradients, in float64 (to 1e-12) and float32 (to its rounding)."""

import numpy as np
import pytest

from mnist_studio.nn import Model
from mnist_studio.nn.layers import Conv2D, winograd
from mnist_studio.nn.spec import load_preset


def pair(shape, dtype, **config):
    """The same convolution twice, Winograd's and im2col's."""
    layers = []
    for use in (True, False):
        layer = Conv2D(**config)
        layer.build(shape, np.random.default_rng(0), "he", dtype)
        layer.params["b"][...] = np.linspace(-1, 1, layer.params["b"].size)
        layer.use_winograd = use
        layers.append(layer)
    return layers


def relative(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


GEOMETRIES = [  # (input shape, config): LeNet's second layer, 3×3 'same', 'valid', numeric padding, non-square
    ((14, 14, 32), dict(filters=64, kernel_size=5, padding="same")),
    ((14, 14, 16), dict(filters=8, kernel_size=3, padding="same")),
    ((12, 10, 8), dict(filters=4, kernel_size=5, padding="valid")),
    ((10, 8, 9), dict(filters=5, kernel_size=3, padding=1)),
]


@pytest.mark.parametrize("dtype,tolerance", [(np.float64, 1e-12), (np.float32, 5e-5)])
@pytest.mark.parametrize("shape,config", GEOMETRIES)
def test_winograd_matches_im2col(shape, config, dtype, tolerance):
    fast, ref = pair(shape, dtype, **config)
    x = np.random.default_rng(1).normal(size=(5, *shape)).astype(dtype)
    y = fast.forward(x, training=True)
    y_ref = ref.forward(x, training=True)
    assert fast._cache[0] == "winograd" and ref._cache[0] == "patches"
    assert y.shape == y_ref.shape and y.dtype == dtype
    assert relative(y, y_ref) < tolerance
    dy = np.random.default_rng(2).normal(size=y.shape).astype(dtype)
    dx = fast.backward(dy.copy())
    dx_ref = ref.backward(dy.copy())
    assert dx.shape == x.shape and relative(dx, dx_ref) < tolerance
    for k in ("W", "b"):
        assert relative(fast.grads[k], ref.grads[k]) < tolerance, k
    # a second pass (scratch arrays reused) gives the same as the first
    fast.forward(x, training=True)
    np.testing.assert_array_equal(fast.backward(dy.copy()), dx)


def test_batches_cut_into_several_chunks_give_the_same_result():
    fast, ref = pair((14, 14, 32), np.float64, filters=6, kernel_size=5, padding="same")
    x = np.random.default_rng(3).normal(size=(7, 14, 14, 32))  # 7 images: chunks of 2 and a last one of 1
    assert winograd.chunk_images(5, 49, 32, 8) < 7
    np.testing.assert_allclose(fast.forward(x, training=True), ref.forward(x, training=True), rtol=0, atol=1e-12)
    dy = np.random.default_rng(4).normal(size=(7, 14, 14, 6))
    np.testing.assert_allclose(fast.backward(dy.copy()), ref.backward(dy.copy()), rtol=0, atol=1e-12)
    np.testing.assert_allclose(fast.grads["W"], ref.grads["W"], rtol=0, atol=1e-10)


@pytest.mark.parametrize("shape,config,expected", [
    ((14, 14, 32), dict(filters=64, kernel_size=5, padding="same"), True),
    ((28, 28, 1), dict(filters=32, kernel_size=5, padding="same"), False),  # one channel: the wide im2col path
    ((14, 14, 32), dict(filters=8, kernel_size=5, stride=2, padding="same"), False),
    ((14, 14, 32), dict(filters=8, kernel_size=4, padding="valid"), False),  # no F(2, 4) here
    ((13, 13, 32), dict(filters=8, kernel_size=3, padding="same"), False),  # odd size: no whole tiles
])
def test_which_convolutions_go_the_winograd_way(shape, config, expected):
    layer = Conv2D(**config)
    layer.build(shape, np.random.default_rng(0), "he", np.float32)
    layer.forward(np.zeros((2, *shape), np.float32), training=True)
    assert (layer._cache[0] == "winograd") is expected


def test_transforms_compute_a_correlation_exactly():
    """Aᵀ·[(G·g) ⊙ (Bᵀ·d)] is the 1-D correlation of d with g, for every output and kernel size used."""
    rng = np.random.default_rng(5)
    for r in winograd.KERNELS:
        at, g, bt = (np.array([[float(v) for v in row] for row in m]) for m in winograd._exact(r))
        d, k = rng.normal(size=r + 1), rng.normal(size=r)
        np.testing.assert_allclose(at @ ((g @ k) * (bt @ d)), [d[i:i + r] @ k for i in range(2)], rtol=1e-13)


def test_lenet_gradients_are_the_same_with_and_without_winograd():
    """A LeNet training pass in float32: the loss and every weight gradient within rounding of the im2col pass.
    (Adam steps are not compared: its first steps move each weight by about ±lr whatever the gradient's size, so a
    gradient within rounding of zero may step either way.)"""
    from mnist_studio.nn import make_loss

    x = np.random.default_rng(6).uniform(0, 1, (16, 28, 28, 1)).astype(np.float32)
    labels = np.arange(16) % 10
    runs = []
    for use in (True, False):
        model = Model(load_preset("lenet"), seed=0)
        for layer in model.layers:
            if isinstance(layer, Conv2D):
                layer.use_winograd = use
        loss, _ = model.loss_and_grads(x, labels, make_loss("cross_entropy"))
        paths = [layer._cache[0] for layer in model.layers if isinstance(layer, Conv2D)]
        runs.append((loss, {name: g.copy() for name, _, g in model.named_params()}, paths))
    assert runs[0][2] == ["wide", "winograd"] and runs[1][2] == ["wide", "patches"]
    assert abs(runs[0][0] - runs[1][0]) < 1e-5
    for name, g in runs[0][1].items():
        assert relative(g, runs[1][1][name]) < 5e-5, name


def lenet_pair():
    """LeNet twice with the same weights: each convolution and its max-pool fused (the default) and not."""
    fused, alone = Model(load_preset("lenet"), seed=0), Model(load_preset("lenet"), seed=0)
    alone.fuse = False
    return fused, alone


def test_fused_convolution_and_pool_equal_the_layers_alone_bit_for_bit():
    from mnist_studio.nn import make_loss

    fused, alone = lenet_pair()
    x = np.random.default_rng(7).uniform(0, 1, (12, 28, 28, 1)).astype(np.float32)
    labels = np.arange(12) % 10
    results = [m.loss_and_grads(x, labels, make_loss("cross_entropy")) for m in (fused, alone)]
    # each Conv with the MaxPool after it (each ReLU runs after both): the wide path and Winograd's
    assert fused._fused == {0: 2, 3: 5} and alone._fused == {}
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])
    for (name, _, g), (_, _, g_ref) in zip(fused.named_params(), alone.named_params()):
        np.testing.assert_array_equal(g, g_ref, err_msg=name)
    # evaluation and saliency (back to the input through the fused pair)
    np.testing.assert_array_equal(fused.forward(x), alone.forward(x))
    sal, sal_ref = fused.input_gradient(x[:3])[0], alone.input_gradient(x[:3])[0]
    assert np.abs(sal).max() > 0
    np.testing.assert_array_equal(sal, sal_ref)


def test_fused_pool_gives_a_tied_window_gradient_to_one_position_as_maxpool_does():
    fused, alone = lenet_pair()
    for m in (fused, alone):  # every output of the second convolution equal: each pooling window is a 4-way tie
        m.layers[3].params["W"][...] = 0
        m.layers[3].params["b"][...] = 0.5
    x = np.random.default_rng(8).uniform(0, 1, (4, 28, 28, 1)).astype(np.float32)
    dy = np.random.default_rng(9).normal(size=(4, 7, 7, 64)).astype(np.float32)
    grads = []
    for m in (fused, alone):
        m.forward(x, training=True, upto=6)
        grads.append(m.backward(dy.copy(), from_layer=6, to_input=True))
        grads.append(m.layers[3].grads["W"].copy())
    np.testing.assert_array_equal(grads[0], grads[2])
    np.testing.assert_array_equal(grads[1], grads[3])


def test_a_fused_pair_is_only_used_when_both_layers_run():
    fused, _ = lenet_pair()
    x = np.random.default_rng(10).uniform(0, 1, (2, 28, 28, 1)).astype(np.float32)
    fused.forward(x, upto=5)  # stops between the second convolution and its pool: only the first pair fused
    assert fused._fused == {0: 2}
    fused.forward(x)
    assert fused._fused == {0: 2, 3: 5}


def test_a_large_evaluation_pass_keeps_only_its_input_and_still_back_propagates():
    """More than EVAL_KEEP_IMAGES in evaluation mode: no transformed tiles kept (a feature map's 250 LeNet images would
    hold 56 MB), and a backward pass (saliency) transforms them then, with the same result."""
    from mnist_studio.nn.layers.conv import EVAL_KEEP_IMAGES

    fused, alone = lenet_pair()
    x = np.random.default_rng(11).uniform(0, 1, (EVAL_KEEP_IMAGES + 3, 28, 28, 1)).astype(np.float32)
    sal, probs = fused.input_gradient(x)
    assert fused.layers[3]._cache[2].shape == (EVAL_KEEP_IMAGES + 3, 18, 18, 32)  # the padded input, not tiles
    sal_ref, probs_ref = alone.input_gradient(x)
    np.testing.assert_array_equal(probs, probs_ref)
    np.testing.assert_array_equal(sal, sal_ref)
    small = x[:EVAL_KEEP_IMAGES]
    np.testing.assert_array_equal(fused.input_gradient(small)[0], alone.input_gradient(small)[0])
    assert fused.layers[3]._cache[2].ndim == 1  # tiles kept
