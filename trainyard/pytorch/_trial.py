"""`PyTorchTrial`, the class users subclass, and the `PyTorchTrialContext` it receives."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import torch
from torch.utils.data import Dataset

from trainyard.errors import ConfigError


@dataclass(frozen=True)
class PyTorchTrialContext:
    """What a trial may read about its run. Built by the `Trainer`; identical on every rank
    except `rank`, `local_rank` and `device`.

    `global_batch_size` is the `global_batch_size` hyperparameter rounded down to a multiple of
    `size` (the number of slots); `per_slot_batch_size` is what each rank's batches hold.
    """

    hparams: dict[str, Any]
    global_batch_size: int
    per_slot_batch_size: int
    rank: int
    size: int
    local_rank: int
    device: torch.device
    trial_seed: int
    trial_id: int | None = None
    data_config: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        hparams: dict[str, Any],
        *,
        rank: int,
        size: int,
        local_rank: int,
        device: torch.device,
        trial_seed: int,
        trial_id: int | None = None,
        data_config: dict[str, Any] | None = None,
    ) -> PyTorchTrialContext:
        """Check `hparams["global_batch_size"]` and split it over `size` slots."""
        gbs = hparams.get("global_batch_size")
        if isinstance(gbs, bool) or not isinstance(gbs, int) or gbs <= 0:
            raise ConfigError(
                "hyperparameters.global_batch_size: must be a positive integer constant "
                f"(got {gbs!r}); add `global_batch_size: 32` under hyperparameters"
            )
        if gbs < size:
            raise ConfigError(
                f"hyperparameters.global_batch_size is {gbs}; it must be at least "
                f"resources.slots_per_trial ({size})"
            )
        per_slot = gbs // size
        return cls(
            hparams=dict(hparams),
            global_batch_size=per_slot * size,
            per_slot_batch_size=per_slot,
            rank=rank,
            size=size,
            local_rank=local_rank,
            device=device,
            trial_seed=trial_seed,
            trial_id=trial_id,
            data_config=dict(data_config or {}),
        )

    def get_hparam(self, name: str) -> Any:
        """The value of hyperparameter `name`, or a one-line error listing the known names."""
        if name not in self.hparams:
            raise ConfigError(
                f"hyperparameter {name!r} is not defined; known: {sorted(self.hparams)}"
            )
        return self.hparams[name]


class PyTorchTrial(ABC):
    """A training trial: say how to build the model, optimizer and data, and what one training
    and one validation batch compute; the `Trainer` does the rest (devices, DDP/FSDP, AMP,
    backward, gradient accumulation and clipping, optimizer and LR-scheduler steps, periods,
    metrics, checkpoints, preemption, deterministic resume).

    Example::

        class MyTrial(PyTorchTrial):
            def __init__(self, context: PyTorchTrialContext) -> None:
                self.context = context
            def build_model(self) -> nn.Module:
                return nn.Linear(8, 2)
            def build_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
                return torch.optim.SGD(model.parameters(), lr=self.context.get_hparam("lr"))
            def build_training_data(self) -> Dataset: ...
            def build_validation_data(self) -> Dataset: ...
            def train_batch(self, batch, model, epoch_idx, batch_idx):
                x, y = batch
                return {"loss": F.cross_entropy(model(x), y)}
            def evaluate_batch(self, batch, model):
                x, y = batch
                return {"validation_loss": F.cross_entropy(model(x), y)}

    Batches arrive on `context.device`. `model` is the wrapped model (DDP/FSDP) in train mode in
    `train_batch` and in eval mode under `torch.no_grad()` in `evaluate_batch`.
    """

    lr_scheduler_step: ClassVar[Literal["batch", "epoch"]] = "batch"
    """When the Trainer calls `scheduler.step()`: after every optimizer step, or every epoch."""

    @abstractmethod
    def __init__(self, context: PyTorchTrialContext) -> None: ...

    @abstractmethod
    def build_model(self) -> torch.nn.Module:
        """The model on the CPU; the Trainer moves and wraps it. Called once per process."""

    @abstractmethod
    def build_optimizer(self, model: torch.nn.Module) -> torch.optim.Optimizer:
        """The optimizer over `model`'s parameters (already on the device, possibly wrapped)."""

    def build_lr_scheduler(self, optimizer: torch.optim.Optimizer) -> Any | None:
        """An LR scheduler (with `step()`, `state_dict()`, `load_state_dict()`), or None."""
        return None

    @abstractmethod
    def build_training_data(self) -> Dataset[Any]:
        """A map-style dataset; the Trainer batches, shuffles and shards it deterministically.

        A plain `TensorDataset` is read a whole batch per indexing call (batches are lists
        `[x, y, ...]`, as the default collate makes them); any other dataset record by record.
        """

    @abstractmethod
    def build_validation_data(self) -> Dataset[Any]:
        """A map-style dataset; every record is evaluated once per validation across ranks."""

    @abstractmethod
    def train_batch(
        self, batch: Any, model: torch.nn.Module, epoch_idx: int, batch_idx: int
    ) -> dict[str, Any]:
        """Compute one batch; return at least `{"loss": scalar tensor}` (more metrics optional).

        Do not call `backward()` or step the optimizer: the Trainer does. `batch_idx` counts
        batches since the start of training (it is `steps_completed` before this batch).
        """

    @abstractmethod
    def evaluate_batch(self, batch: Any, model: torch.nn.Module) -> dict[str, Any]:
        """Metrics of one validation batch (floats or scalar tensors); the Trainer averages them
        over batches weighted by batch size and over ranks."""

    def on_validation_end(self, metrics: dict[str, float]) -> None:  # noqa: B027  # optional hook, empty by design
        """Called on every rank with the reduced validation metrics."""

    def on_checkpoint_save(self, path: Path) -> None:  # noqa: B027  # optional hook, empty by design
        """Called on the chief after the trainer wrote its state into checkpoint dir `path`;
        extra files written here are part of the checkpoint."""

    def on_train_epoch_end(self, epoch_idx: int) -> None:  # noqa: B027  # optional hook, empty by design
        """Called on every rank after the last batch of epoch `epoch_idx`."""
