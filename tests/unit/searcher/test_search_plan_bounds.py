"""Searches too big to plan or preview are refused in one line, never run forever (issue 11).

A 10^15-trial random search or a 10^18-point grid made `preview` (and the master's create)
run without end. Planning is now arithmetic on the config, to-completion searches are previewed
without simulating, and simulated previews stop at `MAX_PREVIEW_TRIALS`.
"""

from __future__ import annotations

from typing import Any

import pytest

from trainyard.config import (
    MAX_PLANNED_TRIALS,
    MAX_PREVIEW_TRIALS,
    MAX_TRIALS_AT_ONCE,
    load_config_data,
)
from trainyard.errors import ConfigError
from trainyard.searcher import Create, make_searcher, preview_search

LENGTH = {"max_length": {"batches": 10}}


def config(searcher: dict[str, Any], hparams: dict[str, Any] | None = None) -> Any:
    return load_config_data(
        {
            "entrypoint": "a:B",
            "hyperparameters": hparams or {"lr": {"type": "double", "minval": 0, "maxval": 1}},
            "searcher": {"metric": "loss", **LENGTH, **searcher},
        }
    )


def refusal(searcher: dict[str, Any], hparams: dict[str, Any] | None = None) -> str:
    cfg = config(searcher, hparams)
    with pytest.raises(ConfigError) as made:
        make_searcher(cfg)
    with pytest.raises(ConfigError) as previewed:
        preview_search(cfg)
    assert str(made.value) == str(previewed.value)
    (line,) = str(made.value).splitlines()
    return line


def test_a_quadrillion_trial_random_search_is_refused() -> None:
    assert refusal({"name": "random", "max_trials": 10**15}) == (
        "searcher.max_trials: the search plans about 10^15 trials; the limit is "
        f"{MAX_PLANNED_TRIALS:,}: lower searcher.max_trials"
    )


@pytest.mark.parametrize("name", ["async_halving", "adaptive_asha", "sync_halving"])
def test_halving_searches_are_held_to_the_same_plan_limit(name: str) -> None:
    rungs = {"max_rungs": 4} if name == "adaptive_asha" else {"num_rungs": 4}
    line = refusal({"name": name, "max_trials": MAX_PLANNED_TRIALS + 1, **rungs})
    assert line.startswith(f"searcher.max_trials: the search plans {MAX_PLANNED_TRIALS + 1:,}")


def test_a_grid_of_10_to_the_18_points_is_refused_without_being_built() -> None:
    axes = {f"x{i}": {"type": "double", "minval": 0, "maxval": 1, "count": 1000} for i in range(6)}
    assert refusal({"name": "grid"}, axes) == (
        "hyperparameters: the grid has about 10^18 trials; the limit is "
        f"{MAX_PLANNED_TRIALS:,}: lower the grid counts"
    )


def test_one_huge_grid_axis_is_refused_without_being_built() -> None:
    axis = {"x": {"type": "double", "minval": 0, "maxval": 1, "count": 10**18}}
    assert refusal({"name": "grid"}, axis).startswith("hyperparameters: the grid has about 10^18")


def test_pbt_population_times_rounds_is_bounded() -> None:
    pbt = {
        "name": "pbt",
        "population_size": 1000,
        "num_rounds": 1000,
        "length_per_round": {"batches": 1},
        "replace_function": {"truncate_fraction": 0.2},
        "explore_function": {"resample_probability": 0.2, "perturb_factor": 0.2},
    }
    cfg = load_config_data(
        {"entrypoint": "a:B", "hyperparameters": {"lr": 0.1}, "searcher": {"metric": "l", **pbt}}
    )
    with pytest.raises(ConfigError, match=r"searcher\.population_size: the search plans 1,000,000"):
        make_searcher(cfg)


def test_the_largest_random_search_is_previewed_without_simulating() -> None:
    preview = preview_search(config({"name": "random", "max_trials": MAX_PLANNED_TRIALS}))
    assert preview.total_trials == MAX_PLANNED_TRIALS
    assert preview.total_length == MAX_PLANNED_TRIALS * 10
    (bracket,) = preview.brackets
    assert [(r.length, r.trials_reaching, r.trials_stopping) for r in bracket.rungs] == [
        (10, MAX_PLANNED_TRIALS, MAX_PLANNED_TRIALS)
    ]


def test_a_big_grid_within_the_limit_is_previewed_by_its_point_count() -> None:
    axes = {f"x{i}": {"type": "int", "minval": 1, "maxval": 10, "count": 10} for i in range(5)}
    preview = preview_search(config({"name": "grid"}, axes))
    assert preview.total_trials == 100_000
    assert preview.brackets[0].trials == 100_000


def test_a_halving_preview_past_the_simulation_limit_is_refused() -> None:
    cfg = config({"name": "adaptive_asha", "max_trials": MAX_PREVIEW_TRIALS + 1})
    make_searcher(cfg)  # the search itself is allowed; only simulating it is too much
    with pytest.raises(ConfigError) as caught:
        preview_search(cfg)
    assert str(caught.value) == (
        f"searcher.max_trials: preview simulates each of the {MAX_PREVIEW_TRIALS + 1:,} trials "
        f"and stops at {MAX_PREVIEW_TRIALS:,}; lower searcher.max_trials to preview the search"
    )


@pytest.mark.parametrize(
    ("searcher", "at_once"),
    [
        ({"name": "random", "max_trials": 5000, "max_concurrent_trials": 0}, 5000),
        (
            {
                "name": "async_halving",
                "max_trials": 5000,
                "num_rungs": 3,
                "max_concurrent_trials": 2000,
            },
            2000,
        ),
    ],
)
def test_creating_too_many_trials_in_one_step_is_refused_where_asked(
    searcher: dict[str, Any], at_once: int
) -> None:
    # The master creates the first trials in one transaction while the request waits, so it
    # passes its limit; a simulation creates them in memory and has none.
    cfg = config(searcher)
    with pytest.raises(ConfigError) as caught:
        make_searcher(cfg, max_trials_at_once=MAX_TRIALS_AT_ONCE)
    assert str(caught.value) == (
        f"searcher.max_concurrent_trials: the search may create {at_once:,} trials at once; "
        f"this master's limit is {MAX_TRIALS_AT_ONCE:,}: set it (0 means all of them) to at "
        f"most {MAX_TRIALS_AT_ONCE:,}"
    )
    make_searcher(cfg)
    assert preview_search(cfg).total_trials == 5000


@pytest.mark.parametrize(
    "searcher",
    [
        {"name": "random", "max_trials": MAX_TRIALS_AT_ONCE, "max_concurrent_trials": 0},
        {"name": "random", "max_trials": 50_000, "max_concurrent_trials": MAX_TRIALS_AT_ONCE},
    ],
)
def test_up_to_the_step_limit_is_fine(searcher: dict[str, Any]) -> None:
    searcher_ = make_searcher(config(searcher), max_trials_at_once=MAX_TRIALS_AT_ONCE)
    ops = searcher_.initial_operations()
    assert sum(isinstance(op, Create) for op in ops) == MAX_TRIALS_AT_ONCE
