"""`ExperimentConfig`: the whole experiment config, and accessors other packages rely on."""

from __future__ import annotations

import shlex
from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr, WrapValidator

from trainyard.config._hyperparameters import (
    HyperparameterNode,
    grid_count_problems,
    validate_hyperparameter_tree,
)
from trainyard.config._length import Length
from trainyard.config._problems import Problem, Section
from trainyard.config._searcher import (
    CustomSearcherConfig,
    GridSearcherConfig,
    PBTSearcherConfig,
    SearcherConfig,
    validate_searcher,
)
from trainyard.config._sections import (
    CheckpointStorageConfig,
    EnvironmentConfig,
    ReproducibilityConfig,
    ResourcesConfig,
)

DEFAULT_EXPERIMENT_NAME = "experiment"
_PERIODS = ("min_validation_period", "min_checkpoint_period")


class ExperimentConfig(Section):
    """A validated experiment config. Build it with `load_experiment_config` (YAML, path or dict).

    `warnings` lists the Determined fields that were accepted but ignored, one line each.
    """

    name: str = Field(default=DEFAULT_EXPERIMENT_NAME, min_length=1)
    """Absent: the first line of `description`, else "experiment"."""
    description: str | None = None
    labels: list[str] = Field(default_factory=list)
    entrypoint: str = Field(min_length=1)
    """`"package.module:TrialClass"` or a shell command such as `"python3 train.py"`."""
    data: dict[str, Any] = Field(default_factory=dict)
    environment: EnvironmentConfig = Field(default_factory=EnvironmentConfig)
    max_restarts: int = Field(default=5, ge=0)
    reproducibility: ReproducibilityConfig = Field(default_factory=ReproducibilityConfig)
    records_per_epoch: int | None = Field(default=None, ge=1)
    min_validation_period: Length | None = None
    min_checkpoint_period: Length | None = None
    checkpoint_policy: Literal["best", "all", "none"] = "best"
    checkpoint_storage: CheckpointStorageConfig = Field(default_factory=CheckpointStorageConfig)
    resources: ResourcesConfig = Field(default_factory=ResourcesConfig)
    hyperparameters: Annotated[
        dict[str, HyperparameterNode], WrapValidator(validate_hyperparameter_tree)
    ] = Field(default_factory=dict)
    searcher: Annotated[SearcherConfig, WrapValidator(validate_searcher)]

    _warnings: list[str] = PrivateAttr(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        """Lines such as `bind_mounts: not supported, ignored`; empty when nothing was ignored."""
        return self._warnings

    def __eq__(self, other: object) -> bool:
        """Equal when every field is equal; `warnings` (how the input was spelled) do not count."""
        if not isinstance(other, ExperimentConfig):
            return NotImplemented
        return self.__dict__ == other.__dict__

    @property
    def length_unit(self) -> str | None:
        """Same as `searcher_length_unit(self)`."""
        return searcher_length_unit(self)

    @classmethod
    def _prepare(cls, data: Any) -> tuple[Any, list[Problem]]:
        if not isinstance(data, dict):
            return data, []
        data = dict(data)
        if "name" not in data:
            description = data.get("description")
            if isinstance(description, str) and description.strip():
                data["name"] = description.strip().splitlines()[0]
        entrypoint = data.get("entrypoint")
        if isinstance(entrypoint, list) and all(isinstance(part, str) for part in entrypoint):
            data["entrypoint"] = shlex.join(entrypoint)
        if data.get("records_per_epoch") == 0:
            data.pop("records_per_epoch")  # Determined's "not set"
        for period in _PERIODS:
            if _is_zero_length(data.get(period)):
                data.pop(period)  # Determined's default {batches: 0} means "no minimum"
        return data, _grid_problems(data)


def _is_zero_length(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and list(value.values()) == [0]


def _grid_problems(data: dict[str, Any]) -> list[Problem]:
    searcher = data.get("searcher")
    is_grid = isinstance(searcher, GridSearcherConfig) or (
        isinstance(searcher, dict) and searcher.get("name") == "grid"
    )
    if not is_grid:
        return []
    problems = grid_count_problems(data.get("hyperparameters"))
    return [Problem(("hyperparameters", *p.loc), p.message) for p in problems]


def searcher_length_unit(config: ExperimentConfig) -> str | None:
    """The unit of every length the searcher asks for (`ValidateAfter.length`).

    `"batches"`, `"records"` or `"epochs"` for `max_length` (PBT: `length_per_round`); the metric
    name for `time_metric` searches; None for a custom searcher that set neither.
    """
    searcher = config.searcher
    if isinstance(searcher, PBTSearcherConfig):
        return searcher.length_per_round.unit
    if searcher.max_length is not None:
        return searcher.max_length.unit
    return searcher.time_metric


def searcher_max_length(config: ExperimentConfig) -> int | None:
    """How far the searcher trains a trial at most, in `searcher_length_unit(config)`.

    `max_length.value`, or `max_time`; for PBT `num_rounds * length_per_round.value`; None for a
    custom, single, grid or random searcher that set neither (the training script decides).
    """
    searcher = config.searcher
    if isinstance(searcher, PBTSearcherConfig):
        return searcher.num_rounds * searcher.length_per_round.value
    if searcher.max_length is not None:
        return searcher.max_length.value
    if isinstance(searcher, CustomSearcherConfig) and searcher.max_time is None:
        return None
    return searcher.max_time
