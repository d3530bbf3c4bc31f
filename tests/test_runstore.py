"""The run store: runs kept as JSON + model files, damaged files skipped with a reason, faults reported."""

from __future__ import annotations

import csv
import errno
import json
import os

import numpy as np
import pytest

from mnist_studio.data.splits import make_splits
from mnist_studio.nn.model import Model
from mnist_studio.nn.spec import load_preset
from mnist_studio.training.config import TrainConfig
from mnist_studio.training.events import BatchEnd, EpochEnd
from mnist_studio.training.history import RunHistory
from mnist_studio.training.runs import RunRecord
from mnist_studio.training.runstore import RunStore, RunStoreError
from mnist_studio.training.trainer import Trainer


def make_record(name="relu run", seed=3, epochs=2, created=1_700_000_000.0) -> RunRecord:
    """A hand-made record: two epochs of four batches with known numbers."""
    h = RunHistory()
    step = 0
    for ep in range(1, epochs + 1):
        for b in range(1, 5):
            step += 1
            h.add_batch(BatchEnd(step, ep - 1 + b / 4, b, 4, 2.0 / step, 0.1 * b, 0.01, 1000.0))
        h.add_epoch(EpochEnd(ep, step, 1.5 / ep, 0.5 + 0.1 * ep, 1.2 / ep, 0.6 + 0.1 * ep, 0.25, 0.01))
    config = TrainConfig(optimizer="sgd", lr=0.05, batch_size=32, epochs=epochs, seed=seed)
    return RunRecord(name, load_preset("logistic"), config, h, status="finished", message="trained 2 epochs",
                     metrics={"val_accuracy": 0.8, "val_loss": 0.6}, duration=1.25, created=created)


def test_round_trip_keeps_everything(tmp_path):
    store = RunStore(tmp_path / "runs")
    rec = make_record()
    model = Model(rec.spec, seed=5)
    store.save(rec, model)
    assert (tmp_path / "runs" / f"{rec.id}.json").is_file() and (tmp_path / "runs" / f"{rec.id}.npz").is_file()

    records, problems = RunStore(tmp_path / "runs").list()
    assert problems == []
    assert len(records) == 1
    got = records[0]
    assert (got.id, got.name, got.status, got.message) == (rec.id, "relu run", "finished", "trained 2 epochs")
    assert got.spec == rec.spec
    assert got.config == rec.config and got.config.seed == 3
    assert got.metrics == {"val_accuracy": 0.8, "val_loss": 0.6}
    assert got.duration == 1.25 and got.created == rec.created
    assert got.history.epochs == rec.history.epochs
    np.testing.assert_array_equal(got.history.series("loss"), rec.history.series("loss"))
    # The JSON names the model by file name only, so the folder can move as a whole.
    assert json.loads((tmp_path / "runs" / f"{rec.id}.json").read_text())["model_path"] == f"{rec.id}.npz"

    loaded = store.load_model(got)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(loaded.model.state_dict()[k], v)
    assert loaded.training["seed"] == 3


def test_list_sorts_by_creation_and_rename_and_delete_persist(tmp_path):
    store = RunStore(tmp_path)
    late, early = make_record("late", created=2e9), make_record("early", created=1e9)
    store.save(late, Model(late.spec))
    store.save(early)  # a run without a model file is still a run
    assert [r.name for r in store.list()[0]] == ["early", "late"]

    store.rename(late.id, "  sigmoid, lr 0.1  ")
    assert [r.name for r in store.list()[0]] == ["early", "sigmoid, lr 0.1"]
    with pytest.raises(RunStoreError, match="needs a name"):
        store.rename(late.id, "   ")

    store.delete(late.id)
    assert not (tmp_path / f"{late.id}.json").exists() and not (tmp_path / f"{late.id}.npz").exists()
    assert [r.name for r in store.list()[0]] == ["early"]
    store.delete(late.id)  # deleting twice is harmless


def test_corrupt_files_are_skipped_with_reasons(tmp_path):
    store = RunStore(tmp_path)
    good = make_record("good")
    store.save(good, Model(good.spec))
    (tmp_path / "truncated.json").write_text('{"name": "half a run", "spec": {')
    (tmp_path / "alist.json").write_text("[1, 2, 3]")
    (tmp_path / "nospec.json").write_text(json.dumps({"name": "no spec"}))
    (tmp_path / "badconfig.json").write_text(json.dumps({"name": "x", "spec": {}, "config": {"lr": -1}}))
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00garbage")
    (tmp_path / "future.json").write_text(json.dumps({"format": "mnist-studio-run", "format_version": 99,
                                                      "name": "x", "spec": {}}))
    lost = make_record("model lost")
    store.save(lost, Model(lost.spec))
    (tmp_path / f"{lost.id}.npz").unlink()

    records, problems = store.list()
    assert sorted(r.name for r in records) == ["good", "model lost"]
    reasons = {p.file.name: p.reason for p in problems}
    assert "not valid JSON (line 1" in reasons["truncated.json"]
    assert "not an object" in reasons["alist.json"]
    assert "'spec'" in reasons["nospec.json"]
    assert "learning rate" in reasons["badconfig.json"]
    assert "not a text file" in reasons["binary.json"]
    assert "newer version" in reasons["future.json"]
    assert "model file is missing" in reasons[f"{lost.id}.json"]
    assert str(problems[0]).startswith(problems[0].file.name + ": ")
    assert next(r for r in records if r.name == "model lost").model_path is None
    with pytest.raises(RunStoreError, match="no saved model"):
        store.load_model(next(r for r in records if r.name == "model lost"))


