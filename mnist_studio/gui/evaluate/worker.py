"""The evaluation tab's background worker: evaluating 10,000 images through lenet takes seconds, robustness
curves longer, and the window must never freeze.

One QThread lives as long as the tab (started on the first request). A worker QObject moved into it runs jobs in
the order they arrive; every job carries a private copy of the model (the session's model keeps changing on the
GUI thread while training), a generation number and a :class:`~mnist_studio.training.stop.StopToken`. A newer
request of the same kind stops the older one, and :meth:`EvaluationRunner.shutdown` stops everything, then quits
and waits for the thread, so closing the window mid-evaluation waits for at most one slice of work (500 images, or one curve point).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
from PyQt6.QtCore import QObject, QThread, pyqtSignal, pyqtSlot

from mnist_studio.training.review import evaluate_in_parts
from mnist_studio.training.robustness import robustness_report
from mnist_studio.training.stop import Stopped, StopToken

EVALUATE, ROBUSTNESS = "evaluate", "robustness"
PART_SIZE = 500  # images per slice: lenet needs about half a second for these, so a cancel waits at most that


@dataclass
class Job:
    kind: str
    generation: int
    model: object  # a copy of the session's Model, touched only by the worker from now on
    images: np.ndarray
    labels: np.ndarray
    stop: StopToken = field(default_factory=StopToken)


class EvaluationWorker(QObject):
    """Lives in the evaluation thread; talks only through signals. Created without a parent (moveToThread)."""

    progress = pyqtSignal(str, int, int, int)  # kind, generation, done, total
    partial = pyqtSignal(int, object)  # generation, RobustnessReport so far (a copy)
    finished = pyqtSignal(str, int, object)  # kind, generation, Evaluation | RobustnessReport
    failed = pyqtSignal(str, int, str)  # kind, generation, message

    @pyqtSlot(object)
    def run(self, job: Job) -> None:
        if job.stop.stopped:
            return
        try:
            if job.kind == EVALUATE:
                result = evaluate_in_parts(
                    job.model, job.images, job.labels, parts=max(10, -(-len(job.labels) // PART_SIZE)),
                    progress=lambda done, total: self.progress.emit(job.kind, job.generation, done, total),
                    stop=job.stop)
            else:
                def on_point(report, done, total):
                    self.partial.emit(job.generation, copy.deepcopy(report))
                    self.progress.emit(job.kind, job.generation, done, total)

                result = robustness_report(job.model, job.images, job.labels, progress=on_point,
                                           stop=job.stop)
        except Stopped:
            return
        except Exception as e:  # a model that cannot take these images: report it, keep the thread alive
            self.failed.emit(job.kind, job.generation, f"{type(e).__name__}: {e}")
            return
        self.finished.emit(job.kind, job.generation, result)


class EvaluationRunner(QObject):
    """The GUI-thread side: submits jobs, drops results of jobs that were replaced, owns the thread's lifetime."""

    progress = pyqtSignal(str, int, int)  # kind, done, total (current jobs only)
    partial = pyqtSignal(object)  # RobustnessReport so far
    finished = pyqtSignal(str, object)  # kind, result
    failed = pyqtSignal(str, str)  # kind, message
    _submit = pyqtSignal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread: QThread | None = None
        self.worker: EvaluationWorker | None = None
        self._generation = 0
        self._current: dict[str, Job] = {}

    def _ensure_thread(self) -> None:
        if self.thread is not None:
            return
        self.thread = QThread()
        self.thread.setObjectName("evaluationThread")
        self.worker = EvaluationWorker()
        self.worker.moveToThread(self.thread)
        self._submit.connect(self.worker.run)
        self.worker.progress.connect(self._on_progress)
        self.worker.partial.connect(self._on_partial)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self.thread.start()

    def start(self, kind: str, model, images: np.ndarray, labels: np.ndarray) -> int:
        """Queue a job on a copy of ``model``; an unfinished job of the same kind is abandoned."""
        self.cancel(kind)
        self._ensure_thread()
        self._generation += 1
        job = Job(kind, self._generation, model.copy(), images, labels)
        self._current[kind] = job
        self._submit.emit(job)
        return job.generation

    def busy(self, kind: str) -> bool:
        return kind in self._current

    def cancel(self, kind: str | None = None) -> None:
        for k in [kind] if kind else list(self._current):
            job = self._current.pop(k, None)
            if job is not None:
                job.stop.stop()

    def shutdown(self) -> None:
        """Cancel everything, stop the thread and wait for it (the thread must never outlive the window)."""
        self.cancel()
        if self.thread is not None:
            self.thread.quit()
            self.thread.wait()
            self.thread = None
            self.worker = None  # Python owns the parentless worker: dropping it here deletes it, after the thread

    def _is_current(self, kind: str, generation: int) -> bool:
        job = self._current.get(kind)
        return job is not None and job.generation == generation

    def _on_progress(self, kind: str, generation: int, done: int, total: int) -> None:
        if self._is_current(kind, generation):
            self.progress.emit(kind, done, total)

    def _on_partial(self, generation: int, report) -> None:
        if self._is_current(ROBUSTNESS, generation):
            self.partial.emit(report)

    def _on_finished(self, kind: str, generation: int, result) -> None:
        if self._is_current(kind, generation):
            del self._current[kind]
            self.finished.emit(kind, result)

    def _on_failed(self, kind: str, generation: int, message: str) -> None:
        if self._is_current(kind, generation):
            del self._current[kind]
            self.failed.emit(kind, message)
