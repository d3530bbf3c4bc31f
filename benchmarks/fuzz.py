"""Long fuzz run: N hostile files (seeded mutations of a model file, architecture, IDX dataset, picture and stroke
file; see tests/fuzzcases.py) through the command line, reporting tracebacks by kind, hangs and peak memory.

    python benchmarks/fuzz.py 10000 [--workers 2] [--timeout 30] [--start 0]

Cases run in worker processes (each with a 3 GB address-space limit, so a memory bomb becomes a finding instead of
exhausting the machine), in batches; a case still running after ``--timeout`` seconds is a hang. Peak memory is
the largest resident set any worker reached (``VmHWM``), with the case that raised it. Exit status 1 when
there was any finding.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BATCH = 250


def _peak_mb() -> int:
    """This process's peak resident set (VmHWM; ru_maxrss would also count the parent's size before exec)."""
    import resource

    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) // 1024 for line in f if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def worker(start: int, count: int, folder: str, timeout: float) -> None:
    import resource
    import signal

    resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))
    sys.path.insert(0, str(ROOT))
    from tests.fuzzcases import KINDS, Fuzzer

    def alarm(signum, frame):
        raise KeyboardInterrupt("fuzz case timed out")

    signal.signal(signal.SIGALRM, alarm)
    fuzzer = Fuzzer(Path(folder))
    for i in range(start, start + count):
        kind, seed = KINDS[i % len(KINDS)], i // len(KINDS)
        t = time.perf_counter()
        signal.alarm(int(timeout))
        try:
            o = fuzzer.run(kind, seed)
            row = {"ok": o.ok, "code": o.code, "detail": o.detail}
        except KeyboardInterrupt:
            row = {"ok": False, "code": None, "detail": "HANG", "hang": True}
        except MemoryError:
            row = {"ok": False, "code": None, "detail": "MemoryError (3 GB limit)"}
        finally:
            signal.alarm(0)
        row.update(kind=kind, seed=seed, i=i, seconds=round(time.perf_counter() - t, 3), rss_mb=_peak_mb())
        print(json.dumps(row), flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(int(args.worker[0]), int(args.worker[1]), args.worker[2], args.timeout)
        return 0
    t0 = time.perf_counter()
    end = args.start + args.n
    rows, pending = [], [(s, min(BATCH, end - s)) for s in range(args.start, end, BATCH)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1", "QT_QPA_PLATFORM": "offscreen"}
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        env["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")
        running: list[tuple[subprocess.Popen, int, int]] = []
        while pending or running:
            while pending and len(running) < args.workers:
                s, count = pending.pop(0)
                p = subprocess.Popen([sys.executable, __file__, str(args.n), "--timeout", str(args.timeout),
                                      "--worker", str(s), str(count), str(Path(tmp) / f"w{s}")],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                running.append((p, s, count))
            p, s, count = running.pop(0)
            out, err = p.communicate()
            got = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
            rows += got
            if len(got) < count:  # the worker died (e.g. killed): the next case is a finding, go on after it
                i = s + len(got)
                rows.append({"ok": False, "code": p.returncode, "detail": f"worker died: {err.strip()[-300:]}",
                             "kind": "?", "seed": -1, "i": i, "seconds": 0, "rss_mb": 0})
                if i + 1 < s + count:  # the rest of the batch, after the case that killed it
                    pending.insert(0, (i + 1, s + count - i - 1))
            print(f"{len(rows):>6}/{args.n} cases, {sum(not r['ok'] for r in rows)} findings "
                  f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    report(rows, time.perf_counter() - t0)
    return 1 if any(not r["ok"] for r in rows) else 0


def report(rows: list[dict], seconds: float) -> None:
    bad = [r for r in rows if not r["ok"]]
    hangs = [r for r in bad if r.get("hang")]
    tracebacks = [r for r in bad if not r.get("hang")]
    kinds = collections.Counter(r["kind"] for r in rows)
    peak = max(rows, key=lambda r: r["rss_mb"]) if rows else None
    slowest = max(rows, key=lambda r: r["seconds"]) if rows else None
    print(f"cases: {len(rows)} ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}) in {seconds:.0f} s")
    print(f"tracebacks or wrong exits: {len(tracebacks)}; hangs: {len(hangs)}")
    exits = collections.Counter(r["code"] for r in rows if r["ok"])
    print(f"clean exits: {dict(sorted(exits.items(), key=str))}")
    if peak:
        print(f"peak memory: {peak['rss_mb']} MB (worker resident set; reached by {peak['kind']} case {peak['seed']})")
        print(f"slowest case: {slowest['seconds']:.1f} s ({slowest['kind']} case {slowest['seed']})")
    groups = collections.defaultdict(list)
    for r in bad:
        last = r["detail"].strip().splitlines()[-1] if r["detail"].strip() else "?"
        groups[(r["kind"], last[:160])].append(r["seed"])
    for (kind, last), seeds in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        print(f"  {len(seeds):>5} x {kind}: {last}   (seeds {seeds[:5]})")


if __name__ == "__main__":
    sys.exit(main())
