"""Time travel's core (issue 13, item 3): checkpoints kept while training, thinned to a budget, stored beside the
run, restored exactly; each checkpoint's test evaluation and strip reading; one drawing through every checkpoint."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mnist_studio.data.datasets import to_float
from mnist_studio.data.splits import make_splits
from mnist_studio.nn.model import Model
from mnist_studio.nn.spec import load_preset
from mnist_studio.training.checkpoints import (BUDGET_BYTES, Checkpoint, CheckpointCollector, first_epoch_steps,
                                               index_from_json, thin)
from mnist_studio.training.config import TrainConfig
from mnist_studio.training.events import BatchEnd, EpochEnd, FitBegin, FitEnd
from mnist_studio.training.metrics import evaluate
from mnist_studio.training.runs import RunRecord, record_of
from mnist_studio.training.runstore import RunStore, RunStoreError
from mnist_studio.training.timetravel import analyse_run, model_at, watch_probabilities
from mnist_studio.training.trainer import Trainer


@pytest.fixture(scope="module")
def trained(mnist):
    """tutorial-cnn, 2 epochs of 2,000 images (32 batches of 64 per epoch), with the collector attached."""
    spec = load_preset("tutorial-cnn")
    config = TrainConfig(optimizer="adam", lr=3e-3, batch_size=64, epochs=2, seed=1, val_size=500, limit=2000)
    splits = make_splits(mnist, val_size=500, limit=2000)
    model = Model(spec, seed=1)
    collector = CheckpointCollector(model)
    trainer = Trainer(model, splits, config, callbacks=[collector])
    trainer.fit()
    return spec, splits, trainer, collector


def test_checkpoints_at_the_start_inside_the_first_epoch_and_at_every_epoch_end(trained):
    _spec, _splits, trainer, collector = trained
    per = 32
    assert first_epoch_steps(24) == {1, 5, 12}  # 1 % of 24 steps is step 1 at least, as is 5 %
    steps = [c.step for c in collector.checkpoints]
    assert steps == [0, 1, 2, 6, 16, 32, 64]
    assert [c.epoch for c in collector.checkpoints] == [s / per for s in steps]
    accs = [c.val_accuracy for c in collector.checkpoints]
    assert accs[:5] == [None] * 5 and accs[5] is not None and accs[6] is not None
    for c in collector.checkpoints:
        assert all(v.dtype == np.float32 for v in c.state.values())
    # the last checkpoint is the trained model exactly
    for k, v in trainer.model.state_dict().items():
        np.testing.assert_array_equal(collector.checkpoints[-1].state[k], v)


def test_a_restored_checkpoint_reproduces_its_epochs_validation_accuracy_exactly(trained):
    spec, splits, trainer, collector = trained
    ends = [c for c in collector.checkpoints if c.val_accuracy is not None]
    assert [c.step for c in ends] == [e["step"] for e in trainer.history.epochs]
    for c, epoch in zip(ends, trainer.history.epochs):
        model = model_at(spec, c)
        ev = evaluate(model, splits.val_x, splits.val_y, trainer.config.loss)
        assert ev.accuracy == epoch["val_accuracy"] == c.val_accuracy
        assert ev.loss == epoch["val_loss"]
    # and the first epoch's early checkpoints differ from each other (the weights moved)
    w = [c.state["0.W"] for c in collector.checkpoints]
    assert all(not np.array_equal(a, b) for a, b in zip(w, w[1:]))


def _fake(step, nbytes=1000, acc=None):
    return Checkpoint(step, step / 10, acc, {"0.W": np.zeros(nbytes // 4, np.float32)})


def test_thinning_keeps_the_budget_the_first_and_the_last():
    cps = [_fake(s) for s in range(0, 100)]
    kept = thin(cps, budget=20_500)
    assert len(kept) == 20 and sum(c.nbytes for c in kept) <= 20_500
    assert kept[0] is cps[0] and kept[-1] is cps[-1]
    gaps = np.diff([c.step for c in kept])
    assert gaps.max() - gaps.min() <= 1  # an even spread
    assert thin(cps, budget=10**9) == cps
    assert [c.step for c in thin(cps, budget=1500)] == [99]  # only one fits: the latest
    assert thin(cps, budget=999) == []
    # the collector thins as it goes: its memory never exceeds the budget
    model = Model(load_preset("logistic"))
    per_ckpt = sum(v.nbytes for v in model.state_dict().values())
    coll = CheckpointCollector(model, budget=per_ckpt * 6)
    coll.on_fit_begin(FitBegin(30, 0, 10, 640, 0, model.num_params()))
    for epoch in range(1, 31):
        for b in range(1, 11):
            step = (epoch - 1) * 10 + b
            coll.on_batch_end(BatchEnd(step, step / 10, b, 10, 1.0, 0.5, 0.01, 1.0))
        coll.on_epoch_end(EpochEnd(epoch, epoch * 10, 1.0, 0.5, 1.0, 0.5, 1.0, 0.01))
        assert sum(c.nbytes for c in coll.checkpoints) <= per_ckpt * 6
    assert len(coll.checkpoints) == 6
    assert coll.checkpoints[0].step == 0 and coll.checkpoints[-1].step == 300


def test_lenet_three_epochs_of_checkpoints_fit_the_default_budget():
    """The size the issue asks for: a 3-epoch lenet run keeps 8 checkpoints of 1.82 MB (14.6 MB); a 40-epoch one
    is thinned to the 50 MiB budget."""
    model = Model(load_preset("lenet"))
    coll = CheckpointCollector(model)
    per = 860  # 55,000 images in batches of 64
    coll.on_fit_begin(FitBegin(3, 0, per, 55000, 5000, model.num_params()))
    for step in range(1, 3 * per + 1):
        if step in coll._due:
            coll.on_batch_end(BatchEnd(step, step / per, step, per, 1.0, 0.5, 0.01, 1.0))
        if step % per == 0:
            coll.on_epoch_end(EpochEnd(step // per, step, 1.0, 0.5, 1.0, 0.9, 1.0, 0.01))
    assert [c.step for c in coll.checkpoints] == [0, 9, 43, 172, 430, 860, 1720, 2580]
    size = sum(c.nbytes for c in coll.checkpoints)
    assert size == 8 * 454_922 * 4 == 14_557_504
    for epoch in range(4, 41):
        coll.on_epoch_end(EpochEnd(epoch, epoch * per, 1.0, 0.5, 1.0, 0.9, 1.0, 0.01))
    assert sum(c.nbytes for c in coll.checkpoints) <= BUDGET_BYTES
    assert len(coll.checkpoints) == BUDGET_BYTES // (454_922 * 4) == 28
    assert coll.checkpoints[0].step == 0 and coll.checkpoints[-1].step == 40 * per


def test_a_stopped_fit_keeps_where_it_stopped():
    model = Model(load_preset("logistic"))
    coll = CheckpointCollector(model)
    coll.on_fit_begin(FitBegin(1, 0, 100, 6400, 0, model.num_params()))
    coll.on_fit_end(FitEnd("stopped", "", 0.37, 37, 1.0))
    coll.on_fit_end(FitEnd("diverged", "", 0.4, 40, 1.0))  # diverged: the weights went back, no new moment
    assert [c.step for c in coll.checkpoints] == [0, 37]


def _record(trainer, spec, collector, name="ckpt run") -> RunRecord:
    rec = record_of(trainer, spec, name=name, run_id="run-ckpt-1", created=1_700_000_000.0, dataset="MNIST",
                    duration=1.0)
    rec.checkpoints = list(collector.checkpoints)
    return rec


def test_the_store_keeps_checkpoints_beside_the_run_and_reads_them_back_exactly(trained, tmp_path):
    spec, splits, trainer, collector = trained
    store = RunStore(tmp_path / "runs")
    rec = _record(trainer, spec, collector)
    store.save(rec, trainer.model)
    ckpt_file = tmp_path / "runs" / "run-ckpt-1.ckpt.npz"
    assert ckpt_file.is_file()
    assert all(c.state is None for c in rec.checkpoints)  # on disk now: the record keeps the index only
    data = json.loads((tmp_path / "runs" / "run-ckpt-1.json").read_text())
    assert [c["step"] for c in data["checkpoints"]] == [0, 1, 2, 6, 16, 32, 64]

    got = store.get("run-ckpt-1")
    assert [(c.step, c.epoch, c.val_accuracy) for c in got.checkpoints] == \
        [(c.step, c.epoch, c.val_accuracy) for c in collector.checkpoints]
    loaded = store.load_checkpoints(got)
    for a, b in zip(loaded, collector.checkpoints):
        assert a.state.keys() == b.state.keys()
        for k in a.state:
            assert a.state[k].dtype == np.float32
            np.testing.assert_array_equal(a.state[k], b.state[k])
    c = loaded[-2]  # the first epoch's end, restored from the file
    assert evaluate(model_at(spec, c), splits.val_x, splits.val_y).accuracy == trainer.history.epochs[0]["val_accuracy"]

    store.rename("run-ckpt-1", "renamed")
    again = store.get("run-ckpt-1")
    assert again.name == "renamed" and len(store.load_checkpoints(again)) == 7

    store.delete("run-ckpt-1")
    assert not ckpt_file.exists() and list((tmp_path / "runs").iterdir()) == []


def test_a_record_from_before_checkpoints_still_opens(trained, tmp_path):
    spec, _splits, trainer, collector = trained
    store = RunStore(tmp_path)
    rec = _record(trainer, spec, collector)
    rec.checkpoints = []
    store.save(rec, trainer.model)
    path = tmp_path / f"{rec.id}.json"
    data = json.loads(path.read_text())
    del data["checkpoints"]  # as an earlier version wrote it
    path.write_text(json.dumps(data))
    records, problems = store.list()
    assert problems == [] and len(records) == 1
    assert records[0].checkpoints == [] and store.load_checkpoints(records[0]) == []
    assert store.load_model(records[0]).model.num_params() == trainer.model.num_params()


def test_missing_or_damaged_checkpoint_files(trained, tmp_path):
    spec, _splits, trainer, collector = trained
    store = RunStore(tmp_path)
    rec = _record(trainer, spec, collector)
    store.save(rec, trainer.model)
    ckpt_file = store.checkpoints_path(rec.id)
    ckpt_file.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(RunStoreError, match="damaged"):
        store.load_checkpoints(store.get(rec.id))
    ckpt_file.unlink()
    records, problems = store.list()
    assert problems == [] and records[0].checkpoints == []  # listed, without moments to go back to
    # a damaged index in the record: the run is skipped with the reason
    path = tmp_path / f"{rec.id}.json"
    data = json.loads(path.read_text())
    data["checkpoints"] = [{"step": 5, "epoch": 0.2}, {"step": 1, "epoch": 0.04}]
    path.write_text(json.dumps(data))
    records, problems = store.list()
    assert records == [] and "steps must increase" in problems[0].reason
    with pytest.raises(ValueError):
        index_from_json([{"step": "1", "epoch": 0.1}])
    with pytest.raises(ValueError):
        index_from_json([{"step": 1, "epoch": 0.1, "val_accuracy": 7.0}])


def test_cached_confusion_and_strip_per_checkpoint_equal_a_fresh_evaluation(trained, mnist):
    spec, _splits, _trainer, collector = trained
    images, labels = mnist.test_images[:700], mnist.test_labels[:700]
    strip = to_float(mnist.test_images[:24])
    seen = []
    results = analyse_run(spec, collector.checkpoints, images, labels, strip, report=seen.append,
                          done={collector.checkpoints[1].step})
    assert [r.step for r in results] == [64, 0, 2, 6, 16, 32]  # the latest first; the cached one skipped
    assert [r.step for r in seen] == [r.step for r in results]
    by_step = {c.step: c for c in collector.checkpoints}
    for r in results:
        model = model_at(spec, by_step[r.step])
        fresh = evaluate(model, images, labels)
        np.testing.assert_array_equal(r.confusion, fresh.confusion)
        assert r.evaluation.accuracy == fresh.accuracy and r.confusion.sum() == 700
        np.testing.assert_array_equal(r.strip, model.predict_proba(strip.reshape(24, -1)))
    assert results[0].evaluation.accuracy > results[1].evaluation.accuracy  # trained beats untrained


def test_watch_it_learn_gives_one_row_per_checkpoint(trained, mnist):
    spec, _splits, _trainer, collector = trained
    seven = to_float(mnist.test_images[0])  # a 7
    assert mnist.test_labels[0] == 7
    probs = watch_probabilities(spec, collector.checkpoints, seven)
    assert probs.shape == (7, 10) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    for row, c in zip(probs, collector.checkpoints):
        np.testing.assert_array_equal(row, model_at(spec, c).predict_proba(seven.reshape(1, -1))[0])
    assert probs[-1, 7] > probs[0, 7] and probs[-1].argmax() == 7
    assert watch_probabilities(spec, [], seven).shape == (0, 10)
