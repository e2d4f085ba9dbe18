"""Why a trial failed or could not start, in one line, on the trial row.

Adds `trials.error` (nullable text): set when a trial is ERRORED or restarted after a failure
(exit status and the run's last output line, a start failure, an unschedulable request, a
checkpoint it could not restore), cleared when it completes.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("trials", sa.Column("error", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("trials") as batch:
        batch.drop_column("error")
