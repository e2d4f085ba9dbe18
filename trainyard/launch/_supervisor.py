"""Run the allocation's process tree: prefix and ship its output, forward signals, reap it."""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from types import FrameType
from typing import IO

from trainyard.launch._logs import LogShipper

_PREFIXED = re.compile(r"^\[rank=(\d+)\] ?(.*)$", re.DOTALL)


class Supervisor:
    """Starts `cmd` in this process's group and relays its output line by line.

    The child stays in the launcher's process group, so the resource manager's signals to the
    group reach it too; `cmd` should be wrapped with `die_with_parent` (or `preexec_fn` be
    `parent_death_preexec()`) so that it also dies when the launcher is killed alone.

    Lines already prefixed `[rank=N] ` (torchrun's tee) keep their prefix; other lines get
    `[rank=<fixed_rank>] ` when `fixed_rank` is given (a single process), else `[launcher] `.
    Everything is printed to this process's stdout and, with a shipper, sent to the master.
    SIGTERM/SIGINT to this process are forwarded as SIGTERM; whatever is still alive
    `grace_s` later is killed with SIGKILL.
    """

    def __init__(
        self,
        cmd: Sequence[str],
        env: Mapping[str, str],
        *,
        fixed_rank: int | None,
        shipper: LogShipper | None,
        grace_s: float = 10.0,
        preexec_fn: Callable[[], None] | None = None,
    ) -> None:
        self._cmd = list(cmd)
        self._preexec_fn = preexec_fn
        self._env = dict(env)
        self._fixed_rank = fixed_rank
        self._shipper = shipper
        self._grace_s = grace_s
        self._print_lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._killer: threading.Timer | None = None

    def run(self) -> int:
        """Run to completion; returns the exit code to exit with (128+N for a signal)."""
        self._proc = subprocess.Popen(
            self._cmd,
            env=self._env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=self._preexec_fn,
        )
        previous = {
            sig: signal.signal(sig, self._forward) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        pumps = [
            threading.Thread(target=self._pump, args=(self._proc.stdout, "stdout"), daemon=True),
            threading.Thread(target=self._pump, args=(self._proc.stderr, "stderr"), daemon=True),
        ]
        try:
            for pump in pumps:
                pump.start()
            code = self._proc.wait()
            for pump in pumps:
                pump.join(timeout=5.0)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if self._killer is not None:
                self._killer.cancel()
            if self._shipper is not None:
                self._shipper.close()
        return 128 - code if code < 0 else code

    def _forward(self, signum: int, frame: FrameType | None) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        self._emit(None, "stderr", f"[launcher] got signal {signum}; stopping the ranks")
        proc.send_signal(signal.SIGTERM)
        if self._killer is None:
            self._killer = threading.Timer(self._grace_s, self._kill_all)
            self._killer.daemon = True
            self._killer.start()

    def _kill_all(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            self._emit(
                None, "stderr", "[launcher] ranks still running after the grace period; killing"
            )
            with contextlib.suppress(ProcessLookupError):
                proc.kill()  # its children die with it (die_with_parent)

    def _pump(self, stream: IO[bytes] | None, name: str) -> None:
        if stream is None:
            return
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            match = _PREFIXED.match(line)
            if match:
                self._emit(int(match.group(1)), name, match.group(2))
            elif self._fixed_rank is not None:
                self._emit(self._fixed_rank, name, line)
            else:
                self._emit(None, name, line)

    def _emit(self, rank: int | None, stream: str, text: str) -> None:
        shown = f"[rank={rank}] {text}" if rank is not None else text
        if rank is None and not text.startswith("[launcher]"):
            shown = f"[launcher] {text}"
        with self._print_lock:
            sys.stdout.write(shown + "\n")
            sys.stdout.flush()
        if self._shipper is not None:
            self._shipper.add(rank, stream, text)
