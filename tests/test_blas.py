"""nn/blas.py: axpy never lets BLAS read or write past an array, the library is the one threadpoolctl sees, and
single-threaded BLAS holds for as long as any thread needs it."""

import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from mnist_studio.nn import blas


def blas_threads() -> int:
    return next(i["num_threads"] for i in threadpool_info() if i["filepath"] == blas.library()["filepath"])


def test_axpy_refuses_arrays_that_do_not_fit():
    y = np.zeros(8)
    with pytest.raises(ValueError):
        blas.axpy(1.0, np.ones(3), y)  # BLAS would read 5 values past the end of x
    np.testing.assert_array_equal(y, np.zeros(8))
    y = np.zeros(8, np.float32)
    with pytest.raises(ValueError):
        blas.axpy(1.0, np.ones((2, 4), np.float32), y)  # same size, other shape: NumPy's rules, not a flat copy
    frozen = np.zeros(4)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        blas.axpy(1.0, np.ones(4), frozen)
    np.testing.assert_array_equal(frozen, np.zeros(4))


def test_axpy_falls_back_to_numpy_for_mixed_dtypes_and_plain_values():
    y = np.ones(5, np.float32)
    blas.axpy(0.5, np.arange(5, dtype=np.float64), y)  # float64 data read as float32 would be garbage
    np.testing.assert_allclose(y, 1 + 0.5 * np.arange(5))
    assert y.dtype == np.float32
    blas.axpy(2.0, [1, 1, 1, 1, 1], y)
    np.testing.assert_allclose(y, 3 + 0.5 * np.arange(5))
    blas.axpy(-1.0, np.ones(0), np.ones(0))  # empty: nothing to do, no call


def test_the_library_is_the_one_threadpoolctl_reports():
    openblas = [i for i in threadpool_info() if i["internal_api"] == "openblas"]
    assert (blas.library() is not None) == bool(openblas) == blas.CAN_LIMIT_THREADS
    if openblas:
        assert blas.library()["filepath"] in {i["filepath"] for i in openblas}


@pytest.mark.skipif(not blas.CAN_LIMIT_THREADS or blas.PER_THREAD,
                    reason="needs OpenBLAS with one process-wide thread pool (NumPy's wheels)")
def test_single_threaded_blas_holds_until_the_last_thread_leaves():
    with threadpool_limits(limits=2, user_api="blas"):
        assert blas_threads() == 2
        entered, leave = threading.Event(), threading.Event()
        seen = []

        def other():
            with blas.single_threaded_blas():
                entered.set()
                leave.wait(10)
                seen.append(blas_threads())

        t = threading.Thread(target=other)
        with blas.single_threaded_blas():
            assert blas_threads() == 1
            t.start()
            assert entered.wait(10)
        assert blas_threads() == 1  # the other thread is still inside: its BLAS calls stay single-threaded
        leave.set()
        t.join(10)
        assert seen == [1] and blas_threads() == 2  # the last one out restored the count
