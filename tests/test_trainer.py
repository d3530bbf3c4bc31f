"""The fit loop: learning, events, pause / resume / stop from another thread (also during validation), divergence,
determinism, live learning-rate changes as commands and events, and evaluation metrics (stoppable too)."""

import threading
import time

import numpy as np
import pytest

from mnist_studio.data.splits import make_splits
from mnist_studio.nn.model import Model
from mnist_studio.nn.spec import load_preset
from mnist_studio.training import (Callback, SetLearningRate, Stopped, StopToken, TrainConfig, Trainer, evaluate)
from mnist_studio.training.history import RunHistory
from mnist_studio.training.metrics import confusion_matrix


class Recorder(Callback):
    def __init__(self):
        self.batches, self.epochs, self.changes, self.begin, self.end = [], [], [], None, None

    def on_fit_begin(self, e):
        self.begin = e

    def on_batch_end(self, e):
        self.batches.append(e)

    def on_epoch_end(self, e):
        self.epochs.append(e)

    def on_fit_end(self, e):
        self.end = e

    def on_setting_changed(self, e):
        self.changes.append(e)


def make_trainer(mnist, preset="logistic", limit=600, callbacks=(), **cfg):
    spec = load_preset(preset)
    config = TrainConfig.for_spec(spec, limit=limit, **cfg)
    model = Model(spec, seed=config.seed)
    return Trainer(model, make_splits(mnist, limit=limit), config, callbacks)


def test_short_mlp_run_beats_85_percent(mnist):
    t = make_trainer(mnist, "mlp-512-256", limit=5000, epochs=1, optimizer="adam", lr=0.001)
    assert t.fit().status == "finished"
    ev = evaluate(t.model, mnist.test_images, mnist.test_labels)
    assert ev.accuracy > 0.85


def test_events_describe_the_run(mnist):
    rec = Recorder()
    t = make_trainer(mnist, limit=640, epochs=2, batch_size=64, callbacks=[rec], optimizer="sgd", lr=0.1)
    t.fit()
    assert rec.begin.batches_per_epoch == 10 and rec.begin.train_size == 640
    assert [b.step for b in rec.batches] == list(range(1, 21))
    assert rec.batches[4].epoch == pytest.approx(0.5) and rec.batches[-1].epoch == pytest.approx(2.0)
    assert all(0 <= b.accuracy <= 1 and b.lr == 0.1 and b.samples_per_second > 0 for b in rec.batches)
    assert [e.epoch for e in rec.epochs] == [1, 2]
    assert rec.epochs[1].val_accuracy is not None and rec.epochs[1].train_loss < rec.batches[0].loss
    assert rec.end.status == "finished" and rec.end.step == 20
    assert len(t.history.series("loss")) == 20 and len(t.history.epochs) == 2


def test_same_seed_same_run_different_seed_different_run(mnist):
    runs = []
    for seed in (5, 5, 6):
        t = make_trainer(mnist, "lenet", limit=128, epochs=1, seed=seed, augment=True, batch_size=32)
        t.fit()
        runs.append(t.history.series("loss").copy())
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_pause_resume_and_stop_from_another_thread(mnist):
    control = StopToken()
    steps = []

    class Slow(Callback):
        def on_batch_end(self, e):
            steps.append(e.step)
            time.sleep(0.002)

    t = make_trainer(mnist, limit=50000, epochs=5, batch_size=16, callbacks=[Slow()])
    result = {}
    th = threading.Thread(target=lambda: result.setdefault("end", t.fit(stop=control)))
    th.start()
    while len(steps) < 5:
        time.sleep(0.005)
    control.pause()
    time.sleep(0.1)
    held = len(steps)
    time.sleep(0.3)
    assert len(steps) == held, "training went on while paused"
    control.resume()
    deadline = time.time() + 10
    while len(steps) < held + 5 and time.time() < deadline:
        time.sleep(0.005)
    assert len(steps) >= held + 5, "training did not resume"
    control.stop()
    th.join(5)
    assert not th.is_alive()
    assert result["end"].status == "stopped" and t.step == len(steps) < 5 * 3125


def test_stop_while_paused_ends_the_run(mnist):
    control = StopToken()
    control.pause()
    t = make_trainer(mnist, epochs=1)
    th = threading.Thread(target=lambda: t.fit(stop=control))
    th.start()
    time.sleep(0.2)
    control.stop()
    th.join(5)
    assert not th.is_alive() and t.step == 0


