"""What happens when an allocation's processes exit (or were lost with a dead master).

Decided from the DB in one unit of work with the experiment's searcher:

- experiment stopping (cancel/kill) -> trial CANCELED; the experiment ends once nothing runs;
- the trial reported an early exit -> ERRORED (errored) / COMPLETED (invalid_hp) / CANCELED;
- killed by a person -> CANCELED and `on_trial_exited_early(USER_CANCELED)`;
- closed by the searcher with no work left (or stopped) -> COMPLETED and `on_trial_closed`;
- asked to stop for pause/preemption/idle, or lost with the master -> QUEUED (PAUSED when the
  experiment is paused) to resume from its latest checkpoint; not a failure;
- exit 0 with no searcher work pending -> QUEUED, idle until the searcher gives it work;
- otherwise a failure: recorded as a restart and re-queued, until `max_restarts` is exceeded:
  ERRORED and `on_trial_exited_early(ERRORED)`; the experiment carries on.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from trainyard.master.db import Allocation, Trial
from trainyard.master.db import allocations as alloc_repo
from trainyard.master.db import experiments as exp_repo
from trainyard.master.db import trials as trial_repo
from trainyard.master.runtime._context import Runtime
from trainyard.master.states import AllocationState, ExperimentState, TrialState
from trainyard.searcher import ExitedReason

__all__ = ["end_stopping_experiment", "handle_exit"]

_STOPPING = (
    ExperimentState.STOPPING_CANCELED,
    ExperimentState.STOPPING_KILLED,
    ExperimentState.STOPPING_ERROR,
    ExperimentState.STOPPING_COMPLETED,
)
_EARLY_STATE = {
    ExitedReason.ERRORED.value: TrialState.ERRORED,
    ExitedReason.INVALID_HP.value: TrialState.COMPLETED,
    ExitedReason.USER_CANCELED.value: TrialState.CANCELED,
}


def handle_exit(rt: Runtime, allocation_id: str, exit_code: int | None) -> None:
    """Settle allocation `allocation_id` after its processes ended with `exit_code`
    (None: lost when a previous master died). Idempotent once the allocation is TERMINATED."""
    with rt.db.session(read_only=True) as session:
        row = session.get(Allocation, allocation_id)
        if row is None or row.state == AllocationState.TERMINATED:
            return
        trial = session.get(Trial, row.trial_id)
        assert trial is not None  # allocations cascade with their trial
        experiment_id = trial.experiment_id
    with rt.shell.unit(experiment_id) as session:
        alloc = alloc_repo.finish_allocation(session, allocation_id, exit_code)
        trial = trial_repo.get_trial(session, alloc.trial_id, for_update=True)
        _settle(rt, session, trial, alloc, exit_code)
        end_stopping_experiment(rt, session, experiment_id)
    rt.gc_later(experiment_id)
    rt.wake.set()


def _settle(
    rt: Runtime, session: Session, trial: Trial, alloc: Allocation, code: int | None
) -> None:
    state = TrialState(trial.state)
    if state.is_terminal:
        return
    eid = trial.experiment_id
    experiment = exp_repo.get_experiment(session, eid)
    estate = ExperimentState(experiment.state)
    reason = alloc.preempt_reason
    trial_repo.record_event(
        session,
        trial.id,
        "exit",
        exit_code=code,
        reason=reason or ("lost with the master" if code is None else ""),
        allocation_id=alloc.id,
    )
    if estate in _STOPPING:
        final = (
            TrialState.ERRORED if estate is ExperimentState.STOPPING_ERROR else TrialState.CANCELED
        )
        trial_repo.set_trial_state(session, trial.id, final)
        return
    if trial.exited_reason is not None:
        trial_repo.set_trial_state(
            session, trial.id, _EARLY_STATE.get(trial.exited_reason, TrialState.ERRORED)
        )
        rt.shell.finish_if_done(session, eid)
        return
    if reason == "kill":
        _end_early(rt, session, trial, ExitedReason.USER_CANCELED, TrialState.CANCELED)
        return
    pending = trial.target_length is not None and trial.target_length > trial.completed_length
    if trial.closed and (not pending or trial.stop_requested):
        trial_repo.set_trial_state(session, trial.id, TrialState.COMPLETED)
        rt.shell.event(session, eid, lambda s: s.on_trial_closed(trial.request_id))
        return
    if (
        reason in ("pause", "preempt", "stop", "idle")
        or code is None
        or (code == 0 and not pending)
    ):
        _requeue(session, trial, estate)
        return
    why = f"exited with code {code}" if code else "exited 0 before finishing its searcher work"
    restarts = trial_repo.record_restart(
        session, trial.id, reason=why, exit_code=code, allocation_id=alloc.id
    )
    max_restarts = rt.config(session, eid).max_restarts
    if restarts > max_restarts:
        rt.log.warning(
            "trial %s %s; no restarts left (max_restarts %s)", trial.id, why, max_restarts
        )
        _end_early(rt, session, trial, ExitedReason.ERRORED, TrialState.ERRORED)
        return
    rt.log.info("trial %s %s; restart %s of %s", trial.id, why, restarts, max_restarts)
    _requeue(session, trial, estate)


def _requeue(session: Session, trial: Trial, estate: ExperimentState) -> None:
    target = TrialState.PAUSED if estate is ExperimentState.PAUSED else TrialState.QUEUED
    if TrialState(trial.state) is not target:
        trial_repo.set_trial_state(session, trial.id, target)


def _end_early(
    rt: Runtime, session: Session, trial: Trial, why: ExitedReason, final: TrialState
) -> None:
    trial.exited_reason = why.value
    rt.shell.drop_work(session, trial.experiment_id, trial)
    trial_repo.set_trial_state(session, trial.id, final)
    rt.shell.event(
        session, trial.experiment_id, lambda s: s.on_trial_exited_early(trial.request_id, why)
    )


def end_stopping_experiment(rt: Runtime, session: Session, experiment_id: int) -> None:
    """A canceled/killed experiment ends (CANCELED, or ERRORED) once no allocation is live;
    its remaining trials are CANCELED."""
    experiment = exp_repo.get_experiment(session, experiment_id)
    estate = ExperimentState(experiment.state)
    if estate not in _STOPPING:
        return
    live = session.scalar(
        select(Allocation.id)
        .join(Trial, Trial.id == Allocation.trial_id)
        .where(
            Trial.experiment_id == experiment_id,
            Allocation.state != AllocationState.TERMINATED.value,
        )
        .limit(1)
    )
    if live is not None:
        return
    final_trial = (
        TrialState.ERRORED if estate is ExperimentState.STOPPING_ERROR else TrialState.CANCELED
    )
    for trial in trial_repo.list_trials(session, experiment_id):
        if not TrialState(trial.state).is_terminal:
            trial_repo.set_trial_state(session, trial.id, final_trial)
    final = {
        ExperimentState.STOPPING_ERROR: ExperimentState.ERRORED,
        ExperimentState.STOPPING_COMPLETED: ExperimentState.COMPLETED,
    }.get(estate, ExperimentState.CANCELED)
    exp_repo.set_experiment_state(session, experiment_id, final)
    rt.gc_later(experiment_id)
