"""Robustness curves and evaluation review helpers, on a hand-made template classifier (no training needed)."""

import numpy as np
import pytest

from mnist_studio.data.datasets import to_float
from mnist_studio.data.stats import mean_images
from mnist_studio.nn.model import Model
from mnist_studio.nn.spec import load_preset
from mnist_studio.training.metrics import Evaluation, confusion_matrix, evaluate
from mnist_studio.training import review
from mnist_studio.training.robustness import (SWEEPS, damage, noise_accuracy, robustness_report,
                                              rotation_accuracy, shift_accuracy, subset_indices, thickness_accuracy)
from mnist_studio.training.stop import Stopped, StopToken


def template_model(ds, scale=5.0):
    """Logistic regression whose weights are each class's mean image minus the overall mean: ~57 % on MNIST."""
    model = Model(load_preset("logistic"))
    means = mean_images(ds.train_images[:2000], ds.train_labels[:2000]) / 255
    state = {"1.W": ((means - means.mean(0)).reshape(10, 784).T * scale).astype(np.float32),
             "1.b": np.zeros(10, np.float32)}
    model.load_state_dict(state)
    return model


@pytest.fixture(scope="module")
def setup(mnist):
    model = template_model(mnist)
    return model, mnist.test_images[:400], mnist.test_labels[:400]


def test_curves_have_one_accuracy_per_strength_and_rotation_zero_is_plain(setup):
    model, x, y = setup
    plain = evaluate(model, x, y).accuracy
    assert 0.4 < plain < 0.8
    angles = (-30.0, -10.0, 0.0, 10.0, 30.0)
    rot = rotation_accuracy(model, x, y, angles)
    assert rot.shape == (5,)
    assert rot[2] == pytest.approx(plain, abs=0)
    assert rot[0] < plain and rot[4] < plain  # 30° tilts hurt a template matcher
    shift = shift_accuracy(model, x, y, (0.0, 3.0, 6.0))
    assert shift.shape == (3,) and shift[0] == pytest.approx(plain, abs=0) and shift[2] < shift[0] - 0.2
    thick = thickness_accuracy(model, x, y, (-2, 0, 3))
    assert thick.shape == (3,) and thick[1] == pytest.approx(plain, abs=0) and thick[2] < plain


def test_heavy_noise_lowers_accuracy(setup):
    model, x, y = setup
    noise = noise_accuracy(model, x, y, (0.0, 0.5))
    assert noise[0] == pytest.approx(evaluate(model, x, y).accuracy, abs=0)
    assert noise[1] < noise[0] - 0.1


def test_damage_transforms_change_images_as_named(mnist):
    x = to_float(mnist.test_images[:20])
    assert np.array_equal(damage(x, "rotation", 0), x)
    assert np.array_equal(damage(x, "shift", 0), x)
    assert np.array_equal(damage(x, "thickness", 0), x)
    thicker, thinner = damage(x, "thickness", 2), damage(x, "thickness", -1)
    assert thicker.sum() > x.sum() > thinner.sum()
    moved = damage(x, "shift", 4)
    # each image moved 4 px: its centre of mass moves by about 4 px (ink kept inside the frame)
    rows = np.arange(28, dtype=np.float32)

    def com(a):
        m = a.sum(axis=(1, 2))
        return np.stack([(a.sum(2) * rows).sum(1) / m, (a.sum(1) * rows).sum(1) / m], 1)

    dist = np.linalg.norm(com(moved) - com(x), axis=1)
    assert np.median(dist) == pytest.approx(4.0, abs=0.5)
    noisy = damage(x, "noise", 0.3)
    assert 0.15 < np.std(noisy - x) < 0.3 and noisy.min() >= 0 and noisy.max() <= 1


def test_report_covers_every_sweep_reports_progress_and_is_deterministic(setup):
    model, x, y = setup
    calls = []
    rep = robustness_report(model, x, y, progress=lambda r, done, total: calls.append((done, total)))
    total = sum(len(s.values) for s in SWEEPS)
    assert calls[-1] == (total, total) and len(calls) == total
    for s in SWEEPS:
        c = rep.curves[s.name]
        assert c.accuracy.shape == (len(s.values),) and not np.isnan(c.accuracy).any()
        assert c.accuracy[list(s.values).index(0.0)] == rep.plain_accuracy
    again = robustness_report(model, x, y)
    for s in SWEEPS:
        assert np.array_equal(again.curves[s.name].accuracy, rep.curves[s.name].accuracy)


def test_report_can_be_stopped_between_points(setup):
    model, x, y = setup
    seen = []
    token = StopToken()

    def on_point(report, done, total):
        seen.append(done)
        if done == 3:
            token.stop()

    with pytest.raises(Stopped):
        robustness_report(model, x, y, progress=on_point, stop=token)
    assert seen == [1, 2, 3]


def test_subset_indices():
    labels = np.arange(5000) % 10
    idx = subset_indices(labels, 1000, seed=1)
    assert len(idx) == 1000 and len(np.unique(idx)) == 1000 and np.all(np.diff(idx) > 0)
    assert np.array_equal(idx, subset_indices(labels, 1000, seed=1))
    assert np.array_equal(subset_indices(labels, 9000), np.arange(5000))


# -- review helpers ---------------------------------------------------------------------------------------------------

def hand_evaluation(labels, predictions, confidence):
    labels, predictions = np.array(labels), np.array(predictions)
    probs = np.full((len(labels), 10), 0.0, np.float32)
    conf = np.array(confidence, np.float32)
    probs[:] = ((1 - conf) / 9)[:, None]
    probs[np.arange(len(labels)), predictions] = conf
    return Evaluation(float(np.mean(labels == predictions)), 0.0, confusion_matrix(labels, predictions), probs,
                      labels, predictions)


def test_evaluate_in_parts_equals_one_evaluation(setup):
    model, x, y = setup
    whole = evaluate(model, x, y)
    progress = []
    parts = review.evaluate_in_parts(model, x, y, parts=7, progress=lambda d, t: progress.append(d))
    assert progress[-1] == len(y) and len(progress) == 7
    assert parts.accuracy == whole.accuracy
    assert parts.loss == pytest.approx(whole.loss, rel=1e-6)
    assert np.array_equal(parts.confusion, whole.confusion)
    assert np.allclose(parts.probabilities, whole.probabilities, rtol=1e-4, atol=1e-6)
    token = StopToken()
    token.stop()
    with pytest.raises(Stopped):
        review.evaluate_in_parts(model, x, y, stop=token)


def test_cells_mistakes_threshold_and_most_confused():
    ev = hand_evaluation([3, 3, 3, 5, 5, 8, 3], [3, 5, 5, 5, 3, 8, 5], [0.9, 0.6, 0.99, 0.8, 0.7, 0.5, 0.75])
    assert list(review.cell_indices(ev, 3, 5)) == [2, 6, 1]  # most confident first
    assert list(review.cell_indices(ev, 8, 8)) == [5]
    assert len(review.cell_indices(ev, 0, 1)) == 0
    assert list(review.confident_mistakes(ev, 3)) == [2, 6, 4]
    cov, acc, n = review.threshold_summary(ev, 0.75)
    assert n == 4 and cov == pytest.approx(4 / 7) and acc == pytest.approx(2 / 4)  # 0.9 ✓, 0.99 ✗, 0.8 ✓, 0.75 ✗
    other, count = review.most_confused_with(ev.confusion)
    assert other[3] == 5 and count[3] == 3 and other[5] == 3 and count[5] == 1 and other[8] == -1 and count[8] == 0
