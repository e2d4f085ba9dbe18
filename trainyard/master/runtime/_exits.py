"""What happens when an allocation's processes exit (or were lost with a dead master).

`decide_exit(ExitFacts) -> ExitDecision` is the whole rule, a pure function (no DB, no clock);
`handle_exit` gathers the facts from the DB and applies the decision in one unit of work with the
experiment's searcher. The rule, first match wins:

- the trial already ended -> nothing;
- experiment stopping (cancel/kill) -> trial CANCELED (ERRORED for STOPPING_ERROR);
- the trial reported an early exit -> ERRORED (errored) / COMPLETED (invalid_hp) / CANCELED;
- killed by a person -> CANCELED and `on_trial_exited_early(USER_CANCELED)`;
- the searcher's work is done (closed with nothing pending, or stopped): COMPLETED and
  `on_trial_closed` when its work is saved (`_completion.work_is_saved`: it exited 0 or its
  latest registered checkpoint covers its last validation); otherwise its final checkpoint was
  lost (killed, OOM, crashed while writing it): the trial is re-queued to train again from its
  latest checkpoint to its completed length and checkpoint there (a failure counted against
  `max_restarts`, unless it was asked to stop or lost with the master);
- asked to stop for pause/preemption/idle, or lost with the master -> QUEUED (PAUSED when the
  experiment is paused) to resume from its latest checkpoint; not a failure. If its searcher
  work is closed later while it has no processes, the close path applies the same
  `work_is_saved` rule (`SearchShell`), so a final checkpoint lost here is still redone;
- exit 0 with no searcher work pending -> QUEUED, idle until the searcher gives it work;
- exit 0 where the training script decides the length (a `time_metric` search, or
  single/grid/random without a length: Determined 0.38's way) -> COMPLETED and `on_trial_closed`;
- otherwise a failure. `restarts` counts restarts: while `restarts < max_restarts` the trial is
  restarted (restarts + 1) and re-queued; else it is ERRORED (restarts unchanged) and the
  searcher hears `on_trial_exited_early(ERRORED)`; the experiment carries on.
"""

from __future__ import annotations

import enum
import signal
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from trainyard.master.db import Allocation, Trial
from trainyard.master.db import allocations as alloc_repo
from trainyard.master.db import experiments as exp_repo
from trainyard.master.db import trials as trial_repo
from trainyard.master.runtime._completion import checkpoint_covers_work, work_is_saved
from trainyard.master.runtime._context import Runtime
from trainyard.master.states import AllocationState, ExperimentState, TrialState
from trainyard.searcher import ExitedReason

__all__ = [
    "ExitDecision",
    "ExitFacts",
    "Outcome",
    "decide_exit",
    "describe_exit",
    "end_stopping_experiment",
    "handle_exit",
]

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
_ASKED_TO_STOP = ("pause", "preempt", "stop", "idle")


class Outcome(enum.StrEnum):
    """What `handle_exit` does with the trial."""

    IGNORE = "ignore"
    """The trial had already ended."""
    END = "end"
    """Its experiment is stopping: the trial ends in `ExitDecision.state`."""
    EARLY = "early"
    """It reported an early exit (the searcher already heard it): ends in `state`."""
    USER_CANCELED = "user_canceled"
    """Killed by a person: CANCELED, the searcher hears USER_CANCELED."""
    COMPLETE = "complete"
    """Searcher work done and saved: COMPLETED, the searcher hears `on_trial_closed`."""
    REQUEUE = "requeue"
    """Not a failure: back to `state` (QUEUED or PAUSED) to resume from its latest checkpoint."""
    RESTART = "restart"
    """A failure with restarts left: one more restart, back to `state`."""
    ERROR = "error"
    """A failure with no restarts left: ERRORED, the searcher hears ERRORED."""


