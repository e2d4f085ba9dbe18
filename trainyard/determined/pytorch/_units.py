"""`Batch(n)`, `Epoch(n)`: lengths and periods for `Trainer.fit`."""

from __future__ import annotations

from dataclasses import dataclass

from trainyard.core import CoreUsageError


@dataclass(frozen=True)
class TrainUnit:
    """A number of batches or epochs (`Batch(100)`, `Epoch(2)`)."""

    value: int

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, int) or self.value < 1:
            raise CoreUsageError(
                f"{type(self).__name__}({self.value!r}): the value must be a positive integer"
            )

    def to_batches(self, batches_per_epoch: int) -> int:
        raise NotImplementedError


class Batch(TrainUnit):
    """`value` batches (optimizer steps of one global batch each)."""

    def to_batches(self, batches_per_epoch: int) -> int:
        return self.value


class Epoch(TrainUnit):
    """`value` passes over the training data."""

    def to_batches(self, batches_per_epoch: int) -> int:
        return self.value * batches_per_epoch


def as_unit(value: TrainUnit | int | None, what: str) -> TrainUnit | None:
    """A `TrainUnit`; a bare int is read as batches (as Determined does)."""
    if value is None or isinstance(value, TrainUnit):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Batch(value)
    raise CoreUsageError(f"{what} is {value!r}; give pytorch.Batch(n) or pytorch.Epoch(n)")
