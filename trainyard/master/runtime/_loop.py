"""The scheduling loop: a background thread that ticks every `scheduler_interval_seconds` and
whenever something happens (`rt.wake`).

One tick: reap exited allocations, build the scheduler's inputs from the DB, apply its decision
(start allocations, ask allocations to stop), then run due checkpoint GC.
"""

from __future__ import annotations

import shutil
import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from trainyard.config import ExperimentConfig
from trainyard.master.db import Allocation, Experiment, Trial
from trainyard.master.db import trials as trial_repo
from trainyard.master.runtime._allocations import start_allocation, work_dir
from trainyard.master.runtime._context import Runtime
from trainyard.master.runtime._exits import handle_exit
from trainyard.master.runtime._gc import collect_garbage, collect_orphan_checkpoints
from trainyard.master.runtime._recovery import ingest_log_spool
from trainyard.master.states import AllocationState, ExperimentState, TrialState
from trainyard.scheduler import Decision, PoolCapacity, Request, Running, schedule
from trainyard.searcher import ExitedReason

STOP_TIMEOUT_S = 300.0
"""How long a trial may take to honour a pause/preempt/stop request before it is terminated."""

__all__ = [
    "STOP_TIMEOUT_S",
    "LiveAllocation",
    "SchedulerInputs",
    "SchedulingLoop",
    "scheduler_inputs",
]


@dataclass(frozen=True)
class LiveAllocation:
    """What the cluster view shows of a live allocation besides its `Running` form."""

    trial_id: int
    started_at: float | None


@dataclass(frozen=True)
class SchedulerInputs:
    pending: list[Request]
    running: list[Running]
    pools: list[PoolCapacity]
    experiment_of: dict[int, int]
    """trial id -> experiment id, for every pending request."""
    queued_at: dict[int, float]
    live: dict[str, LiveAllocation]


def scheduler_inputs(rt: Runtime, session: Session) -> SchedulerInputs:
    """The scheduler's view of the DB: trials waiting with work, live allocations, pools.

    Reads plain columns (no ORM objects), so a tick stays cheap with thousands of queued trials.
    """
    pools = [PoolCapacity(p.name, p.slots) for p in rt.settings.resource_pools]
    rows = session.execute(
        select(
            Trial.id,
            Trial.experiment_id,
            Trial.created_at,
            Experiment.priority,
            Experiment.owner_id,
        )
        .join(Experiment, Experiment.id == Trial.experiment_id)
        .where(
            Experiment.state == ExperimentState.ACTIVE.value,
            Trial.state == TrialState.QUEUED.value,
            Trial.target_length.is_not(None),
            Trial.target_length >= Trial.completed_length,  # == : redo a lost final checkpoint
            Trial.stop_requested.is_(False),
        )
        .order_by(Trial.id)
    ).all()
    pending: list[Request] = []
    experiment_of: dict[int, int] = {}
    queued_at: dict[int, float] = {}
    for trial_id, experiment_id, created_at, override, owner in rows:
        config = rt.config(session, experiment_id)
        pending.append(_request(rt, trial_id, experiment_id, config, override, owner))
        experiment_of[trial_id] = experiment_id
        queued_at[trial_id] = created_at
    running, live = _running(rt, session)
    return SchedulerInputs(pending, running, pools, experiment_of, queued_at, live)


def _running(rt: Runtime, session: Session) -> tuple[list[Running], dict[str, LiveAllocation]]:
    rows = session.execute(
        select(
            Allocation.id,
            Allocation.resource_pool,
            Allocation.slot_ids,
            Allocation.preempt_reason,
            Allocation.state,
            Allocation.started_at,
            Trial.id,
            Trial.experiment_id,
            Trial.target_length,
            Trial.completed_length,
            Trial.closed,
            Experiment.priority,
            Experiment.owner_id,
        )
        .join(Trial, Trial.id == Allocation.trial_id)
        .join(Experiment, Experiment.id == Trial.experiment_id)
        .where(Allocation.state != AllocationState.TERMINATED.value)
        .order_by(Allocation.created_at, Allocation.id)
    ).all()
    running: list[Running] = []
    live: dict[str, LiveAllocation] = {}
    for order, row in enumerate(rows):
        aid, pool, slot_ids, reason, state, started_at, tid, eid, target, done, closed, *rest = row
        override, owner = rest
        config = rt.config(session, eid)
        has_work = target is not None and target >= done
        running.append(
            Running(
                id=aid,
                experiment_id=eid,
                pool=pool,
                slot_ids=tuple(slot_ids),
                priority=rt.priority(override, config),
                order=order,
                user=str(owner) if owner is not None else None,
                stopping=reason is not None or state == AllocationState.TERMINATING,
                idle=not has_work and not closed,
            )
        )
        live[aid] = LiveAllocation(tid, started_at)
    return running, live


def _request(
    rt: Runtime,
    trial_id: int,
    experiment_id: int,
    config: ExperimentConfig,
    override: int | None,
    owner: int | None,
) -> Request:
    cap = getattr(config.searcher, "max_concurrent_trials", None)
    return Request(
        id=trial_id,
        experiment_id=experiment_id,
        pool=config.resources.resource_pool,
        slots=config.resources.slots_per_trial,
        priority=rt.priority(override, config),
        order=trial_id,
        user=str(owner) if owner is not None else None,
        max_slots=config.resources.max_slots,
        max_concurrent=cap or None,
    )


