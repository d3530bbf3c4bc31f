"""read_image: every picture mode reads as its 8-bit copy does, EXIF orientation is applied, very large pictures
are reduced early (JPEGs decoded reduced) or refused from the header, in bounded memory (child processes)."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_studio.data.idx import DatasetError
from mnist_studio.data.images import MAX_DECODED_PIXELS, read_image
from tests.limited import run_limited


@pytest.fixture(scope="module")
def seven():
    """A dark 7 with a grey bar on white paper, 8-bit (80 × 60): the reference every other mode must match."""
    im = Image.new("L", (60, 80), 255)
    d = ImageDraw.Draw(im)
    d.line([(10, 10), (50, 10), (25, 70)], fill=0, width=7)
    d.rectangle([5, 72, 55, 76], fill=128)
    return np.asarray(im)


def write(tmp_path, name, im, **kw):
    path = tmp_path / name
    im.save(path, **kw)
    return path


def variants(a8: np.ndarray):
    a = a8.astype(np.int64)
    rgba = np.zeros((*a8.shape, 4), np.uint8)
    rgba[..., 3] = 255 - a8  # black ink whose coverage is the alpha channel, on a transparent sheet
    la = np.stack([np.zeros_like(a8), 255 - a8], axis=-1)
    return {
        "png16.png": (Image.fromarray((a * 257).astype(np.uint16)), {}),  # 16-bit grey PNG (mode I;16)
        "int32.tif": (Image.fromarray((a * 8421504).astype(np.int32)), {}),  # full 31-bit range (mode I)
        "int8values.tif": (Image.fromarray(a.astype(np.int32)), {}),  # 8-bit values in a 32-bit int TIFF
        "float.tif": (Image.fromarray((a8 / 255.0).astype(np.float32)), {}),  # 0..1 floats (mode F)
        "rgba.png": (Image.fromarray(rgba, "RGBA"), {}),
        "la.png": (Image.fromarray(la, "LA"), {}),
        "palette.png": (Image.fromarray(a8).convert("P"), {}),
        "rgb.png": (Image.fromarray(np.stack([a8] * 3, -1)), {}),
        "cmyk.tif": (Image.fromarray(np.stack([a8] * 3, -1)).convert("CMYK"), {}),
        "bilevel.png": (Image.fromarray(a8).point(lambda v: 255 if v > 64 else 0).convert("1"), {}),
    }


@pytest.mark.parametrize("name", list(variants(np.zeros((2, 2), np.uint8))))
def test_every_mode_reads_as_its_8_bit_copy(tmp_path, seven, name):
    im, kw = variants(seven)[name]
    path = write(tmp_path, name, im, **kw)
    reference = seven / 255.0
    got = read_image(path).gray
    assert got.shape == seven.shape and got.dtype == np.float32
    if name == "bilevel.png":  # two levels only: the grey bar goes white, the ink stays black
        assert np.mean(np.abs(got - (reference > 0.25))) < 0.01
        return
    assert np.max(np.abs(got - reference)) < 0.02, (name, Image.open(path).mode)
    assert got.min() < 0.05 and got.max() > 0.95  # ink black, paper white: not a blank or washed-out page


def test_a_phone_photo_taken_sideways_is_turned_upright(tmp_path, seven):
    sideways = Image.fromarray(np.rot90(seven, -1).copy())  # stored turned a quarter clockwise ...
    exif = Image.Exif()
    exif[0x0112] = 8  # ... and EXIF says: rotate 90° counter-clockwise to view
    path = tmp_path / "photo.jpg"
    sideways.save(path, quality=95, exif=exif)
    pic = read_image(path)
    assert pic.gray.shape == seven.shape and pic.original_size == (60, 80)
    assert np.mean(np.abs(pic.gray - seven / 255.0)) < 0.02


def test_damaged_and_special_files_are_the_files_own_error(tmp_path, seven):
    path = write(tmp_path, "seven.png", Image.fromarray(seven))
    cut = tmp_path / "cut.png"
    cut.write_bytes(path.read_bytes()[:200])
    for p, message in [(cut, "cannot read the image"), (tmp_path, "not a picture file"),
                       (tmp_path / "none.png", "no such file")]:
        with pytest.raises(DatasetError, match=message):
            read_image(p)


def test_a_12000_px_png_is_refused_from_its_header_under_a_memory_limit(tmp_path):
    path = tmp_path / "huge.png"
    Image.new("L", (12000, 12000), 255).save(path, optimize=False)
    assert path.stat().st_size < 1_000_000
    done = run_limited(f"""
    import time
    from mnist_studio.data.idx import DatasetError
    from mnist_studio.data.images import read_image
    t = time.perf_counter()
    try:
        read_image({str(path)!r})
    except DatasetError as e:
        print("refused:", e)
    print(f"seconds {{time.perf_counter() - t:.3f}}")
    """, memory_mb=700, timeout=30)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "12,000×12,000 pixels (144 megapixels)" in done.stdout
    assert f"at most {MAX_DECODED_PIXELS / 1e6:.0f} megapixels" in done.stdout


def test_a_48_megapixel_phone_jpeg_reads_reduced_in_little_memory(tmp_path):
    w, h = 8000, 6000
    yy, xx = np.mgrid[0:h:8, 0:w:8]
    small = (200 + 30 * np.sin(xx / 900.0) * np.cos(yy / 700.0)).astype(np.uint8)  # uneven paper
    big = Image.fromarray(small).resize((w, h), Image.Resampling.BILINEAR).convert("RGB")
    ImageDraw.Draw(big).line([(3000, 2000), (5000, 2000), (4000, 4500)], fill=(20, 20, 30), width=120)
    path = tmp_path / "phone.jpg"
    big.save(path, quality=90)
    del big
    done = run_limited(f"""
    from mnist_studio.data.images import read_image
    pic = read_image({str(path)!r})
    print("shape", pic.gray.shape, "scale", pic.scale, "size", pic.original_size)
    print("ink", float(pic.gray[2000 // 2, 4000 // 2]), "paper", float(pic.gray[100, 100]))
    # VmHWM: this process's peak resident set (ru_maxrss would include the parent's size before exec)
    hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    print("peak_mb", int(hwm.split()[1]) // 1024)
    """, memory_mb=1500, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    out = dict(line.split(" ", 1) for line in done.stdout.strip().splitlines())
    assert out["shape"].startswith("(3000, 4000)") and "scale 2.0" in done.stdout and "(8000, 6000)" in out["shape"]
    ink, paper = (float(v.split()[-1]) for v in out["ink"].split(" paper "))
    assert ink < 0.2 and paper > 0.6
    assert int(out["peak_mb"]) < 500


def test_a_png_whose_idat_length_claims_2_gb_is_read_within_a_memory_limit(tmp_path, seven):
    """Found by the fuzzer: Pillow reads the rest of a chunk with one read(n); from a file that allocates n."""
    buf = io.BytesIO()
    Image.fromarray(seven).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    at = data.index(b"IDAT") - 4
    data[at:at + 4] = struct.pack(">I", 2**31 - 1)
    path = tmp_path / "long-idat.png"
    path.write_bytes(bytes(data))
    done = run_limited(f"""
    from mnist_studio.data.idx import DatasetError
    from mnist_studio.data.images import read_image
    try:
        print("read", read_image({str(path)!r}).gray.shape)
    except DatasetError as e:
        print("refused:", e)
    """, memory_mb=1000, timeout=30)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith(("read (80, 60)", "refused:")), done.stdout
