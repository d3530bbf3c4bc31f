"""The training panel's controller: it owns the worker thread and wires the controls, plots and weights view to it
and to the session.

States: ``idle`` → Start → ``starting`` (fit queued) → ``running`` ⇄ ``paused`` → (finish, stop or divergence)
→ ``idle``; Stop passes through ``stopping`` until the worker confirms. The session hears "running", "paused"
or "idle". Each Start makes a new worker in a new thread for the new run (the previous run's worker is closed);
"+1 epoch" asks the same worker for one more fit. Every fit gets its own stop token. A fit ends with a
:class:`RunRecord` handed to the session (the runs list picks it up); "+1 epoch" hands an updated record with the
same id.
"""

from __future__ import annotations

import copy
import json

import numpy as np
from PyQt6.QtCore import QCoreApplication, QEvent, QObject, QThread, QTimer

from mnist_studio.data.datasets import to_float
from mnist_studio.gui.session import StudioSession
from mnist_studio.gui.training import notices, shown_model
from mnist_studio.gui.training.knobs import LIVE_STATES, LiveKnobs
from mnist_studio.gui.training.progress import format_duration
from mnist_studio.gui.training.tab_layout import build_training_tab
from mnist_studio.gui.training.worker import (BatchPacket, RunFinished, RunStarted, Snapshot, TrainingWorker,
                                              TrainJob)
from mnist_studio.nn.model import Model
from mnist_studio.nn.spec import analyse, same_layers
from mnist_studio.training import EpochEnd, SetLearningRate, SettingChanged, StopToken, TrainConfig
from mnist_studio.studio.weights import DEAD_PROBE_IMAGES
from mnist_studio.training.replay import ReplayPlan

SESSION_STATE = {"idle": "idle", "starting": "running", "running": "running", "paused": "paused",
                 "stopping": "running"}
PREVIEW_DELAY_MS = 150


def _training_key(spec: dict | None) -> str:
    return json.dumps((spec or {}).get("training") or {}, sort_keys=True)


