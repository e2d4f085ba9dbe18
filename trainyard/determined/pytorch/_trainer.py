"""`Trainer(trial, context).fit(...)` and `init()`: Determined's PyTorch training loop, with every
metric, checkpoint, preemption and searcher call going to the Core API underneath."""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from trainyard.config import searcher_length_unit, searcher_max_length
from trainyard.core import CoreUsageError
from trainyard.determined._core_init import Context as CoreContext
from trainyard.determined._core_init import init as core_init
from trainyard.determined.pytorch._context import PyTorchTrialContext
from trainyard.determined.pytorch._evaluate import validate
from trainyard.determined.pytorch._lr import LRScheduler
from trainyard.determined.pytorch._state import TrainerState, load_state, save_state
from trainyard.determined.pytorch._trial import PyTorchTrial
from trainyard.determined.pytorch._units import Batch, Epoch, TrainUnit, as_unit
from trainyard.pytorch._rng import seed_everything

_POLICIES = ("best", "all", "none")


class Trainer:
    """Runs a `PyTorchTrial` on the context `init()` gave it."""

    def __init__(self, trial: PyTorchTrial, context: PyTorchTrialContext) -> None:
        if context._core is None:
            raise CoreUsageError("Trainer needs a context from det.pytorch.init()")
        self.trial = trial
        self.context = context
        self.core: CoreContext = context._core
        self.dist = context._core.distributed
        self.state = TrainerState()
        self.callbacks = trial.build_callbacks()

    def fit(
        self,
        checkpoint_period: TrainUnit | int | None = None,
        validation_period: TrainUnit | int | None = None,
        max_length: TrainUnit | int | None = None,
        reporting_period: TrainUnit | int = Batch(100),  # noqa: B008  # Determined's default, immutable
        checkpoint_policy: str = "best",
        latest_checkpoint: str | None = None,
        step_zero_validation: bool = False,
        test_mode: bool = False,
        profiling_enabled: bool = False,
    ) -> None:
        """Train to `max_length` (`Batch(n)`/`Epoch(n)`), or, without it, to each length the
        searcher's operations ask for (0.37 configs with `searcher.max_length`). Validates every
        `validation_period` and at the end, checkpoints every `checkpoint_period`, after
        validations as `checkpoint_policy` says (`best`, `all`, `none`), at the end and when
        preempted (then returns; the script exits 0). `latest_checkpoint` (default: the trial's
        own, so a preempted trial resumes) is where training continues from."""
        if checkpoint_policy not in _POLICIES:
            raise CoreUsageError(f"checkpoint_policy {checkpoint_policy!r}; use one of {_POLICIES}")
        self.policy = checkpoint_policy
        self.periods = {
            "checkpoint": as_unit(checkpoint_period, "checkpoint_period"),
            "validation": as_unit(validation_period, "validation_period"),
            "reporting": as_unit(reporting_period, "reporting_period"),
        }
        loader, self.sampler = self.trial.build_training_data_loader().training(
            self.dist.rank,
            self.dist.size,
            self.context.get_trial_seed(),
        )
        self.loader = loader
        self.batches_per_epoch = len(self.sampler) if self.sampler is not None else len(loader)
        self.context.epoch_len = self.batches_per_epoch
        start = latest_checkpoint or self.core.info.latest_checkpoint
        if start:
            self._load(start)
        self._call("on_trial_startup", self.state.batches, start)
        self._call("on_training_start")
        try:
            if step_zero_validation and self.state.batches == 0:
                self._validate()
            limit = as_unit(max_length, "max_length")
            if limit is not None:
                self._train_to(limit.to_batches(self.batches_per_epoch), final=True)
            else:
                self._follow_operations()
        finally:
            self._call("on_trial_shutdown")

    # --- lengths ---

    def _follow_operations(self) -> None:
        config = self.core.trainyard.info.config
        if config is None or searcher_max_length(config) is None:
            raise CoreUsageError(
                "Trainer.fit: give max_length (e.g. pytorch.Batch(1000)); the experiment's "
                "searcher has no max_length"
            )
        unit, metric = searcher_length_unit(config), config.searcher.metric
        for op in self.core.searcher.operations():
            target = self._to_batches(op.length, unit)
            if not self._train_to(target, final=True):
                return
            value = self.state.last_validation.get(metric)
            if value is None:
                raise CoreUsageError(
                    f"the searcher's metric {metric!r} is not among the validation metrics "
                    f"{sorted(self.state.last_validation)}"
                )
            op.report_completed(value)

    def _to_batches(self, length: int, unit: str | None) -> int:
        if unit == "epochs":
            return Epoch(length).to_batches(self.batches_per_epoch)
        if unit == "records":
            return math.ceil(length / max(1, self.context.get_global_batch_size()))
        return length

    # --- the loop ---

    def _train_to(self, target: int, *, final: bool) -> bool:
        """Train until `target` batches; False when preempted (checkpointed, caller returns)."""
        window: list[dict[str, float]] = []
        while self.state.batches < target:
            if self.sampler is not None:
                self.sampler.set_position(
                    self.state.epoch, self.state.batches % self.batches_per_epoch
                )
            if self.state.batches % self.batches_per_epoch == 0:
                self._call("on_training_epoch_start", self.state.epoch)
            for batch in self.loader:
                self._train_batch(batch, window)
                if self._after_batch(window, target):
                    break
            else:
                self._end_epoch()
            if self.core.preempt.should_preempt():
                self._report_training(window)
                self._checkpoint()
                return False
            if self.context.get_stop_requested():
                break
        self._report_training(window)
        if final:
            if self.state.last_validation_at != self.state.batches:
                self._validate()
            if self.state.last_checkpoint_at != self.state.batches:
                self._checkpoint()
        return True

    def _train_batch(self, batch: Any, window: list[dict[str, float]]) -> None:
        self.context.current_batch = self.state.batches
        for model in self.context.models:
            model.train()
        out = self.trial.train_batch(
            self.context.to_device(batch), self.state.epoch, self.state.batches
        )
        metrics = {"loss": out} if isinstance(out, torch.Tensor) else dict(out or {})
        window.append(
            {
                k: float(v.detach().item()) if isinstance(v, torch.Tensor) else float(v)
                for k, v in metrics.items()
                if _scalar(v)
            }
        )
        self.state.batches += 1
        for sched in self.context.lr_schedulers:
            if sched.step_mode is LRScheduler.StepMode.STEP_EVERY_BATCH:
                sched.tick()

    def _after_batch(self, window: list[dict[str, float]], target: int) -> bool:
        """Periodic work after a batch; True to leave the epoch's loop."""
        b = self.state.batches
        at_epoch_end = b % self.batches_per_epoch == 0
        if at_epoch_end:
            self._end_epoch()
        if self._due("reporting", b, at_epoch_end):
            self._report_training(window)
        if self._due("validation", b, at_epoch_end) and b < target:
            self._validate()
        if self._due("checkpoint", b, at_epoch_end) and b < target:
            self._checkpoint()
        if at_epoch_end:
            return True
        return b >= target or self.context.get_stop_requested() or self._preempt_soon()

    def _preempt_soon(self) -> bool:
        return self.core.preempt.should_preempt()

    def _end_epoch(self) -> None:
        self._call("on_training_epoch_end", self.state.epoch)
        self.state.epoch += 1
        for sched in self.context.lr_schedulers:
            if sched.step_mode is LRScheduler.StepMode.STEP_EVERY_EPOCH:
                sched.tick()

    def _due(self, which: str, batches: int, at_epoch_end: bool) -> bool:
        unit = self.periods[which]
        if unit is None:
            return False
        if isinstance(unit, Epoch):
            return at_epoch_end and self.state.epoch % unit.value == 0
        return batches % unit.value == 0

    # --- reports, validation, checkpoints ---

    def _report_training(self, window: list[dict[str, float]]) -> None:
        gathered = self.dist.allgather(window)
        rows = [row for rank in gathered for row in rank]
        window.clear()
        if not rows:
            return
        names = sorted({k for row in rows for k in row})
        avg = {k: sum(r[k] for r in rows if k in r) / sum(1 for r in rows if k in r) for k in names}
        avg.setdefault("batches", self.state.batches)
        avg.setdefault("epochs", self.state.epoch)
        self.core.train.report_training_metrics(steps_completed=self.state.batches, metrics=avg)
        self._call("on_training_workload_end", avg, None)

    def _validate(self) -> dict[str, Any]:
        self._call("on_validation_start")
        metrics = validate(self.trial, self.context)
        metrics.setdefault("batches", self.state.batches)
        metrics.setdefault("epochs", self.state.epoch)
        self.core.train.report_validation_metrics(
            steps_completed=self.state.batches, metrics=metrics
        )
        self.state.last_validation, self.state.last_validation_at = metrics, self.state.batches
        self._call("on_validation_end", metrics)
        if self.policy == "all" or (self.policy == "best" and self._is_best(metrics)):
            self._checkpoint()
        return metrics

    def _is_best(self, metrics: dict[str, Any]) -> bool:
        config = self.core.trainyard.info.config
        if config is None or config.searcher.metric not in metrics:
            return False
        value = float(metrics[config.searcher.metric])
        sign = 1.0 if config.searcher.smaller_is_better else -1.0
        best = self.state.best
        if best is None or sign * value < sign * best:
            self.state.best = value
            return True
        return False

    def _checkpoint(self) -> None:
        if self.state.last_checkpoint_at == self.state.batches:
            return
        uuid = save_state(self.trial, self.context, self.state, self.callbacks)
        self.state.last_checkpoint_at = self.state.batches
        if uuid is not None:
            self._call("on_checkpoint_upload_end", uuid)

    def _load(self, uuid: str) -> None:
        load_state(self.trial, self.context, self.state, self.callbacks, uuid)

    def _call(self, hook: str, *args: Any) -> None:
        for callback in self.callbacks.values():
            getattr(callback, hook)(*args)


