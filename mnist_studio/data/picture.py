"""Reading a picture of a number: clean it (:mod:`.photo`), cut it into digits (:mod:`.segment`), and put each digit
through the pad's MNIST recipe (:func:`.preprocess.preprocess_ink`) with MNIST's stroke thickness.

Stroke thickness matters: a fine ballpoint digit photographed at 300 px tall becomes hair-thin lines at 20 px, a fat
marker a blob, and the network has only seen MNIST's 2-3 px strokes. The pad gets this right by re-drawing its
strokes at the final scale; a picture has no strokes, so each digit's mask is brought to a fixed size
(:data:`NORM_SIDE`), its mean stroke width measured (2 × area / boundary) and the mask grown or thinned by a
distance transform until the width matches the pad's pen (:data:`.preprocess.PEN_WIDTH` at the 20 px scale).
The digit is also turned back by the line's slant, so a photo taken a few degrees askew gives upright digits.

:func:`write_debug_stages` saves what happened (flattened, binary, boxes drawn, each 28×28) for ``predict
--debug-dir``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from mnist_studio.data.faint import faint_digits
from mnist_studio.data.frame_cut import drop_cut_ends
from mnist_studio.data.photo import Cleaned, clean_again, clean_page, resize_float
from mnist_studio.data.pieces import count_probabilities
from mnist_studio.data.preprocess import BOX, PEN_WIDTH, Stages, preprocess_ink
from mnist_studio.data.segment import Digit, Layout, cut_digits, segment, stroke_width
from mnist_studio.data.split import CUT, EXTRA, PIECE_JUDGE, choose, strokes_crossed

NORM_SIDE = 64  # the digit's long side while its stroke width is normalised
TARGET_WIDTH = PEN_WIDTH * NORM_SIDE / BOX  # the pad's pen at that size
SHIFT = 0.1  # a chosen cut of touching digits is tried this × H (and twice that) either way of the geometry's
REFINE_MARGIN = EXTRA  # ... and moved if the pieces beside it are read this much more surely (nats), as a cut must
PRINT_LEVEL = 0.6  # the ink's level without the print under this × with it: the page is read again (0: off)
LOW_CONFIDENCE = 0.6  # an answer below this probability is marked as unsure (the Draw tab's "not sure")


@dataclass
class Reading:
    """A picture read into digits. ``boxes``: [x0, y0, x1, y1] in the picture's own pixels (end exclusive), one
    per digit, in reading order; ``lines``: each digit's line (0 = top); ``stages``: each digit's recipe."""

    stages: list[Stages] = field(default_factory=list)
    boxes: list[list[int]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    cleaned: Cleaned | None = None
    layout: Layout | None = None
    doubts: list[str] = field(default_factory=list)  # why the picture may not be a written number at all

    @property
    def inputs(self) -> np.ndarray:
        """The digits as the network's batch (n × 28 × 28 float32)."""
        return np.stack([s.centred for s in self.stages]) if self.stages else np.zeros((0, 28, 28), np.float32)


def normalise_stroke(mask: np.ndarray, angle: float = 0.0) -> np.ndarray:
    """A digit mask turned upright by ``-angle`` (radians) with the pad's stroke width for its size; float 0/1.

    The width is adjusted where the digit has the most pixels: a small digit is first enlarged to
    :data:`NORM_SIDE`, a large one is worked on at its own size (shrinking first would break its thin strokes).
    """
    h, w = mask.shape
    k = NORM_SIDE / max(h, w)
    m = mask.astype(np.float32)
    if k > 1:
        m = resize_float(m, max(1, round(h * k)), max(1, round(w * k)), Image.Resampling.BILINEAR)
        k_now = max(m.shape) / max(h, w)
    else:
        k_now = 1.0
    m = np.pad(m, max(4, round(0.2 * max(m.shape))))
    if abs(angle) > np.deg2rad(0.5):
        m = np.asarray(Image.fromarray(m, "F").rotate(np.rad2deg(angle), Image.Resampling.BILINEAR), np.float32)
    m = m >= 0.5
    if not m.any():
        return m.astype(np.float32)
    target = TARGET_WIDTH * max(h, w) * k_now / NORM_SIDE  # the pad's pen at this digit's current size
    width = stroke_width(m)
    if width < target:
        m = ndimage.distance_transform_edt(~m) <= (target - width) / 2.0
    elif width > target * 1.15:
        thinned = ndimage.distance_transform_edt(m) > (width - target) / 2.0
        if thinned.sum() > 0.25 * m.sum():  # never thin a digit away
            m = thinned
    return m.astype(np.float32)


