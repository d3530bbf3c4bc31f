"""Model files: identical predictions after a round trip, every kind of bad file refused with a clear error,
atomic saves."""

import json
import zipfile

import numpy as np
import pytest

from mnist_studio.nn import modelfile
from mnist_studio.nn.losses import make_loss
from mnist_studio.nn.model import Model
from mnist_studio.nn.modelfile import ModelFileError, load_model, save_model
from mnist_studio.nn.optim import make_optimizer
from mnist_studio.nn.spec import load_preset


@pytest.fixture
def trained(tmp_path):
    model = Model(load_preset("tutorial-cnn"), seed=3)
    opt = make_optimizer("adam", 0.01)
    rng = np.random.default_rng(0)
    x = rng.random((32, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, 32)
    params = [p for _, p, _ in model.named_params()]
    grads = [g for _, _, g in model.named_params()]
    for _ in range(3):
        model.loss_and_grads(x, y, make_loss("cross_entropy"))
        opt.step(params, grads)
    path = tmp_path / "m.npz"
    save_model(path, model, optimizer=opt, training={"lr": 0.01}, history={"epochs": [{"epoch": 1}]})
    return model, opt, x, path


def test_round_trip_gives_identical_predictions_and_state(trained):
    model, opt, x, path = trained
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.model.predict_proba(x), model.predict_proba(x))
    assert loaded.training == {"lr": 0.01} and loaded.history["epochs"] == [{"epoch": 1}]
    opt2 = loaded.make_optimizer()
    assert opt2.t == 3 and opt2.lr == 0.01
    np.testing.assert_array_equal(opt2.slots["m"][0], opt.slots["m"][0])


def test_batchnorm_statistics_are_saved(tmp_path):
    spec = {"input_shape": [28, 28, 1], "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 10},
                                                   {"type": "BatchNorm"}, {"type": "Softmax"}]}
    m = Model(spec)
    m.layers[2].buffers["running_mean"][:] = 3.0
    save_model(tmp_path / "bn.npz", m)
    assert np.all(load_model(tmp_path / "bn.npz").model.layers[2].buffers["running_mean"] == 3.0)


def test_file_is_plain_arrays_loadable_without_pickle(trained):
    _, _, _, path = trained
    with np.load(path, allow_pickle=False) as d:
        assert str(d["format"]) == "mnist-studio-model"
        assert all(d[k].dtype != object for k in d.files)
        assert json.loads(str(d["spec"]))["layers"][0]["type"] == "Conv2D"


def rewrite(path, dest, change):
    with np.load(path, allow_pickle=False) as d:
        arrays = {k: d[k] for k in d.files}
    change(arrays)
    np.savez(dest, **arrays)


@pytest.mark.parametrize("change,words", [
    (lambda a: a.__setitem__("weights/0.W", np.zeros((3, 3, 1, 5), np.float32)),
     "weight 0.W has shape (3, 3, 1, 5), the architecture needs (3, 3, 1, 4)"),
    (lambda a: a.pop("weights/5.b"), "missing 5.b"),
    (lambda a: a.__setitem__("weights/5.b", np.full(10, np.nan, np.float32)), "NaN"),
    (lambda a: a.__setitem__("format_version", np.array(99)), "format version 99"),
    (lambda a: a.__setitem__("format", np.array("something-else")), "not an MNIST Studio model file"),
    (lambda a: a.__setitem__("spec", np.array("{bad json")), "'spec' entry is not valid JSON"),
    (lambda a: a.__setitem__("spec", np.array(json.dumps({"layers": [{"type": "Dense", "units": 10}]}))),
     "stored architecture is invalid"),
])
def test_bad_contents_are_refused_with_a_reason(trained, tmp_path, change, words):
    _, _, _, path = trained
    bad = tmp_path / "bad.npz"
    rewrite(path, bad, change)
    with pytest.raises(ModelFileError) as e:
        load_model(bad)
    assert words in str(e.value) and "bad.npz" in str(e.value)


def test_not_a_model_truncated_and_pickled_files(trained, tmp_path):
    _, _, _, path = trained
    cases = {
        "random.npz": np.random.default_rng(0).bytes(500),
        "truncated.npz": path.read_bytes()[: len(path.read_bytes()) // 2],
        "empty.npz": b"",
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ModelFileError, match=name):
            load_model(tmp_path / name)
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(tmp_path / "pickled.npz", "w") as z:
        z.write(tmp_path / "objects.npy", "format.npy")
    with pytest.raises(ModelFileError, match="pickled.npz"):
        load_model(tmp_path / "pickled.npz")
    with pytest.raises(ModelFileError, match="no such file"):
        load_model(tmp_path / "nope.npz")
    with pytest.raises(ModelFileError, match="is a folder"):
        load_model(tmp_path)


def test_a_crash_mid_save_leaves_the_old_file_intact(trained, monkeypatch):
    model, _, x, path = trained
    before = path.read_bytes()

    def exploding_savez(f, **arrays):
        f.write(b"PK\x03\x04 partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(modelfile.np, "savez", exploding_savez)
    with pytest.raises(OSError):
        save_model(path, Model(load_preset("tutorial-cnn"), seed=9))
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []
    monkeypatch.undo()
    np.testing.assert_array_equal(load_model(path).model.predict_proba(x), model.predict_proba(x))


def test_saved_files_get_normal_permissions(tmp_path):
    import os

    save_model(tmp_path / "p.npz", Model(load_preset("logistic")))
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "p.npz").stat().st_mode & 0o777 == 0o666 & ~umask
