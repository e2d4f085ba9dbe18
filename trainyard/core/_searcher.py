"""`SearcherContext`: the stream of "train until length L, then report a metric" operations."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from trainyard.core._backend import Backend
from trainyard.core._distributed import DistributedContext
from trainyard.core._errors import CoreUsageError
from trainyard.core._wire import encode_float, to_float


class SearcherOperation:
    """Train until `length` units in total (cumulative), validate, then `report_completed`."""

    def __init__(self, length: int, backend: Backend | None) -> None:
        self.length = length
        self._backend = backend
        self.completed = False

    def __repr__(self) -> str:
        return f"SearcherOperation(length={self.length}, completed={self.completed})"

    def report_completed(self, metric: Any) -> None:
        """Report the searcher metric measured at `length` (NaN/inf allowed), once.

        Required on the chief before the next operation; a no-op on other ranks.
        """
        if self.completed:
            raise CoreUsageError(f"operation length={self.length} was already reported completed")
        value = encode_float(to_float("searcher metric", metric))
        if self._backend is not None:
            self._backend.complete_operation(self.length, value)
        self.completed = True


class SearcherContext:
    """Iterate `operations()` and train to each `op.length`; all ranks get the same operations.

    >>> for op in ctx.searcher.operations():
    ...     train_until(op.length); op.report_completed(validate())

    The loop ends when the searcher has no more work for the trial, or when preemption is
    requested while waiting for work (check `ctx.preempt.should_preempt()` after it).
    """

    def __init__(self, backend: Backend | None, dist: DistributedContext, unit: str | None) -> None:
        self._backend = backend
        self._dist = dist
        self.length_unit = unit

    def operations(self) -> Iterator[SearcherOperation]:
        """Yield operations until there is no more work; each must be completed before the next."""
        done_length = 0
        while True:
            length = self._backend.next_operation(done_length) if self._backend else None
            if self._dist.size > 1:
                length = self._dist.broadcast(length)
            if length is None:
                return
            op = SearcherOperation(length, self._backend)
            yield op
            if self._dist.is_chief and not op.completed:
                raise CoreUsageError(
                    f"operation length={length} was not completed; call "
                    "op.report_completed(metric) before asking for the next operation"
                )
            done_length = length

    def should_stop(self) -> bool:
        """True once the searcher has no more work for this trial (a collective, like preempt)."""
        value = self._backend.searcher_stopped() if self._backend is not None else False
        if self._dist.size > 1:
            value = bool(self._dist.broadcast(value))
        return value
