"""`det.get_cluster_info()` and `ClusterInfo`: who this trial is, before `core.init()`.

Determined scripts read their trial id, hyperparameters and latest checkpoint from here. On a
Trainyard master the values come from the allocation's info (`GET /allocations/{aid}/info`);
in Trainyard's local mode (`TRAINYARD_CONFIG` set) from the same place `trainyard.core.init()`
reads them (the config, the run folder), with trial and experiment id 1, so a script never sees
`None` where Determined promises an id. With neither, it is None, as Determined's is off-cluster
(scripts use that to pick their own local settings).
"""

from __future__ import annotations

import functools
import os
import socket
from dataclasses import dataclass, field
from typing import Any

from trainyard.core._info import TrialInfo as CoreTrialInfo

LOCAL_ID = 1
"""The trial and experiment id of a local run (one trial of a one-trial experiment)."""


@dataclass(frozen=True)
class TrialInfo:
    """`info.trial`: the running trial (Determined's `det.TrialInfo`)."""

    trial_id: int
    experiment_id: int
    trial_seed: int
    hparams: dict[str, Any]
    config: dict[str, Any]
    steps_completed: int = 0
    trial_run_id: int = 0
    debug: bool = False
    inter_node_network_interface: str | None = None


@dataclass(frozen=True)
class ClusterInfo:
    """What Determined's `det.ClusterInfo` gives a trial, read from Trainyard's allocation.

    `slot_ids` are this node's slots (one per rank on the node), `container_addrs` one address
    per node of the trial (the chief's first), `container_rank` this node's index.
    """

    master_url: str | None
    trial: TrialInfo
    latest_checkpoint: str | None
    slot_ids: list[int]
    container_addrs: list[str]
    container_rank: int
    allocation_id: str | None = None
    session_token: str | None = None
    task_id: str | None = None
    task_type: str = "TRIAL"
    cluster_id: str = "trainyard"
    agent_id: str = field(default_factory=socket.gethostname)
    user_data: dict[str, Any] = field(default_factory=dict)
    gpu_uuids: list[str] = field(default_factory=list)

    @property
    def master_cert_file(self) -> None:
        """Trainyard's trial API needs no certificate bundle."""
        return None


def _config_dict(config: Any) -> dict[str, Any]:
    if config is None:
        return {}
    if isinstance(config, dict):
        return config
    dump = getattr(config, "model_dump", None)
    return dict(dump(mode="json")) if callable(dump) else {}


def _slot_ids(slots: int) -> list[int]:
    local = int(os.environ.get("LOCAL_WORLD_SIZE") or 0) or slots
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    ids = [int(part) for part in visible.split(",") if part.strip().isdigit()]
    return ids[:local] if len(ids) >= local else list(range(local))


def _container_addrs() -> list[str]:
    """One entry per node, the chief's address first. Trainyard's launcher only tells a rank the
    chief's address (MASTER_ADDR), so every entry is that address: enough for the uses in
    Determined's examples (`len()` for the node count, `[0]` for the chief)."""
    nodes = int(os.environ.get("GROUP_WORLD_SIZE") or os.environ.get("TRAINYARD_NUM_NODES") or 1)
    chief = os.environ.get("MASTER_ADDR") or "127.0.0.1"
    return [chief] * max(1, nodes)


def cluster_info_from(core: CoreTrialInfo, *, master_url: str | None) -> ClusterInfo:
    """A `ClusterInfo` for a trial Trainyard describes with `core` (ids of 1 in local mode)."""
    config = _config_dict(core.config)
    trial = TrialInfo(
        trial_id=core.trial_id if core.trial_id is not None else LOCAL_ID,
        experiment_id=core.experiment_id if core.experiment_id is not None else LOCAL_ID,
        trial_seed=core.trial_seed,
        hparams=dict(core.hparams),
        config=config,
        trial_run_id=core.restarts,
    )
    return ClusterInfo(
        master_url=master_url,
        trial=trial,
        latest_checkpoint=core.latest_checkpoint,
        slot_ids=_slot_ids(core.slots),
        container_addrs=_container_addrs(),
        container_rank=int(os.environ.get("GROUP_RANK") or 0),
        allocation_id=os.environ.get("TRAINYARD_ALLOCATION_ID"),
        session_token=os.environ.get("TRAINYARD_ALLOCATION_TOKEN"),
        task_id=os.environ.get("TRAINYARD_ALLOCATION_ID"),
    )


def _master_trial_info(url: str) -> CoreTrialInfo:
    from trainyard.core._config import parse_config
    from trainyard.core._http import MasterClient

    aid = os.environ.get("TRAINYARD_ALLOCATION_ID", "")
    client = MasterClient(url, os.environ.get("TRAINYARD_ALLOCATION_TOKEN"))
    try:
        data = client.get(f"/allocations/{aid}/info")
    finally:
        client.close()
    raw_config = data.get("config") or {}
    return CoreTrialInfo(
        trial_id=int(data["trial_id"]),
        experiment_id=data.get("experiment_id"),
        hparams=dict(data.get("hparams") or {}),
        trial_seed=int(data.get("trial_seed") or 0),
        latest_checkpoint=data.get("latest_checkpoint"),
        slots=int(data.get("slots") or 1),
        restarts=int(data.get("trial_run_id") or 0),
        config=parse_config(raw_config) if raw_config else None,
    )


@functools.cache
def _read() -> ClusterInfo | None:
    url = os.environ.get("TRAINYARD_MASTER_URL")
    if url:
        return cluster_info_from(_master_trial_info(url), master_url=url)
    from trainyard.core._config import experiment_name, load_config
    from trainyard.core._local_backend import LocalBackend

    if not os.environ.get("TRAINYARD_CONFIG"):
        return None
    config = load_config(None)
    where = os.environ.get("TRAINYARD_RUN_DIR") or os.path.join("runs", experiment_name(config))
    backend_local = LocalBackend(where, config=config, echo=False, handle_sigterm=False)
    try:
        core = backend_local.trial_info()
    finally:
        backend_local.close()
    return cluster_info_from(core, master_url=None)


def get_cluster_info() -> ClusterInfo | None:
    """This trial's `ClusterInfo` (read once per process): on a master, or in local mode with
    `TRAINYARD_CONFIG` (trial id 1, the config's hyperparameters, the run folder's newest
    checkpoint); None otherwise, like Determined off-cluster."""
    return _read()
