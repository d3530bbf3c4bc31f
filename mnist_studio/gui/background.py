"""One background thread for a panel's long computations (a feature map, a gradient check, a counterfactual).

A panel submits *jobs*: a kind (a name) and a function ``work(stop, report)`` that runs in the thread, where ``stop``
is the project's :class:`~mnist_studio.training.stop.StopToken` (the work calls ``stop.check()`` at its safe points)
and ``report(value)`` sends a progress value or a partial result to the GUI thread. A newer job of the same kind
stops the older one, and results of replaced jobs are dropped (each job has a generation number), so a view only
ever shows the answer to its latest question. The work must not touch anything the GUI thread uses: hand it copies
(of the model above all).

The thread starts with the first job and lives until :meth:`BackgroundRunner.shutdown` (the panel's close hook),
which stops every job, quits and waits for the thread. Work here runs with single-threaded BLAS, so it takes at
most one of the machine's cores from a training run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from PyQt6.QtCore import QObject, QThread, pyqtSignal, pyqtSlot

from mnist_studio.nn.blas import single_threaded_blas
from mnist_studio.training.stop import Stopped, StopToken

Work = Callable[[StopToken, Callable[[Any], None]], Any]


@dataclass
class Job:
    kind: str
    generation: int
    work: Work
    stop: StopToken = field(default_factory=StopToken)


class _Worker(QObject):
    """Lives in the runner's thread; talks only through signals (created without a parent for moveToThread)."""

    progress = pyqtSignal(str, int, object)
    finished = pyqtSignal(str, int, object)
    failed = pyqtSignal(str, int, str)

    @pyqtSlot(object)
    def run(self, job: Job) -> None:
        if job.stop.stopped:
            return
        try:
            with single_threaded_blas():
                result = job.work(job.stop, lambda value: self.progress.emit(job.kind, job.generation, value))
        except Stopped:
            return
        except Exception as e:  # the work failed (a model that cannot take the input...): say so, keep the thread
            self.failed.emit(job.kind, job.generation, f"{type(e).__name__}: {e}")
            return
        self.finished.emit(job.kind, job.generation, result)


class BackgroundRunner(QObject):
    """The GUI-thread side: submits jobs, drops results of replaced jobs, owns the thread's lifetime."""

    progress = pyqtSignal(str, object)  # kind, what the work reported (current jobs only)
    finished = pyqtSignal(str, object)  # kind, the work's result
    failed = pyqtSignal(str, str)  # kind, message
    _submit = pyqtSignal(object)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.thread: QThread | None = None
        self.worker: _Worker | None = None
        self._generation = 0
        self._current: dict[str, Job] = {}

    def _ensure_thread(self) -> None:
        if self.thread is not None:
            return
        self.thread = QThread()
        self.thread.setObjectName(self.name)
        self.worker = _Worker()
        self.worker.moveToThread(self.thread)
        self._submit.connect(self.worker.run)
        self.worker.progress.connect(self._on_progress)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self.thread.start()

    def submit(self, kind: str, work: Work) -> int:
        """Queue ``work``; an unfinished job of the same kind is stopped and its result will be dropped."""
        self.cancel(kind)
        self._ensure_thread()
        self._generation += 1
        job = Job(kind, self._generation, work)
        self._current[kind] = job
        self._submit.emit(job)
        return job.generation

    def busy(self, kind: str | None = None) -> bool:
        return bool(self._current) if kind is None else kind in self._current

    def cancel(self, kind: str | None = None) -> None:
        for k in [kind] if kind else list(self._current):
            job = self._current.pop(k, None)
            if job is not None:
                job.stop.stop()

    def shutdown(self) -> None:
        """Stop everything, quit the thread and wait for it (the thread must never outlive the window)."""
        self.cancel()
        if self.thread is not None:
            self.thread.quit()
            self.thread.wait()
            self.thread = None
            self.worker = None

    def _is_current(self, kind: str, generation: int) -> bool:
        job = self._current.get(kind)
        return job is not None and job.generation == generation

    def _on_progress(self, kind: str, generation: int, value) -> None:
        if self._is_current(kind, generation):
            self.progress.emit(kind, value)

    def _on_finished(self, kind: str, generation: int, result) -> None:
        if self._is_current(kind, generation):
            del self._current[kind]
            self.finished.emit(kind, result)

    def _on_failed(self, kind: str, generation: int, message: str) -> None:
        if self._is_current(kind, generation):
            del self._current[kind]
            self.failed.emit(kind, message)
