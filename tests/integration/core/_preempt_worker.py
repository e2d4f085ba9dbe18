"""Run by the contract suite as each of 2 gloo ranks: train until preempted, checkpoint, exit 0."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import trainyard.core as core

ready = Path(sys.argv[1])
with core.init() as ctx:
    rank = ctx.distributed.rank
    seen = -1
    for step in range(3000):
        if step == 3 and ctx.distributed.is_chief:
            ready.touch()
        if ctx.preempt.should_preempt():
            seen = step
            break
        time.sleep(0.01)
    with ctx.checkpoint.store_path({"steps_completed": seen}, shard=True) as (path, _uuid):
        (path / f"rank-{rank}.txt").write_text(str(seen))
    print(f"RESULT rank={rank} size={ctx.distributed.size} step={seen}", flush=True)
