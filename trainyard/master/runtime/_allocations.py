"""Starting allocations: DB rows first, then the processes, then their process group id.

The allocation row (with its token hash) and the trial's RUNNING state are committed before any
process starts; the pgid is recorded right after, so a master killed at any point leaves either
nothing to clean up or a row naming the group to kill.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import tarfile
from pathlib import Path

from sqlalchemy.orm import Session

from trainyard.errors import NotFoundError
from trainyard.master.db import allocations as alloc_repo
from trainyard.master.db import experiments as exp_repo
from trainyard.master.db import trials as trial_repo
from trainyard.master.rm import LaunchSpec
from trainyard.master.runtime._context import Runtime
from trainyard.master.runtime._exits import handle_exit
from trainyard.master.states import AllocationState, ExperimentState, TrialState

__all__ = ["allocation_log_path", "start_allocation", "work_dir"]


def work_dir(rt: Runtime, experiment_id: int, allocation_id: str) -> Path:
    """Where the allocation runs: a fresh copy of the experiment's model directory."""
    return rt.settings.data_dir / "work" / str(experiment_id) / allocation_id


def allocation_log_path(rt: Runtime, allocation_id: str) -> Path:
    """The allocation's raw stdout/stderr (a fallback; the launcher ships logs to the API)."""
    return rt.allocation_log(allocation_id)


def start_allocation(
    rt: Runtime, experiment_id: int, trial_id: int, pool: str, slot_ids: tuple[int, ...]
) -> str | None:
    """Create the allocation and launch it; returns its id, or None when the trial no longer
    wants to run (the decision was stale)."""
    with rt.shell.unit(experiment_id) as session:
        trial = trial_repo.get_trial(session, trial_id, for_update=True)
        experiment = exp_repo.get_experiment(session, experiment_id)
        if trial.state != TrialState.QUEUED or experiment.state != ExperimentState.ACTIVE:
            return None
        alloc, token = alloc_repo.create_allocation(
            session, trial_id, resource_pool=pool, slots=len(slot_ids), slot_ids=slot_ids
        )
        trial_repo.set_trial_state(session, trial_id, TrialState.RUNNING)
        config = rt.config(session, experiment_id)
        tarball = _model_definition(session, experiment_id)
        allocation_id = alloc.id
    slot_type = rt.settings.pool(pool).slot_type
    env = _environment(rt, experiment_id, trial_id, allocation_id, token, slot_type, slot_ids)
    env.update(config.environment.environment_variables)
    workdir = work_dir(rt, experiment_id, allocation_id)
    spec = LaunchSpec(
        allocation_id=allocation_id,
        entrypoint=config.entrypoint,
        slots=len(slot_ids),
        workdir=workdir,
        log_path=allocation_log_path(rt, allocation_id),
        env=env,
    )
    try:
        _extract(tarball, workdir)
        pgid = rt.rm.launch(spec)
    except Exception as err:  # a broken model dir or command must not stop the master
        rt.log.warning("trial %s: could not start allocation %s: %s", trial_id, allocation_id, err)
        _write_failure(spec.log_path, f"could not start: {err}")
        handle_exit(rt, allocation_id, 127, start_error=" ".join(str(err).split())[:300])
        return allocation_id
    with rt.db.session() as session:
        alloc_repo.set_processes(session, allocation_id, [pgid], pgid)
        row = alloc_repo.get_allocation(session, allocation_id)
        if row.state == AllocationState.PENDING:
            alloc_repo.set_allocation_state(session, allocation_id, AllocationState.STARTING)
        killed = row.preempt_reason == "kill"
    if killed:  # killed while it was being launched
        rt.rm.kill(allocation_id)
    return allocation_id


def _model_definition(session: Session, experiment_id: int) -> bytes:
    try:
        return exp_repo.get_model_definition(session, experiment_id)
    except NotFoundError:
        return b""


def _environment(
    rt: Runtime,
    experiment_id: int,
    trial_id: int,
    allocation_id: str,
    token: str,
    slot_type: str,
    slot_ids: tuple[int, ...],
) -> dict[str, str]:
    """The env contract of docs/trial-api.md (the launcher adds the torch.distributed part)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINYARD_")}
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    with rt.db.session(read_only=True) as session:
        storage = rt.storage_json(rt.config(session, experiment_id))
    env.update(
        {
            "TRAINYARD_MASTER_URL": rt.settings.url,
            "TRAINYARD_ALLOCATION_ID": allocation_id,
            "TRAINYARD_ALLOCATION_TOKEN": token,
            "TRAINYARD_TRIAL_ID": str(trial_id),
            "TRAINYARD_EXPERIMENT_ID": str(experiment_id),
            "TRAINYARD_CHECKPOINT_STORAGE": storage,
            # Numbered lines the launcher keeps on disk; ingested after a master restart.
            "TRAINYARD_LOG_SPOOL": str(
                allocation_log_path(rt, allocation_id).with_suffix(".jsonl")
            ),
        }
    )
    if slot_type == "cuda":
        env["CUDA_VISIBLE_DEVICES"] = ",".join(str(s) for s in slot_ids)
    else:
        env.pop("CUDA_VISIBLE_DEVICES", None)
    return env


def _extract(tarball: bytes, dest: Path) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    if not tarball:
        return
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:*") as tar:
        tar.extractall(dest, filter="data")


def _write_failure(path: Path, message: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as out:
        out.write(message + "\n")
