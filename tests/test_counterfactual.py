""""What would make it a 3?": the steps raise the chosen class's probability, the pixels stay in [0, 1], the
gradients the steps follow are the true ones, and the batch runs each path as if alone."""

import numpy as np
import pytest

from mnist_studio.data.datasets import to_float
from mnist_studio.nn.gradcheck import numerical_gradient, relative_error
from mnist_studio.nn.model import Model
from mnist_studio.nn.spec import load_preset
from mnist_studio.training.counterfactual import (counterfactual, counterfactuals, first_reaching, log_prob_gradient,
                                                  total_variation_grad)
from mnist_studio.training.stop import Stopped, StopToken


def test_the_steps_raise_the_chosen_class_and_stay_in_range(small_model, mnist):
    for i in range(4):
        img = to_float(mnist.test_images[i])
        label = int(mnist.test_labels[i])
        target = (label + 3) % 10
        r = counterfactual(small_model, img, target, steps=40)
        assert r.frames.shape == (r.steps + 1, 28, 28) and r.frames.dtype == np.float32
        np.testing.assert_array_equal(r.frames[0], img)
        assert r.frames.min() >= 0.0 and r.frames.max() <= 1.0
        assert r.probability[0] < 0.05  # a trained network does not see the target at first
        assert r.probability[-1] >= 0.9 and r.predicted[-1] == target
        assert r.predicted[0] == label
        # the probabilities reported are the model's own for those frames
        np.testing.assert_allclose(r.probability, small_model.predict_proba(r.frames.reshape(len(r.frames), -1))
                                   [:, target], atol=1e-5)
        assert r.steps_to(0.5) is not None and 0 < r.steps_to(0.5) <= r.steps_to(0.9) <= r.steps
        # the change is bounded by the step length: at most 0.5 per step in L2
        assert np.linalg.norm(r.frames[-1] - r.frames[0]) <= 0.5 * r.steps + 1e-4


def test_stops_early_once_the_class_is_reached(small_model, mnist):
    img = to_float(mnist.test_images[0])
    label = int(mnist.test_labels[0])
    r = counterfactual(small_model, img, label, steps=30)  # already that class: nothing to do
    assert r.steps == 0 and r.probability[0] >= 0.99
    r = counterfactual(small_model, img, (label + 1) % 10, steps=60, until=0.6)
    assert r.steps < 60 and r.probability[-1] >= 0.6 > r.probability[-2]


def test_a_batch_runs_each_path_as_if_alone(small_model, mnist):
    imgs = to_float(mnist.test_images[:3])
    targets = [3, 5, 8]
    frames, probs = counterfactuals(small_model, imgs, targets, steps=10, until=None)
    assert frames.shape == (11, 3, 28, 28) and probs.shape == (11, 3)
    for n in range(3):
        alone = counterfactual(small_model, imgs[n], targets[n], steps=10, until=None)
        np.testing.assert_allclose(frames[:, n], alone.frames, atol=1e-5)
    _, no_frames = counterfactuals(small_model, imgs, targets, steps=10, until=None, keep_frames=False)
    np.testing.assert_allclose(no_frames, probs, atol=1e-6)


def test_the_stop_token_ends_the_steps():
    token = StopToken()
    token.stop()
    model = Model(load_preset("logistic"), seed=0)
    with pytest.raises(Stopped):
        counterfactuals(model, np.zeros((1, 28, 28), np.float32), [3], steps=5, stop=token)


def test_log_prob_gradient_is_the_true_derivative():
    model = Model(load_preset("tutorial-cnn"), seed=2).astype(np.float64)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (2, 28, 28))
    targets = np.array([3, 7])
    grad, _ = log_prob_gradient(model, x, targets)

    def f() -> float:
        p = model.predict_proba(x.reshape(2, -1))
        return float(np.log(p[np.arange(2), targets]).sum())

    coords = rng.choice(x.size, 40, replace=False)
    num = numerical_gradient(f, x, coords)
    assert relative_error(grad.reshape(-1)[coords].astype(np.float64), num) < 1e-5


def test_total_variation_gradient_is_the_true_derivative():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, (2, 6, 7))

    def tv() -> float:
        dh, dv = np.diff(x, axis=2), np.diff(x, axis=1)
        return float(np.sqrt(dh ** 2 + 1e-2).sum() + np.sqrt(dv ** 2 + 1e-2).sum())

    num = numerical_gradient(tv, x, np.arange(x.size))
    assert relative_error(total_variation_grad(x).reshape(-1), num) < 1e-7


def test_first_reaching():
    p = np.array([[0.1, 0.6, 0.0], [0.55, 0.7, 0.1], [0.95, 0.9, 0.2]])
    assert first_reaching(p, 0.5) == [1, 0, None]
    assert first_reaching(p, 0.9) == [2, 2, None]
