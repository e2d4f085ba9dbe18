"""`config_to_dict` and `to_yaml` write every field; loading their output gives the same config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from trainyard.config import (
    ExperimentConfig,
    config_to_dict,
    load_experiment_config,
    to_yaml,
)


def test_every_sample_round_trips_through_yaml_and_dict(samples: Path) -> None:
    for path in sorted(samples.glob("*/*.yaml")):
        config = load_experiment_config(path)
        assert load_experiment_config(to_yaml(config)) == config, path
        assert load_experiment_config(config_to_dict(config)) == config, path


def test_a_reloaded_config_has_no_warnings(samples: Path) -> None:
    config = load_experiment_config(samples / "mnist_pytorch" / "distributed.yaml")
    assert config.warnings
    assert load_experiment_config(to_yaml(config)).warnings == []


def test_the_dict_is_json_and_spells_lengths_and_hyperparameters_as_yaml_does(
    samples: Path,
) -> None:
    config = load_experiment_config(samples / "mnist_pytorch" / "distributed.yaml")
    data = config_to_dict(config)
    assert json.loads(json.dumps(data)) == data
    assert data["min_validation_period"] == {"batches": 100}
    assert data["searcher"]["max_length"] == {"epochs": 1}
    assert data["hyperparameters"]["dropout1"] == {"type": "const", "val": 0.25}
    assert "warnings" not in data


def test_the_yaml_lists_fields_in_documented_order(minimal: dict[str, Any]) -> None:
    text = to_yaml(load_experiment_config(minimal))
    keys = list(yaml.safe_load(text))
    assert keys == list(ExperimentConfig.model_fields)
    assert keys[:4] == ["name", "description", "labels", "entrypoint"]


# A bounded generator of valid configs, covering every searcher and hyperparameter type.
names = st.text(alphabet="abcdefghij_", min_size=1, max_size=6)
scalars = st.one_of(
    st.integers(-1000, 1000),
    st.floats(-1e6, 1e6, allow_nan=False),
    st.booleans(),
    st.none(),
    st.text(max_size=8),
)
ranges = st.tuples(st.integers(-50, 50), st.integers(0, 50)).map(lambda t: (t[0], t[0] + t[1]))
counts = st.one_of(st.none(), st.integers(1, 5))


@st.composite
def hyperparameter(draw: st.DrawFn) -> Any:
    low, high = draw(ranges)
    return draw(
        st.sampled_from(
            [
                draw(scalars),
                draw(st.lists(scalars, max_size=3)),
                {"type": "const", "val": draw(st.dictionaries(names, scalars, max_size=2))},
                {"type": "int", "minval": low, "maxval": high, "count": draw(counts)},
                {"type": "double", "minval": low, "maxval": high + 0.5, "count": draw(counts)},
                {
                    "type": "log",
                    "minval": low,
                    "maxval": high + 1,
                    "base": 2,
                    "count": draw(counts),
                },
                {"type": "categorical", "vals": draw(st.lists(scalars, min_size=1, max_size=3))},
            ]
        )
    )


spaces = st.recursive(
    st.dictionaries(names, hyperparameter(), max_size=3),
    lambda inner: st.dictionaries(
        names, st.one_of(hyperparameter(), inner), min_size=1, max_size=3
    ),
    max_leaves=8,
)
lengths = st.builds(
    lambda unit, n: {unit: n},
    st.sampled_from(["batches", "records", "epochs"]),
    st.integers(1, 10**6),
)
searchers = st.one_of(
    st.builds(lambda length: {"name": "single", "metric": "loss", "max_length": length}, lengths),
    st.builds(
        lambda n: {
            "name": "random",
            "metric": "acc",
            "smaller_is_better": False,
            "max_trials": n,
            "time_metric": "batches",
            "max_time": 100,
        },
        st.integers(1, 100),
    ),
    st.builds(
        lambda d, n: {
            "name": "async_halving",
            "metric": "m",
            "max_trials": n,
            "num_rungs": 3,
            "divisor": d,
            "max_length": {"batches": 64},
        },
        st.floats(1.01, 10),
        st.integers(1, 100),
    ),
    st.builds(
        lambda mode, rungs: {
            "name": "adaptive_asha",
            "metric": "m",
            "max_trials": 8,
            "mode": mode,
            "bracket_rungs": rungs,
            "max_length": {"epochs": 4},
        },
        st.sampled_from(["aggressive", "standard", "conservative"]),
        st.one_of(st.none(), st.lists(st.integers(1, 5), min_size=1, max_size=3)),
    ),
    st.builds(
        lambda f: {
            "name": "pbt",
            "metric": "m",
            "population_size": 4,
            "num_rounds": 2,
            "length_per_round": {"batches": 10},
            "replace_function": {"truncate_fraction": f},
            "explore_function": {"resample_probability": 0.5, "perturb_factor": f},
        },
        st.floats(0.01, 0.5),
    ),
    st.just(
        {
            "name": "custom",
            "metric": "m",
            "searcher_class": "pkg.mod:Search",
            "options": {"a": [1, "b"]},
        }
    ),
)


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "name": draw(names),
        "description": draw(st.one_of(st.none(), st.text(max_size=20))),
        "labels": draw(st.lists(names, max_size=3)),
        "entrypoint": "model_def:Trial",
        "data": draw(st.dictionaries(names, scalars, max_size=3)),
        "environment": {"environment_variables": draw(st.dictionaries(names, names, max_size=2))},
        "max_restarts": draw(st.integers(0, 10)),
        "reproducibility": {"experiment_seed": draw(st.integers(0, 2**31 - 1))},
        "min_validation_period": draw(st.one_of(st.none(), lengths)),
        "checkpoint_policy": draw(st.sampled_from(["best", "all", "none"])),
        "checkpoint_storage": draw(
            st.sampled_from(
                [
                    {"type": "shared_fs", "host_path": "/ckpt", "storage_path": "x"},
                    {"type": "directory", "container_path": "/c"},
                    "s3://bucket/prefix",
                ]
            )
        ),
        "resources": {
            "slots_per_trial": draw(st.integers(1, 8)),
            "priority": draw(st.one_of(st.none(), st.integers(1, 99))),
        },
        "hyperparameters": draw(spaces),
        "searcher": draw(searchers),
    }


@settings(max_examples=75, deadline=None)
@given(configs())
@example(
    {  # PyYAML writes U+0085 (next line) raw with allow_unicode and reads it back as a space
        "name": "nel",
        "entrypoint": "model_def:Trial",
        "hyperparameters": {"_": {"type": "const", "val": {"_": "\x85"}}},
        "searcher": {"name": "single", "metric": "loss", "max_length": {"batches": 1}},
    }
)
def test_any_valid_config_round_trips(raw: dict[str, Any]) -> None:
    config = load_experiment_config(raw)
    again = load_experiment_config(to_yaml(config))
    assert again == config
    assert config_to_dict(again) == config_to_dict(config)


def test_json_schema_can_be_generated_for_api_docs() -> None:
    schema = ExperimentConfig.model_json_schema()
    assert list(schema["properties"]) == list(ExperimentConfig.model_fields)
    assert "searcher" in schema["required"]
