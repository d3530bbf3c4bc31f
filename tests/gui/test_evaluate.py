"""The Evaluate tab: confusion matrix, cell gallery, per-class table, threshold, background evaluation."""


import numpy as np
import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QLabel, QMainWindow, QMenu, QTabWidget

from mnist_studio.data.datasets import Dataset, to_float
from mnist_studio.data.stats import mean_images
from mnist_studio.gui import evaluate as evaluate_tab
from mnist_studio.gui.evaluate.matrix import cell_colour
from mnist_studio.gui.evaluate.panel import EvaluatePanel
from mnist_studio.gui.session import StudioSession
from mnist_studio.nn.model import Model
from mnist_studio.nn.spec import load_preset
from mnist_studio.training.metrics import Evaluation, confusion_matrix, evaluate


def template_model(ds, scale=5.0):
    """Logistic regression with each class's mean image as its weights (hand-set, ~57 % on MNIST)."""
    model = Model(load_preset("logistic"))
    means = mean_images(ds.train_images[:2000], ds.train_labels[:2000]) / 255
    model.load_state_dict({"1.W": ((means - means.mean(0)).reshape(10, 784).T * scale).astype(np.float32),
                           "1.b": np.zeros(10, np.float32)})
    return model


def hand_evaluation(labels, predictions, confidence):
    labels, predictions = np.array(labels, np.int64), np.array(predictions, np.int64)
    conf = np.array(confidence, np.float32)
    probs = np.repeat(((1 - conf) / 9)[:, None], 10, axis=1).astype(np.float32)
    probs[np.arange(len(labels)), predictions] = conf
    return Evaluation(float(np.mean(labels == predictions)), 0.25, confusion_matrix(labels, predictions), probs,
                      labels, predictions)


# 12 images: true/predicted pairs with known counts; (3 → 5) three times, (5 → 3) once
LABELS = [3, 3, 3, 3, 5, 5, 5, 8, 8, 1, 3, 0]
PREDS = [3, 5, 5, 3, 5, 3, 5, 8, 1, 1, 5, 0]
CONF = [0.9, 0.6, 0.99, 0.85, 0.8, 0.7, 0.95, 0.5, 0.65, 0.97, 0.75, 0.88]


@pytest.fixture
def small_ds(mnist):
    return Dataset("small MNIST", mnist.train_images[:600], mnist.train_labels[:600], mnist.test_images[:300],
                   mnist.test_labels[:300])


@pytest.fixture
def session(small_ds):
    s = StudioSession()
    s.set_dataset(small_ds)
    return s


@pytest.fixture
def panel(qtbot, session):
    p = EvaluatePanel(session)
    qtbot.addWidget(p)
    p.resize(1300, 800)
    p.show()
    yield p
    p.shutdown()


@pytest.fixture
def shown(panel, mnist):
    images = mnist.test_images[:len(LABELS)]
    ev = hand_evaluation(LABELS, PREDS, CONF)
    panel.show_evaluation(ev, images, tuple(str(d) for d in range(10)), "hand-made", "test model")
    return panel, ev, images


def test_no_model_says_what_to_do(panel):
    assert panel.pages.currentIndex() == 0
    assert "Open a model file" in panel.message.text() and "Evaluate" in panel.message.text()
    assert not panel.evaluate_button.isEnabled() and not panel.robustness_button.isEnabled()


def test_matrix_shows_the_counts_and_colours_of_a_known_evaluation(shown):
    panel, ev, _ = shown
    m = panel.matrix
    assert panel.pages.currentIndex() == 1
    assert m.count(3, 5) == 3 and m.count(3, 3) == 2 and m.count(5, 3) == 1 and m.count(8, 1) == 1
    assert m.count(2, 2) == 0 and int(np.sum(m.confusion)) == 12
    img = m.grab().toImage()
    for t, p in [(3, 5), (3, 3), (0, 0), (2, 7)]:
        r = m.cell_rect(t, p)
        expected = cell_colour(m.count(t, p), int(ev.confusion[t].sum()), t == p)
        assert img.pixelColor(r.left() + 3, r.top() + 3).name() == expected.name()
        # the count is written in the middle of the cell: some pixels there differ from the background
        centre = [img.pixelColor(x, y).name() for x in range(r.center().x() - 4, r.center().x() + 5)
                  for y in range(r.center().y() - 4, r.center().y() + 5)]
        assert any(c != expected.name() for c in centre)
    assert "predicted" in m.describe_cell(3, 5) and "3 images" in m.describe_cell(3, 5)
    assert "58.3%" in panel.summary.text() and "5 mistakes" in panel.summary.text()  # 7 of 12 right


