"""SQLAlchemy 2 models: the master's tables. The DB is the single source of truth.

Conventions callers rely on:
- Times are UTC epoch seconds (`float`), identical on SQLite and PostgreSQL.
- States are stored as their enum value (`"ACTIVE"`); attributes are typed as `str`, compare with
  the enums of `trainyard.master.states` (they are `StrEnum`s, so `row.state == TrialState.QUEUED`).
- JSON columns store non-finite floats as the strings `"NaN"`, `"Infinity"`, `"-Infinity"` (JSON
  has no NaN); numeric columns such as `Metric.searcher_metric` hold real NaN/inf.
- Large blobs (model definitions) live in their own table so listing experiments never loads them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Allocation",
    "ApiToken",
    "Base",
    "Checkpoint",
    "Experiment",
    "LogLine",
    "Metric",
    "ModelDefinition",
    "Task",
    "Trial",
    "TrialEvent",
    "User",
]

JsonType = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL needs 64 bits for big tables.
BigId = BigInteger().with_variant(Integer(), "sqlite")
# Ids of these tables name files (work dirs, TensorBoard `trial_<id>`) and are cursors/URLs for
# clients: SQLite must never hand a deleted row's id out again (PostgreSQL sequences never do).
_NEVER_REUSE_IDS: dict[str, Any] = {"sqlite_autoincrement": True}

_NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base; `Base.metadata` is what the migrations describe."""

    metadata = MetaData(naming_convention=_NAMING)


class User(Base):
    __tablename__ = "users"
    __table_args__ = _NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(128), unique=True)
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(256), default=None)
    created_at: Mapped[float] = mapped_column(Float)


class ApiToken(Base):
    """An API token; only its sha256 hex digest is stored, never the token itself."""

    __tablename__ = "api_tokens"
    __table_args__ = _NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[float] = mapped_column(Float)
    last_used_at: Mapped[float | None] = mapped_column(Float, default=None)


class Experiment(Base):
    __tablename__ = "experiments"
    __table_args__ = _NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    description: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    labels: Mapped[list[str]] = mapped_column(JsonType, default=list)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None, index=True
    )
    state: Mapped[str] = mapped_column(String(32), index=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("experiments.id", ondelete="SET NULL"), default=None
    )
    config: Mapped[dict[str, Any]] = mapped_column(JsonType)
    """The validated experiment config as JSON (`ExperimentConfig.model_dump(mode="json")`)."""
    config_yaml: Mapped[str] = mapped_column(Text, default="")
    """The config text exactly as the user submitted it."""
    searcher_metric: Mapped[str] = mapped_column(String(256))
    smaller_is_better: Mapped[bool] = mapped_column(Boolean, default=True)
    searcher_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JsonType, default=None)
    searcher_version: Mapped[int] = mapped_column(Integer, default=0)
    """Incremented on every snapshot save; lets a reader tell which snapshot is newer."""
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    priority: Mapped[int | None] = mapped_column(Integer, default=None)
    """Overrides `config.resources.priority` when set (the "set priority" action)."""
    best_searcher_metric: Mapped[float | None] = mapped_column(Float, default=None)
    best_trial_id: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[float] = mapped_column(Float)
    ended_at: Mapped[float | None] = mapped_column(Float, default=None)


class ModelDefinition(Base):
    """The model directory tarball of an experiment, kept apart so listings never load it."""

    __tablename__ = "model_definitions"

    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), primary_key=True
    )
    tarball: Mapped[bytes] = mapped_column(LargeBinary)
    size_bytes: Mapped[int] = mapped_column(BigInteger)


class Trial(Base):
    __tablename__ = "trials"
    __table_args__ = (UniqueConstraint("experiment_id", "request_id"), _NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), index=True
    )
    request_id: Mapped[int] = mapped_column(Integer)
    """The searcher's id for this trial, unique within the experiment."""
    hparams: Mapped[dict[str, Any]] = mapped_column(JsonType)
    state: Mapped[str] = mapped_column(String(32), index=True)
    seed: Mapped[int] = mapped_column(BigInteger, default=0)
    restarts: Mapped[int] = mapped_column(Integer, default=0)
    """Restarts after a failure so far (never more than `max_restarts`: the failure that finds
    none left makes the trial ERRORED without counting one)."""
    run_count: Mapped[int] = mapped_column(Integer, default=0)
    """Allocations started so far (restarts, preemptions and pauses included)."""
    target_length: Mapped[int | None] = mapped_column(BigInteger, default=None)
    """Length of the pending `ValidateAfter` (cumulative); None when there is no work."""
    completed_length: Mapped[int] = mapped_column(BigInteger, default=0)
    """Largest length whose validation the searcher has received."""
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    stop_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    exited_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    """`ExitedReason` value when the trial ended early (invalid_hp, errored, user_canceled)."""
    error: Mapped[str | None] = mapped_column(Text, default=None)
    """Why the trial failed or could not start, in one line (None once it completed)."""
    parent_request_id: Mapped[int | None] = mapped_column(Integer, default=None)
    """`Create.checkpoint_from`: the request id whose checkpoint this trial starts from."""
    warm_start_checkpoint_uuid: Mapped[str | None] = mapped_column(String(64), default=None)
    total_batches: Mapped[int] = mapped_column(BigInteger, default=0)
    latest_checkpoint_uuid: Mapped[str | None] = mapped_column(String(64), default=None)
    best_checkpoint_uuid: Mapped[str | None] = mapped_column(String(64), default=None)
    best_validation: Mapped[float | None] = mapped_column(Float, default=None)
    latest_validation: Mapped[float | None] = mapped_column(Float, default=None)
    """Searcher metric of the validation report with the most steps (None if it had none)."""
    last_validation_steps: Mapped[int | None] = mapped_column(BigInteger, default=None)
    """Greatest steps of the trial's validation reports; None before the first."""
    created_at: Mapped[float] = mapped_column(Float)
    started_at: Mapped[float | None] = mapped_column(Float, default=None)
    ended_at: Mapped[float | None] = mapped_column(Float, default=None)


