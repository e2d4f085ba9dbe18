"""What a simulation needs from an experiment config, in whatever form the caller gave it."""

from __future__ import annotations

import math
from typing import Any

from trainyard.errors import ConfigError


def resolve_config(config: Any) -> Any:
    """Return an `ExperimentConfig`: `config` itself if it already is one, else loaded from it.

    Anything `trainyard.config.load_experiment_config` takes is accepted (a path, YAML text, a
    dict). The import is lazy so this module stays importable on its own.
    """
    searcher = getattr(config, "searcher", None)
    if searcher is not None and hasattr(searcher, "name"):
        return config
    from trainyard.config import load_experiment_config  # type: ignore[attr-defined,unused-ignore]

    return load_experiment_config(config)


def max_length_of(searcher_config: Any) -> int | None:
    """The searcher's `max_length` value (or `max_time` for trial-driven searches), if any."""
    if getattr(searcher_config, "time_metric", None) is not None:
        value = getattr(searcher_config, "max_time", None)
        return int(value) if value is not None else None
    length = getattr(searcher_config, "max_length", None)
    if length is None:
        return None
    return int(getattr(length, "value", length))


def halving_rungs(searcher_config: Any) -> tuple[float, int] | None:
    """`(divisor, most rungs in any bracket)` for halving searches, None for the others."""
    divisor = getattr(searcher_config, "divisor", None)
    if divisor is None:
        return None
    counts = [
        getattr(searcher_config, "num_rungs", None),
        getattr(searcher_config, "max_rungs", None),
        *(getattr(searcher_config, "bracket_rungs", None) or []),
    ]
    rungs = max((int(c) for c in counts if c is not None), default=0)
    return (float(divisor), rungs) if rungs > 0 else None


def rung_ladder(max_length: int, divisor: float, rungs: int) -> list[int]:
    """Candidate rung lengths `max_length / divisor**k`, k < rungs, ascending and deduplicated.

    Both the floor and the rounded value are kept where they differ, so a searcher that rounds
    either way finds its rung boundary among them.
    """
    lengths: set[int] = set()
    for k in range(rungs):
        exact = max_length / divisor**k
        lengths.update({max(1, math.floor(exact)), max(1, round(exact))})
    return sorted(lengths)


def report_lengths(searcher_config: Any) -> list[int] | None:
    """Lengths at which a trial of a trial-driven search reports, or None for searcher-driven ones.

    In a trial-driven search (`time_metric` + `max_time`) the trial trains towards `max_time` and
    the searcher decides from the validations it reports on the way. We report at every rung
    boundary any bracket may use; for a non-halving method, at every 1% of `max_time`.
    """
    if getattr(searcher_config, "time_metric", None) is None:
        return None
    max_time = max_length_of(searcher_config)
    if max_time is None or max_time <= 0:
        raise ConfigError("searcher.max_time: must be a positive integer with searcher.time_metric")
    halving = halving_rungs(searcher_config)
    if halving is not None:
        return rung_ladder(max_time, *halving)
    step = max(1, max_time // 100)
    return [*range(step, max_time, step), max_time]
