"""The training panel in a real MainWindow frame (only the training panel installed): controls, the worker thread,
live plots, pause / stop / live learning rate, and shutting down mid-run. Runs use a few hundred images and tiny
presets, so each test takes a second or two. The overlays, plot tools and weights view: test_training_plots.py."""

import numpy as np
import pyqtgraph as pg
import pytest

from mnist_studio.data.datasets import Dataset
from mnist_studio.gui.training.spinboxes import ladder_step
from mnist_studio.nn.spec import load_preset
from mnist_studio.training import TrainConfig
from training_steps import INVALID, RELU_LINEAR, configure, start_long_run, stop_and_wait, train


def test_invalid_spec_disables_start_and_shows_the_engines_message(qtbot, window, panel):
    c = panel.controls
    panel.session.set_spec(load_preset("logistic"))
    assert c.start_button.isEnabled()
    assert c.blocked_label.isHidden()

    panel.session.set_spec(INVALID)
    assert not c.start_button.isEnabled()
    assert not c.blocked_label.isHidden()
    assert "Flatten" in c.blocked_label.text() and "Layer 1" in c.blocked_label.text()
    assert "Flatten" in c.start_button.toolTip()
    c.start_button.click()  # disabled: nothing happens
    assert panel.state == "idle" and panel.thread is None

    panel.session.set_spec(load_preset("tiny-mlp"))
    assert c.start_button.isEnabled() and c.blocked_label.isHidden()


def test_defaults_follow_the_specs_training_block_but_layer_edits_keep_the_users_settings(window, panel):
    c = panel.controls
    panel.session.set_spec(load_preset("logistic"))  # sgd, lr 0.1, batch 64, 5 epochs
    assert (c.optimizer.currentData(), c.lr.value(), c.batch_size.value(), c.epochs.value()) == ("sgd", 0.1, 64, 5)
    c.lr.setValue(0.05)
    edited = load_preset("logistic")
    edited["layers"][1]["units"] = 10  # same training block: a designer edit
    edited["layers"].insert(1, {"type": "Dropout", "rate": 0.1})
    panel.session.set_spec(edited)
    assert c.lr.value() == pytest.approx(0.05)
    panel.session.set_spec(load_preset("lenet"))  # another preset: its own suggestions
    assert (c.optimizer.currentData(), c.lr.value(), c.epochs.value()) == ("adam", 0.001, 3)
    cfg = c.config()
    assert cfg.optimizer == "adam" and cfg.lr == pytest.approx(0.001) and cfg.limit is None


def test_config_round_trips_through_the_fields(window, panel):
    cfg = TrainConfig(optimizer="momentum", lr=0.02, momentum=0.8, nesterov=True, weight_decay=5e-4,
                      batch_size=48, epochs=7, loss="mse", schedule="step", step_epochs=2.0, gamma=0.3,
                      min_lr_factor=0.1, init="xavier", seed=42, augment=True, val_size=2000, limit=3000)
    panel.controls.set_config(cfg)
    assert panel.controls.config() == cfg
    fields = panel.controls.settings  # generated from the optimizers' schemas
    assert fields["momentum"].isEnabled() and fields["nesterov"].isEnabled()
    assert fields["beta1"].isHidden() and fields["rho"].isHidden()
    assert not panel.controls.gamma.isHidden() and panel.controls.min_lr.isHidden()
    panel.controls.optimizer.setCurrentIndex(panel.controls.optimizer.findData("adam"))
    assert not fields["momentum"].isEnabled() and fields["momentum"].isHidden()
    assert [n for n, f in fields.items() if not f.isHidden()] == ["beta1", "beta2", "eps", "decay_all"]
    adam = TrainConfig(optimizer="adam", lr=0.002, beta1=0.85, beta2=0.995, eps=1e-7, epochs=2)
    panel.controls.set_config(adam)
    assert panel.controls.config() == adam and panel.controls.config().make_optimizer().beta2 == 0.995
    rms = TrainConfig(optimizer="rmsprop", rho=0.95, eps=2e-6)
    panel.controls.set_config(rms)
    assert panel.controls.config() == rms and fields["rho"].isEnabled() and fields["beta1"].isHidden()
    adamw = TrainConfig(optimizer="adamw", weight_decay=0.01, decay_all=True)  # the PyTorch user's switches
    panel.controls.set_config(adamw)
    assert panel.controls.config() == adamw and fields["decay_all"].isEnabled() and not fields["beta1"].isHidden()
    assert panel.controls.config().make_optimizer().decoupled_decay


