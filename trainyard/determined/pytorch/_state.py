"""What a Trainer checkpoint holds and how it is written and read.

`state_dict.pth` (torch.save): models, optimizers, LR schedulers, scalers, callbacks, RNG state
and the trainer's position; `load_data.json`: the trial class and hyperparameters, so
`load_trial_from_checkpoint_path` can rebuild the trial in a fresh process.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from trainyard.determined.pytorch._context import PyTorchTrialContext
from trainyard.determined.pytorch._trial import PyTorchCallback, PyTorchTrial
from trainyard.pytorch._rng import capture_rng_state, restore_rng_state

STATE_FILE = "state_dict.pth"
LOAD_FILE = "load_data.json"


@dataclass
class TrainerState:
    batches: int = 0
    epoch: int = 0
    best: float | None = None
    last_validation: dict[str, Any] = field(default_factory=dict)
    last_validation_at: int = -1
    last_checkpoint_at: int = -1


def trial_class_path(trial: PyTorchTrial) -> str:
    """`module:Class` of the trial; a class defined in the script that was run (`__main__`) is
    named by the script's file name, so it can be imported from the model directory."""
    cls = type(trial)
    module = cls.__module__
    if module == "__main__":
        main_file = getattr(sys.modules["__main__"], "__file__", None)
        module = Path(main_file).stem if main_file else module
    return f"{module}:{cls.__qualname__}"


def save_state(
    trial: PyTorchTrial,
    context: PyTorchTrialContext,
    state: TrainerState,
    callbacks: dict[str, PyTorchCallback],
) -> str | None:
    """Write a checkpoint (chief); returns its uuid on the chief, None elsewhere."""
    core = context._core
    assert core is not None and context.distributed is not None
    if not context.distributed.is_chief:
        return None
    payload: dict[str, Any] = {
        "models_state_dict": [m.state_dict() for m in context.unwrapped_models()],
        "optimizers_state_dict": [o.state_dict() for o in context.optimizers],
        "lr_schedulers_state_dict": [s.state_dict() for s in context.lr_schedulers],
        "scalers_state_dict": [s.state_dict() for s in context.scalers],
        "callbacks": {name: cb.state_dict() for name, cb in callbacks.items()},
        "rng_state": capture_rng_state(),
        "trainer": {
            "batches": state.batches,
            "epoch": state.epoch,
            "best": state.best,
            "trial_id": context.get_trial_id(),
        },
    }
    for cb in callbacks.values():
        cb.on_checkpoint_save_start(payload)
    metadata = {
        "steps_completed": state.batches,
        "framework": f"torch-{torch.__version__}",
        "format": "trainyard.determined.pytorch",
    }
    with core.checkpoint.store_path(metadata) as (path, uuid):
        torch.save(payload, path / STATE_FILE)
        load = {"trial_class": trial_class_path(trial), "hparams": context.get_hparams()}
        (path / LOAD_FILE).write_text(json.dumps(load, default=str))
        for cb in callbacks.values():
            cb.on_checkpoint_end(str(path))
    return uuid


def load_weights(context: PyTorchTrialContext, payload: dict[str, Any]) -> None:
    for model, sd in zip(context.unwrapped_models(), payload["models_state_dict"], strict=False):
        model.load_state_dict(sd)


def load_state(
    trial: PyTorchTrial,
    context: PyTorchTrialContext,
    state: TrainerState,
    callbacks: dict[str, PyTorchCallback],
    uuid: str,
) -> None:
    """Resume from checkpoint `uuid`: everything when it is this trial's own, only the model
    weights when it came from another trial (a warm start)."""
    core = context._core
    assert core is not None
    with core.checkpoint.restore_path(uuid) as path:
        payload = torch.load(
            Path(path) / STATE_FILE, map_location=context.device, weights_only=False
        )
    for cb in callbacks.values():
        cb.on_checkpoint_load_start(payload)
    load_weights(context, payload)
    trainer = payload.get("trainer", {})
    if trainer.get("trial_id") != context.get_trial_id():
        return
    for opt, sd in zip(context.optimizers, payload["optimizers_state_dict"], strict=False):
        opt.load_state_dict(sd)
    for sched, sd in zip(context.lr_schedulers, payload["lr_schedulers_state_dict"], strict=False):
        sched.load_state_dict(sd)
    for scaler, sd in zip(context.scalers, payload["scalers_state_dict"], strict=False):
        scaler.load_state_dict(sd)
    for name, cb in callbacks.items():
        if name in payload.get("callbacks", {}):
            cb.load_state_dict(payload["callbacks"][name])
    restore_rng_state(payload["rng_state"])
    state.batches = state.last_checkpoint_at = int(trainer.get("batches", 0))
    state.epoch = int(trainer.get("epoch", 0))
    state.best = trainer.get("best")
