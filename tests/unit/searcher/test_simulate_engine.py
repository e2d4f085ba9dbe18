"""The simulation loop, driven by small scripted searchers so each rule is checked on its own."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest

from trainyard.errors import TrainyardError
from trainyard.searcher._base import Searcher
from trainyard.searcher._ops import (
    Close,
    Create,
    ExitedReason,
    Operation,
    Shutdown,
    Stop,
    ValidateAfter,
)
from trainyard.searcher._simulate import simulate_searcher

Hook = Callable[["Scripted", int, float, int], list[Operation]]


class Scripted(Searcher):
    """Creates `n` trials validating at `length`; `on_valid` decides what follows each validation.

    By default a validated trial is closed, and Shutdown follows the last close.
    """

    def __init__(self, n: int, length: int, on_valid: Hook | None = None) -> None:
        self.n, self.length = n, length
        self.on_valid = on_valid
        self.validations: list[tuple[int, float, int]] = []
        self.closed: list[int] = []
        self.created: list[int] = []

    def initial_operations(self) -> list[Operation]:
        ops: list[Operation] = []
        for rid in range(1, self.n + 1):
            ops += [Create(rid, {"rate": float(rid)}), ValidateAfter(rid, self.length)]
        return ops

    def on_trial_created(self, request_id: int) -> list[Operation]:
        self.created.append(request_id)
        return []

    def on_validation_completed(
        self, request_id: int, metric: float, length: int
    ) -> list[Operation]:
        self.validations.append((request_id, metric, length))
        if self.on_valid is not None:
            return self.on_valid(self, request_id, metric, length)
        return [Close(request_id)]

    def on_trial_closed(self, request_id: int) -> list[Operation]:
        self.closed.append(request_id)
        return [Shutdown()] if len(self.closed) == len(self.created) else []

    def on_trial_exited_early(self, request_id: int, reason: ExitedReason) -> list[Operation]:
        return []

    def progress(self) -> float:
        return len(self.closed) / max(1, len(self.created))

    def snapshot(self) -> dict[str, Any]:
        return {}

    def restore(self, snapshot: dict[str, Any]) -> None:
        pass


def linear(hp: Mapping[str, Any], length: int) -> float:
    return float(length)


def by_rate(hp: Mapping[str, Any], length: int) -> float:
    return float(length) * float(hp["rate"])


def loss(hp: Mapping[str, Any], length: int) -> float:
    return float(hp["rate"]) + 1.0 / (1 + length)


def test_equal_trials_fill_every_slot_exactly() -> None:
    result = simulate_searcher(Scripted(8, 10), loss, linear, workers=4)

    assert result.end_time == 20.0
    assert result.utilization == 1.0
    assert result.total_length == 80
    assert result.shutdown and not result.truncated
    assert all(t.closed_at is not None for t in result.trials)


def test_idle_slots_lower_utilization() -> None:
    result = simulate_searcher(Scripted(4, 10), loss, linear, workers=3)

    assert result.end_time == 20.0
    assert result.utilization == pytest.approx(40 / 60)
    assert 0.0 <= result.utilization <= 1.0


def test_resumed_trial_pays_only_the_difference() -> None:
    def promote_first(s: Scripted, rid: int, metric: float, length: int) -> list[Operation]:
        if rid == 2:  # trial 1 sits idle without a slot until trial 2 has validated
            return [ValidateAfter(1, 30), Close(2)]
        return [] if length == 10 else [Close(rid)]

    result = simulate_searcher(Scripted(2, 10, promote_first), loss, by_rate, workers=1)

    # t: trial 1 to 10 (10 s), trial 2 to 10 (20 s), trial 1 from 10 to 30 (20 s, not 30 s).
    assert result.end_time == 50.0
    first = result.trials[0]
    assert first.length == 30
    assert [m[0] for m in first.metrics] == [10, 30]
    assert result.total_length == 40
    assert result.utilization == 1.0


def test_promoted_trial_continues_in_its_slot_before_queued_trials() -> None:
    def promote(s: Scripted, rid: int, metric: float, length: int) -> list[Operation]:
        return [ValidateAfter(rid, 20)] if length == 10 else [Close(rid)]

    searcher = Scripted(2, 10, promote)
    simulate_searcher(searcher, loss, linear, workers=1)

    assert [(rid, length) for rid, _, length in searcher.validations] == [
        (1, 10),
        (1, 20),
        (2, 10),
        (2, 20),
    ]


def test_ties_are_broken_by_request_id() -> None:
    searcher = Scripted(5, 10)
    simulate_searcher(searcher, loss, linear, workers=5)

    assert [rid for rid, _, _ in searcher.validations] == [1, 2, 3, 4, 5]
    assert searcher.closed == [1, 2, 3, 4, 5]


def test_max_time_cuts_work_in_flight() -> None:
    searcher = Scripted(2, 100)
    result = simulate_searcher(searcher, loss, linear, workers=1, max_time=25.0)

    assert result.truncated and not result.shutdown
    assert result.end_time == 25.0
    assert [t.length for t in result.trials] == [25, 0]
    assert result.trials[0].metrics == [] and result.trials[0].closed_at is None
    assert result.utilization == 1.0
    assert searcher.validations == []


def test_max_time_after_the_end_changes_nothing() -> None:
    unlimited = simulate_searcher(Scripted(3, 10), loss, linear, workers=2)
    limited = simulate_searcher(Scripted(3, 10), loss, linear, workers=2, max_time=1e9)

    assert limited.end_time == unlimited.end_time == 20.0
    assert not limited.truncated


def test_stop_cuts_the_running_trial_to_whole_units() -> None:
    def stop_long(s: Scripted, rid: int, metric: float, length: int) -> list[Operation]:
        return [Close(2), Stop(1)] if rid == 2 else []

    class TwoLengths(Scripted):
        def initial_operations(self) -> list[Operation]:
            return [
                Create(1, {"rate": 1.5}),
                ValidateAfter(1, 100),
                Create(2, {"rate": 1.0}),
                ValidateAfter(2, 10),
            ]

    searcher = TwoLengths(2, 0, stop_long)
    result = simulate_searcher(searcher, loss, by_rate, workers=2)

    stopped = result.trials[0]
    assert stopped.stopped and stopped.closed_at == 10.0
    assert stopped.length == math.floor(10 / 1.5)
    assert stopped.metrics == []
    assert sorted(searcher.closed) == [1, 2]
    assert result.end_time == 10.0
    assert result.utilization == 1.0
    assert result.total_length == 6 + 10


def test_close_while_training_finishes_the_target_first() -> None:
    class CloseEarly(Scripted):
        def initial_operations(self) -> list[Operation]:
            return [*super().initial_operations(), Close(1)]

    searcher = CloseEarly(1, 10)
    result = simulate_searcher(searcher, loss, linear, workers=1)

    assert searcher.validations == [(1, loss({"rate": 1.0}, 10), 10)]
    assert result.trials[0].closed_at == 10.0
    assert searcher.closed == [1]


def test_queued_trial_stopped_before_it_starts_never_trains() -> None:
    class StopQueued(Scripted):
        def initial_operations(self) -> list[Operation]:
            return [*super().initial_operations(), Stop(2)]

    searcher = StopQueued(2, 10)
    result = simulate_searcher(searcher, loss, linear, workers=1)

    assert result.trials[1].length == 0 and result.trials[1].stopped
    assert result.trials[1].closed_at == 0.0
    assert result.end_time == 10.0


def test_pbt_child_starts_at_its_parents_length() -> None:
    def spawn(s: Scripted, rid: int, metric: float, length: int) -> list[Operation]:
        if rid == 1:
            return [
                Create(9, {"rate": 2.0}, checkpoint_from=1),
                ValidateAfter(9, 15),
                Close(1),
            ]
        return [Close(rid)]

    result = simulate_searcher(Scripted(1, 10, spawn), loss, by_rate, workers=1)

    child = result.trials[1]
    assert (child.request_id, child.checkpoint_from, child.start_length) == (9, 1, 10)
    assert child.length == 15 and child.trained_length == 5
    assert child.metrics == [(15, loss({"rate": 2.0}, 15))]
    # The child pays cost(15) - cost(10) at its own rate 2: 10 s after the parent's 10 s.
    assert result.end_time == 20.0
    assert result.total_length == 15


def test_trial_driven_search_reports_at_every_boundary_until_stopped() -> None:
    def stop_at_30(s: Scripted, rid: int, metric: float, length: int) -> list[Operation]:
        return [Stop(rid)] if length >= 30 else []

    searcher = Scripted(1, 90, stop_at_30)
    result = simulate_searcher(searcher, loss, linear, workers=1, report_lengths=[10, 30, 90])

    assert [length for _, _, length in searcher.validations] == [10, 30]
    assert result.trials[0].length == 30 and result.end_time == 30.0


def test_nan_metrics_reach_the_searcher_but_never_lead() -> None:
    def objective(hp: Mapping[str, Any], length: int) -> float:
        return math.nan if hp["rate"] == 1.0 else float(hp["rate"])

    searcher = Scripted(3, 10)
    result = simulate_searcher(searcher, objective, linear, workers=1)

    assert math.isnan(searcher.validations[0][1])
    assert result.trajectory == [(20.0, 2.0)]
    assert result.best_metric == 2.0 and result.best_trial is result.trials[1]


def test_trajectory_respects_smaller_is_better() -> None:
    def objective(hp: Mapping[str, Any], length: int) -> float:
        return {1.0: 5.0, 2.0: 3.0, 3.0: 7.0}[float(hp["rate"])]

    lower = simulate_searcher(Scripted(3, 10), objective, linear, workers=1)
    higher = simulate_searcher(
        Scripted(3, 10), objective, linear, workers=1, smaller_is_better=False
    )

    assert lower.trajectory == [(10.0, 5.0), (20.0, 3.0)]
    assert higher.trajectory == [(10.0, 5.0), (30.0, 7.0)]
    assert lower.time_to_reach(4.0) == 20.0 and lower.time_to_reach(1.0) is None
    assert higher.time_to_reach(6.0) == 30.0


def test_seeded_searcher_replays_exactly() -> None:
    class RandomRates(Scripted):
        def __init__(self, seed: int) -> None:
            super().__init__(6, 10)
            self.rng = np.random.default_rng(seed)

        def initial_operations(self) -> list[Operation]:
            ops: list[Operation] = []
            for rid in range(1, 7):
                ops += [Create(rid, {"rate": float(self.rng.uniform(1, 3))})]
                ops += [ValidateAfter(rid, 10)]
            return ops

    def run(seed: int) -> list[tuple[float, float]]:
        return simulate_searcher(RandomRates(seed), loss, by_rate, workers=2).trajectory

    assert run(1) == run(1)
    assert run(1) != run(2)


@pytest.mark.parametrize(
    ("op", "message"),
    [
        (ValidateAfter(7, 10), "never created"),
        (Create(1, {}), "exists"),
    ],
)
def test_searcher_mistakes_are_named(op: Operation, message: str) -> None:
    class Broken(Scripted):
        def initial_operations(self) -> list[Operation]:
            return [*super().initial_operations(), op]

    with pytest.raises(TrainyardError, match=message):
        simulate_searcher(Broken(1, 10), loss, linear, workers=1)


def test_validate_after_close_is_a_searcher_mistake() -> None:
    def reopen(s: Scripted, rid: int, metric: float, length: int) -> list[Operation]:
        return [Close(rid), ValidateAfter(rid, 20)]

    with pytest.raises(TrainyardError, match="after closing"):
        simulate_searcher(Scripted(1, 10, reopen), loss, linear, workers=1)


def test_decreasing_cost_is_rejected() -> None:
    with pytest.raises(TrainyardError, match="never decrease"):
        simulate_searcher(Scripted(1, 10), loss, lambda hp, n: -float(n), workers=1)


@pytest.mark.parametrize("workers", [0, -1, True])
def test_workers_must_be_a_positive_integer(workers: int) -> None:
    with pytest.raises(TrainyardError, match="workers"):
        simulate_searcher(Scripted(1, 10), loss, linear, workers=workers)
