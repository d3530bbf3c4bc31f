"""The headless CLI end to end, as a user runs it (a subprocess), on a small subset."""

import json
import re
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
    rows = [line.split() for line in stdout.splitlines() if re.fullmatch(r"\s*\d\s+[\d.]+%.*", line)]
    assert len(rows) == 10
    for cls, precision, recall, f1 in rows:  # F1 in % beside precision and recall, and their harmonic mean
        p, r, f = (float(v.rstrip("%")) for v in (precision, recall, f1))
        assert f1.endswith("%") and f == pytest.approx(2 * p * r / (p + r), abs=0.02)


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


def test_predict_reads_a_photo_with_boxes_and_debug_stages(model_file, mnist, tmp_path):
    # Three test digits (ones the model reads on their own) written large on unevenly lit, noisy paper, saved as
    # JPEG: the boxes are where the digits were put, in the picture's own pixels.
    from mnist_studio.nn.modelfile import load_model

    model = load_model(model_file[0]).model
    ok = np.flatnonzero(model.predict(mnist.test_images[:200] / 255.0) == mnist.test_labels[:200])[:3]
    h, w = 260, 520
    paper = np.linspace(0.95, 0.5, w)[None, :] * np.ones((h, 1))
    ink = np.zeros((h, w))
    expected = []
    for k, i in enumerate(ok):
        d = np.asarray(Image.fromarray(mnist.test_images[i]).resize((112, 112), Image.Resampling.BICUBIC)) / 255.0
        x, y = 60 + 150 * k, 70
        ink[y:y + 112, x:x + 112] = np.clip((d - 0.2) / 0.5, 0, 1)
        rows, cols = np.flatnonzero(ink[y:y + 112, x:x + 112].max(1) > 0.5), np.flatnonzero(d.max(0) > 0.45)
        expected.append([x + cols[0], y + rows[0], x + cols[-1] + 1, y + rows[-1] + 1])
    noise = np.random.default_rng(0).normal(0, 0.02, (h, w))
    gray = np.clip(paper * (1 - 0.85 * ink) + noise, 0, 1)
    Image.fromarray((gray * 255).astype(np.uint8)).save(tmp_path / "photo.jpg", quality=75)
    rc, stdout, stderr = cli("predict", model_file[0], tmp_path / "photo.jpg", "--json", "--debug-dir",
                             tmp_path / "stages")
    assert rc == 0, stderr
    r = json.loads(stdout.strip().splitlines()[-1])[0]
    assert r["digits"] == [int(mnist.test_labels[i]) for i in ok]
    assert len(r["boxes"]) == 3 and r["lines"] == [0, 0, 0]
    for got, want in zip(r["boxes"], expected):
        assert np.all(np.abs(np.asarray(got) - want) <= 4), (got, want)
    names = sorted(p.name for p in (tmp_path / "stages").iterdir())
    assert names == ["photo-binary.png", "photo-boxes.png", "photo-digit-1.png", "photo-digit-2.png",
                     "photo-digit-3.png", "photo-flattened.png"]
    assert Image.open(tmp_path / "stages" / "photo-digit-1.png").size == (28, 28)
    assert Image.open(tmp_path / "stages" / "photo-boxes.png").size == (w, h)


