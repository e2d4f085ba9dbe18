"""Determined's Core API contexts (`core_context.train`, `.checkpoint`, `.preempt`, `.searcher`),
each a thin wrapper that renames arguments and forwards to Trainyard's own context."""

from __future__ import annotations

import enum
import os
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import trainyard.core as ty
from trainyard.config import searcher_max_length


class EarlyExitReason(enum.Enum):
    """Why a trial ends before the searcher is done with it."""

    INVALID_HP = "EXITED_REASON_INVALID_HP"
    ERRORED = "EXITED_REASON_ERRORED"
    USER_REQUESTED_STOP = "EXITED_REASON_USER_REQUESTED_STOP"


_EXIT_REASONS = {
    EarlyExitReason.INVALID_HP: "invalid_hp",
    EarlyExitReason.ERRORED: "errored",
    EarlyExitReason.USER_REQUESTED_STOP: "errored",
}


class DownloadMode(enum.Enum):
    """Kept for signature compatibility: every rank reads from the checkpoint storage."""

    LocalWorkersShareDownload = "LOCAL_WORKERS_SHARE_DOWNLOAD"
    NoSharedDownload = "NO_SHARED_DOWNLOAD"


class PreemptMode(enum.Enum):
    """Kept for signature compatibility: the chief decides, every rank gets its answer."""

    WorkersAskChief = "WORKERS_ASK_CHIEF"
    ChiefOnly = "CHIEF_ONLY"
    ExplicitBroadcast = "EXPLICIT_BROADCAST"


class SearcherMode(enum.Enum):
    """Kept for signature compatibility: every rank gets the chief's operations."""

    WorkersAskChief = "WORKERS_ASK_CHIEF"
    ChiefOnly = "CHIEF_ONLY"


class Unit(enum.Enum):
    """The unit of the searcher's lengths."""

    EPOCHS = "EPOCHS"
    RECORDS = "RECORDS"
    BATCHES = "BATCHES"


class TrainContext:
    """`report_training_metrics(steps_completed=..., metrics=...)` and friends; chief only."""

    def __init__(self, inner: ty.TrainContext) -> None:
        self._inner = inner

    def report_training_metrics(
        self,
        steps_completed: int,
        metrics: Mapping[str, Any],
        batch_metrics: Any = None,
    ) -> None:
        """Training metrics after `steps_completed` batches (`batch_metrics` is not kept)."""
        self._inner.report_training_metrics(steps_completed, metrics)

    def report_validation_metrics(self, steps_completed: int, metrics: Mapping[str, Any]) -> None:
        """Validation metrics after `steps_completed` batches. In a `time_metric` search, include
        the time metric (e.g. `"batches": steps_completed`): the searcher reads it."""
        self._inner.report_validation_metrics(steps_completed, metrics)

    def report_metrics(self, group: str, steps_completed: int, metrics: Mapping[str, Any]) -> None:
        """`group` is `training` or `validation` (Trainyard keeps no other groups)."""
        if group == "training":
            self.report_training_metrics(steps_completed, metrics)
        elif group == "validation":
            self.report_validation_metrics(steps_completed, metrics)
        else:
            raise ty.CoreUsageError(
                f"report_metrics: group {group!r} is not supported by Trainyard; use "
                "'training' or 'validation'"
            )

    def report_progress(self, progress: float) -> None:
        self._inner.report_progress(progress)

    def report_early_exit(self, reason: EarlyExitReason | str) -> None:
        value = _EXIT_REASONS.get(reason, reason) if isinstance(reason, EarlyExitReason) else reason
        self._inner.report_early_exit(value)

    def get_experiment_best_validation(self) -> float | None:
        """The best searcher metric any trial of the experiment reported so far (None: none)."""
        return self._inner.get_experiment_best_validation()

    def set_status(self, status: str) -> None:
        """Accepted and ignored (Trainyard shows the trial's state and logs instead)."""

    def get_tensorboard_path(self) -> Path:
        """Where to write TensorBoard event files (`TRAINYARD_TENSORBOARD_DIR`, else ./tb)."""
        path = Path(os.environ.get("TRAINYARD_TENSORBOARD_DIR") or "tb")
        path.mkdir(parents=True, exist_ok=True)
        return path

    def flush(self) -> None:
        self._inner.flush()


