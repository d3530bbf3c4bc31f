"""Architecture specs: shape inference, parameter counts, presets, and errors a student understands."""

import json

import pytest

from mnist_studio.nn.spec import (SpecError, analyse, list_presets, load_preset, load_spec_file, normalise,
                                  summary_text, validate)

PRESETS = {"tutorial-sigmoid-mlp": 79510, "tiny-mlp": 7960, "tutorial-cnn": 6810, "mlp-512-256": 535818,
           "lenet": 454922, "logistic": 7850}


def spec(*layers, **extra):
    return {"input_shape": [28, 28, 1], "layers": list(layers), **extra}


def test_presets_exist_with_descriptions_and_parameter_counts():
    presets = list_presets()
    assert set(presets) == set(PRESETS)
    for name, count in PRESETS.items():
        assert presets[name]["description"]
        assert analyse(presets[name]).total_params == count


def test_lenet_shapes():
    rows = validate(load_preset("lenet")).rows
    assert [r.output_shape for r in rows[:7]] == [(28, 28, 32), (28, 28, 32), (14, 14, 32), (14, 14, 64),
                                                   (14, 14, 64), (7, 7, 64), (3136,)]
    assert [r.params for r in rows if r.params] == [832, 51264, 401536, 1290]


@pytest.mark.parametrize("layers,position,words", [
    ([{"type": "Dense", "units": 10}], 1, "Dense needs a flat input but receives a 28×28×1 image; add a Flatten"),
    ([{"type": "MaxPool2D", "pool_size": 4}, {"type": "Conv2D", "filters": 4, "kernel_size": 9}, {"type": "Flatten"},
      {"type": "Dense", "units": 10}], 2, "its 9×9 kernel is larger than its 7×7 input"),
    ([{"type": "MaxPool2D", "pool_size": 8}, {"type": "MaxPool2D", "pool_size": 8}, {"type": "Flatten"},
      {"type": "Dense", "units": 10}], 2, "window does not fit in its 3×3 input"),
    ([{"type": "Flatten"}, {"type": "Dense", "units": 100}], 2, "ends with 100 outputs but needs 10"),
    ([{"type": "Conv2D", "filters": 10, "kernel_size": 3}], 1, "ends with a 26×26×10 image but needs 10 scores"),
    ([{"type": "Flatten"}, {"type": "Conv3D"}], 2, "unknown layer type 'Conv3D'"),
    ([{"type": "Flatten"}, {"type": "Dense", "units": -5}], 2, "units must be between 1 and 8192; got -5"),
    ([{"type": "Flatten"}, {"type": "Dropout", "rate": "lots"}], 2, "rate must be a number"),
])
def test_invalid_stacks_name_the_layer_and_say_why(layers, position, words):
    result = analyse(spec(*layers))
    assert not result.ok
    err = result.error
    assert err.index == position - 1
    assert str(err).startswith(f"Layer {position} ({layers[position - 1]['type']}): ")
    assert words in str(err)
    with pytest.raises(SpecError):
        validate(spec(*layers))


def test_rows_before_the_error_are_kept():
    result = analyse(spec({"type": "Flatten"}, {"type": "Dense", "units": 20}, {"type": "Conv2D"}))
    assert [r.output_shape for r in result.rows] == [(784,), (20,)]
    assert result.error.index == 2


def test_whole_spec_errors():
    assert "no layers" in str(analyse(spec()).error)
    assert "nothing to learn" in str(analyse(spec({"type": "Flatten"})).error)
    assert "does not match the data" in str(analyse({"input_shape": [32, 32, 3], "layers": []}).error)
    assert "unknown initialiser" in str(analyse(spec({"type": "Flatten"}, init="zeros")).error)
    assert "JSON object" in str(analyse([1, 2]).error)


def test_flat_input_shape_is_accepted():
    assert validate({"input_shape": [784], "layers": [{"type": "Dense", "units": 10}]}).total_params == 7850


def test_normalise_fills_defaults():
    s = normalise(spec({"type": "Conv2D"}, {"type": "Flatten"}, {"type": "Dense", "units": 10}))
    assert s["layers"][0] == {"type": "Conv2D", "filters": 8, "kernel_size": 3, "stride": 1, "padding": "valid",
                              "init": "auto"}
    assert s["init"] == "he"


def test_spec_files(tmp_path):
    p = tmp_path / "a.json"
    p.write_text(json.dumps(load_preset("logistic")))
    assert load_spec_file(p)["layers"][1]["units"] == 10
    p.write_text("{ not json")
    with pytest.raises(SpecError, match=r"a.json: not valid JSON \(line 1"):
        load_spec_file(p)
    p.write_text(json.dumps(spec({"type": "Dense", "units": 10})))
    with pytest.raises(SpecError, match=r"a.json: Layer 1 \(Dense\)"):
        load_spec_file(p)
    with pytest.raises(SpecError, match="cannot read"):
        load_spec_file(tmp_path / "missing.json")


def test_summary_table():
    text = summary_text(load_preset("lenet"))
    assert "Conv2D (32 filters 5×5, same)" in text and "Total parameters: 454,922" in text