def test_pictures_that_hold_no_number(model_file, tmp_path):
    """A blank photo says so; a face and a line of text get answers marked as unsure, never a crash."""
    from PIL import ImageDraw, ImageFont

    blank = np.clip(np.linspace(0.9, 0.4, 400)[None, :] * np.ones((300, 1)), 0, 1)
    Image.fromarray((blank * 255).astype(np.uint8)).save(tmp_path / "blank.jpg")
    face = Image.new("L", (400, 400), 235)
    d = ImageDraw.Draw(face)
    d.ellipse((60, 30, 340, 370), outline=30, width=8)
    for x in (140, 260):
        d.ellipse((x - 25, 140, x + 25, 170), outline=30, width=6)
        d.ellipse((x - 8, 147, x + 8, 163), fill=30)
    d.line((200, 170, 185, 240, 210, 245), fill=30, width=6)
    d.arc((130, 230, 270, 320), 20, 160, fill=30, width=8)
    face.save(tmp_path / "face.png")
    text = Image.new("L", (900, 220), 240)
    font = ImageFont.load_default(size=48)
    ImageDraw.Draw(text).text((20, 20), "Meeting at the\nlibrary, Tuesday.", fill=20, font=font)
    text.save(tmp_path / "text.png")
    rc, stdout, stderr = cli("predict", model_file[0], tmp_path / "blank.jpg", tmp_path / "face.png",
                             tmp_path / "text.png", "--json")
    assert rc == 0 and "Traceback" not in stderr
    blank_r, face_r, text_r = json.loads(stdout.strip().splitlines()[-1])
    assert blank_r["digits"] == [] and blank_r["boxes"] == [] and blank_r["unsure"] is False
    for r in (face_r, text_r):
        assert r["digits"] and r["unsure"] is True and r["doubts"]
        assert len(r["low_confidence"]) == len(r["digits"]) == len(r["boxes"])
    rc, stdout, _ = cli("predict", model_file[0], tmp_path / "face.png")
    assert rc == 0 and "not sure" in stdout


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
    assert loaded.optimizer_config == {"name": "adam", "lr": 0.001, "weight_decay": 0.0, "beta1": 0.8,
                                       "beta2": 0.99, "eps": 1e-6, "decay_all": False}  # Adam's usual rate
    assert loaded.training["beta2"] == 0.99 and loaded.training["momentum"] == 0.9
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    help_text = capsys.readouterr().out
    assert all(f"--{name.replace('_', '-')}" in help_text for name in optimizer_settings())
    assert "[adam/adamw/rmsprop]" in help_text and "--decay-all" in help_text
    assert main(["train", "--preset", "tiny-mlp", "--optimizer", "momentum", "--momentum", "1.5", "--out",
                 str(tmp_path / "b.npz")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["mnist-studio: error: momentum must be between 0 and 0.999; got 1.5"]
    assert not (tmp_path / "b.npz").exists()


@pytest.mark.parametrize("args, optimizer, lr", [
    (["--preset", "mlp-512-256", "--optimizer", "adam"], "adam", 0.001),  # not the preset's SGD 0.01
    (["--preset", "mlp-512-256", "--optimizer", "rmsprop"], "rmsprop", 0.001),
    (["--preset", "lenet", "--optimizer", "momentum"], "momentum", 0.01),
    (["--preset", "tutorial-cnn", "--optimizer", "sgd"], "sgd", 0.05),  # the preset's own optimizer: its rate
    (["--preset", "mlp-512-256", "--optimizer", "adam", "--lr", "0.02"], "adam", 0.02),  # a given rate stays
    (["--preset", "tutorial-cnn"], "sgd", 0.05),
])
def test_an_optimizer_without_a_rate_gets_its_usual_rate(tmp_path, args, optimizer, lr):
    from mnist_studio.cli import main
    from mnist_studio.nn.modelfile import load_model

    out = tmp_path / "m.npz"
    assert main(["train", *args, "--epochs", "1", "--limit", "64", "--val-size", "0", "--quiet", "--out",
                 str(out)]) == 0
    loaded = load_model(out)
    assert (loaded.training["optimizer"], loaded.training["lr"]) == (optimizer, lr)
    assert loaded.optimizer_config["lr"] == lr


def test_help_points_pytorch_and_keras_users_to_their_page(capsys):
    """mnist-studio --help names the page (which exists), predict --help says what the model reads."""
    from pathlib import Path

    from mnist_studio.cli import main

    with pytest.raises(SystemExit):
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "Coming from PyTorch or Keras" in out and "Help › Coming from PyTorch or Keras" in out
    page = next(w for w in out.split() if w.endswith("coming-from-pytorch.md"))
    assert Path(page).is_file() and "| BatchNorm momentum |" in Path(page).read_text(encoding="utf-8")
    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "pixels / 255" in out and "no mean/std normalisation" in out and "coming-from-pytorch.md" in out


def test_the_studio_without_a_display_says_so_in_one_line(tmp_path):
    """No DISPLAY/WAYLAND_DISPLAY and no display-free Qt platform: exit 2 and one line, not Qt's abort (134)."""
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    r = subprocess.run([sys.executable, "-m", "mnist_studio"], capture_output=True, text=True, timeout=60, env=env)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1, r.stderr
    assert "no display found" in lines[0] and "headless" in lines[0]
    from mnist_studio.cli import no_display

    assert no_display({"DISPLAY": ":0"}, "linux") is None
    assert no_display({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None  # tests, screenshots
    assert no_display({"QT_QPA_PLATFORM": "xcb"}, "linux") is not None
    assert no_display({}, "darwin") is None


def test_train_help_shows_every_default():
    rc, stdout, _ = cli("train", "--help")
    assert rc == 0
    text = " ".join(stdout.split())  # argparse wraps the help: join it into one line
    for option, default in (("--epochs", "3"), ("--batch-size", "64"), ("--lr", "0.001"), ("--seed", "0"),
                            ("--val-size", "5000"), ("--limit", "all"), ("--augment", "none"),
                            ("--loss", "cross_entropy"), ("--optimizer", "adam"), ("--momentum", "0.9")):
        start = re.compile(re.escape(option) + r"[ ,]").search(text, text.index("options:")).start()
        segment = text[start:start + 600]
        assert re.search(rf"[Dd]efault[^.)]*\b{re.escape(default)}\b", segment), (option, segment[:200])


def test_progress_line_counts_epochs_and_shows_the_epochs_running_means():
    """Fed the trainer's events for 2 epochs of 1,000 images in batches of 64 (15 full, one of 40), the terminal
    line names the epoch being trained at every batch, and the final partial batch (all wrong) moves the shown
    accuracy by its share of images, not to 0 %."""
    import io

    from mnist_studio.cli.train import make_progress
    from mnist_studio.training.events import BatchEnd, EpochEnd, FitBegin

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    out = Terminal()
    progress = make_progress(out, batch_size=64)
    progress.on_fit_begin(FitBegin(epochs=2, start_epoch=0, batches_per_epoch=16, train_size=1000, val_size=0,
                                   num_params=10))
    labels = []
    for done in range(2):
        for b in range(1, 17):
            last = b == 16
            progress.last = 0.0  # draw every batch
            progress.on_batch_end(BatchEnd(done * 16 + b, done + b / 16, b, 16, loss=2.0 if last else 1.0,
                                           accuracy=0.0 if last else 1.0, lr=0.1, samples_per_second=1.0))
            labels.append(re.findall(r"epoch (\d)/2", out.getvalue())[-1])
        line = out.getvalue().rsplit("\r", 1)[-1]
        acc = float(re.search(r"acc\s+([\d.]+)%", line).group(1))
        loss = float(re.search(r"loss ([\d.]+)", line).group(1))
        assert acc == pytest.approx(100 * 960 / 1000, abs=0.05)  # 960 of 1,000 images right, not the last 0 %
        assert loss == pytest.approx((960 * 1.0 + 40 * 2.0) / 1000, abs=1e-4)
        progress.on_epoch_end(EpochEnd(done + 1, (done + 1) * 16, 1.04, 0.96, None, None, 1.0, 0.1))
    assert labels == ["1"] * 16 + ["2"] * 16


def test_qt_window_options_go_to_qt_and_nowhere_else():
    from mnist_studio.cli import main, split_qt_options

    assert split_qt_options(["-qwindowgeometry", "1024x700+0+0", "--preset", "lenet", "-style=Fusion"]) == (
        ["--preset", "lenet"], ["-qwindowgeometry", "1024x700+0+0", "-style=Fusion"])
    assert split_qt_options(["train", "--preset", "lenet"]) == (["train", "--preset", "lenet"], [])
    assert main(["presets", "-qwindowgeometry", "800x600"]) == 2  # a command has no window
