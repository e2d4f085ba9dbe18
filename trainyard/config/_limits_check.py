"""`check_limits`: the size rules of `_limits.py` applied to a validated config."""

from __future__ import annotations

import math
from typing import Any

from trainyard.config._errors import format_path
from trainyard.config._experiment import ExperimentConfig
from trainyard.config._hyperparameters import hyperparameter_leaves
from trainyard.config._limits import (
    MAX_DESCRIPTION_CHARS,
    MAX_INT,
    MAX_NAME_CHARS,
    MAX_RUNGS,
    MIN_INT,
)
from trainyard.config._problems import show
from trainyard.errors import ConfigError

__all__ = ["check_limits"]

_MAX_EXACT_INT = 2**53
_FREE_FORM = frozenset({"data"})
"""Top-level sections the platform stores as they are and never computes with."""


def check_limits(config: ExperimentConfig) -> None:
    """Raise `ConfigError` (one line per problem) for a name or description over its limit, an
    integer, anywhere but in `data`, that does not fit a signed 64-bit database column, a
    hyperparameter range no searcher can sample, or `bracket_rungs` past `MAX_RUNGS`."""
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
    if not problems:  # a bound past 64 bits is reported once, not again as not exact
        problems += _hyperparameter_problems(config)
    bracket_rungs = getattr(config.searcher, "bracket_rungs", None) or []
    if len(bracket_rungs) > MAX_RUNGS or any(r > MAX_RUNGS for r in bracket_rungs):
        problems.append(
            f"searcher.bracket_rungs: at most {MAX_RUNGS} brackets of at most {MAX_RUNGS} rungs "
            f"each, got {show(bracket_rungs)}"
        )
    if problems:
        raise ConfigError("\n".join(problems))


def _hyperparameter_problems(config: ExperimentConfig) -> list[str]:
    """Ranges a searcher could not sample: int bounds past 2^53 (not exact as floats), a log
    range whose `base ** value` is not a finite float."""
    problems = []
    for leaf in hyperparameter_leaves(config.hyperparameters):
        spec: Any = leaf.spec
        where = f"hyperparameters.{leaf.path}"
        if spec.type == "int":
            # Searchers compute with hyperparameter bounds as floats: past 2^53 they round.
            for bound in ("minval", "maxval"):
                value = getattr(spec, bound)
                if abs(value) > _MAX_EXACT_INT:
                    problems.append(
                        f"{where}.{bound}: must be between -2^53 and 2^53 for an int "
                        f"hyperparameter, got {show(value)}"
                    )
        elif spec.type == "log":
            for bound in ("minval", "maxval"):
                value = getattr(spec, bound)
                try:
                    finite = math.isfinite(math.pow(spec.base, value))
                except (OverflowError, ValueError):
                    finite = False
                if not finite:
                    problems.append(
                        f"{where}.{bound}: base ** {bound} ({show(spec.base)} ** {show(value)}) is "
                        "not a finite number; lower it"
                    )
    return problems


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
