"""A real master in this process: `create_app` with the real runtime under uvicorn on a free
127.0.0.1 port, on SQLite or a fresh PostgreSQL database, plus what a test needs to check that a
refused request stored nothing (row counts and the files under the data and checkpoint dirs).

Used by the malformed-input corpus and the input-hardening tests of the API and CLI; the CLI is
driven in-process with Typer's CliRunner against `url`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import func, select

from trainyard.client import Client
from trainyard.master.app import create_app
from trainyard.master.db import Database, Experiment, ModelDefinition, Trial
from trainyard.master.settings import MasterSettings, load_master_settings

_DB_FILES = ("trainyard.db", "trainyard.db-wal", "trainyard.db-shm", "trainyard.db-journal")


@dataclass
class LiveMaster:
    url: str
    token: str
    settings: MasterSettings
    db: Database
    http: httpx.Client
    client: Client

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def stored(self) -> tuple[int, int, int, frozenset[str]]:
        """(experiments, model definitions, trials, files under the data and checkpoint dirs)."""
        with self.db.session(read_only=True) as session:
            counts = tuple(
                session.scalar(select(func.count()).select_from(table)) or 0
                for table in (Experiment, ModelDefinition, Trial)
            )
        files = frozenset(
            str(path)
            for root in (self.settings.data_dir, self.settings.checkpoint_root)
            if root.exists()
            for path in root.rglob("*")
            if path.is_file() and path.name not in _DB_FILES
        )
        return counts[0], counts[1], counts[2], files


@contextmanager
def live_master(root: Path, db_url: str | None = None) -> Iterator[LiveMaster]:
    """Serve the real master app with its real runtime until the block ends."""
    settings = load_master_settings(
        None,
        env={},
        data_dir=root / "data",
        checkpoint_root=root / "checkpoints",
        cpu_slots=2,
        max_model_dir_bytes=1_000_000,
        db_url=db_url,
    )
    app = create_app(settings, announce=lambda _m: None)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the in-process master did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    token = settings.admin_token_path.read_text().strip()
    try:
        with ExitStack() as stack:
            http = stack.enter_context(httpx.Client(base_url=url + "/api/v1", timeout=60))
            client = stack.enter_context(Client(url, token, timeout=60))
            yield LiveMaster(url, token, settings, app.state.ctx.db, http, client)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
