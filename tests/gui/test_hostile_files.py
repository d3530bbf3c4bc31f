"""The studio's Open model, dropped picture and dataset import read hostile files through the same readers as the
command line, and show the reader's message in a dialog; what was in use stays in use."""

from __future__ import annotations

import gzip
import struct
import zipfile

import numpy as np
import pytest
from PIL import Image
from PyQt6.QtWidgets import QWidget

from mnist_studio.gui import dialogs, main_window
from mnist_studio.nn.model import Model
from mnist_studio.nn.modelfile import save_model
from mnist_studio.nn.spec import load_preset


@pytest.fixture
def window(qtbot, monkeypatch):
    shown = {"warn": [], "box": []}
    monkeypatch.setattr(dialogs, "warn", lambda parent, title, text: shown["warn"].append(text))
    real = dialogs.show_warning

    def show_warning(parent, title, text):
        shown["box"].append(text)
        return real(parent, title, text)

    monkeypatch.setattr(dialogs, "show_warning", show_warning)
    win = main_window.MainWindow()
    qtbot.addWidget(win)
    win.open_initial()
    win.show()
    win.shown = shown
    yield win
    win.close()


def test_open_model_with_a_bomb_shows_the_readers_message(window, tmp_path):
    good = tmp_path / "good.npz"
    save_model(good, Model(load_preset("logistic")))
    bomb = tmp_path / "bomb.npz"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bomb, "w") as z:
        for info in src.infolist():
            z.writestr(info.filename, src.read(info))
        z.filelist[0].file_size = 7 * 2**40  # the directory announces 7 TiB
    before = window.session.spec
    assert window.file_actions.open_model(str(bomb)) is False
    assert len(window.shown["warn"]) == 1
    assert "bomb.npz: the archive announces 7.0 TiB of data" in window.shown["warn"][0]
    assert window.session.spec is before


def test_dropping_a_huge_picture_shows_the_readers_message(window, tmp_path):
    path = tmp_path / "huge.png"
    Image.new("L", (12000, 12000), 255).save(path)
    pad = window.findChild(QWidget, "drawingPad")
    pad.imageDropped.emit(str(path))
    assert len(window.shown["warn"]) == 1
    assert "huge.png: the picture is 12,000×12,000 pixels (144 megapixels); at most 60" in window.shown["warn"][0]


def test_importing_a_dataset_with_a_gzip_bomb_header_shows_the_readers_message(window, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    images = np.zeros((5, 28, 28), np.uint8)
    labels = np.zeros(5, np.uint8)
    idx = {"images": bytes([0, 0, 8, 3]) + struct.pack(">3I", 5, 28, 28) + images.tobytes(),
           "labels": bytes([0, 0, 8, 1]) + struct.pack(">I", 5) + labels.tobytes()}
    for split in ("train", "t10k"):
        (folder / f"{split}-images-idx3-ubyte").write_bytes(idx["images"])
        (folder / f"{split}-labels-idx1-ubyte").write_bytes(idx["labels"])
    # a header promising 2^32-1 images of 28×28, gzipped: refused from the sizes, nothing allocated
    (folder / "train-images-idx3-ubyte").write_bytes(
        gzip.compress(bytes([0, 0, 8, 3]) + struct.pack(">3I", 2**32 - 1, 28, 28) + images.tobytes()))
    panel = window.findChild(QWidget, "datasetPanel")
    before = window.session.dataset
    assert panel.open_folder(folder) is False
    assert len(window.shown["box"]) == 1
    assert "train-images-idx3-ubyte: truncated: the header promises 4294967295×28×28 values" in window.shown["box"][0]
    assert window.session.dataset is before


def test_a_model_whose_history_is_damaged_opens_without_its_curves(window, tmp_path):
    path = tmp_path / "odd-history.npz"
    save_model(path, Model(load_preset("logistic")), training={"batch_size": 32},
               history={"batches": {"step": [1, 2], "epoch": [0.5, 1], "loss": ["x", 1], "accuracy": [0, 0],
                                    "lr": [0.1, 0.1]}})
    messages = []
    window.session.status.connect(messages.append)
    assert window.file_actions.open_model(str(path)) is True
    assert window.shown["warn"] == []
    assert any("training history was not shown" in m and "batches.loss[0] must be a number" in m for m in messages)
