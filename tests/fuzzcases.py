"""Hostile files for the fuzz test and ``benchmarks/fuzz.py``: seeded mutations of a good model file, architecture,
IDX dataset, picture and stroke file, each run through the command line in-process (stroke files, which no
command reads, through their reader). A case passes when the command ends with exit 0 (the mutation left a usable
file) or exit 2 and one line "mnist-studio: error: ..." on stderr; anything else (a traceback, another exit code,
several lines) is a finding.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import random
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

KINDS = ("model", "spec", "idx", "image", "strokes")


@dataclass
class Outcome:
    kind: str
    seed: int
    ok: bool
    code: int | None
    detail: str  # the error line, or the traceback's last line


# -- good seeds ----------------------------------------------------------------------------------------------------

def _seed_files(folder: Path) -> dict[str, bytes]:
    """The good files every mutation starts from (made once per folder)."""
    from PIL import Image, ImageDraw

    from mnist_studio.nn.model import Model
    from mnist_studio.nn.modelfile import save_model
    from mnist_studio.nn.optim import make_optimizer
    from mnist_studio.nn.spec import load_preset

    spec = {"name": "tiny", "input_shape": [28, 28, 1], "init": "he",
            "layers": [{"type": "Conv2D", "filters": 2, "kernel_size": 3}, {"type": "ReLU"},
                       {"type": "MaxPool2D", "pool_size": 2}, {"type": "Flatten"}, {"type": "Dense", "units": 10},
                       {"type": "Softmax"}],
            "training": {"optimizer": "adam", "lr": 0.001, "batch_size": 16, "epochs": 1}}
    model = Model(spec, seed=0)
    opt = make_optimizer("adam", 0.001)
    params = [p for _, p, _ in model.named_params()]
    opt.step(params, [np.full_like(p, 0.01) for p in params])
    save_model(folder / "seed.npz", model, optimizer=opt, training={"optimizer": "adam", "lr": 0.001},
               history={"epochs": [{"epoch": 1, "train_loss": 0.5}], "test_accuracy": 0.9})
    rng = np.random.default_rng(0)
    images = (rng.random((20, 28, 28)) * 255).astype(np.uint8)
    labels = (np.arange(20) % 10).astype(np.uint8)
    im = Image.new("L", (90, 60), 255)
    draw = ImageDraw.Draw(im)
    draw.line([(10, 10), (35, 10), (20, 50)], fill=0, width=5)
    draw.ellipse([50, 10, 80, 50], outline=0, width=5)
    png, jpg = io.BytesIO(), io.BytesIO()
    im.save(png, "PNG")
    im.convert("RGB").save(jpg, "JPEG", quality=90)
    strokes = [{"label": 7, "writer": 1, "strokes": [[[0, 0], [10, 0], [4, 20]]]},
               {"label": 1, "strokes": [[[5, 0], [5, 20]], [[3, 2], [5, 0]]]}]
    return {
        "model": (folder / "seed.npz").read_bytes(),
        "spec": json.dumps(spec).encode(),
        "idx_images": _idx(images, 0x08),
        "idx_labels": _idx(labels, 0x08),
        "png": png.getvalue(),
        "jpg": jpg.getvalue(),
        "strokes": json.dumps(strokes).encode(),
    }


def _idx(arr: np.ndarray, code: int) -> bytes:
    return bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


# -- mutations -----------------------------------------------------------------------------------------------------

HOSTILE_JSON = [
    lambda r: "[" * r.randint(100, 60_000) + "]" * r.randint(0, 60_000),
    lambda r: "9" * r.randint(30, 6000),
    lambda r: "1e" + str(r.randint(300, 400)),
    lambda r: "-1e400", lambda r: "NaN", lambda r: "Infinity",
    lambda r: '"\\ud800"', lambda r: '"\\udfff x"', lambda r: "[]", lambda r: "{}", lambda r: "null",
    lambda r: "true", lambda r: '"x"', lambda r: "64.5", lambda r: "-1", lambda r: "0", lambda r: "1e300",
    lambda r: "[1, 2, 3]", lambda r: '{"type": []}', lambda r: '[{"type": "Dense"}]', lambda r: '"' + "a" * 5000 + '"',
    lambda r: str(2**64), lambda r: "0.5", lambda r: '{"a": {"b": [{"c": ' * 30 + "1" + "}]}" * 30,
]


def mutate_bytes(data: bytes, r: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(r.randint(1, 4)):
        op = r.randrange(6)
        if not b:
            b = bytearray(r.randbytes(r.randint(1, 64)))
        i = r.randrange(len(b))
        if op == 0:  # flip bits
            b[i] ^= 1 << r.randrange(8)
        elif op == 1:  # random bytes over a span
            n = r.randint(1, 16)
            b[i:i + n] = r.randbytes(n)
        elif op == 2:  # truncate
            del b[r.randrange(len(b)):]
        elif op == 3:  # insert
            b[i:i] = r.randbytes(r.randint(1, 32))
        elif op == 4:  # interesting integers
            b[i:i + 4] = r.choice([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f\xff\xff\xff", b"\x80\x00\x00\x00",
                                   b"\x00\x01\x00\x00"])
        else:  # duplicate a chunk
            j = r.randrange(len(b))
            b[i:i] = b[j:j + r.randint(1, 256)]
    return bytes(b)


def mutate_json_text(text: str, r: random.Random) -> str:
    """Replace a value somewhere in the document by a hostile one (structure-aware), or mutate the bytes."""
    try:
        doc = json.loads(text)
    except ValueError:
        return mutate_bytes(text.encode(), r).decode("utf-8", "replace")
    paths = []

    def walk(o, path):
        paths.append(path)
        if isinstance(o, dict):
            for k, v in o.items():
                walk(v, path + [k])
        elif isinstance(o, list):
            for i, v in enumerate(o):
                walk(v, path + [i])

    walk(doc, [])
    marker = "__HOSTILE_%d__" % r.randrange(10**9)
    target = r.choice(paths)
    if not target:
        return r.choice(HOSTILE_JSON)(r)
    parent = doc
    for k in target[:-1]:
        parent = parent[k]
    if r.random() < 0.15 and isinstance(parent, dict):  # a hostile key instead
        parent["\\ud800" if r.random() < 0.5 else "x" * 100] = 1
        return json.dumps(doc)
    parent[target[-1]] = marker
    return json.dumps(doc).replace(json.dumps(marker), r.choice(HOSTILE_JSON)(r))


def mutate_npz(data: bytes, r: random.Random) -> bytes:
    """Structure-aware: rewrite an entry with a hostile array or JSON text, or change a zip directory field."""
    choice = r.randrange(4)
    if choice == 0:
        return mutate_bytes(data, r)
    src = zipfile.ZipFile(io.BytesIO(data))
    entries = {i.filename: src.read(i) for i in src.infolist()}
    names = list(entries)
    out = io.BytesIO()
    victim = r.choice(names)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED if r.random() < 0.5 else zipfile.ZIP_STORED) as z:
        for name, raw in entries.items():
            if name == victim and choice == 1:
                raw = _hostile_npy(raw, r)
            z.writestr(name, raw)
        if choice == 2:
            info = next(i for i in z.filelist if i.filename == victim)
            field = r.randrange(5)
            if field == 0:
                info.flag_bits |= 1
            elif field == 1:
                info.compress_type = r.choice([1, 6, 9, 12, 14, 99])
            elif field == 2:
                info.extract_version = r.choice([46, 63, 64, 99, 255])
            elif field == 3:
                info.file_size = r.choice([7 * 2**40, 2**32 + 5, 2**31, 10**9])
            else:
                info.filename = r.choice(["../evil.npy", "x" * 300 + ".npy", "spec.npy", "weights/0.W"])
        if choice == 3:  # an extra entry
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.zeros(r.randint(0, 100)))
            z.writestr(r.choice(["weights/99.W.npy", "optimizer/zz.npy", "extra.npy"]), buf.getvalue())
    return out.getvalue()


def _hostile_npy(raw: bytes, r: random.Random) -> bytes:
    try:
        arr = np.lib.format.read_array(io.BytesIO(raw), allow_pickle=False)
    except Exception:
        arr = np.zeros(3)
    kind = r.randrange(8)
    if arr.dtype.kind == "U" and kind < 4:
        new = np.array(mutate_json_text(str(arr), r))
    elif kind == 0:
        new = np.zeros((1,) + arr.shape, arr.dtype)
    elif kind == 1:
        new = arr.astype(np.complex64) if arr.dtype.kind != "U" else np.array([1 + 2j])
    elif kind == 2:
        new = np.array(r.choice(["1", "x", "{}", "null"]))
    elif kind == 3:
        new = np.full(arr.shape, np.nan, np.float32)
    elif kind == 4:
        new = np.array([1, 2])
    elif kind == 5:
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                      "shape": (r.choice([10**6, 10**9, 10**12]),)})
        return header.getvalue() + b"\0" * 64
    elif kind == 6:
        new = np.array(True)
    else:
        return mutate_bytes(raw, r)
    buf = io.BytesIO()
    np.lib.format.write_array(buf, new, allow_pickle=False)
    return buf.getvalue()


def mutate_idx(data: bytes, r: random.Random) -> bytes:
    choice = r.randrange(4)
    if choice == 0:
        return mutate_bytes(data, r)
    b = bytearray(data)
    if choice == 1:  # a header field
        pos = r.choice([2, 3, 4, 8, 12])
        if pos < 4:
            b[pos] = r.randrange(256)
        else:
            b[pos:pos + 4] = struct.pack(">I", r.choice([0, 1, 28, 29, 2**31, 2**32 - 1, r.randrange(2**32)]))
        return bytes(b)
    if choice == 2:  # gzip it, possibly damaged
        z = gzip.compress(bytes(b))
        return z if r.random() < 0.5 else mutate_bytes(z, r)
    return bytes(b[:r.randrange(len(b))])


def mutate_image(data: bytes, r: random.Random) -> bytes:
    from PIL import Image

    choice = r.randrange(4)
    if choice == 0:
        return mutate_bytes(data, r)
    if choice == 1 and data[:8] == b"\x89PNG\r\n\x1a\n":  # IHDR width/height (CRC left wrong or fixed)
        import zlib

        b = bytearray(data)
        b[16:24] = struct.pack(">II", r.choice([1, 12000, 65535, 2**31 - 1, 0]), r.choice([1, 12000, 65535, 0]))
        if r.random() < 0.7:
            b[29:33] = struct.pack(">I", zlib.crc32(bytes(b[12:29])))
        return bytes(b)
    if choice == 2:  # another mode or format of the same picture
        im = Image.open(io.BytesIO(data))
        im.load()
        mode = r.choice(["I;16", "I", "F", "RGBA", "LA", "P", "CMYK", "1", "RGB"])
        fmt = r.choice(["PNG", "TIFF", "GIF", "BMP", "WEBP", "JPEG"])
        try:
            conv = im.convert(mode) if mode != "I;16" else Image.fromarray(np.asarray(im, np.uint16) * 257)
            out = io.BytesIO()
            conv.save(out, fmt)
            return out.getvalue() if r.random() < 0.6 else mutate_bytes(out.getvalue(), r)
        except Exception:  # a mode this format cannot store: mutate the bytes instead
            return mutate_bytes(data, r)
    return data[:r.randrange(len(data))]


# -- cases ---------------------------------------------------------------------------------------------------------

class Fuzzer:
    """Makes case ``seed`` of a kind in ``folder`` and runs it."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.seeds = _seed_files(self.folder)

    def case(self, kind: str, seed: int) -> tuple[list[str] | None, Path]:
        r = random.Random(f"{kind}-{seed}")
        d = self.folder / f"case-{kind}"
        d.mkdir(exist_ok=True)
        model = str(self.folder / "seed.npz")
        if kind == "model":
            p = d / "m.npz"
            p.write_bytes(mutate_npz(self.seeds["model"], r))
            return (["summary", str(p)] if r.random() < 0.7 else
                    ["predict", str(p), str(self._good_image())]), p
        if kind == "spec":
            p = d / "s.json"
            p.write_bytes(mutate_json_text(self.seeds["spec"].decode(), r).encode("utf-8", "surrogatepass")
                          if r.random() < 0.8 else mutate_bytes(self.seeds["spec"], r))
            if r.random() < 0.7:
                return ["summary", "--spec", str(p)], p
            return ["train", "--spec", str(p), "--epochs", "1", "--limit", "32", "--val-size", "0", "--quiet",
                    "--data", str(self._good_idx()), "--out", str(d / "out.npz")], p
        if kind == "idx":
            folder = d / "data"
            folder.mkdir(exist_ok=True)
            names = {"train-images-idx3-ubyte": "idx_images", "train-labels-idx1-ubyte": "idx_labels",
                     "t10k-images-idx3-ubyte": "idx_images", "t10k-labels-idx1-ubyte": "idx_labels"}
            victim = r.choice(list(names))
            for name, key in names.items():
                data = self.seeds[key]
                (folder / name).write_bytes(mutate_idx(data, r) if name == victim else data)
            return ["evaluate", model, "--data", str(folder)], folder
        if kind == "image":
            p = d / "img"
            p.write_bytes(mutate_image(self.seeds[r.choice(["png", "jpg"])], r))
            return ["predict", model, str(p)], p
        p = d / "strokes.json"
        p.write_bytes(mutate_json_text(self.seeds["strokes"].decode(), r).encode("utf-8", "surrogatepass")
                      if r.random() < 0.8 else mutate_bytes(self.seeds["strokes"], r))
        return None, p

    def _good_image(self) -> Path:
        p = self.folder / "good.png"
        if not p.exists():
            p.write_bytes(self.seeds["png"])
        return p

    def _good_idx(self) -> Path:
        folder = self.folder / "good-idx"
        if not folder.exists():
            folder.mkdir()
            for name, key in {"train-images-idx3-ubyte": "idx_images", "train-labels-idx1-ubyte": "idx_labels",
                              "t10k-images-idx3-ubyte": "idx_images", "t10k-labels-idx1-ubyte": "idx_labels"}.items():
                (folder / name).write_bytes(self.seeds[key])
        return folder

    def run(self, kind: str, seed: int) -> Outcome:
        argv, path = self.case(kind, seed)
        if argv is None:
            return _run_strokes(kind, seed, path)
        return _run_cli(kind, seed, argv)


