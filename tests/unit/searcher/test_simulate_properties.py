"""Invariants of the simulation loop over random workloads (hypothesis)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainyard.searcher._base import Searcher
from trainyard.searcher._ops import Close, Create, ExitedReason, Operation, Shutdown, ValidateAfter
from trainyard.searcher._simulate import simulate_searcher


class RandomPromotions(Searcher):
    """`n` trials at length 2..20; each validation promotes (×2..×4) with probability 1/2."""

    def __init__(self, n: int, concurrent: int, seed: int) -> None:
        self.n, self.concurrent = n, concurrent
        self.rng = np.random.default_rng(seed)
        self.made = self.closed = 0
        self.validated: list[tuple[int, int]] = []

    def _new(self) -> list[Operation]:
        self.made += 1
        rate = float(self.rng.integers(1, 5))
        return [
            Create(self.made, {"rate": rate}),
            ValidateAfter(self.made, int(self.rng.integers(2, 21))),
        ]

    def initial_operations(self) -> list[Operation]:
        ops: list[Operation] = []
        for _ in range(min(self.n, self.concurrent)):
            ops += self._new()
        return ops

    def on_validation_completed(
        self, request_id: int, metric: float, length: int
    ) -> list[Operation]:
        self.validated.append((request_id, length))
        if length < 200 and self.rng.random() < 0.5:
            return [ValidateAfter(request_id, length * int(self.rng.integers(2, 5)))]
        return [Close(request_id)]

    def on_trial_closed(self, request_id: int) -> list[Operation]:
        self.closed += 1
        if self.made < self.n:
            return self._new()
        return [Shutdown()] if self.closed == self.n else []

    def on_trial_exited_early(self, request_id: int, reason: ExitedReason) -> list[Operation]:
        return []

    def progress(self) -> float:
        return self.closed / self.n

    def snapshot(self) -> dict[str, Any]:
        return {}

    def restore(self, snapshot: dict[str, Any]) -> None:
        pass


def cost(hparams: Mapping[str, Any], length: int) -> float:
    return float(hparams["rate"]) * length


def metric(hparams: Mapping[str, Any], length: int) -> float:
    return float(hparams["rate"]) / (1 + length)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 40),
    concurrent=st.integers(1, 12),
    workers=st.integers(1, 8),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_slot_second_is_accounted_and_no_slot_is_double_booked(
    n: int, concurrent: int, workers: int, seed: int
) -> None:
    searcher = RandomPromotions(n, concurrent, seed)
    result = simulate_searcher(searcher, metric, cost, workers=workers)

    busy = sum(cost(t.hparams, t.length) for t in result.trials)
    assert result.shutdown and len(result.trials) == n
    assert busy <= workers * result.end_time + 1e-9
    assert result.utilization * workers * result.end_time == pytest.approx(busy)
    # The longest trial alone bounds the end; so does the total work spread over every slot.
    assert result.end_time >= max(cost(t.hparams, t.length) for t in result.trials)
    assert result.end_time >= busy / workers - 1e-9
    assert result.total_length == sum(t.length for t in result.trials)
    assert sorted(searcher.validated) == sorted(
        (t.request_id, length) for t in result.trials for length, _ in t.metrics
    )
    for trial in result.trials:
        assert trial.length == trial.metrics[-1][0]
        assert trial.closed_at is not None and trial.created_at <= trial.closed_at


@settings(max_examples=30, deadline=None)
@given(workers=st.integers(1, 6), seed=st.integers(0, 2**32 - 1), cut=st.floats(0, 400))
def test_max_time_never_lets_work_run_past_it(workers: int, seed: int, cut: float) -> None:
    result = simulate_searcher(
        RandomPromotions(30, 8, seed), metric, cost, workers=workers, max_time=cut
    )

    assert result.end_time <= cut
    assert all(time <= cut for time, _ in result.trajectory)
    assert sum(cost(t.hparams, t.length) for t in result.trials) <= workers * cut + 1e-9
    assert 0.0 <= result.utilization <= 1.0
