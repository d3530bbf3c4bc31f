"""Classify Image: a photo read in the studio shows its digits boxed and answered; a click opens one in the pad."""

import numpy as np
import pytest
from PIL import Image
from PyQt6.QtCore import QPoint, Qt
from PyQt6.QtTest import QTest

from mnist_studio.data import load_mnist
from mnist_studio.gui.draw.picture_view import SURE, UNSURE


@pytest.fixture(scope="module")
def model():
    from mnist_studio.data.splits import make_splits
    from mnist_studio.nn.model import Model
    from mnist_studio.nn.spec import load_preset
    from mnist_studio.training.config import TrainConfig
    from mnist_studio.training.trainer import Trainer

    ds = load_mnist()
    config = TrainConfig(optimizer="adam", lr=1e-3, epochs=1, batch_size=64, val_size=0, limit=8000)
    m = Model(load_preset("mlp-512-256"), seed=0)
    Trainer(m, make_splits(ds, val_size=0, limit=8000), config).fit()
    return m


@pytest.fixture
def window(qtbot, model):
    from mnist_studio.gui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.session.set_model(model, source="test.npz")
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.picture_window.close()
    for hook in win.close_hooks:
        hook()


def photo_file(tmp_path, model):
    """Three test digits the model reads, written large on paper lit from the left, as a JPEG."""
    ds = load_mnist()
    picks = np.flatnonzero(model.predict(ds.test_images[:100] / 255.0) == ds.test_labels[:100])[:3]
    h, w = 240, 540
    ink = np.zeros((h, w), np.float32)
    for k, i in enumerate(picks):
        d = np.asarray(Image.fromarray(ds.test_images[i]).resize((120, 120), Image.Resampling.BICUBIC)) / 255.0
        ink[60:180, 50 + 160 * k:170 + 160 * k] = np.clip((d - 0.2) / 0.5, 0, 1)
    paper = np.linspace(0.95, 0.55, w)[None, :]
    gray = paper * (1 - 0.85 * ink)
    path = tmp_path / "three.jpg"
    Image.fromarray((gray * 255).astype(np.uint8)).save(path, quality=80)
    return path, [str(int(ds.test_labels[i])) for i in picks]


def test_classify_image_shows_the_boxes_and_answers(window, qtbot, tmp_path, model):
    path, labels = photo_file(tmp_path, model)
    window.draw_panel.classify_file(str(path))
    pic = window.picture_window
    qtbot.waitUntil(pic.isVisible, timeout=2000)
    canvas = pic.canvas
    assert canvas.shown.answers == labels and len(canvas.shown.boxes) == 3
    assert "read as" in pic.caption.text() and "".join(labels) in pic.caption.text()
    # the boxes are drawn where the digits are: the pixels on each box's left edge have the box colour
    img = canvas.grab().toImage()
    scale = canvas.image_rect().width() / 540
    for (x0, y0, x1, y1), r in zip(canvas.shown.boxes, canvas.box_rects()):
        assert abs(r.left() - (canvas.image_rect().left() + x0 * scale)) < 1
        assert 50 - 6 <= x0 and x1 <= 540 and r.height() > 60 * scale
        for f in (0.3, 0.5, 0.7):  # the picture is grey: a strongly coloured pixel on the edge is the box
            y = round(r.top() + r.height() * f)
            best = max((img.pixelColor(round(r.left()) + dx, y) for dx in (-1, 0, 1)), key=lambda c: c.saturation())
            assert best.saturation() > 100 and min(abs(best.hue() - c.hue()) for c in (SURE, UNSURE)) < 12
    # the strip: the stages and one button per 28×28 input, labelled with the answer
    assert [b.text().split()[0] for b in pic.digit_buttons] == labels


def test_a_click_on_a_digit_opens_it_in_the_pad(window, qtbot, tmp_path, model):
    path, labels = photo_file(tmp_path, model)
    window.draw_panel.classify_file(str(path))
    canvas = window.picture_window.canvas
    qtbot.waitUntil(canvas.isVisible, timeout=2000)
    window.tabs.setCurrentIndex(0)  # somewhere else
    r = canvas.box_rects()[1]
    QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(round(r.center().x()), round(r.center().y())))
    panel = window.draw_panel
    assert window.tabs.currentWidget() is panel
    assert panel.pad.showing_picture and panel.prediction() == int(labels[1])
    assert panel.results.buttons[1].isChecked() and window.picture_window.digit_buttons[1].isChecked()
    window.picture_window.digit_buttons[2].click()  # the strip's buttons do the same
    assert panel.prediction() == int(labels[2])


def test_a_blank_picture_says_so(window, qtbot, tmp_path):
    path = tmp_path / "blank.png"
    Image.fromarray(np.full((200, 300), 200, np.uint8)).save(path)
    window.draw_panel.classify_file(str(path))
    pic = window.picture_window
    qtbot.waitUntil(pic.isVisible, timeout=2000)
    assert "no digit found" in pic.caption.text() and pic.canvas.box_rects() == [] and pic.digit_buttons == []


def test_a_photos_digits_are_kept_as_examples_key_by_key(window, qtbot, tmp_path, model):
    """Correcting a photo: a digit clicked is shown in the pad, a digit key keeps it (as the network read it) as
    an example, and the pad moves on to the next digit. The whole picture, not one digit, is not kept."""
    path, labels = photo_file(tmp_path, model)
    panel = window.draw_panel
    panel.classify_file(str(path))
    store = panel.session.handwriting()
    panel.teach.digit_buttons[4].click()  # the whole picture is shown: which digit?
    assert len(store) == 0 and "Click one digit" in panel.teach.status.text()
    panel.select_picture_digit(0)
    first = panel.current_stages().centred.copy()
    panel.teach.digit_buttons[int(labels[0])].click()
    assert store.labels.tolist() == [int(labels[0])] and store.from_photos.tolist() == [True]
    assert np.abs(store.float_images()[0] - first).max() <= 0.5 / 255 + 1e-6
    assert store.digits[0].extra["picture"] == "three.jpg"
    assert panel.pad.showing_picture and panel.results.buttons[1].isChecked()  # on to the next digit
    assert "digit 1 of 3" in panel.teach.status.text() and "1 from photos" in panel.teach.status.text()
    panel.teach.confirm_button.click()  # ✓: the answer was right
    assert store.labels.tolist() == [int(labels[0]), int(labels[1])]
    assert not np.array_equal(store.images[0], store.images[1]) and panel.results.buttons[2].isChecked()
    panel.teach.digit_buttons[int(labels[2])].click()  # the last digit: it stays shown ...
    panel.teach.digit_buttons[int(labels[2])].click()  # ... and a second key keeps no twin of it
    assert len(store) == 3 and "kept already" in panel.teach.status.text()
