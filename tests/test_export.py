"""ONNX and PyTorch exports, each loaded back in the other runtime and held to our predictions within 1e-5."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from mnist_studio.data.datasets import to_float
from mnist_studio.data.splits import make_splits
from mnist_studio.export.layout import ExportError, flatten_order, plan
from mnist_studio.nn.model import Model
from mnist_studio.nn.spec import load_preset
from mnist_studio.training.config import TrainConfig
from mnist_studio.training.trainer import Trainer

SMALL_CNN = {"name": "small-cnn", "input_shape": [28, 28, 1], "init": "he", "layers": [
    {"type": "Conv2D", "filters": 6, "kernel_size": 5, "padding": "same"}, {"type": "ReLU"},
    {"type": "MaxPool2D", "pool_size": 2},
    {"type": "Conv2D", "filters": 8, "kernel_size": 3}, {"type": "ReLU"}, {"type": "MaxPool2D", "pool_size": 2},
    {"type": "Flatten"}, {"type": "Dense", "units": 24}, {"type": "ReLU"}, {"type": "Dropout", "rate": 0.25},
    {"type": "Dense", "units": 10}, {"type": "Softmax"}]}

# Every other layer type and the awkward cases: an even kernel with 'same' padding (uneven pads), strides,
# overlapping pools, BatchNorm on images and on vectors, a Flatten followed by BatchNorm (the Dense cannot absorb
# the reordering there), no final Softmax.
EVERY_LAYER = {"name": "every-layer", "input_shape": [28, 28, 1], "init": "he", "layers": [
    {"type": "Conv2D", "filters": 4, "kernel_size": 4, "stride": 2, "padding": "same"}, {"type": "BatchNorm"},
    {"type": "LeakyReLU", "alpha": 0.1}, {"type": "AvgPool2D", "pool_size": 3, "stride": 2},
    {"type": "Conv2D", "filters": 3, "kernel_size": 2, "padding": 1}, {"type": "Tanh"},
    {"type": "MaxPool2D", "pool_size": 2}, {"type": "Flatten"}, {"type": "BatchNorm"}, {"type": "Sigmoid"},
    {"type": "Dropout", "rate": 0.3}, {"type": "Dense", "units": 10}]}

FLAT_INPUT = {"name": "flat", "input_shape": [784], "init": "xavier", "layers": [
    {"type": "Dense", "units": 16}, {"type": "Tanh"}, {"type": "Dense", "units": 10}, {"type": "Softmax"}]}


@pytest.fixture(scope="module")
def images(mnist):
    return to_float(mnist.test_images[:100]), mnist.test_labels[:100]


@pytest.fixture(scope="module")
def trained_cnn(mnist):
    """Briefly trained, so its probabilities are peaked and a layout mistake would change the answers."""
    config = TrainConfig(optimizer="adam", lr=0.003, batch_size=32, epochs=1, limit=1500, val_size=100, seed=2)
    model = Model(SMALL_CNN, seed=2)
    Trainer(model, make_splits(mnist, val_size=100, limit=1500), config).fit()
    return model


def randomised_every_layer() -> Model:
    model = Model(EVERY_LAYER, seed=4)
    rng = np.random.default_rng(0)
    for layer in model.layers:  # BatchNorm statistics that matter, not the initial 0/1
        if "running_mean" in layer.buffers:
            layer.buffers["running_mean"][:] = rng.normal(0, 0.5, layer.buffers["running_mean"].shape)
            layer.buffers["running_var"][:] = rng.uniform(0.5, 2.0, layer.buffers["running_var"].shape)
            layer.params["gamma"][:] = rng.uniform(0.5, 2.0, layer.params["gamma"].shape)
            layer.params["beta"][:] = rng.normal(0, 0.3, layer.params["beta"].shape)
    return model


def test_flatten_order_and_plan():
    # value at (h, w, c) of a 2×2×3 image: ours flattens h, w, c; channel-first flattens c, h, w
    order = flatten_order(2, 2, 3)
    ours = np.arange(12)
    assert list(ours[order]) == [0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11]
    steps = plan(Model(SMALL_CNN))
    assert steps[7].row_order is not None and not steps[6].channels_last_flatten  # absorbed by the Dense
    steps = plan(Model(EVERY_LAYER))
    assert steps[7].channels_last_flatten and all(s.row_order is None for s in steps)  # BatchNorm in between


# -- ONNX ----------------------------------------------------------------------------------------------------------

def run_onnx(path_or_bytes, x):
    import onnxruntime as ort

    session = ort.InferenceSession(path_or_bytes, providers=["CPUExecutionProvider"])
    return session, session.run(None, {"image": x})


@pytest.mark.parametrize("which", ["trained_cnn", "lenet", "every_layer", "mlp", "flat_input"])
def test_onnx_export_matches_our_predictions(which, images, trained_cnn, tmp_path):
    import onnx

    from mnist_studio.export.onnx_export import OPSET, export_onnx

    x, labels = images
    model = {"trained_cnn": lambda: trained_cnn, "lenet": lambda: Model(load_preset("lenet"), seed=1),
             "every_layer": randomised_every_layer, "mlp": lambda: Model(load_preset("mlp-512-256"), seed=3),
             "flat_input": lambda: Model(FLAT_INPUT, seed=5)}[which]()
    ours = model.predict_proba(x)
    path = export_onnx(model, tmp_path / "model.onnx")

    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    assert proto.opset_import[0].version == OPSET >= 13
    assert [i.name for i in proto.graph.input] == ["image"]
    dims = [d.dim_param or d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["N", 1, 28, 28]
    assert proto.graph.output[0].name == "probabilities"

    session, outputs = run_onnx(str(path), x.reshape(-1, 1, 28, 28))
    assert outputs[0].shape == (100, 10)
    np.testing.assert_allclose(outputs[0], ours, atol=1e-5, rtol=0)
    np.testing.assert_array_equal(outputs[0].argmax(1), ours.argmax(1))
    if not model.ends_with_softmax:
        assert [o.name for o in session.get_outputs()] == ["probabilities", "scores"]
        np.testing.assert_allclose(outputs[1], model.forward(model.prepare(x)), atol=1e-5, rtol=0)
    if which == "trained_cnn":
        assert (ours.argmax(1) == labels).mean() > 0.6 and ours.max(1).mean() > 0.5  # really trained


def test_onnx_export_with_our_own_input_layout(images, trained_cnn):
    from mnist_studio.export.onnx_export import build_onnx

    x, _ = images
    proto = build_onnx(trained_cnn, input_layout="nhwc")
    _, outputs = run_onnx(proto.SerializeToString(), x.reshape(-1, 28, 28, 1))
    np.testing.assert_allclose(outputs[0], trained_cnn.predict_proba(x), atol=1e-5, rtol=0)
    with pytest.raises(ExportError, match="input layout"):
        build_onnx(trained_cnn, input_layout="chwn")


def test_onnx_missing_package_and_unwritable_target_are_clear(monkeypatch, tmp_path, trained_cnn):
    from mnist_studio.export.onnx_export import export_onnx

    (tmp_path / "file").write_text("x")
    with pytest.raises(ExportError, match="cannot write .*file/model.onnx"):
        export_onnx(trained_cnn, tmp_path / "file" / "model.onnx")
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    with pytest.raises(ExportError, match=r"pip install 'mnist-studio\[onnx\]'"):
        export_onnx(trained_cnn, tmp_path / "model.onnx")
    assert not (tmp_path / "model.onnx").exists()


# -- PyTorch -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["trained_cnn", "every_layer", "flat_input"])
def test_torch_script_rebuilds_the_same_network(which, images, trained_cnn, tmp_path):
    pytest.importorskip("torch")  # the venv has torch; an install without it still runs the rest
    import runpy

    from mnist_studio.export.torch_script import export_torch_script

    x, _ = images
    model = {"trained_cnn": lambda: trained_cnn, "every_layer": randomised_every_layer,
             "flat_input": lambda: Model(FLAT_INPUT, seed=5)}[which]()
    script, weights = export_torch_script(model, tmp_path / "net")
    assert script.name == "net.py" and weights == tmp_path / "net_weights.npz" and weights.is_file()
    ns = runpy.run_path(str(script), run_name="exported")
    net = ns["load_weights"](ns["build_model"]())
    import torch

    assert isinstance(net, torch.nn.Sequential) and not net.training
    probs = ns["predict_proba"](net, x)
    np.testing.assert_allclose(probs, model.predict_proba(x), atol=1e-5, rtol=0)


@pytest.mark.parametrize("which", ["flat_input", "every_layer"])
def test_torch_script_header_says_how_to_train_and_it_is_true(which, images, tmp_path):
    """The header tells a PyTorch user what to train on; doing what it says gives the loss our fused
    cross-entropy computes (a model ending in Softmax: model[:-1] with nn.CrossEntropyLoss; one ending in logits:
    the whole model). Evaluation mode on both sides, so dropout and batch statistics do not differ."""
    torch = pytest.importorskip("torch")
    import runpy

    from mnist_studio.export.torch_script import export_torch_script
    from mnist_studio.nn.losses import make_loss

    model = Model(FLAT_INPUT, seed=5) if which == "flat_input" else randomised_every_layer()
    script, _ = export_torch_script(model, tmp_path / "net.py")
    header = script.read_text().split('"""')[1]
    assert "Coming from PyTorch" in header and "pixels / 255" in header and "BatchNorm momentum" in header
    x, labels = images[0][:16], images[1][:16]
    ns = runpy.run_path(str(script), run_name="exported")
    net = ns["load_weights"](ns["build_model"]())
    if model.ends_with_softmax:
        assert "train on model[:-1] (the logits) with nn.CrossEntropyLoss" in header
        trained = net[:-1]
    else:
        assert "train it with nn.CrossEntropyLoss as it" in header and "model[:-1]" not in header
        trained = net
    upto = len(model.layers) - 1 if model.ends_with_softmax else None  # what our fused loss reads (eval mode)
    ours, _ = make_loss("cross_entropy")(model.forward(model.prepare(x), upto=upto), labels)
    theirs = torch.nn.CrossEntropyLoss()(trained(torch.from_numpy(x.reshape(-1, 1, 28, 28))),
                                         torch.from_numpy(labels.astype(np.int64)))
    assert float(theirs.detach()) == pytest.approx(ours, rel=1e-5)