def test_clicking_a_cell_opens_a_gallery_of_exactly_its_images(qtbot, shown):
    panel, ev, images = shown
    QTest.mouseClick(panel.matrix, Qt.MouseButton.LeftButton, pos=panel.matrix.cell_rect(3, 5).center())
    g = panel.gallery
    assert g is not None and g.isVisible()
    assert sorted(g.indices.tolist()) == [1, 2, 10]
    assert g.indices.tolist() == [2, 10, 1]  # most confident first: 0.99, 0.75, 0.6
    assert np.array_equal(g.grid.images, images[[2, 10, 1]])
    assert g.grid.captions[0] == "3 → 5\n99%"
    assert "3" in g.windowTitle() and "5" in g.windowTitle()
    QTest.mouseClick(panel.matrix, Qt.MouseButton.LeftButton, pos=panel.matrix.cell_rect(8, 8).center())
    assert g.indices.tolist() == [7] and len(g.grid) == 1
    QTest.mouseClick(panel.matrix, Qt.MouseButton.LeftButton, pos=panel.matrix.cell_rect(4, 4).center())
    assert len(g.grid) == 0


def test_clicking_a_gallery_image_sends_it_to_the_drawing_pad(qtbot, shown, session):
    panel, ev, images = shown
    QTest.mouseClick(panel.matrix, Qt.MouseButton.LeftButton, pos=panel.matrix.cell_rect(3, 5).center())
    grid = panel.gallery.grid
    with qtbot.waitSignal(session.inspectImage, timeout=1000) as blocker:
        QTest.mouseClick(grid, Qt.MouseButton.LeftButton, pos=grid.tile_rect(1).center())
    img, caption = blocker.args
    assert img.dtype == np.float32 and img.shape == (28, 28)
    assert np.array_equal(img, to_float(images[10]))
    assert "#10" in caption and "true 3" in caption and "predicted 5" in caption


def test_confident_mistakes_grid_lists_wrong_answers_surest_first(qtbot, shown, session):
    panel, ev, images = shown
    assert panel.mistake_indices.tolist() == [2, 10, 5, 8, 1]  # 0.99, 0.75, 0.7, 0.65, 0.6
    assert len(panel.mistakes) == 5 and panel.mistakes.captions[2] == "5 → 3\n70%"
    panel.views.setCurrentIndex(1)
    grid = panel.mistakes
    with qtbot.waitSignal(session.inspectImage, timeout=1000) as blocker:
        QTest.mouseClick(grid, Qt.MouseButton.LeftButton, pos=grid.tile_rect(3).center())
    assert np.array_equal(blocker.args[0], to_float(images[8]))


def test_per_class_table_matches_hand_computed_precision_recall_f1(shown):
    panel, ev, _ = shown
    table = panel.class_table
    assert table.rowCount() == 11
    labels, preds = np.array(LABELS), np.array(PREDS)
    for c in (3, 5, 1, 8):
        tp = int(np.sum((labels == c) & (preds == c)))
        precision = tp / max(1, int(np.sum(preds == c)))
        recall = tp / max(1, int(np.sum(labels == c)))
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0
        assert table.item(c, 0).text() == str(c)
        assert table.item(c, 1).text() == str(int(np.sum(labels == c)))
        assert table.item(c, 2).text() == f"{precision:.1%}"
        assert table.item(c, 3).text() == f"{recall:.1%}"
        assert table.item(c, 4).text() == f"{f1:.1%}"
    # class 3: 2 right of 5, predicted 3 three times -> precision 66.7 %, recall 40 %, F1 50 %
    assert [table.item(3, k).text() for k in (2, 3, 4)] == ["66.7%", "40.0%", "50.0%"]
    assert table.item(3, 5).text() == "5 (3×)"
    assert table.item(10, 0).text() == "average"


