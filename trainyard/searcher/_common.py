"""Small shared helpers: metric normalization, seeded generators, argument checks."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from trainyard.errors import ConfigError

WORST = math.inf
"""The normalized metric of a failed trial or a NaN/inf report: worse than any real value."""

Seed = int | np.random.SeedSequence


def normalize(metric: float, smaller_is_better: bool) -> float:
    """`metric` mapped so that smaller is better; NaN and ±inf become `WORST`."""
    value = float(metric)
    if not math.isfinite(value):
        return WORST
    return value if smaller_is_better else -value


def encode_metric(metric: float) -> float | None:
    """A normalized metric as strict JSON (`WORST` becomes null)."""
    return None if metric == WORST else metric


def decode_metric(value: float | None) -> float:
    """The inverse of `encode_metric`."""
    return WORST if value is None else float(value)


def make_rng(seed: Seed) -> np.random.Generator:
    """A PCG64 generator from an int seed or a spawned `SeedSequence`."""
    return np.random.Generator(np.random.PCG64(seed))


def rng_state(rng: np.random.Generator) -> dict[str, Any]:
    """The generator's full state as JSON-safe data."""
    return dict(rng.bit_generator.state)


def set_rng_state(rng: np.random.Generator, state: dict[str, Any]) -> None:
    """Put `rng` back to a state from `rng_state` (the next draws repeat bit-for-bit)."""
    rng.bit_generator.state = state


def check_positive(name: str, value: object) -> int:
    """`value` if it is an int >= 1, else a ConfigError naming `searcher.<name>`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"searcher.{name} is {value!r}; it must be a positive integer")
    return value


def check_non_negative(name: str, value: object) -> int:
    """`value` if it is an int >= 0, else a ConfigError naming `searcher.<name>`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"searcher.{name} is {value!r}; it must be an integer >= 0")
    return value


def check_fraction(name: str, value: object, *, low: float, high: float) -> float:
    """`value` as a float in `[low, high]`, else a ConfigError naming `searcher.<name>`."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(f"searcher.{name} is {value!r}; it must be in [{low}, {high}]")
    return float(value)
