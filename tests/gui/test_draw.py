"""The Draw tab end to end: QTest mouse strokes on the pad, a small trained model, the answer and the why views."""

import math

import numpy as np
import pytest
from PIL import Image
from PyQt6.QtCore import QEvent, QPoint, Qt
from PyQt6.QtGui import QAction, QKeyEvent, QKeySequence
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QLabel

from mnist_studio.data import load_mnist
from mnist_studio.data.preprocess import SIZE, bounding_box, centre_of_mass
from mnist_studio.gui.draw.panel import DrawPanel
from mnist_studio.gui.session import StudioSession

CENTRE = (SIZE - 1) / 2.0


@pytest.fixture
def panel(qtbot, small_model):
    session = StudioSession()
    session.set_model(small_model, source="test.npz")
    p = DrawPanel(session)
    qtbot.addWidget(p)
    p.resize(1200, 820)
    p.show()
    qtbot.waitExposed(p)
    return p


def draw(pad, *strokes):
    """Draw strokes given in pad-relative coordinates (0-1) with real mouse events."""
    sq = pad.square()
    for stroke in strokes:
        pts = [QPoint(round(sq.left() + x * sq.width()), round(sq.top() + y * sq.height())) for x, y in stroke]
        QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[0])
        for p in pts[1:]:
            QTest.mouseMove(pad, p)
        QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[-1])


def ring(cx=0.5, cy=0.5, rx=0.2, ry=0.3, n=40):
    return [(cx + rx * math.cos(t), cy + ry * math.sin(t)) for t in np.linspace(0, 2 * math.pi, n)]


VERTICAL = [(0.5, 0.15 + 0.7 * t) for t in np.linspace(0, 1, 15)]


def test_vertical_stroke_reads_as_1_and_ring_as_0(panel):
    draw(panel.pad, VERTICAL)
    assert panel.prediction() == 1
    assert panel.findChild(QLabel, "predictedDigit").text() == "1"
    assert len(panel.pad.strokes) == 1 and len(panel.pad.strokes[0]) >= 10
    panel.clear()
    draw(panel.pad, ring())
    assert panel.prediction() == 0
    chart = panel.answer.chart
    assert chart.objectName() == "probabilityChart"
    assert int(np.argmax(chart.values)) == 0 and chart.values.sum() == pytest.approx(1.0, abs=1e-4)
    assert "%" in panel.answer.confidence.text()


def test_off_centre_small_digit_is_centred_at_20_px(panel):
    draw(panel.pad, ring(0.2, 0.2, 0.06, 0.1))  # small, in the top-left corner
    st = panel.stages
    cy, cx = centre_of_mass(st.centred)
    assert abs(cy - CENTRE) <= 0.5 and abs(cx - CENTRE) <= 0.5
    t, b, l, r = bounding_box(st.centred, 0.05)
    assert max(b - t, r - l) == 20
    assert panel.prediction() == 0
    # the strip shows all four stages
    assert all(not lab.pixmap().isNull() for lab in panel.stage_strip.images)


def test_empty_pad_gives_no_prediction(panel):
    digit = panel.findChild(QLabel, "predictedDigit")
    assert digit.text() == "" and panel.prediction() is None
    assert "draw a digit" in panel.answer.confidence.text()
    assert np.all(panel.answer.chart.values == 0)
    draw(panel.pad, VERTICAL)
    assert digit.text() == "1"
    QTest.mouseClick(panel.pad, Qt.MouseButton.RightButton)  # right-click clears
    assert digit.text() == "" and panel.pad.is_empty
    assert panel.stage_strip.images[3].pixmap().isNull()


def test_no_model_says_so(qtbot):
    session = StudioSession()
    p = DrawPanel(session)
    qtbot.addWidget(p)
    p.show()
    draw(p.pad, VERTICAL)
    assert p.prediction() is None and "no model" in p.answer.confidence.text()
    assert not p.stage_strip.images[3].pixmap().isNull()  # the preprocessing is still shown


