"""Typed answers of the REST API (see docs/rest-api.md). Unknown JSON keys are ignored, so an
older SDK keeps working against a newer master."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Generic, Self, TypeVar

__all__ = [
    "Allocation",
    "Checkpoint",
    "ClusterState",
    "Experiment",
    "LogLine",
    "MasterInfo",
    "MetricPoint",
    "MetricSeries",
    "Page",
    "Pool",
    "QueuedTrial",
    "Trial",
    "User",
    "decode_float",
]

_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def decode_float(value: Any) -> float | None:
    """A JSON number or one of "NaN"/"Infinity"/"-Infinity" as a float; None stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        return _NON_FINITE[value]
    return float(value)


class _Wire:
    """`from_json` building a dataclass from the keys it declares."""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class Experiment(_Wire):
    id: int
    name: str
    state: str
    archived: bool = False
    description: str | None = None
    labels: list[str] = field(default_factory=list)
    owner: str | None = None
    priority: int | None = None
    resource_pool: str = "default"
    searcher_name: str = ""
    searcher_metric: str = ""
    smaller_is_better: bool = True
    progress: float = 0.0
    parent_id: int | None = None
    created_at: float | None = None
    ended_at: float | None = None
    trial_counts: dict[str, int] = field(default_factory=dict)
    best_trial_id: int | None = None
    best_metric: float | str | None = None
    config: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    """In the answer to create: one line per config field ignored or translated."""

    @property
    def is_terminal(self) -> bool:
        """True once the experiment has ended (COMPLETED, CANCELED or ERRORED)."""
        return self.state in ("COMPLETED", "CANCELED", "ERRORED")


@dataclass(frozen=True)
class Trial(_Wire):
    id: int
    experiment_id: int
    state: str
    request_id: int = 0
    hparams: dict[str, Any] = field(default_factory=dict)
    restarts: int = 0
    trained_length: int = 0
    target_length: int | None = None
    progress: float = 0.0
    best_metric: float | str | None = None
    latest_metric: float | str | None = None
    latest_checkpoint: str | None = None
    exit_reason: str | None = None
    error: str | None = None
    rung: int | None = None
    created_at: float | None = None
    started_at: float | None = None
    ended_at: float | None = None


@dataclass(frozen=True)
class Checkpoint(_Wire):
    uuid: str
    trial_id: int
    experiment_id: int
    steps: int
    state: str = "ACTIVE"
    metadata: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, int] = field(default_factory=dict)
    size_bytes: int = 0
    created_at: float | None = None


@dataclass(frozen=True)
class LogLine(_Wire):
    id: int
    trial_id: int
    line: str
    timestamp: float = 0.0
    rank: int | None = None
    stream: str = "stdout"
    allocation_id: str | None = None


@dataclass(frozen=True)
class MetricPoint(_Wire):
    steps: int
    metrics: dict[str, Any]
    timestamp: float = 0.0


@dataclass(frozen=True)
class MetricSeries:
    """One trial's downsampled curve of one metric: `points` is `[(steps, value), ...]`."""

    trial_id: int
    points: list[tuple[int, float | None]]


@dataclass(frozen=True)
class Pool(_Wire):
    name: str
    slot_type: str
    slots: int
    used_slots: int = 0
    slots_detail: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Allocation(_Wire):
    id: str
    trial_id: int
    experiment_id: int
    pool: str = "default"
    slots: list[int] = field(default_factory=list)
    state: str = ""
    priority: int | None = None
    started_at: float | None = None


@dataclass(frozen=True)
class QueuedTrial(_Wire):
    position: int
    trial_id: int
    experiment_id: int
    pool: str = "default"
    slots_needed: int = 1
    priority: int | None = None
    queued_at: float | None = None


@dataclass(frozen=True)
class ClusterState:
    pools: list[Pool]
    allocations: list[Allocation]
    queue: list[QueuedTrial]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClusterState:
        return cls(
            pools=[Pool.from_json(p) for p in data.get("pools", [])],
            allocations=[Allocation.from_json(a) for a in data.get("allocations", [])],
            queue=[QueuedTrial.from_json(q) for q in data.get("queue", [])],
        )


@dataclass(frozen=True)
class User(_Wire):
    username: str
    admin: bool = False


@dataclass(frozen=True)
class MasterInfo(_Wire):
    version: str
    url: str = ""
    db: str = ""
    resource_pools: list[str] = field(default_factory=list)
    started_at: float | None = None


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list route; `total` counts every match, not just these `items`."""

    items: list[T]
    total: int
    limit: int
    offset: int
