"""One validating JSON reader for every file the studio reads (architectures, model-file metadata, run records,
stroke files, saved settings), and typed field readers for turning the result into records.

Python's ``json`` accepts things that later crash far from the file: nesting deep enough to exhaust the stack
(RecursionError), integers of thousands of digits (ValueError, or minutes of arithmetic), ``1e400`` (infinity),
lone UTF-16 surrogates (``"\\ud800"``, which cannot be written back as UTF-8). :func:`loads` refuses all of them
up front with a :class:`JsonError` whose message says what is wrong in words; the caller adds the file's name.

The field readers (:func:`get_str`, :func:`get_int`, ...) check one value's JSON type and range and raise a
:class:`JsonError` naming the field ("'batch_size' must be a whole number, got 64.5"), so a record is rebuilt
field by field and a wrong type is the file's own error, never a ``TypeError`` three calls later.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np

MAX_DEPTH = 64  # no file of ours nests deeper than about 6
MAX_NUMBER_CHARS = 40  # digits of an integer or characters of a float literal (a float64 needs about 25)
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_MISSING = object()


class JsonError(ValueError):
    """JSON that is not acceptable (syntax, nesting, numbers, text) or a field of the wrong type or range."""


def _depth(text: str) -> int:
    """The deepest nesting of [ and { outside strings (vectorised: no Python loop over characters)."""
    if "[" not in text and "{" not in text:
        return 0
    bare = _STRING.sub('""', text).encode("utf-8", "surrogatepass")
    codes = np.frombuffer(bare, dtype=np.uint8)
    steps = (codes == ord("[")).astype(np.int32) + (codes == ord("{"))
    steps -= (codes == ord("]")).astype(np.int32) + (codes == ord("}"))
    return int(np.cumsum(steps).max(initial=0))


def _parse_int(s: str) -> int:
    if len(s.lstrip("-")) > MAX_NUMBER_CHARS:
        raise JsonError(f"a number with {len(s.lstrip('-')):,} digits (at most {MAX_NUMBER_CHARS} are accepted)")
    return int(s)


def _parse_float(s: str) -> float:
    if len(s) > MAX_NUMBER_CHARS:
        raise JsonError(f"a number written with {len(s):,} characters (at most {MAX_NUMBER_CHARS} are accepted)")
    v = float(s)
    if not math.isfinite(v):
        raise JsonError(f"the number {s} is too large")
    return v


def _no_constants(name: str) -> Any:
    raise JsonError(f"{name} is not a number JSON allows")


def _check_strings(obj: Any) -> None:
    """Refuse lone surrogates in any string or key (iterative walk; the depth is already bounded)."""
    stack = [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, str):
            items = (o,)
        elif isinstance(o, dict):
            items = tuple(o.keys())
            stack.extend(o.values())
        elif isinstance(o, list):
            stack.extend(o)
            continue
        else:
            continue
        for s in items:
            try:
                s.encode("utf-8")
            except UnicodeEncodeError:
                raise JsonError(f"the text {s[:30]!r} holds a lone UTF-16 surrogate (not a character)") from None


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH, allow_nan: bool = False) -> Any:
    """Parse JSON text, refusing deep nesting, huge or infinite numbers, NaN (unless ``allow_nan``: our own run
    records store a diverged loss as NaN) and lone surrogates. Raises :class:`JsonError` (a ValueError)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise JsonError("not a text (UTF-8) file") from None
    depth = _depth(text)
    if depth > max_depth:
        raise JsonError(f"nested {depth:,} levels deep (at most {max_depth} are accepted)")
    kwargs: dict[str, Any] = {"parse_int": _parse_int, "parse_float": _parse_float}
    if not allow_nan:
        kwargs["parse_constant"] = _no_constants
    try:
        data = json.loads(text, **kwargs)
    except JsonError:
        raise
    except json.JSONDecodeError as e:
        raise JsonError(f"not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    except (ValueError, RecursionError) as e:  # belt and braces: the checks above should have caught these
        raise JsonError(f"not valid JSON ({e})") from None
    _check_strings(data)
    return data


# -- typed fields --------------------------------------------------------------------------------------------------

def short(v: Any) -> str:
    """A value as a message shows it: JSON-style, at most 40 characters."""
    try:
        text = json.dumps(v) if isinstance(v, (dict, list, str)) else repr(v)
    except (TypeError, ValueError, RecursionError):
        text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def _get(d: dict, key: str, default: Any) -> Any:
    if key not in d:
        if default is _MISSING:
            raise JsonError(f"no '{key}'")
        return default
    return d[key]


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _range(what: str, v: Any, lo: Any, hi: Any) -> JsonError:
    if lo is not None and hi is not None:
        return JsonError(f"{what} must be between {lo:,} and {hi:,}, got {v:,}")
    return JsonError(f"{what} is out of range ({v:,})")


def as_str(v: Any, what: str, *, max_len: int = 10_000, choices: tuple[str, ...] | None = None) -> str:
    if not isinstance(v, str):
        raise JsonError(f"{what} must be text, got {short(v)}")
    if len(v) > max_len:
        raise JsonError(f"{what} is {len(v):,} characters long (at most {max_len:,})")
    if choices is not None and v not in choices:
        raise JsonError(f"{what} must be one of {', '.join(repr(c) for c in choices)}, got {short(v)}")
    return v


def as_int(v: Any, what: str, *, lo: int | None = None, hi: int | None = None) -> int:
    """A whole number (``3`` or ``3.0``; not ``3.5``, not ``true``), within [lo, hi]."""
    if not is_number(v) or (isinstance(v, float) and not (math.isfinite(v) and v.is_integer())):
        raise JsonError(f"{what} must be a whole number, got {short(v)}")
    v = int(v)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise _range(what, v, lo, hi)
    return v


def as_float(v: Any, what: str, *, lo: float | None = None, hi: float | None = None,
             allow_nan: bool = False) -> float:
    """A number within [lo, hi] (finite; NaN only when ``allow_nan``)."""
    if not is_number(v):
        raise JsonError(f"{what} must be a number, got {short(v)}")
    try:
        v = float(v)
    except OverflowError:
        raise JsonError(f"{what} is too large a number") from None
    if math.isnan(v):
        if allow_nan:
            return v
        raise JsonError(f"{what} must be a number, got NaN")
    if not math.isfinite(v) and not allow_nan:
        raise JsonError(f"{what} must be a finite number, got {v}")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise _range(what, v, lo, hi)
    return v


def as_bool(v: Any, what: str) -> bool:
    if not isinstance(v, bool):
        raise JsonError(f"{what} must be true or false, got {short(v)}")
    return v


def as_dict(v: Any, what: str) -> dict:
    if not isinstance(v, dict):
        raise JsonError(f"{what} must be an object ({{...}}), got {short(v)}")
    return v


def as_list(v: Any, what: str, *, max_len: int = 10_000_000) -> list:
    if not isinstance(v, list):
        raise JsonError(f"{what} must be a list ([...]), got {short(v)}")
    if len(v) > max_len:
        raise JsonError(f"{what} holds {len(v):,} items (at most {max_len:,})")
    return v


def _field(check):
    """``get_x(d, key, default, **limits)``: ``as_x`` on ``d[key]``; a missing key gives ``default`` (or raises
    when there is none); a present key is always checked."""
    def get(d: dict, key: str, default: Any = _MISSING, **limits: Any) -> Any:
        if key not in d and default is not _MISSING:
            return default
        return check(_get(d, key, default), f"'{key}'", **limits)

    get.__name__ = "get_" + check.__name__[3:]
    get.__doc__ = check.__doc__
    return get


get_str = _field(as_str)
get_int = _field(as_int)
get_float = _field(as_float)
get_bool = _field(as_bool)
get_dict = _field(as_dict)
get_list = _field(as_list)
