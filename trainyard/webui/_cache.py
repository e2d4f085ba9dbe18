"""Results of the UI's costly reads, kept until the experiment's data changes.

`data_version` is one aggregate query over an experiment's trials (a few milliseconds at 10,000
trials) whose answer changes whenever a trial is created, changes state, trains, validates or
restarts. `VersionedCache` keeps one value per key and rebuilds it only when the version moved;
concurrent callers of a missing entry wait for the one build in flight instead of repeating it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trainyard.master.db import Experiment, Trial

__all__ = ["VersionedCache", "data_version"]

T = TypeVar("T")


def data_version(session: Session, experiment_id: int) -> str:
    """A string that changes whenever the experiment's trials or their metrics summaries do."""
    per_state = session.execute(
        select(
            Trial.state,
            func.count(),
            func.sum(Trial.total_batches),
            func.sum(Trial.completed_length),
            func.sum(Trial.restarts),
            func.max(Trial.id),
            func.count(Trial.latest_validation),
            func.sum(Trial.latest_validation),
        )
        .where(Trial.experiment_id == experiment_id)
        .group_by(Trial.state)
        .order_by(Trial.state)
    ).all()
    exp = session.execute(
        select(Experiment.searcher_version, Experiment.best_searcher_metric).where(
            Experiment.id == experiment_id
        )
    ).one_or_none()
    return repr((tuple(exp) if exp else None, [tuple(row) for row in per_state]))


class VersionedCache(Generic[T]):
    """{key: (version, value)} holding at most `capacity` keys (all dropped when full)."""

    def __init__(self, capacity: int = 64) -> None:
        self._capacity = capacity
        self._entries: dict[Hashable, tuple[str, Future[T]]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: str, build: Callable[[], T]) -> T:
        """The value stored under `key` for `version`, built by `build()` when missing or stale.

        An exception from `build` reaches every caller waiting on it and is not cached.
        """
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] == version:
                future = hit[1]
                owner = False
            else:
                if len(self._entries) >= self._capacity:
                    self._entries.clear()
                future = Future()
                self._entries[key] = (version, future)
                owner = True
        if owner:
            try:
                future.set_result(build())
            except BaseException as err:
                with self._lock:
                    if self._entries.get(key, (None, None))[1] is future:
                        del self._entries[key]
                future.set_exception(err)
        return future.result()
