"""The panels' background runner: results of replaced jobs are dropped, a stop reaches the work, failures are
reported, and shutdown leaves no thread running."""

import threading

from mnist_studio.gui.background import BackgroundRunner


def test_newer_job_replaces_older_and_only_its_result_arrives(qtbot):
    runner = BackgroundRunner("testThread")
    gate, started = threading.Event(), threading.Event()
    stopped = []

    def slow(stop, report):
        started.set()
        gate.wait(5)
        stopped.append(stop.stopped)
        stop.check()
        return "old"

    results = []
    runner.finished.connect(lambda kind, result: results.append((kind, result)))
    runner.submit("job", slow)
    assert started.wait(5)
    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.submit("job", lambda stop, report: (report(7), "new")[1])
        gate.set()
    assert results == [("job", "new")] and stopped == [True]
    assert runner.thread.isRunning()
    runner.shutdown()
    assert runner.thread is None


def test_progress_and_failures(qtbot):
    runner = BackgroundRunner("testThread")
    seen = []
    runner.progress.connect(lambda kind, value: seen.append(value))
    with qtbot.waitSignal(runner.failed, timeout=5000) as blocker:
        runner.submit("job", lambda stop, report: (report(1), report(2), 1 / 0))
    assert seen == [1, 2] and "ZeroDivisionError" in blocker.args[1]
    assert not runner.busy()
    runner.shutdown()