def _still_idle(session: Session, allocation_id: str) -> bool:
    """Re-read in the write transaction: the trial of this allocation still has no work."""
    row = session.execute(
        select(Trial.target_length, Trial.completed_length)
        .join(Allocation, Allocation.trial_id == Trial.id)
        .where(Allocation.id == allocation_id)
    ).one_or_none()
    return row is not None and (row[0] is None or row[0] < row[1])


class SchedulingLoop:
    """Runs `tick()` in a daemon thread until `stop()`."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._stop_seen: dict[str, float] = {}

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="trainyard-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._rt.wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        interval = self._rt.settings.scheduler_interval_seconds
        while not self._stopping.is_set():
            self._rt.wake.clear()
            try:
                self.tick()
            except Exception:  # one bad tick must not stop scheduling for everyone
                self._rt.log.exception("scheduling tick failed")
            self._rt.wake.wait(interval)

    def tick(self) -> Decision:
        """One round: exits, scheduling decision, starts and preemptions, GC."""
        rt = self._rt
        for allocation_id, code in rt.rm.poll():
            self.settle_exit(allocation_id, code)
        with rt.db.session(read_only=True) as session:
            inputs = scheduler_inputs(rt, session)
        self._enforce_stop_timeout(inputs.running)
        decision = schedule(inputs.pending, inputs.running, inputs.pools)
        for reject in decision.rejections:
            self._reject(inputs.experiment_of[reject.request_id], reject.request_id, reject.message)
        if decision.preemptions:
            with rt.db.session() as session:
                for pre in decision.preemptions:
                    if pre.reason == "idle" and not _still_idle(session, pre.allocation_id):
                        continue  # it got work since the inputs were read
                    rt.request_preemption(session, pre.allocation_id, "preempt")
                    rt.log.info("preempting %s for trial %s", pre.allocation_id, pre.for_request)
        for start in decision.starts:
            if self._stopping.is_set():
                break
            eid = inputs.experiment_of[start.request_id]
            start_allocation(rt, eid, start.request_id, start.pool, start.slot_ids)
        for experiment_id in rt.take_gc_due():
            collect_garbage(rt, experiment_id)
        return decision

    def _enforce_stop_timeout(self, running: list[Running]) -> None:
        """An allocation asked to stop that is still running after `STOP_TIMEOUT_S` (a trial
        that never checks `should_preempt()`) gets SIGTERM, then SIGKILL after the RM's grace."""
        now = time.monotonic()
        stopping = {r.id for r in running if r.stopping}
        for aid in list(self._stop_seen):
            if aid not in stopping:
                del self._stop_seen[aid]
        for aid in stopping:
            first = self._stop_seen.setdefault(aid, now)
            if now - first > STOP_TIMEOUT_S:
                self._rt.log.warning("allocation %s ignored its stop request; terminating", aid)
                self._rt.rm.terminate(aid)

    def settle_exit(self, allocation_id: str, code: int | None) -> None:
        """Settle one exit; remove the allocation's working copy and the checkpoint writes it
        left unfinished (registering a complete one that only lacked its registration)."""
        rt = self._rt
        with rt.db.session(read_only=True) as session:
            row = session.get(Allocation, allocation_id)
            trial = session.get(Trial, row.trial_id) if row is not None else None
            eid = trial.experiment_id if trial is not None else None
        handle_exit(rt, allocation_id, code)
        if eid is not None:
            shutil.rmtree(work_dir(rt, eid, allocation_id), ignore_errors=True)
        try:  # checkpoint writes its processes left unfinished or unregistered
            collect_orphan_checkpoints(rt, allocation_id)
        except Exception as err:  # left for the next master start
            rt.log.warning(
                "allocation %s: leftover checkpoints not collected: %s", allocation_id, err
            )
        try:  # lines whose batches the launcher could not deliver (see ingest_log_spool)
            ingest_log_spool(rt, allocation_id)
        except Exception as err:
            rt.log.warning("allocation %s: spooled logs not stored: %s", allocation_id, err)

    def _reject(self, experiment_id: int, trial_id: int, message: str) -> None:
        rt = self._rt
        rt.log.warning("trial %s cannot be scheduled: %s", trial_id, message)
        with rt.shell.unit(experiment_id) as session:
            trial = trial_repo.get_trial(session, trial_id, for_update=True)
            if trial.state != TrialState.QUEUED:
                return
            trial_repo.record_event(session, trial_id, "unschedulable", reason=message)
            trial.error = f"cannot be scheduled: {message}"
            trial.exited_reason = ExitedReason.ERRORED.value
            rt.shell.drop_work(session, experiment_id, trial)
            trial_repo.set_trial_state(session, trial_id, TrialState.ERRORED)
            rt.shell.event(
                session,
                experiment_id,
                lambda s: s.on_trial_exited_early(trial.request_id, ExitedReason.ERRORED),
            )
