"""Input widgets built from a :class:`~mnist_studio.nn.params.Param`: the optimizer section of the training
controls is generated from the optimizer registry with these, so a new optimizer setting needs no GUI code.

Every field has ``get()``/``put(value)`` and a tooltip from the Param's help; its object name is the setting's name
plus the widget kind (``momentumSpin``, ``nesterovCheck``), which tests and style sheets use.
"""

from __future__ import annotations

import math
from typing import Any

from PyQt6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox, QWidget

from mnist_studio.gui.training.spinboxes import LogSpinBox
from mnist_studio.nn.params import Param


def _tooltip(p: Param) -> str:
    text = p.help
    if p.kind in ("int", "float") and p.low is not None and p.high is not None:
        text += f"\nRange {p.low:g} to {p.high:g}; default {p.default:g}."
    return text


class _FloatField(QDoubleSpinBox):
    """A number in a range: as many decimals as the range's bounds need, steps of about a twentieth of it."""

    def __init__(self, p: Param) -> None:
        super().__init__()
        low = p.low if p.low is not None else -1e6
        high = p.high if p.high is not None else 1e6
        self.setRange(low, high)
        self.setDecimals(max(2, min(6, max(_decimals(v) for v in (low, high, p.default)))))
        raw = (high - low) / 20  # about a twentieth of the range, rounded to 1, 2 or 5 times a power of ten
        base = 10.0 ** math.floor(math.log10(raw)) if raw > 0 else 0.1
        self.setSingleStep(min((m * base for m in (1, 2, 5, 10)), key=lambda s: abs(s - raw)))
        self.setKeyboardTracking(False)

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt name): 0.9, not 0.9000
        text = super().textFromValue(value)
        return text.rstrip("0").rstrip(".,") if "." in text or "," in text else text

    def get(self) -> float:
        return float(self.value())

    def put(self, value: Any) -> None:
        self.setValue(float(value))


class _LogField(LogSpinBox):
    """A positive number spanning decades (an epsilon): the arrows walk a 1-2-5 ladder."""

    def __init__(self, p: Param) -> None:
        super().__init__(p.low, p.high)

    def get(self) -> float:
        return float(self.value())

    def put(self, value: Any) -> None:
        self.setValue(float(value))


class _IntField(QSpinBox):
    def __init__(self, p: Param) -> None:
        super().__init__()
        self.setRange(int(p.low if p.low is not None else 0), int(p.high if p.high is not None else 1_000_000))
        self.setKeyboardTracking(False)

    def get(self) -> int:
        return self.value()

    def put(self, value: Any) -> None:
        self.setValue(int(value))


class _BoolField(QCheckBox):
    def __init__(self, p: Param) -> None:
        super().__init__(p.title)

    def get(self) -> bool:
        return self.isChecked()

    def put(self, value: Any) -> None:
        self.setChecked(bool(value))


class _ChoiceField(QComboBox):
    def __init__(self, p: Param) -> None:
        super().__init__()
        for choice in p.choices:
            self.addItem(choice, choice)

    def get(self) -> str:
        return self.currentData()

    def put(self, value: Any) -> None:
        self.setCurrentIndex(max(self.findData(value), 0))


def _decimals(v: float) -> int:
    text = f"{v:.8f}".rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0


def setting_field(p: Param) -> QWidget:
    """The input widget for ``p``, showing its default."""
    if p.kind == "bool":
        field, suffix = _BoolField(p), "Check"
    elif p.kind == "int":
        field, suffix = _IntField(p), "Spin"
    elif p.kind == "choice":
        field, suffix = _ChoiceField(p), "Combo"
    elif p.log_scale:
        field, suffix = _LogField(p), "Spin"
    else:
        field, suffix = _FloatField(p), "Spin"
    field.setObjectName(p.name + suffix)
    field.setToolTip(_tooltip(p))
    field.put(p.default)
    return field
