"""Start-up recovery after a master died (kill -9 included).

1. Every allocation the DB still thinks is live belonged to the dead master: its process group
   (recorded pgid) is killed and the allocation is settled as "lost with the master" -- its trial
   is re-queued to resume from its latest checkpoint, without counting a restart.
2. Canceled/killed experiments whose allocations are now all gone end.
3. Leaks of the dead master's allocations are closed: log lines that only reached the
   launcher's on-disk spool are stored (each once), checkpoints written to storage but never
   registered are registered or removed (`_gc.collect_orphan_checkpoints`), and the work
   directories of allocations that no longer run are removed.
4. Deletions that were under way start again.
5. Searchers of active and paused experiments are restored from their snapshots.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from trainyard.master.db import Allocation, Experiment
from trainyard.master.db import logs as logs_repo
from trainyard.master.rm import kill_process_group
from trainyard.master.runtime._actions import Actions
from trainyard.master.runtime._context import Runtime
from trainyard.master.runtime._exits import end_stopping_experiment, handle_exit
from trainyard.master.runtime._gc import collect_orphan_checkpoints, spool_path
from trainyard.master.states import AllocationState, ExperimentState

__all__ = ["ingest_log_spool", "recover"]

_SPOOL_BATCH = 1000

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
    for what, step in _LEAK_STEPS:
        try:
            step(rt)
        except Exception as err:  # a leak left for the next start must not stop this one
            rt.log.warning("recovery: could not %s: %s", what, err)
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


def ingest_log_spool(rt: Runtime, allocation_id: str) -> int:
    """Store the lines of the allocation's spool that the DB lacks (each `(allocation, seq)`
    once); returns how many were added. Call it only once the allocation has ended. A torn
    last line (the writer was killed mid-write) is skipped; the spool is removed once stored.
    """
    path = spool_path(rt, allocation_id)
    if not path.is_file():
        return 0
    with rt.db.session(read_only=True) as session:
        alloc = session.get(Allocation, allocation_id)
        trial_id = None if alloc is None else alloc.trial_id
    if trial_id is None:  # its experiment was deleted
        path.unlink(missing_ok=True)
        return 0
    added = 0
    lines = _read_spool(path)
    for start in range(0, len(lines), _SPOOL_BATCH):
        with rt.db.session() as session:
            chunk = lines[start : start + _SPOOL_BATCH]
            added += logs_repo.add_logs(session, trial_id, chunk, allocation_id=allocation_id)
    path.unlink(missing_ok=True)
    return added


def _read_spool(path: Path) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    with path.open(encoding="utf-8", errors="replace") as spool:
        for raw in spool:
            try:
                item = json.loads(raw)
            except ValueError:
                continue
            seq = item.get("seq") if isinstance(item, dict) else None
            if isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0:
                lines.append(item)
    return lines


def _live_allocations(rt: Runtime) -> set[str]:
    """Ids of the allocations that are not TERMINATED."""
    with rt.db.session(read_only=True) as session:
        query = select(Allocation.id).where(Allocation.state != AllocationState.TERMINATED.value)
        return set(session.scalars(query))


def _ingest_spools(rt: Runtime) -> None:
    live = _live_allocations(rt)
    directory = rt.settings.data_dir / "logs" / "allocations"
    if not directory.is_dir():
        return
    for path in sorted(directory.glob("*.jsonl")):
        if path.stem not in live:
            added = ingest_log_spool(rt, path.stem)
            if added:
                rt.log.info("allocation %s: stored %d log lines from its spool", path.stem, added)


def _remove_dead_work_dirs(rt: Runtime) -> None:
    live = _live_allocations(rt)
    root = rt.settings.data_dir / "work"
    if not root.is_dir():
        return
    for experiment_dir in root.iterdir():
        if not experiment_dir.is_dir():
            continue
        for work in experiment_dir.iterdir():
            if work.name not in live:
                shutil.rmtree(work, ignore_errors=True)
        if not any(experiment_dir.iterdir()):
            experiment_dir.rmdir()


def _collect_checkpoints(rt: Runtime) -> None:
    registered, removed = collect_orphan_checkpoints(rt)
    if registered or removed:
        rt.log.info(
            "recovery: registered %d checkpoints found in storage, removed %d unregistered "
            "or unfinished ones",
            len(registered),
            len(removed),
        )


_LEAK_STEPS: list[tuple[str, Callable[[Runtime], None]]] = [
    ("store spooled log lines", _ingest_spools),
    ("register or remove unregistered checkpoints", _collect_checkpoints),
    ("remove dead work directories", _remove_dead_work_dirs),
]
