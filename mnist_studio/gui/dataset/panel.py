"""The Dataset tab: what the network learns from — samples of every class, class counts, mean images — and
switching to another IDX dataset folder (Fashion-MNIST, KMNIST) or back to the embedded MNIST.

Switching calls ``session.set_dataset``; the training panel trains on ``session.dataset`` from its next run and the
Evaluate tab tests on its test set. A folder that cannot be read is reported in a message box and the dataset in
use stays as it was. Statistics are computed when the tab is first shown (not at start-up, which must stay quick).
"""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (QHBoxLayout, QLabel, QMessageBox, QPushButton, QScrollArea,
                             QVBoxLayout, QWidget)

from mnist_studio.data.datasets import Dataset, load_idx_folder, load_mnist, to_float
from mnist_studio.data.idx import DatasetError
from mnist_studio.data.stats import DatasetStats, dataset_stats
from mnist_studio.gui import dialogs
from mnist_studio.gui.dataset.handwriting import HandwritingControls, handwriting_dataset
from mnist_studio.gui.dataset.views import TEST_COLOUR, TRAIN_COLOUR, ClassCounts, ClassTiles, MeanImages
from mnist_studio.gui.labels import WrappedLabel, note_label, title_label
from mnist_studio.gui.tabs import ReflowSplitter

SAMPLES_PER_CLASS = 12


