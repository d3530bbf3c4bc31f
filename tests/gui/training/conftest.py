"""Fixtures of the training panel's tests: a real MainWindow with only the training panel installed, on a
700-image dataset. Kept in this folder's conftest so the names `window` and `panel` stay local to these tests."""

import pytest

from mnist_studio.data.datasets import Dataset
from mnist_studio.gui import main_window, training


@pytest.fixture
def mini(mnist):
    return Dataset("mini", mnist.train_images[:700], mnist.train_labels[:700], mnist.test_images[:100],
                   mnist.test_labels[:100])


@pytest.fixture
def window(qtbot, monkeypatch, mini):
    monkeypatch.setattr(main_window, "_installers", lambda: [training.install])
    win = main_window.MainWindow()
    qtbot.addWidget(win)
    win.show()  # the weights view redraws only while it is on screen
    win.session.set_dataset(mini)
    yield win
    win.close()  # runs the close hooks: the worker thread must be finished afterwards
    thread = win.training_panel.thread
    assert thread is None or thread.isFinished()


@pytest.fixture
def panel(window):
    return window.training_panel
