"""`Predictor`: run time per trial and per search, queue wait and peak memory, from history.

Fitted once on a list of `RunRecord`s (what the master stores about past allocations); then
every question is a pure function of that fit. Each answer is an `Estimate` (a value and an 80%
interval, see `_ensemble.py`) or None when the history has too few examples for that question
(fewer than `MIN_ROWS` usable records).

- run time: seconds per unit of length, learned from finished allocations with a known length
  (config features, slots, user and log length as inputs), times the asked length;
- whole search: the trials' run times summed and spread over `concurrency` slots (never less
  than the longest trial); the interval sums the trials' bounds the same way, so it assumes the
  errors of one search's trials move together (they share a model and a cluster);
- queue wait: learned from the queue each past allocation met when it was queued (rebuilt by
  `queue_state` from the records themselves), target `wait + 1` seconds;
- peak memory: from config features, for records that carry `peak_memory`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from trainyard.predict._ensemble import MIN_ROWS, Ensemble, Estimate
from trainyard.predict._features import ConfigFeatures, QueueState, RunRecord, queue_state


class Predictor:
    """See the module docstring. `capacity`: the slots of the pool the records ran on;
    `records` in the order they were queued (the uncertainty is measured on blocks of them)."""

    def __init__(
        self,
        records: Sequence[RunRecord],
        *,
        capacity: int,
        met: Sequence[QueueState] | None = None,
    ) -> None:
        """`met[i]`: the queue `records[i]` met when queued; rebuilt with `queue_state` when
        not given (quadratic in the number of records: pass it for long histories)."""
        self.capacity = capacity
        self.features = ConfigFeatures(records)
        timed = [r for r in records if r.run_seconds is not None and r.length]
        self.runtime = self._fit(
            [self.features.vector(r) for r in timed],
            [max(r.run_seconds or 0.0, 1e-3) / float(r.length or 1) for r in timed],
        )
        started = [i for i, r in enumerate(records) if r.wait_seconds is not None]
        states = [
            met[i]
            if met is not None
            else queue_state(
                records,
                records[i].queued_at,
                slots=records[i].slots,
                user=records[i].user,
                capacity=capacity,
            )
            for i in started
        ]
        self.wait = self._fit(
            [state.vector() for state in states],
            [(records[i].wait_seconds or 0.0) + 1.0 for i in started],
        )
        measured = [r for r in records if r.peak_memory]
        self.memory = self._fit(
            [self.features.vector(r, with_length=False) for r in measured],
            [float(r.peak_memory or 0.0) for r in measured],
        )

    @staticmethod
    def _fit(rows: list[object], targets: list[float]) -> Ensemble | None:
        if len(rows) < MIN_ROWS:
            return None
        return Ensemble(np.array(rows, dtype=float), np.array(targets, dtype=float))

    def trial_seconds(self, query: RunRecord) -> Estimate | None:
        """Run time of one allocation like `query` (its `length` is required)."""
        if self.runtime is None or not query.length:
            return None
        rate = self.runtime.estimate(self.features.vector(query))
        return rate.scaled(float(query.length))

    def search_seconds(self, trials: Sequence[RunRecord], concurrency: int) -> Estimate | None:
        """Wall time of running `trials` with at most `concurrency` at once (see the module
        docstring); None if any trial cannot be estimated."""
        estimates = [self.trial_seconds(t) for t in trials]
        if not estimates or any(e is None for e in estimates):
            return None
        known = [e for e in estimates if e is not None]
        width = max(1, min(concurrency, len(known)))

        def spread(values: list[float]) -> float:
            return max(sum(values) / width, max(values))

        return Estimate(
            spread([e.value for e in known]),
            spread([e.low for e in known]),
            spread([e.high for e in known]),
        )

    def queue_wait(self, state: QueueState) -> Estimate | None:
        """Seconds a new request meets `state` before it starts."""
        if self.wait is None:
            return None
        raw = self.wait.estimate(np.array(state.vector()))
        return Estimate(max(raw.value - 1.0, 0.0), max(raw.low - 1.0, 0.0), raw.high - 1.0)

    def peak_memory(self, query: RunRecord) -> Estimate | None:
        """Peak memory (the unit of the records' `peak_memory`) of a run like `query`."""
        if self.memory is None:
            return None
        return self.memory.estimate(self.features.vector(query, with_length=False))
