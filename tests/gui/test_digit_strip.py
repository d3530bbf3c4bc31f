"""The live test strip under the training curves: its predictions are the model's own for those digits (from the
worker's snapshots during a run, through the core otherwise), a digit that becomes right flashes, a click opens it
in the Draw tab."""

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, Qt
from PyQt6.QtTest import QTest

from mnist_studio.data.datasets import Dataset
from mnist_studio.gui import main_window, training
from mnist_studio.gui.session import StudioSession
from mnist_studio.gui.training.digit_strip import DigitStrip
from mnist_studio.nn.model import Model
from mnist_studio.nn.spec import load_preset


@pytest.fixture
def mini(mnist):
    return Dataset("mini", mnist.train_images[:1500], mnist.train_labels[:1500], mnist.test_images[:2000],
                   mnist.test_labels[:2000])


@pytest.fixture
def window(qtbot, monkeypatch, mini):
    monkeypatch.setattr(main_window, "_installers", lambda: [training.install])
    win = main_window.MainWindow()
    qtbot.addWidget(win)
    win.session.set_dataset(mini)
    win.show()
    yield win
    win.close()


def test_strip_predictions_equal_model_predict_during_and_after_a_run(qtbot, window, mini, monkeypatch):
    from mnist_studio.gui.training import worker as worker_module
    # snapshots and strip readings often, so a run that is quick on an idle machine still has some to compare
    monkeypatch.setattr(worker_module, "SNAPSHOT_INTERVAL", 0.05)
    monkeypatch.setattr(worker_module, "STRIP_BUDGET", 1.0)
    panel = window.training_panel
    strip = panel.strip
    assert len(strip.images) == 24 and strip.predictions is None
    panel.session.set_spec(load_preset("logistic"))
    c = panel.controls
    c.epochs.setValue(3)
    c.batch_size.setValue(1)  # 1,400 batches an epoch: long enough for snapshots
    c.val_size.setValue(100)
    seen = []

    def on_snapshot(s):
        seen.append((dict((k, v.copy()) for k, v in s.state.items()), s.strip))

    with qtbot.waitSignal(panel.session.runRecorded, timeout=60000):
        c.start_button.click()
        qtbot.waitUntil(lambda: panel.worker is not None, timeout=5000)
        panel.worker.snapshot.connect(on_snapshot)
    read = [(state, probs) for state, probs in seen if probs is not None]  # (a snapshot may skip it: time budget)
    assert read, "no snapshot read the strip during the run"
    x = strip.images.reshape(24, -1)
    for state, probs in read:  # every reading is the model's own with that snapshot's weights
        m = Model(load_preset("logistic"))
        m.load_state_dict(state)
        np.testing.assert_allclose(probs, m.predict_proba(x), atol=1e-6)
    final = panel.session.model
    np.testing.assert_array_equal(strip.predictions.predicted, final.predict(x))
    np.testing.assert_allclose(strip.predictions.confidence, final.predict_proba(x).max(1), atol=1e-6)
    assert strip.predictions.correct.sum() >= 12  # a logistic regression reads most of them after 3 epochs


def test_a_loaded_model_is_read_and_flips_flash(qtbot, mini):
    s = StudioSession()
    s.set_dataset(mini)
    strip = DigitStrip(s)
    qtbot.addWidget(strip)
    strip.resize(900, 60)
    strip.show()
    model = Model(load_preset("logistic"), seed=0)
    strip.predict_with(model)
    x = strip.images.reshape(24, -1)
    np.testing.assert_array_equal(strip.predictions.predicted, model.predict(x))
    assert strip.flashing() == []
    # make digit 5 right and every other digit wrong: one forced flip flashes
    probs = np.full((24, 10), 0.01, np.float32)
    wrong = (strip.labels + 1) % 10
    probs[np.arange(24), wrong] = 0.9
    strip.show_probabilities(probs)
    probs2 = probs.copy()
    probs2[5] = 0.01
    probs2[5, strip.labels[5]] = 0.9
    strip.show_probabilities(probs2)
    assert strip.flashing() == [5]
    qtbot.waitUntil(lambda: strip.flashing() == [], timeout=3000)  # a flash lasts about a second
    assert "read as" in strip.describe(5) and "right" in strip.describe(5)
    shown = []
    s.inspectImage.connect(lambda img, cap: shown.append((img, cap)))
    QTest.mouseClick(strip, Qt.MouseButton.LeftButton, pos=strip.cell_rect(3).center())
    assert len(shown) == 1 and np.array_equal(shown[0][0], strip.images[3]) and "test strip" in shown[0][1]


def test_narrow_strip_takes_two_rows(qtbot, mini):
    s = StudioSession()
    s.set_dataset(mini)
    strip = DigitStrip(s)
    qtbot.addWidget(strip)
    strip.resize(1000, 60)
    strip.show()
    wide = strip.height()
    strip.resize(400, 60)
    qtbot.waitUntil(lambda: strip._cols == 12)
    assert strip.height() > wide and strip.cell_rect(12).top() > strip.cell_rect(0).bottom()
    assert strip.cell_rect(11).right() <= 400