def test_threshold_slider_updates_the_coverage_sentence(shown):
    panel, ev, _ = shown
    panel.threshold_slider.setValue(80)
    # confidences >= 0.8: 0.9 ✓, 0.99 ✗, 0.85 ✓, 0.8 ✓, 0.95 ✓, 0.97 ✓, 0.88 ✓ -> 7 answered, 6 right
    text = panel.coverage_sentence.text()
    assert f"answers {7 / 12:.1%} of the images, right on {6 / 7:.1%} of those" in text
    assert "7 of 12 answered" in text
    assert abs(panel.threshold_line.value() - 80) < 0.01
    panel.threshold_slider.setValue(0)
    assert "answers 100.0% of the images, right on 58.3% of those" in panel.coverage_sentence.text()
    panel.threshold_line.setValue(96)  # dragging the line moves the slider
    assert panel.threshold_slider.value() == 96
    assert "answers 16.7% of the images, right on 50.0% of those" in panel.coverage_sentence.text()
    xs, ys = panel.coverage_curve.getData()
    assert len(xs) == 100 and ys[0] == 100.0


def test_opening_a_model_evaluates_it_in_the_background_and_the_thread_is_cleaned_up(qtbot, panel, session,
                                                                                    small_ds, mnist):
    model = template_model(mnist)
    with qtbot.waitSignal(panel.evaluated, timeout=20000):
        session.set_model(model, "/tmp/template.npz")
        assert panel.runner.busy("evaluate")
    expected = evaluate(model, small_ds.test_images, small_ds.test_labels)
    assert panel.evaluation.accuracy == expected.accuracy
    assert np.array_equal(panel.evaluation.confusion, expected.confusion)
    assert np.array_equal(panel.matrix.confusion, expected.confusion)
    assert panel.pages.currentIndex() == 1 and not panel.stale_label.isVisible()
    assert f"{expected.accuracy:.1%}" in panel.summary.text() and "template.npz" in panel.summary.text()
    thread = panel.runner.thread
    assert thread.isRunning()
    panel.shutdown()
    assert thread.isFinished() and not thread.isRunning() and panel.runner.thread is None


def test_robustness_is_computed_in_the_background_and_plotted(qtbot, panel, session, mnist):
    model = template_model(mnist)
    session.set_model(model, "training")  # no automatic evaluation for a model in training
    assert not panel.runner.busy("evaluate")
    panel.subset_combo.setCurrentIndex(0)  # 250 images
    with qtbot.waitSignal(panel.robustnessDone, timeout=30000):
        QTest.mouseClick(panel.robustness_button, Qt.MouseButton.LeftButton)
    rep = panel.robustness_report
    assert rep.images == 250
    xs, ys = panel.robustness_view.plots["rotation"].curve.getData()
    assert list(xs) == list(rep.curves["rotation"].values)
    assert np.allclose(ys, 100 * rep.curves["rotation"].accuracy)
    assert ys[list(xs).index(0.0)] == pytest.approx(100 * rep.plain_accuracy)
    noise = rep.curves["noise"].accuracy
    assert noise[-1] < noise[0]
    assert "250 test images" in panel.robustness_status.text()


def test_training_snapshots_mark_results_stale_without_re_evaluating(qtbot, shown, session, mnist):
    panel, ev, _ = shown
    model = template_model(mnist)
    session.set_model(model, "training")
    assert panel.state == "stale" and panel.stale_label.isVisible() and "previous model" in panel.note
    panel.show_evaluation(ev, panel.images, panel.class_names)  # results for these weights: fresh again
    assert panel.state == "fresh" and not panel.stale_label.isVisible()
    session.update_weights(model.state_dict())
    assert panel.state == "stale" and "changed the weights" in panel.note and not panel.runner.busy("evaluate")
    assert panel.evaluation is ev and panel.pages.currentIndex() == 1  # old results stay visible, marked stale
    with qtbot.waitSignal(panel.evaluated, timeout=20000):
        session.record_run(object())  # the run ended: evaluate the final weights
        assert panel.state == "running" and panel.progress.isVisible()
        assert "changed the weights" in panel.note  # the stale results keep their note until replaced
    assert panel.evaluation is not ev and panel.state == "fresh" and not panel.stale_label.isVisible()
    second = panel.evaluation
    session.record_run(object())
    assert panel.runner.busy("evaluate") and panel.state == "running" and not panel.stale_label.isVisible()
    session.set_state("running")  # "+1 epoch": the evaluation gives the CPU back to the trainer
    assert not panel.runner.busy("evaluate") and panel.state == "stale" and "Training resumed" in panel.note
    assert not panel.progress.isVisible()
    qtbot.wait(300)
    assert panel.evaluation is second  # the cancelled job's result never arrives


