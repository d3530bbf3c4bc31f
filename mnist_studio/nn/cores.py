"""How many cores this process may really use: the CPU affinity mask and the cgroup CPU quota, whichever is smaller.

Why: ``os.cpu_count()`` counts the machine's cores, not the ones a container or ``taskset`` leaves us. Splitting a
batch over more threads than there are cores to run them only adds hand-overs, so the training step
(``nn/parallel.py``) asks here.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def cgroup_cpu_limit(root: Path = CGROUP_ROOT) -> int | None:
    """Cores allowed by the cgroup CPU quota (rounded up), or None when there is no quota.

    cgroup v2 writes ``"<quota> <period>"`` (or ``"max <period>"``) in ``cpu.max``; v1 has ``cpu.cfs_quota_us``
    (-1 for none) and ``cpu.cfs_period_us``, under ``cpu`` or ``cpu,cpuacct``."""
    text = _read(root / "cpu.max")
    if text is not None:
        parts = text.split()
        if len(parts) == 2 and parts[0] != "max":
            return _cores(parts[0], parts[1])
        return None
    for folder in (root / "cpu", root / "cpu,cpuacct", root):
        quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us")
        if quota is not None and period is not None:
            return _cores(quota, period)
    return None


def _cores(quota: str, period: str) -> int | None:
    try:
        q, p = int(quota), int(period)
    except ValueError:
        return None
    if q <= 0 or p <= 0:
        return None  # -1: no quota
    return max(1, math.ceil(q / p))


def usable_cores(root: Path = CGROUP_ROOT) -> int:
    """The cores this process may run on: its affinity mask, capped by the cgroup quota; at least 1."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        n = os.cpu_count() or 1
    limit = cgroup_cpu_limit(root)
    return max(1, min(n, limit) if limit is not None else n)
