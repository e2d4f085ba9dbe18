"""`PyTorchTrialContext`: step_optimizer (aggregation, clipping, GradScaler), LR step modes and
reducers, as Determined's docs describe them."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from trainyard.determined import pytorch
from trainyard.determined.pytorch._reducers import reduce_metrics


def _context(**hparams: Any) -> pytorch.PyTorchTrialContext:
    return pytorch.PyTorchTrialContext(None, hparams, device=torch.device("cpu"))


def test_step_optimizer_steps_once_per_aggregation_window_with_averaged_gradients() -> None:
    ctx = _context()
    model = ctx.wrap_model(torch.nn.Linear(1, 1, bias=False))
    torch.nn.init.constant_(model.weight, 0.0)
    opt = ctx.wrap_optimizer(
        torch.optim.SGD(model.parameters(), lr=1.0), backward_passes_per_step=2
    )
    weights = []
    for batch, x in enumerate([1.0, 3.0, 1.0, 1.0]):
        ctx.current_batch = batch
        ctx.backward(model(torch.tensor([[x]])).sum())
        ctx.step_optimizer(opt)
        weights.append(model.weight.item())
    assert weights == [0.0, -2.0, -2.0, -3.0]  # mean gradient of (1, 3), then of (1, 1)


def test_clip_grads_gets_the_parameters_and_the_lr_scheduler_steps_with_the_optimizer() -> None:
    ctx = _context()
    model = ctx.wrap_model(torch.nn.Linear(1, 1, bias=False))
    opt = ctx.wrap_optimizer(torch.optim.SGD(model.parameters(), lr=1.0))
    sched = ctx.wrap_lr_scheduler(
        torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5),
        pytorch.LRScheduler.StepMode.STEP_EVERY_OPTIMIZER_STEP,
    )
    torch.nn.init.constant_(model.weight, 0.0)
    ctx.backward(model(torch.tensor([[100.0]])).sum())
    seen: list[torch.nn.Parameter] = []

    def clip(params: Any) -> None:
        params = list(params)
        seen.extend(params)
        torch.nn.utils.clip_grad_norm_(params, 1.0)

    ctx.step_optimizer(opt, clip_grads=clip)
    assert seen == [model.weight]
    assert model.weight.item() == pytest.approx(-1.0)  # clipped from 100 to 1
    assert sched.get_last_lr() == [0.5]
    assert model.weight.grad is None  # zeroed (set_to_none)


def test_grad_scaler_scales_backward_and_unscales_before_clipping() -> None:
    ctx = _context()
    model = ctx.wrap_model(torch.nn.Linear(1, 1, bias=False))
    torch.nn.init.constant_(model.weight, 0.0)
    opt = ctx.wrap_optimizer(torch.optim.SGD(model.parameters(), lr=1.0))
    scaler = ctx.wrap_scaler(torch.amp.GradScaler("cpu", init_scale=8.0))
    ctx.backward(model(torch.tensor([[1.0]])).sum())
    assert model.weight.grad is not None and model.weight.grad.item() == 8.0  # scaled
    ctx.step_optimizer(opt, clip_grads=lambda params: None, scaler=scaler)
    assert model.weight.item() == pytest.approx(-1.0)  # the unscaled gradient was applied


def test_step_optimizer_needs_a_wrapped_optimizer() -> None:
    ctx = _context()
    model = torch.nn.Linear(1, 1)
    with pytest.raises(Exception, match="wrap_optimizer"):
        ctx.step_optimizer(torch.optim.SGD(model.parameters(), lr=1.0))


def test_batch_sizes_and_hparams() -> None:
    ctx = _context(global_batch_size=32, lr=0.1)
    assert ctx.get_global_batch_size() == 32 and ctx.get_per_slot_batch_size() == 32
    assert ctx.get_hparam("lr") == 0.1
    with pytest.raises(Exception, match="'momentum' is not defined"):
        ctx.get_hparam("momentum")


def test_reducers() -> None:
    batches = [{"loss": 1.0, "acc": 0.5}, {"loss": 3.0, "acc": 1.0}]
    assert reduce_metrics(batches, pytorch.Reducer.AVG) == {"acc": 0.75, "loss": 2.0}
    per_metric = {"loss": pytorch.Reducer.SUM, "acc": pytorch.Reducer.MAX}
    assert reduce_metrics(batches, per_metric) == {"acc": 1.0, "loss": 4.0}
