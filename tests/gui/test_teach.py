"""Teach it my handwriting in the studio: corrections kept and surviving a restart, guided mode, Teach and Undo,
a damaged examples file, and My handwriting on the Dataset tab."""

import numpy as np
import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtTest import QTest

from mnist_studio.data.handwriting import HandwritingStore
from mnist_studio.gui.dataset.panel import DatasetPanel
from mnist_studio.gui.draw.panel import DrawPanel
from mnist_studio.gui.draw.teach import GUIDED_REPEATS
from mnist_studio.gui.session import StudioSession
from mnist_studio.training.adapt import AdaptConfig
from odd_hand import odd_hand
from test_draw import VERTICAL, draw

CROSSED_SEVEN = ([(0.25, 0.2), (0.75, 0.2)], [(0.75, 0.2), (0.45, 0.85)], [(0.4, 0.5), (0.75, 0.5)])


def make_panel(qtbot, model):
    session = StudioSession()
    session.set_model(model, source="test.npz")
    p = DrawPanel(session)
    qtbot.addWidget(p)
    p.resize(1200, 860)
    p.show()
    qtbot.waitExposed(p)
    return p


@pytest.fixture
def panel(qtbot, small_model):
    p = make_panel(qtbot, small_model)
    yield p
    p.teach.shutdown()


def test_a_correction_is_kept_with_its_strokes_and_survives_a_restart(qtbot, panel, small_model):
    draw(panel.pad, *CROSSED_SEVEN)
    strokes = [list(s) for s in panel.pad.strokes]
    QTest.keyClick(panel.pad, Qt.Key.Key_7)
    store = panel.session.handwriting()
    assert store.labels.tolist() == [7] and store.digits[0].extra["source"] == "corrected"
    assert np.allclose(np.array(store.digits[0].strokes[1]), np.round(np.array(strokes[1]), 2))
    assert panel.pad.is_empty and "1 example" in panel.teach.status.text()
    draw(panel.pad, VERTICAL)
    panel.findChild(type(panel.teach.confirm_button), "confirmAnswerButton").click()  # "✓": the answer was right
    assert store.labels.tolist() == [7, panel.session.handwriting().labels[1]]
    assert store.digits[1].extra["source"] == "confirmed"
    # a restart: a new session reads the same file
    again = StudioSession().handwriting()
    assert again.path == store.path and again.labels.tolist() == store.labels.tolist()
    assert again.digits[0].strokes == store.digits[0].strokes


def test_nothing_drawn_nothing_kept(panel):
    panel.teach.digit_buttons[3].click()
    assert len(panel.session.handwriting()) == 0 and "Draw a digit first" in panel.teach.status.text()


def test_guided_mode_asks_every_digit_and_holds_one_of_each_out(panel):
    panel.teach.guided_button.click()
    guide = list(panel.teach.guide)
    assert len(guide) == 10 * GUIDED_REPEATS
    assert sorted(d for d, _ in guide) == sorted(list(range(10)) * GUIDED_REPEATS)
    assert sorted(d for d, held in guide if held) == list(range(10))  # one held out per digit
    asked = guide[0][0]
    assert f"Write a {asked}" in panel.teach.status.text()
    draw(panel.pad, VERTICAL)
    other = (asked + 1) % 10
    panel.teach.digit_buttons[other].click()  # not the digit asked: refused, nothing kept
    assert len(panel.session.handwriting()) == 0 and f"asked for a {asked}" in panel.teach.status.text()
    QTest.keyClick(panel.pad, Qt.Key.Key_Return)
    store = panel.session.handwriting()
    assert store.labels.tolist() == [asked] and store.held_out.tolist() == [guide[0][1]]
    assert len(panel.teach.guide) == 10 * GUIDED_REPEATS - 1


def test_teach_needs_enough_examples(panel):
    panel.teach.teach()
    assert "at least 10 examples; you have 0" in panel.teach.status.text()


