"""Determined 0.37/0.38 configs load unchanged; Determined-only fields are ignored or refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from trainyard.config import (
    AdaptiveASHASearcherConfig,
    ConstHyperparameter,
    GridSearcherConfig,
    IntHyperparameter,
    Length,
    LogHyperparameter,
    PBTSearcherConfig,
    SingleSearcherConfig,
    load_experiment_config,
)

Errors = Callable[[Any], list[str]]
With = Callable[..., dict[str, Any]]


def test_every_sample_loads(samples: Path) -> None:
    paths = sorted(samples.glob("*/*.yaml"))
    assert len(paths) >= 7
    for path in paths:
        assert load_experiment_config(path).name, path


def test_mnist_const(samples: Path) -> None:
    config = load_experiment_config(samples / "mnist_pytorch" / "const.yaml")
    assert config.name == "mnist_pytorch_const"
    assert config.entrypoint == "model_def:MNistTrial"
    assert config.searcher == SingleSearcherConfig(
        metric="validation_loss",
        smaller_is_better=True,
        max_length=Length(unit="batches", value=937),
    )
    assert config.hyperparameters["learning_rate"] == ConstHyperparameter(val=1.0)
    assert config.max_restarts == 0
    assert config.records_per_epoch == 60000
    assert config.warnings == []


def test_mnist_adaptive(samples: Path) -> None:
    config = load_experiment_config(samples / "mnist_pytorch" / "adaptive.yaml")
    searcher = config.searcher
    assert isinstance(searcher, AdaptiveASHASearcherConfig)
    assert (searcher.max_trials, searcher.mode, searcher.max_rungs, searcher.divisor) == (
        16,
        "aggressive",
        3,
        4.0,
    )
    assert searcher.bracket_rungs is None
    assert config.hyperparameters["learning_rate"] == LogHyperparameter(minval=-4.0, maxval=-0.5)
    assert config.hyperparameters["n_filters2"] == IntHyperparameter(minval=8, maxval=72)
    assert config.min_validation_period is None
    assert config.reproducibility.experiment_seed == 1337
    assert config.checkpoint_storage.host_path == "/mnt/checkpoints"
    assert config.checkpoint_storage.save_experiment_best == 1


def test_mnist_distributed_ignores_container_and_profiling_fields(samples: Path) -> None:
    config = load_experiment_config(samples / "mnist_pytorch" / "distributed.yaml")
    assert config.resources.slots_per_trial == 2
    assert config.resources.priority == 10
    assert config.resources.resource_pool == "default"
    assert config.environment.environment_variables == {
        "NCCL_DEBUG": "INFO",
        "NCCL_SOCKET_IFNAME": "ens,eth,ib",
    }
    assert config.min_checkpoint_period == Length(unit="epochs", value=1)
    assert config.checkpoint_policy == "all"
    assert sorted(config.warnings) == [
        "bind_mounts: not supported, ignored",
        "environment.image: not supported, ignored",
        "optimizations: not supported, ignored",
        "perform_initial_validation: not supported, ignored",
        "profiling: not supported, ignored",
        "resources.shm_size: not supported, ignored",
        "scheduling_unit: not supported, ignored",
    ]


def test_mnist_grid(samples: Path) -> None:
    config = load_experiment_config(samples / "mnist_pytorch" / "grid.yaml")
    assert isinstance(config.searcher, GridSearcherConfig)
    assert config.searcher.smaller_is_better is False
    assert config.hyperparameters["n_filters1"] == IntHyperparameter(minval=16, maxval=64, count=4)


def test_core_api_038_time_metric_workspace_and_s3(samples: Path) -> None:
    config = load_experiment_config(samples / "core_api_0.38" / "adaptive.yaml")
    assert (config.searcher.time_metric, config.searcher.max_time) == ("batches", 2000)
    assert config.length_unit == "batches"
    assert config.hyperparameters["model"]["dropout"] == ConstHyperparameter(val=0.25)  # type: ignore[index]
    storage = config.checkpoint_storage
    assert (storage.type, storage.url, storage.save_trial_best) == (
        "fsspec",
        "s3://my-team-checkpoints/determined/mnist",
        2,
    )
    assert config.environment.environment_variables == {
        "DATA_DIR": "/data/mnist",
        "SEED_OFFSET": "7",
    }
    assert config.warnings == [
        "workspace: not supported, ignored",
        "project: not supported, ignored",
        "checkpoint_storage: type s3 read as type fsspec, url s3://my-team-checkpoints/determined/mnist",
    ]


def test_core_api_038_bare_max_length_and_entrypoint_list(samples: Path) -> None:
    config = load_experiment_config(samples / "core_api_0.38" / "const.yaml")
    assert config.searcher.max_length == Length(unit="batches", value=1000)
    assert config.entrypoint == "python3 train.py --lr 0.01"
    assert config.hyperparameters["layers"] == ConstHyperparameter(val=[128, 64])
    assert config.warnings == [
        "debug: not supported, ignored",
        "searcher.max_length: a bare number is read as {batches: 1000}; write the unit",
    ]


def test_core_api_038_pbt(samples: Path) -> None:
    config = load_experiment_config(samples / "core_api_0.38" / "pbt.yaml")
    assert isinstance(config.searcher, PBTSearcherConfig)
    assert config.searcher.replace_function.truncate_fraction == 0.25
    assert config.length_unit == "batches"


@pytest.mark.parametrize(
    ("changes", "warning"),
    [
        ({"bind_mounts": [{"host_path": "/d", "container_path": "/d"}]}, "bind_mounts"),
        ({"pbs": {"slots_per_node": 4}}, "pbs"),
        ({"slurm": {"gpu_type": "a100"}}, "slurm"),
        ({"profiling": {"enabled": True}}, "profiling"),
        ({"scheduling_unit": 50}, "scheduling_unit"),
        ({"workspace": "w"}, "workspace"),
        ({"project": "p"}, "project"),
        ({"debug": True}, "debug"),
        ({"tensorboard_storage": {"type": "shared_fs"}}, "tensorboard_storage"),
        ({"data_layer": {"type": "shared_fs"}}, "data_layer"),
        ({"security": {"kerberos": {}}}, "security"),
        ({"internal": None}, "internal"),
        ({"integrations": {}}, "integrations"),
        ({"perform_initial_validation": False}, "perform_initial_validation"),
        ({"log_policies": []}, "log_policies"),
        (
            {"optimizations": {"aggregation_frequency": 1, "tensor_fusion_threshold": 64}},
            "optimizations",
        ),
        ({"optimizations": {"mixed_precision": "O0"}}, "optimizations"),
        ({"environment": {"pod_spec": {"spec": {}}}}, "environment.pod_spec"),
        ({"environment": {"image": "img:1"}}, "environment.image"),
        ({"environment": {"force_pull_image": True}}, "environment.force_pull_image"),
        ({"environment": {"registry_auth": {"username": "u"}}}, "environment.registry_auth"),
        ({"environment": {"ports": {"tb": 6006}}}, "environment.ports"),
        ({"environment": {"proxy_ports": []}}, "environment.proxy_ports"),
        ({"environment": {"add_capabilities": ["SYS_ADMIN"]}}, "environment.add_capabilities"),
        ({"resources": {"shm_size": "4G"}}, "resources.shm_size"),
        ({"resources": {"agent_label": "x"}}, "resources.agent_label"),
        ({"resources": {"is_single_node": True}}, "resources.is_single_node"),
        ({"resources": {"native_parallel": False}}, "resources.native_parallel"),
        ({"resources": {"devices": []}}, "resources.devices"),
        ({"resources": {"weight": 1}}, "resources.weight"),
        (
            {"checkpoint_storage": {"host_path": "/c", "propagation": "rprivate"}},
            "checkpoint_storage.propagation",
        ),
    ],
)
def test_harmless_determined_fields_are_ignored_with_a_warning(
    changes: dict[str, Any], warning: str, config_with: With
) -> None:
    config = load_experiment_config(config_with(**changes))
    assert config.warnings == [f"{warning}: not supported, ignored"]


def test_ignored_searcher_fields(minimal: dict[str, Any]) -> None:
    minimal["searcher"].update(unit="batches", train_stragglers=True)
    config = load_experiment_config(minimal)
    assert config.warnings == [  # in the order the fields were written
        "searcher.unit: not supported, ignored",
        "searcher.train_stragglers: not supported, ignored",
    ]


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        (
            {"perform_initial_validation": True},
            "perform_initial_validation: not supported by Trainyard; validate in the trial before "
            "training instead",
        ),
        (
            {"log_policies": [{"pattern": "OOM", "action": {"type": "cancel_retries"}}]},
            "log_policies: not supported by Trainyard; failed trials are retried up to "
            "max_restarts",
        ),
        (
            {"optimizations": {"aggregation_frequency": 4}},
            "optimizations.aggregation_frequency: not supported by Trainyard; accumulate gradients "
            "in the trial",
        ),
        (
            {"optimizations": {"mixed_precision": "O1"}},
            "optimizations.mixed_precision: not supported by Trainyard; use automatic mixed "
            "precision in the trial",
        ),
        (
            {"resources": {"devices": [{"host_path": "/dev/fuse", "container_path": "/dev/fuse"}]}},
            "resources.devices: not supported by Trainyard; trials see the devices of the machine "
            "they run on",
        ),
        (
            {"resources": {"weight": 2}},
            "resources.weight: not supported by Trainyard; use resources.priority",
        ),
        (
            {"resources": {"slots": 2}},
            "resources.slots: not supported by Trainyard; use resources.slots_per_trial",
        ),
        (
            {"resources": {"native_parallel": True}},
            "resources.native_parallel: not supported by Trainyard",
        ),
        (
            {"checkpoint_storage": {"type": "azure", "container": "c"}},
            "checkpoint_storage.type: 'azure' not supported by Trainyard; "
            "use type fsspec with a url, "
            "e.g. az://container/prefix",
        ),
        (
            {"checkpoint_storage": {"type": "s3", "bucket": "b", "secret_key": "x"}},
            "checkpoint_storage.secret_key: not supported by Trainyard; "
            "give credentials through the "
            "environment (e.g. AWS_ACCESS_KEY_ID)",
        ),
        (
            {"checkpoint_storage": {"type": "gcs"}},
            "checkpoint_storage.bucket: required for type gcs",
        ),
    ],
)
def test_determined_fields_that_change_behaviour_are_refused(
    changes: dict[str, Any], line: str, config_with: With, errors: Errors
) -> None:
    assert errors(config_with(**changes)) == [line]


@pytest.mark.parametrize(
    ("field", "hint"),
    [
        ("max_steps", "use max_length, e.g. {batches: 1000}"),
        ("target_trial_steps", "use max_length, e.g. {batches: 1000}"),
        ("step_budget", "use max_length and max_trials"),
        ("budget", "use max_length and max_trials"),
    ],
)
def test_old_searcher_fields_are_refused(
    field: str, hint: str, minimal: dict[str, Any], errors: Errors
) -> None:
    minimal["searcher"][field] = 100
    assert errors(minimal) == [f"searcher.{field}: not supported by Trainyard; {hint}"]


@pytest.mark.parametrize("old", ["adaptive", "adaptive_simple"])
def test_old_adaptive_searchers_point_to_adaptive_asha(
    old: str, config_with: With, errors: Errors
) -> None:
    searcher = {"name": old, "metric": "m", "max_trials": 4, "max_length": {"batches": 9}}
    assert errors(config_with(searcher=searcher)) == [
        f"searcher.name: '{old}' not supported by Trainyard; use adaptive_asha"
    ]


def test_s3_and_gcs_stores_become_fsspec_urls(config_with: With) -> None:
    s3 = load_experiment_config(config_with(checkpoint_storage={"type": "s3", "bucket": "b"}))
    assert s3.checkpoint_storage.url == "s3://b"
    gcs = {"type": "gcs", "bucket": "b", "prefix": "/a/b/", "save_trial_latest": 3}
    config = load_experiment_config(config_with(checkpoint_storage=gcs))
    assert (config.checkpoint_storage.url, config.checkpoint_storage.save_trial_latest) == (
        "gs://b/a/b",
        3,
    )


def test_refusals_come_with_every_other_problem(config_with: With, errors: Errors) -> None:
    raw = config_with(
        perform_initial_validation=True,
        max_restarts=-2,
        searcher={"name": "async_halving", "metric": "m", "max_steps": 5, "max_trials": 2},
    )
    assert errors(raw) == [
        "perform_initial_validation: not supported by Trainyard; validate in the trial before "
        "training instead",
        "searcher.max_steps: not supported by Trainyard; use max_length, e.g. {batches: 1000}",
        "max_restarts: must be >= 0, got -2",
        "searcher.num_rungs: required",
        "searcher: needs max_length (e.g. {batches: 1000}) or time_metric with max_time",
    ]


def test_the_docs_list_every_determined_field_we_ignore_or_refuse() -> None:
    from trainyard.config import _compat

    docs = (Path(__file__).resolve().parents[3] / "docs" / "config.md").read_text()
    tables = [
        _compat._TOP,
        _compat._ENVIRONMENT,
        _compat._RESOURCES,
        _compat._SEARCHER,
        _compat._SHARED_FS,
        _compat._OPTIMIZATIONS,
    ]
    undocumented = sorted(field for table in tables for field in table if f"{field}`" not in docs)
    assert undocumented == []
