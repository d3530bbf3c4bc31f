"""The whole window, every panel installed: the frame (tabs, docks, status bar), what the command line opens, bad
files, and closing mid-run."""

import json

import numpy as np
import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QDockWidget, QLabel, QStatusBar, QTabWidget

from mnist_studio.data.datasets import Dataset
from mnist_studio.gui import dialogs, main_window
from mnist_studio.nn.model import Model
from mnist_studio.nn.modelfile import save_model
from mnist_studio.nn.spec import load_preset


@pytest.fixture
def warnings(monkeypatch):
    """Modal message boxes would block the test: record them instead."""
    shown = []
    monkeypatch.setattr(dialogs, "warn", lambda parent, title, text: shown.append(text))
    return shown


@pytest.fixture
def window(qtbot, warnings):
    win = main_window.MainWindow()
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()
    thread = win.training_panel.thread
    assert thread is None or thread.isFinished()


def label(win, name):
    return win.statusBar().findChild(QLabel, name).text()


def test_frame_training_tab_first_docks_and_status_bar(qtbot, window):
    window.open_initial()
    tabs = window.findChild(QTabWidget, "mainTabs")
    assert tabs.tabText(0) == "Training" and tabs.currentIndex() == 0
    assert tabs.widget(0).findChild(QLabel) is not None
    dock = window.findChild(QDockWidget, "trainingDock")
    assert window.dockWidgetArea(dock) == Qt.DockWidgetArea.RightDockWidgetArea
    assert dock.width() >= 300 and window.width() >= 1200 and window.height() >= 800
    assert window.findChild(QStatusBar, "statusBar") is window.statusBar()
    assert window.session.spec["name"] == "lenet"
    assert "454,922 parameters" in label(window, "paramsLabel") and "lenet" in label(window, "paramsLabel")
    assert label(window, "datasetLabel").startswith("MNIST") and "70,000 images" in label(window, "datasetLabel")
    assert label(window, "stateLabel") == "● idle"
    train_menu = [a.text() for a in window.menus["Train"].actions()]
    assert {"Start", "Pause", "Stop", "+1 epoch"} <= set(train_menu)
    assert window.training_panel.controls.start_button.isEnabled()
    assert window.training_panel.controls.optimizer.currentData() == "adam"  # lenet's suggested settings


def test_a_missing_model_file_still_opens_lenet_and_says_why(qtbot, window, warnings, tmp_path):
    window.open_initial(model=str(tmp_path / "missing.npz"))
    qtbot.waitUntil(lambda: bool(warnings), timeout=3000)
    assert "missing.npz" in warnings[0]
    assert window.session.spec["name"] == "lenet" and window.training_panel.controls.start_button.isEnabled()