def test_teach_improves_the_odd_hand_saves_a_run_and_undo_restores(qtbot, panel, small_model):
    store = panel.session.handwriting()
    for i, d in enumerate(odd_hand(15, seed=0)):
        store.add(d.strokes, d.label, held_out=i >= 10, save=False)  # 10 taught, 20 held out
    store.save()
    records = []
    panel.session.runRecorded.connect(records.append)
    assert panel.teach.teach(AdaptConfig(steps=30, own_per_step=16, replay_per_step=48))
    assert not panel.teach.teach_button.isEnabled()
    qtbot.waitUntil(lambda: panel.teach.last_result is not None, timeout=300_000)
    r = panel.teach.last_result
    assert r.taught == 10 and r.held_out == 20
    assert r.before <= 0.6 and r.after >= 0.9
    assert panel.session.model is r.model and panel.session.model is not small_model
    assert len(records) == 1 and records[0].metrics["handwriting_after"] == r.after
    assert f"{r.before:.0%} → {r.after:.0%}" in panel.teach.status.text()
    images = store.float_images()[store.held_out]
    assert panel.teach.undo_button.isEnabled()
    panel.teach.undo_button.click()
    assert panel.session.model is small_model and panel.session.model_source == "test.npz"
    assert np.mean(small_model.predict(images) == store.labels[store.held_out]) == pytest.approx(r.before)


def test_a_damaged_examples_file_is_refused_with_a_message(qtbot, small_model):
    first = StudioSession().handwriting()
    first.add([[(0, 0), (0, 100)]], 1)
    first.path.write_bytes(b"not a zip at all")
    session = StudioSession()
    messages = []
    session.status.connect(messages.append)
    session.set_model(small_model)
    p = DrawPanel(session)
    qtbot.addWidget(p)
    store = session.handwriting()
    assert len(store) == 0 and store.refused
    assert any("not a readable examples file" in m for m in messages)
    assert p.teach.status.text().startswith("⚠") and "not a readable examples file" in p.teach.status.text()
    p.show()
    draw(p.pad, VERTICAL)  # the studio goes on; the next example moves the damaged file aside
    p.teach.digit_buttons[1].click()
    assert len(store) == 1
    aside = list(store.path.parent.glob("my-handwriting.damaged-*.npz"))
    assert len(aside) == 1 and aside[0].read_bytes() == b"not a zip at all"
    assert isinstance(store, HandwritingStore)


def test_my_handwriting_on_the_dataset_tab(qtbot, tmp_path, monkeypatch):
    session = StudioSession()
    store = session.handwriting()
    for i, d in enumerate(odd_hand(3, seed=1)):
        store.add(d.strokes, d.label, held_out=i < 2, save=False)
    store.save()
    panel = DatasetPanel(session)
    qtbot.addWidget(panel)
    panel.resize(1200, 800)
    panel.show()
    panel.mine_button.click()
    assert panel.shown_dataset.name == "My handwriting"
    assert panel.stats.train_counts[[1, 7]].tolist() == [3, 3] and panel.stats.test_counts.sum() == 2
    assert np.allclose(panel.stats.mean_images[7], store.images[store.labels == 7].mean(axis=0), atol=1e-3)
    assert not panel.mine.delete_button.isEnabled()
    row = 7
    col = 0
    index = int(panel.stats.samples[row, col])
    panel.inspect_sample(row, col)
    assert panel.mine.selected == index and panel.mine.delete_button.isEnabled()
    panel.mine.delete_button.click()
    assert len(store) == 5 and panel.stats.train_counts[7] == 2  # the view followed
    assert panel.mine.export_file(tmp_path / "mine.json")
    (tmp_path / "bad.json").write_text("[]")
    from mnist_studio.gui import dialogs

    warned = []
    class Box:  # what show_warning returns, as far as the import uses it
        def setObjectName(self, name):
            self.name = name

    monkeypatch.setattr(dialogs, "show_warning", lambda parent, title, text: warned.append((title, text)) or Box())
    assert not panel.mine.import_file(tmp_path / "bad.json") and len(store) == 5
    assert len(warned) == 1 and "bad.json" in warned[0][1] and "Nothing was added" in warned[0][1]
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)  # the damaged file is named in a dialog
    assert not panel.mine.import_file(tmp_path / "deep.json") and len(store) == 5
    assert len(warned) == 2 and "deep.json" in warned[1][1]
    assert panel.mine.import_file(tmp_path / "mine.json") and len(store) == 10
    panel.mine_button.click()
    assert panel.shown_dataset is session.dataset
