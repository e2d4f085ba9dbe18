"""Alembic glue: the migrations shipped in `trainyard/master/migrations`, run programmatically.

No `alembic.ini` is needed; `alembic_config()` points `script_location` into the package. To write
a new revision during development:

    python -c "from trainyard.master.db.schema import revision; revision('add foo', '0002')"
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from trainyard.errors import TrainyardError

__all__ = ["alembic_config", "current_revision", "head_revision", "upgrade_to_head"]

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(connection: Connection | None = None, url: str = "") -> Config:
    """An Alembic `Config` for the packaged migrations, bound to `connection` when given."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest revision this code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None  # the package always ships at least one revision
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision recorded in the database; None when it has never been migrated."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(connection: Connection, url: str = "") -> str:
    """Upgrade the schema inside the caller's transaction; refuse a schema newer than the code."""
    cfg = alembic_config(connection, url)
    script = ScriptDirectory.from_config(cfg)
    head = script.get_current_head()
    assert head is not None
    current = current_revision(connection)
    known = {rev.revision for rev in script.walk_revisions()}
    if current is not None and current not in known:
        raise TrainyardError(
            f"database schema {current} is newer than this Trainyard (head {head}); "
            "upgrade Trainyard or point --db-url at another database"
        )
    if current != head:
        command.upgrade(cfg, "head")
    return head


def revision(message: str, rev_id: str, url: str = "sqlite:///:memory:") -> None:
    """Autogenerate revision `rev_id` (e.g. "0002") against a database at head (development)."""
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as conn:
        if ScriptDirectory.from_config(alembic_config()).get_current_head() is not None:
            upgrade_to_head(conn)
        cfg = alembic_config(conn)
        command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)
