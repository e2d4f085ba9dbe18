"""Start-up recovery after a master died (kill -9 included).

1. Every allocation the DB still thinks is live belonged to the dead master: its process group
   (recorded pgid) is killed and the allocation is settled as "lost with the master" -- its trial
   is re-queued to resume from its latest checkpoint, without counting a restart.
2. Canceled/killed experiments whose allocations are now all gone end.
3. Deletions that were under way start again.
4. Searchers of active and paused experiments are restored from their snapshots.
"""

from __future__ import annotations

from sqlalchemy import select

from trainyard.master.db import Allocation, Experiment
from trainyard.master.rm import kill_process_group
from trainyard.master.runtime._actions import Actions
from trainyard.master.runtime._context import Runtime
from trainyard.master.runtime._exits import end_stopping_experiment, handle_exit
from trainyard.master.states import AllocationState, ExperimentState

__all__ = ["recover"]

_STOPPING = [
    s.value
    for s in (
        ExperimentState.STOPPING_CANCELED,
        ExperimentState.STOPPING_KILLED,
        ExperimentState.STOPPING_ERROR,
        ExperimentState.STOPPING_COMPLETED,
    )
]


def recover(rt: Runtime, actions: Actions) -> int:
    """Bring the DB in line with a master that has no processes yet; returns how many
    orphaned allocations were settled."""
    with rt.db.session(read_only=True) as session:
        orphans = list(
            session.execute(
                select(Allocation.id, Allocation.pgid).where(
                    Allocation.state != AllocationState.TERMINATED.value
                )
            ).all()
        )
        stopping = list(
            session.scalars(select(Experiment.id).where(Experiment.state.in_(_STOPPING)))
        )
        deleting = list(
            session.scalars(
                select(Experiment.id).where(Experiment.state == ExperimentState.DELETING.value)
            )
        )
    for allocation_id, pgid in orphans:
        if pgid is not None and kill_process_group(pgid):
            rt.log.info("killed orphaned process group %s of allocation %s", pgid, allocation_id)
        handle_exit(rt, allocation_id, None)
    for experiment_id in stopping:
        with rt.shell.unit(experiment_id) as session:
            end_stopping_experiment(rt, session, experiment_id)
    for experiment_id in deleting:
        actions.resume_delete(experiment_id)
    _restore_searchers(rt)
    return len(orphans)


def _restore_searchers(rt: Runtime) -> None:
    """Load every running experiment's searcher from its snapshot now, so a snapshot that no
    longer loads is reported at start-up rather than at the first event."""
    live = [ExperimentState.ACTIVE.value, ExperimentState.PAUSED.value]
    with rt.db.session(read_only=True) as session:
        ids = list(session.scalars(select(Experiment.id).where(Experiment.state.in_(live))))
    for experiment_id in ids:
        with rt.shell.lock(experiment_id), rt.db.session(read_only=True) as session:
            try:
                rt.shell.search(session, experiment_id)
            except Exception as err:  # keep serving the other experiments
                rt.log.error("experiment %s: cannot restore its searcher: %s", experiment_id, err)