def digit_stages(cleaned: Cleaned, digit: Digit, angle: float) -> Stages | None:
    """The recipe for one digit: raw = its ink cut from the flattened picture, cropped = the stroke-normalised
    mask, then the pad's 20 px box and centre of mass."""
    y0, y1, x0, x1 = digit.box
    raw = cleaned.ink[y0:y1, x0:x1] * ndimage.binary_dilation(digit.mask, iterations=1)
    st = preprocess_ink(normalise_stroke(digit.mask, angle))
    if st is None:
        return None
    return Stages(raw.astype(np.float32), st.cropped, st.scaled, st.centred, st.shift)


def digit_ink_stages(ink: np.ndarray, threshold: float = 0.5) -> Stages | None:
    """One digit's ink (a picture's digit touched up in the pad) through the recipe :func:`digit_stages` gives the
    digits of a picture: stroke width normalised, then the pad's 20 px box and centre of mass. None if no ink."""
    ink = np.clip(np.asarray(ink, dtype=np.float32), 0.0, 1.0)
    mask = ink >= threshold
    if not mask.any():
        return None
    st = preprocess_ink(normalise_stroke(mask))
    if st is None:
        return None
    return Stages(ink, st.cropped, st.scaled, st.centred, st.shift)


def read_picture(gray: np.ndarray, classify: Callable[[np.ndarray], np.ndarray] | None = None) -> Reading:
    """Every digit of a grey picture (0 = black, 1 = white; either polarity), in reading order.

    ``classify`` (a model's ``predict_proba``: n × 28 × 28 → n × 10) lets the network say how to cut blobs that may
    be touching digits: the cut whose pieces it reads most surely wins (see :func:`.split.choose`). Without it
    the geometry decides alone."""
    gray = np.asarray(gray, dtype=np.float32)
    cleaned = clean_page(gray)
    if cleaned.blank:
        return Reading(cleaned=cleaned, layout=Layout())
    layout = drop_cut_ends(segment(cleaned), cleaned.binary.shape)
    if PRINT_LEVEL and layout.print_like is not None:
        # printed words much darker than the writing set the ink's level, and a pencil number beside a black
        # form label fell below the threshold: measured again without the print (and ink no taller), the writing
        # is found
        again = clean_again(cleaned, ndimage.binary_dilation(layout.print_like, iterations=2))
        if not again.blank and again.level < PRINT_LEVEL * cleaned.level:
            # (the print found first stays print: some of it is less regular at the lower threshold)
            again.binary &= ~ndimage.binary_dilation(layout.print_mask, iterations=2)
            second = drop_cut_ends(segment(again), again.binary.shape)
            if second.digits:  # (nothing but the print: it is read as before, and doubted)
                second.printed = max(second.printed, layout.printed)
                second.print_height = second.print_height or layout.print_height
                cleaned, layout = again, second
    extra = faint_digits(cleaned, layout)
    if extra is not None:  # digits fainter than the rest (a glare, a lighter hand): read them too
        cleaned.binary = cleaned.binary | extra
        layout = drop_cut_ends(segment(cleaned), cleaned.binary.shape)
    made: dict[int, Stages | None] = {}

    def stages_of(d: Digit) -> Stages | None:
        if id(d) not in made:
            made[id(d)] = digit_stages(cleaned, d, layout.angle)
        return made[id(d)]

    choose_cuts(layout, stages_of, classify)
    if classify is not None:
        refine_cuts(layout, stages_of, classify)
    out = Reading(cleaned=cleaned, layout=layout)
    H, W = gray.shape
    inv = 1.0 / cleaned.scale
    for d in layout.digits:
        st = stages_of(d)
        if st is None:
            continue
        y0, y1, x0, x1 = d.box
        out.stages.append(st)
        out.boxes.append([int(np.floor(x0 * inv)), int(np.floor(y0 * inv)),
                          min(W, int(np.ceil(x1 * inv))), min(H, int(np.ceil(y1 * inv)))])
        out.lines.append(d.line)
    out.doubts = layout_doubts(layout)
    return out


def preprocess_picture(picture: np.ndarray) -> list[Stages]:
    """Every digit in a picture (grey levels or ink, either polarity), each through the MNIST recipe, in reading
    order: :func:`read_picture` without the boxes."""
    return read_picture(picture).stages


