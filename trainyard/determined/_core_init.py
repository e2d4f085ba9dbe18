"""`det.core.init()`: Trainyard's `core.init()` with Determined's signature and contexts."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import trainyard.core as ty
from trainyard.core._context import default_distributed
from trainyard.determined._core_contexts import (
    CheckpointContext,
    PreemptContext,
    PreemptMode,
    SearcherContext,
    TrainContext,
)
from trainyard.determined._core_dist import DistributedContext
from trainyard.determined._info import ClusterInfo, cluster_info_from


class Context:
    """What `det.core.init()` returns; use it as a context manager (`with ... as core_context`).

    `distributed`, `train`, `checkpoint`, `preempt`, `searcher` follow Determined's API; `info`
    is the trial's `ClusterInfo`; `trainyard` is the Trainyard context underneath.
    """

    def __init__(self, inner: ty.Context, distributed: DistributedContext, owns: bool) -> None:
        self.trainyard = inner
        self.distributed = distributed
        self.train = TrainContext(inner.train)
        self.checkpoint = CheckpointContext(inner.checkpoint)
        self.preempt = PreemptContext(inner.preempt)
        self.searcher = SearcherContext(inner.searcher, inner.train, inner.info.config)
        master = None if inner.info.trial_id is None else "trainyard"
        self.info: ClusterInfo = cluster_info_from(inner.info, master_url=master)
        self._owns = owns

    def __enter__(self) -> Context:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        try:
            return self.trainyard.__exit__(exc_type, exc, tb)
        finally:
            if self._owns:
                self.distributed.close()

    def close(self) -> None:
        try:
            self.trainyard.close()
        finally:
            if self._owns:
                self.distributed.close()


def init(
    *,
    distributed: ty.DistributedContext | None = None,
    checkpoint_storage: Any = None,
    preempt_mode: PreemptMode = PreemptMode.WorkersAskChief,
    tensorboard_mode: Any = None,
    async_checkpointing: bool = False,
    **trainyard_options: Any,
) -> Context:
    """Start the Core API (a collective when there are several ranks).

    Without `distributed` the ranks come from torchrun's variables (Trainyard's launcher sets
    them) or a single process. `checkpoint_storage` other than None is refused: the experiment
    config's `checkpoint_storage` decides. `trainyard_options` go to `trainyard.core.init`
    (`config`, `hparams`, `run_dir` for local runs).
    """
    if checkpoint_storage is not None:
        raise ty.CoreUsageError(
            "core.init(checkpoint_storage=...) is not supported by Trainyard; set "
            "checkpoint_storage in the experiment config"
        )
    owns = distributed is None
    dist = default_distributed(DistributedContext) if distributed is None else distributed
    if not isinstance(dist, DistributedContext):
        dist = DistributedContext._of(dist)
    try:
        inner = ty.init(distributed=dist, **trainyard_options)
    except BaseException:
        if owns:
            dist.close()
        raise
    return Context(inner, dist, owns)