def _scalar(value: Any) -> bool:
    if isinstance(value, torch.Tensor):
        return value.numel() == 1
    return isinstance(value, int | float) and not isinstance(value, bool)


@contextlib.contextmanager
def init(
    *,
    hparams: dict[str, Any] | None = None,
    exp_conf: dict[str, Any] | None = None,
    distributed: Any = None,
    aggregation_frequency: int = 1,
    enable_tensorboard_logging: bool = True,
) -> Iterator[PyTorchTrialContext]:
    """The `PyTorchTrialContext` for a `Trainer`, inside a Core API context (a collective).

    On a master the trial's hyperparameters and config come from it; locally from `hparams` and
    `exp_conf` (or `TRAINYARD_CONFIG`). Seeds Python, NumPy and torch with the trial seed.
    """
    options: dict[str, Any] = {}
    if exp_conf is not None:
        options["config"] = exp_conf
    if hparams is not None:
        options["hparams"] = hparams
    with core_init(distributed=distributed, **options) as core_context:
        info = core_context.trainyard.info
        seed_everything(info.trial_seed)
        config = core_context.info.trial.config
        yield PyTorchTrialContext(
            core_context,
            dict(info.hparams),
            config=config,
            aggregation_frequency=aggregation_frequency,
        )


def checkpoint_files(path: Path) -> dict[str, Any]:
    """The `load_data.json` of a checkpoint written by the Trainer."""
    return dict(json.loads((path / "load_data.json").read_text()))
