"""The experiment config as the Core API sees it (trainyard.config, imported lazily)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from trainyard.core._errors import CoreUsageError

_UNITS = ("batches", "records", "epochs")


def load_config(source: Any) -> Any:
    """An `ExperimentConfig` from a model, path, YAML text or dict; None → `TRAINYARD_CONFIG`.

    Returns None when there is no config at all (local mode then needs explicit hparams and a
    `TRAINYARD_LOCAL_LENGTH` for searcher operations). Invalid configs raise `ConfigError`.
    """
    if source is None:
        env = os.environ.get("TRAINYARD_CONFIG")
        if not env:
            return None
        if not Path(env).is_file():
            raise CoreUsageError(f"TRAINYARD_CONFIG={env} is not a file; point it at a YAML config")
        source = Path(env)
    from trainyard.config import ExperimentConfig, load_experiment_config

    if isinstance(source, ExperimentConfig):
        return source
    if isinstance(source, str) and "\n" not in source and Path(source).is_file():
        # The user's own process: a one-line string naming a file of theirs is that file.
        source = Path(source)
    return load_experiment_config(source)


def parse_config(raw: dict[str, Any]) -> Any:
    """The master's config JSON as an `ExperimentConfig` (the dict itself if it does not parse)."""
    from trainyard.config import load_experiment_config
    from trainyard.errors import ConfigError

    try:
        return load_experiment_config(raw)
    except ConfigError:
        return raw


def default_hparams(config: Any) -> dict[str, Any]:
    """One point of the config's space: consts, first categorical values, lower bounds.

    Nested groups stay nested. Log hyperparameters give `base ** minval`.
    """
    if config is None:
        return {}
    from trainyard.config import hyperparameter_leaves, unflatten_hparams

    flat: dict[str, Any] = {}
    for leaf in hyperparameter_leaves(config.hyperparameters):
        flat[leaf.path] = _first_value(leaf.spec)
    return unflatten_hparams(flat)


def _first_value(spec: Any) -> Any:
    kind = getattr(spec, "type", None)
    if kind == "const":
        return spec.val
    if kind == "categorical":
        return spec.vals[0]
    if kind == "log":
        return spec.base**spec.minval
    return spec.minval


def searcher_length(config: Any) -> int | None:
    """How far the searcher trains this trial (`searcher.max_length.value` and the like)."""
    if config is None or isinstance(config, dict):
        return None
    from trainyard.config import searcher_max_length

    length: int | None = searcher_max_length(config)
    return length


def length_unit(config: Any) -> str | None:
    """`batches`, `records` or `epochs` for the searcher's lengths; None if unknown/time-based."""
    if config is None or isinstance(config, dict):
        return None
    from trainyard.config import searcher_length_unit

    unit = searcher_length_unit(config)
    return unit if unit in _UNITS else None


def experiment_name(config: Any) -> str:
    """The config's name (for the default local run directory), or `trial`."""
    name = getattr(config, "name", None)
    return str(name) if name else "trial"
