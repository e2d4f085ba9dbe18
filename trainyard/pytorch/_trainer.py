"""`Trainer`: drives a `PyTorchTrial` through the searcher's operations on top of the Core API."""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from trainyard.errors import CheckpointError, TrainyardError
from trainyard.pytorch import _checkpoint as ckpt
from trainyard.pytorch._data import (
    TrainingBatchSampler,
    ValidationBatchSampler,
    batch_size_of,
    dataset_length,
    make_loader,
    to_device,
)
from trainyard.pytorch._dist import pick_device, wrap_model
from trainyard.pytorch._metrics import MetricSums, TrainingWindow
from trainyard.pytorch._options import TrainerOptions
from trainyard.pytorch._periods import EpochGeometry, TrainerSettings
from trainyard.pytorch._protocols import CoreContextLike
from trainyard.pytorch._rng import capture_rng_state, restore_rng_state, seed_everything
from trainyard.pytorch._tensorboard import TensorBoardSink, tensorboard_dir
from trainyard.pytorch._trial import PyTorchTrial, PyTorchTrialContext

PREEMPT_CHECK_SECONDS = 1.0
"""With several ranks, how often (roughly) the chief is asked whether to preempt."""
CALIBRATION_BATCHES = 10
"""With several ranks, the batches timed before the preemption-check period is chosen."""


@dataclass
class FitResult:
    """How `Trainer.fit()` ended."""

    steps_completed: int
    preempted: bool
    validation_metrics: dict[str, float] = field(default_factory=dict)
    checkpoint: str | None = None


