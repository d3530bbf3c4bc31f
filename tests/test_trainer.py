"""The fit loop: learning, events, pause / resume / stop from another thread, divergence, determinism,
live learning-rate changes, and evaluation metrics."""

import threading
import time

import numpy as np
import pytest

from mnist_studio.data.splits import make_splits
from mnist_studio.nn.model import Model
from mnist_studio.nn.spec import load_preset
from mnist_studio.training import Callback, TrainConfig, Trainer, TrainingControl, evaluate
from mnist_studio.training.metrics import confusion_matrix


class Recorder(Callback):
    def __init__(self):
        self.batches, self.epochs, self.begin, self.end = [], [], None, None

    def on_fit_begin(self, e):
        self.begin = e

    def on_batch_end(self, e):
        self.batches.append(e)

    def on_epoch_end(self, e):
        self.epochs.append(e)

    def on_fit_end(self, e):
        self.end = e


def make_trainer(mnist, preset="logistic", limit=600, callbacks=(), control=None, **cfg):
    spec = load_preset(preset)
    config = TrainConfig.for_spec(spec, limit=limit, **cfg)
    model = Model(spec, seed=config.seed)
    return Trainer(model, make_splits(mnist, limit=limit), config, callbacks, control)


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
    control = TrainingControl()
    steps = []

    class Slow(Callback):
        def on_batch_end(self, e):
            steps.append(e.step)
            time.sleep(0.002)

    t = make_trainer(mnist, limit=50000, epochs=5, batch_size=16, callbacks=[Slow()], control=control)
    result = {}
    th = threading.Thread(target=lambda: result.setdefault("end", t.fit()))
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
    control = TrainingControl()
    control.pause()
    t = make_trainer(mnist, epochs=1, control=control)
    th = threading.Thread(target=t.fit)
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
    control = TrainingControl()
    rec = Recorder()

    class Changer(Callback):
        def on_batch_end(self, e):
            if e.step == 3:
                control.set_lr(0.02)

    t = make_trainer(mnist, epochs=1, limit=640, batch_size=64, optimizer="sgd", lr=0.1, control=control,
                     callbacks=[Changer(), rec])
    t.fit()
    assert [b.lr for b in rec.batches] == [0.1] * 3 + [0.02] * 7
    assert t.history.lr_changes == [{"step": 3, "epoch": 0.3, "lr": 0.02}]


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
