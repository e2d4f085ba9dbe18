"""High-level PyTorch training on top of the Core API.

Subclass `PyTorchTrial`; run it with `python -m trainyard.pytorch.run pkg.module:TrialClass`
(what the launcher does for every rank) or locally with
`python -m trainyard.pytorch.local path/to/const.yaml`. `Trainer` drives the trial and may be used
directly inside `trainyard.core.init()`.
"""

from trainyard.pytorch._options import TrainerOptions
from trainyard.pytorch._periods import EpochGeometry, Length
from trainyard.pytorch._trainer import FitResult, Trainer
from trainyard.pytorch._trial import PyTorchTrial, PyTorchTrialContext

__all__ = [
    "EpochGeometry",
    "FitResult",
    "Length",
    "PyTorchTrial",
    "PyTorchTrialContext",
    "Trainer",
    "TrainerOptions",
]
