"""Training speed of the NumPy engine, side by side with PyTorch in the same process.

    python benchmarks/bench_train.py                 # speed: mlp-512-256 (SGD, Adam), lenet (Adam), tutorial-cnn
                                                     # (SGD) and bn-cnn (Adam), batch 64
    python benchmarks/bench_train.py --models lenet bn-cnn --rounds 3   # some of them
    python benchmarks/bench_train.py --accuracy      # accuracy targets (full epochs; about 3 minutes)
    python benchmarks/bench_train.py --inference     # evaluating the 10,000 test images with lenet: time, peak memory
    python benchmarks/bench_train.py --threads 1 2 --models lenet   # the same models on 1 and on 2 cores
    python benchmarks/bench_train.py --cores 1 --models lenet   # both sides on one core (steadier when busy)

For a fair run unset the machine's OpenBLAS safety settings in that command only, e.g.
``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_train.py``; the BLAS kernel in use is
printed. Ours and PyTorch's steps are timed in alternating rounds on the same real MNIST batches, each round in a
fresh process per runtime (see ``speed``), and the median of the rounds' ratios is reported, so a noisy neighbour
affects both sides alike. The ratio is our time per batch divided by
PyTorch's (below 1: we are faster). Achieved GFLOP/s counts the multiply-adds of the matmuls and convolutions
(forward, weight gradient, and input gradient except for the first weighted layer) against the rate of a plain
1024×1024 float32 matmul measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

from mnist_studio.data import load_mnist, make_splits, to_float
from mnist_studio.nn import Model, load_preset, make_loss, make_optimizer
from mnist_studio.nn.parallel import DataParallelStep, shard_count
from mnist_studio.training import TrainConfig, Trainer, evaluate

BATCH = 64
# The BatchNorm CNN of issue 14 (not a preset): Conv 32 3×3 same - BN - ReLU - MaxPool 2 - Conv 64 3×3 same - BN -
# ReLU - MaxPool 2 - Flatten - Dense 10.
BN_CNN = {"name": "bn-cnn", "input_shape": [28, 28, 1], "layers": [
    {"type": "Conv2D", "filters": 32, "kernel_size": 3, "padding": "same"}, {"type": "BatchNorm"}, {"type": "ReLU"},
    {"type": "MaxPool2D", "pool_size": 2},
    {"type": "Conv2D", "filters": 64, "kernel_size": 3, "padding": "same"}, {"type": "BatchNorm"}, {"type": "ReLU"},
    {"type": "MaxPool2D", "pool_size": 2}, {"type": "Flatten"}, {"type": "Dense", "units": 10}]}
# (model, optimizer, learning rate, batches per timing round)
SPEED_RUNS = (("mlp-512-256", "sgd", 0.01, 200), ("mlp-512-256", "adam", 0.001, 200), ("lenet", "adam", 0.001, 30),
              ("tutorial-cnn", "sgd", 0.05, 100), ("bn-cnn", "adam", 0.001, 30))


def spec_for(name: str) -> dict:
    return BN_CNN if name == "bn-cnn" else load_preset(name)


def blas_info() -> str:
    try:
        from threadpoolctl import threadpool_info

        return "; ".join(f"{i['internal_api']} {i.get('version', '')} kernel={i.get('architecture', '?')} "
                         f"threads={i['num_threads']}" for i in threadpool_info() if i["user_api"] == "blas")
    except ImportError:
        return "threadpoolctl not installed (pip install threadpoolctl to see the BLAS kernel)"


def matmul_gflops(reps: int = 20) -> float:
    a = np.random.default_rng(0).random((1024, 1024), dtype=np.float32)
    a @ a
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        a @ a
        times.append(time.perf_counter() - t)
    return 2 * 1024 ** 3 / statistics.median(times) / 1e9


class Ours:
    def __init__(self, preset: str, optimizer: str, lr: float):
        self.model = Model(spec_for(preset), seed=0)
        self.loss = make_loss("cross_entropy")
        self.opt = make_optimizer(optimizer, lr)
        self.params = [p for _, p, _ in self.model.named_params()]
        self.grads = [g for _, _, g in self.model.named_params()]
        # the same step the Trainer takes: split over the usable cores when the model allows it
        self.shards = shard_count(self.model, BATCH)
        self.parallel = DataParallelStep(self.model, self.loss) if self.shards > 1 else None

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        if self.parallel is not None:
            loss, _ = self.parallel(self.model.prepare(x), y)
        else:
            loss, _ = self.model.loss_and_grads(self.model.prepare(x), y, self.loss)
        self.opt.step(self.params, self.grads)
        return loss


class Torch:
    def __init__(self, preset: str, optimizer: str, lr: float):
        import torch
        from torch import nn

        torch.manual_seed(0)
        torch.set_num_threads(len(os.sched_getaffinity(0)))  # its default, but also under an affinity mask (--cores)
        if preset == "lenet":
            self.net = nn.Sequential(nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                                     nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                     nn.Linear(3136, 128), nn.ReLU(), nn.Dropout(0.25), nn.Linear(128, 10))
        elif preset == "tutorial-cnn":  # our Softmax is fused into the loss, as CrossEntropyLoss does
            self.net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.AvgPool2d(2), nn.ReLU(), nn.Flatten(),
                                     nn.Linear(4 * 13 * 13, 10))
        elif preset == "bn-cnn":
            self.net = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                                     nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
                                     nn.Flatten(), nn.Linear(3136, 10))
        else:
            self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                                     nn.Linear(256, 10))
        self.torch = torch
        self.loss = nn.CrossEntropyLoss()
        self.opt = (torch.optim.Adam(self.net.parameters(), lr) if optimizer == "adam"
                    else torch.optim.SGD(self.net.parameters(), lr))

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        xt = self.torch.from_numpy(x.reshape(-1, 1, 28, 28))
        yt = self.torch.from_numpy(y.astype(np.int64))
        self.opt.zero_grad()
        loss = self.loss(self.net(xt), yt)
        loss.backward()
        self.opt.step()
        return loss.item()


CLOCK = time.perf_counter  # --cpu: the process's CPU time (with --cores 1, the work alone, not the waits for a core)


def time_batches(runner, xs, ys) -> float:
    t = CLOCK()
    for x, y in zip(xs, ys):
        runner.step(x, y)
    return (CLOCK() - t) / len(xs)


def batches_for(batches: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    ds = load_mnist()
    idx = np.random.default_rng(0).permutation(len(ds.train_images))[: batches * BATCH]
    xs = [to_float(ds.train_images[idx[i * BATCH:(i + 1) * BATCH]]) for i in range(batches)]
    ys = [ds.train_labels[idx[i * BATCH:(i + 1) * BATCH]] for i in range(batches)]
    return xs, ys


def worker(runtime: str, preset: str, optimizer: str, lr: float, batches: int) -> dict:
    """One timing in this process: warm up, then time ``batches`` real MNIST batches (median of three passes)."""
    if preset == "inference":
        return inference_worker(runtime, optimizer)
    xs, ys = batches_for(batches)
    runner = Ours(preset, optimizer, lr) if runtime == "ours" else Torch(preset, optimizer, lr)
    time_batches(runner, xs, ys)  # warm-up: allocations, thread pools, page mappings settle over dozens of batches
    per_batch = statistics.median(time_batches(runner, xs, ys) for _ in range(3))
    out = {"ms_per_batch": per_batch * 1e3}
    if runtime == "ours":
        out["shards"] = runner.shards
        out["flops_per_batch"] = runner.model.train_flops_per_sample() * BATCH
    return out


INFERENCE_CHUNK = 500  # images per forward pass on both sides (our evaluate()'s default)


def inference_worker(runtime: str, preset: str) -> dict:
    """Evaluate the 10,000 test images once to warm up, then three times; median time and the process's peak
    resident memory (the test set, the model and the passes; measured in this fresh process)."""
    ds = load_mnist()
    images, labels = ds.test_images, ds.test_labels
    if runtime == "ours":
        model = Model(spec_for(preset), seed=0)

        def run():
            return evaluate(model, images, labels).predictions
    else:
        import torch

        runner = Torch(preset, "sgd", 0.01)
        net = runner.net.eval()

        def run():
            x = torch.from_numpy(to_float(images).reshape(-1, 1, 28, 28))
            out = []
            with torch.no_grad():
                for s in range(0, len(x), INFERENCE_CHUNK):
                    out.append(torch.softmax(net(x[s:s + INFERENCE_CHUNK]), dim=1).argmax(dim=1))
            return torch.cat(out).numpy()
    run()
    times = []
    for _ in range(3):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    return {"seconds": statistics.median(times), "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_worker(runtime: str, preset: str, optimizer: str, lr: float, batches: int,
               threads: int | None = None) -> dict | None:
    cmd = [sys.executable, __file__, "--worker", runtime, preset, optimizer, str(lr), str(batches)]
    if CLOCK is time.process_time:
        cmd.append("--cpu")
    if threads is not None:  # the cores this run may use: an affinity mask for the worker process
        cmd = ["taskset", "-c", ",".join(str(c) for c in sorted(os.sched_getaffinity(0))[:threads])] + cmd
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        if runtime == "torch" and "No module named 'torch'" in r.stderr:
            return None
        raise RuntimeError(r.stderr)
    return json.loads(r.stdout.strip().splitlines()[-1])


def inference(preset: str, rounds: int) -> dict:
    """Evaluating the test set, ours and PyTorch's in alternating rounds (fresh processes); median ratio."""
    ours, theirs, ratios = [], [], []
    for _ in range(rounds):
        a = run_worker("ours", "inference", preset, 0, 0)
        ours.append(a)
        b = run_worker("torch", "inference", preset, 0, 0)
        if b is not None:
            theirs.append(b)
            ratios.append(a["seconds"] / b["seconds"])
    out = {"preset": preset, "images": 10000, "seconds": round(statistics.median(r["seconds"] for r in ours), 3),
           "peak_mb": round(max(r["peak_mb"] for r in ours), 1)}
    if theirs:
        out.update(torch_seconds=round(statistics.median(r["seconds"] for r in theirs), 3),
                   torch_peak_mb=round(max(r["peak_mb"] for r in theirs), 1),
                   ratio_ours_over_torch=round(statistics.median(ratios), 3),
                   ratio_range=[round(min(ratios), 3), round(max(ratios), 3)])
    return out


