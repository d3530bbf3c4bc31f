"""Numbers by a writer the model was taught: photos read after "Teach it my handwriting" (issue 12's last goal).

For each pendigits-dev writer (for measuring only): 5 examples of each digit are taught to a copy of the model
through the pad's recipe (:func:`mnist_studio.training.adapt.adapt`, the studio's default recipe, as the Draw tab
does it), then photos of numbers are made from that writer's *other* digits only (``photo_gen.make_photo``, every
condition in turn) and read exactly as ``predict`` reads them, with the taught model and with the model as it was.
The goal: numbers by a taught writer read whole >= 95 %.

``--photo-examples N`` also teaches what the Draw tab keeps from photos: N photos (every condition in turn, a
random stream of their own) of numbers made only from the writer's *taught* digits are read by the model as it
was, and where the count is right each cut digit's 28×28 input is kept with its true label, as a user correcting
the photo key by key would keep it; photos cut wrongly give nothing (a user cannot label a mis-cut digit).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE nice .venv/bin/python benchmarks/photo_taught.py \\
        --model lenet.npz --per-writer 40 --out /tmp/photo-taught
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import photo_gen  # noqa: E402


def read_number(model, gray: np.ndarray) -> str:
    from mnist_studio.data.picture import read_picture
    from mnist_studio.data.shift_average import averaged_proba

    reading = read_picture(gray, model.predict_proba)
    return "".join(str(int(d)) for d in averaged_proba(model.predict_proba, reading.inputs).argmax(axis=1))


def photo_examples(model, pen, mnist, writer: int, allowed: set, n: int, seed: int, plain: bool, out: Path):
    """The 28×28 inputs and true labels of the digits cut right from ``n`` photos of the writer's taught digits."""
    from mnist_studio.data.picture import read_picture
    from mnist_studio.data.preprocess import load_gray

    rng = np.random.default_rng([seed, writer, 77])
    xs, ys = [], []
    for i in range(n):
        cond = photo_gen.CONDITIONS[i % len(photo_gen.CONDITIONS)]
        extra = None if plain else np.random.default_rng([seed, writer, i, 78])
        p = photo_gen.make_photo("pen", cond, pen, mnist.test_images, mnist.test_labels, rng, extra=extra,
                                 writer=writer, allowed=allowed)
        name = out / f"teach_w{writer}_{i:03d}.jpg"
        p.image.save(name, quality=int(rng.integers(35, 96)))
        inputs = read_picture(load_gray(name), model.predict_proba).inputs
        if len(inputs) == len(p.number):
            xs.extend(inputs)
            ys.extend(int(c) for c in p.number)
    return (np.stack(xs).astype(np.float32) if xs else np.zeros((0, 28, 28), np.float32)), np.array(ys, np.int64)


def main(argv=None) -> int:
    from pen_eval import fast_images, load_dev

    from mnist_studio.data.datasets import load_mnist
    from mnist_studio.nn.modelfile import load_model
    from mnist_studio.training.adapt import adapt, split_per_digit

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--per-digit", type=int, default=5, help="examples of each digit taught")
    ap.add_argument("--per-writer", type=int, default=40, help="photos per writer")
    ap.add_argument("--seed", type=int, default=31)
    ap.add_argument("--plain", action="store_true", help="photos without photo_extra's effects")
    ap.add_argument("--photo-examples", type=int, default=0,
                    help="photos of the taught digits whose digits are also taught (see the doc)")
    ap.add_argument("--out", default="/tmp/photo-taught")
    args = ap.parse_args(argv)

    model = load_model(args.model).model
    mnist = load_mnist()
    digits = load_dev()
    pen = photo_gen.load_pen_digits()
    assert len(pen) == len(digits) and all(p["label"] == d.label and p["writer"] == d.writer
                                           for p, d in zip(pen, digits))
    images = fast_images(digits)
    labels = np.array([d.label for d in digits])
    writers = np.array([d.writer for d in digits])
    rng = np.random.default_rng(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows, summary = [], {}
    for w in sorted(set(writers.tolist())):
        idx = np.flatnonzero(writers == w)
        t, rest = split_per_digit(labels[idx], args.per_digit, seed=0)
        x_teach, y_teach = images[idx[t]], labels[idx[t]]
        if args.photo_examples:
            px, py = photo_examples(model, pen, mnist, w, set(idx[t].tolist()), args.photo_examples, args.seed,
                                    args.plain, out)
            print(f"writer {w}: {len(py)} digits kept from {args.photo_examples} photos", flush=True)
            x_teach, y_teach = np.concatenate([x_teach, px]), np.concatenate([y_teach, py])
        taught = adapt(model, x_teach, y_teach, mnist.train_images, mnist.train_labels).model
        allowed = set(idx[rest].tolist())
        whole = {"taught": [], "base": []}
        for i in range(args.per_writer):
            cond = photo_gen.CONDITIONS[i % len(photo_gen.CONDITIONS)]
            extra = None if args.plain else np.random.default_rng([args.seed, w, i, 12])
            p = photo_gen.make_photo("pen", cond, pen, mnist.test_images, mnist.test_labels, rng, extra=extra,
                                     writer=w, allowed=allowed)
            assert not set(p.digit_ids) - allowed  # only digits the model was not taught
            name = f"w{w}_{i:03d}.jpg"
            p.image.save(out / name, quality=int(rng.integers(35, 96)))
            from mnist_studio.data.preprocess import load_gray

            gray = load_gray(out / name)
            got = {"taught": read_number(taught, gray), "base": read_number(model, gray)}
            for k in whole:
                whole[k].append(got[k] == p.number)
            rows.append({"file": name, "writer": w, "condition": cond, "number": p.number, **got})
        summary[w] = {k: float(np.mean(v)) for k, v in whole.items()}
        print(f"writer {w}: whole numbers read right, taught {summary[w]['taught']:.1%}, "
              f"not taught {summary[w]['base']:.1%} ({args.per_writer} photos)", flush=True)
    all_t = np.mean([r["taught"] == r["number"] for r in rows])
    all_b = np.mean([r["base"] == r["number"] for r in rows])
    count = np.mean([len(r["taught"]) == len(r["number"]) for r in rows])
    print(f"all {len(rows)} photos: taught {all_t:.1%} whole (count right {count:.1%}), not taught {all_b:.1%}")
    by_cond = {}
    for r in rows:
        by_cond.setdefault(r["condition"], []).append(r["taught"] == r["number"])
    print("taught, by condition: " + ", ".join(f"{c} {np.mean(v):.0%}" for c, v in sorted(by_cond.items())))
    (out / "results.json").write_text(json.dumps({"rows": rows, "writers": summary}, indent=0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
