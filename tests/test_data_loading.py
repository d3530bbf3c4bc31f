"""IDX / npz / folder loading, validation of damaged files, the embedded MNIST and its cache."""

import gzip
import shutil
import struct
import time

import numpy as np
import pytest

from mnist_studio.data import datasets
from mnist_studio.data.datasets import load_dataset, load_idx_folder, load_mnist, load_npz
from mnist_studio.data.idx import DatasetError, parse_idx, read_idx
from mnist_studio.data.splits import make_splits, minibatches


def idx_bytes(arr: np.ndarray) -> bytes:
    return struct.pack(">BBBB", 0, 0, 0x08, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def write_folder(folder, n_train=30, n_test=12, gz=True, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    parts = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for name, arr in parts.items():
        data = idx_bytes(arr)
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return parts


def test_parse_idx_round_trip():
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(parse_idx(idx_bytes(arr)), arr)


def test_wrong_magic_names_the_file(tmp_path):
    p = tmp_path / "bad-idx"
    p.write_bytes(b"\x12\x34\x08\x01" + b"\x00" * 20)
    with pytest.raises(DatasetError, match=r"bad-idx: wrong magic number 0x12340801"):
        read_idx(p)


def test_truncated_file_names_the_file_and_sizes(tmp_path):
    data = idx_bytes(np.zeros((10, 28, 28), np.uint8))
    p = tmp_path / "short-images"
    p.write_bytes(data[:-100])
    with pytest.raises(DatasetError, match=r"short-images: truncated: the header promises 10×28×28 values \(7,840 bytes\) but only 7,740"):
        read_idx(p)


def test_truncated_gzip_is_reported(tmp_path):
    p = tmp_path / "cut.gz"
    noise = np.random.default_rng(0).integers(0, 256, (50, 28, 28), dtype=np.uint8)
    p.write_bytes(gzip.compress(idx_bytes(noise))[:2000])
    with pytest.raises(DatasetError, match=r"cut.gz: the gzip data is truncated"):
        read_idx(p)


def test_trailing_bytes_and_unknown_type_are_reported():
    with pytest.raises(DatasetError, match="unexpected bytes"):
        parse_idx(idx_bytes(np.zeros(3, np.uint8)) + b"xx", "f")
    with pytest.raises(DatasetError, match="unknown IDX value type 0x07"):
        parse_idx(b"\x00\x00\x07\x01\x00\x00\x00\x01\x00", "f")


def test_folder_raw_and_gz(tmp_path):
    for gz in (True, False):
        parts = write_folder(tmp_path / f"d{gz}", gz=gz)
        ds = load_idx_folder(tmp_path / f"d{gz}")
        np.testing.assert_array_equal(ds.train_images, parts["train-images-idx3-ubyte"])
        np.testing.assert_array_equal(ds.test_labels, parts["t10k-labels-idx1-ubyte"])


def test_folder_with_mismatched_counts(tmp_path):
    write_folder(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(29, np.uint8))))
    with pytest.raises(DatasetError, match="30 train images but 29 labels"):
        load_idx_folder(tmp_path)


def test_folder_missing_file_and_wrong_image_size(tmp_path):
    write_folder(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetError, match="missing t10k-labels-idx1-ubyte"):
        load_idx_folder(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(12, np.uint8)))
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros((30, 32, 32), np.uint8))))
    with pytest.raises(DatasetError, match="expected images of 28×28 pixels"):
        load_idx_folder(tmp_path)


def test_labels_out_of_range(tmp_path):
    write_folder(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.full(12, 11, np.uint8))))
    with pytest.raises(DatasetError, match="labels must be 0-9"):
        load_idx_folder(tmp_path)


