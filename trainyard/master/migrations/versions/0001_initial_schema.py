"""Initial schema: users, experiments, trials, allocations, metrics, checkpoints, logs, tasks.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23 21:20:10.679361
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_T = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("admin", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("last_used_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"])
    op.create_table(
        "experiments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("labels", JSON_T, nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("config", JSON_T, nullable=False),
        sa.Column("config_yaml", sa.Text(), nullable=False),
        sa.Column("searcher_metric", sa.String(length=256), nullable=False),
        sa.Column("smaller_is_better", sa.Boolean(), nullable=False),
        sa.Column("searcher_snapshot", JSON_T, nullable=True),
        sa.Column("searcher_version", sa.Integer(), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("best_searcher_metric", sa.Float(), nullable=True),
        sa.Column("best_trial_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("ended_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_experiments_owner_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["experiments.id"],
            name=op.f("fk_experiments_parent_id_experiments"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiments")),
    )
    op.create_index(op.f("ix_experiments_owner_id"), "experiments", ["owner_id"])
    op.create_index(op.f("ix_experiments_state"), "experiments", ["state"])
    op.create_table(
        "tasks",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("url", sa.String(length=512), nullable=True),
        sa.Column("config", JSON_T, nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("ended_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_tasks_owner_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    op.create_table(
        "model_definitions",
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("tarball", sa.LargeBinary(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name=op.f("fk_model_definitions_experiment_id_experiments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("experiment_id", name=op.f("pk_model_definitions")),
    )
    op.create_table(
        "trials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("hparams", JSON_T, nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("restarts", sa.Integer(), nullable=False),
        sa.Column("run_count", sa.Integer(), nullable=False),
        sa.Column("target_length", sa.BigInteger(), nullable=True),
        sa.Column("completed_length", sa.BigInteger(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("stop_requested", sa.Boolean(), nullable=False),
        sa.Column("exited_reason", sa.String(length=32), nullable=True),
        sa.Column("parent_request_id", sa.Integer(), nullable=True),
        sa.Column("warm_start_checkpoint_uuid", sa.String(length=64), nullable=True),
        sa.Column("total_batches", sa.BigInteger(), nullable=False),
        sa.Column("latest_checkpoint_uuid", sa.String(length=64), nullable=True),
        sa.Column("best_checkpoint_uuid", sa.String(length=64), nullable=True),
        sa.Column("best_validation", sa.Float(), nullable=True),
        sa.Column("latest_validation", sa.Float(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=True),
        sa.Column("ended_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name=op.f("fk_trials_experiment_id_experiments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trials")),
        sa.UniqueConstraint(
            "experiment_id", "request_id", name=op.f("uq_trials_experiment_id_request_id")
        ),
    )
    op.create_index(op.f("ix_trials_experiment_id"), "trials", ["experiment_id"])
    op.create_index(op.f("ix_trials_state"), "trials", ["state"])
    op.create_table(
        "allocations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("resource_pool", sa.String(length=128), nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("slot_ids", JSON_T, nullable=False),
        sa.Column("pids", JSON_T, nullable=False),
        sa.Column("pgid", sa.Integer(), nullable=True),
        sa.Column("preempt_reason", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=True),
        sa.Column("ended_at", sa.Float(), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["trial_id"],
            ["trials.id"],
            name=op.f("fk_allocations_trial_id_trials"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_allocations_token_hash")),
    )
    op.create_index(op.f("ix_allocations_state"), "allocations", ["state"])
    op.create_index(op.f("ix_allocations_trial_id"), "allocations", ["trial_id"])
    op.create_table(
        "checkpoints",
        sa.Column("uuid", sa.String(length=64), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("allocation_id", sa.String(length=64), nullable=True),
        sa.Column("steps_completed", sa.BigInteger(), nullable=False),
        sa.Column("metadata", JSON_T, nullable=False),
        sa.Column("metrics", JSON_T, nullable=False),
        sa.Column("searcher_metric", sa.Float(), nullable=True),
        sa.Column("resources", JSON_T, nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sharded", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name=op.f("fk_checkpoints_experiment_id_experiments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["trial_id"],
            ["trials.id"],
            name=op.f("fk_checkpoints_trial_id_trials"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("uuid", name=op.f("pk_checkpoints")),
    )
    op.create_index(op.f("ix_checkpoints_experiment_id"), "checkpoints", ["experiment_id"])
    op.create_index(op.f("ix_checkpoints_trial_id"), "checkpoints", ["trial_id"])
    op.create_table(
        "logs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("allocation_id", sa.String(length=64), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("stream", sa.String(length=8), nullable=False),
        sa.Column("timestamp", sa.Float(), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trials.id"], name=op.f("fk_logs_trial_id_trials"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logs")),
    )
    op.create_index("ix_logs_trial_id_id", "logs", ["trial_id", "id"])
    op.create_table(
        "metrics",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("metric_group", sa.String(length=32), nullable=False),
        sa.Column("steps", sa.BigInteger(), nullable=False),
        sa.Column("steps_level", sa.SmallInteger(), nullable=False),
        sa.Column("metrics", JSON_T, nullable=False),
        sa.Column("searcher_metric", sa.Float(), nullable=True),
        sa.Column("timestamp", sa.Float(), nullable=False),
        sa.Column("trial_run_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name=op.f("fk_metrics_experiment_id_experiments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trials.id"], name=op.f("fk_metrics_trial_id_trials"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metrics")),
        sa.UniqueConstraint(
            "trial_id", "metric_group", "steps", name=op.f("uq_metrics_trial_id_metric_group_steps")
        ),
    )
    op.create_index(
        "ix_metrics_experiment_level", "metrics", ["experiment_id", "metric_group", "steps_level"]
    )
    op.create_table(
        "trial_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("time", sa.Float(), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("allocation_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["trial_id"],
            ["trials.id"],
            name=op.f("fk_trial_events_trial_id_trials"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trial_events")),
    )
    op.create_index(op.f("ix_trial_events_trial_id"), "trial_events", ["trial_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_trial_events_trial_id"), table_name="trial_events")
    op.drop_table("trial_events")
    op.drop_index("ix_metrics_experiment_level", table_name="metrics")
    op.drop_table("metrics")
    op.drop_index("ix_logs_trial_id_id", table_name="logs")
    op.drop_table("logs")
    op.drop_index(op.f("ix_checkpoints_trial_id"), table_name="checkpoints")
    op.drop_index(op.f("ix_checkpoints_experiment_id"), table_name="checkpoints")
    op.drop_table("checkpoints")
    op.drop_index(op.f("ix_allocations_trial_id"), table_name="allocations")
    op.drop_index(op.f("ix_allocations_state"), table_name="allocations")
    op.drop_table("allocations")
    op.drop_index(op.f("ix_trials_state"), table_name="trials")
    op.drop_index(op.f("ix_trials_experiment_id"), table_name="trials")
    op.drop_table("trials")
    op.drop_table("model_definitions")
    op.drop_table("tasks")
    op.drop_index(op.f("ix_experiments_state"), table_name="experiments")
    op.drop_index(op.f("ix_experiments_owner_id"), table_name="experiments")
    op.drop_table("experiments")
    op.drop_index(op.f("ix_api_tokens_user_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("users")
