"""The Dataset tab's "My handwriting" view: the user's own examples shown like any dataset, deleted, exported,
imported.

The examples (``session.handwriting()``, see :mod:`mnist_studio.data.handwriting`) are shown through the tab's own
views as a :class:`Dataset` whose "training" images are all the examples (so every one is in the grid and can be
deleted) and whose "test" images are the ones held out of teaching to measure it. Clicking a tile shows it in the Draw tab and selects it; "Delete example" removes the
selected one. Export and import use the stroke-file format of the pendigits dev set, so strokes from any tablet can
be taught, and a file that cannot be read is refused with its reason, adding nothing.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from mnist_studio.data.datasets import Dataset
from mnist_studio.data.handwriting import HandwritingError
from mnist_studio.data.idx import DatasetError
from mnist_studio.gui import dialogs

STROKE_FILTER = "Stroke files (*.json);;All files (*)"


def handwriting_dataset(store) -> Dataset:
    """The examples as a Dataset: all as "training" (index = the store's index), held-out ones also as "test"."""
    held = store.held_out
    labels = store.labels.astype(np.uint8)
    return Dataset("My handwriting", store.images, labels, store.images[held], labels[held], source=str(store.path))


class HandwritingControls(QWidget):
    """The buttons of the view, and the selection (an index into the store)."""

    def __init__(self, panel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.panel = panel
        self.session = panel.session
        self.selected: int | None = None
        self.delete_button = QPushButton("Delete example")
        self.delete_button.setObjectName("deleteExampleButton")
        self.delete_button.setToolTip("Remove the example last clicked from your examples")
        self.delete_button.clicked.connect(self.delete_selected)
        self.import_button = QPushButton("Import…")
        self.import_button.setObjectName("importHandwritingButton")
        self.import_button.setToolTip("Add the digits of a stroke file (the pendigits JSON format, from any tablet)")
        self.import_button.clicked.connect(self.import_dialog)
        self.export_button = QPushButton("Export…")
        self.export_button.setObjectName("exportHandwritingButton")
        self.export_button.setToolTip("Write your examples as a stroke file (JSON), e.g. for mnist-studio adapt")
        self.export_button.clicked.connect(self.export_dialog)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        for b in (self.delete_button, self.import_button, self.export_button):
            lay.addWidget(b)
        self.update_buttons()

    def store(self):
        return self.session.handwriting()

    def update_buttons(self) -> None:
        self.delete_button.setEnabled(self.selected is not None)
        self.export_button.setEnabled(len(self.store()) > 0)

    def select(self, index: int) -> None:
        """A tile of the view was clicked: remember which example it is (its index in the store)."""
        self.selected = int(index)
        self.update_buttons()

    def delete_selected(self) -> None:
        if self.selected is None:
            return
        try:
            self.store().remove([self.selected])
        except HandwritingError as e:
            self.session.status.emit(str(e))
            return
        self.selected = None
        self.session.status.emit("Example deleted")
        self.session.handwritingChanged.emit()

    def import_dialog(self) -> None:
        path = dialogs.ask_open_path(self, "Import handwriting (stroke file)", "", STROKE_FILTER)
        if path:
            self.import_file(path)

    def import_file(self, path) -> bool:
        try:
            n = self.store().import_file(path)
        except (DatasetError, HandwritingError) as e:
            box = dialogs.show_warning(self, "Cannot import", f"{e}\n\nNothing was added.")
            box.setObjectName("handwritingErrorBox")
            self.session.status.emit(f"Import refused: {e}")
            return False
        self.session.status.emit(f"Imported {n} examples from {path}")
        self.session.handwritingChanged.emit()
        return True

    def export_dialog(self) -> None:
        path = dialogs.ask_save_path(self, "Export handwriting", "my-handwriting.json", STROKE_FILTER)
        if path:
            self.export_file(path)

    def export_file(self, path) -> bool:
        try:
            self.store().export(path)
        except (HandwritingError, OSError) as e:
            self.session.status.emit(f"Export failed: {e}")
            return False
        photos = int(self.store().from_photos.sum())
        drawn = len(self.store()) - photos
        self.session.status.emit(f"Exported {drawn} drawn examples to {path}"
                                 + (f" ({photos} from photos have no strokes and stay in the studio)" if photos else ""))
        return True
