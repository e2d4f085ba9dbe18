"""A fresh PostgreSQL schema or database per test, on the server named by
TRAINYARD_TEST_POSTGRES_URL (set by scripts/test_env.sh after scripts/ensure_postgres.sh)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, make_url


def _test_server_url() -> str:
    """The test server's URL; skips the calling test when none is configured."""
    base = os.environ.get("TRAINYARD_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("TRAINYARD_TEST_POSTGRES_URL is unset; run `bash scripts/ensure_postgres.sh`")
    return base


@contextmanager
def postgres_schema_url(prefix: str) -> Iterator[str]:
    """A database URL whose search_path is a new schema `<prefix>_<random>`, dropped (with
    everything in it) on exit. Skips the test when no test server is configured."""
    base = _test_server_url()
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        sep = "&" if "?" in base else "?"
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@contextmanager
def fresh_postgres_database(prefix: str) -> Iterator[str]:
    """The URL of a new, empty database `<prefix>_<random>` on the test server, dropped on exit
    (connections still open to it are ended). For tests that run a master process, which needs
    a whole database; stop it before leaving the block. Skips without a test server."""
    base = _test_server_url()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
