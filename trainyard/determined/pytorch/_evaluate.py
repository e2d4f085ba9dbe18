"""One validation pass: `evaluate_batch` on every rank's share, or `evaluate_full_dataset` on the
chief; reduced with the trial's reducers; the same metrics on every rank."""

from __future__ import annotations

from typing import Any

import torch

from trainyard.determined.pytorch._context import PyTorchTrialContext
from trainyard.determined.pytorch._reducers import reduce_metrics
from trainyard.determined.pytorch._trial import (
    PyTorchTrial,
    evaluate_takes_index,
    uses_full_dataset,
)


def _floats(metrics: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, value in metrics.items():
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            out[name] = float(value.detach().item())
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[name] = float(value)
    return out


def validate(trial: PyTorchTrial, context: PyTorchTrialContext) -> dict[str, Any]:
    """The reduced validation metrics (models in eval mode under no_grad, then back)."""
    dist = context.distributed
    assert dist is not None
    for model in context.models:
        model.eval()
    try:
        with torch.no_grad():
            if uses_full_dataset(trial):
                metrics = None
                if dist.is_chief:
                    loader = trial.build_validation_data_loader().whole()
                    metrics = _floats(trial.evaluate_full_dataset(loader))
                return dict(dist.broadcast(metrics))
            return _by_batch(trial, context)
    finally:
        for model in context.models:
            model.train()


def _by_batch(trial: PyTorchTrial, context: PyTorchTrialContext) -> dict[str, Any]:
    dist = context.distributed
    assert dist is not None
    for reducer, _, _ in context.reducers:
        reducer.reset()
    loader = trial.build_validation_data_loader().validation(dist.rank, dist.size)
    with_index = evaluate_takes_index(trial)
    rows: list[dict[str, float]] = []
    for idx, batch in enumerate(loader):
        batch = context.to_device(batch)
        out = trial.evaluate_batch(batch, idx) if with_index else trial.evaluate_batch(batch)  # type: ignore[call-arg]  # the older one-argument form
        rows.append(_floats(dict(out or {})))
    gathered = dist.allgather(rows)
    metrics: dict[str, Any] = reduce_metrics(
        [row for rank in gathered for row in rank], trial.evaluation_reducer()
    )
    for reducer, name, _ in context.reducers:
        per_slot = dist.allgather(reducer.per_slot_reduce())
        value = reducer.cross_slot_reduce(per_slot)
        if name is None:
            metrics.update(dict(value))
        else:
            metrics[name] = value
    return metrics
