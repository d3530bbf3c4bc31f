"""The weight-history tab: after a short run on small data it shows a heatmap of (samples × bins) that is the
core's own, for weights and gradients, with the dead-ReLU curves; it follows the live run and a run selected in the
Runs panel, and says when a run has no history."""

import numpy as np
import pytest
from PyQt6.QtCore import QPointF
from PyQt6.QtWidgets import QDockWidget, QTreeWidget

from mnist_studio.data.datasets import Dataset
from mnist_studio.gui import main_window, runs, training
from mnist_studio.gui.inside import install_history_tab
from mnist_studio.gui.runs import runs_folder
from mnist_studio.nn.model import Model
from mnist_studio.nn.spec import load_preset
from mnist_studio.studio.history_heatmap import heatmap
from mnist_studio.training.runstore import RunStore
from mnist_studio.training.weight_history import GRAD_BINS, WEIGHT_BINS
from tests.test_runstore import make_record


@pytest.fixture
def mini(mnist):
    return Dataset("mini", mnist.train_images[:1500], mnist.train_labels[:1500], mnist.test_images[:2000],
                   mnist.test_labels[:2000])


@pytest.fixture
def window(qtbot, monkeypatch, mini):
    monkeypatch.setattr(main_window, "_installers", lambda: [training.install, runs.install, install_history_tab])
    win = main_window.MainWindow()
    qtbot.addWidget(win)
    win.session.set_dataset(mini)
    win.resize(1400, 900)
    win.show()
    yield win
    win.close()


def train_short(qtbot, win, monkeypatch, preset="tutorial-cnn"):
    from mnist_studio.gui.training import worker as worker_module

    monkeypatch.setattr(worker_module, "SNAPSHOT_INTERVAL", 0.0)  # a snapshot after every batch: live path tested
    monkeypatch.setattr(worker_module, "HISTORY_BUDGET", None)  # the full grid (a tiny net's samples cost more)
    panel = win.training_panel
    panel.session.set_spec(load_preset(preset))
    c = panel.controls
    c.epochs.setValue(1)
    c.batch_size.setValue(16)  # 87 batches on 1,400 images
    c.val_size.setValue(100)
    live = []
    win.session.weightHistory.connect(lambda h, name: live.append((len(h), name)))
    with qtbot.waitSignal(win.session.runRecorded, timeout=60000) as blocker:
        c.start_button.click()
    return blocker.args[0], live


def test_after_a_short_run_the_tab_shows_the_cores_heatmap_of_samples_by_bins(qtbot, window, monkeypatch):
    tab = window.weight_history
    window.tabs.setCurrentWidget(tab)
    assert tab.objectName() == "weightHistory" and not tab.empty.isHidden()  # nothing yet: it says what to do
    record, live = train_short(qtbot, window, monkeypatch)
    h = record.weight_history
    assert h is not None and h.steps[0] == 0 and h.steps[-1] == h.batches_per_epoch == 88  # to the epoch's end
    assert len(h) == 17  # the initial weights and 16 samples in the epoch
    assert live and live[-1][1] == record.name and all(n <= len(h) for n, _ in live)
    qtbot.waitUntil(lambda: tab.history is h or tab.history is not None and tab.history.steps == h.steps)
    tab.redraw()
    assert tab.layer.count() == len(h.tracks) == 4  # tutorial-cnn: a convolution and a Dense layer, W and b each
    assert tab.layer.currentText().startswith("1 · ") and tab.layer.currentText().endswith(" · W")
    shown = tab.image.image
    assert shown.shape[0] == len(h.steps) and 2 <= shown.shape[1] <= WEIGHT_BINS
    np.testing.assert_array_equal(shown, heatmap(h, 0, "weights").image)
    assert shown.max() > 0 and np.all(shown.sum(axis=1) > 0)  # every column holds the kernel's 36 values
    assert tab.plot.isVisible() and tab.empty.isHidden()

    tab.kind.setCurrentIndex(1)  # gradient magnitudes
    shown = tab.image.image
    assert shown.shape[0] == len(h.steps) and 2 <= shown.shape[1] <= GRAD_BINS
    np.testing.assert_array_equal(shown, heatmap(h, 0, "gradients").image)
    assert shown[0].sum() == 0 and np.all(shown[1:].sum(axis=1) > 0)  # no gradient before the first step
    tab.layer.setCurrentIndex(2)  # the Dense layer's W
    np.testing.assert_array_equal(tab.image.image, heatmap(h, 2, "gradients").image)

    curves = tab.curve_data()
    assert len(curves) == 2 == len(h.dead)  # the two ReLUs
    for (x, y), d in zip(curves, h.dead):
        counted = np.asarray(d.dead) >= 0  # (within their time budget; always at the start and the epoch's end)
        assert counted[0] and counted[-1] and len(x) == counted.sum()
        np.testing.assert_allclose(x, h.epochs()[counted])
        np.testing.assert_allclose(y, 100.0 * np.asarray(d.dead)[counted] / d.units)

    hm = tab.shown
    col, row = len(h.steps) - 1, int(np.argmax(hm.counts[-1]))  # the last sample's fullest bin, under the mouse
    x = hm.x0 + (col + 0.5) * (hm.x1 - hm.x0) / hm.shape[0]
    y = hm.y0 + (row + 0.5) * (hm.y1 - hm.y0) / hm.shape[1]
    tab._on_mouse(tab.plot.getViewBox().mapViewToScene(QPointF(x, y)))
    n = int(hm.counts[col, row])
    assert f"(step 88) · {n:,} of {h.tracks[2].size:,} gradient magnitudes" in tab.readout.text(), tab.readout.text()


def test_a_run_selected_in_the_runs_panel_shows_its_saved_history(qtbot, window, monkeypatch):
    record, _ = train_short(qtbot, window, monkeypatch)
    old = make_record("from an older version", seed=3, created=1.0)  # saved before histories were kept
    RunStore(runs_folder()).save(old, Model(old.spec, seed=3))
    window.findChild(QDockWidget, "runsDock").widget().load_past_runs()
    tab = window.weight_history
    window.tabs.setCurrentWidget(tab)
    tree = window.findChild(QTreeWidget, "runList")
    items = {tree.topLevelItem(i).text(0): tree.topLevelItem(i) for i in range(tree.topLevelItemCount())}
    assert record.name in items
    stored = RunStore(runs_folder()).get(record.id)  # what a later session reads back
    assert stored.weight_history is not None and stored.weight_history.steps == record.weight_history.steps

    tree.setCurrentItem(items["from an older version"])
    assert tab.history is None and not tab.empty.isHidden() and "no weight history" in tab.empty.text()
    tree.setCurrentItem(items[record.name])
    assert tab.history.steps == record.weight_history.steps and tab.empty.isHidden()  # (as read back)
    assert tab.image.image.shape[0] == len(record.weight_history.steps)
