"""Top-level fields of an experiment config: defaults, accepted spellings, and their errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from trainyard.config import (
    DEFAULT_EXPERIMENT_NAME,
    DEFAULT_EXPERIMENT_SEED,
    CheckpointStorageConfig,
    EnvironmentConfig,
    ExperimentConfig,
    Length,
    ReproducibilityConfig,
    ResourcesConfig,
    SingleSearcherConfig,
    load_experiment_config,
)

Errors = Callable[[Any], list[str]]
With = Callable[..., dict[str, Any]]


def test_defaults_of_a_minimal_config(minimal: dict[str, Any]) -> None:
    config = load_experiment_config(minimal)
    assert config.name == DEFAULT_EXPERIMENT_NAME == "experiment"
    assert config.description is None
    assert config.labels == []
    assert config.data == {}
    assert config.environment == EnvironmentConfig(environment_variables={})
    assert config.max_restarts == 5
    assert config.reproducibility.experiment_seed == DEFAULT_EXPERIMENT_SEED == 42
    assert config.records_per_epoch is None
    assert config.min_validation_period is None
    assert config.min_checkpoint_period is None
    assert config.checkpoint_policy == "best"
    assert config.checkpoint_storage == CheckpointStorageConfig(
        type="shared_fs", save_experiment_best=0, save_trial_best=1, save_trial_latest=1
    )
    assert config.checkpoint_storage.host_path is None
    assert config.resources == ResourcesConfig(
        slots_per_trial=1, priority=None, resource_pool="default", max_slots=None
    )
    assert config.hyperparameters == {}
    assert config.warnings == []


def test_every_top_level_field_is_read(config_with: With) -> None:
    config = load_experiment_config(
        config_with(
            name="mnist",
            description="digits",
            labels=["a", "b"],
            entrypoint="python3 train.py --fast",
            data={"url": "file:///data", "nested": {"k": [1, 2]}},
            max_restarts=0,
            reproducibility={"experiment_seed": 7},
            records_per_epoch=60000,
            min_validation_period={"batches": 50},
            min_checkpoint_period={"epochs": 1},
            checkpoint_policy="all",
        )
    )
    assert (config.name, config.description, config.labels) == ("mnist", "digits", ["a", "b"])
    assert config.entrypoint == "python3 train.py --fast"
    assert config.data == {"url": "file:///data", "nested": {"k": [1, 2]}}
    assert config.max_restarts == 0
    assert config.reproducibility == ReproducibilityConfig(experiment_seed=7)
    assert config.records_per_epoch == 60000
    assert config.min_validation_period == Length(unit="batches", value=50)
    assert config.min_checkpoint_period == Length(unit="epochs", value=1)
    assert config.checkpoint_policy == "all"


def test_name_defaults_to_the_first_line_of_the_description(config_with: With) -> None:
    config = load_experiment_config(config_with(description="  mnist adaptive\nmore words"))
    assert config.name == "mnist adaptive"


def test_an_entrypoint_list_is_joined_as_a_shell_command(config_with: With) -> None:
    config = load_experiment_config(config_with(entrypoint=["python3", "train.py", "--tag", "a b"]))
    assert config.entrypoint == "python3 train.py --tag 'a b'"


def test_determined_zero_values_mean_not_set(config_with: With) -> None:
    config = load_experiment_config(
        config_with(
            records_per_epoch=0,
            min_validation_period={"batches": 0},
            min_checkpoint_period={"epochs": 0},
        )
    )
    assert config.records_per_epoch is None
    assert config.min_validation_period is None
    assert config.min_checkpoint_period is None


def test_null_means_the_default_as_in_determined(config_with: With) -> None:
    config = load_experiment_config(
        config_with(max_restarts=None, labels=None, resources=None, checkpoint_policy=None)
    )
    assert config.max_restarts == 5
    assert config.labels == []
    assert config.resources == ResourcesConfig()
    assert config.checkpoint_policy == "best"


def test_python_construction_validates_like_yaml() -> None:
    config = ExperimentConfig(
        entrypoint="m:T",
        searcher=SingleSearcherConfig(metric="loss", max_length=Length(unit="batches", value=5)),
        hyperparameters={"lr": 0.1},  # type: ignore[dict-item]  # bare constants too, as in YAML
    )
    assert config.hyperparameters["lr"].val == 0.1  # type: ignore[union-attr]
    assert config == load_experiment_config(
        {
            "entrypoint": "m:T",
            "searcher": {"name": "single", "metric": "loss", "max_length": {"batches": 5}},
            "hyperparameters": {"lr": 0.1},
        }
    )


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        ({"entrypoint": ...}, "entrypoint: required"),
        ({"entrypoint": ""}, "entrypoint: must not be empty, got ''"),
        ({"entrypoint": 3}, "entrypoint: must be a string, got 3"),
        ({"searcher": ...}, "searcher: required"),
        ({"searcher": None}, "searcher: required"),
        ({"name": ""}, "name: must not be empty, got ''"),
        ({"labels": "x"}, "labels: must be a list, got 'x'"),
        ({"labels": ["ok", 5]}, "labels[1]: must be a string, got 5"),
        ({"data": [1]}, "data: must be a map, got [1]"),
        ({"max_restarts": -1}, "max_restarts: must be >= 0, got -1"),
        ({"max_restarts": "3"}, "max_restarts: must be an integer, got '3'"),
        ({"max_restarts": True}, "max_restarts: must be an integer, got true"),
        ({"records_per_epoch": -5}, "records_per_epoch: must be >= 1, got -5"),
        (
            {"checkpoint_policy": "latest"},
            "checkpoint_policy: must be one of best, all, none, got 'latest'",
        ),
        (
            {"reproducibility": {"experiment_seed": -1}},
            "reproducibility.experiment_seed: must be >= 0, got -1",
        ),
        (
            {"reproducibility": {"experiment_seed": 2**31}},
            "reproducibility.experiment_seed: must be <= 2147483647, got 2147483648",
        ),
        (
            {"min_validation_period": {"steps": 5}},
            "min_validation_period.steps: unknown field",
        ),
        (
            {"min_checkpoint_period": 100},
            "min_checkpoint_period: must be a map like {batches: 1000}, got 100",
        ),
        ({"serach": {}}, "serach: unknown field (did you mean 'searcher'?)"),
        ({"xyz": 1}, "xyz: unknown field"),
    ],
)
def test_top_level_errors(
    changes: dict[str, Any], line: str, config_with: With, errors: Errors
) -> None:
    assert errors(config_with(**changes)) == [line]


class TestEnvironment:
    def test_a_list_of_key_value_strings_becomes_a_map(self, config_with: With) -> None:
        env = {"environment_variables": ["A=1", "B=x=y", "EMPTY="]}
        config = load_experiment_config(config_with(environment=env))
        assert config.environment.environment_variables == {"A": "1", "B": "x=y", "EMPTY": ""}

    def test_a_map_keeps_strings_and_writes_scalars_as_text(self, config_with: With) -> None:
        env = {"environment_variables": {"A": "x", "N": 4, "F": 0.5, "T": True, "OFF": False}}
        config = load_experiment_config(config_with(environment=env))
        assert config.environment.environment_variables == {
            "A": "x",
            "N": "4",
            "F": "0.5",
            "T": "true",
            "OFF": "false",
        }

    def test_every_bad_entry_is_reported(self, config_with: With, errors: Errors) -> None:
        env = {"environment_variables": ["OK=1", "NOEQUALS", "=v", 5]}
        assert errors(config_with(environment=env)) == [
            "environment.environment_variables[1]: must be KEY=VALUE, got 'NOEQUALS'",
            "environment.environment_variables[2]: must be KEY=VALUE, got '=v'",
            "environment.environment_variables[3]: must be KEY=VALUE, got 5",
        ]

    def test_bad_map_entries_are_reported(self, config_with: With, errors: Errors) -> None:
        env = {"environment_variables": {"A=B": "1", "L": [1]}}
        assert errors(config_with(environment=env)) == [
            "environment.environment_variables['A=B']: must be a non-empty name without '='",
            "environment.environment_variables.L: must be a string or a number, got [1]",
        ]

    def test_per_device_lists_are_refused(self, config_with: With, errors: Errors) -> None:
        env = {"environment_variables": {"cpu": ["A=1"], "cuda": ["A=2"]}}
        assert errors(config_with(environment=env)) == [
            "environment.environment_variables: per-device lists (cpu/cuda/rocm) are not "
            "supported by Trainyard; give one list of KEY=VALUE or one map"
        ]

    def test_a_scalar_is_not_a_list(self, config_with: With, errors: Errors) -> None:
        env = {"environment_variables": "A=1"}
        assert errors(config_with(environment=env)) == [
            "environment.environment_variables: must be a map, got 'A=1'"
        ]


class TestCheckpointStorage:
    def test_shared_fs(self, config_with: With) -> None:
        storage: dict[str, Any] = {
            "type": "shared_fs",
            "host_path": "/mnt/ckpt",
            "storage_path": "team/a",
            "save_experiment_best": 3,
            "save_trial_best": 0,
            "save_trial_latest": 2,
        }
        got = load_experiment_config(config_with(checkpoint_storage=storage)).checkpoint_storage
        assert got == CheckpointStorageConfig(**storage)

    def test_shared_fs_may_start_at_home(self, config_with: With) -> None:
        storage = {"host_path": "~/ckpt"}
        got = load_experiment_config(config_with(checkpoint_storage=storage)).checkpoint_storage
        assert (got.type, got.host_path) == ("shared_fs", "~/ckpt")

    def test_directory(self, config_with: With) -> None:
        storage = {"type": "directory", "container_path": "/ckpt"}
        got = load_experiment_config(config_with(checkpoint_storage=storage)).checkpoint_storage
        assert (got.type, got.container_path) == ("directory", "/ckpt")

    def test_fsspec_map_or_bare_url(self, config_with: With) -> None:
        as_map = {"type": "fsspec", "url": "s3://bucket/prefix", "save_trial_best": 2}
        got = load_experiment_config(config_with(checkpoint_storage=as_map)).checkpoint_storage
        assert (got.type, got.url, got.save_trial_best) == ("fsspec", "s3://bucket/prefix", 2)
        bare = load_experiment_config(config_with(checkpoint_storage="gs://b/p")).checkpoint_storage
        assert (bare.type, bare.url) == ("fsspec", "gs://b/p")

    @pytest.mark.parametrize(
        ("storage", "lines"),
        [
            (
                "/mnt/ckpt",
                [
                    "checkpoint_storage: must be a map or a URL like s3://bucket/prefix, "
                    "got '/mnt/ckpt'"
                ],
            ),
            (
                {"type": "directory"},
                ["checkpoint_storage.container_path: required for type directory"],
            ),
            ({"type": "fsspec"}, ["checkpoint_storage.url: required for type fsspec"]),
            (
                {"type": "fsspec", "url": "bucket/p"},
                ["checkpoint_storage.url: must be a URL like s3://bucket/prefix, got 'bucket/p'"],
            ),
            (
                {"host_path": "ckpt"},
                ["checkpoint_storage.host_path: must be an absolute path, got 'ckpt'"],
            ),
            (
                {"type": "directory", "container_path": "rel"},
                ["checkpoint_storage.container_path: must be an absolute path, got 'rel'"],
            ),
            (
                {"host_path": "/a", "storage_path": "../up"},
                ["checkpoint_storage.storage_path: must not contain '..'"],
            ),
            (
                {"host_path": "/a", "url": "s3://b"},
                ["checkpoint_storage.url: only for type fsspec"],
            ),
            (
                {"type": "fsspec", "url": "s3://b", "host_path": "/a", "container_path": "/c"},
                [
                    "checkpoint_storage.host_path: only for type shared_fs",
                    "checkpoint_storage.container_path: only for type directory",
                ],
            ),
            (
                {"type": "nfs"},
                ["checkpoint_storage.type: must be one of shared_fs, directory, fsspec, got 'nfs'"],
            ),
            ({"save_trial_best": -1}, ["checkpoint_storage.save_trial_best: must be >= 0, got -1"]),
            (
                {"save_trial_latst": 1},
                [
                    "checkpoint_storage.save_trial_latst: unknown field (did you mean "
                    "'save_trial_latest'?)"
                ],
            ),
        ],
    )
    def test_errors(
        self, storage: Any, lines: list[str], config_with: With, errors: Errors
    ) -> None:
        assert errors(config_with(checkpoint_storage=storage)) == lines


class TestResources:
    def test_every_field(self, config_with: With) -> None:
        resources: dict[str, Any] = {
            "slots_per_trial": 4,
            "priority": 1,
            "resource_pool": "gpu",
            "max_slots": 8,
        }
        config = load_experiment_config(config_with(resources=resources))
        assert config.resources == ResourcesConfig(**resources)

    def test_an_empty_pool_name_is_the_default_pool(self, config_with: With) -> None:
        config = load_experiment_config(config_with(resources={"resource_pool": ""}))
        assert config.resources.resource_pool == "default"

    @pytest.mark.parametrize(
        ("resources", "line"),
        [
            ({"slots_per_trial": 0}, "resources.slots_per_trial: must be >= 1, got 0"),
            ({"slots_per_trial": 1.5}, "resources.slots_per_trial: must be an integer, got 1.5"),
            ({"priority": 0}, "resources.priority: must be >= 1, got 0"),
            ({"priority": 100}, "resources.priority: must be <= 99, got 100"),
            ({"max_slots": 0}, "resources.max_slots: must be >= 1, got 0"),
            ({"resource_pool": 3}, "resources.resource_pool: must be a string, got 3"),
            (
                {"slots_per_trail": 2},
                "resources.slots_per_trail: unknown field (did you mean 'slots_per_trial'?)",
            ),
        ],
    )
    def test_errors(self, resources: Any, line: str, config_with: With, errors: Errors) -> None:
        assert errors(config_with(resources=resources)) == [line]


def test_map_keys_must_be_strings(config_with: With, errors: Errors) -> None:
    assert errors(config_with(data={1: "a", "ok": 2})) == ["data[1]: a key must be a string, got 1"]
