"""Each trial's last validation steps, so experiment-wide reads need no per-trial index seek.

Adds `trials.last_validation_steps` (the greatest steps of the trial's validation reports) and
makes `trials.latest_validation` the searcher metric of exactly that report. Existing rows are
filled from the metrics table.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

_LAST_STEPS = (
    "UPDATE trials SET last_validation_steps = (SELECT max(m.steps) FROM metrics AS m "
    "WHERE m.trial_id = trials.id AND m.metric_group = 'validation')"
)
_LATEST = (
    "UPDATE trials SET latest_validation = (SELECT m.searcher_metric FROM metrics AS m "
    "WHERE m.trial_id = trials.id AND m.metric_group = 'validation' "
    "AND m.steps = trials.last_validation_steps) WHERE last_validation_steps IS NOT NULL"
)


def upgrade() -> None:
    op.add_column("trials", sa.Column("last_validation_steps", sa.BigInteger(), nullable=True))
    op.execute(_LAST_STEPS)
    op.execute(_LATEST)


def downgrade() -> None:
    with op.batch_alter_table("trials") as batch:
        batch.drop_column("last_validation_steps")
