""""My handwriting": the user's own corrected and confirmed drawings, kept with their strokes, safely. No Qt.

Every drawing the user corrects ("that was a 7") or confirms on the Draw tab, and every answer of the guided mode,
is kept here so it can be taught (:mod:`mnist_studio.training.adapt`), browsed like a dataset, deleted, and
exported as a stroke file. The strokes are the truth (a future recipe can re-render them); the 28×28 images are
kept beside them only so the Dataset tab opens instantly.

The file is one ``.npz`` of plain arrays (``allow_pickle=False`` loads it; nothing in it can run code):

- ``format`` = ``"mnist-studio-handwriting"``, ``format_version`` = 1, or 2 when it holds digits from photos
- ``digits``: the records as JSON text, in the stroke-file format of :mod:`mnist_studio.data.strokes`
  (``label``, ``strokes``, and ``held_out`` / ``source`` among the extra keys)
- ``images`` (N×28×28 uint8) and ``labels`` (N uint8), which must agree with ``digits``

A digit cut from a photo (Classify Image, a digit clicked, then its label given) has no strokes: its record says
``"source": "photo"`` (and the picture's name), ``strokes`` is empty, and its image is the truth. Such examples carry
what pencil, chalk and a camera do to the user's hand, which the pad's strokes cannot; they are taught like the
others but left out of a stroke-file export.

Saves are atomic (:mod:`mnist_studio.fileio`). A file that cannot be read (truncated, foreign, inconsistent) is
*refused*: :class:`HandwritingError` says what is wrong, the store starts empty, and the damaged file is moved aside
(``…damaged-<time>.npz``) by the next save instead of being overwritten, so nothing the user drew is silently lost.
"""

from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path
from typing import Sequence

import numpy as np

from mnist_studio.data.idx import DatasetError
from mnist_studio.data.strokes import PICTURE_SOURCE, Stroke, StrokeDigit, parse_stroke_text, read_stroke_file, \
    stroke_images, write_stroke_file
from mnist_studio.fileio import atomic_write
from mnist_studio.npzread import read_npz

FORMAT = "mnist-studio-handwriting"
FORMAT_VERSION = 2  # 2: digits from photos (no strokes) may be among the records; a file without any says 1
FILE_NAME = "my-handwriting.npz"
MAX_FILE_BYTES = 256 * 2**20  # far above any person's examples (~1 KB each); refuses bombs before reading
SOURCES = ("corrected", "confirmed", "guided", "imported", PICTURE_SOURCE)


class HandwritingError(Exception):
    """The examples file cannot be used (or written); the message names the file and the reason."""


def _to_uint8(images: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(images * 255.0), 0, 255).astype(np.uint8)


