"""`from trainyard.determined import pytorch`: Determined's PyTorch API (PyTorchTrial, Trainer)
over Trainyard's Core API.

    with det.pytorch.init() as context:
        trial = MyTrial(context)
        det.pytorch.Trainer(trial, context).fit(max_length=det.pytorch.Epoch(1))
"""

from typing import Any

import torch

from trainyard.determined.pytorch import samplers
from trainyard.determined.pytorch._context import PyTorchTrialContext
from trainyard.determined.pytorch._data import DataLoader
from trainyard.determined.pytorch._load import load_trial_from_checkpoint_path
from trainyard.determined.pytorch._lr import LRScheduler
from trainyard.determined.pytorch._reducers import MetricReducer, Reducer
from trainyard.determined.pytorch._trainer import Trainer, init
from trainyard.determined.pytorch._trial import PyTorchCallback, PyTorchTrial
from trainyard.determined.pytorch._units import Batch, Epoch, TrainUnit

TorchData = (
    dict[str, torch.Tensor] | list[torch.Tensor] | tuple[torch.Tensor, ...] | torch.Tensor | Any
)
"""What a batch may be (type hints in Determined's examples use it)."""

__all__ = [
    "Batch",
    "DataLoader",
    "Epoch",
    "LRScheduler",
    "MetricReducer",
    "PyTorchCallback",
    "PyTorchTrial",
    "PyTorchTrialContext",
    "Reducer",
    "TorchData",
    "TrainUnit",
    "Trainer",
    "init",
    "load_trial_from_checkpoint_path",
    "samplers",
]
