"""Spin boxes for numbers that live on a log scale (learning rates, weight decay) or in powers of two (batch
sizes): the arrows walk 0.001 → 0.002 → 0.005 → 0.01 instead of adding a fixed step, and the text is written
the short way (``0.001``, ``1e-05``), so the values people try first are one click apart."""

from __future__ import annotations

import re

from PyQt6.QtGui import QValidator
from PyQt6.QtWidgets import QDoubleSpinBox, QSpinBox

LADDER = tuple(m * 10.0 ** e for e in range(-8, 4) for m in (1, 2, 5))
_PARTIAL_NUMBER = re.compile(r"[0-9]*\.?[0-9]*([eE][-+]?[0-9]*)?")


def ladder_step(value: float, steps: int, minimum: float, maximum: float, allow_zero: bool) -> float:
    """``value`` moved ``steps`` rungs along the 1-2-5 ladder, kept in [minimum, maximum] (0 below the lowest
    rung when ``allow_zero``)."""
    v = value
    rungs = [r for r in LADDER if minimum * (1 - 1e-9) <= r <= maximum * (1 + 1e-9)]
    for _ in range(abs(steps)):
        if steps > 0:
            v = next((r for r in rungs if r > v * (1 + 1e-9)), rungs[-1]) if v > 0 else rungs[0]
        else:
            lower = [r for r in rungs if r < v * (1 - 1e-9)]
            v = lower[-1] if lower else (0.0 if allow_zero else rungs[0])
    return v


class LogSpinBox(QDoubleSpinBox):
    """A positive number edited on a 1-2-5 ladder; typing any value in range also works. With ``allow_zero`` the
    box goes down to 0, shown as ``zero_text``."""

    def __init__(self, minimum: float, maximum: float, allow_zero: bool = False, zero_text: str = "off",
                 parent=None) -> None:
        super().__init__(parent)
        self._min, self._max, self._allow_zero = minimum, maximum, allow_zero
        self.setDecimals(10)
        self.setRange(0.0 if allow_zero else minimum, maximum)
        if allow_zero:
            self.setSpecialValueText(zero_text)
        self.setKeyboardTracking(False)  # valueChanged once the number is complete, not for every key
        self.setAccelerated(True)

    def textFromValue(self, value: float) -> str:
        return f"{value:g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        t = text.strip()
        if self._allow_zero and t == self.specialValueText():
            return QValidator.State.Acceptable, text, pos
        try:
            v = float(t)
        except ValueError:
            ok = _PARTIAL_NUMBER.fullmatch(t) is not None
            return (QValidator.State.Intermediate if ok else QValidator.State.Invalid), text, pos
        in_range = (self._min <= v <= self._max) or (self._allow_zero and v == 0)
        return (QValidator.State.Acceptable if in_range else QValidator.State.Intermediate), text, pos

    def stepBy(self, steps: int) -> None:
        self.setValue(ladder_step(self.value(), steps, self._min, self._max, self._allow_zero))


class PowerOfTwoSpinBox(QSpinBox):
    """Batch sizes: the arrows double or halve; any whole number can still be typed."""

    def stepBy(self, steps: int) -> None:
        v = self.value()
        for _ in range(abs(steps)):
            if steps > 0:
                p = 1
                while p <= v:
                    p *= 2
                v = p
            else:
                p = 1
                while p * 2 < v:
                    p *= 2
                v = p if v > 1 else 1
        self.setValue(max(self.minimum(), min(self.maximum(), v)))