class CheckpointContext:
    """Determined's checkpoint calls; `metadata` must hold `steps_completed`."""

    def __init__(self, inner: ty.CheckpointContext) -> None:
        self._inner = inner

    def store_path(
        self, metadata: Mapping[str, Any] | None = None, *, shard: bool = False
    ) -> AbstractContextManager[tuple[Path, str]]:
        return self._inner.store_path(dict(metadata or {}), shard=shard)

    def restore_path(
        self,
        storage_id: str,
        download_mode: DownloadMode = DownloadMode.LocalWorkersShareDownload,
        *,
        selector: Any = None,
    ) -> AbstractContextManager[Path]:
        return self._inner.restore_path(storage_id)

    def upload(
        self,
        ckpt_dir: str | os.PathLike[str] | None,
        metadata: Mapping[str, Any] | None = None,
        *,
        shard: bool = False,
        selector: Any = None,
    ) -> str:
        if ckpt_dir is None:
            raise ty.CoreUsageError("checkpoint.upload: ckpt_dir is required by Trainyard")
        return self._inner.upload(Path(ckpt_dir), dict(metadata or {}), shard=shard)

    def download(
        self,
        storage_id: str,
        ckpt_dir: str | os.PathLike[str],
        download_mode: DownloadMode = DownloadMode.LocalWorkersShareDownload,
        *,
        selector: Any = None,
    ) -> None:
        self._inner.download(storage_id, Path(ckpt_dir))

    def get_metadata(self, storage_id: str) -> dict[str, Any]:
        return self._inner.get_metadata(storage_id)

    def delete(self, storage_id: str, globs: list[str] | None = None) -> None:
        if globs:
            raise ty.CoreUsageError("checkpoint.delete: globs are not supported by Trainyard")
        self._inner.delete(storage_id)


class PreemptContext:
    def __init__(self, inner: ty.PreemptContext) -> None:
        self._inner = inner

    def should_preempt(self, auto_ack: bool = True) -> bool:
        """True once the platform wants the trial to stop: checkpoint and exit 0. In a 0.38
        search this is also how the searcher stops a losing trial."""
        return self._inner.should_preempt()

    def acknowledge_preemption_signal(self) -> None:
        """Nothing to do: exiting 0 acknowledges."""


class SearcherOperation:
    """Train until `length`, `report_progress(length)` on the way, then `report_completed`."""

    def __init__(self, inner: ty.SearcherOperation, train: ty.TrainContext) -> None:
        self._inner = inner
        self._train = train

    @property
    def length(self) -> int:
        return self._inner.length

    def report_progress(self, length: float) -> None:
        """Progress in the searcher's unit, towards `length`."""
        self._train.report_progress(min(1.0, max(0.0, float(length) / max(1, self.length))))

    def report_completed(self, searcher_metric: Any) -> None:
        self._inner.report_completed(searcher_metric)


class SearcherContext:
    """Determined 0.37's `searcher.operations()`; needs `searcher.max_length` (or a time metric)
    in the config."""

    def __init__(self, inner: ty.SearcherContext, train: ty.TrainContext, config: Any) -> None:
        self._inner = inner
        self._train = train
        self._config = config

    def operations(
        self,
        searcher_mode: SearcherMode = SearcherMode.WorkersAskChief,
        auto_ack: bool = True,
    ) -> Iterator[SearcherOperation]:
        if self._config is not None and searcher_max_length(self._config) is None:
            raise ty.CoreUsageError(
                "searcher.operations() needs searcher.max_length in the experiment config (this "
                "searcher lets the training script decide how long to train)"
            )
        for op in self._inner.operations():
            yield SearcherOperation(op, self._train)

    def acknowledge_out_of_ops(self) -> None:
        """Nothing to do: the trial exits 0 when its operations end."""

    def get_configured_units(self) -> Unit | None:
        unit = self._inner.length_unit
        return Unit(unit.upper()) if unit else None
