"""Metric reducers: `Reducer.AVG/SUM/MAX/MIN` and custom `MetricReducer`s (`wrap_reducer`)."""

from __future__ import annotations

import abc
import enum
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np


class Reducer(enum.Enum):
    """How per-batch validation metrics become one value. AVG is the mean over all batches of
    all ranks (Determined's default)."""

    AVG = 1
    SUM = 2
    MAX = 3
    MIN = 4


class MetricReducer(abc.ABC):
    """A custom reducer: `reset()` before a validation, `update(...)` from `evaluate_batch` (your
    own method), `per_slot_reduce()` on every rank, `cross_slot_reduce(per_slot)` once with every
    rank's result. Register it with `context.wrap_reducer(reducer, name=...)`."""

    @abc.abstractmethod
    def reset(self) -> None: ...

    @abc.abstractmethod
    def per_slot_reduce(self) -> Any: ...

    @abc.abstractmethod
    def cross_slot_reduce(self, per_slot_metrics: list[Any]) -> Any: ...


class _FunctionReducer(MetricReducer):
    """`wrap_reducer(fn)`: `fn(list of every value passed to update())`."""

    def __init__(self, fn: Callable[[list[Any]], Any]) -> None:
        self.fn = fn
        self.values: list[Any] = []

    def reset(self) -> None:
        self.values = []

    def update(self, value: Any) -> None:
        self.values.append(value)

    def per_slot_reduce(self) -> Any:
        return self.values

    def cross_slot_reduce(self, per_slot_metrics: list[Any]) -> Any:
        return self.fn([v for slot in per_slot_metrics for v in slot])


def reduce_batches(values: Sequence[float], reducer: Reducer) -> float:
    """One value from every batch's value (all ranks together)."""
    if reducer is Reducer.AVG:
        return float(np.mean(values))
    if reducer is Reducer.SUM:
        return float(np.sum(values))
    if reducer is Reducer.MAX:
        return float(np.max(values))
    return float(np.min(values))


def reduce_metrics(
    per_batch: Sequence[Mapping[str, float]], reducer: Reducer | Mapping[str, Reducer]
) -> dict[str, float]:
    """Reduce a list of per-batch metric dicts with one reducer or one per metric name."""
    names = sorted({name for batch in per_batch for name in batch})
    out: dict[str, float] = {}
    for name in names:
        values = [batch[name] for batch in per_batch if name in batch]
        which = reducer.get(name, Reducer.AVG) if isinstance(reducer, Mapping) else reducer
        out[name] = reduce_batches(values, which)
    return out