class TrainingPanel(QObject):
    def __init__(self, session: StudioSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.state = "idle"
        self.stop_token = StopToken()  # the current (or last) fit's
        self.thread: QThread | None = None  # the current (or last) run's thread, alive until the next run
        self.worker: TrainingWorker | None = None  # the current (or last) run's worker; it owns the trainer
        self.packets = 0  # batch packets received in this run (the benchmark reports it)
        self._closed = False
        self._actions: dict = {}

        build_training_tab(self, session)  # controls, plots, strip, weights, banners and the tab holding them

        self._job: TrainJob | None = None  # the run in progress or the last run
        self._gui_model: Model | None = None  # the GUI-thread copy we gave the session
        self._latest_view: tuple = (None, None)  # the run's last (weight stats, strip reading), for back to latest
        self._can_continue = False
        self._applied_training: str | None = None
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self._show_preview)

        c = self.controls
        c.startRequested.connect(self.start)
        c.pauseRequested.connect(self.toggle_pause)
        c.stopRequested.connect(self.stop)
        c.moreRequested.connect(self.one_more_epoch)
        c.lrEdited.connect(self._on_lr_edited)
        self.knobs = LiveKnobs(c, self.plots, session.status, send=lambda command: self.worker.send(command),
                               is_live=lambda: self.state in LIVE_STATES and self.worker is not None,
                               spec=lambda: self._job.spec if self._job is not None else None)
        session.specChanged.connect(self._on_spec)
        session.modelChanged.connect(self._on_model)
        session.weightsUpdated.connect(self._on_weights_updated)
        session.overlaysChanged.connect(self.plots.set_overlays)
        session.trainRequested.connect(self.train)
        self._set_state("idle")
        if session.spec is not None:
            self._on_spec(session.spec)

    # -- user actions ----------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start a new run from the session's architecture and the controls' settings."""
        if self.state != "idle":
            return
        spec = self.session.spec
        reason = self._spec_problem(spec)
        if reason:
            self.banner.show_message(f"Cannot train: {reason}", "error")
            return
        try:
            config = self.controls.config()
        except ValueError as e:
            self.banner.show_message(f"Cannot train: {e}", "error")
            return
        self._start_job(spec, config)

    def train(self, spec: dict, config: TrainConfig, plan: ReplayPlan | None = None) -> None:
        """session.trainRequested: show this architecture and these settings, then start (e.g. re-running a past
        run from the runs list: ``plan`` replays its fits and live changes)."""
        if self.state != "idle":
            self.banner.show_message("A run is in progress: stop it before starting another.", "warning")
            return
        if spec != self.session.spec:
            self.session.set_spec(copy.deepcopy(spec))
        self._applied_training = _training_key(spec)
        self.controls.set_config(config)
        reason = self._spec_problem(spec)
        if reason:
            self.banner.show_message(f"Cannot train: {reason}", "error")
            return
        self._start_job(spec, config, plan)

    def toggle_pause(self) -> None:
        if self.state in ("starting", "running"):
            self.stop_token.pause()
            self._set_state("paused")
            self.session.status.emit("Paused: the run waits after the current batch; press Resume to go on.")
        elif self.state == "paused":
            self.stop_token.resume()
            self._set_state("running")

    def stop(self) -> None:
        if self.state in ("starting", "running", "paused"):
            self.stop_token.stop()
            self._set_state("stopping")
            self.session.status.emit("Stopping after the current batch…")

    def one_more_epoch(self) -> None:
        """Continue the last run for one epoch, with its weights and optimizer state (in the same worker)."""
        if self.state != "idle" or not self._can_continue or self.worker is None:
            return
        self.banner.hide()
        self._set_state("starting")
        self._fit(1)

    def close_question(self) -> str | None:
        """What closing the window now would interrupt, as a question; None when no run is under way."""
        if self.state == "idle" or self._closed or self._job is None:
            return None
        return (f"{self._job.name} is still training. Close anyway? The run stops now and is kept in the "
                "runs list as stopped, with its weights and curves so far.")

    def shutdown(self) -> None:
        """Stop the run and the thread (the window is closing). Returns within a batch or an evaluation chunk;
        a run that ends here is still recorded (its queued result is delivered before returning)."""
        if self._closed:
            return
        self._closed = True
        self._preview_timer.stop()
        self.stop_token.stop()
        self._close_worker()
        # deliver the worker's queued last signals (the run's record) now: PyQt's slot proxies, not this object,
        # receive them, hence every pending queued call rather than this object's events
        QCoreApplication.sendPostedEvents(None, QEvent.Type.MetaCall.value)

    # -- helpers ---------------------------------------------------------------------------------------------------
    @staticmethod
    def _spec_problem(spec: dict | None) -> str | None:
        if spec is None:
            return "no architecture yet"
        try:
            a = analyse(spec)
        except Exception as e:  # a spec so broken that the analysis itself fails
            return str(e)
        if a.error is not None:
            return str(a.error)
        return None

    def _start_job(self, spec: dict, config: TrainConfig, plan: ReplayPlan | None = None) -> None:
        spec = copy.deepcopy(spec)
        job = TrainJob(spec, config, self.session.dataset, self.session.new_run_name(spec.get("name") or "custom"),
                       strip=self.strip.images.copy())
        self._job = job
        self._can_continue = False
        self.banner.hide()
        self.plots.clear(config.epochs)
        self._set_state("starting")
        self.session.status.emit(f"Starting {job.name}…")
        self._close_worker()
        worker = TrainingWorker(job)
        thread = QThread()
        thread.setObjectName("trainingThread")
        worker.moveToThread(thread)
        worker.started.connect(self._on_started)
        worker.batches.connect(self._on_batches)
        worker.epochEnded.connect(self._on_epoch)
        worker.settingChanged.connect(self._on_setting_changed)
        worker.snapshot.connect(self._on_snapshot)
        worker.checkpointsKept.connect(self._on_checkpoints)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        self.worker, self.thread = worker, thread
        thread.start()
        self._fit(None, plan)

    def _fit(self, epochs: int | None, plan: ReplayPlan | None = None) -> None:
        """Ask the run's worker for a fit (``None``: the run's first; ``plan``: a replay), with a stop token of its
        own."""
        self.stop_token = StopToken()
        self.packets = 0
        self.worker.fit(epochs, self.stop_token, plan)

    def _close_worker(self) -> None:
        """End the last run's thread (idle, or finishing a fit that was stopped) and wait for it."""
        if self.worker is not None and self.thread is not None and self.thread.isRunning():
            self.worker.close()
            self.thread.wait()

    def _update_notice(self) -> None:
        """Say what Start and "+1 epoch" do when the model the views show is not a fresh run of the designer's
        network: a finished run of another architecture (loaded a preset after training), or an opened file
        (Start trains from scratch; its weights are not continued)."""
        model, spec, job = self.session.model, self.session.spec, self._job
        designer = (spec or {}).get("name")
        text, tip = "", notices.MORE_TIP
        if model is not None and model is self._gui_model and job is not None:
            if self._can_continue:
                old = job.spec.get("name") or "custom"
                tip = notices.more_tip(job.name, old, job.config.schedule)
                changed = spec is not None and not same_layers(job.spec, spec)
                text = notices.continued_run(job.name, old, designer, changed)
        elif model is not None and self.session.moment is not None:
            text = notices.at_checkpoint(self.session.model_info.name)
        elif model is not None and self.session.model_source not in ("", "training"):
            text = notices.opened_model(self.session.model_name(), designer, same_layers(model.spec, spec))
        self.controls.more_button.setToolTip(tip)
        if text and self.state == "idle":
            self.notice.show_message(text, "info")
        else:
            self.notice.hide()

    def _set_state(self, state: str) -> None:
        self.state = state
        self._update_notice()
        self.controls.set_state(state, self._can_continue)
        session_state = SESSION_STATE[state]
        if self.session.state != session_state:
            self.session.set_state(session_state)
        for action, button in self._actions.items():
            action.setEnabled(button.isEnabled())
            action.setText(button.text().replace("▶", "").replace("■", "").strip())

    def bind_actions(self, actions: dict) -> None:
        """Menu actions mirror the buttons' enabled state and text: {QAction: QPushButton}."""
        self._actions = actions
        self._set_state(self.state)

    def _probe_images(self) -> np.ndarray:
        return to_float(self.session.dataset.test_images[:DEAD_PROBE_IMAGES])

    # -- session → panel -------------------------------------------------------------------------------------------
    def _on_spec(self, spec: dict | None) -> None:
        reason = self._spec_problem(spec)
        self.controls.set_blocked(reason)
        self._update_notice()
        if spec is None:
            return
        self.controls.set_default_init_name(str(spec.get("init", "he")))
        key = _training_key(spec)
        if key != self._applied_training and self.state == "idle":
            # a new preset or file: its suggested hyperparameters (a layer edit keeps the user's settings)
            self._applied_training = key
            try:
                self.controls.set_config(TrainConfig.for_spec(spec))
            except (ValueError, TypeError) as e:
                self.session.status.emit(f"The architecture's training settings were ignored: {e}")
        if self.session.model is None:
            self._preview_timer.start()

    def _show_preview(self) -> None:
        """No trained model yet: show the initial weights the current architecture would start from."""
        spec = self.session.spec
        if self.session.model is not None:
            return
        if spec is None or self._spec_problem(spec):
            self.weights.set_model(None, "")
            return
        seed = self.controls.seed.value()
        try:
            model = Model(spec, seed=seed, init=self.controls.init.currentData())
        except Exception as e:  # the analysis passed but building failed: say so, never crash
            self.weights.set_model(None, f"cannot build the architecture: {e}")
            return
        self.weights.set_model(model, f"untrained {spec.get('name') or 'network'}: initial weights (seed {seed})")

    def _on_model(self, model: Model | None) -> None:
        self._update_notice()
        if model is None:
            self._preview_timer.start()
            return
        shown_model.show(self, model)

    def _on_weights_updated(self, model: Model) -> None:
        self.weights.refresh(model)
        if self.state == "idle":  # weights changed outside a run; during one the snapshots carry the strip
            self.strip.predict_with(model)

    # -- worker → panel ---------------------------------------------------------------------------------------------
    def _on_started(self, rs: RunStarted) -> None:
        if self.state == "starting":
            self._set_state("running")
        begin = rs.begin
        # the x axis is in epochs of steps: a run stopped at 0.08 goes on to 1.08 on the same axis
        self.plots.set_total_epochs(begin.end_step / max(begin.batches_per_epoch, 1))
        if not rs.continuing or self.session.latest_model() is not self._gui_model:
            self._gui_model = rs.model
            self._latest_view = (None, rs.strip)
            self.session.set_model(rs.model, "training")
            self.strip.reset()
        self.strip.show_probabilities(rs.strip)
        self.controls.progress.begin(rs.begin, rs.start_step, rs.job.config.batch_size)
        per = max(begin.batches_per_epoch, 1)
        what = (f"continues for one more epoch (to epoch {begin.end_step / per:.4g})" if rs.continuing
                else "started")
        self.session.status.emit(f"{rs.job.name} {what}: {begin.train_size:,} training images, "
                                 f"{begin.num_params:,} parameters")
        if begin.restart is not None:
            self.banner.show_message(notices.warm_restart(begin.restart, rs.job.config.min_lr_factor), "info")

    def _on_batches(self, p: BatchPacket) -> None:
        self.packets += 1
        self.plots.add_batches(p.epoch, p.loss, p.accuracy)
        self.controls.progress.update(p.last)

    def _on_epoch(self, e: EpochEnd) -> None:
        self.plots.add_epoch(e)
        val = f", validation {e.val_accuracy:.2%} (loss {e.val_loss:.4f})" if e.val_accuracy is not None else ""
        name = self._job.name if self._job else "run"
        self.session.status.emit(f"{name}: epoch {e.epoch} done, train accuracy {e.train_accuracy:.2%}{val}")

    def _on_setting_changed(self, e: SettingChanged) -> None:
        if e.setting == "lr":
            self.plots.mark_lr(e.epoch, e.value)
            self.session.status.emit(f"Learning rate set to {e.value:g} at epoch {e.epoch:.2f}")
        else:
            self.knobs.took_effect(e)

    def _on_checkpoints(self, checkpoints: list) -> None:
        """The run kept a checkpoint: time travel can go back to it while the run goes on."""
        job = self._job
        if job is not None and self.worker is not None and self.sender() is self.worker:
            self.session.share_checkpoints(job.run_id, job.name, job.spec, checkpoints)

    def _on_snapshot(self, s: Snapshot) -> None:
        if self._gui_model is not None and self.session.latest_model() is self._gui_model:
            if self.session.model is self._gui_model:
                self.weights.set_stats(s.stats, draw=False)  # drawn once, by the redraw the new weights cause
            self.session.update_weights(s.state)  # (while a checkpoint is shown: quietly, into the latest model)
            self._latest_view = (s.stats, self._latest_view[1] if s.strip is None else s.strip)
            self.session.publish_weight_history(s.history, self._job.name if self._job else "")
            if self.session.model is self._gui_model:
                self.weights.fill_table()
                self.strip.show_probabilities(s.strip)

    def _on_lr_edited(self, lr: float) -> None:
        if self.state in ("starting", "running", "paused") and self.worker is not None:
            try:
                self.worker.send(SetLearningRate(lr))
            except ValueError as e:
                self.banner.show_message(str(e), "error")

    def _on_finished(self, r: RunFinished) -> None:
        self.plots.flush()
        record = r.record
        if self._gui_model is not None and self.session.latest_model() is self._gui_model:
            self.session.update_weights(r.state)
            self._latest_view = (r.stats, self._latest_view[1] if r.strip is None else r.strip)
        if self._gui_model is not None and self.session.model is self._gui_model:
            self.weights.set_stats(r.stats)
            self.strip.show_probabilities(r.strip)
            self.weights.source_label.setText(f"{record.name} · {r.end.status}")  # no longer "· training"
        self._can_continue = True
        self.controls.progress.finish(r.end.status, record.duration, r.end.step, r.end.epoch)
        self._set_state("idle")
        if r.end.status == "diverged":
            self.banner.show_message(
                f"<b>{record.name} diverged.</b> {r.end.message[0].upper()}{r.end.message[1:]}. "
                "The weights shown are the last good ones; lower the learning rate and start again.", "error")
        acc = record.metrics.get("val_accuracy")
        tail = f", validation accuracy {acc:.2%}" if acc is not None else ""
        self.session.status.emit(f"{record.name} {r.end.status} after {format_duration(record.duration)}{tail}")
        self.session.record_run(record)

    def _on_failed(self, message: str) -> None:
        self._can_continue = False
        if not self.stop_token.stopped:
            self.banner.show_message(message, "error")
        self.session.status.emit(message)
        self.controls.progress.reset()
        self._set_state("idle")
