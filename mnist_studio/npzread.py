"""Reading ``.npz`` archives (model files, Keras-style datasets) without trusting them.

``numpy.load`` believes what an archive says: a 50 KB deflate bomb is decompressed until memory runs out, an
``.npy`` header announcing a terabyte array is allocated before its data is read, and zip features it does not
support surface as assorted exceptions. :func:`read_npz` checks the zip directory first (only stored or deflated
``.npy`` entries, none encrypted or needing a newer zip version, announced sizes within a limit), then each
``.npy`` header (plain number or text dtypes, never objects; a shape whose bytes fit in what the directory
announced), and only then reads. Every refusal is an :class:`ArchiveError` whose message says what is wrong; the
caller adds the file's name.
"""

from __future__ import annotations

import math
import tokenize
import zipfile
from pathlib import Path

import numpy as np


class ArchiveError(ValueError):
    """An archive that is refused before (or while) reading it."""


def read_npz(path: str | Path, *, max_bytes: int, max_entries: int = 10_000) -> dict[str, np.ndarray]:
    """Every entry of the archive at ``path`` as an array, by name (without ``.npy``), after the checks above.
    Raises ArchiveError; zipfile.BadZipFile, EOFError or OSError for an archive too damaged to list."""
    path = Path(path)
    return _read_arrays(path, _check_archive(path, max_bytes, max_entries))


def _check_archive(path: Path, max_bytes: int, max_entries: int) -> list[zipfile.ZipInfo]:
    """The zip directory, checked before a byte is decompressed: only stored or deflated ``.npy`` entries, none
    encrypted or needing a newer zip version, and announced sizes within ``max_bytes`` (a 50 KB
    zip bomb announcing terabytes is refused here, in milliseconds)."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except NotImplementedError as e:  # zipfile refuses an entry needing a newer zip version while listing
        raise ArchiveError(f"an entry needs a zip feature that cannot be read ({e})") from None
    if len(infos) > max_entries:
        raise ArchiveError(f"{len(infos):,} entries; at most {max_entries:,} are read")
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise ArchiveError(f"the entry {info.filename!r:.60} is encrypted, which is never read")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ArchiveError(f"the entry {info.filename!r:.60} uses compression method {info.compress_type}; "
                               "only stored or deflated entries are read")
        if info.extract_version > zipfile.MAX_EXTRACT_VERSION:
            raise ArchiveError(f"the entry {info.filename!r:.60} needs zip version "
                               f"{info.extract_version / 10:.1f}, which cannot be read")
        if not info.filename.endswith(".npy"):
            raise ArchiveError(f"the entry {info.filename!r:.60} is not a NumPy array")
        total += info.file_size
    if total > max_bytes:
        raise ArchiveError(f"the archive announces {_size(total)} of data; at most {_size(max_bytes)} are read "
                           "(refused before reading)")
    return infos


def _size(n: int) -> str:
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n} bytes"


def _read_arrays(path: Path, infos: list[zipfile.ZipInfo]) -> dict[str, np.ndarray]:
    """Every entry as an array, each ``.npy`` header checked first: a plain (never object) dtype and a shape whose
    bytes fit in what the zip directory announced, so no header can make NumPy allocate more than the file holds."""
    arrays = {}
    with zipfile.ZipFile(path) as z:
        for info in infos:
            name = info.filename[:-len(".npy")]
            with z.open(info) as f:
                try:
                    version = np.lib.format.read_magic(f)
                    if version == (1, 0):
                        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
                    elif version in ((2, 0), (3, 0)):
                        shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
                    else:
                        raise ValueError(f"unknown .npy version {version}")
                except (ValueError, SyntaxError, TypeError, tokenize.TokenError) as e:  # a damaged header
                    raise ArchiveError(f"the entry {name!r:.60} is not a readable NumPy array "
                                         f"({str(e)[:100]})") from None
                if dtype.hasobject or dtype.kind not in "biufcU" or dtype.fields is not None:
                    raise ArchiveError(f"the entry {name!r:.60} holds {dtype} values, which are never "
                                         "loaded (only numbers and text)")
                nbytes = math.prod(shape) * dtype.itemsize
                if nbytes > info.file_size:
                    raise ArchiveError(f"the entry {name!r:.60} announces a {shape} array "
                                         f"({_size(nbytes)}) but holds {_size(info.file_size)}")
            with z.open(info) as f:
                arrays[name] = np.lib.format.read_array(f, allow_pickle=False)
    return arrays