def test_unsafe_run_ids_never_become_paths(tmp_path):
    store = RunStore(tmp_path / "runs")
    rec = make_record()
    rec.id = "../../escape"
    with pytest.raises(RunStoreError, match="cannot be used as a file name"):
        store.save(rec)
    with pytest.raises(RunStoreError):
        store.delete("../x")
    assert list(tmp_path.rglob("*.json")) == []


def test_csv_export_per_epoch_and_per_batch(tmp_path):
    store = RunStore(tmp_path)
    rec = make_record()
    assert store.export_csv(rec, tmp_path / "m.csv") == 2
    rows = list(csv.DictReader((tmp_path / "m.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert [float(r["train_loss"]) for r in rows] == [1.5, 0.75]
    assert [float(r["val_accuracy"]) for r in rows] == [pytest.approx(0.7), pytest.approx(0.8)]
    assert rows[1]["step"] == "8"

    assert store.export_csv(rec, tmp_path / "b.csv", per_batch=True) == 8
    rows = list(csv.reader((tmp_path / "b.csv").open()))
    assert rows[0] == ["step", "epoch", "loss", "accuracy", "lr"]
    assert rows[3][:3] == ["3", "0.75", repr(2.0 / 3)]

    rec.history.epochs[0]["val_loss"] = None  # a run without validation: empty cells, not "None"
    store.export_csv(rec, tmp_path / "m2.csv")
    assert list(csv.DictReader((tmp_path / "m2.csv").open()))[0]["val_loss"] == ""


def test_full_disk_is_reported_and_nothing_is_lost(tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    rec = make_record("original")
    store.save(rec, Model(rec.spec))
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(RunStoreError) as err:
        store.rename(rec.id, "renamed")
    assert str(tmp_path) in str(err.value) and "No space left on device" in str(err.value)

    other = make_record("new run")
    with pytest.raises(RunStoreError, match="No space left on device"):
        store.save(other, Model(other.spec))
    with pytest.raises(RunStoreError, match="No space left on device"):
        store.export_csv(rec, tmp_path / "out.csv")
    monkeypatch.undo()

    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after == before  # the old run untouched, no temporary files or half-written runs left behind
    assert [r.name for r in store.list()[0]] == ["original"]


def test_folder_that_is_a_file_is_reported(tmp_path):
    (tmp_path / "blocker").write_text("a file where the runs folder should be")
    store = RunStore(tmp_path / "blocker" / "runs")
    assert store.list() == ([], [])
    with pytest.raises(RunStoreError, match="cannot create the runs folder .*blocker"):
        store.save(make_record())
    flat = RunStore(tmp_path / "blocker")
    with pytest.raises(RunStoreError, match="not a folder"):
        flat.save(make_record())
    records, problems = flat.list()
    assert records == [] and "is a file" in problems[0].reason


def test_rerunning_a_stored_run_with_its_seed_reproduces_its_curve(tmp_path, mnist):
    def train(spec, config):
        splits = make_splits(mnist, val_size=config.val_size, limit=config.limit)
        model = Model(spec, seed=config.seed, init=config.init)
        trainer = Trainer(model, splits, config)
        trainer.fit()
        return trainer, model

    spec = load_preset("tiny-mlp")
    config = TrainConfig.for_spec(spec, epochs=2, batch_size=50, limit=300, val_size=1000, seed=11, augment=True)
    trainer, model = train(spec, config)
    first = RunRecord("first", spec, config, trainer.history, status="finished")
    RunStore(tmp_path).save(first, model)

    stored = RunStore(tmp_path).list()[0][0]
    again, _ = train(stored.spec, stored.config)
    original = stored.history.series("loss")
    assert len(original) == 12
    np.testing.assert_array_equal(again.history.series("loss"), original)
    assert [e["val_loss"] for e in again.history.epochs] == [e["val_loss"] for e in stored.history.epochs]
    other_seed, _ = train(spec, TrainConfig.from_dict({**config.to_dict(), "seed": 12}))
    assert not np.array_equal(other_seed.history.series("loss"), original)


def test_read_only_folder_is_reported(tmp_path, monkeypatch):
    """chmod does not stop root (tests may run as root), so the read-only file system is simulated."""
    from mnist_studio import fileio

    store = RunStore(tmp_path)

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(fileio, "_create_temp", read_only)
    rec = make_record("cannot stay")
    with pytest.raises(RunStoreError, match=f"{tmp_path}.*Read-only file system"):
        store.save(rec, Model(rec.spec))
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == [] and rec.model_path is None


def test_val_accuracy_from_metrics_else_the_last_epoch_that_measured_one():
    from mnist_studio.training.runs import final_metrics
    h = RunHistory()
    h.epochs = [{"epoch": 1, "val_accuracy": 0.91, "train_loss": 0.5}, {"epoch": 2, "val_accuracy": None}]
    rec = RunRecord(name="r", spec={}, config=TrainConfig(), history=h)
    assert rec.val_accuracy() == pytest.approx(0.91)  # epoch 2 measured none: epoch 1's
    assert final_metrics(h) == {}  # the last epoch measured nothing
    rec.metrics = final_metrics(RunHistory.from_dict({"epochs": [{"epoch": 1, "val_accuracy": 0.97}]}))
    assert rec.val_accuracy() == pytest.approx(0.97)
    assert RunRecord(name="e", spec={}, config=TrainConfig()).val_accuracy() is None
