"""`LocalResourceManager`: allocations as process groups on this machine.

    rm = LocalResourceManager()
    pgid = rm.launch(spec)           # `python -m trainyard.launch ... -- <entrypoint>`
    for allocation_id, code in rm.poll(): ...   # exits since the last poll (negative: signal)
    rm.terminate(allocation_id)      # SIGTERM to the group, SIGKILL after the grace period
    rm.kill(allocation_id)           # SIGKILL to the group now

Each allocation runs in its own session (`start_new_session=True`), so its process group id is
its leader's pid; the caller records it so that a restarted master can kill orphans with
`kill_process_group`. Thread-safe: `poll` runs in the scheduling loop, kills come from API threads.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from trainyard.launch import build_launch_command

__all__ = ["LaunchSpec", "LocalResourceManager", "kill_process_group"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LaunchSpec:
    """Everything needed to start one allocation's processes."""

    allocation_id: str
    entrypoint: str
    slots: int
    workdir: Path
    log_path: Path
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass
class _Proc:
    popen: subprocess.Popen[bytes]
    kill_at: float | None = None


class LocalResourceManager:
    """Starts, watches and stops allocation process groups. `grace_s` is how long a SIGTERM'd
    group has before SIGKILL."""

    def __init__(self, *, grace_s: float = 10.0) -> None:
        self._grace_s = grace_s
        self._procs: dict[str, _Proc] = {}
        self._lock = threading.Lock()

    def launch(self, spec: LaunchSpec) -> int:
        """Start the allocation; returns its process group id. Raises `OSError` if it cannot."""
        cmd = build_launch_command(spec.entrypoint, nproc_per_node=max(spec.slots, 1))
        spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        with spec.log_path.open("ab") as out:
            popen = subprocess.Popen(
                cmd,
                cwd=spec.workdir,
                env=dict(spec.env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        with self._lock:
            self._procs[spec.allocation_id] = _Proc(popen)
        return popen.pid

    def running(self) -> list[str]:
        """Allocation ids whose processes have not been reaped yet."""
        with self._lock:
            return list(self._procs)

    def poll(self) -> list[tuple[str, int]]:
        """Reap exited allocations (their leftover group members are killed); escalate
        SIGTERMs whose grace period ran out. Returns (allocation_id, exit code) pairs."""
        exited: list[tuple[str, int]] = []
        now = time.monotonic()
        with self._lock:
            for aid, proc in list(self._procs.items()):
                code = proc.popen.poll()
                if code is not None:
                    kill_process_group(proc.popen.pid)
                    del self._procs[aid]
                    exited.append((aid, code))
                elif proc.kill_at is not None and now >= proc.kill_at:
                    kill_process_group(proc.popen.pid)
                    proc.kill_at = None
        return exited

    def terminate(self, allocation_id: str) -> None:
        """SIGTERM the group now, SIGKILL it once the grace period has passed (see `poll`)."""
        with self._lock:
            proc = self._procs.get(allocation_id)
            if proc is None or proc.kill_at is not None:
                return
            proc.kill_at = time.monotonic() + self._grace_s
            _signal_group(proc.popen.pid, signal.SIGTERM)

    def kill(self, allocation_id: str) -> None:
        """SIGKILL the whole group now (the exit is reported by the next `poll`)."""
        with self._lock:
            proc = self._procs.get(allocation_id)
        if proc is not None:
            kill_process_group(proc.popen.pid)

    def stop_all(self, timeout_s: float) -> list[tuple[str, int]]:
        """SIGTERM every group, SIGKILL what is left after `timeout_s`; returns their exits."""
        for aid in self.running():
            self.terminate(aid)
        deadline = time.monotonic() + timeout_s
        exited: list[tuple[str, int]] = []
        while self.running() and time.monotonic() < deadline:
            exited += self.poll()
            time.sleep(0.05)
        for aid in self.running():
            self.kill(aid)
        while self.running():
            exited += self.poll()
            time.sleep(0.02)
        return exited


def _signal_group(pgid: int, sig: signal.Signals) -> bool:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def kill_process_group(pgid: int) -> bool:
    """SIGKILL process group `pgid`; False when it no longer exists (or is not ours)."""
    if pgid <= 1 or pgid == os.getpgrp():
        _log.warning("refusing to kill process group %s (not an allocation's group)", pgid)
        return False
    return _signal_group(pgid, signal.SIGKILL)