def scaling(preset: str, optimizer: str, lr: float, batches: int, rounds: int, threads: list[int]) -> dict:
    """Our step on 1, 2, ... cores (the worker's affinity mask limits it; shard count and BLAS follow), rounds
    alternating between the core counts; median ms per batch for each."""
    times: dict[int, list[float]] = {t: [] for t in threads}
    for _ in range(rounds):
        for t in threads:
            times[t].append(run_worker("ours", preset, optimizer, lr, batches, threads=t)["ms_per_batch"])
    return {"preset": preset, "optimizer": optimizer,
            "ms_per_batch": {t: round(statistics.median(v), 3) for t, v in times.items()}}


def speed(preset: str, optimizer: str, lr: float, batches: int, rounds: int, peak: float,
          cores: int | None = None) -> dict:
    """Alternate rounds of ours and PyTorch, each in a fresh process of its own.

    Separate processes, because two runtimes in one process disturb each other: the thread pool of whichever ran
    last keeps spinning for a while and steals the cores from the other (measured here: our MLP step 1.3 ms before
    PyTorch's first step in the process, 2.0 ms after it). Alternating rounds still give both the same machine."""
    ours_t, torch_t, ratios, info = [], [], [], {}
    for _ in range(rounds):
        a = run_worker("ours", preset, optimizer, lr, batches, threads=cores)
        info = a
        ours_t.append(a["ms_per_batch"])
        b = run_worker("torch", preset, optimizer, lr, batches, threads=cores)
        if b is not None:
            torch_t.append(b["ms_per_batch"])
            ratios.append(a["ms_per_batch"] / b["ms_per_batch"])
    per_batch = statistics.median(ours_t) / 1e3
    out = {
        "preset": preset, "optimizer": optimizer, "batch_size": BATCH, "batches_per_round": batches,
        "rounds": rounds, "ms_per_batch": round(per_batch * 1e3, 3),
        "samples_per_second": round(BATCH / per_batch, 1),
        "epoch_seconds_55k": round(per_batch * 55000 / BATCH, 2),
        "gflops": round(info["flops_per_batch"] / per_batch / 1e9, 1), "matmul_peak_gflops": round(peak, 1),
        "shards": info["shards"],
    }
    if torch_t:
        out["torch_ms_per_batch"] = round(statistics.median(torch_t), 3)
        out["ratio_ours_over_torch"] = round(statistics.median(ratios), 3)
        out["ratio_range"] = [round(min(ratios), 3), round(max(ratios), 3)]
    return out


