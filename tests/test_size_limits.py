"""Memory bombs in architectures: parameters, per-batch activations and layer count are limited before anything
is allocated, with a message naming the limit and the layer (summary, train, and a model file whose spec is a
bomb). The command runs run in a child process with a memory limit and a timeout."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mnist_studio.nn.model import Model
from mnist_studio.nn.spec import (MAX_ACTIVATION_BYTES, MAX_LAYERS, MAX_PARAMS, SpecError, analyse, load_preset,
                                  validate)
from tests.limited import run_limited

HUGE_DENSE = {"layers": [{"type": "Flatten"}] + [{"type": "Dense", "units": 8192}] * 40
              + [{"type": "Dense", "units": 10}]}
MANY_RELU = {"layers": [{"type": "Flatten"}, {"type": "Dense", "units": 10}] + [{"type": "ReLU"}] * 100_000}
WIDE_CONV = {"layers": [{"type": "Conv2D", "filters": 1024, "kernel_size": 3, "padding": "same"},
                        {"type": "Flatten"}, {"type": "Dense", "units": 10}]}


def test_limits_name_the_layer_that_crosses_them():
    a = analyse(HUGE_DENSE)
    assert a.error.index == 3 and f"at most {MAX_PARAMS:,} are allowed" in str(a.error)
    assert str(a.error).startswith("Layer 4 (Dense): the network reaches 140,664,832 parameters")
    assert f"at most {MAX_LAYERS:,} are allowed" in str(analyse(MANY_RELU).error)
    ok = analyse(WIDE_CONV, batch_size=64)
    assert ok.ok and ok.activation_floats == 784 + 28 * 28 * 1024 * 2 + 10
    big = analyse(WIDE_CONV, batch_size=1024)
    assert big.error.index == 0 and "a batch of 1,024 images needs 3.3 GB of activations" in str(big.error)
    assert f"at most {MAX_ACTIVATION_BYTES / 1e9:g} GB" in str(big.error) and "lower the batch size" in str(big.error)
    with pytest.raises(SpecError, match="a batch of 1,024 images"):
        validate({**WIDE_CONV, "training": {"batch_size": 1024}})  # the spec's own suggested batch size
    assert analyse(load_preset("lenet"), batch_size=512).ok


def test_prediction_chunks_stay_within_the_activation_limit():
    model = Model(WIDE_CONV)
    assert model.max_chunk == MAX_ACTIVATION_BYTES // (4 * analyse(WIDE_CONV).activation_floats) == 311
    assert Model(load_preset("lenet")).max_chunk > 256  # ordinary networks keep the usual chunk size


def cli(args, memory_mb=1200, timeout=60):
    code = f"""
    import sys
    from mnist_studio import cli
    sys.exit(cli.main({args!r}))
    """
    return run_limited(code, memory_mb=memory_mb, timeout=timeout)


@pytest.mark.parametrize("spec, message", [
    (HUGE_DENSE, "Layer 4 (Dense): the network reaches 140,664,832 parameters here; at most 100,000,000"),
    (MANY_RELU, "the network has 100,002 layers; at most 1,000 are allowed"),
    ({**WIDE_CONV, "training": {"batch_size": 2048}}, "Layer 1 (Conv2D): a batch of 2,048 images needs 6.6 GB"),
])
@pytest.mark.parametrize("command", ["summary", "train"])
def test_summary_and_train_refuse_bombs_under_a_memory_limit(tmp_path, spec, message, command):
    path = tmp_path / "bomb.json"
    path.write_text(json.dumps(spec))
    args = [command, "--spec", str(path)] + (["--out", str(tmp_path / "m.npz"), "--limit", "100"]
                                             if command == "train" else [])
    done = cli(args)
    assert done.returncode == 2, done.stderr[-3000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in done.stderr
    assert not (tmp_path / "m.npz").exists()


def test_train_checks_the_activations_at_the_chosen_batch_size(tmp_path):
    path = tmp_path / "wide.json"
    path.write_text(json.dumps(WIDE_CONV))
    done = cli(["train", "--spec", str(path), "--batch-size", "1024", "--limit", "100", "--out",
                str(tmp_path / "m.npz")])
    assert done.returncode == 2 and "a batch of 1,024 images needs 3.3 GB" in done.stderr, done.stderr[-2000:]


def test_a_small_model_file_whose_spec_is_a_bomb_is_refused(tmp_path):
    model = Model(load_preset("logistic"))
    path = tmp_path / "bomb.npz"
    arrays = {"format": np.array("mnist-studio-model"), "format_version": np.array(1),
              "spec": np.array(json.dumps(HUGE_DENSE)), "training": np.array("{}"), "history": np.array("{}"),
              "optimizer": np.array("null")}
    arrays.update({f"weights/{k}": v for k, v in model.state_dict().items()})
    np.savez_compressed(path, **arrays)
    assert path.stat().st_size < 50_000
    done = cli(["summary", str(path)])
    assert done.returncode == 2 and "the stored architecture is invalid: Layer 4 (Dense)" in done.stderr
    assert "at most 100,000,000" in done.stderr and len(done.stderr.strip().splitlines()) == 1
