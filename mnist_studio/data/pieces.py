"""How many digits is this blob? A small learned judge for touching digits.

Width cannot tell (one writer's 0 or 7 with a long bar is as wide as two narrow digits touching), and neither can
the digit network: it reads a joined "17" as one digit at 99.7 % and a wide 0 cut in two as two confident digits,
because it has only ever seen single digits centred in a square. This judge has seen both: crops of one MNIST
training digit (wide, stretched, sheared, thick and thin) and of two or three pushed together until they touch,
each shown as the segmenter shows a blob: its ink scaled to a fixed height with its aspect kept
(:func:`judge_input`), so a pair is twice as wide as tall and a wide 0 is not. (The engine takes 28 × 28 inputs,
so the judge's canvas is 28 rows by 56 columns sampled every other column: half the horizontal detail, all of
the aspect.) It answers the probability of one,
two and three digits (:func:`count_probabilities`).

It is trained by ``benchmarks/train_pieces.py`` with the studio's own engine on MNIST's training digits only, and
shipped as a model file in ``resources/judge/`` (plain arrays, read without pickle); when that file is missing the
reader goes on without it.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image
from scipy import ndimage

from mnist_studio.data.photo import resize_float
from mnist_studio.data.segment import stroke_width

JUDGE_H, JUDGE_W = 28, 56  # the judge's canvas: the blob's height fills it, two squares wide ...
SQUEEZE = 2  # ... sampled every other column: the engine's 28 × 28 input
WORK_H = 56  # the blob's height while its stroke width is normalised
STROKE = 0.13  # stroke width as a share of the digit's height: MNIST's 2.6 px pen on a 20 px digit
JUDGE_FILE = ("judge", "pieces.npz")
COUNTS = 3  # the judge's answers: one, two, three (or more) digits


def judge_input(mask: np.ndarray) -> np.ndarray:
    """A blob's mask as the judge sees it: cropped to its ink, scaled to :data:`JUDGE_H` rows with its aspect
    kept (squeezed only beyond two squares), strokes redrawn at MNIST's width for that height, centred on a
    :data:`JUDGE_H` × :data:`JUDGE_W` canvas of which every :data:`SQUEEZE` columns are averaged into one: a
    28 × 28 float32 picture, 0-1."""
    mask = np.asarray(mask, bool)
    out = np.zeros((JUDGE_H, JUDGE_W // SQUEEZE), np.float32)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return out
    m = mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = m.shape
    work_w = max(1, min(round(WORK_H * w / h), WORK_H * JUDGE_W // JUDGE_H))
    shrink = Image.Resampling.BOX if h > WORK_H else Image.Resampling.BILINEAR
    big = resize_float(m.astype(np.float32), WORK_H, work_w, shrink) >= 0.5
    if big.any():
        width = stroke_width(big)
        target = STROKE * WORK_H
        pad = int(np.ceil(target))
        big = np.pad(big, pad)
        if width < target:
            big = ndimage.distance_transform_edt(~big) <= (target - width) / 2.0
        elif width > 1.15 * target:
            thinned = ndimage.distance_transform_edt(big) > (width - target) / 2.0
            if thinned.sum() > 0.25 * big.sum():
                big = thinned
        big = big[pad:-pad, pad:-pad]
    small = resize_float(big.astype(np.float32), JUDGE_H, max(1, round(work_w * JUDGE_H / WORK_H / SQUEEZE)),
                         Image.Resampling.BOX)
    x0 = (out.shape[1] - small.shape[1]) // 2
    out[:, x0:x0 + small.shape[1]] = small
    return out


@lru_cache(maxsize=1)
def _judge():
    """The shipped judge (a model file), or None when it is missing or unreadable."""
    from mnist_studio.nn.modelfile import ModelFileError, load_model
    from mnist_studio.resources import resource_path

    try:
        path = resource_path(*JUDGE_FILE)
        return load_model(path).model if path.is_file() else None
    except (FileNotFoundError, ModelFileError):
        return None


def count_probabilities(masks: list[np.ndarray]) -> np.ndarray | None:
    """For each blob mask, the judge's probabilities that it holds one, two, three or more digits (n × 3), or
    None without a judge."""
    judge = _judge()
    if judge is None or not masks:
        return None
    x = np.stack([judge_input(m) for m in masks])[..., None]
    p = np.asarray(judge.predict_proba(x), np.float64)[:, :COUNTS]
    return p / np.maximum(p.sum(axis=1, keepdims=True), 1e-9)
