"""Marks cut by the picture's frame at the end of a reading line: the sheet's or the board's edge, not a digit.

A phone photo of a number holds more than the number: the board's frame, the desk beside the sheet, the dark strip
past a page's edge, a shadow's border. Where such a mark is long, thin or solid, segmentation leaves it out on its
own shape (``blob_filters.edge_bands``); but a short piece of it at the end of the line, about a digit tall, reads as
one more "1" or "7". What gives it away is where it is: the person framed the number, so its digits stand clear of
the picture's border, while this mark runs into it. So a group at the start (end) of a line that runs along the
picture's left (right) side, no wider than a digit, is left out when another group of the same line stands clear of
every border. A tight crop (a scanned row of digits touching the top and bottom) has no digit clear of the border
and is read as before; a digit that only reaches the border at a point (a 7's corner) stays; a digit the photo
really cut is left out, which is better than reading half of it as something else.
"""

from __future__ import annotations

from mnist_studio.data.segment import Group, Layout

MARGIN = 1  # px of the working copy: a box within this of the border touches it
NARROW = 0.9  # × the line's height: a wider mark at the border holds more than a strip (a digit joined to a rule)
ALONG = 0.3  # share of its height over which the mark's ink runs along the border (within BAND px of it) ...
BAND = 3  # ... a digit that only reaches the border at a point stays


def group_box(group: Group) -> tuple[int, int, int, int]:
    """(y0, y1, x0, x1) of every digit the group may be read as."""
    boxes = [d.box for alt in group.alternatives for d in alt]
    return (min(b[0] for b in boxes), max(b[1] for b in boxes), min(b[2] for b in boxes), max(b[3] for b in boxes))


def touches_border(box: tuple[int, int, int, int], shape: tuple[int, int]) -> bool:
    """Whether the box reaches any side of the picture."""
    y0, y1, x0, x1 = box
    return y0 < MARGIN or x0 < MARGIN or y1 > shape[0] - MARGIN or x1 > shape[1] - MARGIN


def strip_at(group: Group, height: float, shape: tuple[int, int], side: int) -> bool:
    """Whether the group, as read, ends in a strip along the picture's left (``side`` 0) or right (1) border."""
    y0, y1, x0, x1 = group_box(group)
    if x1 - x0 >= NARROW * height:
        return False
    digits = group.alternatives[group.chosen]
    d = digits[0] if side == 0 else digits[-1]
    if (d.box[2] >= MARGIN) if side == 0 else (d.box[3] <= shape[1] - MARGIN):
        return False
    band = d.mask[:, :BAND] if side == 0 else d.mask[:, -BAND:]
    return float(band.any(axis=1).mean()) >= ALONG


def drop_cut_ends(layout: Layout, shape: tuple[int, int]) -> Layout:
    """``layout`` without the groups at a line's ends that run into the picture's border while another group of
    their line stands clear of it (see the module's docstring). The groups keep their reading order."""
    if len(layout.groups) < 2:
        return layout
    lines: dict[int, list[int]] = {}
    for i, g in enumerate(layout.groups):
        lines.setdefault(g.alternatives[g.chosen][0].line, []).append(i)
    drop: set[int] = set()
    for members in lines.values():
        cut = [touches_border(group_box(layout.groups[i]), shape) for i in members]
        if all(cut):
            continue
        # only into the side the line runs into (a digit joined to the top or bottom border by a faint line or a rule
        # is still a digit of the line), no wider than a digit, and running along that side, not touching it at a
        # point (a digit written up to the picture's edge)
        first, last = 0, len(members) - 1
        while first < last and cut[first] and strip_at(layout.groups[members[first]], layout.height, shape, 0):
            drop.add(members[first])
            first += 1
        while last > first and cut[last] and strip_at(layout.groups[members[last]], layout.height, shape, 1):
            drop.add(members[last])
            last -= 1
    if drop:
        layout.groups = [g for i, g in enumerate(layout.groups) if i not in drop]
    return layout
