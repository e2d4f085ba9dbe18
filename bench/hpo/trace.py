"""What every runner (ours and the peers') returns for one search: the same record for all."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class RunTrace:
    """One search on one problem with `workers` slots and `budget` (simulated) seconds.

    `trajectory` is `(time, best accuracy so far)`, one entry each time the best improved.
    `utilization` is busy slot-seconds / (workers x the time the search ran, at most `budget`).
    """

    method: str
    problem: str
    workers: int
    seed: int
    budget: float
    trajectory: list[tuple[float, float]]
    trials: int
    utilization: float
    end_time: float

    def best_at(self, time: float) -> float:
        """Best accuracy found by `time` (NaN before the first validation)."""
        best = math.nan
        for t, value in self.trajectory:
            if t > time:
                break
            best = value
        return best

    def time_to(self, target: float) -> float | None:
        """First time the best accuracy reached `target`, or None if it never did."""
        for t, value in self.trajectory:
            if value >= target:
                return t
        return None


def improvements(events: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """`(time, value)` validations -> the running best, one entry per improvement (NaN skipped)."""
    out: list[tuple[float, float]] = []
    for t, value in sorted(events):
        if not math.isnan(value) and (not out or value > out[-1][1]):
            out.append((t, value))
    return out
