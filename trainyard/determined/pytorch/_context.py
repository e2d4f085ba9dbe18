"""`PyTorchTrialContext`: wrap models, optimizers, LR schedulers and scalers; do the backward
pass and the optimizer step the way Determined's docs describe (aggregation, clipping, AMP)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import torch

from trainyard.core import CoreUsageError
from trainyard.determined._core_init import Context as CoreContext
from trainyard.determined.pytorch._lr import LRScheduler
from trainyard.determined.pytorch._reducers import MetricReducer, _FunctionReducer
from trainyard.pytorch._data import to_device
from trainyard.pytorch._dist import pick_device, unwrap
from trainyard.pytorch._dist import wrap_model as _wrap


class PyTorchTrialContext:
    """What a `PyTorchTrial` gets: hyperparameters, the device, and the wrap/step calls.

    Built by `det.pytorch.init()` (or by `load_trial_from_checkpoint_path` with no core
    context, for inference). `distributed` is the core `DistributedContext`.
    """

    def __init__(
        self,
        core_context: CoreContext | None,
        hparams: dict[str, Any],
        *,
        config: dict[str, Any] | None = None,
        aggregation_frequency: int = 1,
        device: torch.device | None = None,
    ) -> None:
        self._core = core_context
        self.distributed = core_context.distributed if core_context else None
        self._hparams = dict(hparams)
        self._config = dict(config or {})
        size = self.distributed.size if self.distributed else 1
        self._size = size
        local_rank = self.distributed.local_rank if self.distributed else 0
        self.device = device or pick_device(local_rank)
        self._aggregation = aggregation_frequency
        self.models: list[torch.nn.Module] = []
        self.optimizers: list[torch.optim.Optimizer] = []
        self.lr_schedulers: list[LRScheduler] = []
        self.scalers: list[Any] = []
        self.reducers: list[tuple[MetricReducer, str | None, bool]] = []
        self._passes: dict[int, int] = {}
        self._stop_requested = False
        self.current_batch = 0
        self.epoch_len: int | None = None

    # --- what the trial reads ---

    def get_hparam(self, name: str) -> Any:
        if name not in self._hparams:
            raise CoreUsageError(
                f"hyperparameter {name!r} is not defined; known: {sorted(self._hparams)}"
            )
        return self._hparams[name]

    def get_hparams(self) -> dict[str, Any]:
        return dict(self._hparams)

    def get_global_batch_size(self) -> int:
        gbs = self._hparams.get("global_batch_size")
        if isinstance(gbs, bool) or not isinstance(gbs, int) or gbs < self._size:
            raise CoreUsageError(
                f"hyperparameters.global_batch_size is {gbs!r}; set an integer of at least "
                f"{self._size} (one record per slot)"
            )
        return gbs

    def get_per_slot_batch_size(self) -> int:
        return self.get_global_batch_size() // self._size

    def get_experiment_config(self) -> dict[str, Any]:
        return dict(self._config)

    def get_data_config(self) -> dict[str, Any]:
        return dict(self._config.get("data") or {})

    def get_experiment_id(self) -> int:
        return self._core.info.trial.experiment_id if self._core else 1

    def get_trial_id(self) -> int:
        return self._core.info.trial.trial_id if self._core else 1

    def get_trial_seed(self) -> int:
        return self._core.info.trial.trial_seed if self._core else 0

    def get_stop_requested(self) -> bool:
        return self._stop_requested

    def set_stop_requested(self, stop_requested: bool) -> None:
        """Ask the Trainer to end training after this batch (validate and checkpoint first)."""
        self._stop_requested = bool(stop_requested)

    def current_train_batch(self) -> int:
        return self.current_batch

    def is_epoch_start(self) -> bool:
        return bool(self.epoch_len) and self.current_batch % (self.epoch_len or 1) == 0

    def is_epoch_end(self) -> bool:
        return bool(self.epoch_len) and (self.current_batch + 1) % (self.epoch_len or 1) == 0

    def to_device(self, data: Any) -> Any:
        return to_device(data, self.device)

    # --- wrapping ---

    def wrap_model(self, model: torch.nn.Module) -> torch.nn.Module:
        """Move `model` to the device and wrap it in DDP when there are several slots."""
        wrapped = _wrap(model, self.device, self._size, "ddp")
        self.models.append(wrapped)
        return wrapped

    def wrap_optimizer(
        self,
        optimizer: torch.optim.Optimizer,
        backward_passes_per_step: int = 1,
        fp16_compression: bool = False,
        average_aggregated_gradients: bool = True,
    ) -> torch.optim.Optimizer:
        """Register `optimizer`; it steps once per `backward_passes_per_step` batches (the
        gradients of those batches averaged)."""
        passes = backward_passes_per_step * self._aggregation
        if passes < 1:
            raise CoreUsageError("wrap_optimizer: backward_passes_per_step must be >= 1")
        self.optimizers.append(optimizer)
        self._passes[id(optimizer)] = passes
        return optimizer

    def wrap_lr_scheduler(
        self, lr_scheduler: Any, step_mode: LRScheduler.StepMode, frequency: int = 1
    ) -> Any:
        """Register `lr_scheduler`; the Trainer steps it as `step_mode` says."""
        self.lr_schedulers.append(LRScheduler(lr_scheduler, step_mode, frequency))
        return lr_scheduler

    def wrap_scaler(self, scaler: Any) -> Any:
        """Register an AMP `torch.cuda.amp.GradScaler` (`backward` scales the loss with it)."""
        self.scalers.append(scaler)
        return scaler

    def wrap_reducer(
        self,
        reducer: MetricReducer | Callable[[list[Any]], Any],
        name: str | None = None,
        for_training: bool = True,
        for_validation: bool = True,
    ) -> Any:
        """A custom validation reducer; a plain function gets every value passed to
        `update()`. Without `name` its result must be a dict of metrics."""
        wrapped = reducer if isinstance(reducer, MetricReducer) else _FunctionReducer(reducer)
        if for_validation:
            self.reducers.append((wrapped, name, for_training))
        return wrapped

    # --- backward and step ---

    def backward(
        self,
        loss: torch.Tensor,
        gradient: torch.Tensor | None = None,
        retain_graph: bool = False,
        create_graph: bool = False,
    ) -> None:
        """`loss.backward()` (scaled by the wrapped GradScaler, if any)."""
        if self.scalers:
            loss = self.scalers[0].scale(loss)
        loss.backward(  # type: ignore[no-untyped-call]  # torch's Tensor.backward is untyped
            gradient=gradient, retain_graph=retain_graph, create_graph=create_graph
        )

    def step_optimizer(
        self,
        optimizer: torch.optim.Optimizer,
        clip_grads: Callable[[Iterator[torch.nn.Parameter]], None] | None = None,
        auto_zero_grads: bool = True,
        scaler: Any = None,
    ) -> None:
        """Step `optimizer` at the end of each aggregation window: average the window's
        gradients, unscale (AMP), `clip_grads(params)`, step (through the scaler), zero the
        gradients, and step LR schedulers in STEP_EVERY_OPTIMIZER_STEP mode."""
        passes = self._passes.get(id(optimizer))
        if passes is None:
            raise CoreUsageError("step_optimizer: wrap the optimizer with wrap_optimizer first")
        if (self.current_batch + 1) % passes != 0:
            return
        params = [p for group in optimizer.param_groups for p in group["params"]]
        if passes > 1:
            for p in params:
                if p.grad is not None:
                    p.grad.div_(passes)
        scaler = scaler or (self.scalers[0] if self.scalers else None)
        if scaler is not None and clip_grads is not None:
            scaler.unscale_(optimizer)
        if clip_grads is not None:
            clip_grads(iter(params))
        if scaler is not None:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        if auto_zero_grads:
            optimizer.zero_grad()
        for sched in self.lr_schedulers:
            if sched.step_mode is LRScheduler.StepMode.STEP_EVERY_OPTIMIZER_STEP:
                sched.tick()

    def unwrapped_models(self) -> list[torch.nn.Module]:
        return [unwrap(m) for m in self.models]

    def get_tensorboard_writer(self) -> Any:
        from torch.utils.tensorboard import SummaryWriter

        path = self._core.train.get_tensorboard_path() if self._core else "tb"
        return SummaryWriter(str(path))
