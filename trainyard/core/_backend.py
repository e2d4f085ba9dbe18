"""The one small interface behind the Core API contexts: master-backed or local.

Only the chief process holds a `Backend`; other ranks receive the chief's answers through
`DistributedContext.broadcast`. Reporting methods must be cheap (they run on the training hot path).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, Literal

from trainyard.core._info import TrialInfo

MetricGroup = Literal["training", "validation"]


class Backend(ABC):
    """What a trial needs from the platform. Implemented by `MasterBackend` and `LocalBackend`."""

    @abstractmethod
    def trial_info(self) -> TrialInfo:
        """Facts about this trial (called once, at `init`)."""

    @abstractmethod
    def report_metrics(
        self, group: MetricGroup, steps: int, metrics: Mapping[str, float | str]
    ) -> None:
        """Queue one report (values already wire-encoded); must not block on the network."""

    @abstractmethod
    def flush(self) -> None:
        """Deliver every queued report before returning (raises if delivery failed)."""

    @abstractmethod
    def report_progress(self, progress: float) -> None:
        """Fraction of the trial's work done, in [0, 1]."""

    @abstractmethod
    def report_early_exit(self, reason: str, message: str | None = None) -> None:
        """The trial ends before the searcher closed it (`invalid_hp` or `errored`); `message`
        says why in one line (shown on the trial)."""

    @abstractmethod
    def register_checkpoint(
        self,
        uuid: str,
        steps: int,
        metadata: Mapping[str, Any],
        resources: Mapping[str, int],
        sharded: bool,
    ) -> None:
        """Record a checkpoint that is already committed in storage."""

    def experiment_best_validation(self) -> float | None:
        """The experiment's best searcher metric so far; None when unknown (the default)."""
        return None

    @abstractmethod
    def checkpoint_history(self) -> list[str]:
        """Uuids of this trial's registered checkpoints, newest (most steps) first."""

    @abstractmethod
    def should_preempt(self) -> bool:
        """Whether the platform asked this trial to stop (cheap: reads a cached flag)."""

    @abstractmethod
    def searcher_stopped(self) -> bool:
        """Whether the searcher has no more work for this trial (cheap: cached)."""

    @abstractmethod
    def next_operation(self, after_length: int) -> int | None:
        """Block until the searcher asks for a length > `after_length`; None: no more work.

        Returns early with None when preemption is requested while waiting.
        """

    @abstractmethod
    def complete_operation(self, length: int, metric: float | str) -> None:
        """Report the searcher metric for the operation that trained to `length`."""

    @abstractmethod
    def log(self, message: str) -> None:
        """A line for the trial's log (the console; the launcher ships it)."""

    @abstractmethod
    def close(self) -> None:
        """Flush and stop background work; the backend is unusable afterwards."""
