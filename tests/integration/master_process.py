"""Helpers of the shared fixtures: a real master in a subprocess on a free 127.0.0.1 port.

`master` starts `python -m trainyard.master.server --port 0` with its own data dir, SQLite DB and
checkpoint root (2 CPU slots), waits for `<data_dir>/master_url`, and yields a `RunningMaster`
(url, admin token, data dir, env for child processes). `master_postgres` does the same against the
PostgreSQL in `TRAINYARD_TEST_POSTGRES_URL` (skipped, with the reason, when it is unset); each
use gets a fresh database there.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

_START_TIMEOUT = 60.0


@dataclass
class RunningMaster:
    url: str
    token: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    def client_env(self) -> dict[str, str]:
        """Environment for a `trainyard` subprocess that talks to this master."""
        return {**os.environ, "TRAINYARD_MASTER": self.url, "TRAINYARD_TOKEN": self.token}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def start_master(data_dir: Path, *, db_url: str | None = None, slots: int = 2) -> RunningMaster:
    """Start a master process and wait until it answers; the caller must `stop_master` it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "TRAINYARD_CHECKPOINT_ROOT": str(data_dir / "checkpoints"),
        "TRAINYARD_CPU_SLOTS": str(slots),
        "TRAINYARD_RESOURCE_POOLS": "",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("TRAINYARD_DB_URL", None)
    cmd = [sys.executable, "-m", "trainyard.master.server", "--data-dir", str(data_dir)]
    cmd += ["--host", "127.0.0.1", "--port", "0"]
    if db_url:
        cmd += ["--db-url", db_url]
    log_path = data_dir / "master.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    url_file = data_dir / "master_url"
    deadline = time.monotonic() + _START_TIMEOUT
    url = ""
    while not url:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"master did not start:\n{log_path.read_text(errors='replace')}")
        time.sleep(0.05)
        with contextlib.suppress(FileNotFoundError):
            url = url_file.read_text().strip()
    token = (data_dir / "admin_token").read_text().strip()
    return RunningMaster(url, token, data_dir, proc, log_path, env)


def stop_master(master: RunningMaster) -> None:
    """SIGTERM, then SIGKILL of the whole process group (trials included) if it lingers."""
    proc = master.process
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