def test_log_spin_box_walks_a_1_2_5_ladder():
    assert ladder_step(0.001, 1, 1e-6, 10, False) == pytest.approx(0.002)
    assert ladder_step(0.002, 2, 1e-6, 10, False) == pytest.approx(0.01)
    assert ladder_step(0.003, -1, 1e-6, 10, False) == pytest.approx(0.002)
    assert ladder_step(1e-6, -1, 1e-6, 1, True) == 0.0
    assert ladder_step(0.0, 1, 1e-6, 1, True) == pytest.approx(1e-6)
    assert ladder_step(5.0, 3, 1e-6, 10, False) == pytest.approx(10.0)


# -- a short run -----------------------------------------------------------------------------------------------------

def test_short_training_feeds_the_plots_and_changes_the_weight_images(qtbot, window, panel):
    configure(panel, "logistic", epochs=2, batch_size=32, val_size=100)
    qtbot.waitUntil(lambda: panel.weights.picture is not None, timeout=3000)  # the untrained preview
    before = np.array(panel.weights.image_item.image, copy=True)
    assert before.shape == (3 * 28 + 2, 4 * 28 + 3)  # 10 units as 28×28 tiles: 3 rows of 4, 1 px gaps
    assert "untrained" in panel.weights.source_label.text()

    rec = train(qtbot, panel)
    per_epoch = -(-600 // 32)  # 700 images - 100 for validation
    assert rec.status == "finished" and rec.name == "Run 1 · logistic" and rec.dataset == "mini"
    assert rec.config.epochs == 2 and rec.config.batch_size == 32
    assert len(rec.history.epochs) == 2 and len(rec.history.series("loss")) == 2 * per_epoch
    assert set(rec.metrics) == {"val_accuracy", "val_loss", "train_accuracy", "train_loss"}
    assert rec.metrics["val_accuracy"] > 0.5

    panel.plots.flush()
    loss_plot = window.findChild(pg.PlotWidget, "lossPlot")
    acc_plot = window.findChild(pg.PlotWidget, "accuracyPlot")
    assert loss_plot is panel.plots.loss_plot and acc_plot is panel.plots.acc_plot
    x, y = panel.plots.curve_data("loss")
    assert len(x) == 2 * per_epoch and np.all(np.isfinite(y))
    assert x[-1] == pytest.approx(2.0) and np.all(np.diff(x) > 0)  # the x axis is in epochs
    xs, ys = panel.plots.curve_data("loss_smooth")
    assert len(ys) == len(y) and ys[-1] < ys[0]  # it learned
    assert len(panel.plots.curve_data("val_loss")[0]) == 2
    ax, ay = panel.plots.curve_data("accuracy")
    assert len(ax) == 2 * per_epoch and 0 <= ay.min() and ay.max() <= 100
    assert np.allclose(panel.plots.curve_data("val_accuracy")[1], [e["val_accuracy"] * 100 for e in rec.history.epochs])

    after = panel.weights.image_item.image
    assert after.shape == before.shape
    assert not np.allclose(np.nan_to_num(after), np.nan_to_num(before))  # the weights the view shows have moved
    assert np.array_equal(np.isnan(after), np.isnan(before))  # same tile layout
    lo, hi = panel.weights.colorbar.levels()
    assert lo == pytest.approx(-hi) and hi > 0  # diverging map centred on zero
    assert panel.session.model is not None and panel.session.model_source == "training"
    trained = panel.worker.trainer.model.state_dict()
    for k, v in panel.session.model.state_dict().items():
        assert np.array_equal(v, trained[k])  # the final weights reached the GUI copy
    assert panel.session.model is not panel.worker.trainer.model  # ... as a copy
    table = panel.weights.table
    assert table.rowCount() == 1 and table.item(0, 2).text() not in ("", "—")  # a gradient norm
    assert panel.controls.progress.overall_bar.value() == panel.controls.progress.overall_bar.maximum()
    assert panel.thread.isRunning() and panel.stop_token.stopped is False  # the run's worker waits for "+1 epoch"
    assert window.findChild(type(panel.controls), "trainingControls").more_button.isEnabled()


def test_batch_metrics_are_throttled_but_every_point_arrives(qtbot, window, panel):
    configure(panel, "logistic", epochs=2, batch_size=1, val_size=100)  # 1,200 batches in about a second
    rec = train(qtbot, panel)
    assert len(rec.history.series("loss")) == 1200
    assert panel.plots.point_count() == 1200
    assert 0 < panel.packets < 1200  # condensed into packets (at most ~10 a second: BATCH_INTERVAL)


def test_one_more_epoch_continues_the_same_run_in_the_same_worker(qtbot, window, panel):
    configure(panel, "logistic", epochs=1, batch_size=64, val_size=100)
    first = train(qtbot, panel)
    steps = len(first.history.series("loss"))
    worker, thread, trainer, token = panel.worker, panel.thread, panel.worker.trainer, panel.stop_token
    with qtbot.waitSignal(panel.session.runRecorded, timeout=30000) as blocker:
        panel.controls.more_button.click()
    more = blocker.args[0]
    assert panel.worker is worker and panel.thread is thread and thread.isRunning()
    assert worker.trainer is trainer and trainer.step == 2 * steps  # the trainer never left the worker's thread
    assert panel.stop_token is not token  # each fit has its own stop token
    assert more.id == first.id and more.name == first.name
    assert len(more.history.epochs) == 2 and more.config.epochs == 1  # as planned; the fits say the rest
    assert [(f["epochs"], f["end_step"]) for f in more.history.fits] == [(None, steps), (1, 2 * steps)]
    assert more.history.series("step")[-1] == 2 * steps  # the step count went on
    assert more.duration > first.duration
    assert panel.plots.point_count() == 2 * steps  # the curve was extended, not restarted


def test_train_requested_loads_the_config_and_starts(qtbot, window, panel):
    cfg = TrainConfig(optimizer="momentum", lr=0.02, momentum=0.8, batch_size=50, epochs=1, val_size=100, seed=3)
    with qtbot.waitSignal(panel.session.runRecorded, timeout=30000) as blocker:
        panel.session.request_training(load_preset("tiny-mlp"), cfg)
    rec = blocker.args[0]
    assert panel.controls.lr.value() == pytest.approx(0.02)
    assert panel.controls.optimizer.currentData() == "momentum" and panel.controls.batch_size.value() == 50
    assert rec.config.lr == pytest.approx(0.02) and rec.config.seed == 3 and rec.spec["name"] == "tiny-mlp"
    assert panel.session.spec["name"] == "tiny-mlp"


# -- steering a running run -----------------------------------------------------------------------------------------

def test_pause_holds_the_step_count_and_resume_continues(qtbot, window, panel):
    trainer = start_long_run(qtbot, panel)
    panel.controls.pause_button.click()
    assert panel.controls.pause_button.text() == "Resume" and panel.session.state == "paused"
    qtbot.wait(300)  # the batch in flight finishes
    held = trainer.step
    qtbot.wait(500)
    assert trainer.step == held
    panel.controls.pause_button.click()
    assert panel.controls.pause_button.text() == "Pause" and panel.session.state == "running"
    qtbot.waitUntil(lambda: trainer.step > held + 10, timeout=5000)
    rec = stop_and_wait(qtbot, panel)
    assert rec.status == "stopped"


def test_stop_ends_the_fit_and_keeps_the_weights_a_new_run_gets_a_new_worker(qtbot, window, panel):
    trainer = start_long_run(qtbot, panel)
    old_worker, old_thread = panel.worker, panel.thread
    rec = stop_and_wait(qtbot, panel)
    assert rec.status == "stopped" and "stopped by the user" in rec.message
    held = trainer.step
    qtbot.wait(200)
    assert trainer.step == held  # the fit is over; its worker idles, ready for "+1 epoch"
    assert panel.state == "idle" and panel.session.state == "idle"
    assert panel.controls.start_button.isEnabled() and not panel.controls.stop_button.isEnabled()
    for k, v in panel.session.model.state_dict().items():
        assert np.array_equal(v, trainer.model.state_dict()[k])
    configure(panel, "logistic", epochs=1, batch_size=64, val_size=100)
    train(qtbot, panel)
    assert panel.worker is not old_worker and old_thread.isFinished()  # the old run's thread was closed


def test_changing_the_learning_rate_mid_run_reaches_the_trainer_and_is_marked(qtbot, window, panel):
    trainer = start_long_run(qtbot, panel)
    panel.controls.lr.setValue(0.02)
    qtbot.waitUntil(lambda: len(panel.plots.lr_markers) == 1, timeout=5000)  # from the trainer's event
    change = trainer.history.lr_changes[0]
    assert change["lr"] == pytest.approx(0.02) and change["step"] >= 20
    assert trainer.optimizer.lr == pytest.approx(0.02)
    epoch, lr, line = panel.plots.lr_markers[0]
    assert lr == pytest.approx(0.02) and epoch == pytest.approx(change["epoch"])
    assert line.value() == pytest.approx(epoch) and "0.02" in line.label.toPlainText()
    assert line in panel.plots.loss_plot.getPlotItem().items
    qtbot.waitUntil(lambda: panel.plots.point_count() > change["step"] + 5, timeout=5000)
    stop_and_wait(qtbot, panel)


def test_closing_the_window_during_training_stops_cleanly(qtbot, window, panel):
    recorded = []
    panel.session.runRecorded.connect(recorded.append)
    start_long_run(qtbot, panel)
    thread = panel.thread
    window.close()
    assert thread.isFinished() and not thread.isRunning()
    assert len(recorded) == 1 and recorded[0].status == "stopped"  # the run is still recorded, not lost


def test_closing_during_validation_does_not_wait_for_it(qtbot, mnist, window, panel):
    """Validation on many images is the longest stretch without a batch boundary; a stop cuts it short."""
    big = Dataset("big", mnist.train_images[:20064], mnist.train_labels[:20064], mnist.test_images[:10],
                  mnist.test_labels[:10])
    panel.session.set_dataset(big)
    configure(panel, "lenet", epochs=1, batch_size=64, val_size=20000)  # one batch, then ~20 s of validation
    recorded = []
    panel.session.runRecorded.connect(recorded.append)
    panel.controls.start_button.click()
    qtbot.waitUntil(lambda: panel.worker.trainer is not None and panel.worker.trainer.epochs_done == 1,
                    timeout=20000)  # the batch is trained: now it validates
    window.close()
    assert panel.thread.isFinished()
    assert recorded and recorded[0].status == "stopped" and "validation" in recorded[0].message


# -- errors ----------------------------------------------------------------------------------------------------------

def test_a_diverged_run_says_so_and_keeps_the_restored_weights(qtbot, window, panel):
    configure(panel, RELU_LINEAR, epochs=2, batch_size=32, val_size=100)
    panel.controls.set_config(TrainConfig(optimizer="sgd", lr=50.0, loss="mse", epochs=2, batch_size=32, val_size=100))
    rec = train(qtbot, panel)
    assert rec.status == "diverged"
    assert not panel.banner.isHidden() and panel.banner.kind == "error"
    assert "diverged" in panel.banner.text() and "learning rate" in panel.banner.text()
    state = panel.session.model.state_dict()
    assert all(np.all(np.isfinite(v)) for v in state.values())
    for k, v in state.items():
        assert np.array_equal(v, panel.worker.trainer.model.state_dict()[k])
    assert panel.state == "idle" and panel.controls.start_button.isEnabled()


def test_a_finite_blow_up_is_shown_as_diverged_like_the_cli_says_it(qtbot, window, panel):
    """Logistic regression at SGD lr 50 never reaches NaN (its loss wanders in the hundreds): the smoothed-loss
    rule catches it, and the panel, the status bar and the run record all say "diverged", with the engine's words."""
    from PyQt6.QtWidgets import QLabel

    configure(panel, "logistic", epochs=3, batch_size=32, val_size=100)
    panel.controls.set_config(TrainConfig(optimizer="sgd", lr=50.0, epochs=3, batch_size=32, val_size=100))
    rec = train(qtbot, panel)
    losses = rec.history.series("loss")
    assert np.all(np.isfinite(losses)) and losses.max() > 50
    assert rec.status == "diverged" and rec.message.startswith("diverged: lower the learning rate (the smoothed loss")
    assert not panel.banner.isHidden() and panel.banner.kind == "error"
    assert rec.message[1:] in panel.banner.text()  # the engine's message, capitalised
    assert "diverged" in window.findChild(QLabel, "stateLabel").text()
    state = panel.session.model.state_dict()
    assert all(np.all(np.isfinite(v)) for v in state.values())


def test_a_run_that_cannot_start_explains_why(qtbot, window, panel):
    configure(panel, "logistic", epochs=1, val_size=5000)  # more than the 700 images
    with qtbot.waitSignal(panel.session.stateChanged, timeout=5000, check_params_cb=lambda s: s == "idle"):
        panel.controls.start_button.click()
    assert "validation size" in panel.banner.text()
    assert panel.state == "idle" and panel.controls.start_button.isEnabled()
