"""What the weight history costs training (issue 13 item 2): the same steps timed with and without the recorder.

    python benchmarks/bench_history.py                        # lenet and mlp-512-256, 300 steps, 3 rounds
    python benchmarks/bench_history.py --models lenet --steps 600 --rounds 5

Each round trains a fresh model (same seed) on full MNIST epochs' grid (860 batches of 64 an epoch, so the samples
come as often as in a real run) for ``--steps`` steps, once without and once with the recorder as the studio sets it
up (128 probe images, the worker's time budget), in alternating order, in this process. Reported per model: the
median ratio of the two training times (with / without), the recorder's own measured share of the training time
(``seconds`` it spent sampling over the fit's seconds), the samples kept and the grid it settled on, and the load
average. For a fair run unset the OpenBLAS safety settings in that command only:
``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_history.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics

import numpy as np

from mnist_studio.data import load_mnist, make_splits, to_float
from mnist_studio.nn import Model, load_preset
from mnist_studio.training import TrainConfig, Trainer
from mnist_studio.training.weight_recorder import BUDGET, WeightHistoryRecorder


def one(spec, splits, config, steps: int, record: bool, budget):
    model = Model(spec, seed=0)
    callbacks = []
    rec = None
    if record:
        rec = WeightHistoryRecorder(model, to_float(splits.val_x[:128]), budget=budget)
        callbacks.append(rec)
    trainer = Trainer(model, splits, config, callbacks=callbacks)
    end = trainer.fit(until_step=steps)
    return end.seconds, rec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["lenet", "mlp-512-256"])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--budget", type=float, default=BUDGET, help="the recorder's time budget (0: none)")
    args = ap.parse_args()
    ds = load_mnist()
    splits = make_splits(ds, val_size=5000)
    budget = args.budget or None
    for name in args.models:
        spec = load_preset(name)
        config = TrainConfig(optimizer="adam", lr=1e-3, epochs=1, batch_size=64, val_size=5000, seed=0)
        one(spec, splits, config, 20, False, budget)  # warm-up
        ratios, shares = [], []
        rec = None
        for r in range(args.rounds):
            order = (False, True) if r % 2 == 0 else (True, False)
            times = {}
            for record in order:
                seconds, got = one(spec, splits, config, args.steps, record, budget)
                times[record] = seconds
                if got is not None:
                    rec = got
                    shares.append(got.seconds / seconds)
            ratios.append(times[True] / times[False])
            print(f"  {name} round {r + 1}: without {times[False]:.2f} s, with {times[True]:.2f} s, "
                  f"ratio {ratios[-1]:.3f}, recorder {100 * shares[-1]:.2f} % of its run", flush=True)
        h = rec.history
        print(f"{name}: {args.steps} steps, median ratio with/without {statistics.median(ratios):.3f} "
              f"(rounds {min(ratios):.3f}-{max(ratios):.3f}); the recorder's own time "
              f"{100 * statistics.median(shares):.2f} % of training (median); {len(h)} samples, "
              f"{h.points_per_epoch} an epoch; load average {os.getloadavg()[0]:.1f}", flush=True)
    np.seterr(all="ignore")


if __name__ == "__main__":
    main()
