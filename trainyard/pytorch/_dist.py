"""torch.distributed plumbing: process group, device, model wrapping, metric reduction."""

from __future__ import annotations

import atexit
import contextlib
import datetime
import os
import sys
from typing import Literal, NoReturn

import torch
import torch.distributed as dist

from trainyard.core._distributed import shutdown_default_group
from trainyard.errors import ConfigError

Strategy = Literal["ddp", "fsdp"]


def init_process_group_from_env(timeout_s: float = 600.0) -> bool:
    """Join the torchrun-style group when `WORLD_SIZE > 1` (NCCL with CUDA, else gloo).

    Returns True when this call created the group (the caller then destroys it at exit).
    """
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or dist.is_initialized():
        return False
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout_s))
    return True


_left_group = False


def shutdown_process_group(timeout_s: float = 120.0) -> None:
    """Leave the default process group without tearing it down under another rank (see
    `trainyard.core._distributed.shutdown_default_group`); a no-op when none is initialised.
    End the process with `exit_process` afterwards."""
    global _left_group
    if dist.is_initialized():
        shutdown_default_group(timeout_s)
        _left_group = True


def exit_process(code: int) -> NoReturn:
    """End the process with `code`; after `shutdown_process_group`, without interpreter and
    C++ static teardown.

    DDP keeps its process group alive in C++ after `destroy_process_group` and after the model
    is freed (seen on torch 2.13 with gloo: the group's `pt_gloo_runloop` and `gloo_tcp_loop`
    threads run until the process ends). Tearing the interpreter down with those threads alive
    while the other ranks close their connections aborted a finished rank now and then with
    "terminate called without an active exception" (exit 250 under the launcher). Every rank
    has passed the store barrier by then, so no collective is in flight: the atexit handlers
    run, output is flushed, and the process leaves through `os._exit`.
    """
    if not _left_group:
        sys.exit(code)
    try:
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


def pick_device(local_rank: int) -> torch.device:
    """This rank's GPU when CUDA is visible, else the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    return torch.device("cpu")


def parse_strategy(value: object) -> Strategy:
    """Validate the `distributed` option (`data.distributed` or a Trainer argument)."""
    if value is None:
        return "ddp"
    if value in ("ddp", "fsdp"):
        return value
    raise ConfigError(f"data.distributed is {value!r}; it must be 'ddp' or 'fsdp'")


def wrap_model(
    model: torch.nn.Module, device: torch.device, size: int, strategy: Strategy
) -> torch.nn.Module:
    """Move `model` to `device` and wrap it for `size` ranks (unchanged when `size == 1`).

    FSDP shards every direct child that holds parameters, then the root (FSDP2 `fully_shard`).
    """
    model = model.to(device)
    if size <= 1:
        return model
    if strategy == "fsdp":
        from torch.distributed.fsdp import fully_shard

        for child in model.children():
            if any(True for _ in child.parameters()):
                fully_shard(child)
        fully_shard(model)
        return model
    ids = [device.index] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The user's module inside a DDP wrapper (FSDP2 shards in place, so nothing to unwrap)."""
    if isinstance(model, torch.nn.parallel.DistributedDataParallel):
        inner: torch.nn.Module = model.module
        return inner
    return model
