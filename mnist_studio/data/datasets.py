"""Datasets: the embedded MNIST, any folder of IDX files, and Keras-style ``mnist.npz``.

The embedded files are verified against the SHA-256 hashes of their decompressed payloads (published with the
copy in ``resources/mnist/NOTICE``). Decompressing and hashing 55 MB takes about half a second, so the verified
arrays are cached as a plain ``.npz`` in the user's cache folder, keyed by the source files' sizes and
modification times; later loads read that cache in a few tens of milliseconds. Within one process the result is
also kept in memory. A cache that is unreadable, stale or damaged is simply rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mnist_studio.fileio import atomic_write
from mnist_studio.data.idx import MAX_IDX_BYTES, DatasetError, check_images, check_labels, parse_idx, read_bytes
from mnist_studio.npzread import ArchiveError, read_npz

MAX_NPZ_BYTES = 2 * MAX_IDX_BYTES  # a Keras-style archive holds images and labels of both sets

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
MNIST_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
DIGITS = tuple(str(d) for d in range(10))
FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
KMNIST = ("お o", "き ki", "す su", "つ tsu", "な na", "は ha", "ま ma", "や ya", "れ re", "を wo")
CACHE_VERSION = 1


@dataclass
class Dataset:
    """Train and test images (uint8, N×28×28) with labels (uint8, 0-9)."""

    name: str
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str = ""
    class_names: tuple[str, ...] = field(default=DIGITS)

    def __post_init__(self) -> None:
        for part in ("train", "test"):
            imgs, labels = getattr(self, f"{part}_images"), getattr(self, f"{part}_labels")
            if len(imgs) != len(labels):
                raise DatasetError(f"{self.source or self.name}: {len(imgs):,} {part} images but {len(labels):,} labels")

    def describe(self) -> str:
        return f"{self.name}: {len(self.train_images):,} train / {len(self.test_images):,} test images"


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 pixels → float32 in [0, 1], the network's input scale."""
    return images.astype(np.float32) * np.float32(1.0 / 255.0)


# -- IDX folders ---------------------------------------------------------------------------------------------------

def _find(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def load_idx_folder(folder: str | Path, name: str | None = None, verify: dict[str, str] | None = None) -> Dataset:
    """Load the four standard IDX files (raw or ``.gz``) from a folder (MNIST, Fashion-MNIST, KMNIST layout)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: not a folder")
    arrays = {}
    for key, stem in FILES.items():
        path = _find(folder, stem)
        if path is None:
            raise DatasetError(f"{folder}: missing {stem}(.gz); a dataset folder needs the four MNIST-format files")
        data = read_bytes(path)
        if verify is not None:
            digest = hashlib.sha256(data).hexdigest()
            if digest != verify[stem]:
                raise DatasetError(f"{path}: content does not match the published SHA-256 ({digest[:12]}…); "
                                   "the file is damaged or not the original")
        arr = parse_idx(data, str(path))
        arrays[key] = check_images(arr, str(path)) if key.endswith("images") else check_labels(arr, str(path))
    guessed, classes = _recognise(folder)
    return Dataset(name or guessed, **arrays, source=str(folder), class_names=classes)


def _recognise(folder: Path) -> tuple[str, tuple[str, ...]]:
    """A display name and class names from the folder's path (the IDX files themselves do not say)."""
    path = str(folder.resolve()).lower()
    if "fashion" in path:
        return "Fashion-MNIST", FASHION
    if "kmnist" in path or "kuzushiji" in path:
        return "KMNIST", KMNIST
    return folder.name or str(folder), DIGITS


# -- Keras npz -------------------------------------------------------------------------------------------------------

def load_npz(path: str | Path, name: str | None = None) -> Dataset:
    """Load a Keras-style ``mnist.npz`` (``x_train``, ``y_train``, ``x_test``, ``y_test``)."""
    path = Path(path)
    try:
        data = read_npz(path, max_bytes=MAX_NPZ_BYTES)
    except ArchiveError as e:
        raise DatasetError(f"{path}: {e}") from None
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError, zlib.error) as e:
        raise DatasetError(f"{path}: not a readable .npz archive ({str(e)[:200]})") from None
    missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in data]
    if missing:
        raise DatasetError(f"{path}: missing {', '.join(missing)}; expected Keras's mnist.npz layout")
    arrays = {k: data[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    return Dataset(
        name or path.stem,
        check_images(arrays["x_train"], f"{path}:x_train"), check_labels(arrays["y_train"], f"{path}:y_train"),
        check_images(arrays["x_test"], f"{path}:x_test"), check_labels(arrays["y_test"], f"{path}:y_test"),
        source=str(path),
    )


def load_dataset(path: str | Path) -> Dataset:
    """A dataset from a folder of IDX files or a Keras-style ``.npz``."""
    path = Path(path)
    if path.is_dir():
        return load_idx_folder(path)
    if path.suffix == ".npz":
        return load_npz(path)
    raise DatasetError(f"{path}: expected a folder of IDX files or a .npz file")


# -- the embedded MNIST ------------------------------------------------------------------------------------------

_memory: dict[str, Dataset] = {}


def embedded_mnist_dir() -> Path:
    from mnist_studio.resources import resource_path

    return resource_path("mnist")


def cache_dir() -> Path:
    env = os.environ.get("MNIST_STUDIO_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mnist-studio"


def _fingerprint(folder: Path) -> dict:
    out = {"version": CACHE_VERSION}
    for stem in FILES.values():
        p = _find(folder, stem)
        st = p.stat() if p else None
        out[stem] = [st.st_size, st.st_mtime_ns] if st else None
    return out


def load_mnist(use_cache: bool = True) -> Dataset:
    """The embedded MNIST (60,000 train + 10,000 test), verified; fast after the first call (see module doc)."""
    if "mnist" in _memory:
        return _memory["mnist"]
    folder = embedded_mnist_dir()
    fingerprint = _fingerprint(folder)
    cache = cache_dir() / "mnist-verified.npz"
    ds = _read_cache(cache, fingerprint) if use_cache else None
    if ds is None:
        ds = load_idx_folder(folder, name="MNIST", verify=MNIST_SHA256)
        if use_cache:
            _write_cache(cache, ds, fingerprint)
    ds.source = str(folder)
    _memory["mnist"] = ds
    return ds


def _read_cache(cache: Path, fingerprint: dict) -> Dataset | None:
    try:
        with np.load(cache, allow_pickle=False) as data:
            if json.loads(str(data["fingerprint"])) != fingerprint:
                return None
            arrays = {k: data[k] for k in FILES}
        return Dataset("MNIST", check_images(arrays["train_images"], "cache"), check_labels(arrays["train_labels"], "cache"),
                       check_images(arrays["test_images"], "cache"), check_labels(arrays["test_labels"], "cache"))
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile, DatasetError):
        return None


def _write_cache(cache: Path, ds: Dataset, fingerprint: dict) -> None:
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        arrays = {k: getattr(ds, k) for k in FILES}
        atomic_write(cache, lambda f: np.savez(f, fingerprint=np.array(json.dumps(fingerprint)), **arrays))
    except OSError:
        pass  # a read-only or full disk only costs speed next time
