"""Run a piece of Python in a child process with an address-space limit and a timeout, so a memory bomb that is
not refused fails its test instead of exhausting the machine (the bomb tests of issue 8 use it)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_PRELUDE = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
"""


def run_limited(code: str, *, memory_mb: int = 1500, timeout: float = 60.0) -> subprocess.CompletedProcess:
    """Run ``code`` with at most ``memory_mb`` MB of address space (the interpreter, NumPy and BLAS take about
    400 MB of it) and ``timeout`` seconds; returns the completed process (text stdout and stderr)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1", "QT_QPA_PLATFORM": "offscreen"}
    script = _PRELUDE.format(limit=memory_mb * 2**20) + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=ROOT)