def choose_cuts(layout: Layout, stages_of, classify=None) -> None:
    """For every group with several ways of cutting it, choose one: the judge of touching digits says how many
    digits the whole blob holds (:mod:`.pieces`, when it is shipped), and the network's confidence in each
    alternative's pieces says how well they read (one batch); without either, the geometry decides."""
    undecided = [g for g in layout.groups if len(g.alternatives) > 1]
    if not undecided:
        return
    wholes = [next((a[0].mask for a in g.alternatives if len(a) == 1), None) for g in undecided]
    judged = count_probabilities([m for m in wholes if m is not None])
    counts: list[np.ndarray | None] = [None] * len(undecided)
    if judged is not None:
        for gi, row in zip([i for i, m in enumerate(wholes) if m is not None], judged):
            counts[gi] = row
    top, owners = None, []
    if classify is not None:
        inputs = []
        for gi, g in enumerate(undecided):
            for ai, alt in enumerate(g.alternatives):
                for d in alt:
                    st = stages_of(d)
                    if st is not None:
                        inputs.append(st.centred)
                        owners.append((gi, ai))
        if inputs:
            top = np.asarray(classify(np.stack(inputs))).max(axis=1)
    singles = _piece_singles(undecided) if judged is not None else None
    for gi, g in enumerate(undecided):
        conf = None
        if top is not None:
            conf = [np.array([t for t, o in zip(top, owners) if o == (gi, ai)]) for ai in range(len(g.alternatives))]
        g.chosen = choose(g.costs, conf, [len(a) for a in g.alternatives], counts[gi],
                          None if singles is None else singles[gi])


def _piece_singles(groups) -> list[list[float]] | None:
    """For each group's alternatives, the judge's log-probability that each of its pieces is one digit, summed
    (0 for an uncut blob, which the judge has already counted): the network reads a squeezed pair as one digit
    as surely as a single one, and the whole blob's "three or more" cannot tell three pieces from four."""
    if not PIECE_JUDGE:
        return None
    masks = [d.mask for g in groups for alt in g.alternatives if len(alt) > 1 for d in alt]
    judged = count_probabilities(masks) if masks else None
    if judged is None:
        return None
    logs = iter(np.log(np.maximum(judged[:, 0], 1e-4)))
    return [[float(sum(next(logs) for _ in alt)) if len(alt) > 1 else 0.0 for alt in g.alternatives]
            for g in groups]


def refine_cuts(layout: Layout, stages_of, classify) -> None:
    """Move each chosen cut of touching digits by :data:`SHIFT` × H or twice that, either way, where the network
    then reads the two pieces beside it more surely (by :data:`REFINE_MARGIN` nats together; one batch for every
    trial of the picture). The geometry places a cut where the fewest strokes cross, which for digits leaning into
    each other is often a little inside one of them: a 1's foot left on the next digit's piece, a 7's bar end
    cut off. Of two neighbouring cuts only the one that gains more moves (the piece between them was judged with
    the other where it was)."""
    H = layout.height
    d = max(1, int(round(SHIFT * H)))
    trials = []  # (group, its chosen alternative, which cut, that cut's new column, the pieces cut there)
    for g in layout.groups:
        ai = g.chosen
        if g.mask is None or ai >= len(g.cuts) or not g.cuts[ai] or len(g.alternatives[ai]) != len(g.cuts[ai]) + 1:
            continue
        cuts, first = g.cuts[ai], g.alternatives[ai][0]
        for ci, col in enumerate(cuts):
            lo = cuts[ci - 1] if ci else 0
            hi = cuts[ci + 1] if ci + 1 < len(cuts) else g.mask.shape[1]
            for c in (col - 2 * d, col - d, col + d, col + 2 * d):
                if c - lo < 0.25 * H or hi - c < 0.25 * H:  # no piece narrower than a 1
                    continue
                pieces = cut_digits(g.mask, g.origin, [*cuts[:ci], c, *cuts[ci + 1:]], first.line, first.pieces,
                                    first.enclosed)
                if len(pieces) == len(cuts) + 1:
                    trials.append((g, ai, ci, c, pieces[ci:ci + 2]))
    if not trials:
        return
    inputs, now, tried = [], {}, []

    def add(digits) -> int:
        for dgt in digits:
            st = stages_of(dgt)
            inputs.append(st.centred if st is not None else np.zeros((28, 28), np.float32))
        return len(inputs) - 2

    for g, ai, ci, _, pair in trials:
        if (id(g), ci) not in now:
            now[(id(g), ci)] = add(g.alternatives[ai][ci:ci + 2])
        tried.append(add(pair))
    conf = np.log(np.clip(np.asarray(classify(np.stack(inputs))).max(axis=1), 1e-6, 1.0))
    gains = {}
    runs_of = {id(g): strokes_crossed(g.mask) for g, *_ in trials}  # once per blob, not once per trial
    for (g, ai, ci, c, _), at in zip(trials, tried):
        b = now[(id(g), ci)]
        # less the geometry's price of the strokes the moved cut crosses beyond those the first one did (in the
        # same units :func:`.split.choose` weighs it against the network in)
        runs = runs_of[id(g)]
        at_new, at_old = np.clip([c, g.cuts[ai][ci]], 0, len(runs) - 1)
        crossed = int(runs[at_new]) - int(runs[at_old])
        gain = float(conf[at] + conf[at + 1] - conf[b] - conf[b + 1]) - 0.5 * CUT * crossed
        if gain > REFINE_MARGIN and gain > gains.get((id(g), ci), (0.0,))[0]:
            gains[(id(g), ci)] = (gain, g, ai, ci, c)
    moved = set()
    for gain, g, ai, ci, c in sorted(gains.values(), key=lambda t: -t[0]):
        if (id(g), ci - 1) in moved or (id(g), ci + 1) in moved:
            continue
        g.cuts[ai][ci] = c
        moved.add((id(g), ci))
    for g in {id(t[1]): t[1] for t in gains.values() if (id(t[1]), t[3]) in moved}.values():
        first = g.alternatives[g.chosen][0]
        g.alternatives[g.chosen] = cut_digits(g.mask, g.origin, g.cuts[g.chosen], first.line, first.pieces,
                                              first.enclosed)


