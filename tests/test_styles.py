"""Style synthesis (hooked 9s, crossed 7s, flagged 1s) on arrays, and the named augmentations."""

import numpy as np
import pytest

from mnist_studio.data.augmentations import AUGMENTATIONS, augmentation_name, make_augmentation
from mnist_studio.data.styles import (StyleSynthesis, cross_sevens, draw_polylines, flag_ones, hook_nines, ink_extent,
                                      refit, row_centre, stroke_radius)
from mnist_studio.training.config import TrainConfig


def _line(x0, y0, x1, y1, n=1, width=2.0):
    """N copies of one straight stroke drawn by the module's own pen (a known digit-like shape)."""
    pts = np.linspace([x0, y0], [x1, y1], 40, dtype=np.float32)[None].repeat(n, axis=0)
    return draw_polylines(np.zeros((n, 28, 28), np.float32), pts, np.full(n, width / 2, np.float32))


def _seven(n=4):
    """A plain 7: a bar along the top and a stem down to the lower left, 20 px tall."""
    bar = np.linspace([8, 4], [19, 4], 30, dtype=np.float32)
    stem = np.linspace([19, 4], [11, 23], 40, dtype=np.float32)
    pts = np.concatenate([bar, stem])[None].repeat(n, axis=0)
    return draw_polylines(np.zeros((n, 28, 28), np.float32), pts, np.full(n, 1.1, np.float32))


def _nine(n=4):
    """A 9: a loop at the top and a straight stem down its right side."""
    t = np.linspace(0, 2 * np.pi, 60, dtype=np.float32)
    loop = np.stack([13 + 4.5 * np.cos(t), 8.5 + 4.5 * np.sin(t)], axis=1)
    stem = np.linspace([17.5, 8.5], [17.0, 23.5], 30, dtype=np.float32)
    pts = np.concatenate([loop, stem])[None].repeat(n, axis=0)
    return draw_polylines(np.zeros((n, 28, 28), np.float32), pts, np.full(n, 1.1, np.float32))


def test_measures_read_the_ink():
    x = _line(14, 4, 14, 23, n=2)
    top, bottom, left, right = ink_extent(x)
    assert top[0] == 3 and bottom[0] == 24 and 12 <= left[0] <= 13 and 15 <= right[0] <= 16
    assert row_centre(x, np.array([10.0, 12.0])) == pytest.approx([14.0, 14.0], abs=0.05)
    assert row_centre(np.zeros((1, 28, 28), np.float32), np.array([5.0]))[0] == pytest.approx(13.5)
    thin, thick = stroke_radius(_line(14, 4, 14, 23, width=1.6)), stroke_radius(_line(14, 4, 14, 23, width=3.4))
    assert thin[0] < thick[0] and 0.5 < thick[0] / 1.7 < 1.5


def test_refit_gives_mnists_box_and_centre():
    x = _line(4, 10, 10, 16)  # a small diagonal stroke in a corner
    out = refit(x)
    top, bottom, left, right = ink_extent(out)
    assert max(bottom - top, right - left)[0] + 1 == pytest.approx(20, abs=1.5)
    total = out[0].sum()
    cy = (out[0].sum(axis=1) @ np.arange(28)) / total
    cx = (out[0].sum(axis=0) @ np.arange(28)) / total
    assert abs(cy - 13.5) <= 0.5 and abs(cx - 13.5) <= 0.5 and out.max() == pytest.approx(1.0)


@pytest.mark.parametrize("style,make", [(hook_nines, _nine), (cross_sevens, _seven), (flag_ones,
                                        lambda n=4: _line(15, 4, 13, 23, n))])
def test_styles_keep_shape_dtype_range_and_follow_the_seed(style, make):
    x = make(6)
    a = style(x.copy(), np.random.default_rng(3))
    b = style(x.copy(), np.random.default_rng(3))
    c = style(x.copy(), np.random.default_rng(4))
    assert a.shape == (6, 28, 28) and a.dtype == np.float32
    assert 0.0 <= a.min() and a.max() <= 1.0 + 1e-6
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert not np.allclose(a, x)  # every chosen digit was changed
    assert style(x[:0], np.random.default_rng(0)).shape == (0, 28, 28)


def test_a_crossbar_adds_ink_across_the_stem_halfway_down():
    x = _seven(8)
    out = cross_sevens(x.copy(), np.random.default_rng(0))
    top, bottom, _, _ = ink_extent(out)
    for img, t, b in zip(out, top, bottom):
        rows = img[int(t + 0.35 * (b - t)):int(t + 0.65 * (b - t)) + 1]
        widest = (rows > 0.5).sum(axis=1).max()  # the bar: a row with far more ink than the slanted stem has
        assert widest >= 6
    plain = refit(x)
    t, b = ink_extent(plain)[:2]
    rows = plain[0, int(t[0] + 0.35 * (b[0] - t[0])):int(t[0] + 0.65 * (b[0] - t[0])) + 1]
    assert (rows > 0.5).sum(axis=1).max() <= 4


