"""Does the studio window cost training speed, and does it stay responsive while training?

Trains the ``lenet`` preset (batch 64) for a fixed number of batches twice over, alternating:
  * headless: a Trainer called directly, exactly as ``mnist-studio train`` does;
  * in the GUI: the full main window (offscreen), Start clicked, the real worker thread, plots, progress bars
    and weights view updating as they would for a user.
Throughput is images per second of training (``trainer.samples_seen / trainer.train_seconds``) in both; the
reported ratio is the median over the rounds of GUI / headless (each round one run of each, order alternating). During the
GUI runs a 10 ms QTimer probe records how late each tick fires: the event loop's latency, reported as p50/p99/max.

Targets (issue 3): GUI throughput ≥ 90 % of headless; event-loop latency p99 < 50 ms.

    .venv/bin/python benchmarks/bench_gui.py [--batches 400] [--rounds 6] [--preset lenet] [--json]

400 batches (about half of a LeNet epoch) by default: a run's start costs the window a few hundred milliseconds once
(every panel takes the new model), which in a 60-batch run (2-3 s of training) is a tenth of the time and in an
epoch is 1-2 %; the throughput a student feels is the epoch's. Short runs (``--batches 60``) show that start cost.

The machine is shared: run it when nothing else is busy, and read the numbers as indications, not guarantees.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("XDG_DATA_HOME", tempfile.mkdtemp(prefix="bench-gui-data-"))  # keep runs out of the user's list
os.environ.setdefault("XDG_CONFIG_HOME", tempfile.mkdtemp(prefix="bench-gui-config-"))

import numpy as np  # noqa: E402

from mnist_studio.data.datasets import load_mnist  # noqa: E402
from mnist_studio.data.splits import make_splits  # noqa: E402
from mnist_studio.nn.model import Model  # noqa: E402
from mnist_studio.nn.spec import load_preset  # noqa: E402
from mnist_studio.training import TrainConfig, Trainer  # noqa: E402

PROBE_MS = 10


def config_for(spec: dict, batches: int, batch_size: int) -> TrainConfig:
    # no validation set: both sides then time exactly the same work, batches only
    return TrainConfig.for_spec(spec, batch_size=batch_size, epochs=1, limit=batches * batch_size, val_size=0)


def headless(spec: dict, config: TrainConfig) -> float:
    ds = load_mnist()
    splits = make_splits(ds, val_size=config.val_size, limit=config.limit)
    trainer = Trainer(Model(spec, seed=config.seed, init=config.init), splits, config)
    trainer.fit()
    return trainer.samples_seen / trainer.train_seconds


def in_gui(window, app, spec: dict, config: TrainConfig) -> tuple[float, list[float], int]:
    """One run through the window; returns (images/s, probe lateness in ms, GUI batch packets received)."""
    from PyQt6.QtCore import QElapsedTimer, QEventLoop, QTimer

    panel = window.training_panel
    window.session.set_spec(spec)
    panel.controls.set_config(config)
    done: list = []
    window.session.runRecorded.connect(done.append)

    lateness: list[float] = []
    clock = QElapsedTimer()
    last = [0]
    timer = QTimer()
    timer.setInterval(PROBE_MS)

    def tick() -> None:
        now = clock.nsecsElapsed()
        if last[0] and panel.state in ("running", "starting"):
            lateness.append(max(0.0, (now - last[0]) / 1e6 - PROBE_MS))
        last[0] = now

    timer.timeout.connect(tick)
    clock.start()
    timer.start()
    loop = QEventLoop()  # a real event loop, as in the app (a processEvents/sleep loop would churn the GIL)
    window.session.runRecorded.connect(loop.quit)
    QTimer.singleShot(600_000, loop.quit)
    panel.controls.start_button.click()
    loop.exec()
    window.session.runRecorded.disconnect(loop.quit)
    timer.stop()
    window.session.runRecorded.disconnect(done.append)
    if not done:
        raise SystemExit("the GUI run did not finish in 10 minutes")
    trainer = panel.worker.trainer  # read once the run is over (its worker idles)
    return trainer.samples_seen / trainer.train_seconds, lateness, panel.packets


def settle(window, app) -> None:
    """Before the next measurement, stop what the end of a GUI run sets off in the background (the Evaluate tab
    tests the new model on the 10,000 test images in its own thread, time travel each new checkpoint), so each measurement has the machine to
    itself; then give that thread half a second to leave its current chunk."""
    from PyQt6.QtCore import QEventLoop, QTimer

    for panel in ("evaluate_panel", "time_travel"):  # time travel reads each new checkpoint once a run ends
        runner = getattr(getattr(window, panel, None), "runner", None)
        if runner is not None:
            runner.cancel()
    loop = QEventLoop()
    QTimer.singleShot(500, loop.quit)
    loop.exec()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="lenet")
    ap.add_argument("--batches", type=int, default=400)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    from mnist_studio.gui.app import make_app
    from mnist_studio.gui.main_window import MainWindow

    app = make_app()
    window = MainWindow()
    window.resize(1500, 940)
    window.show()
    window.open_initial(preset=args.preset)
    app.processEvents()
    spec = load_preset(args.preset)
    config = config_for(spec, args.batches, args.batch_size)

    head, gui, late, packets, ratios = [], [], [], [], []
    try:
        for r in range(args.rounds):
            # alternate the order (H G, G H, ...) so a drift in the machine's load hits both sides alike
            for side in (("headless", "gui") if r % 2 == 0 else ("gui", "headless")):
                if side == "headless":
                    head.append(headless(spec, config))
                else:
                    rate, lat, n = in_gui(window, app, spec, config)
                    settle(window, app)
                    gui.append(rate)
                    late.extend(lat)
                    packets.append(n)
            ratios.append(gui[-1] / head[-1])
            print(f"round {r + 1}: headless {head[-1]:7.1f} img/s · GUI {gui[-1]:7.1f} img/s · ratio "
                  f"{ratios[-1]:.3f} · {len(lat)} probe ticks, {n} batch packets", file=sys.stderr)
    finally:
        window.close()
    # the median of the rounds' ratios: each round pairs two neighbouring runs, so slow drifts in the machine's
    # load cancel, and one disturbed round does not decide
    ratio = statistics.median(ratios)
    lat = np.asarray(late) if late else np.zeros(1)
    result = {
        "preset": args.preset, "batch_size": args.batch_size, "batches": args.batches, "rounds": args.rounds,
        "headless_images_per_s": round(statistics.median(head), 1),
        "gui_images_per_s": round(statistics.median(gui), 1),
        "throughput_ratio": round(ratio, 3),
        "latency_ms_p50": round(float(np.percentile(lat, 50)), 2),
        "latency_ms_p99": round(float(np.percentile(lat, 99)), 2),
        "latency_ms_max": round(float(lat.max()), 2),
        "probe_ticks": int(lat.size),
        "throughput_ok": ratio >= 0.90,
        "latency_ok": float(np.percentile(lat, 99)) < 50,
    }
    print(f"{args.preset}, batch {args.batch_size}, {args.batches} batches × {args.rounds} rounds")
    print(f"  throughput  (median runs) headless {result['headless_images_per_s']:.1f} img/s, GUI {result['gui_images_per_s']:.1f} "
          f"img/s; median ratio of the rounds {ratio:.3f} ({'ok' if result['throughput_ok'] else 'BELOW'} target 0.90)")
    print(f"  event loop  lateness of a {PROBE_MS} ms timer: p50 {result['latency_ms_p50']:.1f} ms, "
          f"p99 {result['latency_ms_p99']:.1f} ms, max {result['latency_ms_max']:.1f} ms "
          f"({'ok' if result['latency_ok'] else 'ABOVE'} target p99 < 50 ms)")
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
