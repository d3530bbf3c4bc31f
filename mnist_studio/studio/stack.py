"""An editable architecture: the layer stack the designer shows, with undo/redo and change events, and no Qt.

napari's idea: the list being edited is a plain evented Python object, and the Qt model is a thin adapter that turns
its events into ``beginInsertRows``/``endInsertRows`` and friends. Keeping the editing rules here (what an edit is,
how it is undone, which parameter values are acceptable) means they are tested without a window, and any front end
gets the same behaviour.

Every change goes through a small *command* that knows how to do and undo itself, so every edit, including loading
a whole preset, is one undo step with a label such as "Add Conv2D" or "Set Dense units = 128". Parameter values are
checked against the layer's :class:`~mnist_studio.nn.layers.base.Param` schema before anything changes: a bad value
raises :class:`~mnist_studio.nn.layers.base.LayerConfigError` with a readable message and leaves the stack as it was.
Whether the stack as a whole is a valid network is not this module's business: :func:`analysis` asks
:func:`mnist_studio.nn.spec.analyse`, so a half-built stack can be held and shown.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable

from mnist_studio.nn.init import INITIALISERS
from mnist_studio.nn.layers import LayerConfigError, from_config, layer_class
from mnist_studio.nn.spec import DEFAULT_INPUT_SHAPE, Analysis, analyse
from mnist_studio.studio.events import StackEvents

LayerConfig = dict[str, Any]
_MISSING = object()  # "the key was absent", so undoing a set_param can remove a key it added


# -- commands: each changes the stack through its primitive operations, and can undo that ----------------------------

@dataclass
class _Command:
    label: str

    def redo(self, stack: "LayerStack") -> None:
        raise NotImplementedError

    def undo(self, stack: "LayerStack") -> None:
        raise NotImplementedError


@dataclass
class _Insert(_Command):
    index: int
    cfg: LayerConfig

    def redo(self, stack):
        stack._insert(self.index, copy.deepcopy(self.cfg))

    def undo(self, stack):
        stack._remove(self.index)


@dataclass
class _Remove(_Command):
    index: int
    cfg: LayerConfig

    def redo(self, stack):
        stack._remove(self.index)

    def undo(self, stack):
        stack._insert(self.index, copy.deepcopy(self.cfg))


@dataclass
class _Move(_Command):
    src: int
    dst: int

    def redo(self, stack):
        stack._move(self.src, self.dst)

    def undo(self, stack):
        stack._move(self.dst, self.src)


@dataclass
class _SetParam(_Command):
    index: int
    name: str
    old: Any
    new: Any

    def redo(self, stack):
        stack._set_param(self.index, self.name, self.new)

    def undo(self, stack):
        stack._set_param(self.index, self.name, self.old)


@dataclass
class _SetMeta(_Command):
    name: str
    old: Any
    new: Any

    def redo(self, stack):
        stack._set_meta(self.name, self.new)

    def undo(self, stack):
        stack._set_meta(self.name, self.old)


@dataclass
class _Replace(_Command):
    old: dict[str, Any]
    new: dict[str, Any]

    def redo(self, stack):
        stack._replace(self.new)

    def undo(self, stack):
        stack._replace(self.old)


# -- the stack -------------------------------------------------------------------------------------------------------

class LayerStack:
    """An architecture being edited: name, description, input shape, initialiser and an ordered list of layer
    configs (``{"type": ..., params...}``), plus anything else the spec carried (suggested ``training`` settings),
    which is kept and given back by :meth:`to_spec`."""

    def __init__(self, spec: dict[str, Any] | None = None) -> None:
        self.events = StackEvents()
        self.layers: list[LayerConfig] = []
        self.name = "untitled"
        self.description = ""
        self.init = "he"
        self.input_shape: list[int] = list(DEFAULT_INPUT_SHAPE)
        self._extra: dict[str, Any] = {}  # other spec keys (e.g. "training"), kept untouched
        self._undo: list[_Command] = []
        self._redo: list[_Command] = []
        self._merge_open = False  # may the next set_param of the same target join the last command?
        if spec is not None:
            self._load(spec)

    # -- reading ---------------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, index: int) -> LayerConfig:
        return self.layers[index]

    def to_spec(self) -> dict[str, Any]:
        """A deep copy of the architecture as a spec dict (what the session, the trainer and files take)."""
        spec = {"name": self.name, "description": self.description, "input_shape": list(self.input_shape),
                "init": self.init, "layers": copy.deepcopy(self.layers)}
        spec.update(copy.deepcopy(self._extra))
        return spec

    def analysis(self) -> Analysis:
        """Shapes, parameter counts and the first problem, from the engine."""
        return analyse(self.to_spec())

    # -- editing (each call is one undo step) ---------------------------------------------------------------------
    def insert(self, index: int, cfg: LayerConfig | str) -> None:
        """Insert a layer (a config dict, or a type name for its defaults) so that it ends up at ``index``."""
        cfg = self._checked_config(cfg)
        index = max(0, min(int(index), len(self.layers)))
        self._push(_Insert(f"Add {cfg['type']}", index, cfg))

    def append(self, cfg: LayerConfig | str) -> None:
        self.insert(len(self.layers), cfg)

    def remove(self, index: int) -> None:
        self._check_index(index)
        cfg = copy.deepcopy(self.layers[index])
        self._push(_Remove(f"Remove {cfg.get('type', 'layer')}", index, cfg))

    def duplicate(self, index: int) -> None:
        """Insert a copy of layer ``index`` right after it."""
        self._check_index(index)
        cfg = copy.deepcopy(self.layers[index])
        self._push(_Insert(f"Duplicate {cfg.get('type', 'layer')}", index + 1, cfg))

    def move(self, src: int, dst: int) -> None:
        """Move layer ``src`` so that it ends up at index ``dst`` (list.insert(dst, list.pop(src)))."""
        self._check_index(src)
        self._check_index(dst)
        if src == dst:
            return
        kind = self.layers[src].get("type", "layer")
        direction = "up" if dst < src else "down"
        self._push(_Move(f"Move {kind} {direction}", src, dst))

    def set_param(self, index: int, name: str, value: Any) -> None:
        """Set one parameter of layer ``index``, checked by the layer's schema (raises LayerConfigError, changing
        nothing, if the value or the resulting layer is invalid). ``None`` for an optional parameter means "use the
        default". Repeated edits of the same parameter (spin-box clicks) merge into one undo step."""
        self._check_index(index)
        cfg = self.layers[index]
        kind = cfg.get("type")
        try:
            cls = layer_class(kind)
        except LayerConfigError:
            raise LayerConfigError(f"layer {index + 1} has unknown type {kind!r}; its parameters cannot be edited") \
                from None
        params = {p.name: p for p in cls.schema}
        if name not in params:
            raise LayerConfigError(f"{kind} has no parameter {name!r}" +
                                   (f" (it takes {', '.join(params)})" if params else " (it takes none)"))
        value = params[name].coerce(value)
        from_config({**cfg, name: value})  # cross-parameter checks; raises LayerConfigError
        old = cfg.get(name, _MISSING)
        if old is not _MISSING and old == value and type(old) is type(value):
            return
        top = self._undo[-1] if self._undo else None
        if (self._merge_open and isinstance(top, _SetParam) and top.index == index and top.name == name):
            top.new = value
            top.label = self._set_label(kind, name, value)
            self._op(lambda: self._set_param(index, name, value))
            if top.new == top.old and type(top.new) is type(top.old):
                self._undo.pop()  # back where the run of edits started: nothing to undo
                self._merge_open = False
            return
        self._push(_SetParam(self._set_label(kind, name, value), index, name, old, value))
        self._merge_open = True

    def set_name(self, name: str) -> None:
        name = str(name).strip() or "untitled"
        if name != self.name:
            self._push(_SetMeta(f"Rename to {name}", "name", self.name, name))

    def set_description(self, text: str) -> None:
        text = str(text).strip()
        if text != self.description:
            self._push(_SetMeta("Edit description", "description", self.description, text))

    def set_init(self, init: str) -> None:
        if init not in INITIALISERS:
            raise LayerConfigError(f"unknown initialiser {init!r}; choose one of {', '.join(INITIALISERS)}")
        if init != self.init:
            self._push(_SetMeta(f"Set initialiser {init}", "init", self.init, init))

    def replace_all(self, spec: dict[str, Any], label: str | None = None) -> None:
        """Load a whole architecture (a preset or a file) as one undoable step, "Load <name>" by default."""
        new = self._state_of(spec)
        if new == self._state():
            return
        self._push(_Replace(label or f"Load {new['name']}", self._state(), new))

    def reset(self, spec: dict[str, Any] | None = None) -> None:
        """Load ``spec`` (or an empty stack) and forget the undo history: a fresh start, not an edit."""
        self._undo.clear()
        self._redo.clear()
        self._merge_open = False
        self._op(lambda: self._replace(self._state_of(spec or {})))

    # -- undo / redo ---------------------------------------------------------------------------------------------------
    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_label(self) -> str:
        """What Undo would undo ("Add Conv2D"), or "" if nothing."""
        return self._undo[-1].label if self._undo else ""

    @property
    def redo_label(self) -> str:
        return self._redo[-1].label if self._redo else ""

    def undo(self) -> None:
        if not self._undo:
            return
        cmd = self._undo.pop()
        self._redo.append(cmd)
        self._merge_open = False
        self._op(lambda: cmd.undo(self))

    def redo(self) -> None:
        if not self._redo:
            return
        cmd = self._redo.pop()
        self._undo.append(cmd)
        self._merge_open = False
        self._op(lambda: cmd.redo(self))

    def close_merge(self) -> None:
        """End a run of merged parameter edits (the next edit of the same parameter is its own undo step)."""
        self._merge_open = False

    # -- internals -----------------------------------------------------------------------------------------------------
    def _push(self, cmd: _Command) -> None:
        self._redo.clear()
        self._undo.append(cmd)
        self._merge_open = False
        self._op(lambda: cmd.redo(self))

    def _op(self, fn: Callable[[], None]) -> None:
        fn()
        self.events.edited.emit()

    @staticmethod
    def _set_label(kind: str, name: str, value: Any) -> str:
        shown = "default" if value is None else (f"{value:g}" if isinstance(value, float) else str(value))
        return f"Set {kind} {name} = {shown}"

    def _check_index(self, index: int) -> None:
        if not isinstance(index, int) or not 0 <= index < len(self.layers):
            raise IndexError(f"no layer at position {index} (the stack has {len(self.layers)})")

    @staticmethod
    def _checked_config(cfg: LayerConfig | str) -> LayerConfig:
        """A canonical, complete config for a new layer (defaults filled in); raises LayerConfigError."""
        if isinstance(cfg, str):
            cfg = {"type": cfg}
        if not isinstance(cfg, dict) or "type" not in cfg:
            raise LayerConfigError("a layer must be given as a type name or a dict with a 'type'")
        return from_config(cfg).get_config()

    def _state(self) -> dict[str, Any]:
        return self.to_spec()

    @staticmethod
    def _state_of(spec: dict[str, Any]) -> dict[str, Any]:
        """The stack's state for ``spec``, as to_spec would give it; tolerant of invalid specs (the analysis says
        what is wrong), so anything the session holds can be shown and repaired."""
        spec = copy.deepcopy(spec) if isinstance(spec, dict) else {}
        layers = spec.get("layers")
        spec["layers"] = [c for c in layers if isinstance(c, dict)] if isinstance(layers, list) else []
        spec["name"] = str(spec.get("name") or "untitled")
        spec["description"] = str(spec.get("description") or "")
        spec.setdefault("init", "he")
        shape = spec.get("input_shape", list(DEFAULT_INPUT_SHAPE))
        spec["input_shape"] = list(shape) if isinstance(shape, (list, tuple)) else list(DEFAULT_INPUT_SHAPE)
        return spec

    def _load(self, spec: dict[str, Any]) -> None:
        state = self._state_of(spec)
        self.layers = state.pop("layers")
        self.name = state.pop("name")
        self.description = state.pop("description")
        self.init = state.pop("init")
        self.input_shape = state.pop("input_shape")
        self._extra = state

    # Primitive operations: the only code that changes the stack, each wrapped in its events.
    def _insert(self, index: int, cfg: LayerConfig) -> None:
        self.events.inserting.emit(index)
        self.layers.insert(index, cfg)
        self.events.inserted.emit(index)

    def _remove(self, index: int) -> None:
        self.events.removing.emit(index)
        del self.layers[index]
        self.events.removed.emit(index)

    def _move(self, src: int, dst: int) -> None:
        self.events.moving.emit(src, dst)
        self.layers.insert(dst, self.layers.pop(src))
        self.events.moved.emit(src, dst)

    def _set_param(self, index: int, name: str, value: Any) -> None:
        if value is _MISSING:
            self.layers[index].pop(name, None)
        else:
            self.layers[index][name] = value
        self.events.changed.emit(index)

    def _set_meta(self, name: str, value: Any) -> None:
        setattr(self, name, value)
        self.events.meta_changed.emit(name)

    def _replace(self, state: dict[str, Any]) -> None:
        self.events.resetting.emit()
        self._load(state)
        self.events.reset.emit()
