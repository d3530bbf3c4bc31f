"""The "My handwriting" examples file: kept with strokes, survives a restart, refuses damage without losing it."""

import json
import zipfile

import numpy as np
import pytest

from mnist_studio.data.handwriting import FILE_NAME, HandwritingError, HandwritingStore
from mnist_studio.data.idx import DatasetError
from mnist_studio.data.strokes import read_stroke_file, stroke_images, write_stroke_file
from odd_hand import odd_hand

SEVEN = [[(20.0, 30.0), (200.0, 30.0), (90.0, 250.0)], [(60.0, 140.0), (180.0, 140.0)]]


def test_examples_survive_a_restart_with_their_strokes(tmp_path):
    store = HandwritingStore(tmp_path / FILE_NAME)
    store.load()
    assert len(store) == 0 and not (tmp_path / FILE_NAME).exists()
    store.add(SEVEN, 7, source="corrected")
    store.add([[(10, 10), (10, 200)]], 1, source="guided", held_out=True)
    again = HandwritingStore(tmp_path / FILE_NAME)
    again.load()
    assert again.labels.tolist() == [7, 1] and again.held_out.tolist() == [False, True]
    assert again.digits[0].strokes == SEVEN and again.digits[0].extra["source"] == "corrected"
    assert np.array_equal(again.images[0], np.rint(stroke_images([SEVEN])[0] * 255))
    assert again.counts().tolist() == [0, 1, 0, 0, 0, 0, 0, 1, 0, 0]
    with np.load(tmp_path / FILE_NAME, allow_pickle=False) as z:  # plain arrays only
        assert {"format", "digits", "images", "labels"} <= set(z.files)


def test_delete_export_and_import_in_the_dev_set_format(tmp_path):
    store = HandwritingStore(tmp_path / FILE_NAME)
    for d in odd_hand(3, seed=2):
        store.add(d.strokes, d.label, save=False)
    store.save()
    store.remove([0, 2])
    assert len(store) == 4 and len(store.images) == 4
    store.export(tmp_path / "mine.json")
    back = read_stroke_file(tmp_path / "mine.json")
    assert [d.label for d in back] == store.labels.tolist()
    other = HandwritingStore(tmp_path / "other.npz")
    assert other.import_file(tmp_path / "mine.json") == 4
    assert np.array_equal(other.images, store.images)  # the file holds exactly what was rendered
    (tmp_path / "bad.json").write_text('[{"label": 11, "strokes": [[[0, 0]]]}]')
    with pytest.raises(DatasetError, match="label must be a digit"):
        other.import_file(tmp_path / "bad.json")
    assert len(other) == 4


def test_refuses_bad_examples():
    store = HandwritingStore("/nonexistent/x.npz")
    with pytest.raises(ValueError, match="0-9"):
        store.add(SEVEN, 10, save=False)
    with pytest.raises(ValueError, match="empty drawing"):
        store.add([[]], 3, save=False)
    with pytest.raises(HandwritingError, match="no examples"):
        store.export("/nonexistent/y.json")


def _tamper(path, **changes):
    with np.load(path, allow_pickle=False) as z:
        arrays = dict(z)
    arrays.update(changes)
    np.savez(path, **arrays)


@pytest.mark.parametrize("damage, words", [
    (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), "not a readable examples file"),
    (lambda p: p.write_text("hello"), "not a readable examples file"),
    (lambda p: _tamper(p, format=np.array("something-else")), "not a My handwriting file"),
    (lambda p: _tamper(p, labels=np.array([3], np.uint8)), "labels do not match"),
    (lambda p: _tamper(p, images=np.zeros((1, 28, 28), np.float64)), "'images' should be"),
    (lambda p: _tamper(p, digits=np.array('[{"label": 7, "strokes": "x"}]')), "'strokes' must be a list"),
])
def test_a_damaged_file_is_refused_and_kept_aside(tmp_path, damage, words):
    path = tmp_path / FILE_NAME
    store = HandwritingStore(path)
    store.add(SEVEN, 7)
    damage(path)
    damaged = path.read_bytes()
    again = HandwritingStore(path)
    with pytest.raises(HandwritingError, match=words):
        again.load()
    assert len(again) == 0 and again.refused
    again.add(SEVEN, 4)  # the next save moves the damaged file aside instead of overwriting it
    aside = list(tmp_path.glob("my-handwriting.damaged-*.npz"))
    assert len(aside) == 1 and aside[0].read_bytes() == damaged
    fresh = HandwritingStore(path)
    fresh.load()
    assert fresh.labels.tolist() == [4]


