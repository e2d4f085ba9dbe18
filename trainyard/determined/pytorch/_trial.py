"""`PyTorchTrial` and `PyTorchCallback`, as Determined's docs describe them."""

from __future__ import annotations

import abc
import inspect
from typing import TYPE_CHECKING, Any

import torch

from trainyard.determined.pytorch._reducers import MetricReducer, Reducer

if TYPE_CHECKING:
    from trainyard.determined.pytorch._context import PyTorchTrialContext
    from trainyard.determined.pytorch._data import DataLoader


class PyTorchCallback:
    """Hooks the Trainer calls; override the ones you need. `state_dict`/`load_state_dict` are
    kept in checkpoints."""

    def on_trial_startup(self, first_batch_idx: int, checkpoint_uuid: str | None) -> None:
        """Before training starts (or resumes at `first_batch_idx`)."""

    def on_trial_shutdown(self) -> None:
        """After training ended (also after preemption)."""

    def on_training_start(self) -> None:
        """Once, before the first training batch."""

    def on_training_epoch_start(self, epoch_idx: int) -> None:
        """Before the first batch of each epoch."""

    def on_training_epoch_end(self, epoch_idx: int) -> None:
        """After the last batch of each epoch."""

    def on_training_workload_end(self, avg_metrics: dict[str, Any], batch_metrics: Any) -> None:
        """After training metrics were reported (every `reporting_period`)."""

    def on_validation_start(self) -> None:
        """Before a validation."""

    def on_validation_end(self, metrics: dict[str, Any]) -> None:
        """After a validation, with its reduced metrics (every rank)."""

    def on_checkpoint_load_start(self, checkpoint: dict[str, Any]) -> None:
        """Before the trainer loads the checkpoint's state (the loaded dict)."""

    def on_checkpoint_save_start(self, checkpoint: dict[str, Any]) -> None:
        """Before a checkpoint is written (the dict to be saved; may be extended)."""

    def on_checkpoint_end(self, checkpoint_dir: str) -> None:
        """After the checkpoint files were written to `checkpoint_dir` (chief)."""

    def on_checkpoint_upload_end(self, uuid: str) -> None:
        """After the checkpoint `uuid` was stored (chief)."""

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what `state_dict` returned."""


class PyTorchTrial(abc.ABC):
    """Determined's trial class: wrap models/optimizers in `__init__` with the context, do the
    forward and backward pass and the optimizer step in `train_batch`, and give the data loaders
    and the evaluation. `Trainer(trial, context).fit(...)` runs it.

    Batches arrive on the context's device. `train_batch` returns a loss tensor or a dict of
    metrics; `evaluate_batch(batch, batch_idx)` (or `evaluate_batch(batch)`) a dict, reduced by
    `evaluation_reducer()` (default `Reducer.AVG`); alternatively `evaluate_full_dataset(loader)`
    computes the validation metrics on the chief.
    """

    trial_context_class: Any = None

    @abc.abstractmethod
    def __init__(self, context: PyTorchTrialContext) -> None: ...

    @abc.abstractmethod
    def train_batch(
        self, batch: Any, epoch_idx: int, batch_idx: int
    ) -> torch.Tensor | dict[str, Any]: ...

    @abc.abstractmethod
    def build_training_data_loader(self) -> DataLoader: ...

    @abc.abstractmethod
    def build_validation_data_loader(self) -> DataLoader: ...

    def build_callbacks(self) -> dict[str, PyTorchCallback]:
        return {}

    def evaluate_batch(self, batch: Any, batch_idx: int) -> dict[str, Any]:
        raise NotImplementedError("define evaluate_batch or evaluate_full_dataset")

    def evaluate_full_dataset(
        self, data_loader: torch.utils.data.DataLoader[Any]
    ) -> dict[str, Any]:
        raise NotImplementedError("define evaluate_batch or evaluate_full_dataset")

    def evaluation_reducer(self) -> Reducer | dict[str, Reducer]:
        return Reducer.AVG

    def get_batch_length(self, batch: Any) -> int:
        """Records in a batch (the first tensor's leading dimension by default)."""
        from trainyard.pytorch._data import batch_size_of

        return batch_size_of(batch)


def uses_full_dataset(trial: PyTorchTrial) -> bool:
    """Whether the trial evaluates with `evaluate_full_dataset` (it overrides only that one)."""
    cls = type(trial)
    full = cls.evaluate_full_dataset is not PyTorchTrial.evaluate_full_dataset
    batch = cls.evaluate_batch is not PyTorchTrial.evaluate_batch
    return full and not batch


def evaluate_takes_index(trial: PyTorchTrial) -> bool:
    """`evaluate_batch(batch, batch_idx)` (Determined's) or `evaluate_batch(batch)` (older)."""
    params = list(inspect.signature(trial.evaluate_batch).parameters.values())
    return len(params) >= 2 or any(p.kind is p.VAR_POSITIONAL for p in params)


__all__ = [
    "MetricReducer",
    "PyTorchCallback",
    "PyTorchTrial",
    "Reducer",
    "evaluate_takes_index",
    "uses_full_dataset",
]
