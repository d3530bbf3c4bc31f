"""How many steps "What would make it a 3?" usually takes (issue 13, item 5): the numbers in the README and in the
panel's help text.

From the first ``--digits`` test digits the model reads correctly, toward each of the 9 other classes, with the
panel's settings; prints the median (and quartiles) of the steps to reach 50 % and 90 % for the chosen class, and
how many never reached them. All paths run as one vectorised batch.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/counterfactual_steps.py --model M.npz
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from mnist_studio.data.datasets import load_mnist, to_float
from mnist_studio.nn.modelfile import load_model
from mnist_studio.training.counterfactual import STEPS, counterfactuals, first_reaching


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--digits", type=int, default=100)
    ap.add_argument("--steps", type=int, default=STEPS)
    args = ap.parse_args()
    model = load_model(args.model).model
    ds = load_mnist()
    images = to_float(ds.test_images[:args.digits * 2])
    right = np.flatnonzero(model.predict(images) == ds.test_labels[:len(images)])[:args.digits]
    images, labels = images[right], ds.test_labels[right]
    starts = np.repeat(images, 9, axis=0)
    targets = np.array([t for y in labels for t in range(10) if t != y])
    t0 = time.perf_counter()
    chunks = []
    for s in range(0, len(starts), 90):  # 10 digits' paths at a time; a summary so far after each (to stderr)
        chunks.append(_padded(model, starts[s:s + 90], targets[s:s + 90], args.steps))
        print(json.dumps(summary(np.concatenate(chunks, axis=1), args.steps, time.perf_counter() - t0)),
              file=sys.stderr, flush=True)
    print(json.dumps(summary(np.concatenate(chunks, axis=1), args.steps, time.perf_counter() - t0)))


def summary(probs: np.ndarray, steps: int, seconds: float) -> dict:
    out = {"paths": probs.shape[1], "steps": steps, "seconds": round(seconds, 1)}
    for level in (0.5, 0.9):
        reach = first_reaching(probs, level)
        got = np.array([r for r in reach if r is not None])
        out[f"median_steps_to_{int(level * 100)}"] = float(np.median(got)) if got.size else None
        out[f"quartiles_to_{int(level * 100)}"] = [float(q) for q in np.percentile(got, [25, 75])] if got.size else None
        out[f"never_{int(level * 100)}"] = int(len(reach) - got.size)
    return out


def _padded(model, images, targets, steps) -> np.ndarray:
    """Probabilities (steps + 1, N), rows after an early stop repeated (the paths stop once all reach 90 %)."""
    _, p = counterfactuals(model, images, targets, steps=steps, keep_frames=False, until=0.9)
    return np.concatenate([p, np.repeat(p[-1:], steps + 1 - len(p), axis=0)]) if len(p) < steps + 1 else p


if __name__ == "__main__":
    main()
