"""What the studio remembers between sessions (QSettings): window layout, last architecture, recent files.

Values are stored as plain strings and byte arrays (JSON for structured ones), so a settings file written by one
version reads in another and a damaged value is ignored with a message instead of breaking the start-up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QByteArray, QSettings

from mnist_studio import jsonread
from mnist_studio.gui.names import APP_NAME, ORG_NAME
from mnist_studio.nn.spec import layer_config_problem, spec_to_json

STATE_VERSION = 1  # bump when the dock layout changes so an old saved layout is not forced on a new one
MAX_RECENT = 10
RECENT_KINDS = ("model", "architecture")

KEY_GEOMETRY = "window/geometry"
KEY_STATE = "window/state"
KEY_LAST_SPEC = "architecture/last"
KEY_RECENT = "recentFiles"
KEY_LAST_FOLDER = "lastFolder"
KEY_SMOOTHING = "plots/smoothing"


def settings() -> QSettings:
    """The studio's settings (named explicitly, so they are the same with or without a configured QApplication)."""
    return QSettings(ORG_NAME, APP_NAME)


# -- window layout -------------------------------------------------------------------------------------------------

def save_window_state(window) -> None:
    s = settings()
    s.setValue(KEY_GEOMETRY, window.saveGeometry())
    s.setValue(KEY_STATE, window.saveState(STATE_VERSION))


def restore_window_state(window) -> bool:
    """Apply the saved geometry and dock layout; False when there was none (or it no longer fits)."""
    s = settings()
    geometry, state = s.value(KEY_GEOMETRY), s.value(KEY_STATE)
    ok = False
    if isinstance(geometry, (QByteArray, bytes)) and len(geometry):
        ok = window.restoreGeometry(QByteArray(geometry))
    if isinstance(state, (QByteArray, bytes)) and len(state):
        ok = window.restoreState(QByteArray(state), STATE_VERSION) and ok
    return ok


# -- last architecture ---------------------------------------------------------------------------------------------

def save_last_spec(spec: dict[str, Any] | None) -> None:
    if spec is not None:
        settings().setValue(KEY_LAST_SPEC, spec_to_json(spec))


def load_last_spec() -> tuple[dict[str, Any] | None, str]:
    """(the last session's architecture or None, a problem to report or "").

    An architecture that was mid-edit (invalid) comes back as it was, for the designer to show and mark; only text
    that is not an architecture at all is dropped.
    """
    raw = settings().value(KEY_LAST_SPEC)
    if not raw:
        return None, ""
    if not isinstance(raw, str):
        return None, "the saved architecture is not text; opened the default instead"
    try:
        spec = jsonread.loads(raw)
    except jsonread.JsonError as e:
        return None, f"the saved architecture cannot be read ({e}); opened the default instead"
    if not (isinstance(spec, dict) and isinstance(spec.get("layers"), list)
            and all(isinstance(layer, dict) and isinstance(layer.get("type"), str) for layer in spec["layers"])):
        return None, "the saved architecture is not an architecture; opened the default instead"
    problem = layer_config_problem(spec)
    if problem:  # the designer shows a layer's settings: each must at least be of its kind
        return None, f"the saved architecture cannot be shown ({problem}); opened the default instead"
    return spec, ""


# -- view preferences ----------------------------------------------------------------------------------------------

def save_smoothing(value: float) -> None:
    settings().setValue(KEY_SMOOTHING, f"{float(value):.2f}")


def load_smoothing() -> float | None:
    """The plots' smoothing from the last session (0-0.99), or None (never set, or not a number in range)."""
    raw = settings().value(KEY_SMOOTHING)
    try:
        value = float(str(raw))
    except (TypeError, ValueError):
        return None
    return value if 0.0 <= value <= 0.99 else None


# -- folders and recent files ------------------------------------------------------------------------------------

def last_folder() -> str:
    raw = settings().value(KEY_LAST_FOLDER)
    return raw if isinstance(raw, str) and raw and len(raw) < 4096 and "\0" not in raw else str(Path.home())


def remember_folder(path: str | Path) -> None:
    settings().setValue(KEY_LAST_FOLDER, str(Path(path).parent))


@dataclass(frozen=True)
class RecentFile:
    path: str
    kind: str  # "model" or "architecture"

    @property
    def label(self) -> str:
        return f"{Path(self.path).name}  ({self.kind})"


class RecentFiles:
    """Most recent first, at most ``MAX_RECENT``, no duplicates; stored as one JSON string."""

    def entries(self) -> list[RecentFile]:
        raw = settings().value(KEY_RECENT)
        try:
            items = jsonread.loads(raw) if isinstance(raw, str) and raw else []
        except jsonread.JsonError:
            return []
        out = []
        for it in items if isinstance(items, list) else []:
            if (isinstance(it, dict) and isinstance(it.get("path"), str) and 0 < len(it["path"]) < 4096
                    and "\0" not in it["path"] and it.get("kind") in RECENT_KINDS):
                out.append(RecentFile(it["path"], it["kind"]))
        return out

    def _store(self, entries: list[RecentFile]) -> None:
        settings().setValue(KEY_RECENT, json.dumps([{"path": e.path, "kind": e.kind} for e in entries[:MAX_RECENT]]))

    def add(self, path: str | Path, kind: str) -> None:
        if kind not in RECENT_KINDS:
            raise ValueError(f"unknown recent-file kind {kind!r}")
        path = str(Path(path).resolve())
        self._store([RecentFile(path, kind)] + [e for e in self.entries() if e.path != path])
        remember_folder(path)

    def remove(self, path: str) -> None:
        self._store([e for e in self.entries() if e.path != path])

    def clear(self) -> None:
        self._store([])

    def prune_missing(self) -> list[RecentFile]:
        """Drop entries whose file is gone; returns them so the caller can say so."""
        entries = self.entries()
        missing = [e for e in entries if not Path(e.path).is_file()]
        if missing:
            self._store([e for e in entries if e not in missing])
        return missing
