"""The scheduler's inputs and outputs: frozen dataclasses, nothing else.

A `Request` is a gang of `slots` slots one trial needs on one pool; a `Running` allocation holds
specific slot ids of a pool. `schedule()` turns them into a `Decision`: which requests start on
which slot ids, which running allocations to preempt, and which requests can never start.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "DEFAULT_PRIORITY",
    "Decision",
    "PoolCapacity",
    "Preempt",
    "Reject",
    "Request",
    "Running",
    "Start",
]

DEFAULT_PRIORITY = 42
"""Priority of a request whose experiment sets none (1 runs first, 99 last)."""


@dataclass(frozen=True)
class PoolCapacity:
    """A named pool of `slots` interchangeable slots with ids `0 .. slots-1` (one node)."""

    name: str
    slots: int


@dataclass(frozen=True)
class Request:
    """A trial waiting for `slots` slots on `pool`, all at once (gang scheduling).

    `order` is the submission order (smaller = earlier; FIFO within a priority). `max_slots` caps
    the slots the whole experiment may hold and `max_concurrent` how many of its allocations may
    run at once (None: no cap); every request of one experiment should carry the same caps.
    """

    id: int
    experiment_id: int
    pool: str
    slots: int = 1
    priority: int = DEFAULT_PRIORITY
    order: int = 0
    user: str | None = None
    max_slots: int | None = None
    max_concurrent: int | None = None


@dataclass(frozen=True)
class Running:
    """An allocation holding `slot_ids` of `pool`.

    `stopping`: already asked to stop; its slots come back soon and it is never preempted again.
    `idle`: its trial has no searcher work right now; any waiting request may take its slots.
    `preemptible`: False for allocations that must not be preempted for priority.
    """

    id: str
    experiment_id: int
    pool: str
    slot_ids: tuple[int, ...]
    priority: int = DEFAULT_PRIORITY
    order: int = 0
    user: str | None = None
    stopping: bool = False
    idle: bool = False
    preemptible: bool = True

    @property
    def slots(self) -> int:
        return len(self.slot_ids)


@dataclass(frozen=True)
class Start:
    """Start request `request_id` on these slot ids of `pool`."""

    request_id: int
    pool: str
    slot_ids: tuple[int, ...]


@dataclass(frozen=True)
class Preempt:
    """Ask allocation `allocation_id` to checkpoint and free its slots, so that request
    `for_request` can start. `reason` is "preempt" (a higher priority needs the slots) or
    "idle" (the allocation had no work)."""

    allocation_id: str
    for_request: int
    reason: str = "preempt"


@dataclass(frozen=True)
class Reject:
    """Request `request_id` can never start as asked (unknown pool, more slots than it has)."""

    request_id: int
    message: str


@dataclass(frozen=True)
class Decision:
    """What to do now. `queue` lists the waiting request ids in the order they would start."""

    starts: tuple[Start, ...] = ()
    preemptions: tuple[Preempt, ...] = ()
    rejections: tuple[Reject, ...] = ()
    queue: tuple[int, ...] = field(default=())
