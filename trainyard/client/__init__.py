"""Trainyard's Python SDK: a typed client of the master's REST API (docs/rest-api.md).

from trainyard.client import Client
with Client.from_env() as client:
    for exp in client.list_experiments(state="ACTIVE").items:
        print(exp.id, exp.name, exp.progress)
"""

from trainyard.client._client import DEFAULT_MASTER, Client, local_admin_token
from trainyard.client._errors import (
    APIError,
    AuthenticationError,
    MasterUnreachableError,
    ModelDirTooLargeError,
)
from trainyard.client._models import (
    Allocation,
    Checkpoint,
    ClusterState,
    Experiment,
    LogLine,
    MasterInfo,
    MetricPoint,
    MetricSeries,
    Page,
    Pool,
    QueuedTrial,
    Trial,
    User,
)
from trainyard.client._tarball import IGNORE_FILE, pack_model_dir

__all__ = [
    "DEFAULT_MASTER",
    "IGNORE_FILE",
    "APIError",
    "Allocation",
    "AuthenticationError",
    "Checkpoint",
    "Client",
    "ClusterState",
    "Experiment",
    "LogLine",
    "MasterInfo",
    "MasterUnreachableError",
    "MetricPoint",
    "MetricSeries",
    "ModelDirTooLargeError",
    "Page",
    "Pool",
    "QueuedTrial",
    "Trial",
    "User",
    "local_admin_token",
    "pack_model_dir",
]
