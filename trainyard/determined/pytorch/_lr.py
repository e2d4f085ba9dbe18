"""`LRScheduler` with Determined's step modes."""

from __future__ import annotations

import enum
from typing import Any


class LRScheduler:
    """A wrapped LR scheduler and when the Trainer steps it (`context.wrap_lr_scheduler`)."""

    class StepMode(enum.Enum):
        STEP_EVERY_EPOCH = 1
        """After every epoch (every `frequency` epochs)."""
        STEP_EVERY_BATCH = 2
        """After every batch (every `frequency` batches), aggregation or not."""
        MANUAL_STEP = 3
        """Never: the trial calls `step()` itself."""
        STEP_EVERY_OPTIMIZER_STEP = 4
        """After every optimizer step (`context.step_optimizer` that stepped)."""

    def __init__(self, scheduler: Any, step_mode: StepMode, frequency: int = 1) -> None:
        if frequency < 1:
            from trainyard.core import CoreUsageError

            raise CoreUsageError(f"wrap_lr_scheduler: frequency is {frequency}; it must be >= 1")
        self.scheduler = scheduler
        self.step_mode = step_mode
        self.frequency = frequency
        self._count = 0

    def tick(self) -> None:
        """One event of its mode happened: step every `frequency` of them."""
        self._count += 1
        if self._count % self.frequency == 0:
            self.scheduler.step()

    def state_dict(self) -> dict[str, Any]:
        return {"scheduler": self.scheduler.state_dict(), "count": self._count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.scheduler.load_state_dict(state["scheduler"])
        self._count = int(state.get("count", 0))
