"""Searcher operations: what a search method asks the platform to do.

These frozen dataclasses form a closed union (`Operation`). Search methods return them; exactly one
place in the master (and one in `simulate`) matches on them and performs the side effects.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Create:
    """Start a new trial with these hyperparameters.

    `checkpoint_from` names another trial's request id whose latest checkpoint the new trial starts
    from (PBT children); None means train from scratch.
    """

    request_id: int
    hparams: dict[str, Any] = field(hash=False)
    checkpoint_from: int | None = None


@dataclass(frozen=True)
class ValidateAfter:
    """Train trial `request_id` until it has trained `length` units in total, then validate.

    `length` is cumulative, in the unit of `max_length` (or of `time_metric` for trial-driven
    searches). The platform answers with `on_validation_completed(request_id, metric, length)`.
    `length` 0 (searches without a length, see `ToCompletionSearch`): the trial has work but no
    length; it trains as long as its script decides and ends by exiting.
    """

    request_id: int
    length: int


@dataclass(frozen=True)
class Stop:
    """Stop trial `request_id` now (it checkpoints at the next batch boundary and exits).

    Used by stopping-style searches; the trial gets no more work and counts as closed.
    """

    request_id: int


@dataclass(frozen=True)
class Close:
    """The searcher has no more work for trial `request_id`; it exits once its current work ends."""

    request_id: int


@dataclass(frozen=True)
class Shutdown:
    """The search is over.

    `failure` is True when it could not complete (e.g. every trial failed).
    """

    failure: bool = False


Operation = Create | ValidateAfter | Stop | Close | Shutdown


class ExitedReason(enum.StrEnum):
    """Why a trial ended before the searcher closed it."""

    INVALID_HP = "invalid_hp"
    """The trial reported its hyperparameters as invalid: replaced, not counted."""
    ERRORED = "errored"
    """The trial failed (after all restarts): counts as the worst metric."""
    USER_CANCELED = "user_canceled"
    """A person killed or canceled the trial: counts as the worst metric."""
