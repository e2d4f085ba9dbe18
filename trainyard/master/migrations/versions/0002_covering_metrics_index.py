"""Covering index for experiment-wide metric reads.

Replaces ix_metrics_experiment_level (experiment_id, metric_group, steps_level) with one that also
holds trial_id, steps and searcher_metric, so downsampled reads of the searcher metric over a
10,000-trial experiment never touch the table.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_COLUMNS = ["experiment_id", "metric_group", "steps_level", "trial_id", "steps", "searcher_metric"]


def upgrade() -> None:
    op.drop_index("ix_metrics_experiment_level", table_name="metrics")
    op.create_index("ix_metrics_experiment_level_cover", "metrics", _COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_metrics_experiment_level_cover", table_name="metrics")
    op.create_index(
        "ix_metrics_experiment_level", "metrics", ["experiment_id", "metric_group", "steps_level"]
    )
