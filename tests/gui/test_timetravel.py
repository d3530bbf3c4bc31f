"""Time travel in the window (issue 13, item 3): a run trained in the training tab keeps its checkpoints; the
scrubber moves the whole studio to one of them (weights view, test strip, the Draw tab's answer, the Evaluate
tab's confusion matrix, each from the checkpoint's exact weights) and back to the latest; each checkpoint's
confusion matrix is computed once in the background and equals a fresh evaluation; the drawing is watched through
every checkpoint; a run reopened from the Runs list (and one recorded before checkpoints) can be scrubbed."""

import numpy as np
import pytest
from PyQt6.QtWidgets import QDockWidget

from mnist_studio.data.datasets import Dataset, to_float
from mnist_studio.gui import draw, evaluate, main_window, runs, timetravel, training
from mnist_studio.nn.spec import load_preset
from mnist_studio.training import TrainConfig
from mnist_studio.training.metrics import evaluate as fresh_evaluation
from mnist_studio.training.teststrip import strip_probabilities
from mnist_studio.training.timetravel import model_at
from tests.gui.test_draw import VERTICAL, draw as draw_strokes
from tests.test_runstore import make_record


@pytest.fixture
def mini(mnist):
    return Dataset("mini", mnist.train_images[:640], mnist.train_labels[:640], mnist.test_images[:300],
                   mnist.test_labels[:300])


@pytest.fixture
def make_window(qtbot, monkeypatch, mini, mnist):
    monkeypatch.setattr(main_window, "_installers", lambda: [training.install, runs.install, draw.install,
                                                             evaluate.install, timetravel.install])
    made = []

    def make():
        win = main_window.MainWindow()
        qtbot.addWidget(win)
        win.resize(1400, 900)
        win.show()
        win.session.set_dataset(mini)
        made.append(win)
        return win

    yield make
    for win in made:
        win.close()


def train_run(qtbot, win):
    """tutorial-cnn, 2 epochs of 540 images (17 batches of 32) on the mini dataset; returns its record."""
    win.session.set_spec(load_preset("tutorial-cnn"))
    win.training_panel.controls.set_config(TrainConfig(optimizer="adam", lr=3e-3, epochs=2, batch_size=32,
                                                       val_size=100, seed=2))
    with qtbot.waitSignal(win.session.runRecorded, timeout=60000) as blocker:
        win.training_panel.controls.start_button.click()
    return blocker.args[0]


def test_scrubbing_moves_the_whole_studio_to_a_checkpoint_and_back(qtbot, make_window, mini):
    win = make_window()
    tt = win.time_travel
    assert tt.slider.objectName() == "timeScrubber" and not tt.slider.isEnabled()
    record = train_run(qtbot, win)
    session = win.session
    latest = session.model
    steps = [c.step for c in tt.checkpoints]
    assert steps == [0, 1, 3, 8, 17, 34] and [c.step for c in record.checkpoints] == steps
    assert win.run_store.checkpoints_path(record.id).is_file()
    assert tt.slider.isEnabled() and (tt.slider.minimum(), tt.slider.maximum(), tt.slider.value()) == (0, 5, 5)
    assert tt.scrubber.ticks.texts == ["0", ".06", ".18", ".47", "1", "2"]
    # each checkpoint's readings are computed once in the background; they equal a fresh evaluation
    qtbot.waitUntil(lambda: len(tt.results) == 6, timeout=60000)
    for c in tt.checkpoints:
        model = model_at(record.spec, c)
        fresh = fresh_evaluation(model, mini.test_images, mini.test_labels)
        np.testing.assert_array_equal(tt.results[c.step].confusion, fresh.confusion)
        assert tt.results[c.step].evaluation.accuracy == fresh.accuracy

    # draw a 1 on the pad, then go back to the first epoch's 20 % checkpoint
    win.tabs.setCurrentWidget(win.draw_panel)
    draw_strokes(win.draw_panel.pad, VERTICAL)
    qtbot.waitUntil(lambda: win.draw_panel.explanation is not None)
    tt.slider.setValue(3)
    c = tt.checkpoints[3]
    assert session.moment is not None and session.moment.step == c.step == 8
    assert session.model_source == "checkpoint" and session.model is not latest
    notice = win.training_panel.notice  # the Training tab says what is shown and what Start / +1 epoch do now
    assert not notice.isHidden() and c.label() in notice.text() and "Back to latest" in notice.text()
    assert "opened weights" not in notice.text()
    at = model_at(record.spec, c)
    for k, v in at.state_dict().items():
        np.testing.assert_array_equal(session.model.state_dict()[k], v)
    # the test strip reads the checkpoint's model
    strip = win.training_panel.strip
    expected = strip_probabilities(at, strip.images)
    np.testing.assert_allclose(strip.predictions.probabilities, expected, atol=1e-6)
    np.testing.assert_array_equal(strip.predictions.predicted, at.predict(strip.images.reshape(len(expected), -1)))
    # so does the weights view, the Draw tab's answer, and the Evaluate tab (its cached evaluation, at once)
    assert win.training_panel.weights.model is session.model
    assert "at epoch" in win.training_panel.weights.source_label.text()
    image = win.draw_panel.stages.centred
    np.testing.assert_allclose(win.draw_panel.explanation.probabilities,
                               at.predict_proba(image.reshape(1, -1))[0], atol=1e-6)
    ev = win.evaluate_panel
    assert ev.evaluation is tt.results[8].evaluation and ev.state == "fresh"
    np.testing.assert_array_equal(ev.matrix.confusion, tt.results[8].confusion)

    # "watch it learn": one point per checkpoint, the current moment marked
    qtbot.waitUntil(lambda: len(tt.watch.probabilities) == 6, timeout=20000)
    expected = np.stack([model_at(record.spec, k).predict_proba(image.reshape(1, -1))[0] for k in tt.checkpoints])
    np.testing.assert_allclose(tt.watch.probabilities, expected, atol=1e-6)
    final = int(expected[-1].argmax())
    xs, ys = tt.watch.curves[final].getData()
    assert len(xs) == len(ys) == 6
    np.testing.assert_allclose(ys, expected[:, final], atol=1e-6)

    # another checkpoint: the strip changes with it
    tt.slider.setValue(0)
    untrained = model_at(record.spec, tt.checkpoints[0])
    np.testing.assert_allclose(strip.predictions.probabilities, strip_probabilities(untrained, strip.images),
                               atol=1e-6)

    # back to latest
    assert tt.scrubber.latest_button.isEnabled()
    tt.scrubber.latest_button.click()
    assert session.moment is None and session.model is latest and session.model_source == "training"
    assert tt.slider.value() == 5 and not tt.scrubber.latest_button.isEnabled()
    assert c.label() not in notice.text() or notice.isHidden()
    np.testing.assert_allclose(strip.predictions.probabilities, strip_probabilities(latest, strip.images),
                               atol=1e-6)
    assert win.training_panel.weights.model is latest


