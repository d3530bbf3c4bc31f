"""Architecture files as the issue's fuzzer found them crashing: each is exit 2 with one line naming the file."""

from __future__ import annotations

import json

import pytest

from mnist_studio import cli

BASE = {"name": "ok", "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 10}]}


def spec_text(**change):
    return json.dumps({**BASE, **change})


@pytest.mark.parametrize("text, message", [
    ("[" * 100_000 + "]" * 100_000, "nested 100,000 levels deep"),
    (spec_text(layers=[{"type": []}]), "Layer 1 ([]): unknown layer type []"),
    (spec_text(layers=[{"type": {"a": 1}}]), "unknown layer type {'a': 1}"),
    (spec_text(layers=[{"type": "Dense", "units": {"n": 10}}]), "Layer 1 (Dense): units must be a whole number"),
    (spec_text(init=["he"]), "unknown initialiser ['he']"),
    (spec_text(input_shape={"h": 28}), "input_shape must be a list of whole numbers"),
    (spec_text(input_shape=[1e300, 28, 1]), "does not match the data"),
    (spec_text(name=7), "the architecture's 'name' must be text, got 7"),
    (spec_text().replace('"ok"', '"\\ud800"'), "lone UTF-16 surrogate"),
    (spec_text().replace('"units": 10', '"units": ' + "1" * 5000), "a number with 5,000 digits"),
    (spec_text(layers=[{"type": "Flatten"}] + [{"type": "ReLU"}] * 100_000), "100,001 layers; at most 1,000"),
])
@pytest.mark.parametrize("command", ["summary", "train"])
def test_hostile_specs_are_one_line_naming_the_file(tmp_path, capsys, text, message, command):
    path = tmp_path / "hostile.json"
    path.write_text(text, encoding="utf-8")
    extra = ["--out", str(tmp_path / "m.npz"), "--limit", "10"] if command == "train" else []
    assert cli.main([command, "--spec", str(path), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "hostile.json" in err[0] and message in err[0], err


@pytest.mark.parametrize("training, message", [
    ({"batch_size": 64.5}, "'batch_size' must be a whole number, got 64.5"),
    ({"optimizer": ["adam"]}, "'optimizer' must be text"),
    ({"lr": "0.1"}, "'lr' must be a number"),
    ([1, 2], "the architecture's 'training' block must be an object"),
])
def test_the_suggested_training_settings_are_checked_with_the_files_name(tmp_path, capsys, training, message):
    path = tmp_path / "s.json"
    path.write_text(spec_text(training=training))
    assert cli.main(["train", "--spec", str(path), "--out", str(tmp_path / "m.npz"), "--limit", "10"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"mnist-studio: error: {path}: the suggested training settings: {message}"] or (
        len(err) == 1 and message in err[0] and str(path) in err[0]), err
