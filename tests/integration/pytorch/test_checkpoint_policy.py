"""`checkpoint_policy` (best | all | none, Determined's meanings) with the real Trainer and the
real Core API in local mode (run folder, checkpoint storage, manifests): which validations are
followed by a checkpoint, and that every searcher operation ends checkpointed before the searcher
hears its result."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn
from torch.utils.data import Dataset, TensorDataset

import trainyard.core as core
from trainyard.config import load_experiment_config
from trainyard.pytorch import PyTorchTrial, PyTorchTrialContext, Trainer

LOSSES = [0.5, 0.2, 0.4, 0.3]
"""Validation losses at steps 5, 10, 15, 20: the best (10) is not the last."""


class ScriptedLosses(PyTorchTrial):
    """A linear model whose validations report `LOSSES` in order."""

    def __init__(self, context: PyTorchTrialContext) -> None:
        self.context = context
        self.validated = 0

    def build_model(self) -> nn.Module:
        return nn.Linear(2, 1)

    def build_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        return torch.optim.SGD(model.parameters(), lr=0.01)

    def build_training_data(self) -> Dataset[Any]:
        return TensorDataset(torch.ones(64, 2), torch.ones(64, 1))

    def build_validation_data(self) -> Dataset[Any]:
        return TensorDataset(torch.ones(8, 2), torch.ones(8, 1))

    def train_batch(self, batch: Any, model: nn.Module, epoch: int, idx: int) -> dict[str, Any]:
        x, y = batch
        return {"loss": ((model(x) - y) ** 2).mean()}

    def evaluate_batch(self, batch: Any, model: nn.Module) -> dict[str, Any]:
        value = LOSSES[min(self.validated, len(LOSSES) - 1)]
        return {"validation_loss": torch.tensor(value)}

    def on_validation_end(self, metrics: dict[str, float]) -> None:
        self.validated += 1


class KnownBest(core.LocalBackend):
    """Local mode whose "experiment" already holds a better validation from another trial."""

    def experiment_best_validation(self) -> float | None:
        return 0.1


def run(
    tmp_path: Path, policy: str | None, backend: type[core.LocalBackend] = core.LocalBackend
) -> list[int]:
    """Train 20 batches, validating every 5; the steps of the checkpoints taken, in order."""
    config: dict[str, Any] = {
        "name": "policy",
        "entrypoint": "x:ScriptedLosses",
        "hyperparameters": {"global_batch_size": 8},
        "searcher": {"name": "single", "metric": "validation_loss", "max_length": {"batches": 20}},
        "min_validation_period": {"batches": 5},
    }
    if policy is not None:
        config["checkpoint_policy"] = policy
    run_dir = tmp_path / f"run-{policy}-{backend.__name__}"
    local = backend(
        run_dir, config=load_experiment_config(config), echo=False, handle_sigterm=False
    )
    ctx = core.Context(
        info=local.trial_info(),
        distributed=core.DistributedContext.single(),
        backend=local,
        owns_distributed=False,
    )
    with ctx:
        Trainer(ScriptedLosses, ctx, tensorboard=False).fit()
    stored = [
        json.loads((run_dir / "checkpoints" / uuid / "metadata.json").read_text())
        for uuid in reversed(local.checkpoint_history())
    ]
    return [int(meta["steps_completed"]) for meta in stored]


@pytest.mark.parametrize(
    ("policy", "steps"),
    [
        ("best", [5, 10, 20]),  # 5 and 10 were each the best so far; 20 ends the operation
        (None, [5, 10, 20]),  # best is the default
        ("all", [5, 10, 15, 20]),
        ("none", [20]),  # only where the operation ends
    ],
)
def test_checkpoints_follow_the_policy(
    tmp_path: Path, policy: str | None, steps: list[int]
) -> None:
    assert run(tmp_path, policy) == steps


def test_best_compares_with_the_experiments_best_validation(tmp_path: Path) -> None:
    assert run(tmp_path, "best", KnownBest) == [20]
