"""The IDX file format (MNIST, Fashion-MNIST, KMNIST), read defensively.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions), one big-endian
32-bit size per dimension, then the values. Everything a damaged or foreign file can get wrong — gzip errors,
a wrong magic number, an unknown type code, a header that promises more data than follows, trailing bytes — is
reported as :class:`DatasetError` with the file's name and the problem, never as a NumPy traceback.
"""

from __future__ import annotations

import gzip
import io
import math
import zlib
from pathlib import Path

import numpy as np

MAX_IDX_BYTES = 600 * 2**20  # EMNIST's largest file is 547 MB unpacked
IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class DatasetError(Exception):
    """A dataset file or folder that cannot be used; the message names the file and the problem."""


def read_bytes(path: str | Path) -> bytes:
    """The file's content, gunzipped if it is gzip data (whatever its name says), at most :data:`MAX_IDX_BYTES`
    either way (a small gzip bomb is refused after decompressing that much, not after filling the memory)."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_IDX_BYTES:
            raise DatasetError(f"{path}: {path.stat().st_size / 2**20:,.0f} MB is larger than any IDX dataset file "
                               f"this program reads (at most {MAX_IDX_BYTES // 2**20} MB)")
        raw = path.read_bytes()
    except OSError as e:
        raise DatasetError(f"{path}: cannot be read ({e.strerror or e})") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as f:
                data = f.read(MAX_IDX_BYTES + 1)
            if len(data) > MAX_IDX_BYTES:
                raise DatasetError(f"{path}: the gzip data unpacks to more than {MAX_IDX_BYTES // 2**20} MB, more "
                                   "than any IDX dataset file this program reads")
            return data
        except EOFError:
            raise DatasetError(f"{path}: the gzip data is truncated (the download or copy was cut short)") from None
        except (OSError, zlib.error) as e:
            raise DatasetError(f"{path}: the gzip data is damaged ({e})") from None
    return raw


def parse_idx(data: bytes, name: str = "data") -> np.ndarray:
    """Decode IDX bytes into an array of the stored type and shape."""
    if len(data) < 4:
        raise DatasetError(f"{name}: too short to be an IDX file ({len(data)} bytes)")
    if data[0] != 0 or data[1] != 0:
        raise DatasetError(
            f"{name}: wrong magic number 0x{data[:4].hex()} (an IDX file starts with two zero bytes); "
            "this is not an MNIST-format file"
        )
    code, ndim = data[2], data[3]
    if code not in IDX_TYPES:
        raise DatasetError(f"{name}: unknown IDX value type 0x{code:02x} in the magic number")
    if ndim == 0:
        raise DatasetError(f"{name}: the IDX header declares no dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetError(f"{name}: truncated inside its header")
    dims = tuple(int(d) for d in np.frombuffer(data, ">u4", ndim, 4))
    dtype = np.dtype(IDX_TYPES[code])
    expected = math.prod(dims) * dtype.itemsize
    actual = len(data) - header
    shape = "×".join(str(d) for d in dims)
    if actual < expected:
        raise DatasetError(
            f"{name}: truncated: the header promises {shape} values ({expected:,} bytes) but only {actual:,} bytes follow"
        )
    if actual > expected:
        raise DatasetError(f"{name}: {actual - expected:,} unexpected bytes after the {shape} values")
    return np.frombuffer(data, dtype, math.prod(dims), header).reshape(dims).astype(dtype.newbyteorder("="))


def read_idx(path: str | Path) -> np.ndarray:
    """Read a raw or gzipped IDX file."""
    return parse_idx(read_bytes(path), str(path))


def check_images(images: np.ndarray, name: str) -> np.ndarray:
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DatasetError(f"{name}: expected images of 28×28 pixels, got an array of shape {images.shape}")
    if images.dtype != np.uint8:
        raise DatasetError(f"{name}: expected 8-bit pixel values, got {images.dtype}")
    return images


def check_labels(labels: np.ndarray, name: str, classes: int = 10) -> np.ndarray:
    if labels.ndim != 1:
        raise DatasetError(f"{name}: expected a list of labels, got an array of shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise DatasetError(f"{name}: labels must be 0-{classes - 1}, found {labels.min()}..{labels.max()}")
    return labels.astype(np.uint8)
