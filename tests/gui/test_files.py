"""The File menu: open/save models, recent files, plot export (PNG, SVG, clipboard), ONNX and PyTorch export, and
settings restored in the next session (geometry, docks, last architecture). Settings live in a per-test folder."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pyqtgraph as pg
import pytest
from PIL import Image
from PyQt6.QtWidgets import QApplication, QDockWidget, QLabel

from mnist_studio.gui import dialogs as studio_dialogs
from mnist_studio.gui.files import settings as file_settings
from mnist_studio.nn.model import Model
from mnist_studio.nn.modelfile import load_model, save_model
from mnist_studio.nn.spec import load_preset


@pytest.fixture
def make_window(qtbot, monkeypatch):
    """Main windows with only the runs and files panels (the frame is the real one)."""
    from mnist_studio.gui import files, main_window, runs

    monkeypatch.setattr(main_window, "_installers", lambda: [runs.install, files.install])
    made = []

    def make():
        win = main_window.MainWindow()
        qtbot.addWidget(win)
        made.append(win)
        return win

    return make


@pytest.fixture
def dialogs(monkeypatch):
    """Record warnings and notes instead of showing modal boxes."""
    seen = {"warn": [], "inform": []}
    monkeypatch.setattr(studio_dialogs, "warn", lambda parent, title, text: seen["warn"].append(text))
    monkeypatch.setattr(studio_dialogs, "inform", lambda parent, title, text: seen["inform"].append(text))
    return seen


def menu_texts(menu) -> list[str]:
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def test_file_menu_has_every_action_grouped(make_window):
    win = make_window()
    texts = menu_texts(win.menus["File"])
    for text in ("&Open Model…", "Save Model &As…", "Recent &Files", "&Export Plot…", "&Copy Plot to Clipboard",
                 "Export to O&NNX…", "Export as &PyTorch Script…", "&Quit"):
        assert text in texts
    assert texts[-1] == "&Quit"
    assert sum(a.isSeparator() for a in win.menus["File"].actions()) >= 3


def test_open_model_with_a_corrupt_file_keeps_the_current_model(make_window, dialogs, tmp_path):
    win = make_window()
    current = Model(load_preset("logistic"), seed=1)
    win.session.set_spec(current.spec)
    win.session.set_model(current, "training")
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"PK\x03\x04 this is not a real archive")
    assert win.file_actions.open_model(str(bad)) is False
    assert len(dialogs["warn"]) == 1 and "broken.npz" in dialogs["warn"][0]
    assert win.session.model is current and win.session.spec is current.spec
    assert file_settings.RecentFiles().entries() == []

    good = tmp_path / "tiny.npz"
    trained = Model(load_preset("tiny-mlp"), seed=7)
    save_model(good, trained)
    assert win.file_actions.open_model(str(good)) is True
    assert win.session.spec["name"] == "tiny-mlp" and win.session.model_source == str(good)
    np.testing.assert_array_equal(win.session.model.state_dict()["1.W"], trained.state_dict()["1.W"])
    assert [(e.path, e.kind) for e in file_settings.RecentFiles().entries()] == [(str(good), "model")]


def test_save_model_as(make_window, dialogs, tmp_path):
    win = make_window()
    assert win.file_actions.save_model_as(str(tmp_path / "none.npz")) is False
    assert "no model yet" in dialogs["inform"][0] and not (tmp_path / "none.npz").exists()

    model = Model(load_preset("logistic"), seed=3)
    win.session.set_model(model, "training")
    assert win.file_actions.save_model_as(str(tmp_path / "mine")) is True  # .npz added
    np.testing.assert_array_equal(load_model(tmp_path / "mine.npz").model.state_dict()["1.W"],
                                  model.state_dict()["1.W"])

    (tmp_path / "afile").write_text("x")
    assert win.file_actions.save_model_as(str(tmp_path / "afile" / "m.npz")) is False
    assert "Cannot write" in dialogs["warn"][-1] and "afile" in dialogs["warn"][-1]


def test_recent_files_drop_missing_files_with_a_message(make_window, dialogs, tmp_path):
    win = make_window()
    model_file, arch_file = tmp_path / "a.npz", tmp_path / "arch.json"
    save_model(model_file, Model(load_preset("logistic")))
    arch_file.write_text('{"name": "mine", "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 10}]}')
    gone = tmp_path / "gone.npz"
    save_model(gone, Model(load_preset("logistic")))
    recent = win.recent_files
    recent.add(gone, "model")
    recent.add(arch_file, "architecture")
    recent.add(model_file, "model")
    recent.add(arch_file, "architecture")  # again: moves to the top, no duplicate
    assert [e.path for e in recent.entries()] == [str(arch_file), str(model_file), str(gone)]

    gone.unlink()
    win.file_actions.rebuild_recent_menu()
    labels = menu_texts(win.file_actions.recent_menu)
    assert labels[:2] == ["arch.json  (architecture)", "a.npz  (model)"] and "gone.npz  (model)" not in labels
    assert "gone.npz" in win.statusBar().currentMessage()

    win.file_actions.recent_menu.actions()[0].trigger()  # open the architecture from the menu
    assert win.session.spec["name"] == "mine"
    arch_file.unlink()
    win.file_actions.open_recent(recent.entries()[0])
    assert "no longer exists" in dialogs["warn"][-1]
    assert [e.path for e in recent.entries()] == [str(model_file)]


def test_window_layout_and_last_architecture_come_back(make_window, qtbot):
    first = make_window()
    first.show()
    qtbot.waitExposed(first)
    first.resize(640, 520)  # fits the 800×800 offscreen screen (restoreGeometry clamps to it)
    first.findChild(QDockWidget, "runsDock").hide()
    first.session.set_spec(load_preset("tiny-mlp"))
    first.close()  # close hooks save the settings

    second = make_window()
    second.show()
    qtbot.waitUntil(lambda: not second.findChild(QDockWidget, "runsDock").isVisible(), timeout=2000)
    assert (second.width(), second.height()) == (640, 520)
    second.open_initial()
    assert second.session.spec["name"] == "tiny-mlp"
    second.open_initial(preset="logistic")  # an explicit request wins over the remembered one
    assert second.session.spec["name"] == "logistic"

    file_settings.settings().setValue(file_settings.KEY_LAST_SPEC, "{ damaged")
    third = make_window()
    third.open_initial()
    assert third.session.spec["name"] == "lenet"
    assert "not valid JSON" in third.statusBar().currentMessage()


@pytest.fixture
def plot_window(make_window, qtbot):
    win = make_window()
    plot = pg.PlotWidget(title="Loss")
    plot.setObjectName("lossPlot")
    plot.plot(np.arange(50), np.exp(-np.arange(50) / 10), pen="b")
    win.tabs.addTab(plot, "Training")
    win.tabs.addTab(QLabel("no plot here"), "Other")
    win.show()
    qtbot.waitExposed(win)
    return win, plot


def test_plots_export_to_png_svg_and_the_clipboard(plot_window, tmp_path, monkeypatch, dialogs):
    win, plot = plot_window
    from mnist_studio.gui.files import plots

    refs = plots.find_plots(win)
    assert [r.label for r in refs] == ["Loss [lossPlot] — Training tab", "[runScatter]"]  # the runs dock's scatter
    fa = win.file_actions

    png = fa.export_plot(refs[0], str(tmp_path / "loss.png"))
    with Image.open(png) as im:
        assert im.format == "PNG"
        w, h = im.size
        assert abs(w - plot.plotItem.sceneBoundingRect().width()) <= 2 and h > 100
        pixels = np.asarray(im.convert("RGB"))
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 5  # a drawing, not a blank image

    monkeypatch.setattr(studio_dialogs, "ask_save_path", lambda *a: str(tmp_path / "loss.svg"))
    svg = fa.export_plot(refs[0])
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    assert len(root.findall(".//{http://www.w3.org/2000/svg}path")) >= 1

    assert fa.copy_plot(refs[0]) is True
    image = QApplication.clipboard().image()
    assert not image.isNull() and image.width() == w

    (tmp_path / "afile").write_text("x")
    assert fa.export_plot(refs[0], str(tmp_path / "afile" / "x.png")) is None
    assert "cannot write" in dialogs["warn"][-1]


def test_export_actions_write_onnx_and_pytorch(make_window, dialogs, tmp_path, mnist):
    win = make_window()
    fa = win.file_actions
    assert fa.export_onnx(str(tmp_path / "none.onnx")) is None and "no model yet" in dialogs["inform"][-1]
    model = Model(load_preset("logistic"), seed=2)
    win.session.set_model(model, "training")
    onnx_path = fa.export_onnx(str(tmp_path / "digits"))
    assert onnx_path == tmp_path / "digits.onnx"
    import onnxruntime as ort

    from mnist_studio.data.datasets import to_float

    x = to_float(mnist.test_images[:20])
    out = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"]).run(
        None, {"image": x.reshape(-1, 1, 28, 28)})[0]
    np.testing.assert_allclose(out, model.predict_proba(x), atol=1e-5, rtol=0)

    script = fa.export_torch(str(tmp_path / "digits_torch.py"))
    assert script.is_file() and (tmp_path / "digits_torch_weights.npz").is_file()
    assert "nn.Linear(784, 10)" in script.read_text()
    assert "digits_torch.py" in win.statusBar().currentMessage()


def test_an_export_never_replaces_the_model_file_it_came_from(make_window, dialogs, tmp_path):
    win = make_window()
    fa = win.file_actions
    opened = tmp_path / "digits_weights.npz"
    save_model(opened, Model(load_preset("logistic"), seed=2), history={"test_accuracy": 0.9})
    before = opened.read_bytes()
    assert fa.open_model(str(opened))
    assert fa.export_torch(str(tmp_path / "digits.py")) is None  # its weights would be digits_weights.npz
    assert "the model file you opened" in dialogs["warn"][-1] and "nothing was written" in dialogs["warn"][-1]
    assert not (tmp_path / "digits.py").exists()
    assert opened.read_bytes() == before
