"""Handlers behind the trial-facing routes of docs/trial-api.md.

All of them are safe to call again with the same arguments (a trial resends after a restart or a
lost answer): a completed operation for a length already completed, a checkpoint already
registered, an early exit already recorded are ignored.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from trainyard.errors import InvalidTransitionError, NotFoundError, TrainyardError
from trainyard.master.db import Allocation, Trial
from trainyard.master.db import checkpoints as ckpt_repo
from trainyard.master.db import metrics as metric_repo
from trainyard.master.db import trials as trial_repo
from trainyard.master.runtime._context import Runtime
from trainyard.master.runtime._time_metric import feed_time_metric
from trainyard.master.states import AllocationState, TrialState
from trainyard.searcher import ExitedReason, Operation, Searcher

__all__ = [
    "allocation_info",
    "complete_operation",
    "early_exit",
    "register_checkpoint",
    "report_metrics",
    "searcher_operation",
    "wait_preemption",
]


def _experiment_of(rt: Runtime, trial_id: int) -> int:
    with rt.db.session(read_only=True) as session:
        return trial_repo.get_trial(session, trial_id).experiment_id


def allocation_info(rt: Runtime, allocation_id: str) -> dict[str, Any]:
    """What a trial needs to start (docs/trial-api.md `GET /allocations/{aid}/info`)."""
    with rt.db.session(read_only=True) as session:
        alloc = session.get(Allocation, allocation_id)
        if alloc is None:
            raise NotFoundError(f"allocation {allocation_id} does not exist")
        trial = trial_repo.get_trial(session, alloc.trial_id)
        config = rt.config(session, trial.experiment_id)
        return {
            "trial_id": trial.id,
            "experiment_id": trial.experiment_id,
            "hparams": trial.hparams,
            "trial_seed": trial.seed,
            "latest_checkpoint": trial.latest_checkpoint_uuid or trial.warm_start_checkpoint_uuid,
            "slots": alloc.slots,
            "config": config.model_dump(mode="json"),
            "trial_run_id": trial.restarts,
        }


def searcher_operation(rt: Runtime, trial_id: int) -> tuple[int | None, bool]:
    """(length to train to, completed): `(L, False)` train until L; `(None, False)` no work yet,
    ask again; `(None, True)` the searcher is done with this trial: exit cleanly."""
    with rt.db.session(read_only=True) as session:
        trial = trial_repo.get_trial(session, trial_id)
        if TrialState(trial.state).is_terminal or trial.exited_reason:
            return None, True
        target, done = trial.target_length, trial.completed_length
        if target == 0:  # a search without a length: no operations, the script decides
            return None, True
        if target is not None and target == done:  # redo its lost final checkpoint
            return target, False
        if trial.stop_requested:
            return None, True
        if target is not None and target > done:
            return target, False
        return None, trial.closed


def complete_operation(rt: Runtime, trial_id: int, length: int, metric: float) -> None:
    """The trial validated after `length`: feed `on_validation_completed` once per pending target
    it reached. A resend (length already completed) is ignored."""
    eid = _experiment_of(rt, trial_id)
    with rt.shell.unit(eid) as session:
        trial = trial_repo.get_trial(session, trial_id, for_update=True)
        if TrialState(trial.state).is_terminal:
            return
        if length <= trial.completed_length:  # a resend: the searcher heard it already
            if trial.target_length is not None and trial.target_length <= length:
                rt.shell.complete_targets(session, eid, trial, length)  # a redo target
                rt.shell.save(session, eid)
            return
        done = rt.shell.complete_targets(session, eid, trial, length)
        if not done:
            rt.log.info("trial %s reported length %s before its target; ignored", trial_id, length)
            return
        trial.completed_length = length
        rid = trial.request_id
        for target in done:
            rt.shell.event(session, eid, _validated(rid, metric, target))
    rt.wake.set()


def _validated(rid: int, metric: float, length: int) -> Callable[[Searcher], list[Operation]]:
    return lambda searcher: searcher.on_validation_completed(rid, metric, length)


def report_metrics(
    rt: Runtime, trial_id: int, group: str, reports: Sequence[Mapping[str, Any]]
) -> None:
    """Store a batch of metric reports (idempotent per (trial, group, steps)); validations that
    carry the searcher's `time_metric` then go to the searcher (`feed_time_metric`)."""
    with rt.db.session() as session:
        metric_repo.add_metrics(session, trial_id, group, reports, trial_run_id=None)
    if group == "validation":
        feed_time_metric(rt, trial_id, reports)


