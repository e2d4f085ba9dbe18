"""`from trainyard.determined import core`: Determined's Core API over Trainyard's.

    import trainyard.determined as det

    with det.core.init() as core_context:
        core_context.train.report_training_metrics(steps_completed=10, metrics={"loss": 0.5})

See docs/migrating-from-determined.md for what maps to what.
"""

from trainyard.core import CoreUsageError, InvalidHP
from trainyard.determined._core_contexts import (
    CheckpointContext,
    DownloadMode,
    EarlyExitReason,
    PreemptContext,
    PreemptMode,
    SearcherContext,
    SearcherMode,
    SearcherOperation,
    TrainContext,
    Unit,
)
from trainyard.determined._core_dist import DistributedContext
from trainyard.determined._core_init import Context, init

__all__ = [
    "CheckpointContext",
    "Context",
    "CoreUsageError",
    "DistributedContext",
    "DownloadMode",
    "EarlyExitReason",
    "InvalidHP",
    "PreemptContext",
    "PreemptMode",
    "SearcherContext",
    "SearcherMode",
    "SearcherOperation",
    "TrainContext",
    "Unit",
    "init",
]