def layout_doubts(layout: Layout) -> list[str]:
    """Reasons to doubt that the picture is a written number (text, a face, a drawing): one writer's digits in
    a line have about the same height and are not much wider than tall, and a number has few lines. The answer
    is still given, but marked as unsure."""
    doubts = []
    digits = layout.digits
    if len(digits) > 24 or (digits and max(d.line for d in digits) >= 4):
        doubts.append(f"{len(digits)} marks in {max(d.line for d in digits) + 1} lines: more like text than a number")
    if layout.print_alone:
        doubts.append("printed text, not handwriting")
    elif layout.printed and digits and np.median([d.box[1] - d.box[0] for d in digits]) < 1.3 * layout.print_height:
        doubts.append("marks no taller than the printed text beside them")
    heights: dict[int, list[int]] = {}
    for d in digits:
        heights.setdefault(d.line, []).append(d.box[1] - d.box[0])
    if any(max(h) > 1.8 * min(h) for h in heights.values()):
        doubts.append("marks of very different sizes side by side")
    crowded = sum(d.pieces > 4 or d.enclosed >= 2 for d in digits)
    if crowded:
        doubts.append(f"{crowded} mark{'s' if crowded > 1 else ''} made of many separate pieces, or with pieces "
                      "inside")
    wide = sum((d.box[3] - d.box[2]) > 1.25 * (d.box[1] - d.box[0]) for d in digits)
    if wide:
        doubts.append(f"{wide} mark{'s' if wide > 1 else ''} wider than a digit")
    return doubts


# -- debug output --------------------------------------------------------------------------------------------------

def _gray_image(a: np.ndarray) -> Image.Image:
    return Image.fromarray((np.clip(a, 0, 1) * 255).astype(np.uint8), "L")


def boxes_picture(gray: np.ndarray, reading: Reading, answers: list[str] | None = None) -> Image.Image:
    """The picture with each digit's box (and answer, if given) drawn in colour."""
    img = _gray_image(gray).convert("RGB")
    draw = ImageDraw.Draw(img)
    width = max(1, round(max(img.size) / 400))
    for i, (x0, y0, x1, y1) in enumerate(reading.boxes):
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), outline=(230, 40, 40), width=width)
        label = answers[i] if answers else str(i + 1)
        draw.text((x0 + 2, max(0, y0 - 12)), label, fill=(230, 40, 40))
    return img


def write_debug_stages(folder: str | Path, stem: str, gray: np.ndarray, reading: Reading,
                       answers: list[str] | None = None) -> list[Path]:
    """Save ``stem``-flattened.png, -binary.png, -boxes.png and -digit-N.png (each 28×28) in ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []

    def save(img: Image.Image, name: str) -> None:
        path = folder / f"{stem}-{name}.png"
        img.save(path)
        written.append(path)

    if reading.cleaned is not None:
        save(_gray_image(1.0 - reading.cleaned.ink), "flattened")
        save(_gray_image(~reading.cleaned.binary), "binary")
    save(boxes_picture(gray, reading, answers), "boxes")
    for i, st in enumerate(reading.stages):
        save(_gray_image(st.centred), f"digit-{i + 1}")
    return written
