"""The picture segmenter on synthetic photos with known boxes: uneven light, shadows, noise, both polarities,
touching and broken digits, two lines, rotation; and the stroke-width normalisation."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_studio.data.photo import clean_page
from mnist_studio.data.picture import NORM_SIDE, TARGET_WIDTH, normalise_stroke, read_picture
from mnist_studio.data.segment import stroke_width

SS = 4  # supersampling of the glyphs


def glyph(kind: str, h: int = 60, pen: float = 6.0) -> np.ndarray:
    """A digit-like ink drawing (0-1), ``h`` px tall: '0', '1', '7', '4'; 'broken0' (a loop with two gaps),
    '5bar' (a 5 whose top bar does not touch its body), '7bar' (a 7 with a detached crossbar)."""
    w = int(h * 0.6)
    H, W, r = h * SS, w * SS, pen * SS / 2
    img = Image.new("L", (W + int(2 * r) + 2, H + int(2 * r) + 2), 0)
    d = ImageDraw.Draw(img)
    o = r + 1
    lw = round(pen * SS)

    def poly(*pts):
        pts = [(o + x * W, o + y * H) for x, y in pts]
        d.line(pts, fill=255, width=lw, joint="curve")
        for x, y in (pts[0], pts[-1]):
            d.ellipse((x - r, y - r, x + r, y + r), fill=255)

    box = (o, o, o + W, o + H)
    if kind == "0":
        d.ellipse(box, outline=255, width=lw)
    elif kind == "broken0":
        d.arc(box, 110, 250, fill=255, width=lw)
        d.arc(box, 290, 70, fill=255, width=lw)
    elif kind == "1":
        poly((0.5, 0.0), (0.5, 1.0))
    elif kind == "7":
        poly((0.0, 0.0), (1.0, 0.0), (0.35, 1.0))
    elif kind == "7bar":
        poly((0.0, 0.0), (1.0, 0.0), (0.35, 1.0))
        poly((0.2, 0.55), (0.45, 0.55))
        poly((0.62, 0.55), (0.9, 0.55))
    elif kind == "4":
        poly((0.55, 0.0), (0.0, 0.65), (1.0, 0.65))
        poly((0.75, 0.3), (0.75, 1.0))
    elif kind == "5bar":
        poly((0.12, 0.12), (0.08, 0.48))
        d.arc((o, o + 0.4 * H, o + W, o + H), 200, 150, fill=255, width=lw)
        poly((0.25, 0.0), (1.0, 0.0))
    a = np.asarray(img.resize((img.width // SS, img.height // SS), Image.Resampling.BOX), np.float32) / 255.0
    rows, cols = np.flatnonzero(a.max(1) > 0.5), np.flatnonzero(a.max(0) > 0.5)
    return a[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def mnist_digit(ds, i: int, h: int = 72) -> np.ndarray:
    a = ds.test_images[i].astype(np.float32) / 255.0
    rows, cols = np.flatnonzero(a.max(1) > 0.3), np.flatnonzero(a.max(0) > 0.3)
    a = a[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    k = h / a.shape[0]
    big = Image.fromarray(a, "F").resize((max(2, round(a.shape[1] * k)), h), Image.Resampling.BICUBIC)
    return np.clip((np.asarray(big, np.float32) - 0.2) / 0.5, 0, 1)


def place(shape, items):
    """Ink map of ``items`` [(ink, x, y)], and each item's box [x0, y0, x1, y1] (ink > 0.5)."""
    ink = np.zeros(shape, np.float32)
    boxes = []
    for a, x, y in items:
        sl = ink[y:y + a.shape[0], x:x + a.shape[1]]
        np.maximum(sl, a, out=sl)
        rows, cols = np.flatnonzero(a.max(1) > 0.5), np.flatnonzero(a.max(0) > 0.5)
        boxes.append([x + cols[0], y + rows[0], x + cols[-1] + 1, y + rows[-1] + 1])
    return ink, boxes


