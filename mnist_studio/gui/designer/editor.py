"""The property editor: one input widget per parameter, built from the layer type's Param schema.

The schema already holds each parameter's kind, range, default and a sentence of help, so the editor needs no
per-layer code: ints get spin boxes over their range, floats a spin box with a sensible step (log steps for values
spanning decades, such as BatchNorm's epsilon), choices a combo, padding a "valid/same/pixels" combo with a spin
box. Optional parameters offer "default". The editor never changes the stack itself: it emits ``paramEdited`` and
the panel sends the edit through the stack, so every change is undoable and validated in one place.
"""

from __future__ import annotations

import math
from typing import Any

from PyQt6.QtCore import QEvent, QObject, pyqtSignal
from PyQt6.QtGui import QKeySequence, QValidator
from PyQt6.QtWidgets import (QAbstractSpinBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout,
                             QLabel, QLineEdit, QSpinBox, QVBoxLayout, QWidget)

from mnist_studio.nn.layers import LAYER_TYPES, Param

DEFAULT_TEXT = "default"
CHOICE_LABELS = {"auto": "auto (model's initialiser)"}


def _tooltip(p: Param) -> str:
    text = p.help
    if p.kind in ("int", "float") and p.low is not None and p.high is not None:
        text += f"\nRange {p.low:g} to {p.high:g}."
    if p.optional:
        text += f"\n'{DEFAULT_TEXT}' leaves it to the layer."
    return text


def _nice_step(span: float) -> float:
    """About a twentieth of the range, rounded to 1, 2 or 5 times a power of ten (0.95 → 0.05)."""
    raw = span / 20
    base = 10 ** math.floor(math.log10(raw))
    return min((m * base for m in (1, 2, 5, 10)), key=lambda s: abs(s - raw))


class IntEditor(QSpinBox):
    edited = pyqtSignal(object)

    def __init__(self, p: Param) -> None:
        super().__init__()
        low = int(p.low if p.low is not None else 0)
        self._optional = p.optional
        # An optional int shows "default" one step below its lowest real value (Qt's special-value idiom).
        self.setRange(low - 1 if p.optional else low, int(p.high if p.high is not None else 1_000_000))
        if p.optional:
            self.setSpecialValueText(DEFAULT_TEXT)
        self.setKeyboardTracking(False)  # typing "128" is one edit, not 1, 12, 128
        self.setAccelerated(True)
        self.valueChanged.connect(lambda _: self.edited.emit(self.get()))

    def get(self) -> Any:
        if self._optional and self.value() == self.minimum():
            return None
        return self.value()

    def put(self, value: Any) -> None:
        self.setValue(self.minimum() if value is None else int(value))


class FloatEditor(QDoubleSpinBox):
    """A float spin box; a parameter spanning several decades (low > 0, high/low ≥ 1000) steps by factors of ten
    and shows compact numbers (1e-05), so epsilon is usable without typing zeros."""

    edited = pyqtSignal(object)

    def __init__(self, p: Param) -> None:
        super().__init__()
        low = p.low if p.low is not None else -1e6
        high = p.high if p.high is not None else 1e6
        self._log = low > 0 and high / low >= 1000
        self.setRange(low, high)
        if self._log:
            self.setDecimals(12)
        else:
            step = _nice_step(high - low)
            self.setSingleStep(step)
            needed = [v for v in (step, low, high, p.default) if isinstance(v, (int, float))]
            self.setDecimals(max(2, min(4, max(_decimals(v) for v in needed))))
        self.setKeyboardTracking(False)
        self.valueChanged.connect(lambda _: self.edited.emit(self.get()))

    def stepBy(self, steps: int) -> None:
        if not self._log:
            super().stepBy(steps)
            return
        self.setValue(min(self.maximum(), max(self.minimum(), self.value() * 10.0 ** steps)))

    def textFromValue(self, value: float) -> str:
        return f"{value:.3g}" if self._log else super().textFromValue(value)

    def valueFromText(self, text: str) -> float:
        if not self._log:
            return super().valueFromText(text)
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        if not self._log:
            return super().validate(text, pos)
        try:
            value = float(text)
        except ValueError:
            return QValidator.State.Intermediate, text, pos
        ok = self.minimum() <= value <= self.maximum()
        return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate), text, pos

    def get(self) -> Any:
        return float(self.value())

    def put(self, value: Any) -> None:
        self.setValue(float(value))


def _decimals(v: float) -> int:
    text = f"{v:.6f}".rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0


class ChoiceEditor(QComboBox):
    edited = pyqtSignal(object)

    def __init__(self, p: Param) -> None:
        super().__init__()
        for choice in p.choices:
            self.addItem(CHOICE_LABELS.get(choice, choice), choice)
        self.currentIndexChanged.connect(lambda _: self.edited.emit(self.get()))

    def get(self) -> Any:
        return self.currentData()

    def put(self, value: Any) -> None:
        i = self.findData(value)
        self.setCurrentIndex(max(i, 0))


