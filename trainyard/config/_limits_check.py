"""`check_limits`: the size rules of `_limits.py` applied to a validated config."""

from __future__ import annotations

from typing import Any

from trainyard.config._errors import format_path
from trainyard.config._experiment import ExperimentConfig
from trainyard.config._limits import MAX_DESCRIPTION_CHARS, MAX_INT, MAX_NAME_CHARS, MIN_INT
from trainyard.config._problems import show
from trainyard.errors import ConfigError

__all__ = ["check_limits"]

_FREE_FORM = frozenset({"data"})
"""Top-level sections the platform stores as they are and never computes with."""


def check_limits(config: ExperimentConfig) -> None:
    """Raise `ConfigError` (one line per problem) for a name or description over its limit or
    an integer, anywhere but in `data`, that does not fit a signed 64-bit database column."""
    problems: list[str] = []
    if len(config.name) > MAX_NAME_CHARS:
        problems.append(f"name: is {len(config.name):,} characters; the limit is {MAX_NAME_CHARS}")
    description = config.description or ""
    if len(description) > MAX_DESCRIPTION_CHARS:
        problems.append(
            f"description: is {len(description):,} characters; the limit is "
            f"{MAX_DESCRIPTION_CHARS:,}"
        )
    dumped = config.model_dump(mode="json", exclude=set(_FREE_FORM))
    _walk(dumped, (), problems)
    if problems:
        raise ConfigError("\n".join(problems))


def _walk(value: Any, loc: tuple[str | int, ...], problems: list[str]) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        if not MIN_INT <= value <= MAX_INT:
            problems.append(
                f"{format_path(loc)}: must be between -2^63 and 2^63-1 (a 64-bit integer), "
                f"got {show(value)}"
            )
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _walk(item, (*loc, str(key)), problems)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _walk(item, (*loc, i), problems)