@dataclass(frozen=True)
class ExitFacts:
    """Everything the exit rule looks at."""

    code: int | None
    """Exit status (negative: killed by that signal; 128+N: the launcher saw signal N);
    None: lost when a previous master died."""
    trial_state: TrialState
    experiment_state: ExperimentState
    preempt_reason: str | None
    """Why the allocation was asked to stop (`pause`, `preempt`, `stop`, `idle`, `kill`)."""
    exited_reason: str | None
    """The early exit the trial reported, if any."""
    closed: bool
    stop_requested: bool
    target_length: int | None
    completed_length: int
    checkpoint_covers_work: bool
    """The trial's latest registered checkpoint is at or past its last validation (or there is
    nothing to cover: no validation reported, nothing completed)."""
    restarts: int
    max_restarts: int
    script_decides_length: bool = False
    """The searcher's `script_decides_length`: an exit 0 means the trial finished its work."""
    start_error: str | None = None
    """Why the processes could not be started at all (the launch failed)."""
    last_output: str | None = None
    """The last line the run printed (added to the reason of a plain non-zero exit)."""


@dataclass(frozen=True)
class ExitDecision:
    outcome: Outcome
    state: TrialState | None = None
    """The trial's next state (None for IGNORE)."""
    reason: str = ""
    """For failures: what went wrong, in words (recorded on the trial's events)."""
    redo_final_checkpoint: bool = False
    """Re-queue with work "train to `completed_length`" so the lost final checkpoint is
    written again."""


def describe_exit(code: int | None) -> str:
    """`exited with code 3`, `was killed by SIGKILL (exit 137; out of memory?)`, ..."""
    if code is None:
        return "was lost with the master"
    number = -code if code < 0 else code - 128 if 128 < code < 160 else None
    if number is None:
        return f"exited with code {code}"
    try:
        name = signal.Signals(number).name
    except ValueError:
        return f"exited with code {code}"
    hint = "; out of memory?" if number == signal.SIGKILL else ""
    return f"was killed by {name} (exit {code}{hint})"


def decide_exit(f: ExitFacts) -> ExitDecision:
    """The exit rule of this module's docstring; pure and total."""
    if f.trial_state.is_terminal:
        return ExitDecision(Outcome.IGNORE)
    if f.experiment_state in _STOPPING:
        failed = f.experiment_state is ExperimentState.STOPPING_ERROR
        return ExitDecision(Outcome.END, TrialState.ERRORED if failed else TrialState.CANCELED)
    if f.exited_reason is not None:
        return ExitDecision(Outcome.EARLY, _EARLY_STATE.get(f.exited_reason, TrialState.ERRORED))
    if f.preempt_reason == "kill":
        return ExitDecision(Outcome.USER_CANCELED, TrialState.CANCELED)
    requeue = (
        TrialState.PAUSED if f.experiment_state is ExperimentState.PAUSED else TrialState.QUEUED
    )
    pending = f.target_length is not None and f.target_length >= f.completed_length
    if f.closed and (not pending or f.stop_requested):
        if work_is_saved(last_exit_code=f.code, checkpoint_covers_work=f.checkpoint_covers_work):
            return ExitDecision(Outcome.COMPLETE, TrialState.COMPLETED)
        if f.code is None or f.preempt_reason in _ASKED_TO_STOP:
            return ExitDecision(Outcome.REQUEUE, requeue, redo_final_checkpoint=True)
        what = f"could not start: {f.start_error}" if f.start_error else describe_exit(f.code)
        return _failure(f, f"{what} before its final checkpoint was registered", requeue, redo=True)
    if f.preempt_reason in _ASKED_TO_STOP or f.code is None:
        return ExitDecision(Outcome.REQUEUE, requeue)
    if f.code == 0 and f.script_decides_length:
        return ExitDecision(Outcome.COMPLETE, TrialState.COMPLETED)
    if f.code == 0 and not pending:
        return ExitDecision(Outcome.REQUEUE, requeue)
    if f.start_error:
        why = f"could not start: {f.start_error}"
    elif f.code == 0:
        why = "exited 0 before finishing its searcher work"
    else:
        why = describe_exit(f.code)
        if f.last_output and 0 < f.code <= 128:
            why += f": {f.last_output}"
    return _failure(f, why, requeue, redo=False)


