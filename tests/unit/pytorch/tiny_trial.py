"""A tiny trial for trainer tests: an MLP classifier on fixed random data (also copied into model
directories by the integration tests).

Hyperparameters steer test behaviour: `dropout` (exercises the RNG state), `nan_at_batch` (the
loss becomes NaN from that batch on), `fail_at_batch` (train_batch raises there, on rank
`fail_rank` only if given), `hang_at_batch` with `marker` (the first run writes the marker and
hangs there, to be killed), `pause_at_batch` (writes `marker`, then sleeps 3 s), `sched`
("batch"/"epoch"/None: a StepLR stepped at that cadence), `optimizer` ("adam", else SGD).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset, TensorDataset

from trainyard.pytorch import PyTorchTrial, PyTorchTrialContext


def tiny_data(n: int, seed: int) -> TensorDataset:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 6, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long()
    return TensorDataset(x, y)


def _hang_once(marker: Path) -> None:
    """Write `marker` and sleep until killed; a no-op once the marker exists (after a resume)."""
    if marker.exists():
        return
    marker.write_text("hanging")
    while True:
        time.sleep(1)


class TinyTrial(PyTorchTrial):
    def __init__(self, context: PyTorchTrialContext) -> None:
        self.context = context
        self.hp = context.hparams
        self.epochs_ended: list[int] = []
        self.validations: list[dict[str, float]] = []
        type(self).lr_scheduler_step = self.hp.get("sched") or "batch"

    def build_model(self) -> nn.Module:
        return nn.Sequential(
            nn.Linear(6, 16), nn.ReLU(), nn.Dropout(self.hp.get("dropout", 0.0)), nn.Linear(16, 2)
        )

    def build_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        if self.hp.get("optimizer") == "adam":
            return torch.optim.Adam(model.parameters(), lr=self.hp.get("lr", 0.01))
        return torch.optim.SGD(model.parameters(), lr=self.hp.get("lr", 0.1), momentum=0.9)

    def build_lr_scheduler(self, optimizer: torch.optim.Optimizer) -> Any:
        if not self.hp.get("sched"):
            return None
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)

    def build_training_data(self) -> Dataset[Any]:
        return tiny_data(self.hp.get("n_train", 64), seed=1)

    def build_validation_data(self) -> Dataset[Any]:
        return tiny_data(self.hp.get("n_val", 30), seed=2)

    def train_batch(
        self, batch: Any, model: nn.Module, epoch_idx: int, batch_idx: int
    ) -> dict[str, Any]:
        if batch_idx == self.hp.get("hang_at_batch"):
            _hang_once(Path(self.hp["marker"]))
        if batch_idx == self.hp.get("pause_at_batch"):
            Path(self.hp["marker"]).write_text("paused")
            time.sleep(3)  # a signal arriving now is handled; the batch then completes
        failing_rank = self.hp.get("fail_rank", self.context.rank)
        if batch_idx == self.hp.get("fail_at_batch") and self.context.rank == failing_rank:
            raise RuntimeError(f"deliberate failure at batch {batch_idx}")
        x, y = batch
        loss = F.cross_entropy(model(x), y)
        nan_at = self.hp.get("nan_at_batch")
        if nan_at is not None and batch_idx >= nan_at:
            loss = loss * float("nan")
        out = {"loss": loss, "records": float(len(y))}
        if self.hp.get("probe_autocast"):
            out["autocast"] = float(torch.is_autocast_enabled(x.device.type))
        return out

    def evaluate_batch(self, batch: Any, model: nn.Module) -> dict[str, Any]:
        x, y = batch
        logits = model(x)
        return {
            "validation_loss": F.cross_entropy(logits, y),
            "validation_accuracy": (logits.argmax(1) == y).float().mean(),
        }

    def on_validation_end(self, metrics: dict[str, float]) -> None:
        self.validations.append(metrics)

    def on_train_epoch_end(self, epoch_idx: int) -> None:
        self.epochs_ended.append(epoch_idx)
