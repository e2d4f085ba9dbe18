"""`cluster_state`: pools with their slots, what runs where, and the queue in start order."""

from __future__ import annotations

from typing import Any

from trainyard.master.runtime._context import Runtime
from trainyard.master.runtime._loop import scheduler_inputs
from trainyard.scheduler import schedule

__all__ = ["cluster_state"]


def cluster_state(rt: Runtime) -> dict[str, Any]:
    """The `GET /cluster` answer of docs/rest-api.md; `queue` is the scheduler's own order."""
    with rt.db.session(read_only=True) as session:
        inputs = scheduler_inputs(rt, session)
    decision = schedule(inputs.pending, inputs.running, inputs.pools)
    pools = []
    for pool in rt.settings.resource_pools:
        detail: list[dict[str, Any]] = [
            {"index": i, "allocation_id": None, "trial_id": None, "experiment_id": None}
            for i in range(pool.slots)
        ]
        used = 0
        for run in inputs.running:
            if run.pool != pool.name:
                continue
            for slot in run.slot_ids:
                if 0 <= slot < pool.slots:
                    used += 1
                    detail[slot].update(
                        allocation_id=run.id,
                        trial_id=inputs.live[run.id].trial_id,
                        experiment_id=run.experiment_id,
                    )
        pools.append(
            {
                "name": pool.name,
                "slot_type": pool.slot_type,
                "slots": pool.slots,
                "used_slots": used,
                "slots_detail": detail,
            }
        )
    allocations = [
        {
            "id": run.id,
            "trial_id": inputs.live[run.id].trial_id,
            "experiment_id": run.experiment_id,
            "pool": run.pool,
            "slots": list(run.slot_ids),
            "state": "TERMINATING" if run.stopping else "RUNNING",
            "priority": run.priority,
            "started_at": inputs.live[run.id].started_at,
        }
        for run in inputs.running
    ]
    requests = {r.id: r for r in inputs.pending}
    queue = [
        {
            "position": position,
            "trial_id": rid,
            "experiment_id": requests[rid].experiment_id,
            "pool": requests[rid].pool,
            "slots_needed": requests[rid].slots,
            "priority": requests[rid].priority,
            "queued_at": inputs.queued_at.get(rid),
        }
        for position, rid in enumerate(decision.queue, start=1)
    ]
    return {"pools": pools, "allocations": allocations, "queue": queue}
