"""Determined's public Python API, shaped over Trainyard's, so a port is one import line:

    import determined as det                  ->  import trainyard.determined as det
    from determined import core, pytorch      ->  from trainyard.determined import core, pytorch

`det.core` (Core API contexts), `det.pytorch` (PyTorchTrial, Trainer; imported on first use, it
needs torch), `det.get_cluster_info()`, `det.LOG_FORMAT`. It is a thin layer: every metric,
checkpoint, preemption and searcher call goes to `trainyard.core`. See
docs/migrating-from-determined.md.
"""

from __future__ import annotations

import importlib
from typing import Any

from trainyard.determined import core
from trainyard.determined._info import ClusterInfo, TrialInfo, get_cluster_info

LOG_FORMAT = "%(levelname)s: [%(process)s] %(name)s: %(message)s"
"""The logging format Determined's examples pass to `logging.basicConfig`."""

__all__ = ["LOG_FORMAT", "ClusterInfo", "TrialInfo", "core", "get_cluster_info", "pytorch"]


def __getattr__(name: str) -> Any:
    if name == "pytorch":  # imported lazily: it needs torch, Core API scripts may not
        return importlib.import_module("trainyard.determined.pytorch")
    raise AttributeError(f"module 'trainyard.determined' has no attribute {name!r}")
