"""Checkpoint garbage collection per the experiment's `save_experiment_best`, `save_trial_best`
and `save_trial_latest`.

Never deleted: the latest checkpoint of a trial that has not ended (it resumes from it) and any
checkpoint a live trial starts from (PBT parents, continued trials). Files go first, then the rows
are marked DELETED; a master killed in between deletes them again next time (deleting a missing
checkpoint is harmless).

Also here: what an experiment leaves outside the DB (`delete_experiment_files`) and checkpoints
whose registration was lost with a dead master (`collect_orphan_checkpoints`, at recovery).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from trainyard.core._checkpoint import METADATA_FILE
from trainyard.errors import CheckpointError
from trainyard.master.db import Allocation, Checkpoint, Experiment, Trial
from trainyard.master.db import checkpoints as ckpt_repo
from trainyard.master.runtime._allocations import allocation_log_path
from trainyard.master.runtime._context import Runtime
from trainyard.master.states import AllocationState, ExperimentState, TrialState
from trainyard.storage import CheckpointStorage, SharedFSStorage

__all__ = [
    "collect_garbage",
    "collect_orphan_checkpoints",
    "delete_experiment_files",
    "spool_path",
]

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


# -- what an experiment leaves outside the DB --


def delete_experiment_files(rt: Runtime, experiment_id: int) -> None:
    """Remove everything the experiment wrote outside the DB; other experiments' files are never
    touched. That is: its registered checkpoints, checkpoints and unfinished writes labelled
    with one of its allocations that never got registered (a master died in between), its
    trials' TensorBoard files (`<storage root>/tensorboard/trial_<id>`, where
    `trainyard.pytorch` writes them), its work directory and its allocations' log files.

    Raises when storage refuses; the caller keeps the rows and marks the deletion failed.
    """
    with rt.db.session(read_only=True) as session:
        config = rt.config(session, experiment_id)
        uuids = [
            c.uuid
            for c in ckpt_repo.list_checkpoints(session, experiment_id=experiment_id, states=None)
        ]
        trials = list(session.scalars(select(Trial.id).where(Trial.experiment_id == experiment_id)))
        allocations = set(
            session.scalars(select(Allocation.id).where(Allocation.trial_id.in_(trials)))
        )
        known = set(session.scalars(select(Checkpoint.uuid)))
    storage = rt.storage(config)
    for uuid in uuids:
        storage.delete(uuid)
    for uuid in storage.list_checkpoints():
        if uuid not in known and storage.read_labels(uuid).get("allocation_id") in allocations:
            storage.delete(uuid)
    for name, labels in storage.list_staged().items():
        if labels.get("allocation_id") in allocations:
            storage.remove_staged(name)
    if isinstance(storage, SharedFSStorage):
        for trial_id in trials:
            shutil.rmtree(storage.root / "tensorboard" / f"trial_{trial_id}", ignore_errors=True)
    shutil.rmtree(rt.settings.data_dir / "work" / str(experiment_id), ignore_errors=True)
    for allocation_id in allocations:
        raw = allocation_log_path(rt, allocation_id)
        raw.unlink(missing_ok=True)
        spool_path(rt, allocation_id).unlink(missing_ok=True)


def spool_path(rt: Runtime, allocation_id: str) -> Path:
    """The launcher's numbered log lines of the allocation (`TRAINYARD_LOG_SPOOL`)."""
    return allocation_log_path(rt, allocation_id).with_suffix(".jsonl")


# -- checkpoints whose registration was lost with a dead master --


@dataclass(frozen=True)
class _Writer:
    trial_id: int
    experiment_id: int
    ended: bool
    deleting: bool