def test_ctrl_z_on_the_pad_undoes_the_last_stroke_and_beats_a_window_shortcut(panel, qtbot):
    window_undo = []
    action = QAction("Undo (window)", panel)
    action.setShortcut(QKeySequence.StandardKey.Undo)
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.triggered.connect(lambda: window_undo.append(1))
    panel.addAction(action)
    draw(panel.pad, ring())
    draw(panel.pad, VERTICAL)  # a ring with a bar: not a clean 0
    assert len(panel.pad.strokes) == 2
    panel.pad.setFocus()
    qtbot.waitUntil(panel.pad.hasFocus)
    QTest.keyClick(panel.pad, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(panel.pad.strokes) == 1
    assert window_undo == []  # the pad claimed Ctrl+Z
    assert panel.prediction() == 0  # the answer follows the undo
    panel.undo_button.click()
    assert panel.pad.strokes == [] and panel.prediction() is None
    # shortcut override is accepted only for Ctrl+Z
    ev = QKeyEvent(QEvent.Type.ShortcutOverride, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert panel.pad.event(ev) and ev.isAccepted()


def test_clear_by_button_and_keys(panel):
    for clear in (lambda: panel.clear_button.click(),
                  lambda: QTest.keyClick(panel.pad, Qt.Key.Key_Delete),
                  lambda: QTest.keyClick(panel.pad, Qt.Key.Key_Escape)):
        draw(panel.pad, VERTICAL)
        assert panel.prediction() == 1
        panel.pad.setFocus()
        clear()
        assert panel.pad.strokes == [] and panel.prediction() is None


def test_saliency_has_the_input_shape_and_lights_up_the_ink(panel):
    draw(panel.pad, ring())
    ex = panel.explanation
    sal = ex.saliency
    assert sal.shape == (28, 28)
    ink = panel.stages.centred > 0.3
    assert np.abs(sal[ink]).mean() > 0
    assert np.abs(sal[ink]).mean() > np.abs(sal[~ink]).mean()  # the gradient is strongest around the drawing
    shown = panel.saliency_view.saliency
    assert shown.shape == (28, 28) and np.abs(shown).max() == pytest.approx(1.0)
    panel.saliency_mode.setCurrentText("occlusion")
    occ = panel.saliency_view.saliency
    assert occ.shape == (28, 28) and not np.allclose(occ, shown)
    # activations: one picture per layer group, with the real values of the drawing
    assert len(panel.activations.items) == 3  # Dense 512, Dense 256, Dense 10
    img = panel.activations.items[0].image
    assert img is not None and np.nanmax(img) == pytest.approx(1.0)


def four_digit_picture(tmp_path, n=4):
    ds = load_mnist()
    imgs = ds.test_images[:n].astype(np.float32) / 255.0
    row = np.concatenate([np.pad(d, ((6, 6), (8, 8))) for d in imgs], axis=1)
    path = tmp_path / "four.png"
    Image.fromarray(((1.0 - row) * 255).astype(np.uint8)).save(path)  # dark on light, like ink on paper
    return path, ds.test_labels[:n]


def test_a_picture_of_four_digits_gives_four_answers(panel, tmp_path):
    path, labels = four_digit_picture(tmp_path)
    panel.classify_file(str(path))
    assert len(panel.picture_stages) == 4
    answers = panel.results.answers()
    assert answers == [str(v) for v in labels]
    assert panel.results.isVisible()
    assert "4 digits" in panel.caption.text()
    assert panel.prediction() == labels[0]
    panel.results.buttons[2].click()  # inspect the third digit
    assert panel.prediction() == labels[2]
    digit = panel.picture_stages[2].raw
    draw(panel.pad, [(0.2, 0.5), (0.8, 0.5)])  # a bar across the digit adds to it, the picture stays
    assert len(panel.picture_stages) == 4 and panel.results.isVisible() and panel.pad.showing_picture
    raw = panel.stages.raw
    assert raw.shape == digit.shape and np.all(raw >= digit)
    assert ((raw > 0.5) & (digit < 0.1)).sum() >= 3  # new ink where the digit had none
    assert raw.shape[0] // 3 < np.argmax((raw - digit).sum(1)) < raw.shape[0] * 2 // 3  # in the middle, as drawn
    panel.clear()  # clears both
    assert panel.picture_stages == [] and not panel.results.isVisible() and panel.pad.is_empty
    draw(panel.pad, VERTICAL)
    assert panel.prediction() == 1


def test_unreadable_picture_is_reported_not_crashing(panel, tmp_path, monkeypatch):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"junk")
    shown = []
    monkeypatch.setattr("mnist_studio.gui.dialogs.warn", lambda *a: shown.append(a[2]))
    panel.classify_file(str(bad))
    assert shown and "bad.png" in shown[0]
    assert panel.prediction() is None


def test_inspect_image_shows_it_as_if_drawn(panel):
    ds = load_mnist()
    img = ds.test_images[0].astype(np.float32) / 255.0
    panel.session.inspect(img, "test image #0")
    assert panel.prediction() == ds.test_labels[0]
    assert np.array_equal(panel.stages.centred, img)
    assert "test image #0" in panel.caption.text()


def test_a_picture_in_the_pad_is_touched_up_by_strokes_and_clear_clears_both(panel):
    """Strokes add to an inspected image, in place (pad x in 0-1 → image column x·28), at the pen's width."""
    ds = load_mnist()
    img = ds.test_images[0].astype(np.float32) / 255.0  # a 7: its lower left corner is empty
    panel.session.inspect(img, "test image #0")
    assert img[20:27, 1:8].max() == 0
    draw(panel.pad, [(0.05, 0.85), (0.25, 0.85)])  # a short bar across rows ~23-24, columns 1-7
    assert panel.pad.showing_picture and panel.inspected is not None
    seen = panel.stages.centred
    assert seen.shape == (28, 28)
    assert np.allclose(seen[img > 0], np.maximum(img, seen)[img > 0])  # every pixel of the 7 is still there
    assert np.all(seen >= img)
    bar = seen[22:26, 2:7]
    assert bar.max() > 0.9 and (bar > 0.5).sum() >= 8  # the new stroke, where it was drawn
    assert seen[:20, :].sum() == pytest.approx(img[:20, :].sum())  # nothing else changed
    assert np.count_nonzero(seen - img) < 40  # a pen about 2 px wide, not a blob
    panel.pad.undo()  # undo takes the stroke back first, the picture stays
    assert np.array_equal(panel.stages.centred, img)
    draw(panel.pad, [(0.05, 0.85), (0.25, 0.85)])
    panel.clear_button.click()
    assert panel.pad.is_empty and not panel.pad.showing_picture and panel.stages is None


def test_weights_update_refreshes_the_answer(panel, qtbot, small_model):
    draw(panel.pad, ring())
    before = panel.explanation.probabilities.copy()
    state = small_model.state_dict()
    shuffled = {k: (v[::-1].copy() if k.endswith(".W") else v) for k, v in state.items()}
    panel.session.update_weights(shuffled)
    qtbot.waitUntil(lambda: not np.allclose(panel.explanation.probabilities, before), timeout=2000)
    panel.session.update_weights(state)  # the fixture is shared: put the weights back
    qtbot.waitUntil(lambda: np.allclose(panel.explanation.probabilities, before, atol=1e-5), timeout=2000)


def test_install_adds_the_tab_and_the_file_action(qtbot):
    from mnist_studio.gui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    titles = [win.tabs.tabText(i) for i in range(win.tabs.count())]
    assert "Draw" in titles
    names = [a.text() for a in win.menus["File"].actions()]
    assert "Classify Image…" in names
    assert win.findChild(QLabel, "predictedDigit") is not None
    win.session.inspect(np.zeros((28, 28), np.float32), "blank")
    assert win.tabs.currentWidget() is win.draw_panel
    for hook in win.close_hooks:
        hook()


def test_dropping_an_image_file_classifies_it(panel, tmp_path):
    from PyQt6.QtCore import QMimeData, QPointF, QUrl
    from PyQt6.QtGui import QDropEvent

    path, labels = four_digit_picture(tmp_path, n=2)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    ev = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                    Qt.KeyboardModifier.NoModifier)
    panel.pad.dropEvent(ev)
    assert panel.results.answers() == [str(v) for v in labels]
    assert panel.pad.showing_picture
    text = QMimeData()
    text.setText("not a file")
    assert panel.pad._dropped_image(text) is None