def row(inks, x=40, y=50, gap=30):
    items = []
    for a in inks:
        items.append((a, x, y + (72 - a.shape[0]) // 2))
        x += a.shape[1] + gap
    return items


def photo(ink, paper, ink_level=0.15, noise=0.0, seed=0, light_on_dark=False):
    """Dark ink on ``paper`` (an array of paper brightness), or light chalk on a dark board."""
    rng = np.random.default_rng(seed)
    if light_on_dark:
        board = paper * 0.22
        gray = board * (1 - ink) + np.minimum(1.0, paper * 0.9) * ink
    else:
        gray = paper * (1 - ink) + ink_level * paper * ink
    gray = gray + rng.normal(0, noise, gray.shape) if noise else gray
    return np.clip(gray, 0, 1).astype(np.float32)


def ramp(shape, lo=0.35, hi=0.95):
    h, w = shape
    xx, yy = np.meshgrid(np.linspace(0, 1, w), np.linspace(0, 1, h))
    vignette = 1 - 0.35 * ((xx - 0.5) ** 2 + (yy - 0.5) ** 2) / 0.5
    return ((hi + (lo - hi) * xx) * vignette).astype(np.float32)


def shadow(shape, depth=0.55, soft=12.0):
    """Full light on the left, a soft-edged shadow over the right part (the edge crosses the digits)."""
    h, w = shape
    xx, yy = np.meshgrid(np.arange(w), np.arange(h))
    edge = 0.5 * w + 0.3 * (yy - h / 2)
    return (0.92 * (1 - depth / (1 + np.exp(-(xx - edge) / soft)))).astype(np.float32)


def assert_boxes(found, expected, tol=3):
    assert len(found) == len(expected), (found, expected)
    for f, e in zip(found, expected):
        assert np.all(np.abs(np.asarray(f) - np.asarray(e)) <= tol), (f, e)


@pytest.fixture(scope="module")
def ds():
    from mnist_studio.data import load_mnist

    return load_mnist()


@pytest.fixture(scope="module")
def four(ds):
    shape = (170, 420)
    return shape, place(shape, row([mnist_digit(ds, i) for i in (0, 1, 2, 3)], x=40, y=50, gap=36))


def test_gradient_and_vignette(four):
    shape, (ink, boxes) = four
    reading = read_picture(photo(ink, ramp(shape)))
    assert_boxes(reading.boxes, boxes)
    assert reading.lines == [0, 0, 0, 0]


def test_soft_shadow_across_the_digits(four):
    shape, (ink, boxes) = four
    gray = photo(ink, shadow(shape))
    assert gray[:, -20:].mean() < 0.55 * gray[:, :20].mean()  # the shadow is real
    assert_boxes(read_picture(gray).boxes, boxes)


def test_noise_makes_no_specks(four):
    shape, (ink, boxes) = four
    gray = photo(ink, ramp(shape, 0.6, 0.9), noise=0.06)
    assert_boxes(read_picture(gray).boxes, boxes)


def test_both_polarities_give_the_same_boxes(four):
    shape, (ink, boxes) = four
    dark_on_light = read_picture(photo(ink, ramp(shape, 0.6, 1.0)))
    chalk = photo(ink, ramp(shape, 0.6, 1.0), light_on_dark=True)
    assert chalk[5, 5] < 0.3  # a dark board
    light_on_dark = read_picture(chalk)
    assert not dark_on_light.cleaned.light_on_dark and light_on_dark.cleaned.light_on_dark
    assert_boxes(dark_on_light.boxes, boxes)
    assert_boxes(light_on_dark.boxes, boxes)


def test_broken_digits_stay_whole():
    shape = (160, 360)
    ink, boxes = place(shape, row([glyph("broken0"), glyph("5bar"), glyph("7bar"), glyph("4")], y=40, gap=28))
    clean = clean_page(photo(ink, np.full(shape, 0.9, np.float32)))
    from mnist_studio.data.segment import components

    assert len(components(clean.binary)[2]) >= 6  # really in pieces (4 digits)
    assert_boxes(read_picture(photo(ink, np.full(shape, 0.9, np.float32))).boxes, boxes)


@pytest.fixture(scope="module")
def reader(ds):
    """A small MLP trained for one epoch on 8,000 images: enough to tell a 0 from half a 0."""
    from mnist_studio.data.splits import make_splits
    from mnist_studio.nn.model import Model
    from mnist_studio.nn.spec import load_preset
    from mnist_studio.training.config import TrainConfig
    from mnist_studio.training.trainer import Trainer

    model = Model(load_preset("mlp-512-256"), seed=0)
    config = TrainConfig(optimizer="adam", lr=1e-3, epochs=1, batch_size=64, val_size=0, limit=8000)
    Trainer(model, make_splits(ds, val_size=0, limit=8000), config).fit()
    return model.predict_proba


def test_touching_digits_are_split(reader):
    shape = (160, 320)
    a, b, c = glyph("0"), glyph("0"), glyph("0")
    ink, boxes = place(shape, [(a, 40, 40), (b, 40 + a.shape[1] - 3, 40), (c, 40 + a.shape[1] + b.shape[1] - 6, 40)])
    clean = clean_page(photo(ink, ramp(shape, 0.7, 0.95)))
    from mnist_studio.data.segment import components

    assert len(components(clean.binary)[2]) == 1  # one blob
    reading = read_picture(photo(ink, ramp(shape, 0.7, 0.95)), reader)
    counts = [len(a) for a in reading.layout.groups[0].alternatives]
    assert counts[0] == 2 and 3 in counts  # geometry alone would cut it in two
    found = reading.boxes
    assert len(found) == 3  # the network reads three 0s far more surely than two halves or one blob
    cuts = [f[0] for f in found[1:]]  # each cut where one digit ends and the next begins (they overlap 3 px)
    assert abs(cuts[0] - (40 + a.shape[1] - 1.5)) <= 6 and abs(cuts[1] - (40 + a.shape[1] + b.shape[1] - 4.5)) <= 6


def test_two_lines_read_top_to_bottom(ds):
    shape = (300, 300)
    top = row([mnist_digit(ds, i) for i in (0, 1)], x=50, y=30)
    bottom = row([mnist_digit(ds, i) for i in (2, 3, 4)], x=30, y=180)
    ink, boxes = place(shape, top + bottom)
    reading = read_picture(photo(ink, ramp(shape, 0.7, 0.95), noise=0.02))
    assert_boxes(reading.boxes, boxes)
    assert reading.lines == [0, 0, 1, 1, 1]


def test_rotated_row_is_read_left_to_right(four):
    shape, (ink, boxes) = four
    turned = np.asarray(Image.fromarray(ink, "F").rotate(6, Image.Resampling.BILINEAR), np.float32)
    reading = read_picture(photo(turned, ramp(shape, 0.6, 0.95)))
    assert len(reading.boxes) == 4
    centres = [(b[0] + b[2]) / 2 for b in reading.boxes]
    assert centres == sorted(centres)
    assert np.rad2deg(reading.layout.angle) == pytest.approx(-6, abs=1.5)  # counter-clockwise: rising line


def test_the_desk_around_the_sheet_is_no_digit(four):
    shape, (ink, boxes) = four
    paper = np.full(shape, 0.9, np.float32)
    paper[:, :14] = 0.25  # the desk at the left edge and a strip at the bottom
    paper[-10:, :] = 0.3
    assert_boxes(read_picture(photo(ink, paper)).boxes, boxes)


def test_blank_pictures_give_no_digits():
    shape = (200, 300)
    for gray in (np.full(shape, 0.8, np.float32), photo(np.zeros(shape, np.float32), ramp(shape), noise=0.03),
                 photo(np.zeros(shape, np.float32), shadow(shape), noise=0.02)):
        reading = read_picture(gray)
        assert reading.stages == [] and reading.boxes == []


def test_strips_a_few_pixels_thin_give_no_digits():
    """A 1-3 px tall (or wide) picture: no digits, not an error (numerical slopes need 3 px a side)."""
    rng = np.random.default_rng(2)
    for h in (1, 2, 3):
        for gray in (np.where(rng.random((h, 450)) > 0.5, 0.1, 0.9).astype(np.float32),
                     np.r_[np.ones(200), np.zeros(50), np.ones(200)][None].repeat(h, 0).astype(np.float32)):
            for picture in (gray, np.ascontiguousarray(gray.T)):
                reading = read_picture(picture)
                assert reading.boxes == [] and reading.stages == []


def test_thin_pen_and_fat_marker_give_the_same_input():
    thin, fat = glyph("4", h=200, pen=3.0), glyph("4", h=200, pen=26.0)
    assert stroke_width(thin > 0.5) < 5 and stroke_width(fat > 0.5) > 20
    a, b = normalise_stroke(thin > 0.5), normalise_stroke(fat > 0.5)
    for m in (a, b):  # the pad's pen for a digit of this size (200 px tall, pen included after normalising)
        assert stroke_width(m > 0.5) == pytest.approx(TARGET_WIDTH * 200 / NORM_SIDE, rel=0.2)
    shape = (300, 300)
    x_thin = read_picture(photo(place(shape, [(thin, 60, 50)])[0], np.full(shape, 0.9, np.float32))).inputs[0]
    x_fat = read_picture(photo(place(shape, [(fat, 60, 50)])[0], np.full(shape, 0.9, np.float32))).inputs[0]
    assert np.corrcoef(x_thin.ravel(), x_fat.ravel())[0, 1] > 0.85
    for x in (x_thin, x_fat):  # MNIST-like: 20 px box, ink sums like an MNIST digit's
        rows = np.flatnonzero(x.max(1) > 0.1)
        assert 19 <= rows[-1] - rows[0] + 1 <= 21
        assert 60 < x.sum() < 160


# -- printed rules, pencil, specks ---------------------------------------------------------------------------------

def ruled(shape, spacing, first, thickness=2, vertical_spacing=None, strength=0.45):
    """Paper (0.92) with printed rules of ``strength`` contrast every ``spacing`` px, one at row ``first``; a
    squared grid when ``vertical_spacing`` is given. Returns the paper and the rules' own ink map."""
    h, w = shape
    lines = np.zeros(shape, np.float32)
    for y in range(first % spacing, h, spacing):
        lines[y:y + thickness] = strength
    if vertical_spacing:
        for x in range(7, w, vertical_spacing):
            lines[:, x:x + thickness] = strength
    return np.full(shape, 0.92, np.float32), lines


def test_ruled_lines_through_and_under_the_digits_are_taken_out(four):
    shape, (ink, boxes) = four
    bottom = max(b[3] for b in boxes)
    paper, lines = ruled(shape, spacing=60, first=bottom - 1)  # a rule under the baseline, one through the middle
    gray = photo(np.maximum(ink, lines), paper, noise=0.01)
    clean = clean_page(gray)
    from mnist_studio.data.segment import components

    assert clean.rules is not None and clean.rules.sum() > 2 * shape[1]  # the rules were ink, and were removed
    assert len(components(clean.binary)[2]) >= 4
    reading = read_picture(gray)
    assert_boxes(reading.boxes, boxes)
    assert reading.lines == [0, 0, 0, 0]


def test_a_rule_crossing_a_digit_does_not_cut_it(four):
    shape, (ink, boxes) = four
    middle = (boxes[0][1] + boxes[0][3]) // 2
    paper, lines = ruled(shape, spacing=500, first=middle, thickness=3, strength=0.5)
    reading = read_picture(photo(np.maximum(ink, lines), paper))
    assert_boxes(reading.boxes, boxes)  # each digit whole: the crossing strokes were kept across the rule


def test_squared_paper_grid_is_no_digit(ds):
    shape = (200, 420)
    items = row([mnist_digit(ds, i, h=80) for i in (2, 3, 4)], x=60, y=50, gap=40)
    ink, boxes = place(shape, items)
    paper, lines = ruled(shape, spacing=38, first=11, thickness=2, vertical_spacing=38, strength=0.4)
    reading = read_picture(photo(np.maximum(ink, lines), paper, noise=0.01))
    assert_boxes(reading.boxes, boxes, tol=4)


def test_pen_stroke_along_a_faint_rule_is_kept():
    """A 7 whose top bar lies on a faint printed rule: the bar is ink, not rule."""
    shape = (160, 360)
    seven = glyph("7", h=70, pen=5.0)
    ink, boxes = place(shape, row([glyph("1", h=70, pen=5.0), seven, glyph("4", h=70, pen=5.0)], y=45, gap=40))
    top = boxes[1][1]
    paper, lines = ruled(shape, spacing=500, first=top + 1, thickness=2, strength=0.3)
    reading = read_picture(photo(np.maximum(ink, lines), paper))
    assert_boxes(reading.boxes, boxes)
    bar = reading.cleaned.binary[top + 1:top + 3, boxes[1][0] + 5:boxes[1][2] - 8]
    assert bar.mean() > 0.9


def test_faint_pencil_with_specks(four):
    """Grey pencil (ink 35 % darker than the paper) under a gradient, with dust specks and sensor noise."""
    shape, (ink, boxes) = four
    rng = np.random.default_rng(3)
    paper = ramp(shape, 0.7, 0.95)
    gray = paper * (1 - 0.35 * ink * np.clip(rng.normal(0.85, 0.25, shape), 0.3, 1))
    for y, x in zip(rng.integers(5, shape[0] - 5, 12), rng.integers(5, shape[1] - 5, 12)):
        gray[y:y + 2, x:x + 2] *= 0.4  # dust
    gray = np.clip(gray + rng.normal(0, 0.012, shape), 0, 1).astype(np.float32)
    reading = read_picture(gray)
    assert_boxes(reading.boxes, boxes)


def test_touching_digits_on_ruled_paper_are_split(reader):
    shape = (160, 320)
    a, b, c = glyph("0"), glyph("0"), glyph("0")
    ink, boxes = place(shape, [(a, 40, 40), (b, 40 + a.shape[1] - 3, 40), (c, 40 + a.shape[1] + b.shape[1] - 6, 40)])
    paper, lines = ruled(shape, spacing=500, first=boxes[0][3] - 1, thickness=2, strength=0.45)
    reading = read_picture(photo(np.maximum(ink, lines), paper), reader)
    assert reading.cleaned.rules.sum() > 150  # the rule joined them all, and was taken out
    assert len(reading.boxes) == 3
    cuts = [f[0] for f in reading.boxes[1:]]
    assert abs(cuts[0] - (40 + a.shape[1] - 1.5)) <= 6 and abs(cuts[1] - (40 + a.shape[1] + b.shape[1] - 4.5)) <= 6
    for f, e in zip(reading.boxes, boxes):  # the rule under them is not part of any box
        assert abs(f[1] - e[1]) <= 3 and abs(f[3] - e[3]) <= 3


def test_a_fainter_digit_on_the_line_is_found(four):
    """One digit written much lighter than the others (a glare over it, a lighter hand): still read."""
    shape, (ink, boxes) = four
    faint = ink.copy()
    x0, x1 = boxes[2][0] - 2, boxes[2][2] + 2
    faint[:, x0:x1] *= 0.3
    gray = photo(faint, np.full(shape, 0.92, np.float32), ink_level=0.1, noise=0.01)
    clean = clean_page(gray)
    assert not clean.binary[:, x0:x1].any() or clean.binary[:, x0:x1].sum() < 0.5 * (ink[:, x0:x1] > 0.5).sum()
    assert_boxes(read_picture(gray).boxes, boxes)


def test_a_row_of_bars_with_bare_paper_between_is_no_printed_line():
    """Short straight bars on one line with bare paper between them (the tops of a row of large 7s and 5s line
    up like that) are no printed rule, however well the short gaps are bridged; a printed line runs on between
    the digits. The same line drawn whole is a rule, and so is a broken one that runs off the picture (a rule
    fading out towards the sheet's edge)."""
    from mnist_studio.data.rules import remove_rules

    shape, y = (300, 500), 150
    bars = np.zeros(shape, bool)
    for x in range(40, 460, 38):  # 20 px of ink, 18 px of paper: half the line is bare
        bars[y:y + 3, x:x + 20] = True
    whole = np.zeros(shape, bool)
    whole[y:y + 3, 40:460] = True
    off_picture = np.zeros(shape, bool)
    for x in range(0, 460, 38):
        off_picture[y:y + 3, x:x + 20] = True
    ink = np.ones(shape, np.float32)
    assert not remove_rules(bars, ink)[1].any()
    assert remove_rules(whole, ink)[1].sum() == whole.sum()
    assert remove_rules(off_picture, ink)[1].sum() == off_picture.sum()


def test_grain_is_no_faint_ink_but_a_faint_stroke_among_it_is():
    """On a grainy photo, specks as strong as a faint pencil's stroke are everywhere: pixel by pixel they pass the
    faint-ink level (and, a few pixels apart, join into digit-sized blobs). Over a stroke-wide square they
    average out to far less than a stroke does, so the faint-digit search sees the stroke and not the grain."""
    from scipy import ndimage

    from mnist_studio.data.photo import Cleaned
    from mnist_studio.data.faint import FAINT
    from mnist_studio.data.stroke_scale import above_grain

    rng = np.random.default_rng(0)
    shape = (200, 400)
    ink = np.where(rng.random(shape) < 0.15, 0.5, 0.0).astype(np.float32)
    binary = np.zeros(shape, bool)
    binary[40:160, 60:65] = binary[40:160, 320:325] = True  # two dark strokes found, 5 px wide
    ink[binary] = 1.0
    stroke = np.zeros(shape, bool)
    stroke[40:160, 180:185] = True  # a faint one, as strong as the grain's specks
    ink[stroke] = 0.5
    cleaned = Cleaned(1.0 - 0.3 * ink, 1.0, np.ones(shape, np.float32), ink, binary, 0.3, False, 0.01)
    kept = above_grain(cleaned.ink, cleaned.binary, 5.0) > FAINT
    assert kept[stroke].mean() > 0.95
    grain = (ink == 0.5) & ~ndimage.binary_dilation(stroke | binary, iterations=6)
    assert (ink > FAINT)[grain].all() and kept[grain].mean() < 0.02
    clean = Cleaned(1.0 - 0.3 * np.where(stroke | binary, ink, 0), 1.0, np.ones(shape, np.float32),
                    np.where(stroke | binary, ink, 0).astype(np.float32), binary, 0.3, False, 0.01)
    assert (above_grain(clean.ink, clean.binary, 5.0) > FAINT)[stroke].all()  # on clean paper: kept whole


def test_a_faint_digit_is_sized_against_the_digits_found():
    """The line's height estimate can be a fragment's (a dark bar of a faint 7 beside a single 8 gave 134 px for
    231 px digits): a faint digit as tall as the digit found, and a little higher on the line, is still one."""
    from mnist_studio.data.photo import Cleaned
    from mnist_studio.data.faint import faint_digits
    from mnist_studio.data.segment import Digit, Group, Layout

    shape = (300, 420)
    binary = np.zeros(shape, bool)
    binary[60:260, 260:270] = binary[60:70, 260:360] = binary[250:260, 260:360] = True  # a dark digit, 200 px
    binary[60:260, 350:360] = True
    ink = binary.astype(np.float32)
    faint = np.zeros(shape, bool)
    faint[30:40, 60:170] = faint[30:215, 160:170] = True  # a faint 7, 185 px tall, its top 30 px higher
    ink[faint] = 0.4
    cleaned = Cleaned(1.0 - 0.5 * ink, 1.0, np.ones(shape, np.float32), ink, binary, 0.3, False, 0.01)
    digit = Digit((60, 260, 260, 360), binary[60:260, 260:360])
    layout = Layout([Group([[digit]], [1.0])], height=120.0)  # the estimate a fragment pulled down
    extra = faint_digits(cleaned, layout)
    assert extra is not None and extra[faint].all() and not extra[:, 250:].any()


def test_on_ruled_paper_only_strokes_that_cross_a_rule_keep_it():
    """A rule's pixels stay where a stroke crosses it, looked for within the rule's own band: on a page of many
    rules, strokes that stop a line's height short of one above and below it (a digit sitting between two rules)
    do not cross it, and that stretch of rule goes; a stroke through it keeps it."""
    from mnist_studio.data.rules import remove_rules

    shape = (400, 500)
    binary = np.zeros(shape, bool)
    for y in range(20, 400, 30):  # 13 rules, 3 px thick
        binary[y:y + 3] = True
    binary[160:184, 120:124] = binary[219:240, 120:124] = True  # strokes ending 16 px above and below the rule
    binary[180:230, 300:305] = True  # a stroke crossing it
    ink = np.where(binary, np.float32(0.5), np.float32(0.0))
    kept, removed = remove_rules(binary, ink)
    assert removed[200:203, 120:124].all()  # not crossed: taken out
    assert kept[200:203, 300:305].all()  # crossed: kept


def test_grain_is_no_faint_printed_line_but_a_faint_line_in_grain_is():
    """Faint ink on a grainy photo (where printed lines are looked for a second time) lines up into long runs by
    chance, with as much ink beside such a run as on it: no rule. A printed line through sparser grain still is
    one. Ink that is not grain (``grainy`` off) is judged as before."""
    from mnist_studio.data.rules import remove_rules

    rng = np.random.default_rng(0)
    shape = (300, 500)
    ink = np.ones(shape, np.float32)
    grain = rng.random(shape) < 0.35
    assert not remove_rules(grain, ink, grainy=True)[1].any()
    assert remove_rules(grain, ink)[1].any()
    sparse = rng.random(shape) < 0.08
    sparse[150:153] = True
    assert remove_rules(sparse, ink, grainy=True)[1][150:153].sum() > 0.8 * 3 * shape[1]
