"""Make docs/screenshot.png: the studio while it trains, driven as a user would drive it.

Trains the ``lenet`` preset on 8,000 images for 3 epochs with SGD + momentum, ticks that run in the runs list so
it is overlaid, starts a second run with Adam (lr 0.001), lowers its learning rate by hand part-way, and grabs
the screen part-way through the third epoch. ``--preset mlp-512-256`` shows the 28×28 weight tiles instead (the
second run then adds a little weight decay, which clears the never-used border pixels from the tiles).
Run it on a display, e.g. a virtual one:

    ../shared/tools/screenshot.sh /tmp/shot.png 240 -- .venv/bin/python docs/screenshot.py docs/screenshot.png
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

os.environ.setdefault("XDG_DATA_HOME", tempfile.mkdtemp(prefix="shot-data-"))  # a clean runs list
os.environ.setdefault("XDG_CONFIG_HOME", tempfile.mkdtemp(prefix="shot-config-"))

from PyQt6.QtCore import Qt, QTimer  # noqa: E402
from PyQt6.QtWidgets import QTreeWidget  # noqa: E402

from mnist_studio.gui.app import make_app  # noqa: E402
from mnist_studio.gui.main_window import MainWindow  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?", default="docs/screenshot.png")
    ap.add_argument("--preset", default="lenet")
    ap.add_argument("--limit", type=int, default=8000, help="training images per epoch (0: all)")
    args = ap.parse_args()

    app = make_app()
    win = MainWindow()
    screen = app.primaryScreen().availableGeometry()
    win.resize(min(1600, screen.width()), min(1000, screen.height()))
    win.move(screen.topLeft())
    win.show()
    win.open_initial(preset=args.preset)
    panel, c, session = win.training_panel, win.training_panel.controls, win.session
    mlp = panel.weights.layer_combo.count() and "Conv" not in panel.weights.layer_combo.itemText(0)
    state = {"run": 0, "lr_changed": False, "shot": False}

    def first_run() -> None:
        c.limit.setValue(args.limit)
        c.val_size.setValue(2000)
        c.epochs.setValue(3)
        c.optimizer.setCurrentIndex(c.optimizer.findData("momentum"))
        c.lr.setValue(0.01)
        c.start_button.click()

    def on_record(rec) -> None:
        state["run"] += 1
        if state["run"] == 1:
            runs = win.findChild(QTreeWidget, "runList")
            if runs is not None and runs.topLevelItemCount():
                runs.topLevelItem(0).setCheckState(0, Qt.CheckState.Checked)
            c.optimizer.setCurrentIndex(c.optimizer.findData("adam"))
            c.lr.setValue(0.001)
            if mlp:
                c.weight_decay.setValue(1e-4)
            c.seed.setValue(1)
            QTimer.singleShot(300, c.start_button.click)

    def watch() -> None:
        n = panel.plots.point_count()
        x = panel.plots.epoch.view()[-1] if n else 0.0
        if state["run"] == 1 and panel.state == "running":
            if x > 1.3 and not state["lr_changed"]:
                state["lr_changed"] = True
                c.lr.setValue(0.0003)
            if x > 2.45 and not state["shot"]:
                state["shot"] = True
                QTimer.singleShot(150, shoot)

    def shoot() -> None:
        pix = app.primaryScreen().grabWindow(0, 0, 0, win.width(), win.height())
        if pix.isNull() or pix.width() < 100:
            pix = win.grab()
        pix.save(args.out)
        from PIL import Image  # 256 colours: the README picture stays small (~160 KB instead of ~500 KB)

        Image.open(args.out).convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT,
                                                     dither=Image.Dither.NONE).save(args.out, optimize=True)
        print(f"saved {args.out} ({pix.width()}×{pix.height()})", flush=True)

    session.runRecorded.connect(on_record)
    timer = QTimer()
    timer.timeout.connect(watch)
    timer.start(50)
    QTimer.singleShot(800, first_run)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
