"""The model the views show and the designer's network, kept apart in words: an opened model brings its own run
(curves, settings, name); after loading another preset post-training, or after opening a file, the training tab
says what Start and "+1 epoch" will do."""

import numpy as np
import pytest

from mnist_studio.data.datasets import Dataset
from mnist_studio.gui import files, main_window, training
from mnist_studio.nn.model import Model
from mnist_studio.nn.spec import load_preset, same_layers
from mnist_studio.training import SettingChanged, TrainConfig
from mnist_studio.training.runstore import RunStore
from tests.test_runstore import make_record


@pytest.fixture
def window(qtbot, monkeypatch, mnist):
    monkeypatch.setattr(main_window, "_installers", lambda: [training.install, files.install])
    win = main_window.MainWindow()
    qtbot.addWidget(win)
    win.show()
    win.session.set_dataset(Dataset("mini", mnist.train_images[:700], mnist.train_labels[:700],
                                    mnist.test_images[:100], mnist.test_labels[:100]))
    yield win
    win.close()


@pytest.fixture
def run_file(tmp_path):
    """A model file written by the runs store for 'Run 3 · logistic' (SGD 0.05, batch 32, seed 3, 2 epochs)."""
    record = make_record("Run 3 · logistic", seed=3)
    record.history.add_change(SettingChanged(4, 1.0, "lr", 0.02))
    RunStore(tmp_path / "runs").save(record, Model(record.spec, seed=3))
    return record


def test_opening_a_model_shows_its_curves_settings_and_name(qtbot, window, run_file):
    panel = window.training_panel
    window.session.set_spec(load_preset("mlp-512-256"))  # something else in the designer and the controls first
    assert window.file_actions.open_model(run_file.model_path)
    plots = panel.plots
    np.testing.assert_array_equal(plots.loss.view(), run_file.history.series("loss"))
    np.testing.assert_array_equal(plots.epoch.view(), run_file.history.series("epoch"))
    assert [e.epoch for e in plots.epochs] == [1, 2] and plots.epochs[1].val_accuracy == pytest.approx(0.8)
    assert [(m[0], m[1]) for m in plots.lr_markers] == [(1.0, 0.02)]
    assert panel.controls.config() == run_file.config  # the run's settings, not the preset's suggestions
    assert panel.controls.lr.value() == pytest.approx(0.05) and panel.controls.batch_size.value() == 32
    name = window.session.model_name()
    assert name.startswith("Run 3 · logistic") and run_file.id in name  # its name, and the file it came from
    assert "Run 3 · logistic" in panel.weights.source_label.text()
    assert "Run 3 · logistic" in window.statusBar().currentMessage()

    bare = Model(load_preset("tiny-mlp"), seed=0)  # a file without history: no stale curves of the previous one
    from mnist_studio.nn.modelfile import save_model

    path = run_file.model_path.replace(".npz", "-bare.npz")
    save_model(path, bare)
    assert window.file_actions.open_model(path)
    assert plots.point_count() == 0 and plots.epochs == []
    assert window.session.model_name().endswith("-bare.npz")


def test_the_model_flag_opens_the_run_too(qtbot, window, run_file):
    window.open_initial(model=run_file.model_path)
    assert window.training_panel.plots.point_count() == 8
    assert window.training_panel.controls.config().seed == 3
    assert "Run 3 · logistic" in window.statusBar().currentMessage()
    notice = window.training_panel.notice  # Start does not continue the opened weights: it says so
    assert not notice.isHidden() and "Start trains logistic from scratch" in notice.text()
    assert "not continued" in notice.text()


def test_another_preset_after_training_says_what_start_and_more_do(qtbot, window):
    panel = window.training_panel
    c = panel.controls
    window.session.set_spec(load_preset("logistic"))
    c.set_config(TrainConfig(optimizer="sgd", lr=0.1, epochs=1, batch_size=64, val_size=100))
    with qtbot.waitSignal(window.session.runRecorded, timeout=30000) as blocker:
        c.start_button.click()
    run = blocker.args[0]
    assert panel.notice.isHidden()  # the designer's network is the one trained: nothing to explain
    window.session.set_spec(load_preset("tiny-mlp"))
    text = panel.notice.text()
    assert f"The current model is {run.name}, trained from another architecture (logistic)" in text
    assert "Start trains tiny-mlp from scratch" in text and f"+1 epoch continues {run.name}" in text
    assert run.name in c.more_button.toolTip() and c.more_button.isEnabled()
    assert window.session.model.spec["name"] == "logistic"  # the views still show the trained model...
    assert run.name in panel.weights.source_label.text()  # ... and say which
    with qtbot.waitSignal(window.session.runRecorded, timeout=30000) as blocker:
        c.more_button.click()  # continues the old run, as the notice says
    assert blocker.args[0].id == run.id and blocker.args[0].spec["name"] == "logistic"
    assert "+1 epoch continues" in panel.notice.text()
    window.session.set_spec(load_preset("logistic"))  # back to the trained architecture
    assert panel.notice.isHidden()
    assert same_layers(load_preset("logistic"), dict(load_preset("logistic"), name="renamed"))
    assert not same_layers(load_preset("logistic"), load_preset("tiny-mlp"))
