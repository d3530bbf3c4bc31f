"""Teaching a model one writer's hand (training/adapt.py) and ``mnist-studio adapt``, on a deliberately odd hand."""

import json

import numpy as np
import pytest

from mnist_studio.data.strokes import StrokeDigit, stroke_images, write_stroke_file
from mnist_studio.training.adapt import (MIN_EXAMPLES, AdaptConfig, AdaptError, accuracy, adapt, check_model,
                                        shift_images, split_per_digit, vary_examples)
from mnist_studio.training.stop import Stopped, StopToken
from odd_hand import odd_hand

QUICK = AdaptConfig(steps=30, own_per_step=16, replay_per_step=48)  # the recipe's shape, fewer images


@pytest.fixture(scope="module")
def odd():
    digits = odd_hand(15, seed=0)
    labels = np.array([d.label for d in digits])
    taught, rest = split_per_digit(labels, 5, seed=0)
    return digits, stroke_images(digits), labels, taught, rest


def test_split_teaches_up_to_k_per_digit_and_holds_out_the_rest():
    labels = np.array([7] * 8 + [1] * 3 + [4])
    taught, rest = split_per_digit(labels, 5, seed=3)
    assert np.bincount(labels[taught], minlength=10)[[7, 1, 4]].tolist() == [5, 3, 1]
    assert sorted(np.concatenate([taught, rest]).tolist()) == list(range(12))
    assert np.array_equal(split_per_digit(labels, 5, seed=3)[0], taught)  # seeded


def test_shift_moves_each_image_by_at_most_the_shift_and_keeps_the_ink():
    x = np.zeros((200, 28, 28), np.float32)
    x[:, 14, 13] = 1.0
    out = shift_images(x, 2, np.random.default_rng(0))
    ys, xs = np.nonzero(out.sum(axis=0))
    assert out.shape == x.shape and np.allclose(out.sum(axis=(1, 2)), 1.0)
    pos = np.argwhere(out)[:, 1:]
    assert np.abs(pos - [14, 13]).max() == 2 and len({tuple(p) for p in pos}) == 25  # every shift in [-2, 2]²