def collect_orphan_checkpoints(
    rt: Runtime, allocation_id: str | None = None
) -> tuple[list[str], list[str]]:
    """Register or remove checkpoints in storage that the DB does not know; returns
    (registered uuids, removed uuids and staged writes). With `allocation_id`, only that
    allocation's (the exit handler calls it so once the allocation is TERMINATED: a write its
    killed processes left half done goes at once, not at the next master start).

    Only checkpoints labelled with one of this master's allocations, and only once that
    allocation has ended, are touched (a storage root may be shared). A complete one (manifest,
    every file verified, `metadata.json` with `steps_completed`) is registered when every metric
    report up to its steps is stored (`Trial.total_batches >= steps`): resuming from it then loses
    nothing. Any other one, and every unfinished write, is removed: the trial resumes from its
    last registered checkpoint and reports those steps again.
    """
    writers, storages = _orphan_scan_inputs(rt, allocation_id)
    registered: list[str] = []
    removed: list[str] = []
    for storage in storages:
        listed = storage.list_checkpoints()
        known = _known_uuids(rt, listed)
        for uuid in listed:
            if uuid in known:
                continue
            aid = storage.read_labels(uuid).get("allocation_id", "")
            writer = writers.get(aid)
            if writer is None or writer.deleting:
                continue
            if _register_orphan(rt, storage, uuid, aid, writer):
                registered.append(uuid)
                rt.gc_later(writer.experiment_id)  # the policy may now drop an older one
            else:
                storage.delete(uuid)
                removed.append(uuid)
        for name, labels in storage.list_staged().items():
            writer = writers.get(labels.get("allocation_id", ""))
            if writer is not None and writer.ended and not writer.deleting:
                storage.remove_staged(name)
                removed.append(name)
    return registered, removed


def _known_uuids(rt: Runtime, uuids: list[str]) -> set[str]:
    """Those of `uuids` that have a checkpoint row (any state)."""
    known: set[str] = set()
    with rt.db.session(read_only=True) as session:
        for start in range(0, len(uuids), 500):
            chunk = uuids[start : start + 500]
            known.update(session.scalars(select(Checkpoint.uuid).where(Checkpoint.uuid.in_(chunk))))
    return known


def _orphan_scan_inputs(
    rt: Runtime, allocation_id: str | None
) -> tuple[dict[str, _Writer], list[CheckpointStorage]]:
    """Ended allocations (all, or only `allocation_id`) and their trials, and one storage per
    distinct `checkpoint_storage` of their experiments."""
    deleting = {ExperimentState.DELETING.value, ExperimentState.DELETE_FAILED.value}
    query = (
        select(Allocation.id, Allocation.state, Trial.id, Trial.experiment_id, Experiment.state)
        .join(Trial, Trial.id == Allocation.trial_id)
        .join(Experiment, Experiment.id == Trial.experiment_id)
    )
    if allocation_id is not None:
        query = query.where(Allocation.id == allocation_id)
    with rt.db.session(read_only=True) as session:
        rows = session.execute(query).all()
        writers = {
            aid: _Writer(tid, eid, state == AllocationState.TERMINATED.value, estate in deleting)
            for aid, state, tid, eid, estate in rows
        }
        writers = {aid: w for aid, w in writers.items() if w.ended}
        storages: dict[str, CheckpointStorage] = {}
        for experiment_id in {w.experiment_id for w in writers.values() if not w.deleting}:
            try:
                config = rt.config(session, experiment_id)
            except Exception as err:  # an unreadable config must not stop the master
                rt.log.warning("experiment %s: config unreadable: %s", experiment_id, err)
                continue
            storages.setdefault(rt.storage_json(config), rt.storage(config))
    return writers, list(storages.values())


def _register_orphan(
    rt: Runtime, storage: CheckpointStorage, uuid: str, allocation_id: str, writer: _Writer
) -> bool:
    try:
        resources = storage.verify(uuid)
        metadata = json.loads(storage.read_bytes(uuid, METADATA_FILE))
        steps = metadata["steps_completed"]
    except (CheckpointError, ValueError, KeyError, TypeError):
        return False
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        return False
    with rt.db.session() as session:
        trial = session.get(Trial, writer.trial_id)
        if trial is None or trial.total_batches < steps:
            return False
        ckpt_repo.register_checkpoint(
            session,
            writer.trial_id,
            uuid=uuid,
            steps_completed=steps,
            metadata=metadata,
            resources=resources,
            allocation_id=allocation_id,
        )
    rt.log.info("registered checkpoint %s of trial %s found in storage", uuid, writer.trial_id)
    return True
