"""Rungs of the halving methods, with exact integer arithmetic for lengths and promotion counts.

The divisor may be a float in the config (`divisor: 2.5`); it is held as an exact fraction so rung
lengths and `floor(n / divisor)` never depend on floating-point logs (ln(1000)/ln(10) < 3).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from trainyard.errors import ConfigError
from trainyard.searcher._common import decode_metric, encode_metric


@dataclass(frozen=True, slots=True)
class Divisor:
    """An exact rational divisor > 1."""

    num: int
    den: int

    @classmethod
    def of(cls, value: float | int) -> Divisor:
        """The exact value of `value`; a ConfigError unless it is a number > 1."""
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 1:
            raise ConfigError(f"searcher.divisor is {value!r}; it must be a number > 1")
        exact = Fraction(value)
        return cls(exact.numerator, exact.denominator)

    def floor_div(self, n: int) -> int:
        """`floor(n / divisor)`."""
        return n * self.den // self.num

    def shrink(self, length: int, times: int) -> int:
        """`floor(length / divisor**times)`."""
        return int(length * self.den**times // self.num**times)


def fitting_rungs(max_length: int, divisor: Divisor) -> int:
    """Most rungs whose lengths `max_length / divisor**k` all stay >= 1 (at least one)."""
    rungs = 1
    while divisor.shrink(max_length, rungs) >= 1:
        rungs += 1
    return rungs


def rung_lengths(max_length: int, divisor: Divisor, num_rungs: int) -> list[int]:
    """Ascending rung lengths; rung i trains to `floor(max_length / divisor**(n-1-i))`.

    `num_rungs` is capped by `fitting_rungs` so no two rungs share a length.
    """
    n = min(num_rungs, fitting_rungs(max_length, divisor))
    return [divisor.shrink(max_length, n - 1 - i) for i in range(n)]


def expected_total_length(lengths: list[int], max_trials: int, divisor: Divisor) -> int:
    """Training a halving search is expected to do: `floor(max_trials / d**k)` trials per rung k."""
    total, previous, count = 0, 0, max_trials
    for length in lengths:
        total += max(1, count) * (length - previous)
        previous, count = length, divisor.floor_div(count)
    return total


@dataclass(slots=True)
class Rung:
    """Results at one rung, sorted by (normalized metric, request id): ties go to the lower id.

    `promoted` holds trials sent on to the next rung, `waiting` those that finished here, were not
    promoted and are not closed yet; `outstanding` counts trials still training towards this rung.
    """

    length: int
    entries: list[tuple[float, int]] = field(default_factory=list)
    promoted: set[int] = field(default_factory=set)
    waiting: dict[int, None] = field(default_factory=dict)
    outstanding: int = 0

    def insert(self, metric: float, request_id: int) -> int:
        """Record a result; returns its rank (0 is best)."""
        key = (metric, request_id)
        index = bisect_left(self.entries, key)
        self.entries.insert(index, key)
        return index

    def rank(self, metric: float, request_id: int) -> int:
        """The rank of a recorded result."""
        return bisect_left(self.entries, (metric, request_id))

    def dump(self) -> dict[str, Any]:
        return {
            "length": self.length,
            "entries": [[encode_metric(m), rid] for m, rid in self.entries],
            "promoted": sorted(self.promoted),
            "waiting": list(self.waiting),
            "outstanding": self.outstanding,
        }

    @classmethod
    def load(cls, data: dict[str, Any]) -> Rung:
        return cls(
            length=int(data["length"]),
            entries=[(decode_metric(m), int(rid)) for m, rid in data["entries"]],
            promoted={int(rid) for rid in data["promoted"]},
            waiting=dict.fromkeys(int(rid) for rid in data["waiting"]),
            outstanding=int(data["outstanding"]),
        )
