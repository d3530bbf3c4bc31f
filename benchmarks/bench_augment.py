"""What each named augmentation costs a training epoch: a LeNet trained on the same batches with and without it.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/bench_augment.py [--batches 60]

For each augmentation, rounds alternate between a run without augmentation and a run with it (a fresh Trainer, the
same seed, so the same batches), and the median of the rounds' time ratios is printed: this machine is shared and
its speed swings, so a ratio within one round is what can be trusted; the CPU time of all threads is compared too,
which other programs on the machine disturb less than the wall clock. Also times the augmentation call alone on a
batch of 64 real MNIST digits. The goal for a default recipe: an epoch at most 15 % dearer (ratio <= 1.15).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mnist_studio.data.augmentations import AUGMENTATIONS, make_augmentation  # noqa: E402
from mnist_studio.data.datasets import load_mnist, to_float  # noqa: E402
from mnist_studio.data.splits import make_splits  # noqa: E402
from mnist_studio.nn.model import Model  # noqa: E402
from mnist_studio.nn.spec import load_preset  # noqa: E402
from mnist_studio.training.config import TrainConfig  # noqa: E402
from mnist_studio.training.trainer import Trainer  # noqa: E402


def fit_seconds(splits, augment: str, batches: int) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds of all threads) of one epoch over ``batches`` batches."""
    spec = load_preset("lenet")
    config = TrainConfig.for_spec(spec, epochs=1, seed=0, val_size=0, limit=batches * 64, augment=augment)
    trainer = Trainer(Model(spec, seed=0), splits, config)
    cpu = time.process_time()
    trainer.fit()
    return trainer.train_seconds, time.process_time() - cpu


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batches", type=int, default=60, help="batches of 64 per timed run")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--names", nargs="*", default=[n for n in AUGMENTATIONS if n != "none"],
                    help="the augmentations to time (default: all)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    ds = load_mnist()
    splits = make_splits(ds, val_size=0, limit=args.batches * 64)
    x = to_float(ds.train_images[:64])
    y = ds.train_labels[:64]
    result = {}
    for name in args.names:
        fn = make_augmentation(name)
        if fn is None:
            continue
        calls = []
        for _ in range(20):
            t = time.perf_counter()
            fn(x, np.random.default_rng(0), y)
            calls.append(time.perf_counter() - t)
        ratios, cpu_ratios = [], []
        for _ in range(args.rounds):
            plain, plain_cpu = fit_seconds(splits, "none", args.batches)
            with_it, with_cpu = fit_seconds(splits, name, args.batches)
            ratios.append(with_it / plain)
            cpu_ratios.append(with_cpu / plain_cpu)
        result[name] = {"epoch_ratio": float(np.median(ratios)), "rounds": [round(r, 3) for r in ratios],
                        "cpu_ratio": float(np.median(cpu_ratios)), "cpu_rounds": [round(r, 3) for r in cpu_ratios],
                        "ms_per_batch_of_64": 1000 * float(np.median(calls))}
        print(f"{name:<16} epoch cost x{result[name]['epoch_ratio']:.3f} wall-clock (rounds "
              f"{', '.join(f'{r:.3f}' for r in ratios)}), x{result[name]['cpu_ratio']:.3f} CPU time (rounds "
              f"{', '.join(f'{r:.3f}' for r in cpu_ratios)}); {result[name]['ms_per_batch_of_64']:.2f} ms per "
              "call on a batch of 64", flush=True)
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
