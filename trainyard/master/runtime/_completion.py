"""When a trial whose searcher work is done may end COMPLETED: the one rule both the exit
handler (`_exits.decide_exit`) and the close path (`SearchShell`, a trial closed while it has no
processes) apply.

`work_is_saved(last_exit_code, checkpoint_covers_work)` is pure. A trial may be COMPLETED only
when its searcher work is done **and** that work is saved: its latest registered checkpoint
covers its completed length (its last validation), or its last run exited 0 (a clean exit is
the trial's own word that it saved what it wanted; a Core API script may keep no checkpoint).
Otherwise the final checkpoint was lost (a kill, an OOM, a lost master, a kill while being
preempted) and the trial is re-queued with one more target, its completed length, to train
there again from its latest checkpoint and checkpoint it (`SearchShell.redo_final_checkpoint`).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from trainyard.master.db import Allocation, Checkpoint, Trial

__all__ = ["checkpoint_covers_work", "last_exit_code", "trial_work_saved", "work_is_saved"]


def work_is_saved(*, last_exit_code: int | None, checkpoint_covers_work: bool) -> bool:
    """Whether a trial with no searcher work left may be COMPLETED (pure): it exited 0, or its
    latest registered checkpoint covers its completed length. `last_exit_code` None: it never
    ran, or it was lost with a dead master."""
    return last_exit_code == 0 or checkpoint_covers_work


def checkpoint_covers_work(session: Session, trial: Trial) -> bool:
    """Whether the trial's latest registered checkpoint is at or past its last validation
    (vacuously true before its first completed operation or validation report)."""
    if trial.completed_length <= 0 or trial.last_validation_steps is None:
        return True
    if trial.latest_checkpoint_uuid is None:
        return False
    steps = session.scalar(
        select(Checkpoint.steps_completed).where(Checkpoint.uuid == trial.latest_checkpoint_uuid)
    )
    return steps is not None and steps >= trial.last_validation_steps


def last_exit_code(session: Session, trial_id: int) -> int | None:
    """The exit code of the trial's most recent ended allocation (None: none ended, or it was
    lost with the master)."""
    return session.scalar(
        select(Allocation.exit_code)
        .where(Allocation.trial_id == trial_id, Allocation.ended_at.is_not(None))
        .order_by(Allocation.ended_at.desc(), Allocation.created_at.desc())
        .limit(1)
    )


def trial_work_saved(session: Session, trial: Trial) -> bool:
    """`work_is_saved` with the facts read from the DB, for a trial that has no processes."""
    return work_is_saved(
        last_exit_code=last_exit_code(session, trial.id),
        checkpoint_covers_work=checkpoint_covers_work(session, trial),
    )
