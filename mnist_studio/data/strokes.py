"""Pen-stroke digit files: digits kept as the pen moved, read defensively, written atomically.

The format is the one of the UCI pendigits development set (and of "My handwriting" exports), so a file of strokes
from any tablet can be measured or taught:

    [{"label": 7, "writer": 1, "strokes": [[[x, y], [x, y], ...], [[x, y], ...]]}, ...]

one object per digit; ``strokes`` holds one list of points per pen-down … pen-up, in writing order, in any
screen-style unit (x right, y down); only the shape matters, since the pad's recipe scales every digit to the same
box. Other keys (``writer``, ``index_in_writer``, ``source``, ...) are kept as they are.

Everything a damaged or foreign file can get wrong (not JSON, nested too deep, not a list, a label outside 0-9, a
digit with no strokes, a point that is not two finite numbers, far too many points) is a :class:`DatasetError`
naming the file, the digit and the problem, never a traceback; nothing is half-read.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from mnist_studio import jsonread
from mnist_studio.data.idx import DatasetError
from mnist_studio.fileio import atomic_write_text

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_DIGITS = 100_000
MAX_STROKES = 64  # per digit
MAX_POINTS = 20_000  # per digit
MAX_COORD = 1e6  # any screen or tablet unit fits; beyond this a number is garbage, not a position

Stroke = list[tuple[float, float]]


@dataclass
class StrokeDigit:
    """One digit: its label, its strokes (lists of (x, y) points) and whatever else its record said."""

    label: int
    strokes: list[Stroke]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def writer(self) -> Any:
        return self.extra.get("writer")

    def to_json(self) -> dict[str, Any]:
        return {"label": int(self.label), **self.extra,
                "strokes": [[[_plain(x), _plain(y)] for x, y in s] for s in self.strokes]}


def _plain(v: float) -> float | int:
    """Integers stay integers in the file (the dev set's style); other values keep 2 decimals (sub-pixel)."""
    return int(v) if float(v).is_integer() else round(float(v), 2)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


PICTURE_SOURCE = "photo"  # a digit cut from a picture: no strokes, its 28×28 image is kept instead


def parse_digit(obj: Any, where: str, pictures: bool = False) -> StrokeDigit:
    """One record into a :class:`StrokeDigit`; ``where`` (e.g. "digit 12") prefixes every complaint. With
    ``pictures``, a record whose ``source`` is :data:`PICTURE_SOURCE` may have no strokes (the examples store
    keeps its image beside it); a stroke file's digits always have strokes."""
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: expected an object with 'label' and 'strokes', got {type(obj).__name__}")
    label = obj.get("label")
    if not (_is_number(label) and float(label).is_integer() and 0 <= label <= 9):
        raise ValueError(f"{where}: the label must be a digit 0-9, got {label!r:.40}")
    raw = obj.get("strokes")
    if not isinstance(raw, list):
        raise ValueError(f"{where}: 'strokes' must be a list of strokes (lists of [x, y] points)")
    if len(raw) > MAX_STROKES:
        raise ValueError(f"{where}: {len(raw)} strokes; at most {MAX_STROKES} are accepted")
    strokes: list[Stroke] = []
    total = 0
    for k, s in enumerate(raw):
        if not isinstance(s, list):
            raise ValueError(f"{where}, stroke {k + 1}: expected a list of [x, y] points")
        total += len(s)
        if total > MAX_POINTS:
            raise ValueError(f"{where}: more than {MAX_POINTS:,} points")
        pts: Stroke = []
        for p in s:
            if not (isinstance(p, list) and len(p) == 2 and _is_number(p[0]) and _is_number(p[1])
                    and math.isfinite(p[0]) and math.isfinite(p[1])
                    and abs(p[0]) <= MAX_COORD and abs(p[1]) <= MAX_COORD):
                raise ValueError(f"{where}, stroke {k + 1}: a point must be [x, y], two finite numbers; "
                                 f"got {json.dumps(p)[:40]}")
            pts.append((float(p[0]), float(p[1])))
        if pts:
            strokes.append(pts)
    if not strokes and not (pictures and not raw and obj.get("source") == PICTURE_SOURCE):
        raise ValueError(f"{where}: no strokes (a digit needs at least one point)")
    extra = {k: v for k, v in obj.items() if k not in ("label", "strokes")
             and (v is None or isinstance(v, (str, int, float, bool)))}
    return StrokeDigit(int(label), strokes, extra)


def parse_stroke_text(text: str, name: str = "strokes", pictures: bool = False,
                      allow_empty: bool = False) -> list[StrokeDigit]:
    """Parse a whole stroke file's text; every problem is a :class:`DatasetError` starting with ``name``.
    ``pictures``: see :func:`parse_digit`; ``allow_empty``: no digits at all is no error (an emptied store)."""
    try:
        data = jsonread.loads(text)
    except jsonread.JsonError as e:
        raise DatasetError(f"{name}: {e}") from None
    if isinstance(data, dict) and isinstance(data.get("digits"), list):
        data = data["digits"]
    if not isinstance(data, list):
        raise DatasetError(f"{name}: expected a JSON list of digits "
                           '([{"label": 7, "strokes": [[[x, y], ...]]}, ...])')
    if not data and not allow_empty:
        raise DatasetError(f"{name}: the file holds no digits")
    if len(data) > MAX_DIGITS:
        raise DatasetError(f"{name}: {len(data):,} digits; at most {MAX_DIGITS:,} are accepted")
    try:
        return [parse_digit(obj, f"digit {i + 1}", pictures) for i, obj in enumerate(data)]
    except RecursionError:
        raise DatasetError(f"{name}: the JSON is nested too deeply to be a stroke file") from None
    except ValueError as e:
        raise DatasetError(f"{name}: {e}") from None


def read_stroke_file(path: str | Path) -> list[StrokeDigit]:
    """Read and validate a stroke file (see the module docstring)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise DatasetError(f"{path}: {size / 2**20:.0f} MB is too large for a stroke file "
                               f"(at most {MAX_FILE_BYTES // 2**20} MB)")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DatasetError(f"{path}: is a folder, not a stroke file") from None
    except OSError as e:
        raise DatasetError(f"{path}: cannot be read ({e.strerror or e})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: not a text (UTF-8 JSON) file") from None
    return parse_stroke_text(text, str(path))


def write_stroke_file(path: str | Path, digits: Sequence[StrokeDigit]) -> None:
    """Write digits in the same format, one digit a line (diff-friendly, like the dev set), atomically."""
    lines = ",\n".join(json.dumps(d.to_json(), separators=(",", ":")) for d in digits)
    atomic_write_text(path, "[\n" + lines + "\n]\n")


def stroke_images(digits: Sequence[StrokeDigit] | Sequence[Sequence[Stroke]]) -> np.ndarray:
    """Each digit through the pad's MNIST recipe (re-rendered strokes, 20 px box, centre of mass): N×28×28 float32.

    Accepts :class:`StrokeDigit` records or bare stroke lists. Only the digits' shapes matter, so the pad's own
    coordinates and a tablet's give the same images.
    """
    from mnist_studio.data.preprocess import preprocess_strokes

    out = np.zeros((len(digits), 28, 28), dtype=np.float32)
    for i, d in enumerate(digits):  # one Pillow rendering per digit: the renderer has no batch form
        st = preprocess_strokes(d.strokes if isinstance(d, StrokeDigit) else d)
        if st is not None:
            out[i] = st.centred
    return out
