"""Pen-stroke digit files (mnist_studio.data.strokes): the dev set's format, read defensively, written atomically."""

import json

import numpy as np
import pytest

from mnist_studio.data.idx import DatasetError
from mnist_studio.data.preprocess import preprocess_strokes
from mnist_studio.data.strokes import (StrokeDigit, parse_stroke_text, read_stroke_file, stroke_images,
                                       write_stroke_file)

SEVEN = [[[10, 10], [90, 10], [40, 150]], [[30, 80], [80, 78]]]


def test_round_trip_keeps_labels_strokes_and_extra_keys(tmp_path):
    digits = [StrokeDigit(7, [[(10.0, 10.0), (90.0, 10.0), (40.5, 150.25)]], {"writer": "me", "index": 3}),
              StrokeDigit(1, [[(5.0, 0.0), (5.0, 100.0)], [(0.0, 100.0), (10.0, 100.0)]])]
    path = tmp_path / "s.json"
    write_stroke_file(path, digits)
    back = read_stroke_file(path)
    assert [d.label for d in back] == [7, 1]
    assert back[0].strokes == digits[0].strokes and back[1].strokes == digits[1].strokes
    assert back[0].writer == "me" and back[0].extra["index"] == 3
    text = path.read_text()
    assert text.count("\n") == 4 and '"label":7' in text  # one digit a line, like the dev set


def test_dev_set_style_record_is_read():
    rec = {"label": 4, "writer": 1, "index_in_writer": 55, "src_index": 6, "strokes": SEVEN}
    (d,) = parse_stroke_text(json.dumps([rec]))
    assert d.label == 4 and d.writer == 1 and len(d.strokes) == 2 and d.strokes[1][0] == (30.0, 80.0)


@pytest.mark.parametrize("text, words", [
    ("", "not valid JSON"),
    ("{", "not valid JSON"),
    ("[]", "no digits"),
    ('{"label": 1}', "JSON list"),
    ("[" * 100000 + "]" * 100000, "nested 100,000 levels deep"),
    ('[{"label": 10, "strokes": [[[0, 0]]]}]', "digit 1: the label must be a digit 0-9"),
    ('[{"label": -1, "strokes": [[[0, 0]]]}]', "label must be a digit"),
    ('[{"label": 2.5, "strokes": [[[0, 0]]]}]', "label must be a digit"),
    ('[{"label": true, "strokes": [[[0, 0]]]}]', "label must be a digit"),
    ('[{"label": "7", "strokes": [[[0, 0]]]}]', "label must be a digit"),
    ('[{"label": 3, "strokes": [[[0, 0]]]}, {"label": 3, "strokes": []}]', "digit 2: no strokes"),
    ('[{"label": 3, "strokes": [[], []]}]', "no strokes"),
    ('[{"label": 3}]', "'strokes' must be a list"),
    ('[{"label": 3, "strokes": [[[0, 0, 0]]]}]', "stroke 1: a point must be [x, y]"),
    ('[{"label": 3, "strokes": [[["a", 0]]]}]', "a point must be"),
    ('[{"label": 3, "strokes": [[[1e999, 0]]]}]', "the number 1e999 is too large"),
    ('[{"label": 3, "strokes": [[[1' + "0" * 5000 + ', 0]]]}]', "a number with 5,001 digits"),
    ('[{"label": 1' + "0" * 400 + ', "strokes": [[[0, 0]]]}]', "a number with 401 digits"),
    ('[{"label": 3, "writer": "\\ud800", "strokes": [[[0, 0]]]}]', "lone UTF-16 surrogate"),
    ('[{"label": 3, "strokes": [[0, 0]]}]', "a point must be"),
    ("[3]", "digit 1: expected an object"),
])
def test_bad_files_are_refused_with_a_clear_message(tmp_path, text, words):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(DatasetError) as e:
        read_stroke_file(path)
    assert words in str(e.value) and str(path) in str(e.value)
    assert "\n" not in str(e.value)


def test_missing_binary_and_folder_are_clear(tmp_path):
    with pytest.raises(DatasetError, match="no such file"):
        read_stroke_file(tmp_path / "nope.json")
    with pytest.raises(DatasetError, match="folder"):
        read_stroke_file(tmp_path)
    (tmp_path / "b.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(DatasetError, match="UTF-8"):
        read_stroke_file(tmp_path / "b.json")


def test_images_are_the_pads_recipe_whatever_the_coordinate_scale():
    d = parse_stroke_text(json.dumps([{"label": 7, "strokes": SEVEN}]))
    big = [[(x * 3.7 + 100, y * 3.7 - 40) for x, y in s] for s in d[0].strokes]
    imgs = stroke_images([d[0], big])
    assert imgs.shape == (2, 28, 28) and imgs.dtype == np.float32
    np.testing.assert_allclose(imgs[0], preprocess_strokes(d[0].strokes).centred)
    # only the shape matters (the anti-aliasing grid differs by a fraction of a pixel)
    assert np.abs(imgs[0] - imgs[1]).mean() < 0.01 and np.corrcoef(imgs[0].ravel(), imgs[1].ravel())[0, 1] > 0.98
    assert imgs[0].max() == pytest.approx(1.0, abs=0.02)
