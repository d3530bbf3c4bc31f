"""A run's life in the window, with the training and runs panels together: "+1 epoch" after Stop goes on from
where the run stopped, names stay unique across sessions, Re-run reproduces the run (stops, "+1 epoch" and live
learning-rate changes included), and a cosine schedule restarts when a run is continued past its end."""

import numpy as np
import pytest
from PyQt6.QtWidgets import QDockWidget

from mnist_studio.data.datasets import Dataset
from mnist_studio.gui import main_window, runs, training
from mnist_studio.gui.runs import runs_folder
from mnist_studio.nn.spec import load_preset
from mnist_studio.training import TrainConfig
from mnist_studio.training.runstore import RunStore
from tests.test_runstore import make_record


@pytest.fixture
def mini(mnist):
    return Dataset("mini", mnist.train_images[:700], mnist.train_labels[:700], mnist.test_images[:100],
                   mnist.test_labels[:100])


@pytest.fixture
def make_window(qtbot, monkeypatch, mini):
    monkeypatch.setattr(main_window, "_installers", lambda: [training.install, runs.install])

    made = []

    def make():
        win = main_window.MainWindow()
        qtbot.addWidget(win)
        win.show()
        win.session.set_dataset(mini)
        made.append(win)
        return win

    yield make
    for win in made:
        win.close()  # stops a run still going (a failed test): no thread outlives its window


def runs_panel(win):
    return win.findChild(QDockWidget, "runsDock").widget()


def recorded(qtbot, win, action, timeout=30000):
    with qtbot.waitSignal(win.session.runRecorded, timeout=timeout) as blocker:
        action()
    return blocker.args[0]


def long_run(qtbot, win, **config):
    """Logistic regression, one image per batch (600 batches an epoch): long enough to steer while it runs."""
    panel = win.training_panel
    win.session.set_spec(load_preset("logistic"))
    panel.controls.set_config(TrainConfig(optimizer="sgd", lr=0.01, epochs=200, batch_size=1, val_size=100,
                                          **config))
    panel.controls.start_button.click()
    qtbot.waitUntil(lambda: panel.worker.trainer is not None and panel.worker.trainer.step >= 20, timeout=10000)
    return panel.worker.trainer


def test_one_more_epoch_after_stop_continues_on_the_same_axis(qtbot, make_window):
    win = make_window()
    panel = win.training_panel
    trainer = long_run(qtbot, win)
    stopped = recorded(qtbot, win, panel.controls.stop_button.click)
    s = trainer.step
    assert stopped.status == "stopped" and s >= 20  # usually mid-epoch; at an epoch's end the same must hold
    more = recorded(qtbot, win, panel.controls.more_button.click)
    assert more.status == "finished" and trainer.step == s + 600  # one full epoch more
    panel.plots.flush()
    x = panel.plots.epoch.view()  # what the curves are drawn from
    assert len(x) == s + 600 and np.all(np.diff(x) > 0)  # no jump back to 0, no line joining back
    assert x[s] == pytest.approx((s + 1) / 600) and x[-1] == pytest.approx((s + 600) / 600)
    assert panel.plots.loss_plot.getPlotItem().vb.viewRange()[0][1] >= x[-1]
    progress = panel.controls.progress
    assert progress.overall_bar.maximum() == s + 600 and progress.overall_bar.value() == s + 600
    assert progress.epoch_bar.value() == (s % 600 or 600) and progress.epoch_bar.maximum() == 600  # where it is
    assert progress.overall_bar.format().endswith(f"of {(s + 600) / 600:.4g} epochs")
    row = runs_panel(win)._item(more.id)
    assert f"· {(s + 600) / 600:.3g} ep ·" in row.text(3)  # the epochs trained, not the 200 planned
    assert "200 epochs planned" in row.toolTip(3)
    done = (s + 600) // 600
    assert [e["epoch"] for e in more.history.epochs] == list(range(1, done + 1))
    assert more.history.epochs[-1]["step"] == 600 * done


