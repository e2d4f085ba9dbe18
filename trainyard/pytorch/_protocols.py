"""The slice of the Core API (`trainyard.core.Context`) the trainer uses, as structural types.

The trainer depends on these protocols rather than on the concrete classes so that it can be
driven by the real `trainyard.core.init()` context (master-backed or local) and so that its
contract with the Core API is written down in one place. See `docs/core-api.md`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol


class TrialInfoLike(Protocol):
    """`ctx.info`: who this trial is and where it starts from."""

    @property
    def trial_id(self) -> int | None: ...
    @property
    def hparams(self) -> dict[str, Any]: ...
    @property
    def trial_seed(self) -> int: ...
    @property
    def latest_checkpoint(self) -> str | None: ...
    @property
    def config(self) -> Any: ...


class DistributedLike(Protocol):
    """`ctx.distributed`: rank layout and object collectives (all ranks must call them)."""

    @property
    def rank(self) -> int: ...
    @property
    def size(self) -> int: ...
    @property
    def local_rank(self) -> int: ...
    @property
    def is_chief(self) -> bool: ...
    def broadcast(self, obj: Any) -> Any: ...
    def broadcast_int(self, value: int) -> int: ...
    def gather(self, obj: Any) -> list[Any] | None: ...
    def allgather(self, obj: Any) -> list[Any]: ...


class TrainLike(Protocol):
    """`ctx.train`: metric reporting (chief-only; a no-op on other ranks)."""

    def report_training_metrics(self, steps: int, metrics: Mapping[str, float]) -> None: ...
    def report_validation_metrics(self, steps: int, metrics: Mapping[str, float]) -> None: ...
    def report_progress(self, progress: float) -> None: ...
    def get_experiment_best_validation(self) -> float | None: ...


class CheckpointLike(Protocol):
    """`ctx.checkpoint`: write and read checkpoint directories in checkpoint storage."""

    def store_path(
        self, metadata: dict[str, Any], *, shard: bool = False
    ) -> AbstractContextManager[tuple[Path, str]]: ...
    def restore_path(self, uuid: str) -> AbstractContextManager[Path]: ...
    def latest_good(self, candidates: Sequence[str] | None = ...) -> str | None: ...


class PreemptLike(Protocol):
    """`ctx.preempt`: whether the platform wants this trial to stop (all ranks agree)."""

    def should_preempt(self) -> bool: ...


class SearcherOperationLike(Protocol):
    """One unit of searcher work: train until `length` (cumulative), validate, report."""

    @property
    def length(self) -> int: ...
    def report_completed(self, metric: float) -> None: ...


class SearcherLike(Protocol):
    """`ctx.searcher`: the stream of operations for this trial."""

    def operations(self) -> Iterator[SearcherOperationLike]: ...


class CoreContextLike(Protocol):
    """What `trainyard.core.init()` returns, as far as the trainer is concerned."""

    @property
    def info(self) -> TrialInfoLike: ...
    @property
    def distributed(self) -> DistributedLike: ...
    @property
    def train(self) -> TrainLike: ...
    @property
    def checkpoint(self) -> CheckpointLike: ...
    @property
    def preempt(self) -> PreemptLike: ...
    @property
    def searcher(self) -> SearcherLike: ...
