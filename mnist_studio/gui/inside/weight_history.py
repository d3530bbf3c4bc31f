"""The weight-history tab's controller (issue 13 item 2, after TensorBoard's histograms): per trainable array, its
weights or its gradient magnitudes as a heatmap over training time, and the dead-ReLU share below.

What it shows comes from the session: the running run's history with each weight snapshot
(``session.weightHistory``, a copy the training worker makes at most once a second), a run's record when it ends
(``runRecorded``) or when it is the one run selected in the Runs panel while nothing trains (``runChosen``). It
redraws at most once a second, and only while visible (a hidden tab catches up when shown); every number it draws
comes from :mod:`mnist_studio.studio.history_heatmap`.
"""

from __future__ import annotations

import time

from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QWidget

from mnist_studio.gui.inside.weight_history_view import WeightHistoryView
from mnist_studio.studio.history_heatmap import dead_curves, describe, heatmap, track_names
from mnist_studio.training.weight_history import WeightHistory

REDRAW_INTERVAL = 1.0  # seconds between two redraws while a run trains
EMPTY = ("No weight history to show yet.\n\nStart training (the history is taken as the network learns), or select "
         "a run in the Runs panel.")


class WeightHistoryPanel(WeightHistoryView):
    def __init__(self, session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.history: WeightHistory | None = None
        self.run_name = ""
        self.live = False
        self.draws = 0  # redraws done (tests and the benchmark count them)
        self._dirty = False
        self._last_draw = 0.0
        self._names: list[str] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.redraw)
        session.weightHistory.connect(self._on_live)
        session.runRecorded.connect(self._on_record)
        session.runChosen.connect(self._on_chosen)
        session.modelChanged.connect(self._on_model)
        self.layer.currentIndexChanged.connect(lambda _i: self.redraw())
        self.kind.currentIndexChanged.connect(lambda _i: self.redraw())
        self.plot.scene().sigMouseMoved.connect(self._on_mouse)
        self.show_empty(EMPTY)

    # -- what to show ------------------------------------------------------------------------------------------------
    def _on_live(self, history: WeightHistory, name: str) -> None:
        self.set_history(history, name, live=True)

    def _on_record(self, record) -> None:
        self.set_history(record.weight_history, record.name, live=False)

    def _on_chosen(self, record) -> None:
        if self.session.state == "idle":  # while a run trains, its live history stays in view
            self.set_history(record.weight_history, record.name, live=False)

    def _on_model(self, model) -> None:
        if model is not None and self.session.model_source == "training":  # a new run: its history starts over
            self.set_history(None, "", live=True)

    def set_history(self, history: WeightHistory | None, name: str, live: bool) -> None:
        self.history, self.run_name, self.live = history, name, live
        if not self.isVisible():
            self._dirty = True
            return
        wait = self._last_draw + REDRAW_INTERVAL - time.monotonic()
        if live and wait > 0:  # throttled: at most one redraw a second while training
            if not self._timer.isActive():
                self._timer.start(int(wait * 1000) + 1)
            return
        self.redraw()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self._dirty:
            self.redraw()

    # -- drawing -------------------------------------------------------------------------------------------------------
    def _fill_layers(self, h: WeightHistory) -> None:
        names = track_names(h)
        if names == self._names:
            return
        current = self.layer.currentText()
        self.layer.blockSignals(True)
        self.layer.clear()
        self.layer.addItems(names)
        self.layer.setCurrentIndex(names.index(current) if current in names else 0)
        self.layer.blockSignals(False)
        self._names = names

    def redraw(self) -> None:
        self._timer.stop()
        self._dirty = False
        self._last_draw = time.monotonic()
        self.draws += 1
        h = self.history
        if h is None or not len(h) or not h.tracks:
            text = (f"{self.run_name}: the first sample comes after the first batches…" if self.live and self.run_name
                    else "This run has no weight history (it was trained before the studio kept one)."
                    if self.run_name and not self.live else EMPTY)
            self.show_empty(text)
            self.source.setText(self.run_name)
            return
        self._fill_layers(h)
        track = max(0, self.layer.currentIndex())
        hm = heatmap(h, track, self.kind.currentData())
        self.show_heatmap(hm)
        state = "live" if self.live else "saved"
        self.source.setText(f"{self.run_name} · {state} · {len(h)} samples to epoch {h.epochs()[-1]:.3g} "
                            f"({h.points_per_epoch} an epoch)")
        self.source.setToolTip(self.source.text())
        curves = dead_curves(h)
        if curves:
            note = f"A unit is dead when it gives 0 for all {h.probe_images} probe images (validation digits)."
        else:
            note = "No dead-unit curve: this network has no ReLU layer." if h.probe_images else ""
        self.show_dead(curves, note)

    def _on_mouse(self, pos) -> None:
        hm = self.shown
        if hm is None or self.history is None:
            return
        p = self.plot.getViewBox().mapSceneToView(pos)
        text = describe(self.history, max(0, self.layer.currentIndex()), self.kind.currentData(), hm, p.x(), p.y())
        self.readout.setText(text or " ")

    def shutdown(self) -> None:
        self._timer.stop()
