"""Determined's `core.DistributedContext`, over Trainyard's (torch.distributed, gloo for objects).

Determined's constructor takes the rank layout plus `chief_ip` and ZMQ ports; here the ports are
kept for signature compatibility and the collectives run over torch.distributed. When the
constructor is given `size > 1` and no process group exists yet, it joins one: torchrun's
(`env://`) when Trainyard's launcher started the ranks (MASTER_ADDR/MASTER_PORT set, WORLD_SIZE
equal to `size`), else `tcp://<chief_ip>:<pub_port + port_offset>`; `close()` then destroys it.
"""

from __future__ import annotations

import datetime
import os
from typing import Any

from trainyard.core import DistributedContext as CoreDistributedContext

DEFAULT_PORT = 12360
"""Determined's default `pub_port`, used as the rendezvous port when no chief port is set."""


class DistributedContext(CoreDistributedContext):
    """Rank layout and object collectives, shaped like Determined's.

    >>> dist = DistributedContext(rank=0, size=1, local_rank=0, local_size=1,
    ...                           cross_rank=0, cross_size=1)
    >>> dist.get_rank(), dist.broadcast("x")
    (0, 'x')
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
        chief_ip: str | None = None,
        pub_port: int = DEFAULT_PORT,
        pull_port: int = DEFAULT_PORT + 16,
        port_offset: int = 0,
        force_tcp: bool = False,
        group: Any = None,
        owns_process_group: bool = False,
    ) -> None:
        if size > 1 and group is None and not owns_process_group:
            owns_process_group = _join_group(
                rank, size, local_rank, chief_ip, pub_port + port_offset
            )
        super().__init__(
            rank=rank,
            size=size,
            local_rank=local_rank,
            local_size=local_size,
            cross_rank=cross_rank,
            cross_size=cross_size,
            group=group,
            owns_process_group=owns_process_group,
        )
        self.chief_ip = chief_ip
        self.pub_port, self.pull_port, self.port_offset = pub_port, pull_port, port_offset
        self.force_tcp = force_tcp

    @classmethod
    def _of(cls, core: CoreDistributedContext) -> DistributedContext:
        return cls(
            rank=core.rank,
            size=core.size,
            local_rank=core.local_rank,
            local_size=core.local_size,
            cross_rank=core.cross_rank,
            cross_size=core.cross_size,
            chief_ip=os.environ.get("MASTER_ADDR"),
            group=getattr(core, "_group", None),
            owns_process_group=getattr(core, "_owns_process_group", False),
        )

    @classmethod
    def from_torch_distributed(  # type: ignore[override]  # Determined's signature: chief_ip first
        cls, chief_ip: str | None = None, timeout_s: float = 1800.0
    ) -> DistributedContext:
        """From torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, ...), which Trainyard's
        launcher sets for every rank; joins the default process group when needed."""
        out = cls._of(CoreDistributedContext.from_torch_distributed(timeout_s=timeout_s))
        out.chief_ip = chief_ip or out.chief_ip
        return out

    @classmethod
    def from_deepspeed(cls, chief_ip: str | None = None) -> DistributedContext:
        """DeepSpeed's launcher sets torchrun's variables too: same as `from_torch_distributed`."""
        return cls.from_torch_distributed(chief_ip)

    @classmethod
    def from_horovod(cls, hvd: Any, chief_ip: str | None = None) -> DistributedContext:
        """Horovod is not supported by Trainyard: one clear error."""
        from trainyard.core import CoreUsageError

        raise CoreUsageError(
            "DistributedContext.from_horovod: Horovod is not supported by Trainyard; use "
            "torch.distributed (DistributedContext.from_torch_distributed())"
        )

    @classmethod
    def single(cls) -> DistributedContext:
        return cls(rank=0, size=1, local_rank=0, local_size=1, cross_rank=0, cross_size=1)

    def get_rank(self) -> int:
        return self.rank

    def get_size(self) -> int:
        return self.size

    def get_local_rank(self) -> int:
        return self.local_rank

    def get_local_size(self) -> int:
        return self.local_size

    def get_cross_rank(self) -> int:
        return self.cross_rank

    def get_cross_size(self) -> int:
        return self.cross_size

    def broadcast_local(self, stuff: Any = None) -> Any:
        """The local chief's `stuff` on every rank of this node."""
        return self.allgather(stuff)[self.cross_rank * self.local_size]

    def allgather_local(self, stuff: Any) -> list[Any]:
        """Every rank's `stuff` on this node, in local-rank order."""
        start = self.cross_rank * self.local_size
        return self.allgather(stuff)[start : start + self.local_size]

    def gather_local(self, stuff: Any) -> list[Any] | None:
        """Like `allgather_local`, on the local chief only (None elsewhere)."""
        out = self.allgather_local(stuff)
        return out if self.local_rank == 0 else None


def _join_group(rank: int, size: int, local_rank: int, chief_ip: str | None, port: int) -> bool:
    import torch
    import torch.distributed as dist

    if dist.is_initialized():
        return False
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(local_rank)
    launched = os.environ.get("MASTER_ADDR") and os.environ.get("MASTER_PORT")
    if launched and int(os.environ.get("WORLD_SIZE") or 0) == size:
        init_method = "env://"  # Trainyard's launcher (torchrun): its store owns MASTER_PORT
    else:
        init_method = f"tcp://{chief_ip or '127.0.0.1'}:{port}"
    dist.init_process_group(
        backend,
        init_method=init_method,
        rank=rank,
        world_size=size,
        timeout=datetime.timedelta(seconds=1800),
    )
    return True
