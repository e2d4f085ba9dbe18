"""What a trainer checkpoint holds and how it is written and read.

A checkpoint directory holds `trainer_state.pt`: the full (unsharded) model and optimizer state,
the LR scheduler and GradScaler state, `steps_completed`, the sampler position
(`epoch`, `batch_in_epoch`) and, per rank (`per_rank[r]`, bytes from `pack`), every RNG state
and the pending training-metric window.
Files the trial adds in `on_checkpoint_save` sit beside it.
"""

from __future__ import annotations

import io
import math
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from trainyard.errors import CheckpointError
from trainyard.pytorch._dist import Strategy, unwrap
from trainyard.pytorch._protocols import CheckpointLike

STATE_FILE = "trainer_state.pt"
FORMAT_VERSION = 1


@dataclass
class Components:
    """The stateful objects one rank trains with."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    lr_scheduler: Any | None
    scaler: torch.amp.GradScaler
    strategy: Strategy
    world_size: int

    @property
    def sharded(self) -> bool:
        return self.strategy == "fsdp" and self.world_size > 1


def _fsdp_options(cpu_offload: bool = False) -> Any:
    from torch.distributed.checkpoint.state_dict import StateDictOptions

    return StateDictOptions(full_state_dict=True, cpu_offload=cpu_offload)


def gather_model_optimizer(c: Components) -> tuple[dict[str, Any], dict[str, Any]]:
    """Full model and optimizer state dicts (a collective under FSDP; complete on rank 0)."""
    if c.sharded:
        from torch.distributed.checkpoint.state_dict import get_state_dict

        return get_state_dict(c.model, c.optimizer, options=_fsdp_options(cpu_offload=True))
    return unwrap(c.model).state_dict(), c.optimizer.state_dict()


def load_model_optimizer(c: Components, model_sd: dict[str, Any], optim_sd: dict[str, Any]) -> None:
    """Load full state dicts on every rank (each rank read the same checkpoint file)."""
    if not c.sharded:
        unwrap(c.model).load_state_dict(model_sd)
        c.optimizer.load_state_dict(optim_sd)
        return
    from torch.distributed.checkpoint.state_dict import set_model_state_dict, set_state_dict

    if optim_sd.get("state"):
        set_state_dict(
            c.model,
            c.optimizer,
            model_state_dict=model_sd,
            optim_state_dict=optim_sd,
            options=_fsdp_options(),
        )
        return
    # A stateless optimizer (plain SGD) has no tensors for torch to place: load the model alone
    # and put back the param-group hyperparameters (lr etc.) by position.
    set_model_state_dict(c.model, model_sd, options=_fsdp_options())
    for group, saved in zip(c.optimizer.param_groups, optim_sd["param_groups"], strict=True):
        group.update({k: v for k, v in saved.items() if k != "params"})


def build_state(
    c: Components,
    model_sd: dict[str, Any],
    optim_sd: dict[str, Any],
    *,
    steps_completed: int,
    epoch: int,
    batch_in_epoch: int,
    per_rank: list[bytes],
) -> dict[str, Any]:
    """The dictionary saved as `trainer_state.pt`."""
    return {
        "format": FORMAT_VERSION,
        "model": model_sd,
        "optimizer": optim_sd,
        "lr_scheduler": None if c.lr_scheduler is None else c.lr_scheduler.state_dict(),
        "grad_scaler": c.scaler.state_dict(),
        "steps_completed": steps_completed,
        "epoch": epoch,
        "batch_in_epoch": batch_in_epoch,
        "world_size": c.world_size,
        "per_rank": per_rank,
    }


def pack(obj: dict[str, Any]) -> bytes:
    """Serialize one rank's state (RNG, metric window) to bytes.

    Object collectives are given bytes, not tensors: pickling tensors through
    `gather_object` breaks in some torch versions.
    """
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def unpack(blob: bytes) -> dict[str, Any]:
    """Inverse of `pack`."""
    obj: dict[str, Any] = torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
    return obj


def write_state(directory: Path, state: dict[str, Any]) -> None:
    """Write `state` into checkpoint `directory`."""
    torch.save(state, directory / STATE_FILE)


def read_state(directory: Path) -> dict[str, Any]:
    """Read `trainer_state.pt` (tensors on the CPU; safe `weights_only` unpickling)."""
    state: dict[str, Any] = torch.load(
        directory / STATE_FILE, map_location="cpu", weights_only=True
    )
    return state


def apply_state(c: Components, state: dict[str, Any]) -> None:
    """Restore model, optimizer, LR scheduler and GradScaler from a `read_state` result."""
    load_model_optimizer(c, state["model"], state["optimizer"])
    if c.lr_scheduler is not None and state["lr_scheduler"] is not None:
        c.lr_scheduler.load_state_dict(state["lr_scheduler"])
    if state["grad_scaler"]:
        c.scaler.load_state_dict(state["grad_scaler"])


def policy_wants_checkpoint(
    policy: str, value: float, bests: Iterable[float | None], smaller_is_better: bool
) -> bool:
    """Whether a validation with searcher metric `value` is followed by a checkpoint under
    `checkpoint_policy` (Determined's meanings): `all` always, `none` never, `best` when `value`
    is finite and strictly better than every known best in `bests` (None: unknown)."""
    if policy != "best":
        return policy == "all"
    sign = 1.0 if smaller_is_better else -1.0
    best = min((sign * b for b in bests if b is not None), default=math.inf)
    return math.isfinite(value) and sign * value < best


def load_for_restore(checkpoints: CheckpointLike, uuid: str) -> tuple[str, dict[str, Any]]:
    """(uuid, state) to resume from: checkpoint `uuid` (the trial's latest, or the one it warm
    starts from), else the newest good checkpoint of this trial (`latest_good()`, a collective).

    Raises `CheckpointError` saying why when neither can be read: a trial never trains from
    scratch in place of the checkpoint it was given.
    """
    try:
        return uuid, _read(checkpoints, uuid)
    except CheckpointError as err:
        fallback = checkpoints.latest_good()
        if fallback is None:
            raise CheckpointError(
                f"cannot restore checkpoint {uuid}: {err}; no other checkpoint of this trial is "
                "usable, so it does not train from scratch"
            ) from err
        print(
            f"trainyard: checkpoint {uuid} is unusable ({err}); restoring {fallback} instead",
            file=sys.stderr,
            flush=True,
        )
        return fallback, _read(checkpoints, fallback)


def _read(checkpoints: CheckpointLike, uuid: str) -> dict[str, Any]:
    with checkpoints.restore_path(uuid) as path:
        try:
            return read_state(Path(path))
        except (OSError, RuntimeError, EOFError, KeyError, ValueError) as err:
            raise CheckpointError(f"cannot read {STATE_FILE}: {err}") from err
