"""What a simulated search returns: per-trial records and the whole run's figures.

These are plain data. `simulate` fills them; callers (preview, demo, benchmarks, the CLI) only read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Objective = Callable[[Mapping[str, Any], int], float]
"""`objective(hparams, length)`: the searcher metric after training to `length` (may be NaN)."""

Cost = Callable[[Mapping[str, Any], int], float]
"""`cost(hparams, length)`: seconds to train from scratch to `length`; must not decrease with it."""


@dataclass(slots=True)
class SimulatedTrial:
    """One trial of a simulated search.

    `length` is the furthest length the trial trained to (for a PBT child this includes the length
    inherited from its parent's checkpoint, `start_length`). `metrics` holds `(length, metric)` in
    the order the trial reported them. `closed_at` is None when the search ended before the trial
    was closed or stopped.
    """

    request_id: int
    hparams: dict[str, Any]
    created_at: float
    start_length: int = 0
    checkpoint_from: int | None = None
    length: int = 0
    metrics: list[tuple[int, float]] = field(default_factory=list)
    closed_at: float | None = None
    stopped: bool = False

    @property
    def trained_length(self) -> int:
        """Length this trial trained itself (its length minus what it inherited)."""
        return self.length - self.start_length

    @property
    def last_metric(self) -> float | None:
        """The metric of the trial's latest validation, or None if it never validated."""
        return self.metrics[-1][1] if self.metrics else None


@dataclass(slots=True)
class SimulationResult:
    """The outcome of `simulate`.

    - `trajectory`: `(sim_time, best_metric_so_far)`, one entry each time the best improved
      (NaN never counts as an improvement); empty if nothing validated.
    - `trials`: every trial in creation order.
    - `utilization`: busy slot-seconds / (workers × end_time), in [0, 1].
    - `total_length`: sum of the lengths trials actually trained (a resume is not counted twice,
      a PBT child does not count its parent's part).
    - `end_time`: simulated seconds when the last work ended (or `max_time` when truncated).
    - `events`: how many events were fed to the searcher (created, validated, closed).
    - `shutdown`: True when the searcher said Shutdown; `truncated`: True when `max_time` cut it.
    """

    trajectory: list[tuple[float, float]]
    trials: list[SimulatedTrial]
    utilization: float
    total_length: int
    end_time: float
    events: int
    workers: int
    smaller_is_better: bool
    shutdown: bool
    truncated: bool
    best_trial: SimulatedTrial | None

    @property
    def best_metric(self) -> float | None:
        """The best metric any trial reported, or None when none reported a non-NaN metric."""
        return self.trajectory[-1][1] if self.trajectory else None

    def time_to_reach(self, threshold: float) -> float | None:
        """First sim time at which the best metric reached `threshold` (or better), else None."""
        for time, best in self.trajectory:
            if (best <= threshold) if self.smaller_is_better else (best >= threshold):
                return time
        return None
