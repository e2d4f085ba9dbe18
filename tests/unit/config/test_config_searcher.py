"""Searcher configs: every method's fields and defaults, the length rule, and their messages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from trainyard.config import (
    AdaptiveASHASearcherConfig,
    AsyncHalvingSearcherConfig,
    CustomSearcherConfig,
    GridSearcherConfig,
    Length,
    PBTExploreFunction,
    PBTReplaceFunction,
    PBTSearcherConfig,
    RandomSearcherConfig,
    SingleSearcherConfig,
    SyncHalvingSearcherConfig,
    load_experiment_config,
    searcher_length_unit,
    searcher_max_length,
)

Errors = Callable[[Any], list[str]]
With = Callable[..., dict[str, Any]]

LEN = {"max_length": {"batches": 1000}}
PBT = {
    "name": "pbt",
    "metric": "loss",
    "population_size": 8,
    "num_rounds": 5,
    "length_per_round": {"batches": 200},
    "replace_function": {"truncate_fraction": 0.25},
    "explore_function": {"resample_probability": 0.2, "perturb_factor": 0.1},
}


def searcher(config_with: With, **fields: Any) -> Any:
    return load_experiment_config(config_with(searcher=fields)).searcher


def test_single(config_with: With) -> None:
    got = searcher(config_with, name="single", metric="val_loss", **LEN)
    assert got == SingleSearcherConfig(
        metric="val_loss", max_length=Length(unit="batches", value=1000)
    )
    assert (got.smaller_is_better, got.time_metric, got.max_time) == (True, None, None)
    assert (got.source_trial_id, got.source_checkpoint_uuid) == (None, None)


def test_common_fields(config_with: With) -> None:
    got = searcher(
        config_with,
        name="single",
        metric="accuracy",
        smaller_is_better=False,
        source_trial_id=12,
        source_checkpoint_uuid="a1b2",
        **LEN,
    )
    assert (got.smaller_is_better, got.source_trial_id, got.source_checkpoint_uuid) == (
        False,
        12,
        "a1b2",
    )


def test_grid_defaults(config_with: With) -> None:
    got = searcher(config_with, name="grid", metric="m", **LEN)
    assert isinstance(got, GridSearcherConfig)
    assert got.max_concurrent_trials == 16


def test_random(config_with: With) -> None:
    got = searcher(
        config_with, name="random", metric="m", max_trials=50, max_concurrent_trials=0, **LEN
    )
    assert got == RandomSearcherConfig(
        metric="m",
        max_trials=50,
        max_concurrent_trials=0,
        max_length=Length(unit="batches", value=1000),
    )


def test_sync_halving(config_with: With) -> None:
    got = searcher(config_with, name="sync_halving", metric="m", max_trials=9, num_rungs=3, **LEN)
    assert isinstance(got, SyncHalvingSearcherConfig)
    assert (got.num_rungs, got.divisor, got.max_concurrent_trials) == (3, 4.0, 16)


def test_async_halving(config_with: With) -> None:
    got = searcher(
        config_with,
        name="async_halving",
        metric="m",
        max_trials=9,
        num_rungs=3,
        divisor=3,
        stop_once=True,
        **LEN,
    )
    assert isinstance(got, AsyncHalvingSearcherConfig)
    assert (got.divisor, got.stop_once) == (3.0, True)


def test_adaptive_asha_defaults(config_with: With) -> None:
    got = searcher(config_with, name="adaptive_asha", metric="m", max_trials=16, **LEN)
    assert isinstance(got, AdaptiveASHASearcherConfig)
    # aggressive and tpe: Trainyard's defaults (make bench-hpo); Determined's are standard/uniform
    assert (got.max_rungs, got.divisor, got.mode, got.bracket_rungs) == (5, 4.0, "aggressive", None)
    assert (got.max_concurrent_trials, got.stop_once, got.sampler) == (16, False, "tpe")


def test_adaptive_asha_every_field(config_with: With) -> None:
    got = searcher(
        config_with,
        name="adaptive_asha",
        metric="m",
        max_trials=16,
        max_rungs=3,
        divisor=2.5,
        mode="aggressive",
        bracket_rungs=[3, 2],
        max_concurrent_trials=4,
        stop_once=True,
        **LEN,
    )
    assert (got.max_rungs, got.divisor, got.mode, got.bracket_rungs) == (
        3,
        2.5,
        "aggressive",
        [3, 2],
    )
    assert (got.max_concurrent_trials, got.stop_once) == (4, True)


def test_adaptive_asha_empty_bracket_rungs_means_derived_from_mode(config_with: With) -> None:
    got = searcher(
        config_with, name="adaptive_asha", metric="m", max_trials=4, bracket_rungs=[], **LEN
    )
    assert got.bracket_rungs is None


def test_pbt(config_with: With) -> None:
    got = searcher(config_with, **PBT)
    assert got == PBTSearcherConfig(
        metric="loss",
        population_size=8,
        num_rounds=5,
        length_per_round=Length(unit="batches", value=200),
        replace_function=PBTReplaceFunction(truncate_fraction=0.25),
        explore_function=PBTExploreFunction(resample_probability=0.2, perturb_factor=0.1),
    )


def test_custom_needs_no_length(config_with: With) -> None:
    got = searcher(
        config_with, name="custom", metric="m", searcher_class="my.pkg:Search", options={"k": [1]}
    )
    assert got == CustomSearcherConfig(
        metric="m", searcher_class="my.pkg:Search", options={"k": [1]}
    )


def test_time_metric_instead_of_max_length(config_with: With) -> None:
    got = searcher(
        config_with,
        name="adaptive_asha",
        metric="m",
        max_trials=4,
        time_metric="batches",
        max_time=2000,
    )
    assert (got.max_length, got.time_metric, got.max_time) == (None, "batches", 2000)


class TestLengthHelpers:
    @pytest.mark.parametrize(
        ("fields", "unit", "length"),
        [
            ({"name": "single", "metric": "m", "max_length": {"epochs": 3}}, "epochs", 3),
            ({"name": "single", "metric": "m", "max_length": {"records": 9}}, "records", 9),
            (
                {
                    "name": "random",
                    "metric": "m",
                    "max_trials": 2,
                    "time_metric": "steps",
                    "max_time": 70,
                },
                "steps",
                70,
            ),
            (PBT, "batches", 1000),
            ({"name": "custom", "metric": "m", "searcher_class": "a:B"}, None, None),
            (
                {
                    "name": "custom",
                    "metric": "m",
                    "searcher_class": "a:B",
                    "max_length": {"batches": 5},
                },
                "batches",
                5,
            ),
        ],
    )
    def test_unit_and_max_length(
        self, fields: dict[str, Any], unit: str | None, length: int | None, config_with: With
    ) -> None:
        config = load_experiment_config(config_with(searcher=fields))
        assert searcher_length_unit(config) == config.length_unit == unit
        assert searcher_max_length(config) == length


@pytest.mark.parametrize(
    ("fields", "lines"),
    [
        (
            {"name": "adaptive_asha", "max_trials": 1},
            [
                "searcher.metric: required",
                "searcher: needs max_length (e.g. {batches: 1000}) or time_metric with max_time",
            ],
        ),
        ({"name": "single", "metric": "", **LEN}, ["searcher.metric: must not be empty, got ''"]),
        (
            {"metric": "m"},
            [
                "searcher.name: required (one of single, grid, random, pbt, "
                "sync_halving, async_halving, adaptive_asha, custom)"
            ],
        ),
        (
            {"name": "bayesian", "metric": "m"},
            [
                "searcher.name: must be one of single, grid, random, pbt, sync_halving, "
                "async_halving, "
                "adaptive_asha, custom, got 'bayesian'"
            ],
        ),
        (
            {"name": "sync_halving", "metric": "m", "max_trials": 4, "num_rungs": 2},
            ["searcher: needs max_length (e.g. {batches: 1000}) or time_metric with max_time"],
        ),
        (
            {"name": "single", "metric": "m", "time_metric": "batches", **LEN},
            ["searcher.max_length: give either max_length or time_metric with max_time, not both"],
        ),
        (
            {"name": "single", "metric": "m", "time_metric": "batches"},
            ["searcher.max_time: required when time_metric is set"],
        ),
        (
            {"name": "single", "metric": "m", "max_time": 10},
            ["searcher.time_metric: required when max_time is set"],
        ),
        (
            {"name": "single", "metric": "m", "time_metric": "b", "max_time": 0},
            ["searcher.max_time: must be >= 1, got 0"],
        ),
        (
            {"name": "single", "metric": "m", "max_length": {"batches": 0}},
            ["searcher.max_length.batches: must be a positive integer, got 0"],
        ),
        (
            {"name": "single", "metric": "m", "max_length": {"batches": 10, "epochs": 1}},
            [
                "searcher.max_length: must have exactly one of batches, records, epochs, "
                "got batches, "
                "epochs"
            ],
        ),
        (
            {"name": "single", "metric": "m", "max_length": {"batch": 10}},
            ["searcher.max_length.batch: unknown field (did you mean 'batches'?)"],
        ),
        (
            {"name": "single", "metric": "m", "max_length": "1000 batches"},
            ["searcher.max_length: must be a map like {batches: 1000}, got '1000 batches'"],
        ),
        (
            {"name": "single", "metric": "m", "smaller_is_better": "yes", **LEN},
            ["searcher.smaller_is_better: must be true or false, got 'yes'"],
        ),
        (
            {"name": "single", "metric": "m", "source_trial_id": 0, **LEN},
            ["searcher.source_trial_id: must be >= 1, got 0"],
        ),
        ({"name": "random", "metric": "m", **LEN}, ["searcher.max_trials: required"]),
        (
            {"name": "random", "metric": "m", "max_trials": 0, **LEN},
            ["searcher.max_trials: must be >= 1, got 0"],
        ),
        (
            {"name": "grid", "metric": "m", "max_concurrent_trials": -1, **LEN},
            ["searcher.max_concurrent_trials: must be >= 0, got -1"],
        ),
        (
            {"name": "sync_halving", "metric": "m", "max_trials": 4, **LEN},
            ["searcher.num_rungs: required"],
        ),
        (
            {"name": "async_halving", "metric": "m", "max_trials": 4, "num_rungs": 0, **LEN},
            ["searcher.num_rungs: must be >= 1, got 0"],
        ),
        (
            {"name": "adaptive_asha", "metric": "m", "max_trials": 4, "divisor": 1, **LEN},
            ["searcher.divisor: must be > 1, got 1"],
        ),
        (
            {"name": "adaptive_asha", "metric": "m", "max_trials": 4, "max_rungs": 0, **LEN},
            ["searcher.max_rungs: must be >= 1, got 0"],
        ),
        (
            {"name": "adaptive_asha", "metric": "m", "max_trials": 4, "mode": "wild", **LEN},
            ["searcher.mode: must be one of aggressive, standard, conservative, got 'wild'"],
        ),
        (
            {
                "name": "adaptive_asha",
                "metric": "m",
                "max_trials": 4,
                "bracket_rungs": [2, 0],
                **LEN,
            },
            ["searcher.bracket_rungs[1]: must be >= 1, got 0"],
        ),
        (
            {
                "name": "async_halving",
                "metric": "m",
                "max_trials": 4,
                "num_rungs": 2,
                "max_rungs": 3,
                **LEN,
            },
            [
                "searcher.max_rungs: not a field of the async_halving searcher "
                "(only of adaptive_asha)"
            ],
        ),
        (
            {"name": "single", "metric": "m", "max_trials": 3, **LEN},
            [
                "searcher.max_trials: not a field of the single searcher (only of random, "
                "sync_halving, async_halving, adaptive_asha)"
            ],
        ),
        (
            {"name": "single", "metric": "m", "metrc": "x", **LEN},
            ["searcher.metrc: unknown field (did you mean 'metric'?)"],
        ),
        (
            {**PBT, "max_length": {"batches": 5}, "max_time": 3},
            [
                "searcher.max_length: not used by the pbt searcher; set length_per_round",
                "searcher.max_time: not used by the pbt searcher; set length_per_round",
            ],
        ),
        (
            {**PBT, "replace_function": {"truncate_fraction": 0.6}},
            ["searcher.replace_function.truncate_fraction: must be <= 0.5, got 0.6"],
        ),
        (
            {**PBT, "replace_function": {"truncate_fraction": 0}},
            ["searcher.replace_function.truncate_fraction: must be > 0, got 0"],
        ),
        (
            {**PBT, "explore_function": {"resample_probability": 1.5, "perturb_factor": -0.1}},
            [
                "searcher.explore_function.resample_probability: must be <= 1, got 1.5",
                "searcher.explore_function.perturb_factor: must be >= 0, got -0.1",
            ],
        ),
        (
            {**PBT, "population_size": 0, "num_rounds": 0},
            [
                "searcher.population_size: must be >= 1, got 0",
                "searcher.num_rounds: must be >= 1, got 0",
            ],
        ),
        ({**PBT, "length_per_round": None}, ["searcher.length_per_round: required"]),
        (
            {"name": "custom", "metric": "m", "searcher_class": "not a path"},
            [
                "searcher.searcher_class: must look like 'package.module:ClassName', "
                "got 'not a path'"
            ],
        ),
        (
            {"name": "custom", "metric": "m", "searcher_class": "a:B", "time_metric": "t", **LEN},
            ["searcher.max_length: give either max_length or time_metric with max_time, not both"],
        ),
        (["single"], ["searcher: must be a map with a name and a metric, got ['single']"]),
    ],
)
def test_errors(fields: Any, lines: list[str], config_with: With, errors: Errors) -> None:
    assert errors(config_with(searcher=fields)) == lines


def test_field_errors_and_the_length_rule_are_reported_together(
    config_with: With, errors: Errors
) -> None:
    fields = {"name": "adaptive_asha", "metric": "m", "max_trials": 0, "divisor": 0.5}
    assert errors(config_with(searcher=fields)) == [
        "searcher.max_trials: must be >= 1, got 0",
        "searcher.divisor: must be > 1, got 0.5",
        "searcher: needs max_length (e.g. {batches: 1000}) or time_metric with max_time",
    ]
