"""Pure scheduling decisions over pools of slots: `(pending, running, pools) -> Decision`.

    decision = schedule(
        pending=[Request(id=7, experiment_id=1, pool="default", slots=2, priority=42, order=7)],
        running=[Running(id="a1", experiment_id=2, pool="default", slot_ids=(0,), priority=60)],
        pools=[PoolCapacity("default", 4)],
    )
    decision.starts        # (Start(request_id=7, pool="default", slot_ids=(1, 2)),)

No clock, DB, I/O or asyncio: the master builds the inputs each tick and performs the decision.
"""

from trainyard.scheduler._schedule import schedule
from trainyard.scheduler._types import (
    DEFAULT_PRIORITY,
    Decision,
    PoolCapacity,
    Preempt,
    Reject,
    Request,
    Running,
    Start,
)

__all__ = [
    "DEFAULT_PRIORITY",
    "Decision",
    "PoolCapacity",
    "Preempt",
    "Reject",
    "Request",
    "Running",
    "Start",
    "schedule",
]
