"""Checkpoints repository and the garbage-collection selection rule.

Registration is idempotent by uuid (a resent registration after a restart changes nothing) and
advances `Trial.latest_checkpoint_uuid`. Validation metrics at the same steps are attached to the
checkpoint whichever of the two arrives first (see `metrics.add_metrics`).

`select_for_deletion` is the pure GC rule; `checkpoints_to_delete` applies it to the DB rows.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from trainyard.master.db._common import get_or_raise, now
from trainyard.master.db.models import Checkpoint, Experiment, Metric, Trial
from trainyard.master.states import CheckpointState

__all__ = [
    "CheckpointInfo",
    "attach_validation",
    "checkpoints_to_delete",
    "get_checkpoint",
    "list_checkpoints",
    "mark_deleted",
    "register_checkpoint",
    "select_for_deletion",
]


def register_checkpoint(
    session: Session,
    trial_id: int,
    *,
    uuid: str,
    steps_completed: int,
    metadata: Mapping[str, Any] | None = None,
    resources: Mapping[str, int] | None = None,
    sharded: bool = False,
    allocation_id: str | None = None,
) -> Checkpoint:
    """Record a checkpoint committed to storage; returns the existing row if `uuid` is known."""
    existing = session.get(Checkpoint, uuid)
    if existing is not None:
        return existing
    trial = get_or_raise(session, Trial, trial_id, "trial", for_update=True)
    validation = session.scalar(
        select(Metric).where(
            Metric.trial_id == trial_id,
            Metric.group == "validation",
            Metric.steps == steps_completed,
        )
    )
    files = dict(resources or {})
    checkpoint = Checkpoint(
        uuid=uuid,
        trial_id=trial_id,
        experiment_id=trial.experiment_id,
        allocation_id=allocation_id,
        steps_completed=steps_completed,
        meta=dict(metadata or {}),
        metrics=dict(validation.metrics) if validation is not None else {},
        searcher_metric=validation.searcher_metric if validation is not None else None,
        resources=files,
        size_bytes=sum(int(size) for size in files.values()),
        sharded=sharded,
        state=CheckpointState.ACTIVE.value,
        created_at=now(),
    )
    session.add(checkpoint)
    latest = (
        session.get(Checkpoint, trial.latest_checkpoint_uuid)
        if trial.latest_checkpoint_uuid
        else None
    )
    if latest is None or latest.steps_completed <= steps_completed:
        trial.latest_checkpoint_uuid = uuid
    session.flush()
    return checkpoint


def attach_validation(
    session: Session, trial_id: int, steps: int, metrics: dict[str, Any], value: float | None
) -> None:
    """Copy validation metrics onto the trial's checkpoint at `steps`, if one exists."""
    session.execute(
        update(Checkpoint)
        .where(Checkpoint.trial_id == trial_id, Checkpoint.steps_completed == steps)
        .values(metrics=metrics, searcher_metric=value)
    )


def get_checkpoint(session: Session, uuid: str) -> Checkpoint:
    """The checkpoint, or `NotFoundError("checkpoint X does not exist")`."""
    return get_or_raise(session, Checkpoint, uuid, "checkpoint")


def list_checkpoints(
    session: Session,
    *,
    experiment_id: int | None = None,
    trial_id: int | None = None,
    states: Iterable[CheckpointState] | None = (CheckpointState.ACTIVE,),
) -> list[Checkpoint]:
    """Checkpoints by experiment and/or trial (ACTIVE only by default), by trial then steps."""
    query = select(Checkpoint).order_by(Checkpoint.trial_id, Checkpoint.steps_completed)
    if experiment_id is not None:
        query = query.where(Checkpoint.experiment_id == experiment_id)
    if trial_id is not None:
        query = query.where(Checkpoint.trial_id == trial_id)
    if states is not None:
        query = query.where(Checkpoint.state.in_([s.value for s in states]))
    return list(session.scalars(query))


def mark_deleted(session: Session, uuids: Collection[str]) -> int:
    """Mark checkpoints DELETED (after their files are gone); returns how many changed."""
    if not uuids:
        return 0
    result = session.execute(
        update(Checkpoint)
        .where(Checkpoint.uuid.in_(list(uuids)), Checkpoint.state == CheckpointState.ACTIVE)
        .values(state=CheckpointState.DELETED.value)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult of an UPDATE


@dataclass(frozen=True)
class CheckpointInfo:
    """What the GC rule needs to know about one ACTIVE checkpoint."""

    uuid: str
    trial_id: int
    steps_completed: int
    searcher_metric: float | None


def select_for_deletion(
    checkpoints: Sequence[CheckpointInfo],
    *,
    smaller_is_better: bool,
    save_experiment_best: int,
    save_trial_best: int,
    save_trial_latest: int,
    protected: Collection[str] = (),
) -> set[str]:
    """UUIDs to delete: every checkpoint not kept by any of the rules.

    Kept: the `save_experiment_best` best over the experiment, the `save_trial_best` best of each
    trial (by searcher metric; checkpoints without a metric, or NaN, are never "best"), the
    `save_trial_latest` latest of each trial (by steps), and every uuid in `protected`
    (e.g. checkpoints a queued trial will start from).
    """
    keep: set[str] = set(protected)
    by_trial: dict[int, list[CheckpointInfo]] = {}
    for ckpt in checkpoints:
        by_trial.setdefault(ckpt.trial_id, []).append(ckpt)
    keep.update(c.uuid for c in _best(checkpoints, save_experiment_best, smaller_is_better))
    for rows in by_trial.values():
        keep.update(c.uuid for c in _best(rows, save_trial_best, smaller_is_better))
        latest = sorted(rows, key=lambda c: (c.steps_completed, c.uuid), reverse=True)
        keep.update(c.uuid for c in latest[: max(save_trial_latest, 0)])
    return {c.uuid for c in checkpoints} - keep


def _best(rows: Iterable[CheckpointInfo], n: int, smaller_is_better: bool) -> list[CheckpointInfo]:
    if n <= 0:
        return []
    scored = [
        c for c in rows if c.searcher_metric is not None and not math.isnan(c.searcher_metric)
    ]
    sign = 1.0 if smaller_is_better else -1.0

    def key(c: CheckpointInfo) -> tuple[float, int, str]:
        assert c.searcher_metric is not None  # filtered above
        return (sign * c.searcher_metric, -c.steps_completed, c.uuid)

    return sorted(scored, key=key)[:n]


def checkpoints_to_delete(
    session: Session,
    experiment_id: int,
    *,
    save_experiment_best: int,
    save_trial_best: int,
    save_trial_latest: int,
    protected: Collection[str] = (),
) -> list[Checkpoint]:
    """ACTIVE checkpoints of the experiment that its retention policy no longer keeps."""
    experiment = get_or_raise(session, Experiment, experiment_id, "experiment")
    rows = list_checkpoints(session, experiment_id=experiment_id)
    infos = [CheckpointInfo(c.uuid, c.trial_id, c.steps_completed, c.searcher_metric) for c in rows]
    doomed = select_for_deletion(
        infos,
        smaller_is_better=experiment.smaller_is_better,
        save_experiment_best=save_experiment_best,
        save_trial_best=save_trial_best,
        save_trial_latest=save_trial_latest,
        protected=protected,
    )
    return [c for c in rows if c.uuid in doomed]
