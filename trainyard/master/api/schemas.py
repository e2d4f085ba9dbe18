"""Wire models of the user REST API (docs/rest-api.md) and their builders from DB rows.

Float fields that may be non-finite are typed `float | str | None`: NaN and infinities travel as
the strings "NaN", "Infinity", "-Infinity".
"""

from __future__ import annotations

import math
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from trainyard.master.db import models

__all__ = [
    "CheckpointOut",
    "ExperimentOut",
    "FloatOrStr",
    "LogLineOut",
    "Page",
    "TrialOut",
    "checkpoint_out",
    "enc",
    "experiment_out",
    "log_line_out",
    "trial_out",
]

FloatOrStr = float | str | None
DEFAULT_PRIORITY = 42


def enc(value: float | None) -> FloatOrStr:
    """A float for JSON: non-finite values become "NaN"/"Infinity"/"-Infinity"."""
    if value is None or math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class ExperimentOut(BaseModel):
    id: int
    name: str
    description: str | None
    labels: list[str]
    state: str
    archived: bool
    owner: str | None
    priority: int
    resource_pool: str
    searcher_name: str
    searcher_metric: str
    smaller_is_better: bool
    progress: float
    parent_id: int | None
    created_at: float
    ended_at: float | None
    trial_counts: dict[str, int] = Field(default_factory=dict)
    best_trial_id: int | None
    best_metric: FloatOrStr
    config: dict[str, Any] | None = None
    warnings: list[str] = Field(default_factory=list)
    """Create only: one line per config field ignored or translated (Determined configs)."""


class TrialOut(BaseModel):
    id: int
    experiment_id: int
    request_id: int
    state: str
    hparams: dict[str, Any]
    restarts: int
    trained_length: int
    target_length: int | None
    batches_trained: int = 0
    """Greatest step (batches) the trial reported: it moves within a searcher step, while
    `trained_length` (the searcher's unit) moves when a validation completes the step."""
    progress: float
    best_metric: FloatOrStr
    latest_metric: FloatOrStr
    latest_checkpoint: str | None
    exit_reason: str | None
    error: str | None = None
    """Why the trial failed or could not start, in one line (None once it completed)."""
    rung: int | None = None
    created_at: float
    started_at: float | None
    ended_at: float | None


class CheckpointOut(BaseModel):
    uuid: str
    trial_id: int
    experiment_id: int
    steps: int
    state: str
    metadata: dict[str, Any]
    metrics: dict[str, Any]
    resources: dict[str, int]
    size_bytes: int
    created_at: float


class LogLineOut(BaseModel):
    id: int
    trial_id: int
    allocation_id: str | None
    rank: int | None
    stream: str
    timestamp: float
    line: str


def experiment_out(
    row: models.Experiment,
    *,
    owner: str | None,
    trial_counts: dict[str, int],
    with_config: bool = False,
) -> ExperimentOut:
    config = row.config or {}
    resources = config.get("resources") or {}
    searcher = config.get("searcher") or {}
    priority = row.priority or resources.get("priority") or DEFAULT_PRIORITY
    return ExperimentOut(
        id=row.id,
        name=row.name,
        description=row.description or None,
        labels=list(row.labels or []),
        state=row.state,
        archived=row.archived,
        owner=owner,
        priority=int(priority),
        resource_pool=str(resources.get("resource_pool") or "default"),
        searcher_name=str(searcher.get("name") or ""),
        searcher_metric=row.searcher_metric,
        smaller_is_better=row.smaller_is_better,
        progress=row.progress,
        parent_id=row.parent_id,
        created_at=row.created_at,
        ended_at=row.ended_at,
        trial_counts=trial_counts,
        best_trial_id=row.best_trial_id,
        best_metric=enc(row.best_searcher_metric),
        config=config if with_config else None,
    )


def trial_out(row: models.Trial) -> TrialOut:
    target = row.target_length
    trained = max(row.completed_length, 0)
    progress = 1.0 if row.closed and target is None else (trained / target if target else 0.0)
    return TrialOut(
        id=row.id,
        experiment_id=row.experiment_id,
        request_id=row.request_id,
        state=row.state,
        hparams=row.hparams,
        restarts=row.restarts,
        trained_length=trained,
        target_length=target,
        batches_trained=max(row.total_batches or 0, 0),
        progress=min(progress, 1.0),
        best_metric=enc(row.best_validation),
        latest_metric=enc(row.latest_validation),
        latest_checkpoint=row.latest_checkpoint_uuid,
        exit_reason=row.exited_reason,
        error=row.error,
        created_at=row.created_at,
        started_at=row.started_at,
        ended_at=row.ended_at,
    )


def checkpoint_out(row: models.Checkpoint) -> CheckpointOut:
    return CheckpointOut(
        uuid=row.uuid,
        trial_id=row.trial_id,
        experiment_id=row.experiment_id,
        steps=row.steps_completed,
        state=row.state,
        metadata=row.meta or {},
        metrics=row.metrics or {},
        resources=row.resources or {},
        size_bytes=row.size_bytes,
        created_at=row.created_at,
    )


def log_line_out(row: models.LogLine) -> LogLineOut:
    return LogLineOut(
        id=row.id,
        trial_id=row.trial_id,
        allocation_id=row.allocation_id,
        rank=row.rank,
        stream=row.stream,
        timestamp=row.timestamp,
        line=row.line,
    )
