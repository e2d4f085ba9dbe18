"""Allocations repository: one run of one trial on some slots, with its bearer token.

allocation, token = create_allocation(session, trial_id, resource_pool="default", slots=1)
# hand `token` to the trial processes (env TRAINYARD_ALLOCATION_TOKEN); only its hash is kept
allocation_for_token(session, token)   # -> Allocation or None
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from trainyard.errors import TrainyardError
from trainyard.master.db._common import get_or_raise, now
from trainyard.master.db.models import Allocation, Trial
from trainyard.master.db.users import hash_token, new_token
from trainyard.master.states import AllocationState

__all__ = [
    "PREEMPT_REASONS",
    "allocation_for_token",
    "create_allocation",
    "finish_allocation",
    "get_allocation",
    "latest_allocation",
    "list_allocations",
    "request_preemption",
    "set_allocation_state",
    "set_processes",
]

PREEMPT_REASONS = ("pause", "preempt", "stop", "kill")
"""Why a trial is asked to stop, mildest first; a later, stronger reason replaces a milder one."""


def create_allocation(
    session: Session,
    trial_id: int,
    *,
    resource_pool: str = "default",
    slots: int = 1,
    slot_ids: Sequence[int] = (),
    state: AllocationState = AllocationState.PENDING,
) -> tuple[Allocation, str]:
    """Insert a new allocation for `trial_id` (and count it in `Trial.run_count`).

    Returns the row and its token in clear; the token is not recoverable afterwards.
    """
    trial = get_or_raise(session, Trial, trial_id, "trial")
    token = new_token()
    allocation = Allocation(
        id=str(uuid.uuid4()),
        trial_id=trial_id,
        token_hash=hash_token(token),
        state=state.value,
        resource_pool=resource_pool,
        slots=slots,
        slot_ids=list(slot_ids),
        pids=[],
        created_at=now(),
    )
    session.add(allocation)
    trial.run_count += 1
    session.flush()
    return allocation, token


def get_allocation(session: Session, allocation_id: str, *, for_update: bool = False) -> Allocation:
    """The allocation, or `NotFoundError("allocation X does not exist")`."""
    return get_or_raise(session, Allocation, allocation_id, "allocation", for_update=for_update)


def allocation_for_token(session: Session, token: str) -> Allocation | None:
    """The allocation whose token this is (in any state; callers decide what ended ones may do)."""
    return session.scalar(select(Allocation).where(Allocation.token_hash == hash_token(token)))


def list_allocations(
    session: Session,
    *,
    states: Iterable[AllocationState] | None = None,
    trial_id: int | None = None,
) -> list[Allocation]:
    """Allocations filtered by state and/or trial, oldest first."""
    query = select(Allocation).order_by(Allocation.created_at, Allocation.id)
    if states is not None:
        query = query.where(Allocation.state.in_([s.value for s in states]))
    if trial_id is not None:
        query = query.where(Allocation.trial_id == trial_id)
    return list(session.scalars(query))


def latest_allocation(session: Session, trial_id: int) -> Allocation | None:
    """The trial's most recently created allocation, if any."""
    query = (
        select(Allocation)
        .where(Allocation.trial_id == trial_id)
        .order_by(Allocation.created_at.desc(), Allocation.id.desc())
        .limit(1)
    )
    return session.scalar(query)


def set_allocation_state(
    session: Session, allocation_id: str, target: AllocationState
) -> Allocation:
    """Move to `target` if allowed (`InvalidTransitionError` otherwise); STARTING records
    `started_at`, TERMINATED `ended_at`."""
    allocation = get_allocation(session, allocation_id, for_update=True)
    AllocationState(allocation.state).transition_to(target, subject=f"allocation {allocation_id}")
    allocation.state = target.value
    if target is AllocationState.STARTING:
        allocation.started_at = now()
    if target is AllocationState.TERMINATED:
        allocation.ended_at = now()
    return allocation


def set_processes(
    session: Session, allocation_id: str, pids: Sequence[int], pgid: int | None
) -> Allocation:
    """Record the OS processes, so a restarted master can kill orphans of a dead one."""
    allocation = get_allocation(session, allocation_id)
    allocation.pids = list(pids)
    allocation.pgid = pgid
    return allocation


def request_preemption(session: Session, allocation_id: str, reason: str) -> Allocation:
    """Ask the trial to stop for `reason` (see PREEMPT_REASONS); a milder reason never
    replaces a stronger one already recorded."""
    if reason not in PREEMPT_REASONS:
        raise TrainyardError(f"preempt reason {reason!r} is not one of {PREEMPT_REASONS}")
    allocation = get_allocation(session, allocation_id, for_update=True)
    current = allocation.preempt_reason
    if current is None or PREEMPT_REASONS.index(reason) > PREEMPT_REASONS.index(current):
        allocation.preempt_reason = reason
    return allocation


def finish_allocation(session: Session, allocation_id: str, exit_code: int | None) -> Allocation:
    """Mark the allocation TERMINATED with its exit code (idempotent once terminated)."""
    allocation = get_allocation(session, allocation_id, for_update=True)
    if allocation.state != AllocationState.TERMINATED:
        set_allocation_state(session, allocation_id, AllocationState.TERMINATED)
        allocation.exit_code = exit_code
    return allocation
