"""The Dataset tab: statistics views, inspecting a sample, switching to an IDX folder and back, bad folders."""

import gzip
import struct

import numpy as np
import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QLabel, QMainWindow, QMenu, QTabWidget

from mnist_studio.data.datasets import FASHION, Dataset, to_float
from mnist_studio.gui import dataset as dataset_tab
from mnist_studio.gui.dataset.panel import SAMPLES_PER_CLASS, DatasetPanel
from mnist_studio.gui.session import StudioSession


def idx_bytes(arr: np.ndarray) -> bytes:
    """An IDX file: two zero bytes, type 0x08 (uint8), the number of dimensions, big-endian sizes, the values."""
    arr = np.ascontiguousarray(arr, np.uint8)
    return bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def write_idx_folder(folder, train_x, train_y, test_x, test_y, gz=False):
    folder.mkdir(parents=True, exist_ok=True)
    for name, arr in [("train-images-idx3-ubyte", train_x), ("train-labels-idx1-ubyte", train_y),
                      ("t10k-images-idx3-ubyte", test_x), ("t10k-labels-idx1-ubyte", test_y)]:
        data = idx_bytes(arr)
        if gz:
            (folder / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return folder


def synthetic(n, seed):
    """Images whose class is readable from the pixels: class c lights row 2c+4 (so mean images are checkable)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n).astype(np.uint8)
    x = np.zeros((n, 28, 28), np.uint8)
    x[np.arange(n), 2 * y.astype(int) + 4, :] = 200
    return x, y


@pytest.fixture
def small_mnist(mnist):
    return Dataset("MNIST subset", mnist.train_images[:800], mnist.train_labels[:800], mnist.test_images[:200],
                   mnist.test_labels[:200])


@pytest.fixture
def session(small_mnist):
    s = StudioSession()
    s.set_dataset(small_mnist)
    return s


@pytest.fixture
def panel(qtbot, session):
    p = DatasetPanel(session)
    qtbot.addWidget(p)
    p.resize(1200, 800)
    p.show()
    qtbot.waitExposed(p)
    yield p
    if p.error_box is not None:
        p.error_box.close()


def test_views_show_the_dataset_statistics(panel, small_mnist):
    assert panel.shown_dataset is small_mnist  # computed on first show
    counts = [int(np.sum(small_mnist.train_labels == c)) for c in range(10)]
    assert list(panel.counts.train_counts) == counts
    assert list(panel.counts.test_counts) == [int(np.sum(small_mnist.test_labels == c)) for c in range(10)]
    widths = panel.counts.train_bars.opts["width"]
    assert np.allclose(widths, 100 * np.array(counts) / 800)
    assert panel.counts.labels[1].toPlainText() == f"{counts[1]:,} / {int(np.sum(small_mnist.test_labels == 1)):,}"
    assert [t[1] for t in panel.counts.getAxis("left")._tickLevels[0]] == list("0123456789")
    # sample grid: 10 rows of 12 images, each a training image of its row's class
    assert len(panel.samples.images) == 10 and all(len(r) == SAMPLES_PER_CLASS for r in panel.samples.images)
    for c in (0, 4, 9):
        for k, img in enumerate(panel.samples.images[c]):
            i = panel.stats.samples[c, k]
            assert small_mnist.train_labels[i] == c and np.array_equal(img, small_mnist.train_images[i])
    expected_mean = small_mnist.train_images[small_mnist.train_labels == 7].astype(np.float64).mean(axis=0)
    assert np.allclose(panel.means.means[7], expected_mean, atol=1e-3)
    assert "800 training and 200 test images" in panel.title.text()
    # the painted sample grid shows the image pixels: a tile of a bright sample is not blank
    grab = panel.samples.grab().toImage()
    r = panel.samples.tile_rect(0, 0)
    values = [grab.pixelColor(x, y).value() for x in range(r.left(), r.right(), 3)
              for y in range(r.top(), r.bottom(), 3)]
    assert max(values) > 150 and min(values) < 30


def test_clicking_a_sample_sends_it_to_the_drawing_pad(qtbot, panel, session, small_mnist):
    r = panel.samples.tile_rect(3, 2)
    with qtbot.waitSignal(session.inspectImage, timeout=1000) as blocker:
        QTest.mouseClick(panel.samples, Qt.MouseButton.LeftButton, pos=r.center())
    i = panel.stats.samples[3, 2]
    assert np.array_equal(blocker.args[0], to_float(small_mnist.train_images[i]))
    assert blocker.args[0].dtype == np.float32 and f"#{i}" in blocker.args[1]


def test_opening_an_idx_folder_switches_the_dataset(qtbot, panel, session, tmp_path):
    train_x, train_y = synthetic(300, 1)
    test_x, test_y = synthetic(60, 2)
    folder = write_idx_folder(tmp_path / "fashion-tiny", train_x, train_y, test_x, test_y, gz=True)
    with qtbot.waitSignal(session.datasetChanged, timeout=1000):
        assert panel.open_folder(folder)
    ds = session.dataset
    assert ds.name == "Fashion-MNIST" and ds.class_names == FASHION
    assert np.array_equal(ds.train_images, train_x) and np.array_equal(ds.test_labels, test_y)
    # the visible tab redrew from the new data, with Fashion-MNIST's class names
    assert panel.shown_dataset is ds
    assert list(panel.counts.train_counts) == list(np.bincount(train_y, minlength=10))
    assert panel.samples.names == FASHION
    assert [t[1] for t in panel.counts.getAxis("left")._tickLevels[0]][1] == "Trouser"
    for c in range(10):
        lit_row = 2 * c + 4
        assert panel.means.means[c][lit_row].mean() == pytest.approx(200.0)
        assert panel.means.means[c].sum() == pytest.approx(200.0 * 28)
    assert panel.embedded_button.isEnabled()
    panel.use_embedded()
    assert session.dataset.name == "MNIST" and len(session.dataset.train_labels) == 60000
    assert not panel.embedded_button.isEnabled()


@pytest.mark.parametrize("damage", ["truncated", "missing", "bad labels"])
def test_a_corrupt_folder_shows_the_error_and_keeps_the_old_dataset(qtbot, panel, session, small_mnist, tmp_path,
                                                                     damage):
    train_x, train_y = synthetic(100, 1)
    test_x, test_y = synthetic(20, 2)
    folder = write_idx_folder(tmp_path / "broken", train_x, train_y, test_x, test_y)
    if damage == "truncated":
        path = folder / "train-images-idx3-ubyte"
        path.write_bytes(path.read_bytes()[:5000])
        expect = "truncated"
    elif damage == "missing":
        (folder / "t10k-labels-idx1-ubyte").unlink()
        expect = "missing t10k-labels-idx1-ubyte"
    else:
        (folder / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.full(100, 12, np.uint8)))
        expect = "labels must be 0-9"
    changed = []
    session.datasetChanged.connect(changed.append)
    assert not panel.open_folder(folder)
    assert changed == [] and session.dataset is small_mnist and panel.shown_dataset is small_mnist
    box = panel.error_box
    assert box is not None and box.isVisible()
    assert expect in box.text() and "broken" in box.text() and "MNIST subset" in box.text()


def test_install_adds_the_tab_and_file_actions(qtbot, session, small_mnist, tmp_path):
    w = QMainWindow()
    qtbot.addWidget(w)
    w.session = session
    w.tabs = QTabWidget()
    w.setCentralWidget(w.tabs)
    w.menus = {name: QMenu(name, w) for name in ("File", "Edit", "View", "Train", "Help")}
    w.close_hooks = []
    w.tabs.addTab(QLabel("draw"), "Draw")
    panel = dataset_tab.install(w)
    names = [a.objectName() for a in w.menus["File"].actions()]
    assert "openDatasetAction" in names and "embeddedMnistAction" in names
    assert w.tabs.tabText(1) == "Dataset"
    w.show()
    w.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: panel.stats is not None)
    with qtbot.waitSignal(session.inspectImage) as blocker:  # the Draw tab (not installed here) listens
        panel.inspect_sample(0, 0)
    assert blocker.args[1].startswith("Training image #") and blocker.args[0].shape == (28, 28)
    next(a for a in w.menus["File"].actions() if a.objectName() == "embeddedMnistAction").trigger()
    assert session.dataset.name == "MNIST"
