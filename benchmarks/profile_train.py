"""Where a training step's time goes: each layer's forward and backward, the loss, the optimizer, and the
data-parallel split's own overhead, per batch (medians over many batches).

    python benchmarks/profile_train.py                       # the models of bench_train.py, batch 64
    python benchmarks/profile_train.py --models lenet --threads 1

Timings wrap each layer's ``forward``/``backward`` of one model (the main thread's shard when the batch is split,
so the table reads as the work of one core); "split overhead" is the whole step's wall time minus the main
shard's layers, loss and optimizer (thread hand-over, waiting for the other shard, combining the gradients). For a
benchmark run unset the machine's OpenBLAS safety variables, as for bench_train.py.
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_train import BATCH, SPEED_RUNS, batches_for, spec_for  # noqa: E402

from mnist_studio.nn import Model, make_loss, make_optimizer  # noqa: E402
from mnist_studio.nn.blas import single_threaded_blas  # noqa: E402
from mnist_studio.nn.parallel import DataParallelStep, shard_count  # noqa: E402

CLOCK = time.perf_counter


def instrument(model: Model, times: dict) -> None:
    """Wrap every layer's forward/backward of ``model`` to add its seconds to ``times[label]`` (a fused pair's under
    its first layer: "forward_fused")."""
    for i, layer in enumerate(model.layers):
        label = f"{i} {layer.short_name()}"
        for kind in ("forward", "backward", "forward_fused", "backward_fused"):
            fn = getattr(layer, kind, None)
            if fn is None:  # (older code, without fused passes: for before/after runs)
                continue

            def timed(*a, _fn=fn, _key=(label, kind), **kw):
                t = CLOCK()
                out = _fn(*a, **kw)
                times[_key] += CLOCK() - t
                return out

            setattr(layer, kind, timed)


def profile(preset: str, optimizer: str, lr: float, batches: int, threads: int | None) -> None:
    model = Model(spec_for(preset), seed=0)
    loss = make_loss("cross_entropy")
    opt = make_optimizer(optimizer, lr)
    params = [p for _, p, _ in model.named_params()]
    grads = [g for _, _, g in model.named_params()]
    shards = shard_count(model, BATCH, threads)
    parallel = DataParallelStep(model, loss, cores=shards) if shards > 1 else None
    xs, ys = batches_for(batches)
    times: dict = collections.defaultdict(float)
    instrument(model, times)
    orig_loss = loss.__call__

    def timed_loss(*a):
        t = CLOCK()
        out = orig_loss(*a)
        times[("loss", "")] += CLOCK() - t
        return out

    loss_wrapper = type("L", (), {"takes_logits": loss.takes_logits, "name": loss.name,
                                  "__call__": lambda self, *a: timed_loss(*a)})()
    if parallel is not None:
        parallel.loss = loss_wrapper
        parallel._losses[0] = loss_wrapper

    def step(x, y):
        t0 = CLOCK()
        if parallel is not None:
            parallel(model.prepare(x), y)
        else:
            with (single_threaded_blas() if threads == 1 else _null()):
                model.loss_and_grads(model.prepare(x), y, loss_wrapper)
        t1 = CLOCK()
        opt.step(params, grads)
        t2 = CLOCK()
        times[("optimizer", opt.name)] += t2 - t1
        times[("step", "")] += t2 - t0

    for x, y in zip(xs, ys):  # warm-up
        step(x, y)
    passes = []
    for _ in range(3):
        times.clear()
        for x, y in zip(xs, ys):
            step(x, y)
        passes.append({k: v / len(xs) * 1e3 for k, v in times.items()})
    med = {k: statistics.median(p.get(k, 0.0) for p in passes) for k in passes[0]}
    total = med.pop(("step", ""))
    accounted = sum(med.values())
    rows = sorted(med.items(), key=lambda kv: -kv[1])
    print(f"\n{preset} {optimizer}, batch {BATCH}, {shards} shard(s): {total:.3f} ms/batch")
    print(f"| {'part':<28} | ms/batch | share |")
    print(f"| {'-' * 28} | -------- | ----- |")
    for (label, kind), ms in rows:
        print(f"| {(label + ' ' + kind).strip():<28} | {ms:8.3f} | {ms / total:5.1%} |")
    rest = total - accounted
    name = "split overhead + other shard" if parallel is not None else "other (Python, prepare)"
    print(f"| {name:<28} | {rest:8.3f} | {rest / total:5.1%} |")
    if parallel is not None:
        parallel.close()


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", nargs="+")
    ap.add_argument("--threads", type=int, default=None, help="shards (default: the usable cores)")
    ap.add_argument("--batches", type=int, default=0)
    ap.add_argument("--cpu", action="store_true", help="time the main thread's CPU time, not wall time (steadier on "
                    "a busy machine; meaningful with --threads 1 only)")
    args = ap.parse_args()
    if args.cpu:
        global CLOCK
        CLOCK = time.thread_time
    for preset, opt, lr, batches in SPEED_RUNS:
        if args.models and preset not in args.models:
            continue
        profile(preset, opt, lr, args.batches or batches, args.threads)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
