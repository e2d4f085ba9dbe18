"""A fresh PostgreSQL schema per test, on the server named by TRAINYARD_TEST_POSTGRES_URL
(set by scripts/test_env.sh after scripts/ensure_postgres.sh)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine


@contextmanager
def postgres_schema_url(prefix: str) -> Iterator[str]:
    """A database URL whose search_path is a new schema `<prefix>_<random>`, dropped (with
    everything in it) on exit. Skips the test when no test server is configured."""
    base = os.environ.get("TRAINYARD_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("TRAINYARD_TEST_POSTGRES_URL is unset; run `bash scripts/ensure_postgres.sh`")
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
