"""``mnist-studio adapt``: teach a trained model a writer's handwriting from a file of pen strokes.

    mnist-studio adapt MODEL.npz --strokes FILE.json [--per-digit K] [--steps N] --out NEW.npz [--json]

Up to K examples of each digit in the file (default 5, chosen at random, seeded) are taught
(:mod:`mnist_studio.training.adapt`); the file's other digits are read before and after, and so is MNIST's test set,
so the effect and the cost of teaching are both measured on drawings the teaching never saw. The stroke file is the
pendigits / "My handwriting" format (:mod:`mnist_studio.data.strokes`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from mnist_studio.cli.common import UserError, check_outputs, print_json


def add_adapt(sub) -> None:
    sp = sub.add_parser("adapt", help="teach a model a writer's handwriting from a file of pen strokes")
    sp.add_argument("model", help="the trained model to teach (.npz); it is not changed")
    sp.add_argument("--strokes", required=True, help="pen-stroke digits (JSON, the pendigits / My handwriting "
                                                      "format: [{\"label\": 7, \"strokes\": [[[x, y], ...]]}, ...])")
    sp.add_argument("--per-digit", type=int, default=5, help="examples of each digit to teach (default 5); the "
                                                             "rest measure the result")
    sp.add_argument("--steps", type=int, help="fine-tuning steps (default: the studio's recipe)")
    sp.add_argument("--seed", type=int, default=0, help="which examples are taught, and the teaching's randomness")
    sp.add_argument("--out", required=True, help="where to save the taught model (.npz)")
    sp.add_argument("--json", action="store_true", help='end with {"before", "after", "mnist_before", '
                                                         '"mnist_after", "examples"} on stdout')
    sp.set_defaults(func=run)


def run(args) -> int:
    from mnist_studio.data.datasets import load_mnist
    from mnist_studio.data.strokes import read_stroke_file, stroke_images
    from mnist_studio.nn.modelfile import load_model, save_model
    from mnist_studio.training.adapt import (MIN_EXAMPLES, AdaptConfig, AdaptError, accuracy, adapt, check_model,
                                             split_per_digit)
    from mnist_studio.training.metrics import evaluate

    import numpy as np

    if not 1 <= args.per_digit <= 1000:
        raise UserError(f"--per-digit must be between 1 and 1000, got {args.per_digit}")
    if args.steps is not None and not 1 <= args.steps <= 10_000:
        raise UserError(f"--steps must be between 1 and 10000, got {args.steps}")
    out = Path(args.out)
    check_outputs([("--out", out)], [("the model file being taught", args.model),
                                      ("the stroke file --strokes reads", args.strokes)])
    loaded = load_model(args.model)
    model = loaded.model
    try:
        check_model(model)
    except AdaptError as e:
        raise UserError(f"{args.model}: {e}") from None
    digits = read_stroke_file(args.strokes)
    labels = np.array([d.label for d in digits], dtype=np.int64)
    taught, rest = split_per_digit(labels, args.per_digit, args.seed)
    if len(taught) < MIN_EXAMPLES or len(rest) == 0:
        raise UserError(
            f"{args.strokes}: too few examples: {len(digits)} digit(s); teaching needs at least {MIN_EXAMPLES} "
            f"to teach ({args.per_digit} per digit at most) and at least one more, not taught, to measure on")
    check_outputs([("--out", out)], [], size_hint=12 * model.num_params() + 1_000_000)
    images = stroke_images(digits)
    mnist = load_mnist()
    before = accuracy(model, images[rest], labels[rest])
    mnist_before = evaluate(model, mnist.test_images, mnist.test_labels).accuracy
    config = AdaptConfig(seed=args.seed) if args.steps is None else AdaptConfig(seed=args.seed, steps=args.steps)

    tty = sys.stderr.isatty()

    def progress(step: int, steps: int, loss: float) -> None:
        if tty:
            sys.stderr.write(f"\rteaching: step {step}/{steps} loss {loss:.4f} ")
            sys.stderr.flush()

    print(f"teaching {len(taught)} examples ({len(rest)} held out to measure), {config.steps} steps",
          file=sys.stderr)
    try:
        result = adapt(model, images[taught], labels[taught], mnist.train_images, mnist.train_labels, config,
                       progress=progress)
    except AdaptError as e:
        raise UserError(f"{args.strokes}: {e}") from None
    if tty:
        sys.stderr.write("\n")
    after = accuracy(result.model, images[rest], labels[rest])
    mnist_after = evaluate(result.model, mnist.test_images, mnist.test_labels).accuracy
    report = {"before": round(before, 6), "after": round(after, 6), "mnist_before": round(mnist_before, 6),
              "mnist_after": round(mnist_after, 6), "examples": int(len(taught)), "held_out": int(len(rest)),
              "steps": result.steps, "seconds": round(result.seconds, 3), "model": str(out)}
    history = {**(loaded.history or {}), "test_accuracy": mnist_after,
               "adapted": {"from": str(args.model), "strokes": str(args.strokes), **report,
                           "config": config.to_dict()}}
    try:
        save_model(out, result.model, training=loaded.training, history=history)
    except OSError as e:
        raise UserError(f"cannot write {out}: {e.strerror or e}") from None
    print(f"held-out digits read right: {before:.1%} -> {after:.1%}; MNIST test {mnist_before:.2%} -> "
          f"{mnist_after:.2%} ({result.seconds:.1f} s); saved {out}", file=sys.stderr)
    if args.json:
        print_json(report)
    return 0