def early_exit(rt: Runtime, trial_id: int, reason: str, message: str | None = None) -> None:
    """The trial ends on its own (`invalid_hp` or `errored`, `message` saying why): the
    searcher hears it once now, the trial gets no more work (an `errored` one keeps `message`
    as its error), and its state is settled when its processes exit."""
    try:
        why = ExitedReason(reason)
    except ValueError:
        raise TrainyardError(f"early exit reason {reason!r} is not invalid_hp or errored") from None
    eid = _experiment_of(rt, trial_id)
    with rt.shell.unit(eid) as session:
        trial = trial_repo.get_trial(session, trial_id, for_update=True)
        if trial.exited_reason is not None or TrialState(trial.state).is_terminal:
            return
        trial.exited_reason = why.value
        trial.stop_requested = True
        if why is ExitedReason.ERRORED:
            trial.error = message or "the trial reported that it failed (early exit: errored)"
        rt.shell.drop_work(session, eid, trial)
        detail = f"{why.value}: {message}" if message else why.value
        trial_repo.record_event(session, trial_id, "early_exit", reason=detail)
        rid = trial.request_id
        rt.shell.event(session, eid, lambda s: s.on_trial_exited_early(rid, why))
        if trial.state != TrialState.RUNNING:
            final = TrialState.COMPLETED if why is ExitedReason.INVALID_HP else TrialState.ERRORED
            trial_repo.set_trial_state(session, trial_id, final)
            rt.shell.finish_if_done(session, eid)
    rt.wake.set()


def register_checkpoint(
    rt: Runtime, trial_id: int, allocation_id: str | None, body: Mapping[str, Any]
) -> None:
    """Record a checkpoint already committed to storage; it becomes the trial's latest when it
    is the furthest along. GC runs soon after in the scheduling loop. With `allocation_id`, that
    allocation must be live and run this trial (`InvalidTransitionError` otherwise), checked in
    the same transaction as the write."""
    with rt.db.session() as session:
        trial = trial_repo.get_trial(session, trial_id)
        if allocation_id is not None:
            _require_live(session, allocation_id, trial_id)
        ckpt_repo.register_checkpoint(
            session,
            trial_id,
            uuid=str(body["uuid"]),
            steps_completed=int(body.get("steps", 0)),
            metadata=body.get("metadata") or {},
            resources=body.get("resources") or {},
            sharded=bool(body.get("sharded", False)),
            allocation_id=allocation_id,
        )
        experiment_id = trial.experiment_id
    rt.gc_later(experiment_id)


def _require_live(session: Session, allocation_id: str, trial_id: int) -> None:
    alloc = session.get(Allocation, allocation_id)
    if alloc is None or alloc.trial_id != trial_id:
        raise InvalidTransitionError(f"allocation {allocation_id} does not run trial {trial_id}")
    if alloc.state == AllocationState.TERMINATED:
        raise InvalidTransitionError(f"allocation {allocation_id} has ended; nothing is recorded")


def wait_preemption(rt: Runtime, allocation_id: str, timeout: float) -> tuple[bool, str | None]:
    """Block up to `timeout` seconds until the allocation is asked to stop; (preempt, reason)."""
    deadline = time.monotonic() + max(0.0, timeout)
    while True:
        answer = _preemption(rt, allocation_id)
        left = deadline - time.monotonic()
        if answer[0] or left <= 0:
            return answer
        with rt.preempted:
            rt.preempted.wait(min(left, 0.5))


def _preemption(rt: Runtime, allocation_id: str) -> tuple[bool, str | None]:
    with rt.db.session(read_only=True) as session:
        alloc = session.get(Allocation, allocation_id)
        if alloc is None:
            raise NotFoundError(f"allocation {allocation_id} does not exist")
        if alloc.preempt_reason:
            return True, alloc.preempt_reason
        trial = session.get(Trial, alloc.trial_id)
        ended = alloc.state == "TERMINATED" or trial is None
        return ended, ("kill" if ended else None)
