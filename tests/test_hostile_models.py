"""Model files as an attacker or a damaged disk makes them: wrong metadata types and shapes, deep JSON, zip entries
with features we never write, sizes announced far beyond the file. Each is the file's own ModelFileError; the
bombs are refused from the zip directory and the .npy headers before anything is allocated (checked in a child
process with a memory limit, so a regression fails instead of exhausting the machine)."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from mnist_studio.nn.model import Model
from mnist_studio.nn.modelfile import ModelFileError, load_model, save_model
from mnist_studio.nn.spec import load_preset
from tests.limited import run_limited


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "good.npz"
    save_model(path, Model(load_preset("logistic"), seed=0), training={"lr": 0.1}, history={"epochs": []})
    return path


def rewrite(src, dst, change=None, mutate_info=None):
    """Copy the archive ``src`` to ``dst``, replacing entries by ``change(name, array)`` (None: drop it) and then
    changing each entry's directory record with ``mutate_info(info)`` just before the directory is written."""
    with np.load(src, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as z:
        for name, arr in arrays.items():
            arr = change(name, arr) if change else arr
            if arr is None:
                continue
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asanyarray(arr), allow_pickle=False)
            z.writestr(name + ".npy", buf.getvalue())
        if mutate_info:
            for info in z.filelist:
                mutate_info(info)
    return dst


def replace(key, value):
    return lambda name, arr: value if name == key else arr


@pytest.mark.parametrize("change, message", [
    (replace("format_version", np.array([1])), "model format version missing or not a whole number"),
    (replace("format_version", np.array(1 + 0j)), "model format version missing or not a whole number"),
    (replace("format_version", np.array("1")), "model format version missing or not a whole number"),
    (replace("format", np.array(["mnist-studio-model"])), "no 'mnist-studio-model' marker"),
    (replace("training", np.array("[1, 2]")), "the 'training' entry must be an object, got [1, 2]"),
    (replace("history", np.array('"text"')), "the 'history' entry must be an object"),
    (replace("optimizer", np.array("[]")), "the 'optimizer' entry must be an object or null"),
    (replace("spec", np.array("[" * 50_000 + "]" * 50_000)), "the 'spec' entry: nested 50,000 levels deep"),
    (replace("history", np.array('{"a": ' + "7" * 5000 + "}")), "a number with 5,000 digits"),
    (replace("spec", np.array('{"layers": [{"type": []}]}')), "unknown layer type []"),
    (replace("spec", np.array('{"layers": {"type": "Dense"}}')), "no list of layers"),
    (replace("spec", np.array('{"name": ["x"], "layers": []}')), "'name' must be text"),
    (replace("weights/1.W", np.zeros((784, 10), np.complex64)), "not floating-point numbers"),
    (replace("weights/1.W", np.array("w")), "has shape ()"),
])
def test_wrong_metadata_is_the_files_own_error(good, tmp_path, change, message):
    path = rewrite(good, tmp_path / "bad.npz", change)
    with pytest.raises(ModelFileError) as e:
        load_model(path)
    assert str(e.value).startswith(str(path)) and message in str(e.value), str(e.value)
    assert "\n" not in str(e.value)


def with_optimizer(tmp_path):
    from mnist_studio.nn.optim import make_optimizer

    model = Model(load_preset("logistic"), seed=0)
    opt = make_optimizer("adam", 0.01)
    params = [p for _, p, _ in model.named_params()]
    opt.step(params, [np.ones_like(p) for p in params])
    path = tmp_path / "opt.npz"
    save_model(path, model, optimizer=opt)
    return path


def test_optimizer_state_of_the_wrong_shape_or_type(tmp_path):
    src = with_optimizer(tmp_path)
    load_model(src)
    for change, message in [(replace("optimizer/t", np.array([1, 2])), "'t' is not a whole number"),
                            (replace("optimizer/m.0", np.array("x")), "'m.0' is not floating-point"),
                            (replace("optimizer", np.array('{"lr": 1}')), "the stored optimizer state is invalid")]:
        with pytest.raises(ModelFileError, match=message):
            load_model(rewrite(src, tmp_path / "bad.npz", change))


@pytest.mark.parametrize("mutate, message", [
    (lambda i: setattr(i, "flag_bits", i.flag_bits | 0x1), "is encrypted"),
    (lambda i: setattr(i, "compress_type", 99), "uses compression method 99"),
    (lambda i: setattr(i, "extract_version", 99), "needs a zip feature that cannot be read \\(zip file version 9.9\\)"),
    (lambda i: i.filename == "spec.npy" and setattr(i, "file_size", 7 * 2**40), "announces 7.0 TiB of data"),
])
def test_zip_features_we_never_write_are_refused_from_the_directory(good, tmp_path, mutate, message):
    path = rewrite(good, tmp_path / "bad.npz", mutate_info=mutate)
    with pytest.raises(ModelFileError, match=message):
        load_model(path)


def test_an_npy_header_announcing_more_than_the_entry_holds(good, tmp_path):
    path = tmp_path / "bomb.npz"
    with np.load(good) as data:
        arrays = {k: data[k] for k in data.files}
    with zipfile.ZipFile(path, "w") as z:
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, arr)
            z.writestr(name + ".npy", buf.getvalue())
        header = io.BytesIO()  # a 10^12-float header over 16 bytes of data
        np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (10**12,)})
        z.writestr("weights/9.W.npy", header.getvalue() + b"\0" * 16)
    with pytest.raises(ModelFileError, match=r"announces a \(1000000000000,\) array \(3.6 TiB\) but holds"):
        load_model(path)


def test_object_arrays_and_non_npy_entries_are_refused(good, tmp_path):
    path = tmp_path / "obj.npz"
    with zipfile.ZipFile(path, "w") as z:
        buf = io.BytesIO()
        np.lib.format.write_array(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
        z.writestr("format.npy", buf.getvalue())
    with pytest.raises(ModelFileError, match="holds object values, which are never loaded"):
        load_model(path)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(ModelFileError, match="is not a NumPy array"):
        load_model(path)


def test_bombs_are_refused_before_allocating_under_a_memory_limit(tmp_path):
    """A real 2 GB deflate bomb (about 2 MB on disk) and a terabyte header, in a child limited to 1 GB."""
    bomb = tmp_path / "bomb.npz"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("weights/0.W.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False, "shape": (2**29,)})
            chunk = b"\0" * 2**24
            for _ in range(2**31 // len(chunk)):
                f.write(chunk)
    code = f"""
    import time
    from mnist_studio.nn.modelfile import ModelFileError, load_model
    t = time.perf_counter()
    try:
        load_model({str(bomb)!r})
    except ModelFileError as e:
        print("refused:", e)
    print("seconds", time.perf_counter() - t)
    """
    done = run_limited(code, memory_mb=1000, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "refused:" in done.stdout and "announces 2.0 GiB of data" in done.stdout, done.stdout
    assert bomb.stat().st_size < 5_000_000
