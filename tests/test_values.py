"""How one value is computed: a convolution's patch × kernel + bias and a Dense unit's inputs × weights + bias
equal the model's own activations, for every explainable layer, asked through the layers' declarations."""

import numpy as np
import pytest

from mnist_studio.nn.layers import LAYER_TYPES, Dense, from_config
from mnist_studio.nn.model import Model
from mnist_studio.nn.spec import load_preset
from mnist_studio.nn.values import (describe_input, explain_value, explainable_layers, explains_values,
                                    source_shape)


@pytest.fixture(scope="module")
def lenet():
    return Model(load_preset("lenet"), seed=5)


@pytest.fixture(scope="module")
def digit(mnist):
    return mnist.test_images[0].astype(np.float32) / 255


def test_only_weighted_sums_explain_their_values():
    explaining = {name for name, cls in LAYER_TYPES.items() if explains_values(from_config({"type": name}))}
    assert explaining == {"Conv2D", "Dense"}


def test_conv_value_is_patch_times_kernel_plus_bias(lenet, digit):
    acts = lenet.activations(digit[None])
    rng = np.random.default_rng(0)
    for layer in (0, 3):  # both convolutions: 1 input channel, then 32
        out = acts[layer][0]
        for _ in range(40):
            idx = tuple(int(rng.integers(n)) for n in out.shape)
            e = explain_value(lenet, digit, layer, idx)
            k = lenet.layers[layer].config["kernel_size"]
            assert e.terms.inputs.shape == e.terms.weights.shape == (k, k, lenet.layers[layer].input_shape[-1])
            assert abs(e.terms.value - out[idx]) <= 1e-5 * max(1.0, abs(out[idx]))
            assert e.activation == pytest.approx(float(out[idx]))
            assert e.then == [("ReLU", pytest.approx(max(0.0, float(out[idx]))))]


def test_conv_patch_is_the_padded_input_under_the_kernel(lenet, digit):
    e = explain_value(lenet, digit, 0, (0, 0, 3))  # top-left corner, 'same' padding of 2
    patch = e.terms.inputs[..., 0]
    assert np.all(patch[:2, :] == 0) and np.all(patch[:, :2] == 0)
    np.testing.assert_array_equal(patch[2:, 2:], digit[:3, :3])
    np.testing.assert_array_equal(e.terms.weights, lenet.layers[0].params["W"][..., 3])
    assert e.terms.bias == float(lenet.layers[0].params["b"][3])


def test_dense_contributions_sum_to_the_value(lenet, digit):
    acts = lenet.activations(digit[None])
    for layer in (7, 10):
        for unit in (0, 5, 9):
            e = explain_value(lenet, digit, layer, (unit,))
            products = e.terms.products
            np.testing.assert_allclose(products, e.terms.inputs.astype(np.float64) * e.terms.weights)
            assert products.sum() + e.terms.bias == pytest.approx(float(acts[layer][0][unit]), abs=1e-5)
            top, rest = e.top_terms(10)
            assert len(top) == 10 and np.all(np.diff(np.abs(products[top])) <= 0)
            assert products[top].sum() + rest + e.terms.bias == pytest.approx(e.activation, abs=1e-5)


def test_where_a_dense_input_comes_from(lenet):
    assert source_shape(lenet, 7) == (7, 7, 64)  # through the Flatten
    assert source_shape(lenet, 10) == (128,)  # through Dropout and ReLU, which keep a vector a vector
    assert describe_input((7, 7, 64), 64 * 7 + 65) == "row 1, col 1, ch 1"
    assert describe_input((28, 28, 1), 28 * 3 + 4) == "row 3, col 4"
    assert describe_input((128,), 17) == "input 17"


def test_bad_requests_say_what_is_wrong(lenet, digit):
    assert explainable_layers(lenet) == [0, 3, 7, 10]
    with pytest.raises(ValueError, match="not a weighted sum"):
        explain_value(lenet, digit, 1, (0, 0, 0))
    with pytest.raises(IndexError, match="outside"):
        explain_value(lenet, digit, 0, (28, 0, 0))


def test_a_dense_layer_on_its_own():
    layer = Dense(units=3)
    layer.build((4,), np.random.default_rng(0))
    x = np.array([1.0, -2.0, 0.5, 3.0], np.float32)
    terms = layer.value_terms(x, (2,))
    assert terms.value == pytest.approx(float((x @ layer.params["W"] + layer.params["b"])[2]), abs=1e-6)
