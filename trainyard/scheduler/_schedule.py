"""`schedule()`: one pure scheduling decision over pools of slots.

Rules, in the order they apply:

1. Requests are taken by priority (lower number first). Within one priority the next request is
   the one whose user, then experiment, holds the fewest slots (counting what this decision has
   already handed out or queued), then the earliest submitted: equal-priority experiments get an
   equal share, and one experiment's own requests keep their FIFO order.
2. Gang scheduling: a request starts on `slots` free slot ids of its pool (lowest ids first) or
   not at all. An experiment never holds more than `max_slots` slots nor more than
   `max_concurrent` allocations; a request over a cap waits without blocking anyone. When its
   own experiment's idle allocations are what keeps it over the cap, they are asked to stop
   (an ASHA trial waiting for a promotion must not hold the experiment's concurrency).
3. A request that does not fit may take slots of idle allocations (no searcher work) and,
   if it has a strictly higher priority, of lower-priority preemptible allocations (lowest priority
   first, most recently started first) -- but only when that frees enough slots for it; otherwise
   nothing is preempted. While it waits for those slots (or for stopping allocations to go),
   its pool is reserved: nothing else starts there.
4. Otherwise it waits and smaller requests behind it may backfill the free slots.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from trainyard.scheduler._types import (
    Decision,
    PoolCapacity,
    Preempt,
    Reject,
    Request,
    Running,
    Start,
)

__all__ = ["schedule"]


@dataclass
class _PoolState:
    capacity: PoolCapacity
    free: set[int]
    incoming: int = 0
    """Slots of stopping allocations, soon free."""
    reserved: bool = False
    running: list[Running] = field(default_factory=list)


def schedule(
    pending: Sequence[Request],
    running: Sequence[Running],
    pools: Iterable[PoolCapacity],
) -> Decision:
    """Decide which `pending` requests start now and which `running` allocations to preempt.

    Pure and deterministic: the same inputs always give the same `Decision` (ties break by
    submission order, then id). Slot ids held by `running` are never handed out twice.
    """
    states = _pool_states(pools, running)
    held: defaultdict[int, int] = defaultdict(int)
    count: defaultdict[int, int] = defaultdict(int)
    share_exp: defaultdict[int, int] = defaultdict(int)
    share_user: defaultdict[str | None, int] = defaultdict(int)
    for alloc in running:
        held[alloc.experiment_id] += alloc.slots
        count[alloc.experiment_id] += 1
        share_exp[alloc.experiment_id] += alloc.slots
        share_user[alloc.user] += alloc.slots

    rejections, valid = _reject_impossible(pending, states)
    starts: list[Start] = []
    preemptions: list[Preempt] = []
    queue: list[int] = []
    chosen: set[str] = set()
    remaining = sorted(valid, key=lambda r: (r.priority, r.order, r.id))
    while remaining:
        top = remaining[0].priority
        level = [r for r in remaining if r.priority == top]
        pick = min(
            level,
            key=lambda r: (share_user[r.user], share_exp[r.experiment_id], r.order, r.id),
        )
        remaining.remove(pick)
        share_exp[pick.experiment_id] += pick.slots
        share_user[pick.user] += pick.slots
        state = states[pick.pool]
        if _over_cap(pick, held, count):
            queue.append(pick.id)
            preemptions.extend(_release_own_idle(pick, running, held, count, chosen))
            continue
        start = _try_start(pick, state)
        if start is not None:
            starts.append(start)
            held[pick.experiment_id] += pick.slots
            count[pick.experiment_id] += 1
            continue
        queue.append(pick.id)
        if not state.reserved:
            victims = _make_room(pick, state, chosen)
            preemptions.extend(victims)
    return Decision(tuple(starts), tuple(preemptions), tuple(rejections), tuple(queue))


def _pool_states(
    pools: Iterable[PoolCapacity], running: Sequence[Running]
) -> dict[str, _PoolState]:
    states = {p.name: _PoolState(p, set(range(p.slots))) for p in pools}
    for alloc in running:
        state = states.get(alloc.pool)
        if state is None:
            continue  # a pool that was removed from the settings: its slots are not ours
        state.free.difference_update(alloc.slot_ids)
        state.running.append(alloc)
        if alloc.stopping:
            state.incoming += alloc.slots
    return states


def _reject_impossible(
    pending: Sequence[Request], states: dict[str, _PoolState]
) -> tuple[list[Reject], list[Request]]:
    rejections: list[Reject] = []
    valid: list[Request] = []
    for req in pending:
        state = states.get(req.pool)
        if state is None:
            known = ", ".join(sorted(states)) or "none"
            message = f"resource pool {req.pool!r} does not exist; known pools: {known}"
            rejections.append(Reject(req.id, message))
        elif req.slots > state.capacity.slots:
            message = (
                f"needs {req.slots} slots but resource pool {req.pool!r} has only "
                f"{state.capacity.slots}; lower resources.slots_per_trial"
            )
            rejections.append(Reject(req.id, message))
        elif req.max_slots is not None and req.slots > req.max_slots:
            message = (
                f"needs {req.slots} slots but the experiment's resources.max_slots is "
                f"{req.max_slots}; raise max_slots or lower slots_per_trial"
            )
            rejections.append(Reject(req.id, message))
        else:
            valid.append(req)
    return rejections, valid


def _over_cap(req: Request, held: dict[int, int], count: dict[int, int]) -> bool:
    if req.max_slots is not None and held.get(req.experiment_id, 0) + req.slots > req.max_slots:
        return True
    return req.max_concurrent is not None and count.get(req.experiment_id, 0) >= req.max_concurrent


def _release_own_idle(
    req: Request,
    running: Sequence[Running],
    held: dict[int, int],
    count: dict[int, int],
    chosen: set[str],
) -> list[Preempt]:
    """Stop idle allocations of `req`'s own experiment if (and only if) that brings it under
    its caps. They stay counted until they are gone, so nothing else starts over the cap."""
    own_idle = sorted(
        (
            a
            for a in running
            if a.experiment_id == req.experiment_id
            and a.idle
            and not a.stopping
            and a.id not in chosen
        ),
        key=lambda a: (-a.order, a.id),
    )
    freed_slots = 0
    victims: list[Preempt] = []
    for alloc in own_idle:
        if not _over_cap(req, _minus(held, req, freed_slots), _minus(count, req, len(victims))):
            break
        victims.append(Preempt(alloc.id, req.id, "idle"))
        freed_slots += alloc.slots
    if _over_cap(req, _minus(held, req, freed_slots), _minus(count, req, len(victims))):
        return []
    chosen.update(v.allocation_id for v in victims)
    return victims


def _minus(counter: dict[int, int], req: Request, amount: int) -> dict[int, int]:
    return {req.experiment_id: counter.get(req.experiment_id, 0) - amount}


def _try_start(req: Request, state: _PoolState) -> Start | None:
    if state.reserved or len(state.free) < req.slots:
        return None
    slot_ids = tuple(sorted(state.free)[: req.slots])
    state.free.difference_update(slot_ids)
    return Start(req.id, req.pool, slot_ids)


def _make_room(req: Request, state: _PoolState, chosen: set[str]) -> list[Preempt]:
    """Preempt idle/lower-priority allocations if (and only if) that lets `req` start; reserve
    the pool when `req` now only waits for slots that are on their way back."""
    needed = req.slots - len(state.free) - state.incoming
    if needed <= 0:
        state.reserved = True
        return []
    idle = [a for a in state.running if a.idle and not a.stopping and a.id not in chosen]
    lower = [
        a
        for a in state.running
        if a.preemptible
        and not a.stopping
        and not a.idle
        and a.priority > req.priority
        and a.id not in chosen
    ]
    idle.sort(key=lambda a: (-a.order, a.id))
    lower.sort(key=lambda a: (-a.priority, -a.order, a.id))
    if sum(a.slots for a in idle + lower) < needed:
        return []
    victims: list[Preempt] = []
    for alloc in idle + lower:
        if needed <= 0:
            break
        chosen.add(alloc.id)
        needed -= alloc.slots
        state.incoming += alloc.slots
        victims.append(Preempt(alloc.id, req.id, "idle" if alloc.idle else "preempt"))
    state.reserved = True
    return victims
