"""Shared fixtures: a real master in a subprocess on a free 127.0.0.1 port.

`master` starts `python -m trainyard.master.server --port 0` with its own data dir, SQLite DB and
checkpoint root (2 CPU slots), and yields a `master_process.RunningMaster` (url, admin token, data
dir); `shared_master` is one such master for the whole session. `master_postgres` does the same on a
fresh database of the PostgreSQL server in
`TRAINYARD_TEST_POSTGRES_URL` (skipped, saying so, when it is unset).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from master_process import RunningMaster, start_master, stop_master
from postgres_schema import fresh_postgres_database


@pytest.fixture
def master(tmp_path: Path) -> Iterator[RunningMaster]:
    running = start_master(tmp_path / "master")
    try:
        yield running
    finally:
        stop_master(running)


@pytest.fixture(scope="session")
def shared_master(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningMaster]:
    """Like `master`, but one master for the whole session: only for tests that merely add
    experiments of their own (never for tests that stop, kill or reconfigure the master)."""
    running = start_master(tmp_path_factory.mktemp("shared") / "master")
    try:
        yield running
    finally:
        stop_master(running)


@pytest.fixture
def master_postgres(tmp_path: Path) -> Iterator[RunningMaster]:
    """A master on a database of its own on the test PostgreSQL, dropped afterwards."""
    with fresh_postgres_database("trainyard_api") as db_url:
        running = start_master(tmp_path / "master", db_url=db_url)
        try:
            yield running
        finally:
            stop_master(running)
