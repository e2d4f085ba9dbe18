"""Shared pieces of the config tests: a minimal valid config and a way to read error lines."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from trainyard.config import load_experiment_config
from trainyard.errors import ConfigError

SAMPLES = Path(__file__).resolve().parents[3] / "examples" / "determined_configs"

MINIMAL: dict[str, Any] = {
    "entrypoint": "model_def:MyTrial",
    "searcher": {"name": "single", "metric": "loss", "max_length": {"batches": 100}},
}


def with_changes(**changes: Any) -> dict[str, Any]:
    """The minimal config with top-level fields replaced (a value of `...` removes the field)."""
    raw = copy.deepcopy(MINIMAL)
    for key, value in changes.items():
        if value is ...:
            raw.pop(key, None)
        else:
            raw[key] = value
    return raw


def error_lines(source: Any) -> list[str]:
    """The lines of the ConfigError that loading `source` must raise."""
    with pytest.raises(ConfigError) as caught:
        load_experiment_config(source)
    return str(caught.value).splitlines()


@pytest.fixture
def minimal() -> dict[str, Any]:
    return copy.deepcopy(MINIMAL)


@pytest.fixture
def errors() -> Callable[[Any], list[str]]:
    return error_lines


@pytest.fixture
def config_with() -> Callable[..., dict[str, Any]]:
    return with_changes


@pytest.fixture
def samples() -> Path:
    return SAMPLES
