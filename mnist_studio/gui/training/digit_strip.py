"""The live test strip's controller (issue 13, item 1): which digits, whose predictions, and which ones flash.

The digits are chosen by the core (:func:`~mnist_studio.training.teststrip.choose_strip`) for the session's dataset.
During a run the training worker reads them with the weight snapshots (at most once a second, and within a small
share of the training time: on a loaded machine less often) and hands the probabilities over with the snapshot;
otherwise — a model opened, weights changed while idle — they are read here, through the core, on the GUI thread
(24 images: a few milliseconds for lenet). A digit read wrong at the last update
and right at this one flashes; a new model (or run) starts without flashes.
"""

from __future__ import annotations

import numpy as np

from mnist_studio.data.datasets import to_float
from mnist_studio.gui.training.digit_strip_view import DigitStripView
from mnist_studio.nn.blas import single_threaded_blas
from mnist_studio.training.teststrip import StripPredictions, choose_strip, newly_right, strip_probabilities


class DigitStrip(DigitStripView):
    def __init__(self, session, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.setToolTip("Test digits read by the network as it trains: per class the clearest and the hardest (by "
                        "distance to the class means), green when right, red when wrong; a digit that has just "
                        "become right flashes. Updated with the weight snapshots (at most once a second).")
        self.last: StripPredictions | None = None
        self.digitClicked.connect(self._inspect)
        session.datasetChanged.connect(lambda _ds: self.choose())
        self.choose()

    def choose(self) -> None:
        ds = self.session.dataset
        idx = choose_strip(ds.test_images, ds.test_labels, ds.train_images, ds.train_labels)
        self.set_digits(to_float(ds.test_images[idx]), np.asarray(ds.test_labels[idx], np.int64), idx)
        self.last = None

    def reset(self) -> None:
        """A new model or run: no flashes for the first update."""
        self.last = None
        self.show_predictions(None)

    def show_probabilities(self, probabilities: np.ndarray | None) -> None:
        """The network's probabilities for the strip's digits (from the worker, or :meth:`predict_with`)."""
        if probabilities is None or len(probabilities) != len(self.labels):
            return
        p = StripPredictions(np.asarray(probabilities), self.labels)
        flipped = newly_right(self.last, p)
        self.last = p
        self.show_predictions(p, flipped)

    def predict_with(self, model) -> None:
        if model is None:
            self.reset()
            return
        try:
            with single_threaded_blas():
                probs = strip_probabilities(model, self.images)
        except ValueError:  # a model for other images (another input shape): nothing to show
            self.reset()
            return
        self.show_probabilities(probs)

    def _inspect(self, i: int) -> None:
        self.session.inspect(self.images[i], f"test digit #{int(self.indices[i]):,} (a {int(self.labels[i])}), "
                                             f"from the test strip")
