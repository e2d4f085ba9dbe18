"""The SQLite file holds password hashes and token digests: only its owner may read it."""

from __future__ import annotations

import stat
from pathlib import Path

from conftest import make_experiment

from trainyard.master.db import Database


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_sqlite_database_and_its_wal_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "trainyard.db"
    db = Database(f"sqlite:///{path}")
    db.migrate()
    make_experiment(db)
    with db.session(read_only=True):
        files = [path, path.with_name("trainyard.db-wal"), path.with_name("trainyard.db-shm")]
        assert all(p.exists() for p in files)
        assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}
    assert _mode(path.parent) == 0o700
    db.dispose()


def test_an_existing_world_readable_database_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = Database(f"sqlite:///{path}")
    db.migrate()
    db.dispose()
    for p in tmp_path.iterdir():
        p.chmod(0o644)
    db = Database(f"sqlite:///{path}")
    make_experiment(db)
    assert {p.name: _mode(p) for p in tmp_path.iterdir()} == {
        p.name: 0o600 for p in tmp_path.iterdir()
    }
    db.dispose()
