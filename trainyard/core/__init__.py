"""The Core API: what a training process uses to talk to the platform.

    import trainyard.core as core

    with core.init() as ctx:
        for op in ctx.searcher.operations():
            ...train until op.length, ctx.train.report_training_metrics(...)...
            op.report_completed(val_loss)

`init()` picks `MasterBackend` when `TRAINYARD_MASTER_URL` is set, else `LocalBackend` (a run
folder with metrics.jsonl and checkpoints). See docs/core-api.md.
"""

from trainyard.core._backend import Backend
from trainyard.core._checkpoint import CheckpointContext
from trainyard.core._context import Context, init
from trainyard.core._distributed import DistributedContext
from trainyard.core._errors import CoreUsageError, InvalidHP, MasterError
from trainyard.core._info import TrialInfo
from trainyard.core._local_backend import LocalBackend
from trainyard.core._master_backend import MasterBackend
from trainyard.core._preempt import PreemptContext
from trainyard.core._searcher import SearcherContext, SearcherOperation
from trainyard.core._train import TrainContext

__all__ = [
    "Backend",
    "CheckpointContext",
    "Context",
    "CoreUsageError",
    "DistributedContext",
    "InvalidHP",
    "LocalBackend",
    "MasterBackend",
    "MasterError",
    "PreemptContext",
    "SearcherContext",
    "SearcherOperation",
    "TrainContext",
    "TrialInfo",
    "init",
]
