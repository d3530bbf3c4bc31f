"""Knobs while training in the window (issue 13 item 9): momentum, weight decay, augmentation and batch size are
live while a run trains, each change reaches the trainer through the worker, is marked on the loss curve with what
changed, and Re-run replays it to the same curve."""

import numpy as np
import pytest

from mnist_studio.nn.spec import load_preset
from mnist_studio.training import RunHistory, TrainConfig
from tests.gui.test_run_lifecycle import make_window, mini, recorded, runs_panel  # noqa: F401 (fixtures)


def long_run(qtbot, win, optimizer="sgd", lr=0.01):
    """Logistic regression, one image per batch (600 batches an epoch): long enough to steer while it runs."""
    panel = win.training_panel
    win.session.set_spec(load_preset("logistic"))
    panel.controls.set_config(TrainConfig(optimizer=optimizer, lr=lr, epochs=200, batch_size=1, val_size=100))
    panel.controls.start_button.click()
    qtbot.waitUntil(lambda: panel.worker.trainer is not None and panel.worker.trainer.step >= 20, timeout=10000)
    return panel.worker.trainer


def fields(panel):
    c = panel.controls
    return c, {name: c.settings[name] for name in c.settings}


def test_momentum_weight_decay_augmentation_and_batch_size_while_training_and_rerun(qtbot, make_window):
    win = make_window()
    panel, rp = win.training_panel, runs_panel(win)
    trainer = long_run(qtbot, win, optimizer="momentum")  # batch 1: 600 batches an epoch
    c, s = fields(panel)
    assert s["momentum"].isEnabled() and not s["nesterov"].isEnabled()  # live, and fixed while training
    assert c.weight_decay.isEnabled() and c.augment.isEnabled() and c.batch_size.isEnabled()
    assert not c.optimizer.isEnabled() and not c.epochs.isEnabled() and not c.seed.isEnabled()
    history = trainer.history
    s["momentum"].setValue(0.5)
    qtbot.waitUntil(lambda: len(history.setting_changes) == 1, timeout=5000)
    assert trainer.optimizer.momentum == 0.5 and trainer.optimizer.settings["momentum"] == 0.5
    c.weight_decay.setValue(1e-4)
    c.augment.setCurrentIndex(c.augment.findData("distort"))
    qtbot.waitUntil(lambda: len(history.setting_changes) == 3, timeout=5000)
    assert trainer.optimizer.weight_decay == 1e-4 and trainer.augment == "distort"
    sent_at = trainer.step
    c.batch_size.setValue(2)
    assert c.batch_note.isVisibleTo(c) and "next epoch" in c.batch_note.text()
    qtbot.waitUntil(lambda: len(history.setting_changes) == 4, timeout=20000)
    change = history.setting_changes[3]
    assert change["setting"] == "batch_size" and (change["value"], change["previous"]) == (2, 1)
    assert change["step"] % 600 == 0 and change["step"] > sent_at and change["epoch"] == change["step"] // 600
    qtbot.waitUntil(lambda: not c.batch_note.isVisibleTo(c), timeout=5000)
    qtbot.waitUntil(lambda: trainer.step >= change["step"] + 5, timeout=5000)
    assert trainer.batch_size == 2
    progress = c.progress
    qtbot.waitUntil(lambda: progress.overall_bar.maximum() == change["step"] + (200 - change["epoch"]) * 300,
                    timeout=5000)  # the epochs left, counted in 2-image steps
    original = recorded(qtbot, win, c.stop_button.click)
    assert [x["setting"] for x in original.history.setting_changes] == ["momentum", "weight_decay", "augment",
                                                                       "batch_size"]
    labels = [label for _, ls, _ in panel.plots.setting_markers for label in ls]
    assert labels == ["momentum 0.9 → 0.5", "weight decay off → 0.0001", "augment none → distort",
                      "batch size 1 → 2"]
    on_curve = sorted({x["epoch"] for x in original.history.setting_changes})
    assert [m[0] for m in panel.plots.setting_markers] == on_curve

    rp.tree.setCurrentItem(rp._item(original.id))
    again = recorded(qtbot, win, rp.actions["rerun"].trigger)
    for k in ("loss", "accuracy", "lr", "epoch", "step"):
        assert again.history.series(k).tolist() == original.history.series(k).tolist()
    assert again.history.setting_changes == original.history.setting_changes
    panel.plots.flush()
    np.testing.assert_array_equal(panel.plots.loss.view(), original.history.series("loss"))  # what is drawn
    assert [m[0] for m in panel.plots.setting_markers] == on_curve
    # the fields followed the replayed changes (the run started from the recorded settings)
    assert (s["momentum"].value(), c.weight_decay.value(), c.augment.currentData(), c.batch_size.value()) == (
        0.5, 1e-4, "distort", 2)
    assert again.config.momentum == 0.9 and again.config.batch_size == 1  # the record keeps the run's start