def test_a_run_reopened_from_the_runs_list_is_scrubbed_and_an_old_one_opens(qtbot, make_window, mini):
    win = make_window()
    record = train_run(qtbot, win)
    old = make_record(name="from before checkpoints")
    win.run_store.save(old, model_at(old.spec, type(record.checkpoints[0])(0, 0.0, None,
                                                                             _logistic_state())))
    win.close()

    again = make_window()
    panel = again.findChild(QDockWidget, "runsDock").widget()
    tt = again.time_travel
    assert not tt.checkpoints
    item = panel._item(record.id)
    panel.tree.setCurrentItem(item)
    panel.open_selected()
    assert [c.step for c in tt.checkpoints] == [0, 1, 3, 8, 17, 34]
    assert all(c.state is not None for c in tt.checkpoints)
    tt.slider.setValue(4)  # the end of epoch 1: its validation accuracy, exactly
    c = tt.checkpoints[4]
    assert c.val_accuracy == record.history.epochs[0]["val_accuracy"]
    assert again.session.moment.step == 17 and again.session.model_info.run_id == record.id
    tt.scrubber.latest_button.click()

    panel.tree.setCurrentItem(panel._item(old.id))
    panel.open_selected()
    assert again.session.model is not None and tt.checkpoints == []
    assert not tt.slider.isEnabled() and "without checkpoints" in tt.scrubber.status.text()


def _logistic_state():
    from mnist_studio.nn.model import Model

    return Model(load_preset("logistic"), seed=5).state_dict()


def test_scrubbing_while_a_run_trains_keeps_the_run_going_and_saves_its_latest_weights(qtbot, make_window):
    win = make_window()
    panel, tt, session = win.training_panel, win.time_travel, win.session
    session.set_spec(load_preset("logistic"))
    panel.controls.set_config(TrainConfig(optimizer="sgd", lr=0.01, epochs=200, batch_size=1, val_size=100))
    panel.controls.start_button.click()
    # 540 batches an epoch: checkpoints at steps 0, 5 (1 %), 27 (5 %), ... arrive while it trains
    qtbot.waitUntil(lambda: len(tt.checkpoints) >= 3, timeout=20000)
    assert [c.step for c in tt.checkpoints[:3]] == [0, 5, 27] and tt.slider.isEnabled()
    tt.slider.setValue(1)
    at = tt.checkpoints[1]
    assert session.moment.step == 5 and session.state == "running"
    np.testing.assert_array_equal(session.model.state_dict()["1.W"], at.state["1.W"])
    live = session.latest_model()
    assert live is panel._gui_model and live is not session.model
    before = live.state_dict()["1.W"].copy()
    qtbot.waitUntil(lambda: not np.array_equal(live.state_dict()["1.W"], before), timeout=20000)  # snapshots go on
    np.testing.assert_array_equal(session.model.state_dict()["1.W"], at.state["1.W"])  # the views stay at step 5
    assert tt.slider.value() == 1
    with qtbot.waitSignal(session.runRecorded, timeout=30000) as blocker:
        panel.controls.stop_button.click()
    record = blocker.args[0]
    assert session.moment is not None  # still looking at step 5
    saved = win.run_store.load_model(win.run_store.get(record.id)).model
    np.testing.assert_array_equal(saved.state_dict()["1.W"], live.state_dict()["1.W"])  # the run's own weights
    assert not np.array_equal(saved.state_dict()["1.W"], at.state["1.W"])
    assert tt.checkpoints[-1].step == record.history.fits[-1]["end_step"]  # where it stopped is a checkpoint
    tt.scrubber.latest_button.click()
    assert session.model is live and session.moment is None
