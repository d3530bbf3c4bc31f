"""Does "Teach it my handwriting" work? Teaching measured writer by writer on real pen digits.

For each writer of the pendigits dev set (``benchmarks/pen_eval.py`` finds it; for measuring only), K examples of
each digit (default 5, chosen at random, seeded) are taught to a copy of the base model with
:func:`mnist_studio.training.adapt.adapt`, and that writer's *other* digits (about 20 per digit) are read before
and after. MNIST test accuracy is measured before and after each teaching, since forgetting is the risk. Every
digit reaches the network as the pad would give it (``pen_eval.fast_images``: placed on the pad like a person's
drawing, then the pad's recipe).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/adapt_eval.py [--variants a,b] [--json]

The base model is a ``lenet`` trained 2 epochs on MNIST only (seed 0), trained once and cached under the system's
temporary folder (never in the repository); ``--model`` uses another. Teaching is per writer by design, so the dev
set may measure it here; the recipe itself was chosen by reasoning about forgetting (see the README), and every
variant tried is listed in ``VARIANTS`` and reported.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from mnist_studio.training.adapt import AdaptConfig, accuracy, adapt, split_per_digit  # noqa: E402

D = AdaptConfig()
SHIFTED = replace(D, rotation=0.0, scale=0.0, thickness=0.0)  # the studio's recipe before its examples were varied
REFERENCE = replace(SHIFTED, steps=40, replay_per_step=32, distill=0.0)
TURNED = replace(D, thickness=0.0)
VARIANTS: dict[str, AdaptConfig] = {
    "reference (40 steps, 1:1 mix)": REFERENCE,
    "reference + L2 pull 1e-2": replace(REFERENCE, l2_pull=1e-2),
    "1:3 mix (more MNIST)": replace(SHIFTED, distill=0.0),
    "1:3 mix + LwF 0.5": SHIFTED,
    "1:3 mix + LwF 0.5 + L2 pull 1e-2": replace(SHIFTED, l2_pull=1e-2),
    "1:1 mix + LwF 0.5": replace(SHIFTED, replay_per_step=32),
    "1:3 mix + LwF 0.5 + early stop": replace(SHIFTED, holdout_stop=True),
    "1:3 mix + LwF 0.5 + pen ±1 on 2/3": replace(SHIFTED, thickness=1 / 3),
    "1:3 mix + LwF 0.5 + turned 8°, resized 10 %": TURNED,
    "1:3 mix + LwF 0.5 + turned 8°, resized 10 %, pen ±1 on 2/3 (studio)": D,
    "1:3 mix + LwF 0.5 + turned 12°, resized 15 %": replace(TURNED, rotation=12.0, scale=0.15),
    "1:3 mix + LwF 0.5 + turned 5°, resized 5 %": replace(TURNED, rotation=5.0, scale=0.05),
    "1:3 mix + LwF 0.5 + turned 8°, resized 10 %, 80 steps": replace(TURNED, steps=80),
}


def base_model(path: str | None):
    from mnist_studio.data.datasets import load_mnist
    from mnist_studio.data.splits import make_splits
    from mnist_studio.nn.model import Model
    from mnist_studio.nn.modelfile import load_model, save_model
    from mnist_studio.nn.spec import load_preset
    from mnist_studio.training.config import TrainConfig
    from mnist_studio.training.trainer import Trainer

    if path:
        return load_model(path).model
    cache = Path(tempfile.gettempdir()) / "mnist-studio-adapt-eval" / "lenet-2ep-seed0.npz"
    if cache.exists():
        return load_model(cache).model
    print(f"training the base lenet (2 epochs, MNIST only); cached as {cache}", file=sys.stderr)
    spec = load_preset("lenet")
    config = TrainConfig.for_spec(spec, epochs=2, seed=0, val_size=0)
    model = Model(spec, seed=0)
    Trainer(model, make_splits(load_mnist(), val_size=0), config).fit()
    cache.parent.mkdir(parents=True, exist_ok=True)
    save_model(cache, model, training=config.to_dict())
    return model


def reference_batches(model, mnist, n: int = 20) -> float:
    """Seconds for ``n`` ordinary lenet training steps (batch 64, Adam): the yardstick teaching time is divided by,
    since this shared machine's speed swings several-fold (README, Performance: 42.3 ms a batch when quiet)."""
    import time

    from mnist_studio.data.datasets import to_float
    from mnist_studio.nn.losses import make_loss
    from mnist_studio.nn.optim import make_optimizer

    m = model.copy()
    params = [p for _, p, _ in m.named_params()]
    grads = [g for _, _, g in m.named_params()]
    opt, loss = make_optimizer("adam", 1e-4), make_loss("cross_entropy")
    x, y = to_float(mnist.train_images[:64]), mnist.train_labels[:64].astype(np.int64)
    t0 = time.perf_counter()
    for _ in range(n):
        m.loss_and_grads(m.prepare(x), y, loss)
        opt.step(params, grads)
    return time.perf_counter() - t0