def test_run_names_are_unique_across_sessions(qtbot, make_window):
    store = RunStore(runs_folder())
    for name in ("Run 1 · logistic", "Run 4 · lenet", "my best"):  # an earlier session's runs
        store.save(make_record(name))
    win = make_window()
    panel = win.training_panel
    win.session.set_spec(load_preset("logistic"))
    panel.controls.set_config(TrainConfig(optimizer="sgd", lr=0.1, epochs=1, batch_size=64, val_size=100))
    first = recorded(qtbot, win, panel.controls.start_button.click)
    second = recorded(qtbot, win, panel.controls.start_button.click)
    assert (first.name, second.name) == ("Run 5 · logistic", "Run 6 · logistic")
    win.close()
    again = make_window()  # the next session
    again.session.set_spec(load_preset("logistic"))
    again.training_panel.controls.set_config(TrainConfig(epochs=1, batch_size=64, val_size=100))
    third = recorded(qtbot, again, again.training_panel.controls.start_button.click)
    assert third.name.startswith("Run 7 · ")
    names = [r.name for r in RunStore(runs_folder()).list()[0]]
    assert len(names) == len(set(names)) == 6


def test_rerun_replays_stops_more_epochs_and_learning_rate_changes(qtbot, make_window):
    """The run is stopped, continued by "+1 epoch", and its rate changed twice while it trains; two Re-runs in a
    row give the same curve, batch for batch, with the changes at the same batches."""
    win = make_window()
    panel, rp = win.training_panel, runs_panel(win)
    trainer = long_run(qtbot, win)
    panel.controls.lr.setValue(0.05)
    qtbot.waitUntil(lambda: len(trainer.history.lr_changes) == 1, timeout=5000)
    qtbot.waitUntil(lambda: trainer.step >= trainer.history.lr_changes[0]["step"] + 10, timeout=5000)
    recorded(qtbot, win, panel.controls.stop_button.click)
    original = recorded(qtbot, win, panel.controls.more_button.click)
    assert [f["status"] for f in original.history.fits] == ["stopped", "finished"]
    assert len(original.history.lr_changes) == 1
    results = []
    for _ in range(2):
        rp.tree.setCurrentItem(rp._item(original.id))
        results.append(recorded(qtbot, win, rp.actions["rerun"].trigger))
    for again in results:
        assert again.id != original.id and again.status == "finished"
        for k in ("loss", "lr", "epoch", "step"):
            np.testing.assert_array_equal(again.history.series(k), original.history.series(k))
        assert again.history.lr_changes == original.history.lr_changes
        assert again.metrics == original.metrics
    panel.plots.flush()
    np.testing.assert_array_equal(panel.plots.loss.view(), original.history.series("loss"))  # what is drawn
    np.testing.assert_array_equal(panel.plots.epoch.view(), original.history.series("epoch"))
    assert [m[0] for m in panel.plots.lr_markers] == [original.history.lr_changes[0]["epoch"]]


def test_one_more_epoch_after_a_cosine_run_restarts_the_schedule_and_says_so(qtbot, make_window):
    win = make_window()
    panel = win.training_panel
    win.session.set_spec(load_preset("logistic"))
    panel.controls.set_config(TrainConfig(optimizer="sgd", lr=0.1, epochs=1, batch_size=1, val_size=100,
                                          schedule="cosine"))
    first = recorded(qtbot, win, panel.controls.start_button.click)
    assert first.history.series("lr")[-1] < 1e-4
    assert "warm restart" in panel.controls.more_button.toolTip()  # said before it is pressed, too
    with qtbot.waitSignal(win.session.runRecorded, timeout=30000) as blocker:
        panel.controls.more_button.click()
        panel.controls.pause_button.click()  # held before its first batches, to change the rate while it runs
        qtbot.waitUntil(lambda: "warm restart" in panel.banner.text(), timeout=10000)
        assert "lr 0.1" in panel.banner.text() and "epoch 1 " in panel.banner.text()
        panel.controls.lr.setValue(0.02)  # in the restarted schedule: no division by its factor
        panel.controls.pause_button.click()
    more = blocker.args[0]
    assert more.status == "finished" and "failed" not in win.statusBar().currentMessage().lower()
    lrs = more.history.series("lr")
    change = more.history.lr_changes[0]
    assert change["lr"] == pytest.approx(0.02) and change["step"] >= 600 and lrs[change["step"]] == pytest.approx(0.02)
    if change["step"] > 600:  # (the pause may land before the first batch: the change then comes first)
        assert lrs[600] == pytest.approx(0.1)  # the restart: the run's rate again, gliding down over the new epoch
    assert lrs[599] < 1e-4 and lrs[-1] < 0.001 and np.all(np.diff(lrs[change["step"]:]) <= 0)
