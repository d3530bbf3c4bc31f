"""Every layer's backward pass and both losses against central-difference gradients in float64."""

import numpy as np
import pytest

from mnist_studio.nn.gradcheck import TOLERANCE, check_layer, check_loss, check_model, relative_error
from mnist_studio.nn.layers import (LAYER_TYPES, AvgPool2D, BatchNorm, Conv2D, Dense, Dropout, Flatten, LeakyReLU,
                                    MaxPool2D, ReLU, Sigmoid, Softmax, Tanh)
from mnist_studio.nn.spec import load_preset

CASES = [
    ("dense", lambda: Dense(units=5), (7,)),
    ("conv same", lambda: Conv2D(filters=3, kernel_size=3, padding="same"), (6, 6, 2)),
    ("conv valid 5x5", lambda: Conv2D(filters=2, kernel_size=5, padding="valid"), (7, 7, 1)),
    ("conv stride 2 pad 1", lambda: Conv2D(filters=2, kernel_size=3, stride=2, padding=1), (7, 7, 3)),
    ("conv same stride 2", lambda: Conv2D(filters=2, kernel_size=4, stride=2, padding="same"), (7, 7, 2)),
    ("conv 5x5 same, 8 channels (Winograd)", lambda: Conv2D(filters=3, kernel_size=5, padding="same"), (4, 6, 8)),
    ("conv 3x3 valid, 8 channels (Winograd)", lambda: Conv2D(filters=2, kernel_size=3), (6, 4, 8)),
    ("maxpool 2", lambda: MaxPool2D(pool_size=2), (6, 6, 2)),
    ("maxpool 3 stride 2 (overlapping)", lambda: MaxPool2D(pool_size=3, stride=2), (7, 7, 2)),
    ("maxpool odd size", lambda: MaxPool2D(pool_size=2), (7, 5, 2)),
    ("avgpool 2", lambda: AvgPool2D(pool_size=2), (6, 6, 2)),
    ("avgpool 3 stride 1", lambda: AvgPool2D(pool_size=3, stride=1), (5, 5, 2)),
    ("flatten", lambda: Flatten(), (3, 3, 2)),
    ("dropout", lambda: Dropout(rate=0.5), (10,)),
    ("batchnorm dense", lambda: BatchNorm(), (6,)),
    ("batchnorm conv", lambda: BatchNorm(), (4, 4, 3)),
    ("relu", lambda: ReLU(), (10,)),
    ("leaky relu", lambda: LeakyReLU(alpha=0.1), (10,)),
    ("sigmoid", lambda: Sigmoid(), (10,)),
    ("tanh", lambda: Tanh(), (10,)),
    ("softmax", lambda: Softmax(), (10,)),
]


def test_every_layer_type_is_covered():
    covered = {make().type_name() for _, make, _ in CASES}
    assert covered == set(LAYER_TYPES)


@pytest.mark.parametrize("name,make,shape", CASES, ids=[c[0] for c in CASES])
def test_layer_backward_matches_numerical_gradient(name, make, shape):
    results = check_layer(make(), shape, batch=3)
    assert {r.name for r in results} >= {"input"}
    for r in results:
        assert r.error < TOLERANCE, f"{name}: gradient of {r.name} is off (relative error {r.error:.2e})"


def test_batchnorm_eval_mode_gradient():
    for r in check_layer(BatchNorm(), (5,), training=False):
        assert r.error < TOLERANCE


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_loss_gradient(loss):
    assert check_loss(loss).error < TOLERANCE


@pytest.mark.parametrize("preset", ["lenet", "mlp-512-256", "tutorial-cnn", "tiny-mlp"])
def test_whole_model_gradients(preset):
    for r in check_model(load_preset(preset), batch=3, per_array=8):
        assert r.error < TOLERANCE, f"{preset}: {r.name} relative error {r.error:.2e}"


def test_whole_model_gradients_with_mse():
    for r in check_model(load_preset("tiny-mlp"), loss_name="mse", batch=3, per_array=8):
        assert r.error < TOLERANCE


def test_gradcheck_detects_a_wrong_backward_pass():
    """The check must be able to fail: a layer with a deliberately wrong derivative is caught."""
    class BrokenTanh(Tanh):
        def backward(self, dy, need_input_grad=True):
            return dy * (1.0 - self._y)  # missing the square

    err = max(r.error for r in check_layer(BrokenTanh(), (10,)))
    assert err > 1e-3
    assert relative_error(np.ones(3), np.ones(3)) == 0.0


def test_an_architecture_checked_layer_by_layer_shows_both_gradients():
    from mnist_studio.nn.gradcheck import check_layers

    checks = list(check_layers(load_preset("tutorial-cnn"), limit=8))
    assert [c.title.split()[0] for c in checks] == [str(i + 1) for i in range(7)]
    assert [c.input_shape for c in checks[:3]] == [(28, 28, 1), (26, 26, 4), (26, 26, 4)]
    for c in checks:
        assert c.ok, c.title
        for r in c.results:
            assert r.analytic.shape == r.numeric.shape == r.coords.shape == (r.checked,)
            np.testing.assert_allclose(r.analytic, r.numeric, rtol=1e-5, atol=1e-8)
    assert [r.name for r in checks[0].results] == ["input", "W", "b"]


def test_an_architecture_check_flags_the_broken_layer(monkeypatch):
    from mnist_studio.nn.gradcheck import check_layers

    original = Dense.backward
    monkeypatch.setattr(Dense, "backward", lambda self, dy, need_input_grad=True:
                        None if (dx := original(self, dy, need_input_grad)) is None else dx * 1.5)
    checks = list(check_layers(load_preset("tutorial-cnn"), limit=8))
    assert [c.ok for c in checks] == [True] * 5 + [False, True]  # only the Dense layer
    assert [r.ok for r in checks[5].results] == [False, True, True]  # its input gradient; W and b are right


def test_timing_backprop_against_numerical_gradients():
    from mnist_studio.nn.gradcheck import time_gradients
    from mnist_studio.nn.model import Model

    model = Model(load_preset("tiny-mlp"), seed=0)
    before = model.state_dict()
    x = np.random.default_rng(0).uniform(0, 1, (8, 784)).astype(np.float32)
    t = time_gradients(model, x, np.arange(8) % 10, timed=5)
    assert t.batch == 8 and t.params == 7960 and t.timed == 5
    assert t.backprop_seconds > 0 and t.numeric_seconds_per_weight > 0
    assert t.numeric_seconds == pytest.approx(t.numeric_seconds_per_weight * 7960)
    for k, v in model.state_dict().items():  # every perturbed weight is restored
        np.testing.assert_array_equal(v, before[k])
