"""The "What would make it a 3?" dock's controller (issue 13, item 5): when to compute, and the animation.

The steps run in the background (:class:`~mnist_studio.gui.background.BackgroundRunner`) on a copy of the
session's model, from the Draw tab's current drawing (``session.drawing``) toward the chosen class. They are redone
when the class changes, when Show me is pressed, and — while the dock is visible — a moment after the drawing or
the weights stop changing (a newer request replaces an older one; only the latest answer is shown). When the
result arrives it plays once as an animation (about 1.5 s) and rests on the final image.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QTimer

from mnist_studio.gui.background import BackgroundRunner
from mnist_studio.gui.inside.counterfactual_view import CounterfactualView
from mnist_studio.training.counterfactual import Counterfactual, counterfactual

KIND = "counterfactual"
SETTLE_MS = 300  # wait this long after the last change of the drawing before recomputing
FRAME_MS = 50  # animation: one frame every 50 ms
MAX_FRAMES = 30  # ... and at most this many frames (long paths skip steps)


class CounterfactualPanel(CounterfactualView):
    def __init__(self, session, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.runner = BackgroundRunner("counterfactualThread", self)
        self.runner.finished.connect(lambda _k, result: self._on_result(result))
        self.runner.failed.connect(lambda _k, msg: self.status.setText(f"Could not compute it: {msg}"))
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._auto)
        self._play = QTimer(self)
        self._play.setInterval(FRAME_MS)
        self._play.timeout.connect(self._next_frame)
        self._frames: list[int] = []
        self._dirty = True
        self.go_button.clicked.connect(self.compute)
        self.target.currentIndexChanged.connect(lambda _i: self.compute())
        session.drawingChanged.connect(lambda _img: self._changed())
        session.modelChanged.connect(lambda _m: self._changed())
        session.weightsUpdated.connect(lambda _m: self._changed(training=session.state != "idle"))

    def _changed(self, training: bool = False) -> None:
        self._dirty = True
        if not training and self.isVisible():  # (during training the weights change every second: Show me redoes it)
            self._settle.start()

    def _auto(self) -> None:
        if self._dirty and self.isVisible():
            self.compute()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._dirty:
            self._settle.start()

    def compute(self) -> None:
        image, model = self.session.drawing, self.session.model
        if model is None or image is None:
            self.runner.cancel()
            self._play.stop()
            self.show_result(None)
            self.status.setText("No model yet: train one or open a model file." if model is None
                                else "Draw a digit in the Draw tab: this panel shows what would change its answer.")
            return
        self._dirty = False
        target = int(self.target.currentData())
        model = model.copy()  # the background thread's own: the steps overwrite its gradient buffers
        image = np.array(image, np.float32)
        self.status.setText(f"Looking for the changes that make it a {target}…")
        self.runner.submit(KIND, lambda stop, _report: counterfactual(model, image, target, stop=stop))

    def _on_result(self, result: Counterfactual) -> None:
        start, end = float(result.probability[0]), float(result.probability[-1])
        half, most = result.steps_to(0.5), result.steps_to(0.9)
        if half == 0:
            reached = "it already was at least 50 %"
        elif half is None:
            reached = f"not even 50 % after {result.steps} steps"
        else:
            reached = f"{half} steps to reach 50 %" + (f", {most} to reach 90 %" if most is not None else "")
        self.status.setText(f"p({result.target}) from {start:.0%} to {end:.0%} in {result.steps} steps: {reached}.")
        self.show_result(result)
        n = result.steps + 1
        self._frames = sorted(set(np.linspace(0, n - 1, min(n, MAX_FRAMES)).round().astype(int).tolist()))
        if len(self._frames) > 1:
            self.slider.setValue(0)
            self._play.start()

    def _next_frame(self) -> None:
        if not self._frames or self.result is None:
            self._play.stop()
            return
        self.slider.setValue(self._frames.pop(0))
        if not self._frames:
            self._play.stop()

    def shutdown(self) -> None:
        self._play.stop()
        self._settle.stop()
        self.runner.shutdown()
