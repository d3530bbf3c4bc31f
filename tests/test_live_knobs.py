"""Knobs while training (issue 13 item 9): momentum (Adam's β1), weight decay and the augmentation change between
two batches, the batch size at the next epoch start; each change is an event and a record, and a replay of the
record gives the same run, batch for batch."""

import json

import numpy as np
import pytest

from mnist_studio.data.splits import make_splits
from mnist_studio.jsonread import JsonError
from mnist_studio.nn.model import Model
from mnist_studio.nn.spec import load_preset
from mnist_studio.training import Callback, SetLearningRate, StopToken, TrainConfig, Trainer
from mnist_studio.training.commands import (SetAugmentation, SetBatchSize, SetOptimizerSetting, SetWeightDecay,
                                            command_for)
from mnist_studio.training.history import RunHistory
from mnist_studio.training.replay import ReplayPlan, replay


class Knobs(Callback):
    """Sends ``changes[step]`` (a list of commands) after batch ``step``; notes what the optimizer and trainer hold
    after each batch, the batches, the events."""

    def __init__(self, changes=None, stop_at=None, token=None):
        self.changes = changes or {}
        self.stop_at, self.token = stop_at, token
        self.trainer = None
        self.batches, self.events, self.seen = [], [], []

    def on_batch_end(self, e):
        t = self.trainer
        self.batches.append(e)
        self.seen.append({"momentum": t.optimizer.settings.get("momentum"), "beta1": t.optimizer.settings.get("beta1"),
                          "weight_decay": t.optimizer.weight_decay, "augment": t.augment, "batch_size": t.batch_size})
        for command in self.changes.get(e.step, []):
            t.send(command)
        if self.token is not None and e.step == self.stop_at:
            self.token.stop()

    def on_setting_changed(self, e):
        self.events.append(e)


def make(mnist, callbacks=(), limit=640, **cfg):
    spec = load_preset("logistic")
    base = dict(optimizer="momentum", lr=0.05, batch_size=64, epochs=3, val_size=100, limit=limit)
    config = TrainConfig.for_spec(spec, **{**base, **cfg})
    t = Trainer(Model(spec, seed=config.seed), make_splits(mnist, val_size=100, limit=limit), config,
                callbacks=callbacks)
    for cb in callbacks:
        cb.trainer = t
    return t


def test_momentum_changes_between_two_batches_and_is_recorded(mnist):
    knobs = Knobs({3: [SetOptimizerSetting("momentum", 0.5)]})
    t = make(mnist, [knobs], epochs=1)  # 10 batches
    t.fit()
    assert [s["momentum"] for s in knobs.seen] == [0.9] * 3 + [0.5] * 7  # batch 4 on uses 0.5
    (e,) = knobs.events
    assert (e.step, e.epoch, e.setting, e.value, e.previous) == (3, 0.3, "momentum", 0.5, 0.9)
    assert t.history.setting_changes == [{"step": 3, "epoch": 0.3, "setting": "momentum", "value": 0.5,
                                          "previous": 0.9}]
    assert t.history.lr_changes == [] and t.config.momentum == 0.9  # the run's settings as it started
    plain = make(mnist, epochs=1)
    plain.fit()
    loss, other = t.history.series("loss"), plain.history.series("loss")
    np.testing.assert_array_equal(loss[:4], other[:4])  # the first batch with 0.5 is the 4th: its loss comes after
    assert not np.array_equal(loss[4:], other[4:])