def _run_cli(kind: str, seed: int, argv: list[str]) -> Outcome:
    import traceback

    from mnist_studio import cli

    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(argv)
    except SystemExit as e:  # argparse's --help/--version only; anything else is a finding
        code = e.code if isinstance(e.code, int) else 1
    except BaseException as e:  # noqa: BLE001 - a finding, reported with its last traceback line
        if isinstance(e, KeyboardInterrupt) and str(e) == "fuzz case timed out":
            raise
        last = traceback.format_exception(type(e), e, e.__traceback__)
        return Outcome(kind, seed, False, None, "".join(last[-3:]).strip()[-600:])
    lines = [ln for ln in err.getvalue().splitlines() if ln.strip()]
    if code == 0:
        return Outcome(kind, seed, True, 0, "")
    one_line = code == 2 and len(lines) == 1 and lines[0].startswith("mnist-studio: error: ")
    return Outcome(kind, seed, one_line, code, err.getvalue().strip()[-600:])


def _run_strokes(kind: str, seed: int, path: Path) -> Outcome:
    import traceback

    from mnist_studio.data.idx import DatasetError
    from mnist_studio.data.strokes import read_stroke_file, stroke_images

    try:
        stroke_images(read_stroke_file(path))
    except DatasetError as e:
        return Outcome(kind, seed, "\n" not in str(e), 2, str(e)[:600])
    except BaseException as e:  # noqa: BLE001
        last = traceback.format_exception(type(e), e, e.__traceback__)
        return Outcome(kind, seed, False, None, "".join(last[-3:]).strip()[-600:])
    return Outcome(kind, seed, True, 0, "")