def test_adams_momentum_knob_is_beta1_and_sgd_has_none(qtbot, make_window):
    win = make_window()
    panel = win.training_panel
    trainer = long_run(qtbot, win, optimizer="adam")
    c, s = fields(panel)
    assert s["beta1"].isEnabled() and s["beta2"].isEnabled() and s["eps"].isEnabled()
    assert not s["momentum"].isEnabled() and not s["momentum"].isVisibleTo(c)
    assert "Adam's momentum" in s["beta1"].toolTip() and "while training" in s["beta1"].toolTip()
    s["beta1"].setValue(0.6)
    qtbot.waitUntil(lambda: len(trainer.history.setting_changes) == 1, timeout=5000)
    assert trainer.optimizer.beta1 == 0.6
    assert [ls for _, ls, _ in panel.plots.setting_markers] == [["β1 0.9 → 0.6"]]
    recorded(qtbot, win, c.stop_button.click)
    assert not c.batch_note.isVisibleTo(c)

    trainer = long_run(qtbot, win)  # plain SGD: no momentum at all; what stays live
    live = {name for name, f in s.items() if f.isEnabled()}
    assert live == set() and c.weight_decay.isEnabled() and c.batch_size.isEnabled()
    assert "Fixed while training" in s["nesterov"].toolTip()
    recorded(qtbot, win, c.stop_button.click)


def test_idle_edits_send_nothing_and_an_opened_history_shows_its_markers(qtbot, make_window):
    win = make_window()
    panel = win.training_panel
    c, s = fields(panel)
    sent = []
    panel.knobs._send_command = sent.append
    c.weight_decay.setValue(0.001)
    c.batch_size.setValue(128)
    assert sent == [] and not c.batch_note.isVisibleTo(c)  # the next run's settings, not live changes
    h = RunHistory.from_dict({
        "batches": {"step": [1, 2], "epoch": [0.5, 1.0], "loss": [2.0, 1.0], "accuracy": [0.1, 0.5],
                    "lr": [0.1, 0.1]},
        "lr_changes": [{"step": 1, "epoch": 0.5, "lr": 0.05}],
        "setting_changes": [{"step": 1, "epoch": 0.5, "setting": "augment", "value": "styles", "previous": "none"},
                            {"step": 1, "epoch": 0.5, "setting": "momentum", "value": 0.8, "previous": 0.9}]})
    panel.plots.show_history(h)
    assert [m[0] for m in panel.plots.lr_markers] == [0.5]
    (marker,) = panel.plots.setting_markers  # two changes before one batch: one line, both said
    assert marker[0] == 0.5 and marker[1] == ["augment none → pen styles", "momentum 0.9 → 0.8"]
    assert "augment none → pen styles" in marker[2].toolTip()
    panel.plots.clear(3)
    assert panel.plots.setting_markers == []


@pytest.mark.parametrize("optimizer,live", [("rmsprop", {"rho", "eps"}), ("adamw", {"beta1", "beta2", "eps"})])
def test_each_optimizers_numeric_settings_are_the_live_ones(qtbot, make_window, optimizer, live):
    win = make_window()
    trainer = long_run(qtbot, win, optimizer=optimizer, lr=0.001)
    c, s = fields(win.training_panel)
    assert {name for name, f in s.items() if f.isEnabled()} == live
    assert trainer.optimizer.name == optimizer
    recorded(qtbot, win, c.stop_button.click)
