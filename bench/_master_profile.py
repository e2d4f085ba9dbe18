"""`master_scale.py --profile`: cProfile inside the master process the bench starts.

The hook is installed as `sitecustomize` (through PYTHONPATH) in the master only: one profiler
per thread (the event loop and the worker threads of sync routes); SIGUSR1 writes their merged
stats, which the bench then prints. Times are wall-clock per thread, waits included.
"""

from __future__ import annotations

import os
import pstats
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))
from master_process import RunningMaster

PROFILE_HOOK = """
import cProfile, os, pstats, signal, sys, threading
_profilers = []
def _start(*_):
    profiler = cProfile.Profile()
    _profilers.append(profiler)
    profiler.enable()
def _dump(*_):
    stats = pstats.Stats(_profilers[0])
    for profiler in _profilers[1:]:
        stats.add(profiler)
    stats.dump_stats(os.environ["TRAINYARD_BENCH_PROFILE"])
if os.environ.get("TRAINYARD_BENCH_PROFILE") and "trainyard.master.server" in sys.orig_argv:
    threading.setprofile(_start)
    signal.signal(signal.SIGUSR1, _dump)
    _start()
"""


def profiled(work: Path, out: Path) -> dict[str, str]:
    """Environment changes that make the next master profile itself (see PROFILE_HOOK)."""
    hook_dir = work / "profile_hook"
    hook_dir.mkdir(exist_ok=True)
    (hook_dir / "sitecustomize.py").write_text(PROFILE_HOOK)
    path = os.pathsep.join(p for p in (str(hook_dir), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path, "TRAINYARD_BENCH_PROFILE": str(out)}


def dump_profile(master: RunningMaster, out: Path) -> None:
    """Ask the profiled master for its stats and print the costliest functions."""
    master.process.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + 60
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)  # let the writer finish
    stats = pstats.Stats(str(out))
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(40)