class Trainer:
    """Train `trial_cls` under Core API context `core` (from `trainyard.core.init()`).

    Every rank builds one Trainer and calls `fit()`. Lengths from the searcher are converted to
    batches (see `EpochGeometry`); a NaN/inf loss is not an error: it is reported as such in the
    training metrics, the resulting validation metrics (and so the searcher metric) are reported
    as they come out (usually NaN), and the searcher treats a non-finite metric as the worst.

    Example::

        with trainyard.core.init() as core:
            Trainer(MyTrial, core).fit()
    """

    def __init__(
        self,
        trial_cls: type[PyTorchTrial],
        core: CoreContextLike,
        *,
        distributed: str | None = None,
        amp: bool | None = None,
        amp_dtype: str | None = None,
        gradient_accumulation_steps: int | None = None,
        clip_grad_norm: float | None = None,
        reporting_period: int | None = None,
        num_workers: int | None = None,
        preemption_check_period: int | None = None,
        tensorboard: bool = True,
        run_dir: str | Path | None = None,
    ) -> None:
        self.core = core
        self.trial_cls = trial_cls
        self._given = {
            "distributed": distributed,
            "amp": amp,
            "amp_dtype": amp_dtype,
            "gradient_accumulation_steps": gradient_accumulation_steps,
            "clip_grad_norm": clip_grad_norm,
            "reporting_period": reporting_period,
            "num_workers": num_workers,
            "preemption_check_period": preemption_check_period,
        }
        self._tensorboard = tensorboard
        self._run_dir = run_dir
        self.steps = 0
        self.last_validation_step = -1
        self.last_validation: dict[str, float] = {}
        self.last_checkpoint_step = -1
        self.last_checkpoint: str | None = None
        self.best_metric: float | None = None
        """The best searcher metric this trial validated so far (kept in its checkpoints)."""
        self._checkpoint_due = False

    # ---------------------------------------------------------------- setup
    def _setup(self) -> None:
        info, d = self.core.info, self.core.distributed
        self.settings = TrainerSettings.from_config(info.config)
        self.device = pick_device(d.local_rank)
        self.options = TrainerOptions.resolve(self._given, self.settings.data, self.device, d.size)
        self.distributed = d.size > 1 and dist.is_initialized()
        seed_everything(info.trial_seed)
        self.context = PyTorchTrialContext.build(
            info.hparams,
            rank=d.rank,
            size=d.size,
            local_rank=d.local_rank,
            device=self.device,
            trial_seed=info.trial_seed,
            trial_id=info.trial_id,
            data_config=self.settings.data,
        )
        self.trial = self.trial_cls(self.context)
        model = wrap_model(self.trial.build_model(), self.device, d.size, self.options.distributed)
        optimizer = self.trial.build_optimizer(model)
        amp, amp_dtype = self.options.amp, getattr(torch, self.options.amp_dtype)
        scaled = amp and amp_dtype == torch.float16  # bfloat16 keeps float32's range
        self.c = ckpt.Components(
            model=model,
            optimizer=optimizer,
            lr_scheduler=self.trial.build_lr_scheduler(optimizer),
            scaler=torch.amp.GradScaler(self.device.type, enabled=scaled),
            strategy=self.options.distributed,
            world_size=d.size,
        )
        self._autocast: contextlib.AbstractContextManager[Any] = (
            torch.autocast(self.device.type, dtype=amp_dtype) if amp else contextlib.nullcontext()
        )
        self._build_data()
        self.window = TrainingWindow(self.device)
        self._measured_preempt_period: int | None = None
        self._fit_started = (time.monotonic(), 0)
        self.tb = TensorBoardSink(
            tensorboard_dir(info.trial_id, self._run_dir, getattr(info, "checkpoint_storage", None))
            if self._tensorboard and d.is_chief
            else None
        )

    def _build_data(self) -> None:
        ctx, seed = self.context, self.context.trial_seed
        train = self.trial.build_training_data()
        n_train = dataset_length(train, "build_training_data()")
        self.sampler = TrainingBatchSampler(
            n_train, ctx.per_slot_batch_size, ctx.rank, ctx.size, seed
        )
        self.train_data = train
        val = self.trial.build_validation_data()
        n_val = dataset_length(val, "build_validation_data()")
        val_sampler = ValidationBatchSampler(n_val, ctx.per_slot_batch_size, ctx.rank, ctx.size)
        self.val_loader = make_loader(val, val_sampler, self.options.num_workers, seed)
        self.geometry = EpochGeometry(
            ctx.global_batch_size, self.settings.records_per_epoch or n_train
        )
        g = self.geometry.length_to_batches
        self.validation_period = g(self.settings.min_validation_period)
        self.checkpoint_period = g(self.settings.min_checkpoint_period)
        self.total_batches = g(self.settings.max_length)

    # ---------------------------------------------------------------- fit
    def fit(self) -> FitResult:
        """Restore the latest checkpoint, then follow `core.searcher.operations()`.

        Returns after the last operation (with a final checkpoint) or after a preemption (with
        exactly one checkpoint at the batch boundary where it was seen). Each operation ends
        with a validation and a checkpoint, both before the searcher hears the result, so a
        trial killed at any moment never leaves a validated result without its checkpoint.
        Validations in between are followed by a checkpoint as `checkpoint_policy` says.
        Exceptions from trial code propagate unchanged.
        """
        self._setup()
        try:
            self._restore()
            self._schedule_preempt_check(first=True)
            for op in self.core.searcher.operations():
                target = self.geometry.to_batches(self.settings.length_unit, op.length)
                if not self._train_until(target):
                    return FitResult(self.steps, True, self.last_validation, self.last_checkpoint)
                self._report_training()
                metrics = self._validate_once()
                self._checkpoint_once()
                op.report_completed(self.settings.searcher_value(metrics))
            self._checkpoint_once()
            return FitResult(self.steps, False, self.last_validation, self.last_checkpoint)
        finally:
            self.tb.close()

    # ---------------------------------------------------------------- training
    def _train_until(self, target: int) -> bool:
        """Train until `steps == target`; False when stopped early by a preemption."""
        self.c.model.train()
        per_epoch = self.sampler.batches_per_epoch
        while self.steps < target:
            epoch, start = divmod(self.steps, per_epoch)
            self.sampler.set_position(epoch, start)
            loader_seed = (self.context.trial_seed * 1_000_003 + epoch) % 2**63
            loader = make_loader(
                self.train_data, self.sampler, self.options.num_workers, loader_seed
            )
            for batch in loader:
                self._train_batch(batch, epoch)
                self.steps += 1
                if self.steps % per_epoch == 0:
                    self._end_epoch(epoch)
                if not self._after_batch():
                    return False
                if self.steps >= target:
                    break
        return True

    def _train_batch(self, batch: Any, epoch: int) -> None:
        accumulate = self.options.gradient_accumulation_steps
        stepping = (self.steps + 1) % accumulate == 0
        model, opt, scaler = self.c.model, self.c.optimizer, self.c.scaler
        if self.device.type != "cpu":
            batch = to_device(batch, self.device)
        with self._grad_sync(stepping):
            with self._autocast:
                out = self.trial.train_batch(batch, model, epoch, self.steps)
            loss = _loss_of(out)
            scaler.scale(loss if accumulate == 1 else loss / accumulate).backward()  # type: ignore[no-untyped-call]  # torch leaves it untyped
        if stepping:
            if self.options.clip_grad_norm is not None:
                scaler.unscale_(opt)
                torch.nn.utils.clip_grad_norm_(model.parameters(), self.options.clip_grad_norm)
            scaler.step(opt)
            scaler.update()
            opt.zero_grad(set_to_none=True)
            if self.c.lr_scheduler is not None and self.trial.lr_scheduler_step == "batch":
                self.c.lr_scheduler.step()
        self.window.add(out)

    def _grad_sync(self, stepping: bool) -> contextlib.AbstractContextManager[Any]:
        """Skip the gradient all-reduce on batches that only accumulate."""
        model = self.c.model
        if not self.distributed or self.options.gradient_accumulation_steps == 1:
            return contextlib.nullcontext()
        if isinstance(model, torch.nn.parallel.DistributedDataParallel):
            return model.no_sync() if not stepping else contextlib.nullcontext()
        model.set_requires_gradient_sync(stepping)  # type: ignore[operator]  # FSDP2 module
        return contextlib.nullcontext()

    def _end_epoch(self, epoch: int) -> None:
        if self.c.lr_scheduler is not None and self.trial.lr_scheduler_step == "epoch":
            self.c.lr_scheduler.step()
        self.trial.on_train_epoch_end(epoch)

    def _after_batch(self) -> bool:
        """Periodic work after a batch; False when the trial must stop (preempted)."""
        steps = self.steps
        if steps % self.options.reporting_period == 0:
            self._report_training()
        vp, cp = self.validation_period, self.checkpoint_period
        if vp and steps - max(self.last_validation_step, 0) >= vp:
            self._validate_once()
        at_boundary = steps % self.options.gradient_accumulation_steps == 0
        periodic = cp and steps - max(self.last_checkpoint_step, 0) >= cp
        if at_boundary and (periodic or self._checkpoint_due):
            self._checkpoint_once()
        if at_boundary and steps >= self._next_preempt_check:
            if self.core.preempt.should_preempt():
                self._checkpoint_once()
                return False
            self._schedule_preempt_check()
        return True

    def _schedule_preempt_check(self, first: bool = False) -> None:
        """Set the step of the next preemption check (see `TrainerOptions`).

        With several ranks and no fixed period, the first check comes `CALIBRATION_BATCHES`
        into the fit; there the chief measures the step time and broadcasts, once, a period of
        about `PREEMPT_CHECK_SECONDS`, kept for the rest of the fit (one collective per check).
        """
        period = self.options.preemption_check_period or self._measured_preempt_period
        if period is None:
            if first:
                self._fit_started = (time.monotonic(), self.steps)
                period = CALIBRATION_BATCHES
            else:
                t0, s0 = self._fit_started
                per_batch = (time.monotonic() - t0) / max(1, self.steps - s0)
                wanted = max(1, min(1000, int(PREEMPT_CHECK_SECONDS / max(per_batch, 1e-6))))
                period = self._measured_preempt_period = self.core.distributed.broadcast_int(wanted)
        self._next_preempt_check = self.steps + period

    def _report_training(self) -> None:
        if self.window.batches == 0:  # equal on every rank: they step in lockstep
            return
        metrics = self.window.reduce(self.distributed)
        if metrics:
            self.core.train.report_training_metrics(self.steps, metrics)
            self.tb.scalars("training", self.steps, metrics)
        if self.total_batches:
            self.core.train.report_progress(min(1.0, self.steps / self.total_batches))

    # ---------------------------------------------------------------- validation
    def _validate_once(self) -> dict[str, float]:
        """Validate at the current step unless already done there; returns the metrics."""
        if self.last_validation_step == self.steps and self.last_validation:
            return self.last_validation
        model = self.c.model
        model.eval()
        sums = MetricSums(self.device)
        with torch.no_grad(), self._autocast:
            for batch in self.val_loader:
                out = self.trial.evaluate_batch(to_device(batch, self.device), model)
                sums.add(out, float(batch_size_of(batch)))
        model.train()
        metrics = sums.reduce(self.distributed)
        policy = self.settings.checkpoint_policy
        before = self.core.train.get_experiment_best_validation() if policy == "best" else None
        self.last_validation_step, self.last_validation = self.steps, metrics
        self.core.train.report_validation_metrics(self.steps, metrics)
        self.tb.scalars("validation", self.steps, metrics)
        self.trial.on_validation_end(dict(metrics))
        if self._policy_checkpoint(metrics, before):
            self._checkpoint_due = True  # taken at the next optimizer-step boundary
        return metrics

    def _policy_checkpoint(self, metrics: dict[str, float], experiment_best: float | None) -> bool:
        """Whether `checkpoint_policy` wants a checkpoint after this validation (every rank gets
        the chief's answer); see `ckpt.policy_wants_checkpoint`."""
        policy = self.settings.checkpoint_policy
        value = self.settings.searcher_value(metrics) if policy == "best" else math.nan
        wanted = ckpt.policy_wants_checkpoint(
            policy, value, [experiment_best, self.best_metric], self.settings.smaller_is_better
        )
        if self.core.distributed.size > 1:
            wanted = bool(self.core.distributed.broadcast(wanted))
        if wanted and policy == "best":
            self.best_metric = value  # the same on every rank: the metrics are reduced
        return wanted

    # ---------------------------------------------------------------- checkpoints
    def _checkpoint_once(self) -> str | None:
        """Checkpoint the current step unless one exists for it; returns its uuid."""
        if self.last_checkpoint_step == self.steps:
            return self.last_checkpoint
        d = self.core.distributed
        local = ckpt.pack({"rng": capture_rng_state(), "window": self.window.state()})
        per_rank = d.gather(local) if d.size > 1 else [local]
        model_sd, optim_sd = ckpt.gather_model_optimizer(self.c)
        uuid: str | None = None
        if d.is_chief:
            epoch, batch = divmod(self.steps, self.sampler.batches_per_epoch)
            state = ckpt.build_state(
                self.c,
                model_sd,
                optim_sd,
                steps_completed=self.steps,
                epoch=epoch,
                batch_in_epoch=batch,
                per_rank=per_rank or [local],
            )
            state["trainer"] = {
                "last_validation_step": self.last_validation_step,
                "last_validation": self.last_validation,
                "best_metric": self.best_metric,
            }
            metadata = {"steps_completed": self.steps, "framework": f"torch-{torch.__version__}"}
            with self.core.checkpoint.store_path(metadata) as (path, uuid):
                ckpt.write_state(path, state)
                self.trial.on_checkpoint_save(path)
        if d.size > 1:
            uuid = d.broadcast(uuid)
        self.last_checkpoint_step, self.last_checkpoint = self.steps, uuid
        self._checkpoint_due = False
        return uuid

    def _restore(self) -> None:
        uuid = self.core.info.latest_checkpoint
        if uuid is None:
            return
        try:
            uuid, state = ckpt.load_for_restore(self.core.checkpoint, uuid)
        except CheckpointError as err:  # the trial fails now, and says why; no restarts
            self.core.train.report_early_exit("errored", str(err))
            raise
        ckpt.apply_state(self.c, state)
        self.steps = int(state["steps_completed"])
        per_rank = state["per_rank"]
        mine = ckpt.unpack(
            per_rank[self.context.rank] if len(per_rank) == self.context.size else per_rank[0]
        )
        restore_rng_state(mine["rng"])
        self.window.load(mine["window"])
        trainer = state.get("trainer", {})
        self.last_validation_step = int(trainer.get("last_validation_step", -1))
        self.last_validation = dict(trainer.get("last_validation", {}))
        best = trainer.get("best_metric")
        self.best_metric = None if best is None else float(best)
        self.last_checkpoint_step, self.last_checkpoint = self.steps, uuid


def _loss_of(out: Any) -> torch.Tensor:
    loss = out.get("loss") if isinstance(out, dict) else None
    if not isinstance(loss, torch.Tensor):
        got = sorted(out) if isinstance(out, dict) else type(out).__name__
        raise TrainyardError(f"train_batch must return a dict with a 'loss' tensor; got {got}")
    return loss
