"""The gradient-check dock's controller (issue 13, item 7): checks the current architecture layer by layer.

In the background (:class:`~mnist_studio.gui.background.BackgroundRunner`): every layer of the designer's
architecture checked on its own by :func:`~mnist_studio.nn.gradcheck.check_layers` (each layer's rows appear as it
is done), then the loss, then one batch of test digits timed both ways (:func:`~mnist_studio.nn.gradcheck.
time_gradients`, on a copy of the session's model when it has that architecture). It runs when Check is pressed, and
by itself when the dock is shown and its results are for another architecture, unless a training run is going (it
would take a core from it).
"""

from __future__ import annotations

import numpy as np

from mnist_studio.data.datasets import to_float
from mnist_studio.gui.background import BackgroundRunner
from mnist_studio.gui.inside.gradcheck_view import SHORT, GradCheckView, timing_note
from mnist_studio.nn.gradcheck import GradCheckResult, LayerCheck, check_layers, check_loss, time_gradients
from mnist_studio.nn.model import Model
from mnist_studio.nn.spec import SpecError, normalise, validate

KIND = "gradcheck"
TIMING_BATCH = 64


class GradCheckPanel(GradCheckView):
    def __init__(self, session, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.runner = BackgroundRunner("gradCheckThread", self)
        self.runner.progress.connect(lambda _k, value: self._on_progress(value))
        self.runner.finished.connect(lambda _k, timing: self._on_finished(timing))
        self.runner.failed.connect(lambda _k, msg: self._done(f"The check could not run: {msg}"))
        self.run_button.clicked.connect(self.run)
        self.stop_button.clicked.connect(self.stop)
        self.checked_spec = None  # the architecture the table is for
        self.failures = 0
        self.status.setText("Checks each layer's backward pass against numerical gradients.")
        session.specChanged.connect(lambda _s: self._maybe_run())

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._maybe_run()

    def _maybe_run(self) -> None:
        spec = self.session.spec
        if (self.isVisible() and spec is not None and self.session.state == "idle" and not self.runner.busy()
                and _key(spec) is not None and self.checked_spec != _key(spec)):
            self.run()

    def run(self) -> None:
        spec = self.session.spec
        if spec is None:
            self.status.setText("No architecture yet.")
            return
        try:
            validate(spec)
        except SpecError as e:
            self.status.setText(f"The architecture has an error, nothing to check: {e}")
            return
        self.checked_spec = _key(spec)
        self.clear_rows()
        self.note.setText(SHORT)
        self.failures = 0
        shown = self.session.model
        model = shown.copy() if shown is not None and _key(shown.spec) == self.checked_spec else Model(spec, seed=0)
        ds = self.session.dataset
        x = to_float(ds.test_images[:TIMING_BATCH]).reshape(TIMING_BATCH, -1)
        labels = np.array(ds.test_labels[:TIMING_BATCH], np.int64)
        loss = str(spec.get("training", {}).get("loss", "cross_entropy"))

        def work(stop, report):
            for check in check_layers(spec, between=stop.check):
                report(check)
            stop.check()
            report(check_loss(loss))
            stop.check()
            return time_gradients(model, x, labels, loss)

        self.run_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.status.setText(f"Checking {spec.get('name') or 'the architecture'} layer by layer…")
        self.runner.submit(KIND, work)

    def stop(self) -> None:
        self.runner.cancel(KIND)
        self.checked_spec = None
        self._done("Stopped.")

    def _on_progress(self, value) -> None:
        if isinstance(value, LayerCheck):
            self.add_layer(value)
            self.failures += sum(not r.ok for r in value.results)
            self.status.setText(f"Checked layer {value.title}… (timing backprop against numerical gradients next)")
        elif isinstance(value, GradCheckResult):
            self.add_title("loss")
            self.add_row("loss", value)
            self.failures += not value.ok

    def _on_finished(self, timing) -> None:
        arrays = len(self.results())
        verdict = (f"all {arrays} gradients match" if not self.failures else
                   f"<b style='color:#b3261e'>{self.failures} of {arrays} FAILED</b>")
        self._done(f"{self.session.spec.get('name') or 'architecture'}: {verdict}.")
        self.note.setText(timing_note(timing, self.session.spec.get("name") or "this network"))

    def _done(self, message: str) -> None:
        self.status.setText(message)
        self.run_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def shutdown(self) -> None:
        self.runner.shutdown()


def _key(spec: dict) -> str | None:
    """An architecture's identity for "already checked" (its layers and input, not its name or training); None for
    an invalid one."""
    try:
        n = normalise(spec)
    except SpecError:
        return None
    return repr((n.get("input_shape"), n.get("layers"), n.get("init")))