def test_divergence_stops_and_restores_good_weights(mnist):
    rec = Recorder()
    t = make_trainer(mnist, "mlp-512-256", limit=3000, epochs=3, optimizer="sgd", lr=50.0, callbacks=[rec])
    end = t.fit()
    assert end.status == "diverged"
    assert "diverged: lower the learning rate" in end.message
    for _, p, _ in t.model.named_params():
        assert np.all(np.isfinite(p))
    assert np.all(np.isfinite(t.model.predict_proba(mnist.test_images[:10] / 255.0)))


def test_learning_rate_change_between_batches(mnist):
    rec = Recorder()

    class Changer(Callback):
        def on_batch_end(self, e):
            if e.step == 3:
                t.send(SetLearningRate(0.02))  # as another thread would; applied before the next batch

    t = make_trainer(mnist, epochs=1, limit=640, batch_size=64, optimizer="sgd", lr=0.1, callbacks=[Changer(), rec])
    t.fit()
    assert [b.lr for b in rec.batches] == [0.1] * 3 + [0.02] * 7
    assert t.history.lr_changes == [{"step": 3, "epoch": 0.3, "lr": 0.02}]
    assert [(c.step, c.epoch, c.setting, c.value) for c in rec.changes] == [(3, 0.3, "lr", 0.02)]


def test_commands_are_checked_when_made_and_applied_in_order(mnist):
    for bad in (0, -0.1, 100, float("nan")):
        with pytest.raises(ValueError, match="learning rate"):
            SetLearningRate(bad)
    with pytest.raises(TypeError):
        make_trainer(mnist).send(0.02)
    rec = Recorder()
    t = make_trainer(mnist, epochs=2, limit=640, batch_size=64, optimizer="sgd", lr=0.1, schedule="step",
                     step_epochs=1, gamma=0.5, callbacks=[rec])
    t.send(SetLearningRate(0.5))  # sent before the fit: the first batch already uses the last of these
    t.send(SetLearningRate(0.04))
    t.fit()
    assert [(c.step, c.value) for c in rec.changes] == [(0, 0.5), (0, 0.04)]
    assert [b.lr for b in rec.batches] == pytest.approx([0.04] * 10 + [0.02] * 10)  # the schedule goes on from it


def test_a_stop_during_validation_cuts_it_short_and_keeps_the_steps(mnist):
    token = StopToken()
    rec = Recorder()

    class StopAtEpochEnd(Callback):
        def on_batch_end(self, e):
            if e.batch == e.batches_per_epoch:
                token.stop()  # the loop is done with its batches: the stop lands in the validation pass

    t = make_trainer(mnist, epochs=3, limit=640, batch_size=64, callbacks=[StopAtEpochEnd(), rec])
    end = t.fit(stop=token)
    assert end.status == "stopped" and "during validation after epoch 1" in end.message
    assert t.step == 10 and t.epochs_done == 1 and rec.epochs == [] and rec.end is end
    assert t.history.status == "stopped"
    assert t.fit(1, stop=StopToken()).status == "finished"  # the next fit has its own token and goes on
    assert t.step == 20 and [e["epoch"] for e in t.history.epochs] == [2]


def test_schedule_drives_the_learning_rate(mnist):
    rec = Recorder()
    t = make_trainer(mnist, epochs=2, limit=640, batch_size=64, optimizer="sgd", lr=0.1, schedule="step",
                     step_epochs=1, gamma=0.5, callbacks=[rec])
    t.fit()
    assert [b.lr for b in rec.batches] == [0.1] * 10 + [0.05] * 10


def test_fit_can_continue_for_one_more_epoch(mnist):
    t = make_trainer(mnist, epochs=1, limit=640, batch_size=64)
    t.fit()
    t.fit(epochs=1)
    assert t.epochs_done == 2 and t.step == 20 and [e["epoch"] for e in t.history.epochs] == [1, 2]


