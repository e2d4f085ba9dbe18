"""Checkpoint garbage collection per the experiment's `save_experiment_best`, `save_trial_best`
and `save_trial_latest`.

Never deleted: the latest checkpoint of a trial that has not ended (it resumes from it) and any
checkpoint a live trial starts from (PBT parents, continued trials). Files go first, then the rows
are marked DELETED; a master killed in between deletes them again next time (deleting a missing
checkpoint is harmless).
"""

from __future__ import annotations

from sqlalchemy import select

from trainyard.master.db import Trial
from trainyard.master.db import checkpoints as ckpt_repo
from trainyard.master.runtime._context import Runtime
from trainyard.master.states import TrialState

__all__ = ["collect_garbage"]

_ENDED = [s.value for s in (TrialState.COMPLETED, TrialState.CANCELED, TrialState.ERRORED)]


def collect_garbage(rt: Runtime, experiment_id: int) -> list[str]:
    """Delete the experiment's checkpoints its policy no longer keeps; returns their uuids."""
    with rt.db.session(read_only=True) as session:
        try:
            config = rt.config(session, experiment_id)
        except Exception:  # deleted meanwhile
            return []
        policy = config.checkpoint_storage
        live = session.execute(
            select(Trial.latest_checkpoint_uuid, Trial.warm_start_checkpoint_uuid).where(
                Trial.experiment_id == experiment_id, Trial.state.not_in(_ENDED)
            )
        ).all()
        protected = {uuid for row in live for uuid in row if uuid}
        doomed = ckpt_repo.checkpoints_to_delete(
            session,
            experiment_id,
            save_experiment_best=policy.save_experiment_best,
            save_trial_best=policy.save_trial_best,
            save_trial_latest=policy.save_trial_latest,
            protected=protected,
        )
        uuids = [c.uuid for c in doomed]
    if not uuids:
        return []
    storage = rt.storage(config)
    deleted = []
    for uuid in uuids:
        try:
            storage.delete(uuid)
        except Exception as err:  # keep the row ACTIVE; the next GC tries again
            rt.log.warning("checkpoint %s: could not delete its files: %s", uuid, err)
            continue
        deleted.append(uuid)
    with rt.db.session() as session:
        ckpt_repo.mark_deleted(session, deleted)
    return deleted
