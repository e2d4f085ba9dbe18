"""A small CNN on scikit-learn's bundled 8x8 digits (1,797 images, no download)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import Dataset, TensorDataset

from trainyard.pytorch import PyTorchTrial, PyTorchTrialContext

VALIDATION_FRACTION = 0.2


def digits_split() -> tuple[TensorDataset, TensorDataset]:
    """Train/validation split of the digits, the same on every run (fixed permutation)."""
    images, labels = load_digits(return_X_y=True)
    x = torch.tensor(images / 16.0, dtype=torch.float32).reshape(-1, 1, 8, 8)
    y = torch.tensor(labels, dtype=torch.int64)
    order = torch.from_numpy(np.random.default_rng(0).permutation(len(y)))
    n_val = int(len(y) * VALIDATION_FRACTION)
    val, train = order[:n_val], order[n_val:]
    return TensorDataset(x[train], y[train]), TensorDataset(x[val], y[val])


class DigitsTrial(PyTorchTrial):
    """Two conv layers, max-pool, dropout, a linear classifier."""

    def __init__(self, context: PyTorchTrialContext) -> None:
        self.context = context
        self.train_data, self.val_data = digits_split()

    def build_model(self) -> nn.Module:
        n1 = int(self.context.get_hparam("n_filters1"))
        n2 = int(self.context.get_hparam("n_filters2"))
        return nn.Sequential(
            nn.Conv2d(1, n1, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(n1, n2, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Dropout(float(self.context.get_hparam("dropout"))),
            nn.Linear(n2 * 4 * 4, 10),
        )

    def build_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        return torch.optim.Adam(model.parameters(), lr=float(self.context.get_hparam("lr")))

    def build_training_data(self) -> Dataset[Any]:
        return self.train_data

    def build_validation_data(self) -> Dataset[Any]:
        return self.val_data

    def train_batch(
        self, batch: Any, model: nn.Module, epoch_idx: int, batch_idx: int
    ) -> dict[str, Any]:
        x, y = batch
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        return {"loss": loss, "accuracy": (logits.argmax(1) == y).float().mean()}

    def evaluate_batch(self, batch: Any, model: nn.Module) -> dict[str, Any]:
        x, y = batch
        logits = model(x)
        return {
            "validation_loss": F.cross_entropy(logits, y),
            "validation_accuracy": (logits.argmax(1) == y).float().mean(),
        }
