"""The headless CLI end to end, as a user runs it (a subprocess), on a small subset."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image


def cli(*args, timeout=300):
    r = subprocess.run([sys.executable, "-m", "mnist_studio", *map(str, args)], capture_output=True, text=True,
                       timeout=timeout)
    return r.returncode, r.stdout, r.stderr


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "m.npz"
    rc, stdout, stderr = cli("train", "--preset", "mlp-512-256", "--epochs", "1", "--limit", "6000", "--optimizer",
                             "adam", "--lr", "0.001", "--json", "--out", out)
    assert rc == 0, stderr
    return out, json.loads(stdout.strip().splitlines()[-1]), stderr


def test_train_json_and_progress(model_file):
    out, result, stderr = model_file
    assert out.exists()
    assert set(result) >= {"test_accuracy", "test_loss", "epochs", "train_seconds", "samples_per_second"}
    assert result["epochs"] == 1 and result["test_accuracy"] > 0.85 and result["samples_per_second"] > 0
    assert "epoch 1/1" in stderr and "[####" in stderr


def test_evaluate_json(model_file):
    out, result, _ = model_file
    rc, stdout, _ = cli("evaluate", out, "--json")
    d = json.loads(stdout.strip().splitlines()[-1])
    assert rc == 0 and d["test_accuracy"] == pytest.approx(result["test_accuracy"])
    cm = np.array(d["confusion"])
    assert cm.shape == (10, 10) and cm.sum() == 10000 and np.trace(cm) / 10000 == pytest.approx(d["test_accuracy"])


def test_evaluate_text(model_file):
    rc, stdout, _ = cli("evaluate", model_file[0])
    assert rc == 0 and "confusion matrix" in stdout and "precision" in stdout


def test_predict_splits_a_row_of_digits(model_file, mnist, tmp_path):
    # "2026"-like row: four test digits side by side, dark ink on light paper, as a 28×112 picture. The digits are
    # ones the model reads right on their own, so a wrong answer here means the splitting or the preprocessing broke.
    from mnist_studio.nn.modelfile import load_model

    model = load_model(model_file[0]).model
    ok = model.predict(mnist.test_images[:500] / 255.0) == mnist.test_labels[:500]
    firsts = {d: [int(i) for i in np.flatnonzero((mnist.test_labels[:500] == d) & ok)] for d in (0, 2, 6)}
    picks = [firsts[2][0], firsts[0][0], firsts[2][1], firsts[6][0]]
    row = np.concatenate([mnist.test_images[i] for i in picks], axis=1)
    Image.fromarray(255 - row).save(tmp_path / "2026.png")
    Image.fromarray(mnist.test_images[picks[3]]).save(tmp_path / "six.png")  # light on dark
    Image.fromarray(np.full((28, 28), 255, np.uint8)).save(tmp_path / "blank.png")
    rc, stdout, stderr = cli("predict", model_file[0], tmp_path / "2026.png", tmp_path / "six.png",
                             tmp_path / "blank.png", "--json")
    assert rc == 0, stderr
    res = json.loads(stdout.strip().splitlines()[-1])
    assert res[0]["file"].endswith("2026.png") and res[0]["digits"] == [2, 0, 2, 6]
    assert len(res[0]["probabilities"]) == 4 and all(len(p) == 10 for p in res[0]["probabilities"])
    assert abs(sum(res[0]["probabilities"][0]) - 1) < 1e-4
    assert res[1]["digits"] == [6]
    assert res[2]["digits"] == [] and res[2]["probabilities"] == []
    rc, stdout, _ = cli("predict", model_file[0], tmp_path / "2026.png")
    assert rc == 0 and "2026" in stdout


def test_summary_presets_and_gradcheck(model_file):
    rc, stdout, _ = cli("summary", "--preset", "lenet")
    assert rc == 0 and "454,922" in stdout and "MaxPool2D" in stdout
    rc, stdout, _ = cli("summary", model_file[0])
    assert rc == 0 and "535,818" in stdout
    rc, stdout, _ = cli("presets")
    assert rc == 0 and all(n in stdout for n in ("tutorial-sigmoid-mlp", "tiny-mlp", "tutorial-cnn", "mlp-512-256",
                                                  "lenet", "logistic"))
    rc, stdout, _ = cli("gradcheck", "--preset", "tutorial-cnn")
    assert rc == 0 and "all gradients match" in stdout and "FAIL" not in stdout


def test_train_from_spec_file_and_bad_spec(tmp_path):
    spec = {"input_shape": [28, 28, 1], "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 10}]}
    (tmp_path / "s.json").write_text(json.dumps(spec))
    rc, stdout, stderr = cli("train", "--spec", tmp_path / "s.json", "--epochs", "1", "--limit", "500", "--json",
                             "--out", tmp_path / "s.npz")
    assert rc == 0 and json.loads(stdout.strip().splitlines()[-1])["epochs"] == 1
    spec["layers"] = [{"type": "Dense", "units": 10}]
    (tmp_path / "bad.json").write_text(json.dumps(spec))
    rc, _, stderr = cli("train", "--spec", tmp_path / "bad.json", "--out", tmp_path / "x.npz")
    assert rc == 2 and "Layer 1 (Dense)" in stderr


@pytest.mark.parametrize("args,words", [
    (["train", "--preset", "nope", "--out", "x.npz"], "unknown preset 'nope'"),
    (["train", "--preset", "lenet", "--lr", "abc", "--out", "x.npz"], "invalid float value: 'abc'"),
    (["train", "--preset", "lenet"], "--out"),
    (["train", "--preset", "lenet", "--lr", "-1", "--out", "x.npz"], "learning rate"),
    (["train", "--preset", "lenet", "--out", "/no/such/folder/x.npz"], "does not exist"),
    (["evaluate", "/no/such/model.npz"], "no such file"),
    (["predict", "{model}", "/no/such/image.png"], "no such file"),
    (["summary"], "give --preset"),
    (["frobnicate"], "invalid choice"),
])
def test_errors_exit_2_with_one_clear_line(args, words, model_file):
    args = [a.replace("{model}", str(model_file[0])) for a in args]
    rc, stdout, stderr = cli(*args)
    assert rc == 2
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and words in lines[0], stderr
    assert "Traceback" not in stderr + stdout


def test_corrupt_model_and_image_files(tmp_path, model_file):
    (tmp_path / "junk.npz").write_bytes(np.random.default_rng(0).bytes(1000))
    (tmp_path / "junk.png").write_bytes(b"definitely not a png")
    for args in (["evaluate", tmp_path / "junk.npz"], ["predict", model_file[0], tmp_path / "junk.png"]):
        rc, stdout, stderr = cli(*args)
        assert rc == 2 and "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1


def test_diverged_training_is_a_clear_error(tmp_path):
    rc, _, stderr = cli("train", "--preset", "mlp-512-256", "--optimizer", "sgd", "--lr", "90", "--limit", "3000",
                        "--epochs", "2", "--out", tmp_path / "d.npz")
    assert rc == 2 and "diverged: lower the learning rate" in stderr and "Traceback" not in stderr


def test_train_takes_each_optimizer_setting_from_the_registry(tmp_path, capsys):
    """--beta2, --rho, --nesterov... are generated from the optimizers' schemas; the values reach the optimizer
    and its file, and a value out of the schema's range is one line on stderr, exit 2."""
    from mnist_studio.cli import main
    from mnist_studio.nn.modelfile import load_model
    from mnist_studio.nn.optim import optimizer_settings

    rc = main(["train", "--preset", "tiny-mlp", "--epochs", "1", "--limit", "300", "--val-size", "0", "--quiet",
               "--optimizer", "adam", "--beta1", "0.8", "--beta2", "0.99", "--eps", "1e-6", "--out",
               str(tmp_path / "a.npz")])
    assert rc == 0
    loaded = load_model(tmp_path / "a.npz")
    assert loaded.optimizer_config == {"name": "adam", "lr": 0.5, "weight_decay": 0.0, "beta1": 0.8, "beta2": 0.99,
                                       "eps": 1e-6}
    assert loaded.training["beta2"] == 0.99 and loaded.training["momentum"] == 0.9
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    help_text = capsys.readouterr().out
    assert all(f"--{name}" in help_text for name in optimizer_settings()) and "[adam/rmsprop]" in help_text
    assert main(["train", "--preset", "tiny-mlp", "--optimizer", "momentum", "--momentum", "1.5", "--out",
                 str(tmp_path / "b.npz")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["mnist-studio: error: momentum must be between 0 and 0.999; got 1.5"]
    assert not (tmp_path / "b.npz").exists()
