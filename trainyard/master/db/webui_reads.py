"""Read queries the web UI's live views need (progress within a searcher step, why a trial
waits, why an experiment failed). Functions take a `Session` first and never commit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trainyard.master.db.models import LogLine, Metric, Trial, TrialEvent

__all__ = [
    "LineageRow",
    "TrialLength",
    "failed_trials",
    "last_error_lines",
    "lineage",
    "rung_lengths",
    "trial_ends",
    "trial_events",
    "trial_lengths",
    "values_at",
]


@dataclass(frozen=True)
class TrialLength:
    """What a trial trained: `completed` is the searcher's (its last validated length, in the
    searcher's unit), `batches` the greatest step it reported (training or validation)."""

    id: int
    experiment_id: int
    state: str
    closed: bool
    completed: int
    target: int | None
    batches: int
    hparams: dict[str, Any]


def trial_lengths(
    session: Session,
    experiment_ids: Sequence[int],
    *,
    states: Sequence[str] | None = None,
    trial_ids: Sequence[int] | None = None,
) -> list[TrialLength]:
    """The lengths of the trials of `experiment_ids` (only `states`/`trial_ids` when given),
    oldest first."""
    query = select(
        Trial.id,
        Trial.experiment_id,
        Trial.state,
        Trial.closed,
        Trial.completed_length,
        Trial.target_length,
        Trial.total_batches,
        Trial.hparams,
    ).where(Trial.experiment_id.in_(list(experiment_ids)))
    if states is not None:
        query = query.where(Trial.state.in_(list(states)))
    if trial_ids is not None:
        query = query.where(Trial.id.in_(list(trial_ids)))
    return [
        TrialLength(tid, eid, state, bool(closed), max(done, 0), target, batches or 0, hp or {})
        for tid, eid, state, closed, done, target, batches, hp in session.execute(
            query.order_by(Trial.id)
        )
    ]


def last_error_lines(session: Session, trial_id: int, *, limit: int = 400) -> list[str]:
    """The trial's last `limit` stderr lines, oldest first (where a traceback ends up)."""
    rows = session.scalars(
        select(LogLine.line)
        .where(LogLine.trial_id == trial_id, LogLine.stream == "stderr")
        .order_by(LogLine.id.desc())
        .limit(limit)
    ).all()
    return list(reversed(rows))


def failed_trials(session: Session, experiment_id: int) -> list[tuple[int, int, str | None]]:
    """(trial id, restarts, one-line error the runtime recorded) of the experiment's ERRORED
    trials, oldest first."""
    rows = session.execute(
        select(Trial.id, Trial.restarts, Trial.error)
        .where(Trial.experiment_id == experiment_id, Trial.state == "ERRORED")
        .order_by(Trial.id)
    ).all()
    return [(tid, restarts, reason) for tid, restarts, reason in rows]


def trial_events(session: Session, trial_id: int) -> list[TrialEvent]:
    """The trial's events, oldest first."""
    return list(
        session.scalars(
            select(TrialEvent).where(TrialEvent.trial_id == trial_id).order_by(TrialEvent.id)
        ).all()
    )


def rung_lengths(session: Session, experiment_id: int) -> list[int]:
    """The distinct lengths the experiment's trials have validated at so far, ascending."""
    rows = session.scalars(
        select(Trial.completed_length)
        .where(Trial.experiment_id == experiment_id, Trial.completed_length > 0)
        .distinct()
    ).all()
    return sorted(int(r) for r in rows)


def values_at(
    session: Session, experiment_id: int, steps: Sequence[int]
) -> dict[int, dict[int, float]]:
    """{steps: {trial id: searcher metric}} of the experiment's validations at exactly `steps`
    (one covering-index range read; non-finite values left out)."""
    out: dict[int, dict[int, float]] = {s: {} for s in steps}
    if not steps:
        return out
    rows = session.execute(
        select(Metric.steps, Metric.trial_id, Metric.searcher_metric).where(
            Metric.experiment_id == experiment_id,
            Metric.group == "validation",
            Metric.steps.in_(list(steps)),
        )
    )
    for step, tid, value in rows:
        if value is not None and math.isfinite(value):
            out[int(step)][int(tid)] = float(value)
    return out


def trial_ends(session: Session, experiment_id: int) -> list[tuple[int, int, bool]]:
    """(trial id, searcher length validated, whether it has ended) of every trial."""
    rows = session.execute(
        select(Trial.id, Trial.completed_length, Trial.closed, Trial.state).where(
            Trial.experiment_id == experiment_id
        )
    )
    ended = ("COMPLETED", "CANCELED", "ERRORED")
    return [
        (tid, max(done, 0), bool(closed) or state in ended) for tid, done, closed, state in rows
    ]


@dataclass(frozen=True)
class LineageRow:
    """One trial of a population search: where it came from and what it started with."""

    id: int
    request_id: int
    parent_request_id: int | None
    checkpoint: str | None
    hparams: dict[str, Any]
    metric: float | None
    state: str


def lineage(session: Session, experiment_id: int) -> list[LineageRow]:
    """Every trial with its parent (by request id) and warm-start checkpoint, oldest first;
    `[]` (after one indexed probe, not a read of every trial) when no trial has a parent."""
    any_child = session.scalar(
        select(Trial.id)
        .where(Trial.experiment_id == experiment_id, Trial.parent_request_id.is_not(None))
        .limit(1)
    )
    if any_child is None:
        return []
    rows = session.execute(
        select(
            Trial.id,
            Trial.request_id,
            Trial.parent_request_id,
            Trial.warm_start_checkpoint_uuid,
            Trial.hparams,
            Trial.latest_validation,
            Trial.state,
        )
        .where(Trial.experiment_id == experiment_id)
        .order_by(Trial.id)
    )
    return [
        LineageRow(tid, rid, parent, ckpt, hp or {}, value, state)
        for tid, rid, parent, ckpt, hp, value, state in rows
    ]