def test_a_hook_turns_the_stem_to_the_left_at_the_bottom():
    x = _nine(8)
    out = hook_nines(x.copy(), np.random.default_rng(1))
    top, bottom, left, right = ink_extent(out)
    for img, t, b, l, r in zip(out, top, bottom, left, right):
        low = img[int(b) - 2:int(b) + 1]  # the lowest rows: the hook's turn, left of the stem
        cols = np.flatnonzero((low > 0.5).any(axis=0))
        stem_col = row_centre(img[None], np.array([t + 0.55 * (b - t)]))[0]
        assert cols.size and cols.mean() < stem_col - 1.0


def test_flags_are_left_of_the_top_and_bases_widen_the_foot():
    x = _line(14, 4, 14, 23, n=16)
    out = flag_ones(x.copy(), np.random.default_rng(2), base_share=0.5)
    top, bottom, left, right = ink_extent(out)
    assert (right - left >= 3).all() and (right - left).mean() >= 5  # wider than the stroke (2 px) alone
    head = [img[int(t):int(t + 0.3 * (b - t))] for img, t, b in zip(out, top, bottom)]
    leftmost = np.array([np.flatnonzero((rows > 0.4).any(axis=0)).min() for rows in head])
    stem = row_centre(out, top + 0.6 * (bottom - top))
    assert (leftmost < stem - 1.0).all() and (stem - leftmost).mean() > 2.5  # the flag hangs left, near the top


def test_synthesis_touches_only_its_classes_and_share():
    rng = np.random.default_rng(0)
    x = np.concatenate([_nine(40), _seven(40), _line(14, 4, 14, 23, n=40), _line(6, 14, 22, 14, n=40)])
    y = np.repeat([9, 7, 1, 2], 40)
    out = StyleSynthesis(share=0.5)(x.reshape(-1, 28, 28, 1), rng, y)
    assert out.shape == (160, 28, 28, 1) and out.dtype == np.float32
    changed = ~np.isclose(out.reshape(160, -1), x.reshape(160, -1)).all(axis=1)
    assert not changed[y == 2].any()
    for label in (9, 7, 1):
        assert 10 <= changed[y == label].sum() <= 30
    assert StyleSynthesis(shares=((9, 1.0), (7, 0.0), (1, 0.0)))(x, rng, y)[y == 9].shape == (40, 28, 28)
    with pytest.raises(ValueError, match="labels"):
        StyleSynthesis()(x, rng)


def test_names_and_old_booleans():
    assert augmentation_name(True) == "distort" and augmentation_name(False) == "none"
    assert augmentation_name(None) == "none" and augmentation_name("styles") == "styles"
    with pytest.raises(ValueError, match="styles"):
        augmentation_name("sideways")
    assert make_augmentation("none") is None
    assert TrainConfig(augment=True).augment == "distort"
    assert TrainConfig.from_dict({"augment": True}).augment == "distort"
    assert TrainConfig.from_dict({"augment": False}).augment == "none"
    with pytest.raises(ValueError, match="augmentation"):
        TrainConfig(augment="sideways")
    x = np.random.default_rng(0).random((64, 28, 28, 1), dtype=np.float32)
    y = np.arange(64) % 10
    for name, (_, _, fn) in AUGMENTATIONS.items():
        if fn is not None:
            out = fn(x, np.random.default_rng(0), y)
            assert out.shape == x.shape and out.dtype == np.float32, name


def test_cli_augment_takes_a_name_and_a_bare_flag_still_means_distort(tmp_path, capsys):
    from mnist_studio.cli import main
    from mnist_studio.nn.modelfile import load_model

    base = ["train", "--preset", "tiny-mlp", "--epochs", "1", "--limit", "300", "--val-size", "0", "--quiet"]
    assert main([*base, "--augment", "styles", "--out", str(tmp_path / "s.npz")]) == 0
    assert main([*base, "--augment", "--out", str(tmp_path / "d.npz")]) == 0
    assert main([*base, "--no-augment", "--out", str(tmp_path / "n.npz")]) == 0
    assert load_model(tmp_path / "s.npz").training["augment"] == "styles"
    assert load_model(tmp_path / "d.npz").training["augment"] == "distort"
    assert load_model(tmp_path / "n.npz").training["augment"] == "none"
    capsys.readouterr()
    assert main([*base, "--augment", "sideways", "--out", str(tmp_path / "x.npz")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "sideways" in err[0] and "styles" in err[0]
    assert not (tmp_path / "x.npz").exists()


def test_files_and_run_records_that_store_augment_true_still_open(tmp_path):
    from mnist_studio.nn.model import Model
    from mnist_studio.nn.modelfile import load_model, save_model
    from mnist_studio.nn.spec import load_preset
    from mnist_studio.training.runs import RunRecord

    spec = load_preset("tiny-mlp")
    old = TrainConfig().to_dict() | {"augment": True}
    save_model(tmp_path / "old.npz", Model(spec, seed=0), training=old)
    loaded = load_model(tmp_path / "old.npz")
    assert loaded.training["augment"] is True  # the file is read as it is...
    assert TrainConfig.from_dict(loaded.training).augment == "distort"  # ...and means the distortions
    record = RunRecord.from_dict({"name": "old run", "spec": spec, "config": old})
    assert record.config.augment == "distort"
    assert TrainConfig.from_dict(TrainConfig().to_dict() | {"augment": False}).augment == "none"
