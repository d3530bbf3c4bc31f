"""Progress of the current run: the batch within the epoch, the whole run, samples per second and time left."""

from __future__ import annotations

import time

from PyQt6.QtWidgets import QGridLayout, QLabel, QProgressBar, QWidget

from mnist_studio.training import BatchEnd, FitBegin

UPDATE_INTERVAL = 0.5  # seconds between two updates while training (each repaints the bars and relays the dock)


def format_duration(seconds: float) -> str:
    """``75`` → ``1:15``; ``3725`` → ``1:02:05``."""
    s = max(0, int(round(seconds)))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ProgressView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.epoch_bar = QProgressBar()
        self.epoch_bar.setObjectName("epochProgress")
        self.overall_bar = QProgressBar()
        self.overall_bar.setObjectName("overallProgress")
        for bar in (self.epoch_bar, self.overall_bar):
            bar.setTextVisible(True)
            bar.setMaximumHeight(18)
        self.rate_label = QLabel()
        self.rate_label.setObjectName("rateLabel")
        lay = QGridLayout(self)
        lay.setContentsMargins(0, 4, 0, 4)
        lay.setVerticalSpacing(3)
        lay.addWidget(QLabel("Epoch"), 0, 0)
        lay.addWidget(self.epoch_bar, 0, 1)
        lay.addWidget(QLabel("Run"), 1, 0)
        lay.addWidget(self.overall_bar, 1, 1)
        lay.addWidget(self.rate_label, 2, 0, 1, 2)
        self._total_steps = 1
        self._per_epoch = 1
        self._epochs_total = 0
        self._images_per_step = 1.0
        self._epoch_start = 0  # the step the epoch in progress started at
        self._rate = 0.0
        self._t0 = time.perf_counter()
        self._shown = 0.0
        self.reset()

    def reset(self) -> None:
        self.epoch_bar.setRange(0, 1)
        self.epoch_bar.setValue(0)
        self.epoch_bar.setFormat("no run yet")
        self.overall_bar.setRange(0, 1)
        self.overall_bar.setValue(0)
        self.overall_bar.setFormat("")
        self.rate_label.setText("Press Start to train.")

    def begin(self, e: FitBegin, start_step: int, batch_size: int) -> None:
        """A fit starts at ``start_step`` and trains up to ``e.end_step`` (possibly mid-epoch: a run stopped at
        epoch 0.08 continues to 1.08); both bars count the run's steps (recounted when a batch-size change made
        an epoch's steps another number)."""
        per = max(e.batches_per_epoch, 1)
        self._per_epoch = per
        self._start_step = start_step
        self._epoch_start = start_step - start_step % per
        self._total_steps = max(e.end_step, start_step, 1)
        self._epochs_total = -(-self._total_steps // per)
        self._images_per_step = e.train_size / per if e.train_size else float(batch_size)
        self._rate = 0.0
        self._t0 = time.perf_counter()
        done = start_step % per
        self.epoch_bar.setRange(0, per)
        self.epoch_bar.setValue(done)
        self.epoch_bar.setFormat(f"epoch {start_step // per + 1}/{self._epochs_total} · batch {done:,}/{per:,}")
        self.overall_bar.setRange(0, self._total_steps)
        self.overall_bar.setValue(start_step)
        ends = self._total_steps / per
        self.overall_bar.setFormat(f"%p% of {ends:.4g} epoch{'s' if ends != 1 else ''}")
        self.rate_label.setText(f"{e.train_size:,} training images, {e.val_size:,} for validation")

    def update(self, e: BatchEnd) -> None:
        """Show the newest batch; at most twice a second (each change repaints the bars), except an epoch's last
        batch."""
        self._epoch_start = e.step - e.batch
        if e.batches_per_epoch != self._per_epoch:  # a batch-size change: the epochs left have another step count
            old, new = max(self._per_epoch, 1), max(e.batches_per_epoch, 1)
            left = max(self._total_steps - self._epoch_start, 0)
            self._total_steps = self._epoch_start + (left * new * 2 + old) // (2 * old)
            self._images_per_step *= old / new
            self._per_epoch = new
            self.overall_bar.setRange(0, self._total_steps)
        now = time.perf_counter()
        if now - self._shown < UPDATE_INTERVAL and e.batch != e.batches_per_epoch:
            return
        self._shown = now
        epoch_no = min(int(e.epoch - 1e-9) + 1, self._epochs_total)
        # QProgressBar.setValue repaints at once (synchronously): with updates off, the bars are repainted with
        # the rest of the window in the next paint instead
        for bar in (self.epoch_bar, self.overall_bar):
            bar.setUpdatesEnabled(False)
        try:
            if self.epoch_bar.maximum() != e.batches_per_epoch:
                self.epoch_bar.setRange(0, e.batches_per_epoch)
            self.epoch_bar.setValue(e.batch)
            self.epoch_bar.setFormat(f"epoch {epoch_no}/{self._epochs_total} · batch {e.batch:,}/"
                                     f"{e.batches_per_epoch:,}")
            self.overall_bar.setValue(min(e.step, self._total_steps))
        finally:
            for bar in (self.epoch_bar, self.overall_bar):
                bar.setUpdatesEnabled(True)
        rate = e.samples_per_second
        self._rate = rate if self._rate == 0 else 0.7 * self._rate + 0.3 * rate
        left = max(self._total_steps - e.step, 0) * self._images_per_step / max(self._rate, 1e-9)
        elapsed = time.perf_counter() - self._t0
        self.rate_label.setText(f"{self._rate:,.0f} images/s · ETA {format_duration(left)} · "
                                f"elapsed {format_duration(elapsed)}")

    def finish(self, status: str, seconds: float, step: int | None = None, epoch: float | None = None) -> None:
        """The fit ended at ``step``, ``epoch`` (the bars show where, also mid-epoch)."""
        if step is not None:
            per = max(self._per_epoch, 1)
            done = step - self._epoch_start
            self.epoch_bar.setValue(done if 0 < done <= per else step % per if step % per or step == 0 else per)
            self.overall_bar.setValue(min(step, self._total_steps))
        elif status == "finished":
            self.epoch_bar.setValue(self.epoch_bar.maximum())
            self.overall_bar.setValue(self.overall_bar.maximum())
        at = epoch if epoch is not None else (step or 0) / max(self._per_epoch, 1)
        self.epoch_bar.setFormat(f"{status} at epoch {at:.4g}" if step else status)
        self.rate_label.setText(f"{status} after {format_duration(seconds)} of training")
