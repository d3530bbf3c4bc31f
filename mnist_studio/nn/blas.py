"""Direct access to the BLAS library NumPy itself uses (OpenBLAS in NumPy's wheels), for two things NumPy does not
expose: the library's thread count, and ``axpy`` (``y += a·x`` in one pass).

Why: the multi-core training step (``nn/parallel.py``) runs one shard of a batch in each of several threads, and
all must use single-threaded BLAS (two threads each asking BLAS for two more would fight over two cores); and an
SGD update written in NumPy takes two passes and a temporary array (``tmp = lr·g``; ``w -= tmp``), which on an MLP
step of about a millisecond is a tenth of the time — ``axpy`` does it in one pass.

The library is the one threadpoolctl finds loaded in the process (preferring the copy inside NumPy's own folder),
never a guessed file name. Calls into it go through ctypes, which checks nothing, so :func:`axpy` checks shapes,
dtypes, contiguity and writability itself and hands anything else to NumPy: a wrong call raises NumPy's error rather
than reading or writing past an array's end. Everything falls back to plain NumPy when no OpenBLAS is found.

OpenBLAS's usual (pthreads) build has one thread pool for the whole process, so :func:`single_threaded_blas` is
process-wide: the first thread to enter it sets one thread, the last to leave restores the count (a thread that
left first cannot give the other back its threads in the middle of its work, which made the two halves' rounding,
and so the training run, depend on timing). An OpenMP build keeps the setting per thread, and so does this module
there.
"""

from __future__ import annotations

import ctypes
import threading
from contextlib import contextmanager
from pathlib import Path

import numpy as np


def _find_openblas():
    """threadpoolctl's record of the OpenBLAS that NumPy uses, or None (another BLAS, or no threadpoolctl)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    found = ThreadpoolController().select(internal_api="openblas").lib_controllers
    numpy_dir = Path(np.__file__).resolve().parent.parent  # site-packages: numpy/ and numpy.libs/ live there
    ours = [c for c in found if Path(c.filepath).resolve().is_relative_to(numpy_dir)]
    return (ours or found or [None])[0]


_info = _find_openblas()
_lib = ctypes.CDLL(_info.filepath) if _info is not None else None
PER_THREAD = _info is not None and _info.threading_layer == "openmp"  # else one pool for the whole process


def _symbol(base: str):
    """(name, function) for ``base`` under the affixes builds use (``scipy_``, ``64_``), or (None, None)."""
    for prefix in ("", "scipy_"):
        for suffix in ("", "64_", "_64"):
            fn = getattr(_lib, prefix + base + suffix, None) if _lib is not None else None
            if fn is not None:
                return prefix + base + suffix, fn
    return None, None


_, _set_threads = _symbol("openblas_set_num_threads")
_, _get_threads = _symbol("openblas_get_num_threads")
if _set_threads is None or _get_threads is None:
    _set_threads = _get_threads = None
else:
    _set_threads.argtypes, _set_threads.restype = [ctypes.c_int], None
    _get_threads.argtypes, _get_threads.restype = [], ctypes.c_int


def _axpy_binding(kind: str, ctype):
    name, fn = _symbol(f"cblas_{kind}axpy")
    if fn is None:
        return None
    integer = ctypes.c_int64 if name.endswith(("64_", "_64")) else ctypes.c_int  # ILP64 builds take 64-bit sizes
    fn.argtypes = [integer, ctype, ctypes.c_void_p, integer, ctypes.c_void_p, integer]
    fn.restype = None
    return fn


_axpy = {np.dtype(np.float32): _axpy_binding("s", ctypes.c_float),
         np.dtype(np.float64): _axpy_binding("d", ctypes.c_double)}


def _axpby_binding(kind: str, ctype):
    name, fn = _symbol(f"cblas_{kind}axpby")
    if fn is None:
        return None
    integer = ctypes.c_int64 if name.endswith(("64_", "_64")) else ctypes.c_int
    fn.argtypes = [integer, ctype, ctypes.c_void_p, integer, ctype, ctypes.c_void_p, integer]
    fn.restype = None
    return fn


_axpby = {np.dtype(np.float32): _axpby_binding("s", ctypes.c_float),
          np.dtype(np.float64): _axpby_binding("d", ctypes.c_double)}

CAN_LIMIT_THREADS = _set_threads is not None  # parallel.py splits batches over threads only then

_lock = threading.Lock()
_users = 0  # threads inside single_threaded_blas (process-wide mode)
_saved = 0  # the thread count to restore when the last one leaves


def library() -> dict | None:
    """What BLAS this module drives (threadpoolctl's description: file, version, kernel, threads), or None."""
    return None if _info is None else dict(_info.info())


@contextmanager
def single_threaded_blas():
    """Run the body with single-threaded BLAS (see the module docstring for who else that affects)."""
    global _users, _saved
    if _set_threads is None:
        yield
        return
    if PER_THREAD:
        previous = _get_threads()
        _set_threads(1)
        try:
            yield
        finally:
            _set_threads(previous)
        return
    with _lock:
        if _users == 0:
            _saved = _get_threads()
            _set_threads(1)
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                _set_threads(_saved)


def _fits(x, y) -> bool:
    """Whether ``x`` and ``y`` can go to a BLAS level-1 call as they are: ndarrays of the same shape and float
    dtype, contiguous, ``y`` writable and not empty."""
    return (isinstance(x, np.ndarray) and x.dtype == y.dtype and x.shape == y.shape and y.size > 0
            and x.flags.c_contiguous and y.flags.c_contiguous and y.flags.writeable)


def axpby(alpha: float, x: np.ndarray, beta: float, y: np.ndarray) -> None:
    """``y = alpha * x + beta * y`` in place, in one BLAS pass when the arrays allow it (as :func:`axpy`), else by
    NumPy. A running mean (``m = b1·m + (1-b1)·g``) is one call instead of three passes and a temporary."""
    fn = _axpby.get(y.dtype)
    if fn is not None and _fits(x, y):
        fn(y.size, alpha, x.ctypes.data, 1, beta, y.ctypes.data, 1)
    else:
        y *= beta
        y += np.multiply(alpha, x)


def axpy(alpha: float, x: np.ndarray, y: np.ndarray) -> None:
    """``y += alpha * x`` in place: in one BLAS pass when ``x`` and ``y`` have the same shape and float dtype and are
    contiguous (and ``y`` writable), else by NumPy, which raises its usual error for shapes that do not fit."""
    fn = _axpy.get(y.dtype)
    if fn is not None and _fits(x, y):
        fn(y.size, alpha, x.ctypes.data, 1, y.ctypes.data, 1)
    else:
        y += np.multiply(alpha, x)
