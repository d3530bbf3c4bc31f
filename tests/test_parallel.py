"""The two-core training step gives the same loss and gradients as the one-thread step, and stays deterministic."""

import numpy as np
import pytest

from mnist_studio.nn.losses import make_loss
from mnist_studio.nn.model import Model
from mnist_studio.nn.parallel import DataParallelStep, can_split
from mnist_studio.nn.spec import load_preset

SMALL_CNN = {"input_shape": [28, 28, 1], "layers": [
    {"type": "Conv2D", "filters": 8, "kernel_size": 5, "padding": "same"}, {"type": "ReLU"},
    {"type": "MaxPool2D", "pool_size": 2}, {"type": "Flatten"}, {"type": "Dense", "units": 10}, {"type": "Softmax"}]}


def batch(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, n)


@pytest.mark.parametrize("n", [64, 33])
def test_split_step_matches_single_thread(n):
    a = Model(SMALL_CNN, seed=1)
    b = Model(SMALL_CNN, seed=1)
    x, y = batch(n)
    loss_a, scores_a = a.loss_and_grads(x, y, make_loss("cross_entropy"))
    step = DataParallelStep(b, make_loss("cross_entropy"))
    loss_b, scores_b = step(x, y)
    step.close()
    assert loss_b == pytest.approx(loss_a, rel=1e-5)
    np.testing.assert_allclose(scores_b, scores_a, rtol=1e-5, atol=1e-5)
    for (name, _, ga), (_, _, gb) in zip(a.named_params(), b.named_params()):
        np.testing.assert_allclose(gb, ga, rtol=1e-4, atol=1e-6, err_msg=name)


def test_replica_shares_weights_but_not_gradients():
    m = Model(SMALL_CNN)
    r = m.replica()
    assert r.layers[0].params["W"] is m.layers[0].params["W"]
    assert r.layers[0].grads["W"] is not m.layers[0].grads["W"]
    m.layers[0].params["W"][0, 0, 0, 0] = 42.0
    assert r.layers[0].params["W"][0, 0, 0, 0] == 42.0


def test_split_steps_are_deterministic():
    results = []
    for _ in range(2):
        m = Model(load_preset("lenet"), seed=3)
        for layer in m.layers:
            layer.reseed(7)
        step = DataParallelStep(m, make_loss("cross_entropy"))
        x, y = batch(64, seed=5)
        results.append((step(x, y)[0], m.layers[0].grads["W"].copy()))
        step.close()
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_which_models_are_split():
    lenet = Model(load_preset("lenet"))
    assert not can_split(Model(load_preset("mlp-512-256")), 64)  # too light: threads cost more than they save
    assert not can_split(lenet, 16)  # halves too small
    bn = {"input_shape": [28, 28, 1], "layers": [
        {"type": "Conv2D", "filters": 64, "kernel_size": 5, "padding": "same"}, {"type": "BatchNorm"},
        {"type": "Flatten"}, {"type": "Dense", "units": 10}]}
    assert not can_split(Model(bn), 64)  # BatchNorm statistics over half batches would change the result


def test_many_split_steps_agree_to_the_last_bit():
    """Each half runs with single-threaded BLAS for its whole pass. (When the first half to finish gave BLAS its two
    threads back while the other half was still working, the other's rounding depended on timing, and two runs
    from the same seed differed in the last bits in about half of the attempts.)"""
    x, y = batch(64, seed=5)
    grads = []
    for _ in range(6):
        m = Model(load_preset("lenet"), seed=3)
        for layer in m.layers:
            layer.reseed(7)
        step = DataParallelStep(m, make_loss("cross_entropy"))
        step(x, y)
        step.close()
        grads.append(np.concatenate([g.ravel() for _, _, g in m.named_params()]))
    for g in grads[1:]:
        np.testing.assert_array_equal(g, grads[0])
