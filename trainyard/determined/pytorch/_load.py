"""`load_trial_from_checkpoint_path`: a trained trial back in a fresh process (inference)."""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Any

import torch

from trainyard.core import CoreUsageError
from trainyard.determined.pytorch._context import PyTorchTrialContext
from trainyard.determined.pytorch._state import LOAD_FILE, STATE_FILE, load_weights
from trainyard.determined.pytorch._trial import PyTorchTrial


def load_trial_from_checkpoint_path(
    path: str | os.PathLike[str],
    trial_class: type[PyTorchTrial] | None = None,
    trial_kwargs: dict[str, Any] | None = None,
    torch_load_kwargs: dict[str, Any] | None = None,
) -> PyTorchTrial:
    """Rebuild the trial a Trainer checkpoint (a downloaded checkpoint directory) was written by
    and load its models' weights; its models are in eval mode, on the CPU (or the first GPU).

    `trial_class` defaults to the class recorded in the checkpoint (its module must be
    importable); `trial_kwargs` are passed to its constructor after the context.
    """
    where = Path(path)
    if not (where / STATE_FILE).is_file():
        raise CoreUsageError(f"{where}: not a checkpoint of det.pytorch.Trainer (no {STATE_FILE})")
    load = json.loads((where / LOAD_FILE).read_text())
    cls = trial_class or _import(load["trial_class"])
    context = PyTorchTrialContext(None, dict(load.get("hparams") or {}))
    trial = cls(context, **(trial_kwargs or {}))
    options = {"map_location": context.device, "weights_only": False, **(torch_load_kwargs or {})}
    payload = torch.load(where / STATE_FILE, **options)
    load_weights(context, payload)
    for model in context.models:
        model.eval()
    return trial


def _import(path: str) -> type[PyTorchTrial]:
    module, _, name = path.partition(":")
    try:
        obj: Any = importlib.import_module(module)
    except ImportError as err:
        raise CoreUsageError(
            f"cannot import the trial's module {module!r} ({err}); pass trial_class"
        ) from None
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj  # type: ignore[no-any-return]  # a class recorded by the Trainer
