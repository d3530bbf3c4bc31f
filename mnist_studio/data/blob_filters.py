"""Which blobs of ink are no digits, judged before the number is read: the sheet's edge and the desk beyond it
(blobs cut by the picture's border, long and thin, solid, or lying along the border), and, once the digits'
height is known, blobs far taller than it, long thin strokes, solid blocks and dots. Also that height itself,
measured on the blobs away from the border. Moved out of :mod:`.segment` so that each file stays readable."""

from __future__ import annotations

import numpy as np

INNER = 0.08  # a blob away from the picture's border this share of its short side tall is a digit, not a speck
RIM = 0.06  # the picture's rim: this share of its short side along each border ...
RIM_SHARE = 0.75  # ... a long blob with this share of its pixels in it is the sheet's edge (over 1: off)


def border_share(labels: np.ndarray, areas: np.ndarray) -> np.ndarray:
    """Each blob's share of pixels within :data:`RIM` of the picture's border."""
    h, w = labels.shape
    d = max(4, int(RIM * min(h, w)))
    rim = np.concatenate([labels[:d].ravel(), labels[-d:].ravel(), labels[d:-d, :d].ravel(), labels[d:-d, -d:].ravel()])
    return np.bincount(rim, minlength=len(areas) + 1)[1:] / np.maximum(areas, 1)


def edge_bands(boxes: np.ndarray, areas: np.ndarray, shape: tuple[int, int],
               rim_share: np.ndarray | None = None) -> np.ndarray:
    """Blobs cut by the picture's border that are long and thin or solid: the desk beside the sheet, the board's
    frame, a shadow's edge. Judged on their own shape, before the digit height is known. With ``rim_share`` (see
    :func:`border_share`), also a long blob lying almost all along the border: the sheet's edge with a ragged strip
    of the desk the flattening left, round a corner (an L is neither thin nor hollow in its box)."""
    hh = (boxes[:, 1] - boxes[:, 0]).astype(float)
    ww = (boxes[:, 3] - boxes[:, 2]).astype(float)
    touching = (boxes[:, 0] <= 0) | (boxes[:, 2] <= 0) | (boxes[:, 1] >= shape[0]) | (boxes[:, 3] >= shape[1])
    aspect = np.maximum(hh, ww) / np.maximum(np.minimum(hh, ww), 1.0)
    solid = (areas > 0.7 * hh * ww) & (np.minimum(hh, ww) > 0.05 * min(shape))
    # the outline of the sheet: a thin line along much of the picture (a digit is never half a picture wide and
    # that hollow, even in a tight crop)
    outline = (np.maximum(hh / shape[0], ww / shape[1]) > 0.5) & (areas < 0.06 * hh * ww)
    rimmed = np.zeros(len(boxes), bool) if rim_share is None else (
        (rim_share > RIM_SHARE) & (np.maximum(hh / shape[0], ww / shape[1]) > 0.3))
    return touching & ((aspect > 5.0) | solid | outline | rimmed)


def line_height(boxes: np.ndarray, areas: np.ndarray, shape: tuple[int, int]) -> float:
    """The digits' height: the median height of the largest components. Blobs cut by the picture's border (the
    desk beside the sheet) do not count, unless those away from the border are all tiny next to them and to the
    picture (specks beside a number that runs off the picture)."""
    h, w = shape
    pool = np.argsort(-areas)[:24]
    inner = (boxes[pool, 0] > 0) & (boxes[pool, 2] > 0) & (boxes[pool, 1] < h) & (boxes[pool, 3] < w)
    heights = boxes[pool, 1] - boxes[pool, 0]
    # (blobs away from the border a twelfth of the picture tall are no specks: the border's blobs are then the desk
    # or the sheet's edge, however large they are)
    if inner.any() and (inner.all() or heights[inner].max() >= min(0.3 * heights[~inner].max(), INNER * min(h, w))):
        pool = pool[inner]
    big = pool[areas[pool] >= 0.15 * areas[pool].max()]
    return float(np.median(boxes[big, 1] - boxes[big, 0]))


def not_digits(boxes: np.ndarray, areas: np.ndarray, H: float) -> np.ndarray:
    """Components that are no digit: far taller than H, long and thin (edges, rules), solid blocks, or dots."""
    hh = (boxes[:, 1] - boxes[:, 0]).astype(float)
    ww = (boxes[:, 3] - boxes[:, 2]).astype(float)
    long_side, short_side = np.maximum(hh, ww), np.maximum(np.minimum(hh, ww), 1.0)
    too_tall = hh > 2.2 * H
    thin_long = (long_side / short_side > 6.0) & (long_side > 1.6 * H)
    solid = (areas > 0.72 * hh * ww) & (np.minimum(hh, ww) > 0.45 * H)
    # a dot (dust, a blot) is round and filled; a digit's broken-off piece is a stroke: longer than it is wide
    dot = (areas > 0.6 * hh * ww) & (long_side < 0.3 * H) & (long_side < 2.0 * short_side + 2)
    return too_tall | thin_long | solid | dot