def _tilt_and_height(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each image's ink axis from the vertical (degrees, clockwise positive) and its ink's height."""
    rows, cols = np.mgrid[0:28, 0:28].astype(np.float64)
    w = x.astype(np.float64)
    m = w.sum(axis=(1, 2))
    r = (w * rows).sum(axis=(1, 2)) / m
    c = (w * cols).sum(axis=(1, 2)) / m
    dr, dc = rows[None] - r[:, None, None], cols[None] - c[:, None, None]
    vrr, vcc, vrc = ((w * dr * dr).sum(axis=(1, 2)) / m, (w * dc * dc).sum(axis=(1, 2)) / m,
                     (w * dr * dc).sum(axis=(1, 2)) / m)
    tilt = np.degrees(0.5 * np.arctan2(2 * vrc, vrr - vcc))
    height = [np.ptp(np.nonzero(im.max(axis=1) > 0.5)[0]) for im in x]
    return tilt, np.array(height, float)


def test_examples_are_turned_and_resized_within_the_recipes_range_and_not_without_it():
    """A pen never gives the same digit twice: each taught example is also turned up to ``rotation`` degrees and
    resized up to ``scale`` each way, every image its own way; with both 0 only the shift is left."""
    x = np.zeros((300, 28, 28), np.float32)
    x[:, 4:24, 13:15] = 1.0  # an upright bar 20 px tall
    cfg = AdaptConfig(shift=0, rotation=8.0, scale=0.1, thickness=0.0)
    tilt, height = _tilt_and_height(vary_examples(x, cfg, np.random.default_rng(0)))
    assert np.abs(tilt).max() <= 8.5 and np.abs(tilt).max() > 6.5 and (tilt > 3).any() and (tilt < -3).any()
    assert height.min() >= 16 and height.max() <= 23 and np.ptp(height) >= 3
    plain = vary_examples(x, AdaptConfig(shift=0, rotation=0.0, scale=0.0, thickness=0.0), np.random.default_rng(0))
    assert np.array_equal(plain, x)


def test_examples_drawn_a_pen_step_thinner_or_thicker_on_the_share_asked():
    x = np.zeros((600, 28, 28), np.float32)
    x[:, 4:24, 12:15] = 1.0  # a bar 3 px wide
    out = vary_examples(x, AdaptConfig(shift=0, rotation=0.0, scale=0.0, thickness=0.25), np.random.default_rng(1))
    ink = out.sum(axis=(1, 2)) / x[0].sum()
    thinner, same, thicker = (ink < 0.8).mean(), np.isclose(ink, 1.0).mean(), (ink > 1.2).mean()
    assert thinner + same + thicker == 1.0
    assert 0.18 < thinner < 0.32 and 0.18 < thicker < 0.32  # a quarter each way, the rest as drawn


def test_teaching_reads_the_odd_hand_and_leaves_the_original_alone(small_model, mnist, odd):
    digits, images, labels, taught, rest = odd
    before = accuracy(small_model, images[rest], labels[rest])
    original = small_model.state_dict()
    steps_seen = []
    result = adapt(small_model, images[taught], labels[taught], mnist.train_images, mnist.train_labels, QUICK,
                   progress=lambda s, n, loss: steps_seen.append((s, n, loss)))
    after = accuracy(result.model, images[rest], labels[rest])
    assert before <= 0.6, "the odd hand should be misread before teaching"
    assert after >= 0.9 and after > before + 0.3
    assert [s for s, _, _ in steps_seen] == list(range(1, 31)) and all(n == 30 for _, n, _ in steps_seen)
    # undoable: the original model's weights and answers are exactly as before
    for k, v in small_model.state_dict().items():
        assert np.array_equal(v, original[k])
    assert accuracy(small_model, images[rest], labels[rest]) == before
    # and MNIST is still read (the replay)
    test_x = mnist.test_images[:2000].astype(np.float32) / 255
    assert accuracy(result.model, test_x, mnist.test_labels[:2000]) >= \
        accuracy(small_model, test_x, mnist.test_labels[:2000]) - 0.03


def test_distillation_and_weight_pull_keep_the_model_closer_to_the_original(small_model, mnist, odd):
    _, images, labels, taught, _ = odd
    args = (small_model, images[taught], labels[taught], mnist.train_images, mnist.train_labels)
    plain = adapt(*args, AdaptConfig(steps=20, own_per_step=16, replay_per_step=48, distill=0.0))
    pulled = adapt(*args, AdaptConfig(steps=20, own_per_step=16, replay_per_step=48, distill=0.0, l2_pull=1.0))

    def distance(m):
        return sum(float(np.sum((m.state_dict()[k] - v) ** 2)) for k, v in small_model.state_dict().items())

    assert 0 < distance(pulled.model) < distance(plain.model)


def test_early_stop_keeps_a_checked_step(small_model, mnist, odd):
    _, images, labels, taught, _ = odd
    res = adapt(small_model, images[taught], labels[taught], mnist.train_images, mnist.train_labels,
                AdaptConfig(steps=10, own_per_step=16, replay_per_step=16, holdout_stop=True))
    assert res.best_step in (0, 5, 10)


def test_a_stop_ends_teaching_and_changes_nothing(small_model, mnist, odd):
    _, images, labels, taught, _ = odd
    token = StopToken()
    original = small_model.state_dict()

    def progress(step, steps, loss):
        if step == 3:
            token.stop()

    with pytest.raises(Stopped):
        adapt(small_model, images[taught], labels[taught], mnist.train_images, mnist.train_labels, QUICK,
              stop=token, progress=progress)
    assert all(np.array_equal(v, original[k]) for k, v in small_model.state_dict().items())


def test_refuses_models_without_ten_outputs_and_too_few_examples():
    from mnist_studio.nn.model import Model

    twelve = Model({"input_shape": [28, 28, 1], "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 10}]})
    twelve.output_shape = (12,)  # the spec check refuses such a model; teaching checks again on its own
    with pytest.raises(AdaptError, match="12 outputs; teaching digits needs 10"):
        check_model(twelve)
    x = np.zeros((MIN_EXAMPLES - 1, 28, 28), np.float32)
    with pytest.raises(AdaptError, match=f"at least {MIN_EXAMPLES}"):
        adapt(twelve.copy(), x, np.zeros(len(x), int), x, np.zeros(len(x), int))


# -- the command line -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def files(tmp_path_factory, small_model, odd):
    from mnist_studio.nn.model import Model
    from mnist_studio.nn.modelfile import save_model

    folder = tmp_path_factory.mktemp("adapt")
    save_model(folder / "base.npz", small_model)
    write_stroke_file(folder / "odd.json", odd[0])
    ten = Model({"input_shape": [28, 28, 1], "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 10}]})
    save_model(folder / "ten.npz", ten)
    with np.load(folder / "ten.npz", allow_pickle=False) as z:  # the same file, its last layer made 12 wide
        arrays = dict(z)
    spec = json.loads(str(arrays["spec"]))
    spec["layers"][-1]["units"] = 12
    arrays["spec"] = np.array(json.dumps(spec))
    arrays["weights/1.W"] = np.zeros((784, 12), np.float32)
    arrays["weights/1.b"] = np.zeros(12, np.float32)
    np.savez(folder / "twelve.npz", **arrays)
    return folder


def run(capsys, *args):
    from mnist_studio.cli import main

    rc = main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_cli_adapt_teaches_and_reports_on_held_out_digits(files, capsys):
    out = files / "taught.npz"
    rc, stdout, stderr = run(capsys, "adapt", files / "base.npz", "--strokes", files / "odd.json", "--steps", "30",
                             "--out", out, "--json")
    assert rc == 0, stderr
    d = json.loads(stdout.strip().splitlines()[-1])
    assert set(d) >= {"before", "after", "mnist_before", "mnist_after", "examples"}
    assert d["examples"] == 10 and d["held_out"] == 20
    assert d["before"] <= 0.6 and d["after"] >= 0.9
    assert d["mnist_after"] >= d["mnist_before"] - 0.03
    from mnist_studio.nn.modelfile import load_model

    loaded = load_model(out)
    assert loaded.history["adapted"]["after"] == d["after"]
    images = stroke_images(json_digits(files / "odd.json"))
    assert loaded.model.predict(images).shape == (30,)


def json_digits(path):
    from mnist_studio.data.strokes import read_stroke_file

    return read_stroke_file(path)


@pytest.mark.parametrize("content, words", [
    ("", "not valid JSON"),
    ("[]", "holds no digits"),
    ('{"label": 7}', "expected a JSON list"),
    ('[{"label": 12, "strokes": [[[0, 0], [1, 1]]]}]', "label must be a digit 0-9"),
    ('[{"label": 3, "strokes": []}]', "no strokes"),
    ('[{"label": 3, "strokes": [[[0, 0], [5, 9]]]}]', "too few examples: 1 digit(s); teaching needs at least 10"),
])
def test_cli_adapt_bad_stroke_files_exit_2_with_one_line(files, capsys, content, words):
    bad = files / "bad.json"
    bad.write_text(content)
    out = files / "never.npz"
    rc, stdout, stderr = run(capsys, "adapt", files / "base.npz", "--strokes", bad, "--out", out)
    assert rc == 2 and words in stderr and len(stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_cli_adapt_refuses_a_model_without_ten_outputs(files, capsys):
    out = files / "never.npz"
    rc, _, stderr = run(capsys, "adapt", files / "twelve.npz", "--strokes", files / "odd.json", "--out", out)
    assert rc == 2 and "12 outputs" in stderr and len(stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_cli_adapt_refuses_to_overwrite_its_inputs(files, capsys):
    before = (files / "base.npz").read_bytes()
    rc, _, stderr = run(capsys, "adapt", files / "base.npz", "--strokes", files / "odd.json", "--out",
                        files / "base.npz")
    assert rc == 2 and (files / "base.npz").read_bytes() == before


def test_odd_hand_records_round_trip(tmp_path):
    digits = odd_hand(2, seed=1)
    write_stroke_file(tmp_path / "o.json", digits)
    back = json_digits(tmp_path / "o.json")
    assert [d.label for d in back] == [d.label for d in digits] and isinstance(back[0], StrokeDigit)
