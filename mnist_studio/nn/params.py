"""The parameter schema: one declaration per setting, from which validation, defaults, editors and help follow.

Layer types declare their settings (a Dense layer's ``units``) and optimizers theirs (Adam's ``beta1``) as
:class:`Param` entries with a range and a sentence of help. :meth:`Param.coerce` checks a value and puts it in
canonical form; the studio builds its spin boxes, check boxes and tooltips, and the CLI its options, from the same
entries, so no front end repeats a range or a default.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np


class ParamError(ValueError):
    """A setting has a value that cannot be used (the message says which and why)."""


@dataclass(frozen=True)
class Param:
    """One configurable setting.

    ``kind`` is ``"int"``, ``"float"``, ``"bool"``, ``"choice"`` or ``"padding"`` (``"valid"``, ``"same"`` or a
    whole number of pixels). ``low``/``high`` bound numbers (inclusive); ``optional`` numbers may be ``None`` (e.g.
    a pooling stride that defaults to the pool size). ``label`` is how a form names it (default: the name).
    """

    name: str
    kind: str
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    optional: bool = False
    label: str = ""

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ")

    @property
    def log_scale(self) -> bool:
        """A positive number spanning several decades (an epsilon): edited in factors of ten, not fixed steps."""
        return self.kind == "float" and self.low is not None and self.low > 0 and (self.high or 0) / self.low >= 1000

    def coerce(self, value: Any) -> Any:
        """Return ``value`` in canonical form, or raise :class:`ParamError` saying what is wrong."""
        if value is None:
            if self.optional:
                return None
            raise ParamError(f"{self.name} needs a value")
        if self.kind == "int":
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or (
                isinstance(value, (float, np.floating)) and not float(value).is_integer()
            ):
                raise ParamError(f"{self.name} must be a whole number, got {value!r}")
            value = int(value)
            self._check_range(value)
            return value
        if self.kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise ParamError(f"{self.name} must be a number, got {value!r}")
            value = float(value)
            if not math.isfinite(value):
                raise ParamError(f"{self.name} must be a finite number, got {value!r}")
            self._check_range(value)
            return value
        if self.kind == "bool":
            if not isinstance(value, (bool, np.bool_)):
                raise ParamError(f"{self.name} must be true or false, got {value!r}")
            return bool(value)
        if self.kind == "choice":
            if not isinstance(value, str) or value not in self.choices:
                raise ParamError(f"{self.name} must be one of {', '.join(self.choices)}; got {value!r}")
            return value
        if self.kind == "padding":
            if isinstance(value, str):
                if value in ("valid", "same"):
                    return value
                raise ParamError(f"{self.name} must be 'valid', 'same' or a number of pixels; got {value!r}")
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ParamError(f"{self.name} must be 'valid', 'same' or a number of pixels ≥ 0; got {value!r}")
            return int(value)
        raise AssertionError(f"unknown parameter kind {self.kind}")

    def _check_range(self, value: float) -> None:
        if self.low is not None and value < self.low or self.high is not None and value > self.high:
            raise ParamError(f"{self.name} must be between {_fmt(self.low)} and {_fmt(self.high)}; got {_fmt(value)}")


def _fmt(v: float | None) -> str:
    if v is None:
        return "∞"
    return str(int(v)) if float(v).is_integer() else f"{v:g}"
