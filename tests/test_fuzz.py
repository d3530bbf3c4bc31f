"""A short, seeded fuzz run in the suite: hostile model, architecture, IDX, picture and stroke files through the
command line in-process. Every case must end with exit 0 (a mutation that left a usable file) or exit 2 and one
line; no traceback, no other exit, no hang. ``benchmarks/fuzz.py N`` is the long run."""

from __future__ import annotations

import signal

import pytest

from tests.fuzzcases import KINDS, Fuzzer

CASES = 200  # 40 per kind: about 8 s on an idle machine
SEED_BASE = 1_000_000  # not the seeds the long benchmark run starts with


@pytest.fixture(scope="module")
def fuzzer(tmp_path_factory):
    return Fuzzer(tmp_path_factory.mktemp("fuzz"))


def test_hostile_files_end_in_one_clear_line(fuzzer, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def alarm(signum, frame):
        raise TimeoutError("fuzz case took longer than 60 s")

    old = signal.signal(signal.SIGALRM, alarm)
    findings, codes = [], {0: 0, 2: 0}
    try:
        for i in range(CASES):
            kind, seed = KINDS[i % len(KINDS)], SEED_BASE + i // len(KINDS)
            signal.alarm(60)
            try:
                o = fuzzer.run(kind, seed)
            finally:
                signal.alarm(0)
            if o.ok:
                codes[o.code] += 1
            else:
                findings.append(f"{kind} case {seed}: exit {o.code}: {o.detail}")
    finally:
        signal.signal(signal.SIGALRM, old)
    assert not findings, "\n".join(findings[:10])
    assert codes[2] > CASES // 2  # most mutations break the file: the refusals were exercised, not skipped