def accuracy(preset: str, epochs: int, optimizer: str | None, lr: float | None, schedule: str | None) -> dict:
    spec = load_preset(preset)
    config = TrainConfig.for_spec(spec, epochs=epochs, optimizer=optimizer, lr=lr, schedule=schedule)
    model = Model(spec, seed=config.seed)
    ds = load_mnist()
    splits = make_splits(ds, val_size=config.val_size)
    trainer = Trainer(model, splits, config)
    trainer.fit()
    ev = evaluate(model, splits.test_x, splits.test_y)
    return {"preset": preset, "epochs": epochs, "optimizer": config.optimizer, "lr": config.lr,
            "schedule": config.schedule,
            "test_accuracy": round(ev.accuracy, 4), "train_seconds": round(trainer.train_seconds, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--accuracy", action="store_true", help="check the accuracy targets instead of speed")
    ap.add_argument("--batches", type=int, default=0, help="batches per timing round (default per model)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--models", nargs="+", metavar="MODEL", help="time only these (of "
                    + ", ".join(dict.fromkeys(r[0] for r in SPEED_RUNS)) + ")")
    ap.add_argument("--inference", action="store_true", help="time evaluating the 10,000 test images (lenet)")
    ap.add_argument("--threads", type=int, nargs="+", metavar="N",
                    help="time our step on these core counts (an affinity mask per run), no PyTorch")
    ap.add_argument("--cores", type=int, metavar="N", help="both sides on N cores (an affinity mask per run; "
                    "PyTorch's threads follow it): with 1, a steadier comparison on a busy machine")
    ap.add_argument("--cpu", action="store_true", help="time CPU seconds of the process, not wall time (with "
                    "--cores 1: steady on a busy machine; with more cores it counts every thread's work and spinning)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--worker", nargs=5, metavar=("RUNTIME", "PRESET", "OPTIMIZER", "LR", "BATCHES"),
                    help=argparse.SUPPRESS)  # internal: one timing in a fresh process
    args = ap.parse_args()
    if args.cpu:
        global CLOCK
        CLOCK = time.process_time
    if args.worker:
        runtime, preset, opt, lr, batches = args.worker
        print(json.dumps(worker(runtime, preset, opt, float(lr), int(batches))))
        return
    print(f"BLAS: {blas_info()}")
    results = []
    if args.inference:
        r = inference("lenet", args.rounds)
        line = f"lenet, evaluating 10,000 test images: {r['seconds']:.2f} s, peak {r['peak_mb']:.0f} MB"
        if "ratio_ours_over_torch" in r:
            line += (f" | PyTorch {r['torch_seconds']:.2f} s, peak {r['torch_peak_mb']:.0f} MB → ours/PyTorch = "
                     f"{r['ratio_ours_over_torch']:.2f}x (rounds {r['ratio_range'][0]:.2f}-{r['ratio_range'][1]:.2f})")
        print(line)
        results.append(r)
    elif args.threads:
        for preset, opt, lr, batches in SPEED_RUNS:
            if args.models and preset not in args.models:
                continue
            r = scaling(preset, opt, lr, args.batches or batches, args.rounds, args.threads)
            ms = r["ms_per_batch"]
            base = ms[args.threads[0]]
            print(f"{preset:<12} {opt:<4} " + ", ".join(f"{t} core(s) {v:.2f} ms/batch ({base / v:.2f}x)"
                                                           for t, v in ms.items()))
            results.append(r)
    elif args.accuracy:
        # lenet and tutorial-cnn with their presets' own settings; the MLP with Adam and a cosine schedule
        for preset, epochs, opt, lr, sched in (("mlp-512-256", 5, "adam", 0.001, "cosine"),
                                               ("lenet", 3, None, None, None), ("tutorial-cnn", 1, None, None, None)):
            r = accuracy(preset, epochs, opt, lr, sched)
            print(f"{r['preset']:<14} {r['epochs']} epoch(s) {r['optimizer']} lr {r['lr']:g} {r['schedule']}: "
                  f"test accuracy {r['test_accuracy']:.2%} ({r['train_seconds']} s)")
            results.append(r)
    else:
        peak = matmul_gflops()
        print(f"1024×1024 float32 matmul: {peak:.1f} GFLOP/s")
        for preset, opt, lr, batches in SPEED_RUNS:
            if args.models and preset not in args.models:
                continue
            r = speed(preset, opt, lr, args.batches or batches, args.rounds, peak, args.cores)
            threads = f" ({r['shards']} threads)" if r["shards"] > 1 else ""
            line = (f"{preset:<12} batch {BATCH} {opt:<4}{threads}: "
                    f"{r['ms_per_batch']:7.2f} ms/batch, "
                    f"{r['samples_per_second']:8.0f} samples/s, epoch ≈ {r['epoch_seconds_55k']:.1f} s, "
                    f"{r['gflops']:.0f} GFLOP/s ({r['gflops'] / peak:.0%} of matmul)")
            if "ratio_ours_over_torch" in r:
                line += (f" | PyTorch {r['torch_ms_per_batch']:.2f} ms/batch → ours/PyTorch = "
                         f"{r['ratio_ours_over_torch']:.2f}x (rounds {r['ratio_range'][0]:.2f}-{r['ratio_range'][1]:.2f})")
            else:
                line += " | PyTorch not installed: pip install torch==2.13.0 to compare"
            print(line)
            results.append(r)
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
