"""The live test strip's core: a deterministic choice of clear and hard digits per class, the network's own
predictions for them, and which ones went from wrong to right."""

import numpy as np

from mnist_studio.data.datasets import to_float
from mnist_studio.nn.model import Model
from mnist_studio.nn.spec import load_preset
from mnist_studio.training.teststrip import (REFERENCE, StripPredictions, choose_strip, class_margins, newly_right,
                                             strip_probabilities)


def test_the_strip_takes_the_clearest_and_hardest_of_every_class(mnist):
    idx = choose_strip(mnist.test_images, mnist.test_labels, mnist.train_images, mnist.train_labels)
    assert len(idx) == 24 and len(set(idx.tolist())) == 24 and idx.max() < 2000
    labels = mnist.test_labels[idx]
    assert np.all(np.diff(labels) >= 0)  # ordered by class
    assert np.all(np.bincount(labels, minlength=10) >= 2)
    np.testing.assert_array_equal(idx, choose_strip(mnist.test_images, mnist.test_labels, mnist.train_images,
                                                    mnist.train_labels))  # deterministic
    # the margins by a plain loop over the class means
    ref = to_float(mnist.train_images[:REFERENCE]).reshape(REFERENCE, -1)
    means = np.stack([ref[mnist.train_labels[:REFERENCE] == c].mean(0) for c in range(10)])
    test = to_float(mnist.test_images[:2000]).reshape(2000, -1)
    margins = class_margins(mnist.test_images[:2000], mnist.test_labels[:2000], means.astype(np.float32))
    for i in (0, 7, 1999):
        d = np.linalg.norm(means - test[i], axis=1)
        own = d[mnist.test_labels[i]]
        assert abs(margins[i] - (np.delete(d, mnist.test_labels[i]).min() - own)) < 1e-3
    chosen = set(idx.tolist())
    for c in range(10):
        of_c = np.flatnonzero(mnist.test_labels[:2000] == c)
        assert int(of_c[np.argmin(margins[of_c])]) in chosen and int(of_c[np.argmax(margins[of_c])]) in chosen
    assert int(np.argmin(margins)) in chosen
    assert (margins[idx] < 0).sum() >= 4  # hard ones: nearer another class's mean than their own


def test_strip_predictions_are_the_models(mnist):
    model = Model(load_preset("logistic"), seed=3)
    images = to_float(mnist.test_images[:24])
    probs = strip_probabilities(model, images)
    np.testing.assert_array_equal(probs, model.predict_proba(images.reshape(24, -1)))
    p = StripPredictions(probs, mnist.test_labels[:24])
    np.testing.assert_array_equal(p.predicted, model.predict(images.reshape(24, -1)))
    np.testing.assert_array_equal(p.correct, p.predicted == mnist.test_labels[:24])


def test_newly_right_is_wrong_then_right_only():
    labels = np.array([0, 1, 2, 3])
    eye = np.eye(4)
    before = StripPredictions(eye[[0, 0, 2, 0]], labels)  # right, wrong, right, wrong
    after = StripPredictions(eye[[0, 1, 0, 0]], labels)  # right, right, wrong, wrong
    np.testing.assert_array_equal(newly_right(before, after), [False, True, False, False])
    np.testing.assert_array_equal(newly_right(None, after), [False] * 4)
