"""Hyperparameter spaces: sampling stays in range and replays; grids follow the count rules."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from trainyard.config import load_experiment_config
from trainyard.errors import ConfigError
from trainyard.searcher import HParamSpace
from trainyard.searcher._explore import explore

SPACE = {
    "lr": {"type": "log", "minval": -4, "maxval": -1, "base": 10},
    "layers": {"type": "int", "minval": 1, "maxval": 4},
    "dropout": {"type": "double", "minval": 0.1, "maxval": 0.5},
    "optimizer": {
        "name": {"type": "categorical", "vals": ["adam", "sgd"]},
        "momentum": 0.9,
    },
    "tags": ["a", "b"],
}


def test_samples_stay_in_range_with_python_types() -> None:
    space = HParamSpace.of(SPACE)
    rng = np.random.default_rng(0)
    seen_layers = set()
    for _ in range(300):
        hp = space.sample(rng)
        assert 1e-4 <= hp["lr"] <= 1e-1 and type(hp["lr"]) is float
        assert type(hp["layers"]) is int and 1 <= hp["layers"] <= 4
        assert 0.1 <= hp["dropout"] <= 0.5
        assert hp["optimizer"]["name"] in ("adam", "sgd")
        assert hp["optimizer"]["momentum"] == 0.9 and hp["tags"] == ["a", "b"]
        seen_layers.add(hp["layers"])
    assert seen_layers == {1, 2, 3, 4}, "int bounds are inclusive"


def test_same_seed_same_samples_and_log_is_uniform_in_the_exponent() -> None:
    space = HParamSpace.of(SPACE)
    a = [space.sample(np.random.default_rng(7)) for _ in range(3)]
    b = [space.sample(np.random.default_rng(7)) for _ in range(3)]
    assert a == b
    rng = np.random.default_rng(1)
    exponents = [math.log10(space.sample(rng)["lr"]) for _ in range(2000)]
    below = sum(e < -2.5 for e in exponents) / len(exponents)
    assert 0.45 < below < 0.55


def test_grid_from_the_issue_has_nine_points() -> None:
    space = HParamSpace.of(
        {
            "x": {"type": "int", "minval": 0, "maxval": 20, "count": 3},
            "y": {"type": "int", "minval": 0, "maxval": 10, "count": 3},
        }
    )
    points = [space.grid_point(i) for i in range(space.grid_size())]
    assert space.grid_size() == 9
    expected = [{"x": x, "y": y} for x, y in itertools.product([0, 10, 20], [0, 5, 10])]
    assert points == expected


def test_grid_count_rules() -> None:
    space = HParamSpace.of(
        {
            "small": {"type": "int", "minval": 1, "maxval": 3, "count": 10},
            "all": {"type": "int", "minval": 5, "maxval": 7},
            "mid": {"type": "int", "minval": 0, "maxval": 10, "count": 1},
            "d": {"type": "double", "minval": 0.0, "maxval": 1.0, "count": 3},
            "lg": {"type": "log", "minval": -3, "maxval": -1, "count": 3, "base": 10},
            "c": {"type": "categorical", "vals": ["a", "b"]},
            "k": 7,
        }
    )
    axes = {p.keys[0]: p.grid_axis() for p in space.params}
    assert axes["small"] == [1, 2, 3], "count capped at the number of ints, deduplicated"
    assert axes["all"] == [5, 6, 7], "an int without count takes every value"
    assert axes["mid"] == [5]
    assert axes["d"] == [0.0, 0.5, 1.0]
    assert axes["lg"] == pytest.approx([1e-3, 1e-2, 1e-1])
    assert axes["c"] == ["a", "b"] and axes["k"] == [7]
    assert space.grid_size() == 3 * 3 * 1 * 3 * 3 * 2 * 1


def test_int_count_deduplicates_rounded_points() -> None:
    axis = HParamSpace.of({"n": {"type": "int", "minval": 0, "maxval": 4, "count": 4}}).params[0]
    values = axis.grid_axis()
    assert values[0] == 0 and values[-1] == 4
    assert len(values) == len(set(values)) == 4


@pytest.mark.parametrize("kind", ["double", "log"])
def test_grid_needs_count_for_continuous_values(kind: str) -> None:
    space = HParamSpace.of({"opt": {"lr": {"type": kind, "minval": -3, "maxval": -1}}})
    with pytest.raises(ConfigError, match=r"hyperparameters\.opt\.lr: grid search needs `count`"):
        space.grid_size()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"type": "categorical", "vals": []}, "non-empty `vals`"),
        ({"type": "int", "minval": 3, "maxval": 1}, "minval <= maxval"),
        ({"type": "double", "minval": "a", "maxval": 1}, "minval <= maxval"),
        ({"type": "int", "minval": 0, "maxval": 1, "count": 0}, "positive integer"),
    ],
)
def test_bad_specs_name_the_path(spec: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=rf"hyperparameters\.p: .*{message}"):
        HParamSpace.of({"p": spec})


def test_config_models_and_dicts_give_the_same_space() -> None:
    config = load_experiment_config(
        {
            "entrypoint": "model:Trial",
            "searcher": {"name": "single", "metric": "loss", "max_length": {"batches": 10}},
            "hyperparameters": SPACE,
        }
    )
    from_models = HParamSpace.of(config.hyperparameters)
    from_dicts = HParamSpace.of(SPACE)
    assert HParamSpace.of(from_models) is from_models
    assert [p.keys for p in from_models.params] == [p.keys for p in from_dicts.params]
    a = from_models.sample(np.random.default_rng(3))
    assert a == from_dicts.sample(np.random.default_rng(3))
    assert from_models.build(from_models.flat(a)) == a


def test_explore_keeps_values_in_bounds_and_constants_fixed() -> None:
    space = HParamSpace.of(SPACE)
    rng = np.random.default_rng(0)
    parent = space.sample(rng)
    for _ in range(300):
        child = explore(space, parent, rng, resample_probability=0.2, perturb_factor=0.5)
        assert 1e-4 <= child["lr"] <= 1e-1
        assert type(child["layers"]) is int and 1 <= child["layers"] <= 4
        assert 0.1 <= child["dropout"] <= 0.5
        assert child["optimizer"]["momentum"] == 0.9 and child["tags"] == ["a", "b"]
        parent = child


def test_explore_perturbs_by_the_factor_when_not_resampling() -> None:
    space = HParamSpace.of({"x": {"type": "double", "minval": 0.0, "maxval": 10.0}, "c": 1})
    rng = np.random.default_rng(0)
    values = {
        explore(space, {"x": 5.0, "c": 1}, rng, resample_probability=0.0, perturb_factor=0.2)["x"]
        for _ in range(50)
    }
    assert sorted(values) == pytest.approx([4.0, 6.0])
    kept = explore(
        HParamSpace.of({"c": {"type": "categorical", "vals": [1, 2, 3]}}),
        {"c": 2},
        rng,
        resample_probability=0.0,
        perturb_factor=0.2,
    )
    assert kept == {"c": 2}


def test_a_single_grid_point_is_the_middle_of_the_range() -> None:
    space = HParamSpace.of({"d": {"type": "double", "minval": 0.0, "maxval": 1.0, "count": 1}})
    assert space.grid_point(0) == {"d": 0.5} and space.grid_size() == 1


def test_a_wide_int_range_without_count_is_refused_for_grids() -> None:
    space = HParamSpace.of({"seed": {"type": "int", "minval": 0, "maxval": 10**9}})
    with pytest.raises(ConfigError, match=r"hyperparameters\.seed: grid search over all"):
        space.grid_size()