def test_torch_script_runs_as_a_program(mnist, trained_cnn, tmp_path):
    pytest.importorskip("torch")
    from mnist_studio.export.torch_script import export_torch_script

    (tmp_path / "export").mkdir()
    script, _ = export_torch_script(trained_cnn, tmp_path / "export" / "cnn.py")
    source = script.read_text()
    assert "allow_pickle=False" in source and "nn.Sequential(" in source and "nn.Conv2d(1, 6" in source
    np.save(tmp_path / "digits.npy", mnist.test_images[:100])  # uint8, as a user would have them
    moved = tmp_path / "elsewhere"
    (tmp_path / "export").rename(moved)  # the script finds its weights next to itself, wherever it goes
    result = subprocess.run([sys.executable, str(moved / "cnn.py"), str(tmp_path / "digits.npy"),
                             "--out", str(tmp_path / "p.npy")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    ours = trained_cnn.predict_proba(to_float(mnist.test_images[:100]))
    assert result.stdout.split() == [str(d) for d in ours.argmax(1)]
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), ours, atol=1e-5, rtol=0)


def test_cli_export(tmp_path, capsys, trained_cnn):
    from mnist_studio.cli import main
    from mnist_studio.nn.modelfile import save_model

    save_model(tmp_path / "cnn.npz", trained_cnn)
    assert main(["export", str(tmp_path / "cnn.npz"), "--onnx", str(tmp_path / "cnn.onnx"),
                 "--torch", str(tmp_path / "cnn_torch.py")]) == 0
    assert (tmp_path / "cnn.onnx").stat().st_size > 10_000
    assert (tmp_path / "cnn_torch.py").is_file() and (tmp_path / "cnn_torch_weights.npz").is_file()
    capsys.readouterr()
    assert main(["export", str(tmp_path / "cnn.npz")]) == 2
    assert main(["export", str(tmp_path / "missing.npz"), "--onnx", str(tmp_path / "x.onnx")]) == 2
    assert main(["export", str(tmp_path / "cnn.npz"), "--onnx", str(tmp_path / "cnn.npz" / "x.onnx")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("mnist-studio: error: ") for line in err)
    assert "--onnx" in err[0] and "missing.npz: no such file" in err[1] and "cannot write" in err[2]


def test_export_both_without_the_onnx_extra_still_writes_the_torch_script(monkeypatch, tmp_path, capsys):
    """Asked for ONNX and PyTorch with onnx not installed: the script and its weights are written, the ONNX file
    is not, and one line says why (exit status 2); asked for ONNX alone, nothing is written."""
    from mnist_studio.cli import main
    from mnist_studio.nn.modelfile import save_model

    model_path = tmp_path / "m.npz"
    save_model(model_path, Model(load_preset("logistic"), seed=0))
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    rc = main(["export", str(model_path), "--onnx", str(tmp_path / "m.onnx"), "--torch", str(tmp_path / "m.py")])
    err = capsys.readouterr().err
    assert rc == 2
    assert (tmp_path / "m.py").is_file() and (tmp_path / "m_weights.npz").is_file()
    assert "def " in (tmp_path / "m.py").read_text()
    assert not (tmp_path / "m.onnx").exists()
    last = err.strip().splitlines()[-1]
    assert "pip install 'mnist-studio[onnx]'" in last and "m.onnx was not written" in last
    rc = main(["export", str(model_path), "--onnx", str(tmp_path / "only.onnx")])
    assert rc == 2 and not (tmp_path / "only.onnx").exists()
    assert "nothing was written" in capsys.readouterr().err