def timing(model, mnist, images, labels, rounds: int = 3) -> dict:
    """Teaching time (the studio's recipe, 50 examples) against 20 reference training batches, alternated."""
    t, _ = split_per_digit(labels, 5, seed=0)
    ratios, teach = [], []
    for _ in range(rounds):
        ref = reference_batches(model, mnist) / 20
        res = adapt(model, images[t], labels[t], mnist.train_images, mnist.train_labels)
        teach.append(res.seconds)
        ratios.append(res.seconds / ref)
    r = float(np.median(ratios))
    out = {"teach_seconds": teach, "batches_equivalent": r, "quiet_machine_seconds": r * 0.0423}
    print(f"teaching (default recipe, {len(t)} examples): {', '.join(f'{s:.1f}' for s in teach)} s here; "
          f"= {r:.0f} lenet training batches (median of {rounds}), about {r * 0.0423:.1f} s at the README's "
          "quiet-machine 42.3 ms a batch", file=sys.stderr)
    return out


def main(argv=None) -> int:
    from pen_eval import fast_images, load_dev

    from mnist_studio.data.datasets import load_mnist
    from mnist_studio.training.metrics import evaluate

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="base model (default: a cached lenet, 2 epochs)")
    ap.add_argument("--per-digit", type=int, default=5)
    ap.add_argument("--variants", help="comma-separated variant names or prefixes (default: all)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--timing", action="store_true", help="only time teaching against reference training batches")
    args = ap.parse_args(argv)

    model = base_model(args.model)
    mnist = load_mnist()
    digits = load_dev()
    images = fast_images(digits)
    labels = np.array([d.label for d in digits])
    writers = np.array([d.writer for d in digits])
    if args.timing:
        w1 = writers == writers[0]
        out = timing(model, mnist, images[w1], labels[w1])
        if args.json:
            print(json.dumps(out))
        return 0
    mnist_before = evaluate(model, mnist.test_images, mnist.test_labels).accuracy
    wanted = [p.strip() for p in args.variants.split(",")] if args.variants else []
    chosen = {k: v for k, v in VARIANTS.items()  # an exact name picks that one; otherwise a prefix picks all it starts
              if not wanted or any(k == p or (p not in VARIANTS and k.startswith(p)) for p in wanted)}
    splits = {}
    before = {}
    for w in sorted(set(writers.tolist())):
        idx = np.flatnonzero(writers == w)
        t, rest = split_per_digit(labels[idx], args.per_digit, seed=0)
        splits[w] = (idx[t], idx[rest])
        before[w] = accuracy(model, images[idx[rest]], labels[idx[rest]])
    print(f"base model: MNIST test {mnist_before:.2%}; held-out pen digits before teaching: "
          + ", ".join(f"writer {w} {a:.1%}" for w, a in before.items()), file=sys.stderr)
    results = []
    for name, cfg in chosen.items():
        row = {"variant": name, "config": cfg.to_dict(), "writers": {}}
        for w, (t, rest) in splits.items():
            res = adapt(model, images[t], labels[t], mnist.train_images, mnist.train_labels, cfg)
            after = accuracy(res.model, images[rest], labels[rest])
            m = evaluate(res.model, mnist.test_images, mnist.test_labels).accuracy
            row["writers"][w] = {"before": before[w], "after": after, "mnist_after": m, "seconds": res.seconds,
                                 "taught": len(t), "held_out": len(rest), "best_step": res.best_step}
        ws = row["writers"].values()
        row["mean_after"] = float(np.mean([r["after"] for r in ws]))
        row["min_after"] = float(np.min([r["after"] for r in ws]))
        row["mnist_drop"] = float(mnist_before - np.mean([r["mnist_after"] for r in ws]))
        row["mnist_worst_drop"] = float(mnist_before - np.min([r["mnist_after"] for r in ws]))
        row["seconds"] = float(np.mean([r["seconds"] for r in ws]))
        results.append(row)
        print(f"{name:<36} after {row['mean_after']:.1%} (min {row['min_after']:.1%}) "
              + " ".join(f"w{w}:{r['after']:.1%}" for w, r in row["writers"].items())
              + f" | MNIST {-row['mnist_drop'] * 100:+.2f} (worst {-row['mnist_worst_drop'] * 100:+.2f}) pts"
              + f" | {row['seconds']:.1f} s", file=sys.stderr)
    summary = {"mnist_before": mnist_before, "before": before, "mean_before": float(np.mean(list(before.values()))),
               "per_digit": args.per_digit, "variants": results}
    if args.json:
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
