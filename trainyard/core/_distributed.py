"""`DistributedContext`: where this process sits among the trial's ranks, and object collectives.

Built on torch.distributed: the object collectives use a gloo process group (the default group
when it is gloo, else a gloo side group), so they never touch GPU memory. Every collective must be
called by all ranks in the same order.
"""

from __future__ import annotations

import atexit
import datetime
import gc
import os
import time
from typing import Any

from trainyard.core._errors import CoreUsageError


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise CoreUsageError(f"environment variable {name}={raw!r} must be an integer") from None


def shutdown_default_group(timeout_s: float = 120.0) -> None:
    """Destroy the default process group once every rank is done with it.

    Every rank calls it after its last collective. It first waits, over the rendezvous store
    (plain TCP, not the group's transport), until every rank has got here: a rank that closed
    its gloo connections while another was still finishing could crash that rank's teardown
    ("terminate called without an active exception", exit 250). It then frees what still holds
    the group (a finished DDP/FSDP model left in a reference cycle), so the group's threads are
    joined inside `destroy_process_group` rather than during interpreter shutdown. A rank that
    never arrives (it crashed) is waited for `timeout_s` at most. No-op without a group.
    """
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return
    if dist.get_world_size() > 1:
        _wait_for_every_rank("trainyard/shutdown", dist, timeout_s)
    gc.collect()
    dist.destroy_process_group()


def _wait_for_every_rank(key: str, dist: Any, timeout_s: float) -> bool:
    """Block until every rank has called this with `key` (once per key and group); False
    after `timeout_s`. Counts in the default group's store, so nothing goes over the group."""
    store = dist.distributed_c10d._get_default_store()  # the group's rendezvous store
    world = dist.get_world_size()
    store.add(key, 1)
    deadline = time.monotonic() + timeout_s
    while store.add(key, 0) < world:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


class DistributedContext:
    """Rank layout of the trial's processes plus `broadcast`/`gather`/`allgather` of objects.

    `rank`/`size` are global; `local_*` count processes on this node; `cross_rank`/`cross_size`
    are the node index and node count. The chief is rank 0: it alone talks to the master.

    >>> dist = DistributedContext.single()
    >>> dist.broadcast({"a": 1}), dist.allgather(3)
    ({'a': 1}, [3])
    """

    def __init__(
        self,
        *,
        rank: int,
        size: int,
        local_rank: int,
        local_size: int,
        cross_rank: int,
        cross_size: int,
        group: Any = None,
        owns_process_group: bool = False,
    ) -> None:
        if not 0 <= rank < size:
            raise CoreUsageError(f"rank {rank} is outside 0..{size - 1}; check RANK and WORLD_SIZE")
        self.rank = rank
        self.size = size
        self.local_rank = local_rank
        self.local_size = local_size
        self.cross_rank = cross_rank
        self.cross_size = cross_size
        self._group = group
        self._owns_process_group = owns_process_group
        if owns_process_group:
            # A script may never close a context it did not pass to `core.init` (Determined's
            # scripts build one and hand it over): the group it created is still destroyed
            # before interpreter teardown, whose gloo threads would otherwise abort the rank
            # now and then ("terminate called without an active exception").
            atexit.register(self.close)

    def __repr__(self) -> str:
        return f"DistributedContext(rank={self.rank}, size={self.size})"

    @property
    def is_chief(self) -> bool:
        """True on global rank 0."""
        return self.rank == 0

    @property
    def is_local_chief(self) -> bool:
        """True on local rank 0 of each node."""
        return self.local_rank == 0

    @classmethod
    def single(cls) -> DistributedContext:
        """One process: rank 0 of 1; collectives return their input."""
        return cls(rank=0, size=1, local_rank=0, local_size=1, cross_rank=0, cross_size=1)

    @classmethod
    def from_torch_distributed(cls, timeout_s: float = 1800.0) -> DistributedContext:
        """Read RANK/WORLD_SIZE/LOCAL_RANK/LOCAL_WORLD_SIZE/GROUP_RANK (torchrun's variables).

        Initialises the default process group from the environment when it is not yet
        initialised (NCCL when CUDA is available, else gloo); `close()` then destroys it.
        """
        import torch
        import torch.distributed as dist

        size = _env_int("WORLD_SIZE", dist.get_world_size() if dist.is_initialized() else 1)
        rank = _env_int("RANK", dist.get_rank() if dist.is_initialized() else 0)
        local_size = _env_int("LOCAL_WORLD_SIZE", size)
        owns = False
        if size > 1 and not dist.is_initialized():
            backend = "nccl" if torch.cuda.is_available() else "gloo"
            if backend == "nccl":
                torch.cuda.set_device(_env_int("LOCAL_RANK", rank % local_size))
            timeout = datetime.timedelta(seconds=timeout_s)
            dist.init_process_group(backend, timeout=timeout, rank=rank, world_size=size)
            owns = True
        group = None
        if size > 1 and dist.get_backend() != "gloo":
            group = dist.new_group(backend="gloo")
        return cls(
            rank=rank,
            size=size,
            local_rank=_env_int("LOCAL_RANK", rank % local_size),
            local_size=local_size,
            cross_rank=_env_int("GROUP_RANK", rank // local_size),
            cross_size=max(1, size // local_size),
            group=group,
            owns_process_group=owns,
        )

    def broadcast(self, obj: Any) -> Any:
        """The chief's `obj` on every rank (others' arguments are ignored)."""
        if self.size == 1:
            return obj
        import torch.distributed as dist

        box = [obj if self.is_chief else None]
        dist.broadcast_object_list(box, src=0, group=self._group)
        return box[0]

    def broadcast_int(self, value: int) -> int:
        """The chief's integer on every rank: one small tensor collective, no pickling (cheaper
        than `broadcast`, for flags and counters on a hot path)."""
        if self.size == 1:
            return value
        import torch
        import torch.distributed as dist

        box = torch.tensor([value if self.is_chief else 0], dtype=torch.int64)
        dist.broadcast(box, src=0, group=self._group)
        return int(box.item())

    def gather(self, obj: Any) -> list[Any] | None:
        """Every rank's `obj`, in rank order, on the chief; None on other ranks."""
        if self.size == 1:
            return [obj]
        import torch.distributed as dist

        out: list[Any] | None = [None] * self.size if self.is_chief else None
        dist.gather_object(obj, out, dst=0, group=self._group)
        return out

    def allgather(self, obj: Any) -> list[Any]:
        """Every rank's `obj`, in rank order, on every rank."""
        if self.size == 1:
            return [obj]
        import torch.distributed as dist

        out: list[Any] = [None] * self.size
        dist.all_gather_object(out, obj, group=self._group)
        return out

    def close(self) -> None:
        """Destroy the process group if `from_torch_distributed` created it, once every rank
        has closed (`shutdown_default_group`)."""
        if self._owns_process_group:
            self._owns_process_group = False
            shutdown_default_group()
