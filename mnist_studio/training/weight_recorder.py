"""Taking a run's :class:`~mnist_studio.training.weight_history.WeightHistory` while it trains: a trainer callback.

After the batches that fall on the history's grid (``points_per_epoch`` an epoch, every epoch end among them) it
counts every trainable array's weights and gradient magnitudes (the gradients of that batch, still in the model's
buffers after the optimizer's step) and the dead ReLU units on a fixed probe batch (one forward pass in evaluation
mode, up to the last ReLU). It runs in the training thread, between two batches, like every callback.

Two time budgets hold its cost. The histograms (``budget``, 1 % of the training time): it measures what they take
against the batches between two samples, and when they cost more it halves the grid (the history keeps every other
sample so far), so a big network is simply sampled less often; for LeNet they take about 0.02 of a batch's time, so
the grid stays at 16 an epoch. The probe's forward pass costs far more (128 images through LeNet: about two thirds of
a training batch), so the dead units are counted at a sample only when their own budget (``dead_budget``, 0.5 %)
allows, and at the start and every epoch end; a sample without them records -1 (the curve has fewer points). The studio's weights view
then reuses the latest count instead of running its own probe (``gui/training/worker.py``).
"""

from __future__ import annotations

import math
import time
from typing import Callable

import numpy as np

from mnist_studio.nn.model import Model
from mnist_studio.training.events import BatchEnd, Callback, FitBegin
from mnist_studio.training.weight_history import (GRAD_BINS, MAX_SAMPLES, POINTS_PER_EPOCH, DeadTrack, Track,
                                                  WeightHistory, dead_share, grad_counts, largest_magnitude,
                                                  nice_ceiling, weight_counts)

BUDGET = 0.01  # share of the training time the histograms may take
DEAD_BUDGET = 0.005  # share for counting the dead units (a forward pass of the probe batch)


def default_label(model: Model, index: int) -> str:
    return f"{index + 1} · {model.layers[index].type_name()}"


def _norm(a: np.ndarray) -> float:
    v = a.reshape(-1)
    return math.sqrt(float(np.dot(v, v))) if v.size else 0.0


