"""Training lengths and periods, and their conversion to batches.

The trainer counts everything in batches (one batch = one `train_batch` call on every rank, i.e.
`global_batch_size` records). Config lengths may be in batches, records or epochs; an epoch is
`records_per_epoch // global_batch_size` batches (the config's `records_per_epoch`, else the
training dataset's length), because the trainer drops the last incomplete global batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from trainyard.errors import ConfigError, TrainyardError

LengthUnit = Literal["batches", "records", "epochs"]
CheckpointPolicy = Literal["best", "all", "none"]
UNITS: tuple[LengthUnit, ...] = ("batches", "records", "epochs")


@dataclass(frozen=True)
class Length:
    """An amount of training in one unit, e.g. `Length("epochs", 2)`."""

    unit: LengthUnit
    value: int

    @classmethod
    def parse(cls, obj: Any, field: str) -> Length | None:
        """Read a config length: a `Length`-like object (`.unit`, `.value`), `{unit: n}` or None."""
        if obj is None:
            return None
        if isinstance(obj, dict):
            if len(obj) != 1:
                raise ConfigError(f"{field}: expected one of {{batches|records|epochs: n}}")
            ((unit, value),) = obj.items()
        else:
            unit, value = getattr(obj, "unit", None), getattr(obj, "value", None)
        if unit not in UNITS or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{field}: expected one of {{batches|records|epochs: n}} with n >= 0")
        return cls(unit, value)


@dataclass(frozen=True)
class EpochGeometry:
    """How records, batches and epochs relate for one trial."""

    global_batch_size: int
    records_per_epoch: int

    @property
    def batches_per_epoch(self) -> int:
        """Whole global batches in one epoch (at least 1)."""
        return max(1, self.records_per_epoch // self.global_batch_size)

    def to_batches(self, unit: LengthUnit, value: int) -> int:
        """Batches needed to train `value` `unit`s; records round up to whole batches."""
        if unit == "batches":
            return value
        if unit == "records":
            return math.ceil(value / self.global_batch_size)
        return value * self.batches_per_epoch

    def length_to_batches(self, length: Length | None) -> int | None:
        """`to_batches` for an optional `Length`; None stays None (no such period)."""
        return None if length is None else self.to_batches(length.unit, length.value)


@dataclass(frozen=True)
class TrainerSettings:
    """The parts of an experiment config the trainer reads (all optional in local mode)."""

    searcher_metric: str | None = None
    length_unit: LengthUnit = "batches"
    records_per_epoch: int | None = None
    min_validation_period: Length | None = None
    min_checkpoint_period: Length | None = None
    data: dict[str, Any] | None = None
    max_length: Length | None = None
    checkpoint_policy: CheckpointPolicy = "best"
    """Which validations are followed by a checkpoint (Determined's meanings): `best` those
    better than every earlier validation of the experiment, `all` every one, `none` none.
    Whatever the policy, a trial checkpoints at the end of each searcher operation (before the
    searcher hears its result), before it stops for a preemption, and every
    `min_checkpoint_period`."""
    smaller_is_better: bool = True

    def searcher_value(self, metrics: dict[str, float]) -> float:
        """The searcher metric among validation `metrics` (default: `validation_loss`, else the
        first name); `TrainyardError` naming the metrics when it is missing."""
        name = self.searcher_metric
        if name is None:
            name = "validation_loss" if "validation_loss" in metrics else min(metrics, default="")
        if name not in metrics:
            raise TrainyardError(
                f"searcher.metric {name!r} is not among the validation metrics "
                f"{sorted(metrics)}; return it from evaluate_batch"
            )
        return metrics[name]

    @classmethod
    def from_config(cls, config: Any) -> TrainerSettings:
        """Extract settings from an `ExperimentConfig` (or None: every default)."""
        if config is None:
            return cls()
        searcher = getattr(config, "searcher", None)
        max_length = Length.parse(getattr(searcher, "max_length", None), "searcher.max_length")
        per_round = Length.parse(
            getattr(searcher, "length_per_round", None), "searcher.length_per_round"
        )
        unit = (max_length or per_round or Length("batches", 0)).unit
        data = getattr(config, "data", None)
        return cls(
            searcher_metric=getattr(searcher, "metric", None),
            length_unit=unit,
            records_per_epoch=getattr(config, "records_per_epoch", None),
            min_validation_period=Length.parse(
                getattr(config, "min_validation_period", None), "min_validation_period"
            ),
            min_checkpoint_period=Length.parse(
                getattr(config, "min_checkpoint_period", None), "min_checkpoint_period"
            ),
            data=dict(data) if isinstance(data, dict) else None,
            max_length=max_length,
            checkpoint_policy=_policy(getattr(config, "checkpoint_policy", None)),
            smaller_is_better=bool(getattr(searcher, "smaller_is_better", True)),
        )


def _policy(value: Any) -> CheckpointPolicy:
    if value is None:
        return "best"
    if value not in ("best", "all", "none"):
        raise ConfigError(f"checkpoint_policy is {value!r}; it must be 'best', 'all' or 'none'")
    policy: CheckpointPolicy = value
    return policy
