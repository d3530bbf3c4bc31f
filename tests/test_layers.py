"""Layer behaviour beyond gradients: shapes, modes, parameter validation, numerical stability."""

import numpy as np
import pytest

from mnist_studio.nn.layers import (AvgPool2D, BatchNorm, Conv2D, Dense, Dropout, LayerConfigError, LayerShapeError,
                                    MaxPool2D, Sigmoid, Softmax)
from mnist_studio.nn.losses import make_loss


def built(layer, shape, dtype=np.float32):
    layer.build(shape, np.random.default_rng(0), "he", dtype)
    return layer


def test_conv_matches_direct_convolution():
    rng = np.random.default_rng(1)
    layer = built(Conv2D(filters=3, kernel_size=3, stride=2, padding=1), (7, 6, 2), np.float64)
    x = rng.normal(size=(2, 7, 6, 2))
    y = layer.forward(x)
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    w, b = layer.params["W"], layer.params["b"]
    ref = np.zeros((2, 4, 3, 3))
    for n in range(2):
        for i in range(4):
            for j in range(3):
                patch = xp[n, 2 * i:2 * i + 3, 2 * j:2 * j + 3, :]
                ref[n, i, j] = np.tensordot(patch, w, axes=([0, 1, 2], [0, 1, 2])) + b
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("padding,expected", [("valid", (24, 24, 4)), ("same", (28, 28, 4)), (1, (26, 26, 4))])
def test_conv_output_shapes(padding, expected):
    assert Conv2D(filters=4, kernel_size=5, padding=padding).output_shape((28, 28, 1)) == expected


def test_maxpool_values_and_tie_gradient_goes_to_one_position():
    layer = built(MaxPool2D(pool_size=2), (2, 2, 1))
    x = np.array([[[[1.0], [1.0]], [[1.0], [0.5]]]], dtype=np.float32)
    assert layer.forward(x)[0, 0, 0, 0] == 1.0
    dx = layer.backward(np.ones((1, 1, 1, 1), np.float32))
    assert dx.sum() == 1.0  # a tie does not multiply the gradient


def test_avgpool_values():
    layer = built(AvgPool2D(pool_size=2), (4, 4, 1))
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    np.testing.assert_allclose(layer.forward(x)[0, :, :, 0], [[2.5, 4.5], [10.5, 12.5]])


def test_dropout_train_vs_eval():
    layer = built(Dropout(rate=0.5), (1000,))
    x = np.ones((4, 1000), np.float32)
    np.testing.assert_array_equal(layer.forward(x, training=False), x)
    y = layer.forward(x, training=True)
    assert set(np.unique(y)) == {0.0, 2.0}
    assert 0.4 < (y == 0).mean() < 0.6


def test_batchnorm_normalises_in_training_and_uses_running_stats_in_eval():
    layer = built(BatchNorm(momentum=0.0), (3,))
    x = np.random.default_rng(0).normal(5, 3, (256, 3)).astype(np.float32)
    y = layer.forward(x, training=True)
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(y.std(axis=0), 1, atol=1e-3)
    np.testing.assert_allclose(layer.buffers["running_mean"], x.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(layer.forward(x, training=False), y, atol=1e-3)


def test_sigmoid_and_softmax_do_not_overflow():
    x = np.array([[-1000.0, 0.0, 1000.0]], np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = built(Sigmoid(), (3,)).forward(x)
        p = built(Softmax(), (3,)).forward(x)
    np.testing.assert_allclose(s, [[0, 0.5, 1]])
    np.testing.assert_allclose(p, [[0, 0, 1]])


def test_cross_entropy_is_stable_for_huge_logits():
    loss, grad = make_loss("cross_entropy")(np.array([[1e4, 0, -1e4]], np.float32), np.array([1]))
    assert np.isfinite(loss) and abs(loss - 1e4) < 1
    assert np.all(np.isfinite(grad))


def test_float32_stays_float32():
    layer = built(Dense(units=4), (3,))
    assert layer.forward(np.ones((2, 3), np.float32)).dtype == np.float32
    conv = built(Conv2D(filters=2, kernel_size=3), (5, 5, 1))
    y = conv.forward(np.ones((2, 5, 5, 1), np.float32))
    assert y.dtype == np.float32 and conv.backward(np.ones_like(y)).dtype == np.float32


@pytest.mark.parametrize("make,message", [
    (lambda: Dense(units=0), "units must be between 1 and 8192"),
    (lambda: Dense(units=2.5), "units must be a whole number"),
    (lambda: Dense(unitz=3), "unknown parameter unitz"),
    (lambda: Conv2D(padding="full"), "padding must be 'valid', 'same'"),
    (lambda: Dropout(rate=1.5), "rate must be between 0 and 0.95"),
])
def test_bad_parameters_are_explained(make, message):
    with pytest.raises(LayerConfigError, match=message):
        make()


def test_shape_errors_are_explained():
    with pytest.raises(LayerShapeError, match="add a Flatten layer"):
        Dense(units=3).output_shape((28, 28, 1))
    with pytest.raises(LayerShapeError, match="kernel is larger than its 4×4 input"):
        Conv2D(kernel_size=5).output_shape((4, 4, 8))
    with pytest.raises(LayerShapeError, match="window does not fit"):
        MaxPool2D(pool_size=3).output_shape((2, 2, 8))
