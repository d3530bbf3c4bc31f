"""Train the "one digit or two?" judge of touching digits (``mnist_studio/data/pieces.py``) on MNIST training digits.

The segmenter's hardest question is whether a blob wider than a digit is one wide digit or two touching ones; the
digit network cannot say (it reads a joined "17" as one digit at 99.7 %). So this script makes the question's
examples from MNIST's *training* digits only (never the test set, never pendigits: those measure): one digit,
often made wide (stretched 0.85-1.9×), sheared, turned, thick or thin; or two or three digits of the same height
pushed together along a wandering baseline until their ink touches, then further by up to 8 % of their height
(the blob the segmenter sees is one connected piece). Each is thresholded as a photo's ink would be, at a random
size, and shown to the judge as :func:`judge_input` shows a blob. A small convolutional network of the studio's
own engine learns the count (labels 0, 1, 2 = one, two, three digits; the spec's other seven outputs learn to stay
silent) and is saved as a model file with a JSON note of how it was made:

    PYTHONPATH=. nice -n 10 .venv/bin/python benchmarks/train_pieces.py --out resources/judge/pieces.npz
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

SPEC = {
    "name": "pieces-judge",
    "description": "how many digits a blob holds (outputs 0, 1, 2: one, two, three); input: judge_input's 28x28",
    "input_shape": [28, 28, 1],
    "init": "he",
    "layers": [
        {"type": "Conv2D", "filters": 8, "kernel_size": 5, "padding": "same"}, {"type": "ReLU"},
        {"type": "MaxPool2D", "pool_size": 2},
        {"type": "Conv2D", "filters": 16, "kernel_size": 5, "padding": "same"}, {"type": "ReLU"},
        {"type": "MaxPool2D", "pool_size": 2},
        {"type": "Flatten"}, {"type": "Dense", "units": 64}, {"type": "ReLU"},
        {"type": "Dense", "units": 10}, {"type": "Softmax"},
    ],
}
SHARES = (0.45, 0.4, 0.15)  # one, two, three digits


def digit_ink(img28: np.ndarray, height: float, stretch: float, shear: float, turn: float) -> np.ndarray:
    """One MNIST digit as float ink ``height`` px tall, ``stretch`` times its own width, sheared and turned."""
    a = img28.astype(np.float32) / 255.0
    rows, cols = np.flatnonzero(a.max(axis=1) > 0.1), np.flatnonzero(a.max(axis=0) > 0.1)
    a = a[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    k = height / a.shape[0]
    size = (max(2, round(a.shape[1] * k * stretch)), max(2, round(height)))
    img = Image.fromarray(a, "F").resize(size, Image.Resampling.BICUBIC)
    w, h = img.size
    pad = int(abs(shear) * h) + 2
    img = img.transform((w + 2 * pad, h), Image.Transform.AFFINE, (1, shear, -pad - shear * h / 2, 0, 1, 0),
                        Image.Resampling.BILINEAR)
    img = img.rotate(turn, Image.Resampling.BILINEAR, expand=True)
    out = np.asarray(img, np.float32)
    rows, cols = np.flatnonzero(out.max(axis=1) > 0.1), np.flatnonzero(out.max(axis=0) > 0.1)
    return out[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def touching(inks: list[np.ndarray], xs: list[int], ys: list[int], level: float) -> tuple[np.ndarray, bool]:
    """The digits' ink put at (xs, ys) on one canvas, thresholded at ``level``; and whether each neighbour pair
    is joined by one 8-connected piece."""
    W = max(x + i.shape[1] for x, i in zip(xs, inks))
    H = max(y + i.shape[0] for y, i in zip(ys, inks))
    canvas = np.zeros((H, W), np.float32)
    own = []
    for x, y, ink in zip(xs, ys, inks):
        sl = canvas[y:y + ink.shape[0], x:x + ink.shape[1]]
        np.maximum(sl, ink, out=sl)
        m = np.zeros((H, W), bool)
        m[y:y + ink.shape[0], x:x + ink.shape[1]] = ink >= level
        own.append(m)
    mask = canvas >= level
    labels, _ = ndimage.label(mask, structure=np.ones((3, 3), bool))
    joined = all(bool(np.intersect1d(labels[a & mask], labels[b & mask]).size
                      and (np.intersect1d(labels[a & mask], labels[b & mask]) > 0).any())
                 for a, b in zip(own[:-1], own[1:]))
    return mask, joined


def sample(images: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """One blob of ``count`` digits (a mask)."""
    height = float(rng.uniform(22, 110))
    level = float(rng.uniform(0.3, 0.65))
    inks = []
    for _ in range(count):
        img = images[rng.integers(len(images))]
        stretch = rng.uniform(0.85, 1.9) if count == 1 else rng.uniform(0.75, 1.3)
        inks.append(digit_ink(img, height * rng.uniform(0.88, 1.12), stretch, rng.uniform(-0.3, 0.3),
                              rng.uniform(-5, 5)))
    if count == 1:
        mask = inks[0] >= level
    else:
        base = [int(round(rng.normal(0, 0.05 * height))) for _ in inks]
        ys = [b - min(base) + int(max(i.shape[0] for i in inks) - i.shape[0]) for b, i in zip(base, inks)]
        gaps = [0.06 * height] * (count - 1)  # start apart, push together until every pair touches
        for _ in range(20):
            xs = [0]
            for g, ink in zip(gaps, inks[:-1]):
                xs.append(max(0, int(round(xs[-1] + ink.shape[1] + g))))
            mask, joined = touching(inks, xs, ys, level)
            if joined:
                break
            gaps = [g - 0.03 * height for g in gaps]
        extra = rng.uniform(0, 0.08) * height  # then some more overlap
        xs = [0]
        for g, ink in zip(gaps, inks[:-1]):
            xs.append(max(0, int(round(xs[-1] + ink.shape[1] + g - extra))))
        mask, _ = touching(inks, xs, ys, level)
    grow = rng.integers(-1, 3)  # a thin pen or a fat marker at this size (judge_input redraws it anyway)
    if grow > 0:
        mask = ndimage.binary_dilation(mask, iterations=int(grow))
    elif grow < 0 and ndimage.binary_erosion(mask).sum() > 0.3 * mask.sum():
        mask = ndimage.binary_erosion(mask)
    return mask


def make_set(images: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from mnist_studio.data.pieces import judge_input

    rng = np.random.default_rng(seed)
    labels = rng.choice(3, size=n, p=SHARES)
    x = np.stack([judge_input(sample(images, int(c) + 1, rng)) for c in labels])[..., None]
    return x, labels.astype(np.int64)


def train(x, y, xv, yv, epochs: int, seed: int):
    from mnist_studio.nn.losses import make_loss
    from mnist_studio.nn.model import Model
    from mnist_studio.nn.optim import make_optimizer

    model = Model(SPEC, seed=seed)
    opt = make_optimizer("adam", 1e-3)
    loss = make_loss("cross_entropy")
    params = [p for _, p, _ in model.named_params()]
    grads = [g for _, _, g in model.named_params()]
    rng = np.random.default_rng(seed)
    steps = 0
    total = epochs * (len(x) // 64)
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        t = time.perf_counter()
        for i in range(0, len(x) - 63, 64):
            idx = order[i:i + 64]
            opt.lr = 1e-3 * 0.5 * (1 + np.cos(np.pi * steps / total))  # cosine schedule
            model.loss_and_grads(model.prepare(x[idx]), y[idx], loss)
            opt.step(params, grads)
            steps += 1
        acc = float((model.predict(xv) == yv).mean())
        print(f"epoch {epoch + 1}: validation {acc:.2%} ({time.perf_counter() - t:.0f} s)", flush=True)
    return model, acc


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="resources/judge/pieces.npz")
    ap.add_argument("--n", type=int, default=24000, help="training blobs")
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    from mnist_studio.data.datasets import load_mnist
    from mnist_studio.nn.modelfile import save_model
    from mnist_studio.fileio import atomic_write_text

    ds = load_mnist()
    t = time.perf_counter()
    x, y = make_set(ds.train_images, args.n, args.seed)
    xv, yv = make_set(ds.train_images, 3000, args.seed + 1)
    print(f"made {len(x)} + {len(xv)} blobs in {time.perf_counter() - t:.0f} s", flush=True)
    model, acc = train(x, y, xv, yv, args.epochs, args.seed)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    made = {"script": "benchmarks/train_pieces.py", "data": "MNIST training digits only", "blobs": args.n,
            "shares": SHARES, "epochs": args.epochs, "seed": args.seed, "validation_accuracy": round(acc, 4),
            "outputs": "0: one digit, 1: two, 2: three or more"}
    save_model(out, model, training=made)
    atomic_write_text(out.with_suffix(".json"), json.dumps(made, indent=1) + "\n")
    print(f"saved {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
