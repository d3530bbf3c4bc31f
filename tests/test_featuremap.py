"""The feature-space map's numerics: which features, the PCA map (a deterministic function of the activations), the
drawing's placement, and the NumPy t-SNE."""

import numpy as np
import pytest

from mnist_studio.nn.model import Model
from mnist_studio.nn.spec import load_preset
from mnist_studio.training.featuremap import (Projection, build_map, feature_layer, features, fit_pca,
                                              place_by_neighbours, weights_fingerprint, with_tsne)
from mnist_studio.training.stop import Stopped, StopToken
from mnist_studio.training.tsne import joint_probabilities, tsne


@pytest.fixture(scope="module")
def lenet():
    return Model(load_preset("lenet"), seed=3)


def test_features_are_the_input_of_the_last_weighted_layer(lenet, mnist):
    assert feature_layer(lenet) == 10  # ... Dense 128, ReLU, Dropout | Dense 10, Softmax
    assert feature_layer(Model(load_preset("logistic"))) == 1  # Flatten | Dense 10: the pixels themselves
    imgs = mnist.test_images[:7]
    feats, probs = features(lenet, imgs)
    acts = lenet.activations(imgs.astype(np.float32) / 255)
    np.testing.assert_allclose(feats, acts[9], rtol=1e-5, atol=1e-5)  # Dropout's output (the identity here)
    np.testing.assert_allclose(probs, acts[-1], rtol=1e-5, atol=1e-6)
    assert feats.shape == (7, 128) and feats.min() >= 0  # after a ReLU


def test_pca_map_is_a_deterministic_function_of_the_activations():
    rng = np.random.default_rng(0)
    # features with a clear first and second direction
    f = (rng.normal(size=(400, 6)) * [5.0, 2.0, 0.5, 0.3, 0.2, 0.1]) @ np.linalg.qr(rng.normal(size=(6, 6)))[0]
    f = f.astype(np.float32) + 3.0
    p1, p2 = fit_pca(f), fit_pca(f.copy())
    np.testing.assert_array_equal(p1(f), p2(f))  # same activations, same coordinates, bit for bit
    coords = p1(f)
    centred = f.astype(np.float64) - f.astype(np.float64).mean(0)
    np.testing.assert_allclose(coords, centred @ p1.axes, rtol=1e-5, atol=1e-5)  # a fixed linear map
    # the axes are the top two singular directions, each with its largest loading positive
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    for k in range(2):
        assert abs(abs(p1.axes[:, k] @ vt[k]) - 1) < 1e-8
        assert p1.axes[np.argmax(np.abs(p1.axes[:, k])), k] > 0
    np.testing.assert_allclose(p1.variance, s[:2] ** 2 / (s ** 2).sum(), rtol=1e-8)
    assert coords[:, 0].var() > coords[:, 1].var() > 0
    # a flipped sign or a permutation of the samples does not change the map itself
    flipped = fit_pca(-f)
    np.testing.assert_allclose(np.abs(flipped.axes), np.abs(p1.axes), atol=1e-10)
    perm = rng.permutation(len(f))
    np.testing.assert_allclose(fit_pca(f[perm])(f), coords, rtol=1e-4, atol=1e-4)


def test_build_map_marks_the_misread_digits(lenet, mnist):
    imgs, labels = mnist.test_images[:120], mnist.test_labels[:120]
    fmap = build_map(lenet, imgs, labels)
    again = build_map(lenet.copy(), imgs, labels)
    np.testing.assert_array_equal(fmap.coords, again.coords)
    assert fmap.fingerprint == again.fingerprint == weights_fingerprint(lenet)
    preds = lenet.predict(imgs.astype(np.float32) / 255)
    np.testing.assert_array_equal(fmap.predictions, preds)
    np.testing.assert_array_equal(fmap.wrong, preds != labels)
    assert fmap.wrong.any()  # an untrained lenet misreads most digits
    # a new drawing lands where its features project
    np.testing.assert_allclose(fmap.place(fmap.feats[5]), fmap.coords[5:6], atol=1e-4)
    changed = lenet.copy()
    changed.layers[0].params["b"] += 0.01
    assert weights_fingerprint(changed) != fmap.fingerprint


def test_features_stop_between_chunks(lenet, mnist):
    token = StopToken()
    seen = []

    def progress(done, total):
        seen.append(done)
        token.stop()

    with pytest.raises(Stopped):
        features(lenet, mnist.test_images[:600], stop=token, progress=progress)
    assert seen == [250]


def test_place_by_neighbours_interpolates_between_nearest_points():
    feats = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], np.float32)
    coords = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], np.float32)
    np.testing.assert_allclose(place_by_neighbours(feats, coords, feats[1:2], k=1), coords[1:2])
    mid = place_by_neighbours(feats, coords, np.array([[5, 0]], np.float32), k=2)
    np.testing.assert_allclose(mid, [[0.5, 0.0]], atol=1e-5)


def test_perplexity_is_met_row_by_row():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(150, 5))
    p = joint_probabilities(x, perplexity=10.0)
    assert p.shape == (150, 150) and np.allclose(p, p.T) and p.sum() == pytest.approx(1.0)
    assert np.all(np.diag(p) == 0)


def test_tsne_keeps_clusters_apart_and_is_deterministic():
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 6, (4, 20))
    labels = np.repeat(np.arange(4), 40)
    x = centres[labels] + rng.normal(0, 1, (160, 20))
    init = fit_pca(x)(x)
    y1 = tsne(x, init=init, iterations=300, exaggerated=100)
    y2 = tsne(x, init=init, iterations=300, exaggerated=100)
    np.testing.assert_array_equal(y1, y2)
    d = ((y1[:, None] - y1[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    nearest = labels[d.argsort(1)[:, :5]]
    assert (nearest == labels[:, None]).mean() > 0.97  # neighbours in the map are neighbours in the data
    with pytest.raises(ValueError):
        tsne(np.zeros((2001, 2)))


def test_tsne_map_reports_progress_and_stops(lenet, mnist):
    fmap = build_map(lenet, mnist.test_images[:90], mnist.test_labels[:90])
    seen = []
    t = with_tsne(fmap, max_points=60, progress=lambda d, n, y: seen.append((d, y.shape)), iterations=50,
                  exaggerated=20, report_every=25)
    assert t.method == "t-SNE" and t.coords.shape == (60, 2) and len(t.labels) == 60
    assert seen == [(25, (60, 2)), (50, (60, 2))]
    on_map = t.place(t.feats[3])[0]  # placed among its neighbours: itself, at distance 0, dominates
    np.testing.assert_allclose(on_map, t.coords[3], atol=1e-3)
    token = StopToken()
    token.stop()
    with pytest.raises(Stopped):
        with_tsne(fmap, stop=token)
    assert isinstance(fmap.projection, Projection)