def test_adams_momentum_is_beta1_and_a_setting_it_lacks_is_refused(mnist):
    knobs = Knobs({2: [SetOptimizerSetting("momentum", 0.5), SetOptimizerSetting("beta1", 0.6)]})
    t = make(mnist, [knobs], epochs=1, optimizer="adam", lr=0.001)
    t.fit()
    assert [s["beta1"] for s in knobs.seen] == [0.9] * 2 + [0.6] * 8
    assert t.optimizer.beta1 == 0.6 and not hasattr(t.optimizer, "momentum")
    assert [(e.setting, e.value, e.previous) for e in knobs.events] == [("beta1", 0.6, 0.9)]  # momentum: dropped
    assert [c["setting"] for c in t.history.setting_changes] == ["beta1"]
    for bad in (("beta1", 1.5), ("momentum", -0.1), ("nesterov", True), ("lr", 0.1)):
        with pytest.raises(ValueError):
            SetOptimizerSetting(*bad)


def test_weight_decay_and_augmentation_change_between_two_batches(mnist):
    knobs = Knobs({2: [SetWeightDecay(0.01)], 5: [SetAugmentation("distort"), SetWeightDecay(0.0)],
                   8: [SetAugmentation("none")]})
    t = make(mnist, [knobs], epochs=1)
    t.fit()
    assert [s["weight_decay"] for s in knobs.seen] == [0.0] * 2 + [0.01] * 3 + [0.0] * 5
    assert [s["augment"] for s in knobs.seen] == ["none"] * 5 + ["distort"] * 3 + ["none"] * 2
    assert [(e.step, e.setting, e.value, e.previous) for e in knobs.events] == [
        (2, "weight_decay", 0.01, 0.0), (5, "augment", "distort", "none"), (5, "weight_decay", 0.0, 0.01),
        (8, "augment", "none", "distort")]
    assert t.config.weight_decay == 0.0 and t.config.augment == "none"
    plain = make(mnist, epochs=1)
    plain.fit()
    loss, other = t.history.series("loss"), plain.history.series("loss")
    np.testing.assert_array_equal(loss[:3], other[:3])
    assert not np.array_equal(loss[3:], other[3:])
    for bad in (-0.1, 2.0):
        with pytest.raises(ValueError):
            SetWeightDecay(bad)
    with pytest.raises(ValueError, match="styles"):
        SetAugmentation("blur")


def test_a_batch_size_change_waits_for_the_next_epoch(mnist):
    knobs = Knobs({3: [SetBatchSize(128)]})  # sent in epoch 1: its other 7 batches still have 64 images
    t = make(mnist, [knobs], epochs=3)  # 640 images: 10 batches of 64, 5 of 128
    end = t.fit()
    per_epoch = [sum(1 for b in knobs.batches if int(np.ceil(b.epoch - 1e-9)) == k) for k in (1, 2, 3)]
    assert per_epoch == [10, 5, 5]
    assert [b.batches_per_epoch for b in knobs.batches] == [10] * 10 + [5] * 10
    assert [s["batch_size"] for s in knobs.seen] == [64] * 10 + [128] * 10
    (e,) = knobs.events
    assert (e.step, e.epoch, e.setting, e.value, e.previous) == (10, 1.0, "batch_size", 128, 64)
    assert [b.epoch for b in knobs.batches[10:15]] == [1.2, 1.4, 1.6, 1.8, 2.0]
    assert [e["epoch"] for e in t.history.epochs] == [1, 2, 3] and end.status == "finished"
    assert end.step == 20 and end.epoch == 3.0 and t.history.fits[-1]["end_step"] == 20
    assert t.history.series("step")[-1] == 20


def test_after_a_batch_size_change_a_stop_and_one_more_epoch_count_in_the_new_size(mnist):
    token = StopToken()
    knobs = Knobs({0: [], 4: [SetBatchSize(32)]}, stop_at=24, token=token)
    t = make(mnist, [knobs], epochs=3)
    t.send(SetBatchSize(128))  # before the run: from the first epoch (5 batches)
    end = t.fit(stop=token)  # epoch 1: 5 of 128, then 20 of 32; stopped at step 24 = epoch 1.95
    assert end.status == "stopped" and end.step == 24 and end.epoch == pytest.approx(1 + 19 / 20)
    assert [(e.step, e.value) for e in knobs.events] == [(0, 128), (5, 32)]
    more = t.fit(1)  # one more epoch of 32-image batches: to epoch 2.95
    assert more.status == "finished" and more.step == 44 and more.epoch == pytest.approx(2.95)
    assert t.history.fits[-1] == {"epochs": 1, "start_step": 24, "end_step": 44, "status": "finished"}


