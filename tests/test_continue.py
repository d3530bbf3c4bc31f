"""Continuing and replaying runs: "+1 epoch" after a stop goes on from the step it stopped at (same batches as an
uninterrupted run, dropout included), a cosine schedule restarts when a continuation passes its end, a live
learning-rate change never divides by the schedule's factor, and a recorded run replays batch for batch."""

import numpy as np
import pytest

from mnist_studio.data.splits import make_splits
from mnist_studio.nn.model import Model
from mnist_studio.nn.spec import load_preset
from mnist_studio.training import Callback, SetLearningRate, StopToken, TrainConfig, Trainer
from mnist_studio.training.replay import FitPlan, ReplayPlan, replay


class Events(Callback):
    def __init__(self, stop_at=None, token=None, changes=()):
        self.begins, self.batches, self.epochs, self.stop_at, self.token = [], [], [], stop_at, token
        self.changes = dict(changes)  # step -> lr to send after that step
        self.trainer = None

    def on_fit_begin(self, e):
        self.begins.append(e)

    def on_batch_end(self, e):
        self.batches.append(e)
        if self.token is not None and e.step == self.stop_at:
            self.token.stop()
        if e.step in self.changes:
            self.trainer.send(SetLearningRate(self.changes[e.step]))

    def on_epoch_end(self, e):
        self.epochs.append(e)


def trainer(mnist, preset="logistic", limit=640, callbacks=(), **cfg):
    spec = load_preset(preset)
    config = TrainConfig.for_spec(spec, limit=limit, val_size=100, batch_size=64, **cfg)
    t = Trainer(Model(spec, seed=config.seed), make_splits(mnist, val_size=100, limit=limit), config,
                callbacks=callbacks)
    for cb in callbacks:
        cb.trainer = t
    return t


def test_one_more_epoch_after_a_stop_goes_on_from_the_step_it_stopped_at(mnist):
    token = StopToken()
    ev = Events(stop_at=1, token=token)
    t = trainer(mnist, epochs=3, callbacks=[ev])  # 10 batches an epoch
    end = t.fit(stop=token)
    assert end.status == "stopped" and end.step == 1 and end.epoch == pytest.approx(0.1)
    t.fit(1)
    begin = ev.begins[-1]
    assert (begin.start_step, begin.end_step, begin.batches_per_epoch) == (1, 11, 10)
    xs = [b.epoch for b in ev.batches]
    assert xs == pytest.approx([k / 10 for k in range(1, 12)])  # 0.1 → 1.1: on the same axis, no jump back
    assert [b.batch for b in ev.batches] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1]
    assert [e.epoch for e in ev.epochs] == [1] and ev.epochs[0].step == 10 and t.step == 11
    straight = trainer(mnist, epochs=3)
    straight.fit(until_step=11)  # the same batches as a run never stopped
    np.testing.assert_array_equal(t.history.series("loss"), straight.history.series("loss"))
    assert t.history.epochs[0]["train_loss"] == straight.history.epochs[0]["train_loss"]
    assert [f["end_step"] for f in t.history.fits] == [1, 11]


def test_a_run_cut_into_fits_sees_the_same_dropout_masks_on_two_cores(mnist):
    """LeNet trains on two cores (a replica per fit): the replica's random streams carry over between fits."""
    whole = trainer(mnist, "lenet", limit=320, epochs=2)
    whole.fit()
    cut = trainer(mnist, "lenet", limit=320, epochs=2)
    cut.fit(until_step=3)
    cut.fit(until_step=7)
    cut.fit()
    np.testing.assert_array_equal(whole.history.series("loss"), cut.history.series("loss"))


def test_continuing_past_the_end_of_a_cosine_schedule_restarts_it(mnist):
    ev = Events()
    t = trainer(mnist, epochs=2, schedule="cosine", optimizer="sgd", lr=0.1, callbacks=[ev])
    t.fit()
    lrs = t.history.series("lr")
    assert lrs[0] == pytest.approx(0.1) and lrs[-1] < 0.002  # glided to (almost) 0
    assert ev.begins[0].restart is None
    t.fit(1)
    restart = ev.begins[-1].restart
    assert restart is not None and (restart.lr, restart.start, restart.end) == pytest.approx((0.1, 2.0, 3.0))
    more = t.history.series("lr")[20:]
    assert more[0] == pytest.approx(0.1) and more[5] == pytest.approx(0.1 * 0.5 * (1 + np.cos(np.pi * 0.5)))
    assert np.all(np.diff(more) < 0) and t.history.series("loss")[-1] < t.history.series("loss")[0]
    t.send(SetLearningRate(0.05))  # within the restarted piece: the cosine goes on from 0.05 to its end
    t.fit(1, until_step=32)
    assert t.history.lr_changes[-1]["lr"] == 0.05 and t.history.series("lr")[30] == pytest.approx(0.05)


def test_a_learning_rate_change_where_the_schedule_is_zero_does_not_divide_by_it(mnist):
    t = trainer(mnist, epochs=1, schedule="cosine", optimizer="sgd", lr=0.1)
    t.fit()
    assert t.schedule.factor(1.0) == 0.0
    t.set_learning_rate(0.03, 1.0)  # at the schedule's end (factor 0): was a ZeroDivisionError
    assert t._lr_for(1.0) == pytest.approx(0.03) and t._lr_for(1.5) == pytest.approx(0.03)
    step = trainer(mnist, epochs=3, schedule="step", step_epochs=1.0, gamma=0.5, optimizer="sgd", lr=0.1)
    step.set_learning_rate(0.2, 0.5)
    assert [step._lr_for(e) for e in (0.5, 0.9, 1.0, 2.0)] == pytest.approx([0.2, 0.2, 0.1, 0.05])


def test_a_recorded_run_replays_batch_for_batch(mnist):
    """Stopped at step 7, the rate changed at steps 3 and 15, continued by "+1 epoch" twice past the end of its
    cosine schedule: the replay from the history does all of it at the same batches."""
    token = StopToken()
    ev = Events(stop_at=7, token=token, changes={3: 0.05, 15: 0.2})
    first = trainer(mnist, epochs=1, schedule="cosine", optimizer="momentum", lr=0.1, callbacks=[ev])
    first.fit(stop=token)
    first.fit(1)
    first.fit(1)
    h = first.history
    assert [c["step"] for c in h.lr_changes] == [3, 15]
    assert [(f["epochs"], f["end_step"], f["status"]) for f in h.fits] == [(None, 7, "stopped"), (1, 17, "finished"),
                                                                          (1, 27, "finished")]
    plan = ReplayPlan.of(h)
    assert plan.fits == [FitPlan(None, 7), FitPlan(1), FitPlan(1)]
    again = trainer(mnist, epochs=1, schedule="cosine", optimizer="momentum", lr=0.1)
    end = replay(again, plan)
    assert end.status == "finished" and again.step == 27
    for k in ("lr", "loss", "epoch"):
        np.testing.assert_array_equal(again.history.series(k), h.series(k))
    assert again.history.lr_changes == h.lr_changes and again.history.fits == h.fits
    assert again.history.epochs == [dict(e, seconds=a["seconds"]) for e, a in zip(h.epochs, again.history.epochs)]
    assert ReplayPlan.of(type(h)()).fits == [FitPlan(None)]  # an old record: one fit of its epochs