def test_evaluation_stops_between_chunks(mnist):
    token = StopToken()
    calls = []

    class Counting(Model):
        def predict_proba(self, x, batch_size=500):
            calls.append(len(x))
            if len(calls) == 2:
                token.stop()
            return super().predict_proba(x, batch_size)

    model = Counting(load_preset("logistic"), seed=0)
    with pytest.raises(Stopped):
        evaluate(model, mnist.test_images[:1000], mnist.test_labels[:1000], batch_size=200, stop=token)
    assert calls == [200, 200]  # the chunk in flight finished, no further one started
    calls.clear()
    whole = evaluate(model, mnist.test_images[:1000], mnist.test_labels[:1000], batch_size=200, stop=StopToken())
    one = evaluate(Model(load_preset("logistic"), seed=0), mnist.test_images[:1000], mnist.test_labels[:1000],
                   batch_size=1000)
    assert calls == [200] * 5 and whole.accuracy == one.accuracy
    np.testing.assert_allclose(whole.probabilities, one.probabilities, rtol=1e-5, atol=1e-7)


def test_evaluation_metrics():
    labels = np.array([0, 0, 1, 1, 2])
    pred = np.array([0, 1, 1, 1, 0])
    cm = confusion_matrix(labels, pred)
    assert cm[0].tolist()[:3] == [1, 1, 0] and cm[1, 1] == 2 and cm[2, 0] == 1 and cm.sum() == 5


def test_evaluate_precision_recall(mnist):
    t = make_trainer(mnist, epochs=1, limit=2000, optimizer="adam", lr=0.01)
    t.fit()
    ev = evaluate(t.model, mnist.test_images[:2000], mnist.test_labels[:2000])
    cm = ev.confusion
    assert cm.sum() == 2000 and ev.accuracy == pytest.approx(np.trace(cm) / 2000)
    np.testing.assert_allclose(ev.recall, np.diag(cm) / cm.sum(axis=1))
    np.testing.assert_allclose(ev.precision, np.diag(cm) / cm.sum(axis=0))
    assert ev.probabilities.shape == (2000, 10)
    np.testing.assert_allclose(ev.probabilities.sum(axis=1), 1, rtol=1e-5)
    cov, acc = ev.coverage_curve(np.array([0.0, 0.999999]))
    assert cov[0] == 1.0 and acc[0] == pytest.approx(ev.accuracy) and cov[1] < 1.0


def test_a_runs_record_is_a_snapshot_of_its_trainer(mnist):
    from mnist_studio.training.runs import final_metrics, record_of

    t = make_trainer(mnist, epochs=2, limit=640, batch_size=64)
    spec = load_preset("logistic")
    t.fit(1)
    rec = record_of(t, spec, name="Run 7", run_id="abc", created=12.0, dataset="MNIST", duration=3.5)
    last = t.history.epochs[-1]
    assert rec.metrics == {k: last[k] for k in ("val_accuracy", "val_loss", "train_accuracy", "train_loss")}
    assert (rec.name, rec.id, rec.created, rec.dataset, rec.duration) == ("Run 7", "abc", 12.0, "MNIST", 3.5)
    assert rec.status == "finished" and rec.config.epochs == 2 and rec.config is not t.config  # as planned
    assert rec.history.fits == [{"epochs": 1, "start_step": 0, "end_step": 10, "status": "finished"}]
    t.fit(1)  # the trainer goes on; the record made earlier does not change with it
    assert len(rec.history.epochs) == 1 and len(rec.history.series("loss")) == 10
    assert rec.spec == spec and rec.spec is not spec
    assert final_metrics(RunHistory()) == {}


def test_recorded_live_changes_replay_at_the_same_batches(mnist):
    """What a re-run needs: the recorded steps are enough to apply each change before the same batch again."""

    class Changer(Callback):
        def on_batch_end(self, e):
            if e.step in (3, 12):
                first.send(SetLearningRate(0.02 if e.step == 3 else 0.3))

    first = make_trainer(mnist, epochs=2, limit=640, batch_size=64, optimizer="sgd", lr=0.1, callbacks=[Changer()])
    first.send(SetLearningRate(0.05))  # before the first batch: recorded at step 0
    first.fit()
    changes = first.history.lr_changes
    assert [c["step"] for c in changes] == [0, 3, 12]

    class Replayer(Callback):
        def on_batch_end(self, e):
            for c in changes:
                if c["step"] == e.step:
                    second.send(SetLearningRate(c["lr"]))

    second = make_trainer(mnist, epochs=2, limit=640, batch_size=64, optimizer="sgd", lr=0.1, callbacks=[Replayer()])
    for c in changes:
        if c["step"] == 0:
            second.send(SetLearningRate(c["lr"]))
    second.fit()
    assert second.history.lr_changes == changes
    np.testing.assert_array_equal(second.history.series("lr"), first.history.series("lr"))
    np.testing.assert_array_equal(second.history.series("loss"), first.history.series("loss"))
