"""Dataset statistics for the explorer, checked against plain NumPy."""

import numpy as np

from mnist_studio.data.stats import class_counts, dataset_stats, mean_images, sample_indices


def test_class_counts_match_numpy(mnist):
    counts = class_counts(mnist.train_labels)
    assert counts.shape == (10,) and counts.sum() == 60000
    assert list(counts) == [int(np.sum(mnist.train_labels == c)) for c in range(10)]
    assert counts[1] == 6742 and counts[5] == 5421  # MNIST's published per-class sizes
    assert list(class_counts(np.array([2, 2, 7]))) == [0, 0, 2, 0, 0, 0, 0, 1, 0, 0]


def test_mean_images_match_numpy(mnist):
    x, y = mnist.train_images[:3000], mnist.train_labels[:3000]
    means = mean_images(x, y)
    assert means.shape == (10, 28, 28) and means.dtype == np.float32
    for c in (0, 1, 7):
        assert np.allclose(means[c], x[y == c].astype(np.float64).mean(axis=0), atol=1e-3)
    assert means[1][:, 13:15].mean() > means[0][:, 13:15].mean()  # a 1 is ink down the middle, a 0 is not
    empty = mean_images(x[:5], np.zeros(5, np.uint8))
    assert np.all(empty[3] == 0)


def test_sample_indices_are_members_of_their_class_and_distinct():
    labels = np.array([0, 1, 0, 2, 1, 0, 0, 2, 1, 1, 1], np.uint8)
    idx = sample_indices(labels, per_class=3, classes=4, seed=3)
    assert idx.shape == (4, 3)
    for c in range(2):
        assert np.all(labels[idx[c]] == c) and len(set(idx[c])) == 3
    assert sorted(idx[2][:2]) == [3, 7] and idx[2][2] == -1  # class 2 has only two images
    assert np.all(idx[3] == -1)  # no image of class 3
    few = sample_indices(labels, per_class=5, classes=3, seed=0)
    assert sorted(few[2][few[2] >= 0]) == [3, 7] and np.sum(few[2] == -1) == 3
    assert np.array_equal(idx, sample_indices(labels, 3, 4, seed=3))
    many = np.arange(1000) % 10
    assert not np.array_equal(sample_indices(many, 12, seed=1), sample_indices(many, 12, seed=2))


def test_dataset_stats_bundle(mnist):
    st = dataset_stats(mnist.train_images[:1000], mnist.train_labels[:1000], mnist.test_labels[:500], per_class=12)
    assert st.train_counts.sum() == 1000 and st.test_counts.sum() == 500
    assert st.samples.shape == (10, 12) and st.mean_images.shape == (10, 28, 28)
    for c in range(10):
        assert np.all(mnist.train_labels[st.samples[c]] == c)