class HandwritingStore:
    """The user's examples, in memory and in ``path``. Call :meth:`load` once; every change saves at once."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.digits: list[StrokeDigit] = []
        self.images = np.zeros((0, 28, 28), np.uint8)
        self.refused: str | None = None  # why the file on disk was refused, until the next save moves it aside

    # -- reading ---------------------------------------------------------------------------------------------------
    def load(self) -> None:
        """Read the file (a missing file is an empty store). A damaged file raises :class:`HandwritingError`
        and leaves the store empty and usable."""
        self.digits, self.images, self.refused = [], np.zeros((0, 28, 28), np.uint8), None
        if not self.path.exists():
            return
        try:
            self.digits, self.images = self._read(self.path)
        except HandwritingError as e:
            self.refused = str(e)
            raise

    @staticmethod
    def _read(path: Path) -> tuple[list[StrokeDigit], np.ndarray]:
        def bad(why: str) -> HandwritingError:
            return HandwritingError(f"{path}: {why}; the file was left as it is and your examples start empty")

        try:
            # the checked reader: zip directory and .npy headers before anything is allocated (no zip bombs)
            arrays = read_npz(path, max_bytes=MAX_FILE_BYTES)
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
            raise bad(f"not a readable examples file ({e})") from None
        if str(arrays.get("format", "")) != FORMAT:
            raise bad("not a My handwriting file")
        version = arrays.get("format_version")
        if version is None or version.shape != () or int(version) > FORMAT_VERSION:
            raise bad("written by a newer version of the studio")
        for key in ("digits", "images", "labels"):
            if key not in arrays:
                raise bad(f"'{key}' is missing")
        try:
            digits = (parse_stroke_text(str(arrays["digits"]), "digits", pictures=int(version) >= 2, allow_empty=True)
                      if arrays["digits"].shape == () else None)
        except DatasetError as e:
            raise bad(str(e)) from None
        if digits is None:
            raise bad("'digits' is not text")
        images, labels = arrays["images"], arrays["labels"]
        if images.dtype != np.uint8 or images.shape != (len(digits), 28, 28):
            raise bad(f"'images' should be {len(digits)}×28×28 bytes, found {images.dtype} {images.shape}")
        if labels.shape != (len(digits),) or not np.array_equal(labels, [d.label for d in digits]):
            raise bad("the labels do not match the drawings")
        return digits, images

    # -- what it holds ---------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.digits)

    @property
    def labels(self) -> np.ndarray:
        return np.array([d.label for d in self.digits], dtype=np.int64)

    @property
    def held_out(self) -> np.ndarray:
        """Examples kept apart from teaching, to measure it (the guided mode's one per digit)."""
        return np.array([bool(d.extra.get("held_out", False)) for d in self.digits], dtype=bool)

    def float_images(self) -> np.ndarray:
        return self.images.astype(np.float32) * np.float32(1 / 255)

    def counts(self) -> np.ndarray:
        return np.bincount(self.labels, minlength=10)[:10]

    # -- changes (each saves) --------------------------------------------------------------------------------------
    def add(self, strokes: Sequence[Stroke], label: int, source: str = "corrected", held_out: bool = False,
            save: bool = True) -> StrokeDigit:
        """Keep one drawing (its strokes in any unit) as an example of ``label``."""
        if not (0 <= int(label) <= 9):
            raise ValueError(f"an example's label must be a digit 0-9, got {label}")
        # kept to the file's precision (2 decimals), so the image is rendered from exactly what is saved
        pts = [[(round(float(x), 2), round(float(y), 2)) for x, y in s] for s in strokes if len(s)]
        if not pts:
            raise ValueError("an empty drawing cannot be an example")
        digit = StrokeDigit(int(label), pts, {"source": source, "held_out": bool(held_out),
                                              "added": time.strftime("%Y-%m-%dT%H:%M:%S")})
        self._append([digit])
        if save:
            self.save()
        return digit

    def add_image(self, image: np.ndarray, label: int, picture: str = "", save: bool = True) -> StrokeDigit:
        """Keep a digit cut from a photo (its 28×28 input, ink 0-1, as the network read it) as an example of
        ``label``: the user's hand as a camera sees it on paper or a board."""
        if not (0 <= int(label) <= 9):
            raise ValueError(f"an example's label must be a digit 0-9, got {label}")
        img = np.asarray(image, dtype=np.float32)
        if img.shape != (28, 28) or not np.isfinite(img).all():
            raise ValueError(f"a photo's digit must be a 28×28 image, got {img.shape}")
        if img.max() <= 0.05:
            raise ValueError("an empty image cannot be an example")
        extra = {"source": PICTURE_SOURCE, "held_out": False, "added": time.strftime("%Y-%m-%dT%H:%M:%S")}
        if picture:
            extra["picture"] = str(picture)[:200]
        digit = StrokeDigit(int(label), [], extra)
        self._append([digit], images=np.clip(img, 0.0, 1.0)[None])
        if save:
            self.save()
        return digit

    @property
    def from_photos(self) -> np.ndarray:
        """Which examples were cut from photos (no strokes)."""
        return np.array([d.extra.get("source") == PICTURE_SOURCE for d in self.digits], dtype=bool)

    def _append(self, digits: list[StrokeDigit], images: np.ndarray | None = None) -> None:
        self.digits.extend(digits)
        rendered = stroke_images(digits) if images is None else images
        self.images = np.concatenate([self.images, _to_uint8(rendered)])

    def remove(self, indices: Sequence[int]) -> None:
        drop = set(int(i) for i in indices)
        keep = [i for i in range(len(self.digits)) if i not in drop]
        self.digits = [self.digits[i] for i in keep]
        self.images = self.images[keep] if keep else np.zeros((0, 28, 28), np.uint8)
        self.save()

    def import_file(self, path: str | Path) -> int:
        """Add every digit of a stroke file (raises DatasetError, adding nothing, if the file is bad)."""
        digits = read_stroke_file(path)
        for d in digits:
            d.extra.setdefault("source", "imported")
            d.extra["held_out"] = bool(d.extra.get("held_out", False))
        self._append(digits)
        self.save()
        return len(digits)

    def export(self, path: str | Path) -> None:
        """All examples as a stroke file (the dev set's format), so they can be taught elsewhere."""
        drawn = [d for d in self.digits if d.strokes]
        if not drawn:
            raise HandwritingError("there are no drawn examples to export" if self.digits
                                   else "there are no examples to export")
        write_stroke_file(path, drawn)

    def save(self) -> None:
        if self.refused is not None and self.path.exists():  # keep the damaged file for the user, never overwrite
            aside = self.path.with_name(f"{self.path.stem}.damaged-{time.strftime('%Y%m%d-%H%M%S')}.npz")
            try:
                self.path.rename(aside)
            except OSError as e:
                raise HandwritingError(f"cannot move the damaged {self.path} aside: {e.strerror or e}") from None
        self.refused = None
        version = FORMAT_VERSION if self.from_photos.any() else 1  # readable by older studios when it can be
        arrays = {"format": np.array(FORMAT), "format_version": np.array(version),
                  "digits": np.array(json.dumps([d.to_json() for d in self.digits], separators=(",", ":"))),
                  "images": self.images, "labels": self.labels.astype(np.uint8)}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, lambda f: np.savez(f, **arrays))
        except OSError as e:
            raise HandwritingError(f"cannot save your examples to {self.path}: {e.strerror or e}") from None