def _failure(f: ExitFacts, why: str, requeue: TrialState, *, redo: bool) -> ExitDecision:
    if f.restarts >= f.max_restarts:
        reason = f"{why}; no restarts left (max_restarts {f.max_restarts})"
        return ExitDecision(Outcome.ERROR, TrialState.ERRORED, reason)
    return ExitDecision(Outcome.RESTART, requeue, why, redo_final_checkpoint=redo)


def handle_exit(
    rt: Runtime, allocation_id: str, exit_code: int | None, *, start_error: str | None = None
) -> None:
    """Settle allocation `allocation_id` after its processes ended with `exit_code`
    (None: lost when a previous master died; `start_error`: they could not be started).
    Idempotent once the allocation is TERMINATED."""
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
        _settle(rt, session, trial, alloc, exit_code, start_error)
        end_stopping_experiment(rt, session, experiment_id)
    rt.gc_later(experiment_id)
    rt.wake.set()


def _settle(
    rt: Runtime,
    session: Session,
    trial: Trial,
    alloc: Allocation,
    code: int | None,
    start_error: str | None,
) -> None:
    eid = trial.experiment_id
    experiment = exp_repo.get_experiment(session, eid)
    facts = ExitFacts(
        code=code,
        trial_state=TrialState(trial.state),
        experiment_state=ExperimentState(experiment.state),
        preempt_reason=alloc.preempt_reason,
        exited_reason=trial.exited_reason,
        closed=trial.closed,
        stop_requested=trial.stop_requested,
        target_length=trial.target_length,
        completed_length=trial.completed_length,
        checkpoint_covers_work=checkpoint_covers_work(session, trial),
        restarts=trial.restarts,
        max_restarts=rt.config(session, eid).max_restarts,
        script_decides_length=rt.config(session, eid).searcher.script_decides_length,
        start_error=start_error,
        last_output=rt.last_output_line(alloc.id) if code else None,
    )
    decision = decide_exit(facts)
    if decision.outcome is Outcome.IGNORE:
        return
    assert decision.state is not None
    reason = alloc.preempt_reason or ("lost with the master" if code is None else "")
    trial_repo.record_event(
        session, trial.id, "exit", exit_code=code, reason=reason, allocation_id=alloc.id
    )
    outcome = decision.outcome
    if outcome in (Outcome.END, Outcome.EARLY):
        trial_repo.set_trial_state(session, trial.id, decision.state)
        if outcome is Outcome.EARLY:
            rt.shell.finish_if_done(session, eid)
    elif outcome is Outcome.USER_CANCELED:
        _end_early(rt, session, trial, ExitedReason.USER_CANCELED, decision.state)
    elif outcome is Outcome.COMPLETE:
        trial.error = None
        rt.shell.drop_work(session, eid, trial)  # a script-decided trial may leave a target
        trial_repo.set_trial_state(session, trial.id, TrialState.COMPLETED)
        rt.shell.event(session, eid, lambda s: s.on_trial_closed(trial.request_id))
    elif outcome is Outcome.ERROR:
        rt.log.warning("trial %s %s", trial.id, decision.reason)
        trial.error = decision.reason
        trial_repo.record_event(
            session,
            trial.id,
            "failure",
            exit_code=code,
            reason=decision.reason,
            allocation_id=alloc.id,
        )
        _end_early(rt, session, trial, ExitedReason.ERRORED, decision.state)
    else:
        if outcome is Outcome.RESTART:
            trial.error = decision.reason  # the latest failure, until it completes
            restarts = trial_repo.record_restart(
                session, trial.id, reason=decision.reason, exit_code=code, allocation_id=alloc.id
            )
            rt.log.info(
                "trial %s %s; restart %s of %s",
                trial.id,
                decision.reason,
                restarts,
                facts.max_restarts,
            )
        if decision.redo_final_checkpoint:
            rt.shell.redo_final_checkpoint(session, eid, trial)
        if TrialState(trial.state) is not decision.state:
            trial_repo.set_trial_state(session, trial.id, decision.state)


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
