"""Labels that must say what is true now (issue 10 item 10): captions written while a run trains are replaced when
it ends, and a layer has the same number in the designer and in the weights view."""

import pytest
from PyQt6.QtCore import Qt

from mnist_studio.data.datasets import Dataset
from mnist_studio.gui import designer, draw, main_window, training
from mnist_studio.gui.designer import DesignerPanel
from mnist_studio.nn.spec import load_preset


@pytest.fixture
def window(qtbot, monkeypatch, mnist):
    monkeypatch.setattr(main_window, "_installers", lambda: [designer.install, training.install, draw.install])
    win = main_window.MainWindow()
    qtbot.addWidget(win)
    win.show()
    win.session.set_dataset(Dataset("mini", mnist.train_images[:600], mnist.train_labels[:600],
                                    mnist.test_images[:100], mnist.test_labels[:100]))
    yield win
    win.close()


def test_training_captions_end_with_the_run(qtbot, window):
    panel = window.training_panel
    window.session.set_spec(load_preset("logistic"))
    c = panel.controls
    c.epochs.setValue(1)
    c.batch_size.setValue(32)
    c.val_size.setValue(100)
    seen = []
    window.session.weightsUpdated.connect(lambda _m: seen.append((window.session.state,
                                                                  panel.weights.source_label.text(),
                                                                  window.draw_panel.model_label.text())))
    with qtbot.waitSignal(window.session.runRecorded, timeout=30000) as blocker:
        c.start_button.click()
    record = blocker.args[0]
    running = [s for s in seen if s[0] == "running"]
    assert running and running[0][1].endswith("· training") and "being trained now" in running[0][2]
    assert window.session.state == "idle"
    weights_caption = panel.weights.source_label.text()
    draw_caption = window.draw_panel.model_label.text()
    assert "training" not in weights_caption and weights_caption == f"{record.name} · finished"
    assert "being trained" not in draw_caption and "trained in this session" in draw_caption


def test_a_layer_has_the_same_number_in_the_designer_and_the_weights_view(qtbot, window):
    window.session.set_spec(load_preset("lenet"))
    qtbot.waitUntil(lambda: window.training_panel.weights.layer_combo.count() > 0, timeout=5000)
    designer_rows = window.findChild(DesignerPanel).view.model()
    numbers = {}
    for row in range(designer_rows.rowCount()):
        number = designer_rows.index(row, 0).data(Qt.ItemDataRole.DisplayRole)
        kind = designer_rows.index(row, 1).data(Qt.ItemDataRole.DisplayRole)
        numbers[int(number)] = str(kind).split("\n")[0]
    combo = window.training_panel.weights.layer_combo
    labels = [combo.itemText(i) for i in range(combo.count())]
    assert labels[0].startswith("1 · Conv2D")  # lenet's first row
    for label in labels:
        number, rest = label.split(" · ", 1)
        assert numbers[int(number)] in rest, (label, numbers)
    table = window.training_panel.weights.table
    assert [table.item(r, 0).text() for r in range(table.rowCount())] == labels


def test_the_draw_tabs_dashed_line_is_labelled_and_is_evaluates_threshold(qtbot, monkeypatch):
    import numpy as np

    from mnist_studio.gui import evaluate

    monkeypatch.setattr(main_window, "_installers", lambda: [draw.install, evaluate.install])
    win = main_window.MainWindow()
    qtbot.addWidget(win)
    answer, slider = win.draw_panel.answer, win.findChild(evaluate.EvaluatePanel).threshold_slider
    line = answer.chart.threshold
    assert slider.value() == 60 and line.value() == pytest.approx(0.6)  # one threshold, the same at the start
    assert line.label.format == "not sure below 60%" and line.label.isVisible()
    probs = np.array([0.7, 0.3] + [0.0] * 8, np.float32)
    answer.show_answer(probs)
    assert answer.confidence.text() == "70% sure"
    slider.setValue(80)  # Evaluate's "answer only when at least 80 % sure"
    assert win.session.threshold == pytest.approx(0.8)
    assert line.value() == pytest.approx(0.8) and line.label.format == "not sure below 80%"
    answer.show_answer(probs)
    assert answer.confidence.text().startswith("not sure")
    win.session.set_threshold(0.55)  # and the other way: the slider follows the studio's threshold
    assert slider.value() == 55
    win.close()