def test_a_pickled_array_is_refused(tmp_path):
    path = tmp_path / FILE_NAME
    HandwritingStore(path).add(SEVEN, 7)
    with zipfile.ZipFile(path, "a") as z:  # an object array needs pickle to load
        import io

        buf = io.BytesIO()
        np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
        z.writestr("extra.npy", buf.getvalue())
    with pytest.raises(HandwritingError, match="not a readable examples file"):
        HandwritingStore(path).load()


def test_stroke_file_written_by_the_store_is_json_with_labels(tmp_path):
    store = HandwritingStore(tmp_path / FILE_NAME)
    store.add(SEVEN, 7)
    store.export(tmp_path / "e.json")
    data = json.loads((tmp_path / "e.json").read_text())
    assert data[0]["label"] == 7 and data[0]["strokes"][1] == [[60, 140], [180, 140]]
    write_stroke_file(tmp_path / "f.json", read_stroke_file(tmp_path / "e.json"))


def test_an_entry_announcing_a_huge_array_is_refused_before_reading(tmp_path):
    """The store reads through the checked .npz reader: a header promising terabytes is refused, not allocated."""
    path = tmp_path / FILE_NAME
    HandwritingStore(path).add(SEVEN, 7)
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }"
    header = header + " " * (63 - (10 + len(header)) % 64) + "\n"
    npy = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + b"\0" * 64
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("bomb.npy", npy)
    with pytest.raises(HandwritingError, match="not a readable examples file"):
        HandwritingStore(path).load()


def test_a_photos_digit_is_kept_as_its_image_and_survives_a_restart(tmp_path):
    """A digit cut from a photo has no strokes: its 28×28 image is kept (the file says version 2 then, 1 without
    one, so older studios still read a file of drawings), it is taught like a drawing, and a stroke-file export
    leaves it out (it has nothing to write)."""
    store = HandwritingStore(tmp_path / FILE_NAME)
    store.add(SEVEN, 7)
    with np.load(tmp_path / FILE_NAME, allow_pickle=False) as z:
        assert int(z["format_version"]) == 1
    image = np.zeros((28, 28), np.float32)
    image[4:24, 12:16] = np.linspace(0.3, 1.0, 20)[:, None]  # a grey pencil 1, darker at its foot
    store.add_image(image, 1, picture="board.jpg")
    again = HandwritingStore(tmp_path / FILE_NAME)
    again.load()
    assert again.labels.tolist() == [7, 1] and again.from_photos.tolist() == [False, True]
    assert again.digits[1].strokes == [] and again.digits[1].extra["picture"] == "board.jpg"
    assert np.abs(again.float_images()[1] - image).max() <= 0.5 / 255 + 1e-6
    with np.load(tmp_path / FILE_NAME, allow_pickle=False) as z:
        assert int(z["format_version"]) == 2
    again.export(tmp_path / "mine.json")
    assert [d.label for d in read_stroke_file(tmp_path / "mine.json")] == [7]
    for bad, words in ((np.zeros((28, 28)), "empty"), (np.ones((20, 20)), "28×28"), (image, "label")):
        with pytest.raises(ValueError, match=words):
            again.add_image(bad, 12 if words == "label" else 3)
    assert len(again) == 2
    # a stroke file's digit must still have strokes, whatever its source says
    (tmp_path / "photo.json").write_text('[{"label": 1, "strokes": [], "source": "photo"}]')
    with pytest.raises(DatasetError, match="no strokes"):
        again.import_file(tmp_path / "photo.json")


def test_a_store_emptied_by_deleting_every_example_opens_again(tmp_path):
    """Deleting every example saved an empty list, which the reader took for a damaged file on the next start."""
    store = HandwritingStore(tmp_path / FILE_NAME)
    store.add(SEVEN, 7)
    store.remove([0])
    again = HandwritingStore(tmp_path / FILE_NAME)
    again.load()
    assert len(again) == 0 and again.refused is None
    again.add(SEVEN, 7)
    assert list(tmp_path.iterdir()) == [tmp_path / FILE_NAME]  # nothing moved aside as damaged
