"""Ids are never reused; log lines numbered by their launcher are stored once.

SQLite gives a deleted newest row's id to the next insert unless the table is declared
`AUTOINCREMENT`; the ids of users, tokens, experiments, trials, trial events and log lines name
files (work directories, TensorBoard `trial_<id>`) or are cursors and URLs clients hold, so those
tables are rebuilt with it (ids kept; `sqlite_sequence` starts at each table's largest id).
PostgreSQL `SERIAL` sequences never hand an id out twice and need nothing.

`logs.seq` is the launcher's number for a line within its allocation; a unique index on
`(allocation_id, seq)` makes a resent batch and the on-disk spool replayed after a master restart
store each line once. Lines without a number (older launchers) are unaffected.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

_ID_TABLES = ("users", "api_tokens", "experiments", "trials", "trial_events", "logs")
_SEQ_INDEX = "uq_logs_allocation_id_seq"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # Database.migrate() turns SQLite's foreign keys off around the migration: dropping a
        # parent table during the rebuild would otherwise cascade-delete its children.
        for table in _ID_TABLES:
            with op.batch_alter_table(
                table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
            ) as batch:
                if table == "logs":
                    batch.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
    else:
        op.add_column("logs", sa.Column("seq", sa.BigInteger(), nullable=True))
    op.create_index(_SEQ_INDEX, "logs", ["allocation_id", "seq"], unique=True)


def downgrade() -> None:
    op.drop_index(_SEQ_INDEX, table_name="logs")
    with op.batch_alter_table("logs") as batch:
        batch.drop_column("seq")