def test_the_state_goes_idle_running_fresh_stale_and_back(qtbot, panel, session, mnist):
    """One walk through every state, checking what each one shows."""
    assert panel.state == "idle" and panel.pages.currentIndex() == 0 and "No model yet" in panel.message.text()
    session.set_model(template_model(mnist), "training")  # no results yet, training: a message, no evaluation
    assert panel.state == "idle" and "Training is running" in panel.message.text()
    assert not panel.runner.busy("evaluate")
    panel.evaluate_button.click()
    assert panel.state == "running" and panel.progress.isVisible() and panel.pages.currentIndex() == 0
    assert panel.message.text().startswith("Testing")
    session.set_state("running")  # training resumed before the first results: back to the message
    assert panel.state == "idle" and "Training is running" in panel.message.text()
    assert not panel.progress.isVisible() and not panel.runner.busy("evaluate")
    with qtbot.waitSignal(panel.evaluated, timeout=20000):
        session.set_model(template_model(mnist), "/tmp/template.npz")  # a file: tested at once
        assert panel.state == "running"
    assert panel.state == "fresh" and panel.pages.currentIndex() == 1 and not panel.progress.isVisible()
    other = Dataset("other", mnist.train_images[:10], mnist.train_labels[:10], mnist.test_images[:40],
                    mnist.test_labels[:40])
    session.set_dataset(other)
    assert panel.state == "stale" and "other" in panel.note and panel.stale_label.isVisible()
    with qtbot.waitSignal(panel.evaluated, timeout=20000):
        panel.evaluate_button.click()
    assert panel.state == "fresh" and len(panel.evaluation.labels) == 40
    panel.runner.failed.emit("evaluate", "no memory left")  # a failure keeps the results, marked
    assert panel.state == "stale" and "Could not evaluate: no memory left" in panel.note
    session.set_model(None)
    assert panel.state == "idle" and panel.evaluation is None and panel.pages.currentIndex() == 0
    assert "No model yet" in panel.message.text() and not panel.evaluate_button.isEnabled()


def test_closing_during_an_evaluation_stops_within_a_chunk(qtbot, panel, session, mnist):
    chunks = []  # appended in the worker thread as each 500-image chunk starts

    class Counting(Model):
        def predict_proba(self, x, batch_size=500):
            chunks.append(len(x))
            return super().predict_proba(x, batch_size)

        def copy(self):  # the runner evaluates a copy: keep counting on it
            other = Counting(self.spec, seed=self.seed)
            other.load_state_dict(self.state_dict())
            return other

    big = Dataset("big", mnist.train_images[:10], mnist.train_labels[:10], mnist.test_images, mnist.test_labels)
    session.set_dataset(big)
    session.set_model(Counting(load_preset("lenet")), "/tmp/lenet.npz")  # starts a several-second evaluation
    qtbot.waitUntil(lambda: len(chunks) >= 1, timeout=10000)
    thread = panel.runner.thread
    started = len(chunks)
    panel.shutdown()
    assert thread.isFinished() and panel.evaluation is None
    assert len(chunks) <= started + 1 < 20  # the chunk in flight finished (maybe one more began): not 20 of them


def test_install_adds_the_tab_and_inspecting_sends_the_image_to_the_pad(qtbot, shown, session):
    panel, _, images = shown
    w = QMainWindow()
    qtbot.addWidget(w)
    w.session = session
    w.tabs = QTabWidget()
    w.setCentralWidget(w.tabs)
    w.menus = {name: QMenu(name, w) for name in ("File", "Edit", "View", "Train", "Help")}
    w.close_hooks = []
    w.tabs.addTab(QLabel("draw"), "Draw")
    installed = evaluate_tab.install(w)
    try:
        assert w.tabs.tabText(1) == "Evaluate" and w.tabs.widget(1) is installed
        assert any(a.objectName() == "evaluateModelAction" for a in w.menus["Train"].actions())
        assert installed.shutdown in w.close_hooks
        w.tabs.setCurrentIndex(1)
        installed.show_evaluation(hand_evaluation(LABELS, PREDS, CONF), images, tuple("0123456789"))
        with qtbot.waitSignal(session.inspectImage) as blocker:  # the Draw tab (not installed here) listens
            installed.inspect_index(4)
        assert np.array_equal(blocker.args[0], to_float(images[4])) and "true 5" in blocker.args[1]
    finally:
        installed.shutdown()
