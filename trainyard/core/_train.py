"""`TrainContext`: metric, progress and early-exit reporting (chief only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trainyard.core._backend import Backend
from trainyard.core._errors import CoreUsageError
from trainyard.core._wire import encode_metrics

_EXIT_REASONS = ("invalid_hp", "errored")


def _check_steps(steps: Any) -> int:
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise CoreUsageError(f"steps is {steps!r}; it must be a non-negative int (batches trained)")
    return steps


class TrainContext:
    """Report what training did. Calls on non-chief ranks are no-ops (values are not checked).

    Training metrics are queued and sent in batches (cheap on the hot path); validation metrics
    are flushed before `report_validation_metrics` returns. NaN and ±inf are reported as such.

    >>> ctx.train.report_training_metrics(steps=100, metrics={"loss": 0.25})
    """

    def __init__(self, backend: Backend | None) -> None:
        self._backend = backend

    def report_training_metrics(self, steps: int, metrics: Mapping[str, Any]) -> None:
        """Queue the training metrics measured after `steps` batches."""
        if self._backend is not None:
            self._backend.report_metrics("training", _check_steps(steps), encode_metrics(metrics))

    def report_validation_metrics(self, steps: int, metrics: Mapping[str, Any]) -> None:
        """Report validation metrics after `steps` batches; delivered before this returns."""
        if self._backend is not None:
            self._backend.report_metrics("validation", _check_steps(steps), encode_metrics(metrics))
            self._backend.flush()

    def report_progress(self, progress: float) -> None:
        """The fraction of this trial's work done, in [0, 1]."""
        if self._backend is None:
            return
        value = float(progress)
        if not 0.0 <= value <= 1.0:
            raise CoreUsageError(f"progress is {progress!r}; it must be within [0, 1]")
        self._backend.report_progress(value)

    def report_early_exit(self, reason: Any, message: str | None = None) -> None:
        """Tell the searcher this trial ends early: `invalid_hp` or `errored` (or ExitedReason).
        `message` (one line, at most 1000 characters kept) is shown as the trial's error."""
        value = str(getattr(reason, "value", reason))
        if value not in _EXIT_REASONS:
            raise CoreUsageError(f"early exit reason {value!r} must be one of {_EXIT_REASONS}")
        if self._backend is not None:
            line = " ".join(str(message).split())[:1000] if message else None
            self._backend.report_early_exit(value, line)

    def get_experiment_best_validation(self) -> float | None:
        """The best searcher metric any trial of this experiment has reported so far (by
        `searcher.smaller_is_better`), after delivering this trial's queued reports; None
        before the first, on other ranks, and in local mode (one trial: the trainer keeps its
        own best). What `checkpoint_policy: best` compares a new validation with."""
        if self._backend is None:
            return None
        return self._backend.experiment_best_validation()

    def flush(self) -> None:
        """Deliver every queued report now."""
        if self._backend is not None:
            self._backend.flush()
