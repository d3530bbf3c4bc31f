"""How well does a model read digits drawn on the pad? Scripted pen strokes, replayed through the real recipe.

We have no recordings of people's pens, so this script writes digits the way people do: polyline/curve templates
for 0-9 in several writing styles each (open and closed 4s, flagged 1s, European 7s, looped 2s, one- and
two-stroke 8s, ...), then varies them the way hands and mice do — rotated, slanted, squeezed, small, large,
off-centre, shaky, sampled at mouse-like intervals — on canvases of different sizes. Every digit goes through
:func:`mnist_studio.data.preprocess.preprocess_strokes` exactly as the Draw tab does; ``--pad N`` also replays
the first N digits through the real DrawingPad widget with QTest mouse events and checks the tab's answer.

    .venv/bin/python benchmarks/freehand_eval.py --model /tmp/lenet2.npz --model /tmp/lenet2_aug.npz
    .venv/bin/python benchmarks/freehand_eval.py --model /tmp/lenet2.npz --pen 2.0 2.6 3.2   # tune the pen

Prints accuracy per model (overall, per digit, per variant kind, per canvas size) and the worst confusions.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

Pts = list[tuple[float, float]]


# -- drawing primitives (unit box: x right, y down, digit about 0.6 wide and 1 tall) -------------------------------

def arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int | None = None) -> Pts:
    """Points on an ellipse from angle a0 to a1 (degrees; 0 = right, 90 = down because y points down)."""
    n = n or max(8, int(abs(a1 - a0) / 8))
    t = np.deg2rad(np.linspace(a0, a1, n))
    return list(zip(cx + rx * np.cos(t), cy + ry * np.sin(t)))


def line(*pts: tuple[float, float]) -> Pts:
    return [tuple(p) for p in pts]


def smooth(*ctrl: tuple[float, float], per: int = 10) -> Pts:
    """A Catmull-Rom curve through the control points (how a hand moves between them)."""
    p = np.asarray(ctrl, dtype=np.float64)
    p = np.vstack([p[0], p, p[-1]])
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        for t in np.linspace(0, 1, per, endpoint=False):
            t2, t3 = t * t, t * t * t
            out.append(0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t2
                              + (-p0 + 3 * p1 - 3 * p2 + p3) * t3))
    out.append(p[-2])
    return [tuple(map(float, q)) for q in out]


def figure_eight(top_ratio: float = 0.45) -> Pts:
    """One-stroke 8: starts at the top, crosses in the middle; the top loop is ``top_ratio`` of the height."""
    t = np.linspace(0, 2 * np.pi, 90)
    y_unit = (1 - np.cos(t)) / 2  # 0 top → 1 bottom → 0 top
    y = np.where(y_unit < 0.5, y_unit / 0.5 * top_ratio, top_ratio + (y_unit - 0.5) / 0.5 * (1 - top_ratio))
    width = np.where(y < top_ratio, 0.24, 0.3)
    x = 0.5 + width * np.sin(2 * t)
    return list(zip(x, 0.04 + 0.92 * y))


# -- the templates: several writing styles of each digit -------------------------------------------------------------

def templates() -> dict[int, dict[str, list[Pts]]]:
    T: dict[int, dict[str, list[Pts]]] = {d: {} for d in range(10)}
    T[0]["oval"] = [arc(0.5, 0.5, 0.3, 0.45, -90, 270)]
    T[0]["overlap"] = [arc(0.5, 0.5, 0.28, 0.45, -110, 290)]
    T[0]["round"] = [arc(0.5, 0.5, 0.38, 0.44, -80, 275)]
    T[0]["narrow"] = [arc(0.5, 0.5, 0.2, 0.46, -90, 265)]
    T[0]["egg"] = [smooth((0.55, 0.05), (0.3, 0.2), (0.25, 0.6), (0.45, 0.95), (0.72, 0.7), (0.72, 0.3), (0.5, 0.05))]

    T[1]["stick"] = [line((0.5, 0.05), (0.5, 0.95))]
    T[1]["flag"] = [line((0.32, 0.25), (0.55, 0.05), (0.55, 0.95))]
    T[1]["flag_base"] = [line((0.32, 0.25), (0.55, 0.05), (0.55, 0.95)), line((0.3, 0.95), (0.8, 0.95))]
    T[1]["slant"] = [line((0.62, 0.05), (0.4, 0.95))]

    T[2]["round"] = [arc(0.5, 0.3, 0.28, 0.25, 185, 375) + line((0.2, 0.95), (0.85, 0.95))]
    T[2]["loop"] = [arc(0.5, 0.28, 0.27, 0.23, 190, 370) + smooth((0.74, 0.4), (0.4, 0.75), (0.2, 0.92),
                                                               (0.32, 0.8), (0.45, 0.92), (0.85, 0.93))]
    T[2]["pointy"] = [line((0.2, 0.22), (0.5, 0.05), (0.78, 0.22), (0.2, 0.95), (0.85, 0.95))]
    T[2]["swan"] = [smooth((0.22, 0.25), (0.45, 0.05), (0.75, 0.2), (0.6, 0.55), (0.22, 0.93), (0.5, 0.88),
                           (0.85, 0.92))]

    T[3]["round"] = [arc(0.45, 0.27, 0.3, 0.23, 200, 450) + arc(0.45, 0.73, 0.33, 0.25, -90, 160)]
    T[3]["flat_top"] = [line((0.2, 0.05), (0.8, 0.05), (0.45, 0.42)) + arc(0.45, 0.7, 0.32, 0.27, -90, 160)]
    T[3]["two_strokes"] = [arc(0.45, 0.27, 0.3, 0.23, 200, 450), arc(0.45, 0.73, 0.33, 0.25, -90, 160)]
    T[3]["pointy_mid"] = [arc(0.45, 0.27, 0.3, 0.23, 200, 420) + line((0.4, 0.5)) + arc(0.45, 0.73, 0.33, 0.25,
                                                                                          -60, 160)]

    T[4]["open"] = [line((0.55, 0.05), (0.12, 0.65), (0.88, 0.65)), line((0.66, 0.3), (0.66, 0.97))]
    T[4]["open_top"] = [line((0.2, 0.05), (0.18, 0.55), (0.85, 0.55)), line((0.7, 0.05), (0.7, 0.97))]
    T[4]["one_stroke"] = [line((0.66, 0.97), (0.66, 0.05), (0.12, 0.65), (0.9, 0.65))]
    T[4]["crossed"] = [line((0.5, 0.05), (0.1, 0.62), (0.92, 0.62)), line((0.66, 0.12), (0.64, 0.97))]

    belly = arc(0.47, 0.67, 0.3, 0.27, -150, 150)
    T[5]["three_part"] = [line((0.3, 0.05), (0.26, 0.45)) + belly, line((0.3, 0.05), (0.8, 0.05))]
    T[5]["one_stroke"] = [line((0.8, 0.05), (0.3, 0.05), (0.26, 0.45)) + belly]
    T[5]["square"] = [line((0.78, 0.05), (0.28, 0.05), (0.25, 0.42), (0.6, 0.42)) + smooth(
        (0.6, 0.42), (0.78, 0.65), (0.6, 0.92), (0.2, 0.88))]

    T[6]["curl"] = [smooth((0.72, 0.05), (0.45, 0.2), (0.28, 0.5), (0.27, 0.75), (0.45, 0.95), (0.7, 0.85),
                           (0.72, 0.65), (0.5, 0.52), (0.3, 0.65))]
    T[6]["straight"] = [line((0.65, 0.05), (0.3, 0.6)) + arc(0.5, 0.72, 0.24, 0.23, 200, 540)]
    T[6]["round"] = [smooth(
        (0.75, 0.12), (0.5, 0.05), (0.28, 0.3), (0.25, 0.7), (0.45, 0.95), (0.72, 0.82), (0.7, 0.55),
        (0.45, 0.5), (0.27, 0.68))]

    T[7]["plain"] = [line((0.15, 0.08), (0.85, 0.08), (0.4, 0.95))]
    T[7]["crossbar"] = [line((0.15, 0.08), (0.85, 0.08), (0.4, 0.95)), line((0.38, 0.5), (0.8, 0.5))]
    T[7]["hook"] = [line((0.15, 0.22), (0.15, 0.08), (0.85, 0.08), (0.45, 0.95))]
    T[7]["curved"] = [line((0.15, 0.08), (0.85, 0.08)) + smooth((0.85, 0.08), (0.62, 0.45), (0.5, 0.95))]

    T[8]["one_stroke"] = [figure_eight(0.45)]
    T[8]["big_bottom"] = [figure_eight(0.38)]
    T[8]["two_circles"] = [arc(0.5, 0.26, 0.22, 0.22, -90, 270), arc(0.5, 0.72, 0.28, 0.25, -90, 270)]
    T[8]["s_back"] = [smooth((0.75, 0.15), (0.5, 0.04), (0.28, 0.18), (0.35, 0.4), (0.7, 0.6), (0.72, 0.85),
                             (0.5, 0.96), (0.28, 0.85), (0.3, 0.6), (0.65, 0.4), (0.72, 0.18), (0.6, 0.06))]

    T[9]["loop_stem"] = [arc(0.45, 0.28, 0.27, 0.24, 0, 360), line((0.72, 0.28), (0.7, 0.97))]
    T[9]["one_stroke"] = [arc(0.46, 0.28, 0.26, 0.23, -10, -370) + line((0.72, 0.3), (0.62, 0.97))]
    T[9]["hooked"] = [arc(0.45, 0.28, 0.27, 0.24, 0, -360) + smooth((0.72, 0.28), (0.7, 0.8), (0.5, 0.97),
                                                                      (0.3, 0.9))]
    T[9]["straight"] = [arc(0.42, 0.26, 0.25, 0.22, 10, -350), line((0.68, 0.2), (0.68, 0.97))]
    return T


# -- variants --------------------------------------------------------------------------------------------------------

KINDS = ("clean", "rotated", "slanted", "squeezed", "small", "large", "off_centre", "shaky", "thin_pen",
         "thick_pen", "elastic", "sloppy", "coarse", "messy")
CANVASES = (200, 280, 400, 600)


@dataclass
class Sample:
    strokes: list[Pts]  # canvas coordinates
    label: int
    style: str
    kind: str
    canvas: int
    pen: float  # the pad pen width in canvas pixels (only what the user sees; the recipe re-renders)


def resample(stroke: np.ndarray, step: float, rng: np.random.Generator) -> np.ndarray:
    """Points every ~``step`` px along the stroke, like mouse events arriving at irregular intervals."""
    seg = np.linalg.norm(np.diff(stroke, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] <= 0:
        return stroke[:1]
    n = max(2, int(s[-1] / step) + 1)
    ts = np.sort(np.concatenate([[0.0, s[-1]], rng.uniform(0, s[-1], n - 2)]))
    return np.stack([np.interp(ts, s, stroke[:, 0]), np.interp(ts, s, stroke[:, 1])], axis=1)


def elastic(p: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """A smooth random displacement of the unit box: proportions change the way hands change them (a bigger
    loop, a shorter stem, strokes that overshoot or fall short), not just a global affine change."""
    out = p.copy()
    for axis in (0, 1):
        for _ in range(3):
            fx, fy = rng.uniform(0.5, 2.0, 2)
            ph = rng.uniform(0, 2 * np.pi, 2)
            out[:, axis] += amount / 3 * np.sin(2 * np.pi * fx * p[:, 0] + ph[0]) * np.cos(
                2 * np.pi * fy * p[:, 1] + ph[1])
    return out


def make_sample(tpl: list[Pts], label: int, style: str, kind: str, canvas: int, rng: np.random.Generator) -> Sample:
    strokes = [np.asarray(s, dtype=np.float64) for s in tpl]
    # every digit gets a little natural variation; the kind adds one strong distortion
    angle = rng.normal(0, 4)
    shear = rng.normal(0, 0.06)
    sx, sy = rng.uniform(0.9, 1.1), 1.0
    size = rng.uniform(0.55, 0.75)  # digit height as a share of the canvas
    cx, cy = 0.5 + rng.normal(0, 0.04), 0.5 + rng.normal(0, 0.04)
    jitter = 0.0
    warp = 0.0
    sloppy = False
    step = None
    pen = canvas * 0.08
    if kind == "rotated":
        angle = rng.choice([-1, 1]) * rng.uniform(10, 20)
    elif kind == "slanted":
        shear = rng.choice([-1, 1]) * rng.uniform(0.2, 0.35)
    elif kind == "squeezed":
        sx = rng.choice([rng.uniform(0.55, 0.7), rng.uniform(1.3, 1.5)])
    elif kind == "small":
        size = rng.uniform(0.18, 0.3)
    elif kind == "large":
        size = rng.uniform(0.85, 0.95)
    elif kind == "off_centre":
        size = rng.uniform(0.35, 0.5)
        cx = rng.choice([rng.uniform(0.22, 0.3), rng.uniform(0.7, 0.78)])
        cy = rng.choice([rng.uniform(0.25, 0.3), rng.uniform(0.7, 0.75)])
    elif kind == "shaky":
        jitter = rng.uniform(0.01, 0.02)
    elif kind == "thin_pen":
        pen = canvas * 0.02
    elif kind == "thick_pen":
        pen = canvas * 0.14
    elif kind == "elastic":
        warp = rng.uniform(0.08, 0.14)
    elif kind == "sloppy":  # strokes that stop short or overshoot, and do not meet where they should
        sloppy = True
    elif kind == "coarse":  # a slow mouse: few points, so curves turn into polygons
        step = rng.uniform(0.07, 0.12)
    elif kind == "messy":  # several at once, each milder
        warp = rng.uniform(0.05, 0.1)
        angle = rng.uniform(-12, 12)
        shear = rng.uniform(-0.25, 0.25)
        sx = rng.uniform(0.7, 1.3)
        size = rng.uniform(0.3, 0.8)
        jitter = rng.uniform(0.0, 0.012)
    # every stroke of the digit moves with the same warp field
    warp_seed = int(rng.integers(1 << 30))
    a = np.deg2rad(angle)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    out = []
    for s in strokes:
        p = elastic(s, np.random.default_rng(warp_seed), warp) if warp else s
        p = p - 0.5
        p = p * [sx, sy]
        p[:, 0] += shear * -p[:, 1]  # positive shear leans the top to the right
        p = p @ rot.T
        if sloppy:
            n = len(p)
            cut0, cut1 = rng.integers(0, max(1, n // 12) + 1, 2)
            p = p[cut0:n - cut1] if n - cut1 - cut0 >= 2 else p
            ext = rng.uniform(-0.04, 0.06)  # overshoot past the last point (or fall short, if negative)
            d = p[-1] - p[-2]
            p = np.vstack([p, p[-1] + d / (np.linalg.norm(d) + 1e-9) * ext]) if ext > 0 else p
            p = p + rng.normal(0, 0.03, 2) * (len(strokes) > 1)  # multi-stroke digits: strokes misplaced
        p = resample(p, step or rng.uniform(0.008, 0.03), rng)
        if jitter:
            wobble = np.cumsum(rng.normal(0, jitter / 3, p.shape), axis=0)
            wobble -= np.linspace(0, 1, len(p))[:, None] * wobble[-1]  # a wobble, not a drift
            p = p + wobble + rng.normal(0, jitter / 2, p.shape)
        p = p * size * canvas + [cx * canvas, cy * canvas]
        p = np.clip(p, 0, canvas)
        out.append([(float(x), float(y)) for x, y in p])
    return Sample(out, label, style, kind, canvas, pen)


def make_set(per_style: int = 2, seed: int = 0) -> list[Sample]:
    """Every style × every kind × ``per_style`` random draws, canvases cycling through CANVASES."""
    rng = np.random.default_rng(seed)
    out = []
    i = 0
    for label, styles in templates().items():
        for style, tpl in styles.items():
            for kind in KINDS:
                for _ in range(per_style):
                    out.append(make_sample(tpl, label, style, kind, CANVASES[i % len(CANVASES)], rng))
                    i += 1
    return out


# -- evaluation ------------------------------------------------------------------------------------------------------

def preprocess_all(samples: list[Sample], pen_width: float | None = None) -> np.ndarray:
    from mnist_studio.data import preprocess as pp

    kw = {} if pen_width is None else {"pen_width": pen_width}
    imgs = []
    for s in samples:
        st = pp.preprocess_strokes(s.strokes, canvas_size=(s.canvas, s.canvas), canvas_pen_width=s.pen, **kw)
        imgs.append(st.centred)
    return np.stack(imgs)


def report(name: str, samples: list[Sample], pred: np.ndarray, out=sys.stdout) -> float:
    labels = np.array([s.label for s in samples])
    ok = pred == labels
    acc = float(ok.mean())
    print(f"\n== {name}: {acc:.1%} right on {len(samples)} scripted pen digits", file=out)

    def by(key):
        groups = defaultdict(list)
        for s, r in zip(samples, ok):
            groups[key(s)].append(r)
        return "  ".join(f"{k}: {np.mean(v):.0%}" for k, v in groups.items())

    print("  per digit   " + by(lambda s: s.label), file=out)
    print("  per variant " + by(lambda s: s.kind), file=out)
    print("  per canvas  " + by(lambda s: f"{s.canvas}px"), file=out)
    styles = defaultdict(list)
    for s, r in zip(samples, ok):
        styles[f"{s.label}:{s.style}"].append(r)
    weak = sorted((np.mean(v), k) for k, v in styles.items() if np.mean(v) < 0.9)
    if weak:
        print("  weakest styles " + ", ".join(f"{k} {m:.0%}" for m, k in weak), file=out)
    conf = defaultdict(int)
    for s, p in zip(samples, pred):
        if p != s.label:
            conf[(s.label, int(p))] += 1
    top = sorted(conf.items(), key=lambda kv: -kv[1])[:8]
    if top:
        print("  confusions  " + ", ".join(f"{a}→{b} ×{n}" for (a, b), n in top), file=out)
    return acc


def replay_on_pad(model, samples: list[Sample]) -> tuple[float, float]:
    """Draw samples on the real Draw tab with QTest mouse events; (accuracy, agreement with the direct path)."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt6.QtCore import QPoint, Qt
    from PyQt6.QtTest import QTest

    from mnist_studio.gui.app import make_app
    from mnist_studio.gui.draw.panel import DrawPanel
    from mnist_studio.gui.session import StudioSession

    app = make_app()
    session = StudioSession()
    session.set_model(model, source="freehand")
    panel = DrawPanel(session)
    panel.resize(1200, 800)
    panel.show()
    app.processEvents()
    pad = panel.pad
    sq = pad.square()
    right = agree = 0
    direct = model.predict(preprocess_all(samples))
    for s, d in zip(samples, direct):
        panel.clear()
        k = sq.width() / s.canvas  # the sample's canvas mapped onto the pad on screen
        for stroke in s.strokes:
            pts = [QPoint(round(sq.left() + x * k), round(sq.top() + y * k)) for x, y in stroke]
            QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[0])
            for p in pts[1:]:
                QTest.mouseMove(pad, p)
            QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[-1])
        app.processEvents()
        got = panel.prediction()
        right += int(got == s.label)
        agree += int(got == d)
    panel.close()
    return right / len(samples), agree / len(samples)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", action="append", required=True, help="a trained model file (repeatable)")
    ap.add_argument("--per-style", type=int, default=2, help="random draws per style and variant kind")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--pen", type=float, nargs="*", help="pen widths (final px) to compare, default: the recipe's")
    ap.add_argument("--pad", type=int, default=0, help="also replay this many digits through the real pad widget")
    ap.add_argument("--save", help="save the preprocessed 28×28 images to this .npz (to look at them)")
    args = ap.parse_args(argv)

    from mnist_studio.nn.modelfile import load_model

    samples = make_set(args.per_style, args.seed)
    print(f"{len(samples)} digits: {sum(len(v) for v in templates().values())} styles × {len(KINDS)} variant "
          f"kinds × {args.per_style}, canvases {', '.join(map(str, CANVASES))} px")
    pens = args.pen or [None]
    for path in args.model:
        model = load_model(path).model
        for pen in pens:
            t = time.perf_counter()
            x = preprocess_all(samples, pen)
            t_pre = time.perf_counter() - t
            pred = model.predict(x)
            label = path + ("" if pen is None else f", pen {pen} px")
            report(label, samples, pred)
            print(f"  ({t_pre / len(samples) * 1000:.2f} ms preprocessing per digit)")
            if args.save and pen is None:
                np.savez_compressed(args.save, images=x, labels=[s.label for s in samples], pred=pred)
        if args.pad:
            rng = np.random.default_rng(1)
            subset = [samples[i] for i in rng.choice(len(samples), min(args.pad, len(samples)), replace=False)]
            acc, agree = replay_on_pad(model, subset)
            print(f"  through the real pad (QTest mouse events), {len(subset)} digits: {acc:.1%} right, "
                  f"{agree:.1%} same answer as the direct path")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