def test_keras_npz(tmp_path):
    rng = np.random.default_rng(0)
    arrays = dict(x_train=rng.integers(0, 256, (5, 28, 28), dtype=np.uint8), y_train=np.arange(5, dtype=np.uint8),
                  x_test=rng.integers(0, 256, (3, 28, 28), dtype=np.uint8), y_test=np.arange(3, dtype=np.uint8))
    np.savez(tmp_path / "mnist.npz", **arrays)
    ds = load_dataset(tmp_path / "mnist.npz")
    np.testing.assert_array_equal(ds.train_images, arrays["x_train"])
    np.savez(tmp_path / "wrong.npz", x_train=arrays["x_train"])
    with pytest.raises(DatasetError, match="missing y_train, x_test, y_test"):
        load_npz(tmp_path / "wrong.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all")
    with pytest.raises(DatasetError, match="junk.npz"):
        load_npz(tmp_path / "junk.npz")


def test_embedded_mnist_is_complete_and_verified(mnist):
    assert mnist.train_images.shape == (60000, 28, 28) and mnist.test_images.shape == (10000, 28, 28)
    assert np.bincount(mnist.train_labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert abs(mnist.train_images.mean() / 255 - 0.1307) < 1e-3


def test_verification_catches_a_modified_file(tmp_path):
    src = datasets.embedded_mnist_dir()
    for p in src.glob("*.gz"):
        shutil.copy(p, tmp_path / p.name)
    labels = gzip.decompress((tmp_path / "t10k-labels-idx1-ubyte.gz").read_bytes())
    tampered = labels[:-1] + bytes([(labels[-1] + 1) % 10])
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(tampered))
    with pytest.raises(DatasetError, match="does not match the published SHA-256"):
        load_idx_folder(tmp_path, verify=datasets.MNIST_SHA256)


def test_cache_is_used_and_rebuilt_when_damaged(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_STUDIO_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(datasets, "_memory", {})
    first = load_mnist()
    cache = tmp_path / "mnist-verified.npz"
    assert cache.exists()
    monkeypatch.setattr(datasets, "_memory", {})
    calls = []
    real = datasets.load_idx_folder
    monkeypatch.setattr(datasets, "load_idx_folder", lambda *a, **k: calls.append(1) or real(*a, **k))
    t0 = time.perf_counter()
    second = load_mnist()
    assert calls == [] and time.perf_counter() - t0 < 5  # served from the cache (not a timing assertion proper)
    np.testing.assert_array_equal(first.test_images, second.test_images)
    cache.write_bytes(b"garbage")
    monkeypatch.setattr(datasets, "_memory", {})
    third = load_mnist()
    assert calls == [1]
    np.testing.assert_array_equal(first.train_labels, third.train_labels)


def test_splits_default_and_seeded(mnist):
    s = make_splits(mnist)
    assert len(s.train_x) == 55000 and len(s.val_x) == 5000
    np.testing.assert_array_equal(s.val_x, mnist.train_images[-5000:])
    a = make_splits(mnist, val_seed=3)
    b = make_splits(mnist, val_seed=3)
    np.testing.assert_array_equal(a.val_y, b.val_y)
    assert not np.array_equal(a.val_x, s.val_x)
    small = make_splits(mnist, limit=1000)
    assert len(small.train_x) == 1000 and len(small.val_x) == 200


def test_minibatches_cover_everything_once():
    rng = np.random.default_rng(0)
    batches = list(minibatches(103, 10, rng))
    assert [len(b) for b in batches] == [10] * 10 + [3]
    assert sorted(np.concatenate(batches).tolist()) == list(range(103))


def test_known_datasets_are_recognised_by_folder_name(tmp_path):
    from mnist_studio.data.datasets import FASHION, KMNIST

    write_folder(tmp_path / "fashion-mnist")
    write_folder(tmp_path / "kmnist")
    write_folder(tmp_path / "my-digits")
    assert (load_idx_folder(tmp_path / "fashion-mnist").name, load_idx_folder(tmp_path / "fashion-mnist").class_names) \
        == ("Fashion-MNIST", FASHION)
    assert load_idx_folder(tmp_path / "kmnist").class_names == KMNIST
    assert load_idx_folder(tmp_path / "my-digits").name == "my-digits"
