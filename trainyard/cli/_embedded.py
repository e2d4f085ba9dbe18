"""An embedded master for `trainyard run`: a `trainyard.master.server` child process with the
local resource manager and SQLite under a data directory, signed in through its admin token file.

It runs as a separate process (not a thread) so the CLI stays a pure client of the REST API and a
crash or Ctrl-C of either side never corrupts the other; the master's output goes to
`<data_dir>/master.log`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from trainyard.client import Client
from trainyard.errors import TrainyardError

__all__ = ["DEFAULT_DATA_DIR", "EmbeddedMaster"]

DEFAULT_DATA_DIR = Path("~/.trainyard")
_START_TIMEOUT = 60.0


class EmbeddedMaster:
    """Start a master on a free 127.0.0.1 port; `client` is signed in as admin.

    with EmbeddedMaster(Path("~/.trainyard")) as master:
        master.client.create_experiment(...)
    """

    def __init__(self, data_dir: Path, *, cpu_slots: int | None = None) -> None:
        self.data_dir = data_dir.expanduser().absolute()
        self.cpu_slots = cpu_slots
        self.url = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._client: Client | None = None

    @property
    def client(self) -> Client:
        assert self._client is not None, "use EmbeddedMaster as a context manager"
        return self._client

    @property
    def log_path(self) -> Path:
        return self.data_dir / "master.log"

    def __enter__(self) -> EmbeddedMaster:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        url_file = self.data_dir / "master_url"
        url_file.unlink(missing_ok=True)
        env = dict(os.environ)
        env.setdefault("TRAINYARD_CHECKPOINT_ROOT", str(self.data_dir / "checkpoints"))
        if self.cpu_slots is not None:
            env["TRAINYARD_CPU_SLOTS"] = str(self.cpu_slots)
        cmd = [sys.executable, "-m", "trainyard.master.server"]
        cmd += ["--data-dir", str(self.data_dir), "--host", "127.0.0.1", "--port", "0"]
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        deadline = time.monotonic() + _START_TIMEOUT
        while not url_file.exists():
            if self._proc.poll() is not None:
                raise TrainyardError(
                    f"the embedded master exited with code {self._proc.returncode}; "
                    f"see {self.log_path}"
                )
            if time.monotonic() > deadline:
                self._stop()
                raise TrainyardError(f"the embedded master did not start; see {self.log_path}")
            time.sleep(0.1)
        self.url = url_file.read_text().strip()
        token = (self.data_dir / "admin_token").read_text().strip()
        self._client = Client(self.url, token)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._client is not None:
            self._client.close()
        self._stop()

    def _stop(self) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