class DatasetPanel(QWidget):
    """The whole tab."""

    def __init__(self, session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("datasetPanel")
        self.session = session
        self.stats: DatasetStats | None = None
        self.shown_dataset: Dataset | None = None  # the dataset the views were drawn from
        self.seed = 0
        self.error_box: QMessageBox | None = None
        self.last_folder = ""
        self._build()
        session.datasetChanged.connect(self._on_dataset_changed)
        session.handwritingChanged.connect(self._on_handwriting_changed)

    # -- layout ------------------------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.title = WrappedLabel("")  # two or three lines in a narrow tab, all of them counted in the layout
        self.title.setObjectName("datasetTitle")
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.open_button = QPushButton("Open Dataset Folder…")
        self.open_button.setObjectName("openDatasetButton")
        self.open_button.setToolTip("Use another dataset in MNIST's IDX format (Fashion-MNIST, KMNIST, …): a folder "
                                    "holding train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte "
                                    "and t10k-labels-idx1-ubyte (optionally .gz)")
        self.open_button.clicked.connect(self.open_dialog)
        self.embedded_button = QPushButton("Use Embedded MNIST")
        self.embedded_button.setObjectName("embeddedMnistButton")
        self.embedded_button.setToolTip("Go back to the MNIST digits that come with the studio")
        self.embedded_button.clicked.connect(self.use_embedded)
        self.shuffle_button = QPushButton("Other samples")
        self.shuffle_button.setObjectName("shuffleSamplesButton")
        self.shuffle_button.setToolTip("Show a different random choice of images of each class")
        self.shuffle_button.clicked.connect(self.reshuffle)
        self.mine_button = QPushButton("My handwriting")
        self.mine_button.setObjectName("myHandwritingButton")
        self.mine_button.setCheckable(True)
        self.mine_button.setToolTip("Show your own examples (kept from the Draw tab's corrections and guided mode)")
        self.mine_button.toggled.connect(lambda _on: self.refresh())
        self.mine = HandwritingControls(self)
        self.mine.hide()
        top = QVBoxLayout()  # the title has the full width above its buttons: a narrow tab does not squeeze it
        top.addWidget(self.title)
        for pair in ((self.shuffle_button, self.mine_button), (self.open_button, self.embedded_button)):
            row = QHBoxLayout()  # two rows of two: four buttons side by side need more than a narrow tab
            for button in pair:
                row.addWidget(button)
            row.addStretch(1)
            top.addLayout(row)
        mine_row = QHBoxLayout()  # My handwriting's own buttons, under the title, only while it is shown
        mine_row.addWidget(self.mine)
        mine_row.addStretch(1)

        self.samples = ClassTiles(side=40)
        self.samples.setObjectName("sampleGrid")
        self.samples.imageClicked.connect(self.inspect_sample)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.samples)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setMinimumHeight(4 * (40 + 4))  # four classes' rows at least (the splitter gave it two when stacked)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(title_label("Random training images of each class"))
        lv.addWidget(note_label("Click an image to see in the Draw tab what the current model makes of it."))
        lv.addWidget(scroll, 1)

        self.counts = ClassCounts()
        self.means = MeanImages()
        self.counts_note = note_label("")
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        legend = QLabel(f"<b>Images per class</b> &nbsp; <span style='color:{TRAIN_COLOUR}'>■</span> training "
                        f"&nbsp; <span style='color:{TEST_COLOUR}'>■</span> test")
        legend.setTextFormat(Qt.TextFormat.RichText)
        rv.addWidget(legend)
        rv.addWidget(self.counts, 1)
        rv.addWidget(self.counts_note)
        rv.addSpacing(6)
        rv.addWidget(title_label("Mean training image of each class"))
        rv.addWidget(self.means)

        splitter = ReflowSplitter(560)  # the counts below the samples when the central area is narrow
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([1100, 800])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(mine_row)
        layout.addWidget(splitter, 1)

    # -- showing a dataset -------------------------------------------------------------------------------------------
    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.shown_dataset is not self.session.dataset and not self.showing_mine:
            self.refresh()

    @property
    def showing_mine(self) -> bool:
        return self.mine_button.isChecked()

    def refresh(self) -> None:
        """Recompute the statistics of the dataset shown (the session's, or My handwriting) and redraw the views."""
        mine = self.showing_mine
        ds = handwriting_dataset(self.session.handwriting()) if mine else self.session.dataset
        self.mine.setVisible(mine)
        self.mine.selected = None
        self.mine.update_buttons()
        self.shown_dataset = ds
        names = tuple(ds.class_names)
        self.stats = dataset_stats(ds.train_images, ds.train_labels, ds.test_labels, SAMPLES_PER_CLASS,
                                   len(names), self.seed)
        source = f"<br><span style='color:#666'>{ds.source}</span>" if ds.source else ""
        use = ("yours, from the Draw tab; 'test' = held out of teaching. Click one to see and select it"
               if mine else "the next training run uses this dataset")
        self.title.setText(f"<span style='font-size:16px'><b>{ds.name}</b></span> &nbsp; "
                           f"{len(ds.train_labels):,} {'examples' if mine else 'training'} and "
                           f"{len(ds.test_labels):,} {'held out' if mine else 'test images'}, "
                           f"{len(names)} classes — {use}.{source}")
        self._draw_samples()
        self.counts.set_counts(self.stats.train_counts, self.stats.test_counts, names)
        low, high = int(self.stats.train_counts.min()), int(self.stats.train_counts.max())
        self.shuffle_button.setEnabled(len(ds.train_labels) > 0)
        balance = (f"every class has {low:,} training images" if low == high
                   else f"training classes range from {low:,} to {high:,} images")
        self.counts_note.setText(f"Bars: each class's share of its split; numbers: training / test images; {balance}.")
        self.means.set_means(self.stats.mean_images, names)
        self.embedded_button.setEnabled(not self._is_embedded(ds))

    def _draw_samples(self) -> None:
        ds = self.shown_dataset
        rows = [[ds.train_images[i] if i >= 0 else None for i in row] for row in self.stats.samples]
        self.samples.set_rows(ds.class_names, rows)

    def reshuffle(self) -> None:
        self.seed += 1
        self.refresh()

    def inspect_sample(self, row: int, col: int) -> None:
        index = int(self.stats.samples[row, col])
        ds = self.shown_dataset
        if self.showing_mine:
            self.mine.select(index)
            self.session.inspect(to_float(ds.train_images[index]),
                                 f"My handwriting, example {index + 1}: {ds.class_names[int(ds.train_labels[index])]}")
            return
        self.session.inspect(to_float(ds.train_images[index]),
                             f"Training image #{index} of {ds.name}: {ds.class_names[int(ds.train_labels[index])]}")

    @staticmethod
    def _is_embedded(ds: Dataset) -> bool:
        return ds is load_mnist()

    def _on_handwriting_changed(self) -> None:
        if self.showing_mine and self.isVisible():
            self.refresh()

    def _on_dataset_changed(self, _ds) -> None:
        if self.isVisible() and not self.showing_mine:
            self.refresh()
        else:
            self.embedded_button.setEnabled(not self._is_embedded(self.session.dataset))

    # -- switching datasets ------------------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        folder = dialogs.ask_folder(self, "Open Dataset Folder (IDX files)", self.last_folder)
        if folder:
            self.open_folder(folder)

    def open_folder(self, folder: str | Path) -> bool:
        """Load an IDX dataset folder and make it the session's dataset; on failure say why and change nothing."""
        self.last_folder = str(folder)
        self.setCursor(Qt.CursorShape.WaitCursor)
        try:
            ds = load_idx_folder(folder)
        except DatasetError as e:
            self._error(str(e))
            return False
        except (OSError, ValueError, MemoryError) as e:
            self._error(f"{folder}: {e}")
            return False
        finally:
            self.unsetCursor()
        self.mine_button.setChecked(False)
        self.session.set_dataset(ds)
        self.session.status.emit(f"Dataset: {ds.describe()} — the next training run uses it")
        return True

    def use_embedded(self) -> None:
        self.mine_button.setChecked(False)
        self.session.set_dataset(load_mnist())
        self.session.status.emit("Dataset: the embedded MNIST")

    def _error(self, message: str) -> None:
        """A non-blocking warning (tests read ``error_box``); the dataset in use is untouched."""
        self.session.status.emit(f"Could not open the dataset: {message}")
        box = dialogs.show_warning(self, "Cannot open the dataset",
                                   f"{message}\n\nThe current dataset ({self.session.dataset.name}) is still in use.")
        box.setObjectName("datasetErrorBox")
        box.finished.connect(lambda _r: setattr(self, "error_box", None))
        self.error_box = box
