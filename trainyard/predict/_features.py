"""What predictions learn from: history records, and the numeric features made from them.

Everything here is pure: records in, arrays out; no database, no clock. A `RunRecord` is one
allocation of a trial as the master stores it (the `allocations` row joined with its trial and
experiment); `queue_state` rebuilds, from the same records, what the queue looked like at a moment.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Array = np.ndarray[Any, Any]


@dataclass(frozen=True)
class RunRecord:
    """One allocation: who asked, for what, when it queued, started and ended.

    `hparams` are the trial's hyperparameters (nested maps are flattened to dotted names);
    `context` carries further describing values (the experiment's entrypoint or model name,
    the resource pool, ...). `length` is the training length the allocation covered (batches,
    or the searcher's unit), `peak_memory` bytes if known. Times are seconds (any epoch).
    """

    user: str
    experiment_id: int
    slots: int
    queued_at: float
    hparams: Mapping[str, Any] = field(default_factory=dict)
    context: Mapping[str, Any] = field(default_factory=dict)
    length: float | None = None
    started_at: float | None = None
    ended_at: float | None = None
    peak_memory: float | None = None

    @property
    def run_seconds(self) -> float | None:
        """Seconds from start to end, None while unknown."""
        if self.started_at is None or self.ended_at is None:
            return None
        return max(self.ended_at - self.started_at, 0.0)

    @property
    def wait_seconds(self) -> float | None:
        """Seconds queued before the start, None while unknown."""
        if self.started_at is None:
            return None
        return max(self.started_at - self.queued_at, 0.0)


@dataclass(frozen=True)
class QueueState:
    """The queue at one moment, as seen by a new request of `slots` slots from `user`."""

    slots: int
    user: str
    capacity: int
    pending: int
    pending_slots: int
    running: int
    running_slots: int
    user_pending: int
    user_running_slots: int
    oldest_wait: float
    shortest_elapsed: float

    def vector(self) -> list[float]:
        """The state as model features (counts as they are, times as log seconds)."""
        free = max(self.capacity - self.running_slots, 0)
        return [
            float(self.slots),
            float(self.capacity),
            float(self.pending),
            float(self.pending_slots),
            float(self.running),
            float(self.running_slots),
            float(free),
            float(free >= self.slots and self.pending == 0),
            float(self.user_pending),
            float(self.user_running_slots),
            math.log1p(self.oldest_wait),
            math.log1p(self.shortest_elapsed),
        ]


def queue_state(
    records: Iterable[RunRecord], at: float, *, slots: int, user: str, capacity: int
) -> QueueState:
    """The queue at time `at` rebuilt from allocation records (queued before `at` and not yet
    started are pending; started and not yet ended are running)."""
    pending = pending_slots = running = running_slots = user_pending = user_running = 0
    oldest_wait, shortest = 0.0, math.inf
    for r in records:
        if r.queued_at > at:
            continue
        if r.started_at is None or r.started_at > at:
            pending += 1
            pending_slots += r.slots
            user_pending += r.user == user
            oldest_wait = max(oldest_wait, at - r.queued_at)
        elif r.ended_at is None or r.ended_at > at:
            running += 1
            running_slots += r.slots
            user_running += r.slots if r.user == user else 0
            shortest = min(shortest, at - r.started_at)
    return QueueState(
        slots=slots,
        user=user,
        capacity=capacity,
        pending=pending,
        pending_slots=pending_slots,
        running=running,
        running_slots=running_slots,
        user_pending=user_pending,
        user_running_slots=user_running,
        oldest_wait=oldest_wait,
        shortest_elapsed=0.0 if shortest == math.inf else shortest,
    )


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested maps as `{"a.b": value}`."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


class ConfigFeatures:
    """Columns for a trial's configuration, learned from the records it is fitted on.

    Numbers become two columns (the value and its signed log10, so both learning rates and
    widths are on a usable scale), other values one column per seen value (one-hot); the user,
    the slots and the log of the length are always columns. A value never seen at fit time
    simply has no column (it contributes zeros).
    """

    def __init__(self, records: Sequence[RunRecord]) -> None:
        numeric: set[str] = set()
        labels: set[str] = set()
        for r in records:
            for name, value in self._items(r):
                if _is_number(value):
                    numeric.add(name)
                else:
                    labels.add(f"{name}={value!r}")
        self.numeric = sorted(numeric)
        self.labels = sorted(labels)
        self._label_index = {label: i for i, label in enumerate(self.labels)}

    @staticmethod
    def _items(r: RunRecord) -> list[tuple[str, Any]]:
        items = [(f"hp.{k}", v) for k, v in flatten(r.hparams).items()]
        items += [(f"ctx.{k}", v) for k, v in flatten(r.context).items()]
        items.append(("user", r.user))
        return items

    @property
    def width(self) -> int:
        return 2 + 2 * len(self.numeric) + len(self.labels)

    def vector(self, r: RunRecord, *, with_length: bool = True) -> Array:
        """The feature row of `r` (`with_length=False` leaves the length column at 0)."""
        out = np.zeros(self.width)
        out[0] = float(r.slots)
        if with_length and r.length:
            out[1] = math.log10(max(float(r.length), 1e-9))
        values = dict(self._items(r))
        for i, name in enumerate(self.numeric):
            value = values.get(name)
            if value is not None and _is_number(value):
                x = float(value)
                out[2 + 2 * i] = x
                out[3 + 2 * i] = math.copysign(math.log10(1.0 + abs(x) * 1e6), x)
        base = 2 + 2 * len(self.numeric)
        for name, value in values.items():
            if _is_number(value):
                continue
            j = self._label_index.get(f"{name}={value!r}")
            if j is not None:
                out[base + j] = 1.0
        return out


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
