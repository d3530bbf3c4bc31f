"""Cyclic garbage is freed in the GUI thread, never in a worker thread (mnist_studio/gui/collector.py)."""

import gc
import threading

from mnist_studio.gui import collector


class Cycle:
    """A reference cycle that records the thread that freed it."""

    freed_in: list[str] = []

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        Cycle.freed_in.append(threading.current_thread().name)


def test_automatic_collection_is_off_and_the_app_has_one_collector(qapp):
    first = collector.install(qapp)
    assert collector.install(qapp) is first  # once per application
    assert not gc.isenabled()
    assert first.timer.isActive() and first.threshold[0] > 0


def test_a_worker_threads_allocations_never_free_a_cycle_there(qapp):
    c = collector.install(qapp)
    Cycle.freed_in.clear()
    for _ in range(50):
        Cycle()  # garbage held only by its own cycle

    def allocate():
        junk = [[i] for i in range(5 * c.threshold[0])]  # far past the generation-0 threshold
        del junk

    worker = threading.Thread(target=allocate, name="worker")
    worker.start()
    worker.join()
    assert Cycle.freed_in == []  # automatic collection would have freed them in the worker
    c.collect_due()
    gc.collect()
    assert len(Cycle.freed_in) == 50 and set(Cycle.freed_in) == {threading.main_thread().name}


def test_collect_due_collects_once_generation_zero_is_over_its_threshold(qapp):
    c = collector.install(qapp)
    gc.collect()
    assert gc.get_count()[0] <= c.threshold[0]
    Cycle.freed_in.clear()
    Cycle()
    assert c.collect_due() == 0 and Cycle.freed_in == []  # below the threshold: nothing yet
    keep = [[i] for i in range(2 * c.threshold[0])]
    assert c.collect_due() >= 1 and Cycle.freed_in == [threading.main_thread().name]
    del keep