def test_a_broken_spec_file_still_opens_and_says_why(qtbot, window, warnings, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    window.open_initial(spec=str(bad))
    qtbot.waitUntil(lambda: bool(warnings), timeout=3000)
    assert "bad.json" in warnings[0]
    assert window.session.spec["name"] == "lenet"


def test_an_invalid_architecture_file_is_refused_with_the_engines_message(qtbot, window, warnings, tmp_path):
    spec = {"name": "needs-flatten", "input_shape": [28, 28, 1],
            "layers": [{"type": "Dense", "units": 10}, {"type": "Softmax"}]}
    path = tmp_path / "arch.json"
    path.write_text(json.dumps(spec))
    window.open_initial(spec=str(path))
    qtbot.waitUntil(lambda: bool(warnings), timeout=3000)
    assert "arch.json" in warnings[0] and "Flatten" in warnings[0]
    assert window.session.spec["name"] == "lenet" and window.training_panel.controls.start_button.isEnabled()


def test_a_trained_model_file_opens_with_its_weights_shown(qtbot, window, tmp_path):
    model = Model(load_preset("logistic"), seed=4)
    path = tmp_path / "digits.npz"
    save_model(path, model)
    window.open_initial(model=str(path))
    assert window.session.model is not None and window.session.model_source == str(path)
    view = window.training_panel.weights
    assert "digits.npz" in view.source_label.text()
    w = model.layers[1].params["W"]
    assert np.allclose(view.image_item.image[:28, :28], w[:, 0].reshape(28, 28))


def test_state_in_the_status_bar_and_closing_mid_run(qtbot, window, mnist):
    window.open_initial(preset="logistic")
    window.session.set_dataset(Dataset("mini", mnist.train_images[:600], mnist.train_labels[:600],
                                       mnist.test_images[:50], mnist.test_labels[:50]))
    assert label(window, "datasetLabel") == "mini · 650 images"
    panel = window.training_panel
    panel.controls.val_size.setValue(100)
    panel.controls.epochs.setValue(1)
    with qtbot.waitSignal(window.session.runRecorded, timeout=30000):
        panel.controls.start_button.click()
        assert label(window, "stateLabel") == "● running"
    assert label(window, "stateLabel") == "● finished"

    panel.controls.epochs.setValue(300)
    panel.controls.batch_size.setValue(1)
    panel.controls.start_button.click()
    qtbot.waitUntil(lambda: panel.state == "running" and panel.plots.point_count() > 50, timeout=10000)
    thread = panel.thread
    window.close()
    assert thread.isFinished()


def test_help_menu_lists_the_real_shortcuts(qtbot):
    from mnist_studio.gui.help import about_text, shortcut_rows
    from mnist_studio.gui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    rows = dict(shortcut_rows(win))
    assert rows["Edit › Undo"].startswith("Ctrl+Z") and "Ctrl+Shift+Z" in rows["Edit › Redo"]
    assert rows["File › Quit"] == "Ctrl+Q" and "Train › Start" in rows
    assert [a.text() for a in win.menus["Help"].actions() if not a.isSeparator()] == [
        "&Keyboard Shortcuts", "Coming from &PyTorch or Keras", "&About MNIST Studio"]
    assert "CC BY-SA 3.0" in about_text()
    win.close()


def test_help_menu_answers_through_the_shared_dialogs(qtbot, monkeypatch):
    """The Help menu's boxes go through gui/dialogs.py (so tests, and any later restyling, reach them all)."""
    from mnist_studio.gui.main_window import MainWindow

    shown = []
    monkeypatch.setattr(dialogs, "inform", lambda parent, title, text: shown.append((title, text)))
    monkeypatch.setattr(dialogs, "about", lambda parent, title, text: shown.append((title, text)))
    win = MainWindow()
    qtbot.addWidget(win)
    actions = {a.text(): a for a in win.menus["Help"].actions()}
    actions["&Keyboard Shortcuts"].trigger()
    actions["&About MNIST Studio"].trigger()
    assert shown[0][0] == "Keyboard shortcuts" and "Ctrl+Q" in shown[0][1]
    assert shown[1][0] == "About MNIST Studio" and "CC BY-SA 3.0" in shown[1][1]
    win.close()



def test_help_menu_opens_the_coming_from_pytorch_page(qtbot):
    from PyQt6.QtWidgets import QDialog, QTextBrowser

    from mnist_studio.gui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    action = next(a for a in win.menus["Help"].actions() if "PyTorch" in a.text())
    action.trigger()
    box = win.findChild(QDialog, "documentDialog")
    assert box is not None and box.isVisible() and box.windowTitle() == "Coming from PyTorch or Keras"
    text = box.findChild(QTextBrowser, "documentText").toPlainText()
    for row in ("BatchNorm momentum", "running variance", "Decay biases too", "AdamW", "RMSprop", "same",
                "Layout", "model[:-1]", "Initialisation", "pixels / 255", "row-major"):
        assert row in text, row
    box.close()
    win.close()


def test_closing_mid_run_asks_and_no_keeps_training(qtbot, window, mnist, monkeypatch):
    window.open_initial(preset="logistic")
    window.session.set_dataset(Dataset("mini", mnist.train_images[:600], mnist.train_labels[:600],
                                       mnist.test_images[:50], mnist.test_labels[:50]))
    panel = window.training_panel
    panel.controls.val_size.setValue(100)
    panel.controls.epochs.setValue(300)
    panel.controls.batch_size.setValue(1)
    asked = []
    monkeypatch.setattr(dialogs, "confirm", lambda parent, title, text: asked.append(text) or False)
    assert panel.close_question() is None  # idle: nothing to ask
    panel.controls.start_button.click()
    qtbot.waitUntil(lambda: panel.state == "running" and panel.plots.point_count() > 20, timeout=10000)
    assert not window.close()  # "No": the window stays, the run goes on
    assert len(asked) == 1 and "still training" in asked[0] and "kept in the runs list as stopped" in asked[0]
    assert window.isVisible() and panel.state == "running" and not panel.thread.isFinished()
    recorded = []
    window.session.runRecorded.connect(recorded.append)
    monkeypatch.setattr(dialogs, "confirm", lambda parent, title, text: asked.append(text) or True)
    thread = panel.thread
    assert window.close()  # "Yes": stopped, recorded as stopped, closed
    assert thread.isFinished() and len(asked) == 2
    assert [r.status for r in recorded] == ["stopped"]


def test_a_script_that_ends_without_closing_the_window_exits_without_an_error(tmp_path):
    """Docks report a visibility change while the window is destroyed at exit; nothing may touch it by then."""
    import os
    import subprocess
    import sys

    script = ("from PyQt6.QtWidgets import QApplication\n"
              "app = QApplication([])\n"
              "from mnist_studio.gui.main_window import MainWindow\n"
              "w = MainWindow(); w.show(); app.processEvents()\n"
              "print('shown')\n")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_DATA_HOME=str(tmp_path / "data"))
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "shown" in done.stdout
    assert "Error" not in done.stderr and "Traceback" not in done.stderr, done.stderr