def test_a_run_with_every_live_change_replays_identically(mnist):
    changes = {3: [SetOptimizerSetting("momentum", 0.5), SetLearningRate(0.02)],
               7: [SetAugmentation("distort"), SetBatchSize(128)],  # the batch size from epoch 2 (step 20)
               12: [SetWeightDecay(0.001)],
               22: [SetAugmentation("none"), SetOptimizerSetting("momentum", 0.95)]}
    first = make(mnist, [Knobs(changes)], epochs=3)
    first.send(SetBatchSize(32))  # before the run: recorded at step 0
    first.fit()
    h = first.history
    assert [(c["step"], c["setting"]) for c in h.setting_changes] == [
        (0, "batch_size"), (3, "momentum"), (7, "augment"), (12, "weight_decay"), (20, "batch_size"),
        (22, "augment"), (22, "momentum")]
    record = RunHistory.from_dict(json.loads(json.dumps(h.to_dict())))  # as saved with the run and read back
    assert record.setting_changes == h.setting_changes and record.lr_changes == h.lr_changes
    again = make(mnist, [Knobs()], epochs=3)
    replay(again, ReplayPlan.of(record))
    for k in ("loss", "accuracy", "lr", "epoch", "step"):
        assert again.history.series(k).tolist() == h.series(k).tolist()
    assert again.history.setting_changes == h.setting_changes and again.history.lr_changes == h.lr_changes
    untimed = [[{k: v for k, v in e.items() if k != "seconds"} for e in x.epochs] for x in (again.history, h)]
    assert untimed[0] == untimed[1]
    for a, b in zip(again.model.state_dict().values(), first.model.state_dict().values()):
        np.testing.assert_array_equal(a, b)


def test_a_stopped_and_continued_run_with_a_batch_size_change_replays_identically(mnist):
    token = StopToken()
    first = make(mnist, [Knobs({2: [SetBatchSize(128)], 3: [SetOptimizerSetting("momentum", 0.7)]}, stop_at=13,
                               token=token)], epochs=2)
    first.fit(stop=token)
    first.fit(1)
    assert [f["status"] for f in first.history.fits] == ["stopped", "finished"]
    again = make(mnist, epochs=2)
    replay(again, ReplayPlan.of(RunHistory.from_dict(json.loads(json.dumps(first.history.to_dict())))))
    assert again.history.series("loss").tolist() == first.history.series("loss").tolist()
    assert again.history.fits == first.history.fits


def test_setting_changes_are_read_back_checked_and_old_records_open():
    assert RunHistory.from_dict({"batches": {}, "epochs": []}).setting_changes == []  # a record from before
    good = {"step": 3, "epoch": 0.3, "setting": "augment", "value": "distort", "previous": "none"}
    assert RunHistory.from_dict({"setting_changes": [good]}).setting_changes == [good]
    for bad in ([{"step": 3}], [{**good, "value": [1]}], [{**good, "step": -1}], ["x"], {"a": 1}):
        with pytest.raises(JsonError):
            RunHistory.from_dict({"setting_changes": bad})
    # a setting this version cannot change is left out of a replay, the rest is kept
    h = RunHistory.from_dict({"setting_changes": [{**good, "setting": "dropout", "value": 0.2}, good]})
    assert [(s, type(c).__name__) for s, c in ReplayPlan.of(h).changes] == [(3, "SetAugmentation")]
    assert command_for("batch_size", 128.0) == SetBatchSize(128)
    with pytest.raises(ValueError):
        command_for("batch_size", 12.5)
