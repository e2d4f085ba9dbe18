"""A small GRU that tells apart three kinds of generated noisy waves (no download).

Each record is a length-32 sequence of one feature: a sine of one of three frequencies with a
random phase plus Gaussian noise; the label is the frequency's index. Data are generated once from
a fixed seed, so every run sees the same records.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset, TensorDataset

from trainyard.pytorch import PyTorchTrial, PyTorchTrialContext

FREQUENCIES = (1.0, 2.0, 3.0)
SEQUENCE_LENGTH = 32


def make_waves(n: int, seed: int, noise: float = 0.3) -> TensorDataset:
    """`n` labelled sequences shaped (n, SEQUENCE_LENGTH, 1)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(FREQUENCIES), size=n)
    t = np.linspace(0, 2 * np.pi, SEQUENCE_LENGTH)
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    freq = np.asarray(FREQUENCIES)[labels][:, None]
    x = np.sin(freq * t[None, :] + phase) + noise * rng.standard_normal((n, SEQUENCE_LENGTH))
    return TensorDataset(
        torch.tensor(x, dtype=torch.float32).unsqueeze(-1), torch.tensor(labels, dtype=torch.int64)
    )


class WaveClassifier(nn.Module):
    """GRU over the sequence, then a linear layer on the last hidden state."""

    def __init__(self, hidden: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.gru = nn.GRU(1, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden, len(FREQUENCIES)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, h = self.gru(x)
        out: torch.Tensor = self.head(h[-1])
        return out


class WavesTrial(PyTorchTrial):
    """Cross-entropy on the frequency label; cosine LR decay stepped per batch."""

    lr_scheduler_step = "batch"

    def __init__(self, context: PyTorchTrialContext) -> None:
        self.context = context

    def build_model(self) -> nn.Module:
        hp = self.context.get_hparam
        return WaveClassifier(int(hp("hidden_size")), int(hp("num_layers")), float(hp("dropout")))

    def build_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        return torch.optim.AdamW(model.parameters(), lr=float(self.context.get_hparam("lr")))

    def build_lr_scheduler(self, optimizer: torch.optim.Optimizer) -> Any:
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=1000, eta_min=1e-4)

    def build_training_data(self) -> Dataset[Any]:
        return make_waves(2048, seed=1)

    def build_validation_data(self) -> Dataset[Any]:
        return make_waves(512, seed=2)

    def train_batch(
        self, batch: Any, model: nn.Module, epoch_idx: int, batch_idx: int
    ) -> dict[str, Any]:
        x, y = batch
        logits = model(x)
        return {"loss": F.cross_entropy(logits, y)}

    def evaluate_batch(self, batch: Any, model: nn.Module) -> dict[str, Any]:
        x, y = batch
        logits = model(x)
        return {
            "validation_loss": F.cross_entropy(logits, y),
            "validation_accuracy": (logits.argmax(1) == y).float().mean(),
        }
