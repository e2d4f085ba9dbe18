"""The interface every search method implements.

A `Searcher` is a pure state machine: events in, operations out. It never reads the clock, does I/O,
touches a global RNG or awaits anything, so a search can be simulated, snapshotted and replayed
bit-for-bit. Randomness comes from a `numpy.random.Generator` held in its state.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from trainyard.searcher._ops import ExitedReason, Operation


class Searcher(ABC):
    """A search method. Subclass it (see `trainyard.searcher.custom`) or use `make_searcher`.

    Call order the platform guarantees: `initial_operations()` once; then, for each trial created by
    a `Create`, `on_trial_created(request_id)`; `on_validation_completed` once per `ValidateAfter`
    that the trial reached; `on_trial_closed` once the trial has exited after a `Close`/`Stop`;
    `on_trial_exited_early` when it ended before that. Every method returns the new operations.
    """

    @abstractmethod
    def initial_operations(self) -> list[Operation]:
        """Operations that start the search (usually `Create` + `ValidateAfter` per trial)."""

    def on_trial_created(self, request_id: int) -> list[Operation]:
        """The platform created the trial for `request_id`."""
        return []

    @abstractmethod
    def on_validation_completed(
        self, request_id: int, metric: float, length: int
    ) -> list[Operation]:
        """Trial `request_id` validated after training `length` units; `metric` may be NaN/inf."""

    @abstractmethod
    def on_trial_closed(self, request_id: int) -> list[Operation]:
        """Trial `request_id` exited after the searcher closed or stopped it."""

    @abstractmethod
    def on_trial_exited_early(self, request_id: int, reason: ExitedReason) -> list[Operation]:
        """Trial `request_id` ended on its own (invalid hyperparameters, failure, user kill)."""

    @abstractmethod
    def progress(self) -> float:
        """Fraction of the search done, in [0, 1]."""

    @abstractmethod
    def snapshot(self) -> dict[str, Any]:
        """JSON-safe state, including the RNG state; `restore` of it continues bit-for-bit."""

    @abstractmethod
    def restore(self, snapshot: dict[str, Any]) -> None:
        """Replace this searcher's state with `snapshot` (from `snapshot()` of the same config)."""
