"""The real training behind the recorded digits benchmark: a small MLP on scikit-learn's digits.

One function, `train_config`, trains one configuration epoch by epoch on one CPU thread and
returns the validation accuracy, validation loss and wall seconds of every epoch. The recorder
(`record_digits.py`) and the real wall-clock runs (`realtime.py`) share it, so both measure the
same training. The data split is the one `examples/digits_cnn` uses (fixed permutation, 20%
validation), and nothing is downloaded: the digits ship inside scikit-learn.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn

VALIDATION_FRACTION = 0.2

# The search space is a grid so that every configuration a searcher may pick has been recorded.
SPACE: dict[str, list[Any]] = {
    "lr": [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2],
    "batch_size": [32, 128, 512],
    "width": [16, 64, 256],
    "dropout": [0.0, 0.4],
    "weight_decay": [0.0, 1e-4, 1e-3],
}


def all_configs() -> list[dict[str, Any]]:
    """Every point of `SPACE`, in a fixed order (row-major over the keys above)."""
    configs: list[dict[str, Any]] = [{}]
    for name, values in SPACE.items():
        configs = [{**c, name: v} for c in configs for v in values]
    return configs


@dataclass(frozen=True)
class DigitsData:
    """Train/validation tensors, `x` shaped (n, 1, 8, 8) in [0, 1]."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor


def load_split() -> DigitsData:
    """The `examples/digits_cnn` split: the same permutation (seed 0) on every run."""
    images, labels = load_digits(return_X_y=True)
    x = torch.tensor(images / 16.0, dtype=torch.float32).reshape(-1, 1, 8, 8)
    y = torch.tensor(labels, dtype=torch.int64)
    order = torch.from_numpy(np.random.default_rng(0).permutation(len(y)))
    n_val = int(len(y) * VALIDATION_FRACTION)
    val, train = order[:n_val], order[n_val:]
    return DigitsData(x[train], y[train], x[val], y[val])


def build_model(width: int, dropout: float) -> nn.Module:
    """Two hidden layers of `width` ReLU units, dropout before the output layer.

    An MLP rather than `examples/digits_cnn`'s CNN: on two shared CPU cores a CNN epoch costs
    0.3-1 s, which would put a few hundred configurations x 30 epochs past an hour.
    """
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(64, width),
        nn.ReLU(),
        nn.Linear(width, width),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(width, 10),
    )


@dataclass(frozen=True)
class EpochResult:
    """What one epoch produced: validation accuracy and loss after it, and what it cost.

    `cpu_seconds` (this thread's CPU time) is the cost the benchmark uses: on shared cores the wall
    `seconds` also count other people's work.
    """

    epoch: int
    val_accuracy: float
    val_loss: float
    seconds: float
    cpu_seconds: float


@dataclass
class TrainingState:
    """Everything needed to resume training exactly: model, optimizer, shuffling RNG, epoch."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    generator: torch.Generator
    epoch: int = 0

    def to_bytes(self) -> bytes:
        """A checkpoint (torch.save of the state dicts), to send to another process."""
        buffer = io.BytesIO()
        torch.save(
            {
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "generator": self.generator.get_state(),
                "epoch": self.epoch,
            },
            buffer,
        )
        return buffer.getvalue()


def new_state(config: dict[str, Any], seed: int, checkpoint: bytes | None = None) -> TrainingState:
    """A fresh model for `config` (seeded), or the one `checkpoint` holds."""
    torch.manual_seed(seed)
    model = build_model(int(config["width"]), float(config["dropout"]))
    optimizer = torch.optim.Adam(
        model.parameters(), lr=float(config["lr"]), weight_decay=float(config["weight_decay"])
    )
    state = TrainingState(model, optimizer, torch.Generator().manual_seed(seed))
    if checkpoint is not None:
        saved = torch.load(io.BytesIO(checkpoint), weights_only=True)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        state.generator.set_state(saved["generator"])
        state.epoch = int(saved["epoch"])
    return state


def train_epochs(
    config: dict[str, Any], data: DigitsData, *, seed: int = 0, state: TrainingState | None = None
) -> Iterator[EpochResult]:
    """Train `config` for ever, one `EpochResult` per epoch; the caller decides when to stop.

    Deterministic for a given `seed` on one thread (`torch.set_num_threads(1)` is the caller's).
    Pass `state` to continue a model (it is updated in place, epoch included).
    """
    state = state or new_state(config, seed)
    model, optimizer, generator = state.model, state.optimizer, state.generator
    batch_size = int(config["batch_size"])
    n = len(data.y_train)
    while True:
        started, cpu_started = time.perf_counter(), time.thread_time()
        model.train()
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            loss = F.cross_entropy(model(data.x_train[idx]), data.y_train[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]  # torch leaves it untyped
            optimizer.step()
        model.eval()
        with torch.no_grad():
            logits = model(data.x_val)
            val_loss = float(F.cross_entropy(logits, data.y_val))
            val_acc = float((logits.argmax(1) == data.y_val).float().mean())
        state.epoch += 1
        wall, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
        yield EpochResult(state.epoch, val_acc, val_loss, wall, cpu)


def train_config(
    config: dict[str, Any],
    epochs: int,
    *,
    data: DigitsData | None = None,
    seed: int = 0,
    on_epoch: Callable[[EpochResult], bool] | None = None,
) -> list[EpochResult]:
    """Train `config` for up to `epochs` epochs; `on_epoch` returning False stops early."""
    results: list[EpochResult] = []
    for result in train_epochs(config, data or load_split(), seed=seed):
        results.append(result)
        if result.epoch >= epochs or (on_epoch is not None and not on_epoch(result)):
            break
    return results