class PaddingEditor(QWidget):
    """'valid' / 'same' / a number of pixels: a combo, and a spin box that is enabled for "pixels"."""

    edited = pyqtSignal(object)

    def __init__(self, p: Param) -> None:
        super().__init__()
        self.mode = QComboBox()
        self.mode.setObjectName(f"{p.name}Mode")
        for text, data in (("valid (no padding)", "valid"), ("same (keep size)", "same"), ("pixels", "pixels")):
            self.mode.addItem(text, data)
        self.pixels = QSpinBox()
        self.pixels.setObjectName(f"{p.name}Pixels")
        self.pixels.setRange(0, 27)
        self.pixels.setSuffix(" px")
        self.pixels.setKeyboardTracking(False)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.mode, 1)
        lay.addWidget(self.pixels)
        self.mode.currentIndexChanged.connect(self._changed)
        self.pixels.valueChanged.connect(self._changed)

    def _changed(self, _=None) -> None:
        self.pixels.setEnabled(self.mode.currentData() == "pixels")
        self.edited.emit(self.get())

    def get(self) -> Any:
        mode = self.mode.currentData()
        return self.pixels.value() if mode == "pixels" else mode

    def put(self, value: Any) -> None:
        if isinstance(value, str):
            self.mode.setCurrentIndex(self.mode.findData(value))
        else:
            self.mode.setCurrentIndex(self.mode.findData("pixels"))
            self.pixels.setValue(int(value))
        self.pixels.setEnabled(self.mode.currentData() == "pixels")

    def setToolTip(self, text: str) -> None:  # noqa: N802 (Qt name)
        super().setToolTip(text)
        self.mode.setToolTip(text)
        self.pixels.setToolTip(text)


EDITORS = {"int": IntEditor, "float": FloatEditor, "choice": ChoiceEditor, "padding": PaddingEditor}


class _UndoPassThrough(QObject):
    """Ctrl+Z (Ctrl+Shift+Z) in a parameter box: the box's own text undo while it has one (typing not yet
    committed), otherwise the designer's Edit > Undo (Redo). A line edit claims the keys through
    ShortcutOverride even with nothing to undo (a value committed by Enter or an arrow click is shown with
    setValue, which empties its history), so Ctrl+Z did nothing there; declining the override lets the
    window-wide action have them."""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(obj, QAbstractSpinBox):
            line = obj.findChild(QLineEdit)  # the spin box hands the override to its line edit directly
            undo, redo = event.matches(QKeySequence.StandardKey.Undo), event.matches(QKeySequence.StandardKey.Redo)
            if line is not None and ((undo and not line.isUndoAvailable()) or (redo and not line.isRedoAvailable())):
                event.ignore()
                return True
        return False


class PropertyEditor(QGroupBox):
    """Edits the selected layer's parameters. ``paramEdited(name, value)`` asks for a change; ``set_values``
    shows the stack's values (after an edit, an undo, or a refused value) without emitting anything."""

    paramEdited = pyqtSignal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Layer properties", parent)
        self.setObjectName("layerProperties")
        self.row: int | None = None
        self.kind: str | None = None
        self.editors: dict[str, QWidget] = {}
        self._outer = QVBoxLayout(self)
        self._summary = QLabel()
        self._summary.setWordWrap(True)
        self._summary.setObjectName("layerSummary")
        self._summary.setStyleSheet("color: #555;")
        self._outer.addWidget(self._summary)
        self._form_host = QWidget()
        self._form = QFormLayout(self._form_host)
        self._form.setContentsMargins(0, 0, 0, 0)
        self._form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._outer.addWidget(self._form_host)
        self._undo_filter = _UndoPassThrough(self)
        self.show_layer(None, None)

    def show_layer(self, row: int | None, cfg: dict | None) -> None:
        """Rebuild the form for layer ``row`` (None: nothing selected)."""
        while self._form.rowCount():
            self._form.removeRow(0)
        self.editors = {}
        self.row = row
        self.kind = cfg.get("type") if cfg else None
        cls = LAYER_TYPES.get(self.kind) if self.kind else None
        if cfg is None:
            self.setTitle("Layer properties")
            self._summary.setText("Select a layer to edit its parameters.")
            return
        self.setTitle(f"Layer {row + 1} · {self.kind}")
        if cls is None:
            self._summary.setText(f"Unknown layer type {self.kind!r}: remove it or load another architecture.")
            return
        self._summary.setText(cls.summary + ("" if cls.schema else ". It has no parameters to set."))
        for p in cls.schema:
            editor = EDITORS[p.kind](p)
            editor.setObjectName(f"param_{p.name}")
            editor.setToolTip(_tooltip(p))
            label = QLabel(p.name.replace("_", " "))
            label.setToolTip(_tooltip(p))
            label.setBuddy(editor)
            self._form.addRow(label, editor)
            self.editors[p.name] = editor
            editor.edited.connect(lambda value, name=p.name: self.paramEdited.emit(name, value))
            for box in [editor, *editor.findChildren(QAbstractSpinBox)]:
                if isinstance(box, QAbstractSpinBox):
                    box.installEventFilter(self._undo_filter)
        self.set_values(cfg)

    def set_values(self, cfg: dict) -> None:
        cls = LAYER_TYPES.get(cfg.get("type"))
        if cls is None:
            return
        for p in cls.schema:
            editor = self.editors.get(p.name)
            if editor is None:
                continue
            editor.blockSignals(True)  # a padding editor's inner widgets still update, but it emits nothing
            try:
                editor.put(cfg.get(p.name, p.default))
            finally:
                editor.blockSignals(False)