class TrialEvent(Base):
    """History of a trial's runs: each exit, failure, restart or preemption, with its reason."""

    __tablename__ = "trial_events"
    __table_args__ = _NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    """Free-form but conventional: "exit", "restart", "preempted", "early_exit", "killed"."""
    time: Mapped[float] = mapped_column(Float)
    exit_code: Mapped[int | None] = mapped_column(Integer, default=None)
    reason: Mapped[str] = mapped_column(Text, default="")
    allocation_id: Mapped[str | None] = mapped_column(String(64), default=None)


class Allocation(Base):
    """One run of one trial on some slots; its token is known only as a sha256 digest."""

    __tablename__ = "allocations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(32), index=True)
    resource_pool: Mapped[str] = mapped_column(String(128), default="default")
    slots: Mapped[int] = mapped_column(Integer, default=1)
    slot_ids: Mapped[list[int]] = mapped_column(JsonType, default=list)
    pids: Mapped[list[int]] = mapped_column(JsonType, default=list)
    pgid: Mapped[int | None] = mapped_column(Integer, default=None)
    preempt_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    """None, or why the trial was asked to stop: "pause", "preempt", "stop", "kill"."""
    created_at: Mapped[float] = mapped_column(Float)
    started_at: Mapped[float | None] = mapped_column(Float, default=None)
    ended_at: Mapped[float | None] = mapped_column(Float, default=None)
    exit_code: Mapped[int | None] = mapped_column(Integer, default=None)


class Metric(Base):
    """One report (training or validation) of one trial at one step count.

    Unique per (trial_id, group, steps): a resent report replaces the stored one.
    """

    __tablename__ = "metrics"
    __table_args__ = (
        UniqueConstraint("trial_id", "metric_group", "steps"),
        # Covers experiment-wide reads of the searcher metric (no table lookups at all).
        Index(
            "ix_metrics_experiment_level_cover",
            "experiment_id",
            "metric_group",
            "steps_level",
            "trial_id",
            "steps",
            "searcher_metric",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    trial_id: Mapped[int] = mapped_column(Integer)
    """Not a foreign key (nor `experiment_id`): checking them cost every ingested row
    (migration 0004); ingest reads the trial in its transaction and `delete_experiment`
    deletes the experiment's rows."""
    experiment_id: Mapped[int] = mapped_column(Integer)
    """Denormalized from the trial so experiment-wide reads use one index."""
    group: Mapped[str] = mapped_column("metric_group", String(32))
    steps: Mapped[int] = mapped_column(BigInteger)
    steps_level: Mapped[int] = mapped_column(SmallInteger, default=0)
    """Trailing zero bits of `steps` (capped): rows with level >= L are a 1/2^L thinning."""
    metrics: Mapped[dict[str, Any]] = mapped_column(JsonType)
    searcher_metric: Mapped[float | None] = mapped_column(Float, default=None)
    """The experiment's searcher metric on validation rows (NaN/inf kept as floats)."""
    timestamp: Mapped[float] = mapped_column(Float)
    trial_run_id: Mapped[int] = mapped_column(Integer, default=0)


class Checkpoint(Base):
    __tablename__ = "checkpoints"

    uuid: Mapped[str] = mapped_column(String(64), primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id", ondelete="CASCADE"), index=True)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), index=True
    )
    allocation_id: Mapped[str | None] = mapped_column(String(64), default=None)
    steps_completed: Mapped[int] = mapped_column(BigInteger)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JsonType, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    """Validation metrics at the checkpoint's steps, when there were any."""
    searcher_metric: Mapped[float | None] = mapped_column(Float, default=None)
    resources: Mapped[dict[str, int]] = mapped_column(JsonType, default=dict)
    """relpath -> size in bytes."""
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    sharded: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(32), default="ACTIVE")
    created_at: Mapped[float] = mapped_column(Float)


class LogLine(Base):
    __tablename__ = "logs"
    __table_args__ = (
        Index("ix_logs_trial_id_id", "trial_id", "id"),
        # A line the launcher numbered is stored once, however often it is sent (retries, the
        # on-disk spool replayed after a master restart).
        Index("uq_logs_allocation_id_seq", "allocation_id", "seq", unique=True),
        _NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id", ondelete="CASCADE"))
    allocation_id: Mapped[str | None] = mapped_column(String(64), default=None)
    rank: Mapped[int | None] = mapped_column(Integer, default=None)
    stream: Mapped[str] = mapped_column(String(8), default="stdout")
    timestamp: Mapped[float] = mapped_column(Float)
    line: Mapped[str] = mapped_column(Text)
    seq: Mapped[int | None] = mapped_column(BigInteger, default=None)
    """The launcher's number for the line within its allocation (None: not numbered)."""


class Task(Base):
    """A notebook or TensorBoard task (a stub for now)."""

    __tablename__ = "tasks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    url: Mapped[str | None] = mapped_column(String(512), default=None)
    config: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[float] = mapped_column(Float)
    ended_at: Mapped[float | None] = mapped_column(Float, default=None)
