"""Trials repository: creation per searcher request, lifecycle, restarts and their history.

Searcher bookkeeping (`target_length`, `completed_length`, `closed`, `stop_requested`) and
checkpoint pointers are plain attributes of the `Trial` row: set them on the row returned by
`get_trial` inside the caller's unit of work. State changes go through `set_trial_state`, which
enforces the lifecycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import UnaryExpression, func, select
from sqlalchemy.orm import Session

from trainyard.errors import NotFoundError, TrainyardError
from trainyard.master.db._common import get_or_raise, now
from trainyard.master.db.models import Trial, TrialEvent
from trainyard.master.states import TrialState

__all__ = [
    "count_trials",
    "create_trial",
    "get_trial",
    "get_trial_by_request",
    "list_events",
    "list_trials",
    "record_event",
    "record_restart",
    "set_trial_state",
    "trial_state_counts",
]

_ORDER: dict[str, UnaryExpression[Any]] = {
    "id": Trial.id.asc(),
    "-id": Trial.id.desc(),
    "best_validation": Trial.best_validation.asc(),
    "-best_validation": Trial.best_validation.desc(),
    "total_batches": Trial.total_batches.asc(),
    "-total_batches": Trial.total_batches.desc(),
}


def create_trial(
    session: Session,
    experiment_id: int,
    request_id: int,
    hparams: dict[str, Any],
    *,
    seed: int = 0,
    target_length: int | None = None,
    parent_request_id: int | None = None,
    warm_start_checkpoint_uuid: str | None = None,
    state: TrialState = TrialState.QUEUED,
) -> Trial:
    """Insert the trial for a searcher `Create`; `TrainyardError` if the request has one."""
    if get_trial_by_request(session, experiment_id, request_id) is not None:
        raise TrainyardError(
            f"experiment {experiment_id} already has a trial for request {request_id}"
        )
    trial = Trial(
        experiment_id=experiment_id,
        request_id=request_id,
        hparams=hparams,
        state=state.value,
        seed=seed,
        restarts=0,
        run_count=0,
        target_length=target_length,
        completed_length=0,
        closed=False,
        stop_requested=False,
        parent_request_id=parent_request_id,
        warm_start_checkpoint_uuid=warm_start_checkpoint_uuid,
        total_batches=0,
        created_at=now(),
    )
    session.add(trial)
    session.flush()
    return trial


def get_trial(session: Session, trial_id: int, *, for_update: bool = False) -> Trial:
    """The trial, or `NotFoundError("trial N does not exist")`."""
    return get_or_raise(session, Trial, trial_id, "trial", for_update=for_update)


def get_trial_by_request(session: Session, experiment_id: int, request_id: int) -> Trial | None:
    query = select(Trial).where(
        Trial.experiment_id == experiment_id, Trial.request_id == request_id
    )
    return session.scalar(query)


def _filters(
    experiment_id: int | None, states: Iterable[TrialState] | None, ids: Sequence[int] | None
) -> list[Any]:
    where: list[Any] = []
    if experiment_id is not None:
        where.append(Trial.experiment_id == experiment_id)
    if states is not None:
        where.append(Trial.state.in_([s.value for s in states]))
    if ids is not None:
        where.append(Trial.id.in_(list(ids)))
    return where


def list_trials(
    session: Session,
    experiment_id: int | None = None,
    *,
    states: Iterable[TrialState] | None = None,
    ids: Sequence[int] | None = None,
    order_by: str = "id",
    limit: int | None = None,
    offset: int = 0,
) -> list[Trial]:
    """Trials matching every given filter; `order_by` is one of id, best_validation,
    total_batches, each optionally prefixed by "-" for descending (NULL metrics sort last)."""
    if order_by not in _ORDER:
        raise TrainyardError(f"order_by {order_by!r} is not one of {', '.join(_ORDER)}")
    order = _ORDER[order_by]
    query = (
        select(Trial)
        .where(*_filters(experiment_id, states, ids))
        .order_by(order.nulls_last(), Trial.id)
        .offset(offset)
        .limit(limit)
    )
    return list(session.scalars(query))


def count_trials(
    session: Session,
    experiment_id: int | None = None,
    *,
    states: Iterable[TrialState] | None = None,
) -> int:
    query = select(func.count()).select_from(Trial).where(*_filters(experiment_id, states, None))
    return session.scalar(query) or 0


def trial_state_counts(
    session: Session, experiment_ids: Sequence[int]
) -> dict[int, dict[str, int]]:
    """{experiment_id: {state: count}} in one query (experiments without trials map to {})."""
    query = (
        select(Trial.experiment_id, Trial.state, func.count())
        .where(Trial.experiment_id.in_(list(experiment_ids)))
        .group_by(Trial.experiment_id, Trial.state)
    )
    out: dict[int, dict[str, int]] = {eid: {} for eid in experiment_ids}
    for experiment_id, state, count in session.execute(query):
        out[experiment_id][state] = count
    return out


def set_trial_state(session: Session, trial_id: int, target: TrialState) -> Trial:
    """Move the trial to `target` if allowed (`InvalidTransitionError` otherwise); the first
    RUNNING records `started_at`, a terminal state `ended_at`."""
    trial = get_trial(session, trial_id, for_update=True)
    TrialState(trial.state).transition_to(target, subject=f"trial {trial_id}")
    trial.state = target.value
    if target is TrialState.RUNNING and trial.started_at is None:
        trial.started_at = now()
    if target.is_terminal:
        trial.ended_at = now()
    return trial


def record_event(
    session: Session,
    trial_id: int,
    kind: str,
    *,
    reason: str = "",
    exit_code: int | None = None,
    allocation_id: str | None = None,
) -> TrialEvent:
    """Append to the trial's history ("exit", "restart", "preempted", "early_exit", "killed"...)."""
    event = TrialEvent(
        trial_id=trial_id,
        kind=kind,
        time=now(),
        reason=reason,
        exit_code=exit_code,
        allocation_id=allocation_id,
    )
    session.add(event)
    session.flush()
    return event


def record_restart(
    session: Session,
    trial_id: int,
    *,
    reason: str,
    exit_code: int | None = None,
    allocation_id: str | None = None,
) -> int:
    """Count one failure against `max_restarts`, log it as a "restart" event; return restarts."""
    trial = get_trial(session, trial_id, for_update=True)
    trial.restarts += 1
    record_event(
        session,
        trial_id,
        "restart",
        reason=reason,
        exit_code=exit_code,
        allocation_id=allocation_id,
    )
    return trial.restarts


def list_events(session: Session, trial_id: int) -> list[TrialEvent]:
    """The trial's history, oldest first."""
    if session.get(Trial, trial_id) is None:
        raise NotFoundError(f"trial {trial_id} does not exist")
    query = select(TrialEvent).where(TrialEvent.trial_id == trial_id).order_by(TrialEvent.id)
    return list(session.scalars(query))
