"""Architecture files (JSON): opening and saving them from the window, with their dialogs, messages and Recent Files.

The designer's toolbar and File-menu actions and the File menu's Recent Files both come here. Reading and checking
a file is the engine's (:func:`~mnist_studio.nn.spec.load_spec_file`); this adds what a window needs around it: a
bad file is reported in a message that does not block (also kept in ``last_message`` and sent to the status bar)
and changes nothing, only an architecture that can be opened again is saved, and saves are atomic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PyQt6.QtWidgets import QMessageBox, QWidget

from mnist_studio.fileio import atomic_write_text
from mnist_studio.gui import dialogs
from mnist_studio.gui.files import settings
from mnist_studio.nn.spec import SpecError, analyse, load_spec_file, spec_to_json

FILTER = "Architecture (*.json);;All files (*)"


class ArchitectureFiles:
    """Open and save architectures for one window.

    ``load(spec, label)`` shows an opened architecture (the designer makes it one undoable step named ``label``;
    by default it becomes the session's spec); ``current()`` gives the architecture to save (default: the
    session's)."""

    def __init__(self, session, parent: QWidget, load: Callable[[dict, str], Any] | None = None,
                 current: Callable[[], dict | None] | None = None) -> None:
        self.session = session
        self.parent = parent
        self._load = load or (lambda spec, _label: session.set_spec(spec))
        self._current = current or (lambda: session.spec)
        self.message_box: QMessageBox | None = None
        self.last_message = ""

    def open(self, path: str | Path) -> bool:
        """Load an architecture file; a bad file is reported and changes nothing."""
        try:
            spec = load_spec_file(path)
        except SpecError as e:
            self._report("Could not open architecture", str(e))
            return False
        self._load(spec, f"Open {Path(path).name}")
        settings.RecentFiles().add(path, "architecture")
        self.session.status.emit(f"Opened architecture {path}")
        return True

    def save(self, path: str | Path) -> bool:
        """Write the architecture as JSON, atomically. Only a valid network is saved, so every file this writes
        can be opened again (opening checks the architecture)."""
        spec = self._current()
        error = "there is no architecture yet" if spec is None else analyse(spec).error
        if error is not None:
            self._report("Cannot save this architecture yet", f"Fix this first, then save again:\n{error}")
            return False
        try:
            atomic_write_text(path, spec_to_json(spec))
        except OSError as e:
            self._report("Could not save architecture", f"Could not write {path}: {e.strerror or e}")
            return False
        settings.RecentFiles().add(path, "architecture")
        self.session.status.emit(f"Saved architecture to {path}")
        return True

    def open_dialog(self) -> None:
        path = dialogs.ask_open_path(self.parent, "Open architecture", settings.last_folder(), FILTER)
        if path:
            self.open(path)

    def save_dialog(self) -> None:
        spec = self._current() or {}
        suggested = str(Path(settings.last_folder()) / f"{spec.get('name') or 'architecture'}.json")
        path = dialogs.ask_save_path(self.parent, "Save architecture", suggested, "Architecture (*.json)")
        if path:
            if not path.lower().endswith(".json"):
                path += ".json"
            self.save(path)

    def _report(self, title: str, text: str) -> None:
        self.last_message = text
        self.session.status.emit(text.replace("\n", " "))
        self.message_box = dialogs.show_warning(self.parent, title, text)