class WeightHistoryRecorder(Callback):
    """Samples ``model`` (the trainer's) into :attr:`history`. ``probe``: the images the dead units are counted on
    (None or empty: not counted). ``label(model, i)`` names layer ``i`` (the studio passes its own naming).
    ``budget=None`` never thins for time (the tests' exact grid); ``dead_budget=None`` counts the dead units at
    every sample."""

    def __init__(self, model: Model, probe: np.ndarray | None = None,
                 label: Callable[[Model, int], str] = default_label, points_per_epoch: int = POINTS_PER_EPOCH,
                 max_samples: int = MAX_SAMPLES, budget: float | None = BUDGET,
                 dead_budget: float | None = DEAD_BUDGET) -> None:
        self.model = model
        self.probe = probe if probe is not None and len(probe) else None
        self.label = label
        self.max_samples = max(4, max_samples)
        self.budget = budget
        self.dead_budget = dead_budget
        self._dead_due = 0.0  # perf_counter time from which the dead units may be counted again
        self.history = WeightHistory(points_per_epoch=points_per_epoch,
                                     probe_images=0 if self.probe is None else len(self.probe))
        self.next_j = 0  # the next point of the grid: epoch next_j / points_per_epoch
        self._per_epoch = 1  # batches an epoch now
        self.seconds = 0.0  # spent sampling (histograms and dead units), over the run
        self._fit_cost = 0.0  # this fit's: histogram seconds and samples, training seconds and batches
        self._fit_samples = 0
        self._fit_time = 0.0
        self._fit_batches = 0
        self._last: float | None = None
        self._relus: list[int] = []

    # -- callbacks -----------------------------------------------------------------------------------------------
    def on_fit_begin(self, e: FitBegin) -> None:
        h = self.history
        if not h.tracks:  # the run's first fit
            h.batches_per_epoch = max(1, e.batches_per_epoch)
            while h.points_per_epoch > 1 and h.points_per_epoch > h.batches_per_epoch:
                h.points_per_epoch //= 2
            self._make_tracks()
            if e.start_step == 0:
                self._take(0, 0.0, 0)
                self.next_j = 1
        self._per_epoch = max(1, e.batches_per_epoch)
        self._fit_cost = self._fit_time = 0.0
        self._fit_samples = self._fit_batches = 0
        self._last = time.perf_counter()

    def on_batch_end(self, e: BatchEnd) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self._fit_time += now - self._last
            self._fit_batches += 1
        self._per_epoch = max(1, e.batches_per_epoch)
        h = self.history
        while h.points_per_epoch > self._per_epoch:  # a larger batch size: fewer batches than points an epoch
            h.halve()
            self.next_j = (self.next_j + 1) // 2
        if e.epoch * h.points_per_epoch >= self.next_j - 1e-9:
            j = int(e.epoch * h.points_per_epoch + 1e-9)  # the grid point reached (a batch may pass several)
            dead_cost = self._take(e.step, e.epoch, j)
            cost = time.perf_counter() - now
            self.seconds += cost
            self._fit_cost += cost - dead_cost
            self._fit_samples += 1
            if len(h) > self.max_samples or self._over_budget():
                h.halve()
            self.next_j = int(e.epoch * h.points_per_epoch + 1e-9) + 1
        self._last = time.perf_counter()

    # -- sampling ------------------------------------------------------------------------------------------------
    def _over_budget(self) -> bool:
        """A sample costs more than ``budget`` of the batches between two samples (this fit's averages, from its
        second sample on: the first batches warm up)."""
        h = self.history
        if self.budget is None or self._fit_samples < 2 or h.points_per_epoch <= 1 or not self._fit_batches:
            return False
        per_sample = self._fit_cost / self._fit_samples
        between = self._fit_time / self._fit_batches * self._per_epoch / h.points_per_epoch
        return per_sample > self.budget * between

    def _make_tracks(self) -> None:
        m, h = self.model, self.history
        for i, layer in enumerate(m.layers):
            for name, p in layer.params.items():
                h.tracks.append(Track(i, name, self.label(m, i), int(p.size), nice_ceiling(largest_magnitude(p))))
        self._relus = [i for i, layer in enumerate(m.layers) if layer.counts_dead_units]
        if self.probe is not None:
            h.dead = [DeadTrack(i, self.label(m, i), 0) for i in self._relus]

    def _take(self, step: int, epoch: float, j: int) -> float:
        """Sample ``j`` of the grid, after ``step`` steps at ``epoch`` (step 0: the initial weights, no gradient
        yet); returns the seconds the dead units took."""
        h, layers = self.history, self.model.layers
        for t in h.tracks:
            layer = layers[t.layer]
            w = layer.params[t.param]
            while largest_magnitude(w) > t.limit:
                t.grow()
            t.weights.append(weight_counts(w, t.limit))
            t.weight_norm.append(_norm(w))
            g = layer.grads.get(t.param) if step > 0 else None
            t.grads.append(grad_counts(g) if g is not None else np.zeros(GRAD_BINS, np.int64))
            t.grad_norm.append(_norm(g) if g is not None else 0.0)
        t0 = time.perf_counter()
        epoch_end = j % h.points_per_epoch == 0  # (and the start): the curve always reaches the epoch's end
        due = self.dead_budget is None or epoch_end or t0 >= self._dead_due
        counted = self.dead_units() if h.dead and due else []
        for d, (dead, units) in zip(h.dead, counted or [(-1, d.units) for d in h.dead]):
            d.units = units
            d.dead.append(dead)
        h.steps.append(int(step))
        h.epoch_at.append(float(epoch))
        h.grid.append(int(j))
        cost = time.perf_counter() - t0
        if counted and self.dead_budget:
            self._dead_due = t0 + cost / self.dead_budget
        return cost

    def dead_units(self) -> list[tuple[int, int]]:
        """(dead, units) of every ReLU layer on the probe batch: the forward pass stops at the last of them."""
        if self.probe is None or not self._relus:
            return []
        m = self.model
        x = m.prepare(self.probe)
        out = []
        for i, layer in enumerate(m.layers[: self._relus[-1] + 1]):
            x = layer.forward(x, training=False)
            if i in self._relus:
                out.append(dead_share(x))
        return out
