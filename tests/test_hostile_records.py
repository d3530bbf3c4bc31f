"""Run records and JSON as a damaged disk or an attacker leaves them: each bad file is skipped with its reason
(never a crash), a good one beside it still lists, and the validating JSON reader refuses what Python's ``json``
would let through to crash later (deep nesting, huge numbers, lone surrogates)."""

from __future__ import annotations

import json
import re

import pytest

from mnist_studio import jsonread
from mnist_studio.training.config import TrainConfig
from mnist_studio.training.runstore import RunStore
from tests.test_runstore import make_record

DEEP = "[" * 100_000 + "]" * 100_000
HOSTILE_RECORDS = {
    "huge_date": ('{"name": "a", "spec": {}, "created": 1e300}', "'created' must be between"),
    "deep": (DEEP, "nested 100,000 levels deep"),
    "long_number": ('{"name": "a", "spec": {}, "created": ' + "9" * 5000 + "}", "a number with 5,000 digits"),
    "name_list": ('{"name": ["x"], "spec": {}}', "'name' must be text"),
    "spec_list": ('{"name": "a", "spec": []}', "'spec' must be an object"),
    "half_batch": ('{"name": "a", "spec": {}, "config": {"batch_size": 64.5}}', "'batch_size' must be a whole number"),
    "lr_text": ('{"name": "a", "spec": {}, "config": {"lr": "fast"}}', "'lr' must be a number"),
    "metric_text": ('{"name": "a", "spec": {}, "metrics": {"val_accuracy": "high"}}', "metric 'val_accuracy'"),
    "inf": ('{"name": "a", "spec": {}, "duration": 1e400}', "too large"),
    "surrogate": ('{"name": "\\ud800", "spec": {}}', "lone UTF-16 surrogate"),
    "epochs_list": ('{"name": "a", "spec": {}, "history": {"epochs": [[1]]}}', "epoch record 1 must be an object"),
    "ragged": ('{"name": "a", "spec": {}, "history": {"batches": {"step": [1, 2], "loss": [1]}}}',
               "different lengths"),
    "batch_text": ('{"name": "a", "spec": {}, "history": {"batches": {"step": ["1"], "epoch": [1], "loss": [1], '
                   '"accuracy": [1], "lr": [1]}}}', "batches.step[0] must be a number"),
    "negative_seed": ('{"name": "a", "spec": {}, "config": {"seed": -1}}', "'seed' must be between 0"),
    "version_text": ('{"name": "a", "spec": {}, "format_version": "1"}', "'format_version' must be a whole number"),
}


def test_each_hostile_record_is_skipped_with_its_reason_and_good_runs_still_list(tmp_path):
    store = RunStore(tmp_path / "runs")
    good = store.save(make_record("still here"))
    for name, (text, _) in HOSTILE_RECORDS.items():
        (store.folder / f"{name}.json").write_text(text, encoding="utf-8")
    records, problems = store.list()
    assert [r.name for r in records] == ["still here"] and records[0].id == good.id
    reasons = {p.file.stem: p.reason for p in problems}
    assert set(reasons) == set(HOSTILE_RECORDS)  # each reported exactly once
    assert len(problems) == len(HOSTILE_RECORDS)
    for name, (_, expected) in HOSTILE_RECORDS.items():
        assert expected in reasons[name], (name, reasons[name])
        assert "\n" not in reasons[name] and len(reasons[name]) < 300


def test_a_record_keeps_its_typed_values(tmp_path):
    store = RunStore(tmp_path)
    rec = store.save(make_record())
    back = store.get(rec.id)
    assert isinstance(back.config.batch_size, int) and back.config.batch_size == 32
    assert [e["epoch"] for e in back.history.epochs] == [1, 2] and isinstance(back.history.epochs[0]["step"], int)
    assert back.history.series("loss").tolist() == rec.history.series("loss").tolist()
    assert back.created == rec.created and back.metrics == rec.metrics


def test_a_diverged_runs_nan_loss_still_reads(tmp_path):
    store = RunStore(tmp_path)
    rec = make_record()
    rec.history.epochs[-1]["train_loss"] = float("nan")
    rec.metrics["val_loss"] = float("nan")
    store.save(rec)
    back = store.get(rec.id)
    assert back.history.epochs[-1]["train_loss"] != back.history.epochs[-1]["train_loss"]  # NaN


@pytest.mark.parametrize("text, expected", [
    (DEEP, "nested 100,000 levels deep"),
    ('{"a": "[[[[", "b": 1}', None),  # brackets inside strings are text, not nesting
    ("1" * 41, "41 digits"),
    ("-" + "1" * 40, None),
    ("1e400", "too large"),
    ("NaN", "not a number JSON allows"),
    ('"\\udc00"', "lone UTF-16 surrogate"),
    ('{"\\ud800": 1}', "lone UTF-16 surrogate"),
    ('"\\ud83d\\ude00"', None),  # a proper pair is one character
    ("{", "not valid JSON (line 1"),
    (b"\xff\xfe", "not a text (UTF-8) file"),
])
def test_loads_refuses_what_would_crash_later(text, expected):
    if expected is None:
        jsonread.loads(text)
        return
    with pytest.raises(jsonread.JsonError, match=re.escape(expected)):
        jsonread.loads(text)


@pytest.mark.parametrize("block, expected", [
    ({"batch_size": 64.5}, "'batch_size' must be a whole number, got 64.5"),
    ({"batch_size": True}, "'batch_size' must be a whole number"),
    ({"optimizer": []}, "'optimizer' must be text"),
    ({"lr": {"a": 1}}, "'lr' must be a number"),
    ({"augment": 3}, "'augment' must be text"),
    ({"limit": "all"}, "'limit' must be a whole number"),
])
def test_training_settings_of_the_wrong_json_type_are_named(block, expected):
    with pytest.raises(jsonread.JsonError, match=expected):
        TrainConfig.from_dict(block)
    assert TrainConfig.from_dict({"batch_size": 64.0, "limit": None, "init": None}).batch_size == 64


def test_a_deep_record_is_refused_quickly_and_without_recursion(tmp_path):
    (tmp_path / "deep.json").write_text("{" + '"a":{' * 200_000 + "}" * 200_001)
    _, problems = RunStore(tmp_path).list()
    assert "nested 200,001 levels deep" in problems[0].reason
    json.dumps(problems[0].reason)
