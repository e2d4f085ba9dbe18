"""Alembic environment: runs on the connection `Database.migrate()` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from trainyard.master.db.models import Base

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run Trainyard migrations through Database.migrate(), not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
