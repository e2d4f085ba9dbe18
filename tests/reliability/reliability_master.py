"""A real master process the injector may crash: `python -m trainyard.master.server` on a fixed
127.0.0.1 port, restarted on the same data dir, DB and port after each `kill -9`.

Trials of the master live in their own process groups; `trial_workers()` finds the trial
processes (the `reliability_trial.py` children of the launcher) whose working directory is under
this master's data dir, so the injector never touches another test's processes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from reliability_trial import SCRIPT_NAME

from trainyard.client import Client
from trainyard.master.db import Database

START_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class CrashableMaster:
    """`start()` / `kill9()` / `start()` … `stop()`: one master identity across crashes."""

    data_dir: Path
    db_url: str | None = None
    """None: SQLite under `data_dir`."""
    slots: int = 1
    port: int = field(default_factory=free_port)
    token: str = ""
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "master.log"

    @property
    def checkpoint_root(self) -> Path:
        return self.data_dir / "checkpoints"

    def start(self) -> CrashableMaster:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "TRAINYARD_CHECKPOINT_ROOT": str(self.checkpoint_root),
            "TRAINYARD_CPU_SLOTS": str(self.slots),
            "TRAINYARD_SCHEDULER_INTERVAL_SECONDS": "0.1",
            "PYTHONUNBUFFERED": "1",
        }
        for name in ("TRAINYARD_DB_URL", "TRAINYARD_RESOURCE_POOLS", "CUDA_VISIBLE_DEVICES"):
            env.pop(name, None)
        url_file = self.data_dir / "master_url"
        url_file.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "trainyard.master.server", "--data-dir", str(self.data_dir)]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port)]
        if self.db_url:
            cmd += ["--db-url", self.db_url]
        with self.log_path.open("ab") as log:
            log.write(f"\n===== reliability: master start #{self.starts + 1}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not (url_file.exists() and url_file.read_text().endswith("\n")):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                raise RuntimeError(f"master did not start:\n{self.log()}")
            time.sleep(0.05)
        self.token = (self.data_dir / "admin_token").read_text().strip()
        self.starts += 1
        return self

    def kill9(self) -> None:
        """Crash the master (SIGKILL to the server process only; its trials keep running)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL of the server's process group if it lingers."""
        proc = self.process
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        for pid in self.trial_workers():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    def log(self, chars: int = 6000) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return text[-chars:]

    def client(self) -> Client:
        return Client(self.url, self.token)

    def db(self) -> Database:
        return Database(self.db_url or f"sqlite:///{self.data_dir / 'trainyard.db'}")

    def trial_workers(self) -> list[int]:
        """Pids of live trial processes started by this master (not zombies)."""
        return sorted(
            int(entry.name)
            for entry in Path("/proc").iterdir()
            if entry.name.isdigit() and self.owns(int(entry.name))
        )

    def owns(self, pid: int) -> bool:
        """Whether `pid` is a live (not zombie) trial process of this master."""
        entry = Path("/proc") / str(pid)
        try:
            if not _is_worker((entry / "cmdline").read_bytes().split(b"\0")):
                return False
            if not os.readlink(entry / "cwd").startswith(str(self.data_dir.resolve() / "work")):
                return False
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        return state != "Z"


def _is_worker(cmdline: list[bytes]) -> bool:
    """The trial script itself, not the launcher (whose argv also names the script)."""
    names_script = any(part.endswith(SCRIPT_NAME.encode()) for part in cmdline)
    launcher = any(b"trainyard.launch" in part or b"_die_with_parent" in part for part in cmdline)
    return names_script and not launcher
