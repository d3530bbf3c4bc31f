"""Direct access to the BLAS library NumPy itself uses (OpenBLAS in NumPy's wheels), for two things NumPy does not
expose: a per-thread thread count, and ``axpy`` (``y += a·x`` in one pass).

Why: the two-core training step (``nn/parallel.py``) needs each of its threads to run single-threaded BLAS
without changing the setting for the GUI thread, which OpenBLAS's ``openblas_set_num_threads_local`` does; and an
SGD update written in NumPy takes two passes and a temporary array (``tmp = lr·g``; ``w -= tmp``), which on an MLP
step of about a millisecond is a tenth of the time — ``axpy`` does it in one pass, with BLAS's threads.

Everything here falls back to plain NumPy when the library or a symbol is not there (another BLAS, another OS).
"""

from __future__ import annotations

import ctypes
import glob
import os
from contextlib import contextmanager

import numpy as np


def _candidate_libraries() -> list[str]:
    libs_dir = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    found = sorted(glob.glob(os.path.join(libs_dir, "*openblas*")))
    try:
        with open("/proc/self/maps", encoding="ascii", errors="ignore") as maps:
            found += sorted({line.split()[-1] for line in maps if "openblas" in line.lower()})
    except OSError:
        pass
    return found


def _load():
    for path in _candidate_libraries():
        try:
            return ctypes.CDLL(path)
        except OSError:
            continue
    return None


_lib = _load()


def _symbol(*names: str):
    for name in names:
        fn = getattr(_lib, name, None) if _lib is not None else None
        if fn is not None:
            return name, fn
    return None, None


_, _set_local = _symbol("openblas_set_num_threads_local")
if _set_local is not None:
    _set_local.argtypes = [ctypes.c_int]
    _set_local.restype = ctypes.c_int


def _axpy_binding(prefix: str, ctype):
    name, fn = _symbol(f"scipy_cblas_{prefix}axpy64_", f"cblas_{prefix}axpy64_", f"cblas_{prefix}axpy")
    if fn is None:
        return None
    integer = ctypes.c_int64 if name.endswith("64_") else ctypes.c_int  # ILP64 builds take 64-bit sizes
    fn.argtypes = [integer, ctype, ctypes.c_void_p, integer, ctypes.c_void_p, integer]
    fn.restype = None
    return fn


_axpy = {np.dtype(np.float32): _axpy_binding("s", ctypes.c_float),
         np.dtype(np.float64): _axpy_binding("d", ctypes.c_double)}

HAVE_LOCAL_THREADS = _set_local is not None


@contextmanager
def single_threaded_blas():
    """Make this thread's BLAS calls single-threaded for the duration (other threads are unaffected)."""
    if _set_local is None:
        yield
        return
    previous = _set_local(1)
    try:
        yield
    finally:
        _set_local(previous)


def axpy(alpha: float, x: np.ndarray, y: np.ndarray) -> None:
    """``y += alpha * x`` in place, in one pass when BLAS can do it (same dtype, both contiguous)."""
    fn = _axpy.get(y.dtype)
    if fn is not None and x.dtype == y.dtype and x.flags.c_contiguous and y.flags.c_contiguous and y.size:
        fn(y.size, alpha, x.ctypes.data, 1, y.ctypes.data, 1)
    else:
        y += alpha * x
