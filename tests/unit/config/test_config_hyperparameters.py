"""Hyperparameter spaces: every type, nesting, constants written bare, and every rule's message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from trainyard.config import (
    CategoricalHyperparameter,
    ConstHyperparameter,
    DoubleHyperparameter,
    HyperparameterLeaf,
    IntHyperparameter,
    LogHyperparameter,
    hyperparameter_leaves,
    load_experiment_config,
)

Errors = Callable[[Any], list[str]]
With = Callable[..., dict[str, Any]]


def hparams(config_with: With, space: Any) -> Any:
    return load_experiment_config(config_with(hyperparameters=space)).hyperparameters


def test_every_type(config_with: With) -> None:
    space = {
        "c": {"type": "const", "val": {"any": ["yaml", 1]}},
        "i": {"type": "int", "minval": 1, "maxval": 8, "count": 3},
        "d": {"type": "double", "minval": 0.1, "maxval": 1},
        "l": {"type": "log", "minval": -5, "maxval": -1, "base": 2},
        "k": {"type": "categorical", "vals": ["sgd", 0.5, None, [1, 2]]},
    }
    assert hparams(config_with, space) == {
        "c": ConstHyperparameter(val={"any": ["yaml", 1]}),
        "i": IntHyperparameter(minval=1, maxval=8, count=3),
        "d": DoubleHyperparameter(minval=0.1, maxval=1.0),
        "l": LogHyperparameter(minval=-5.0, maxval=-1.0, base=2.0),
        "k": CategoricalHyperparameter(vals=["sgd", 0.5, None, [1, 2]]),
    }


def test_defaults(config_with: With) -> None:
    got = hparams(config_with, {"l": {"type": "log", "minval": -3, "maxval": -1}})["l"]
    assert (got.base, got.count) == (10.0, None)


@pytest.mark.parametrize("value", [64, 0.5, "adam", True, None, [32, 64], []])
def test_bare_values_are_constants(value: Any, config_with: With) -> None:
    assert hparams(config_with, {"x": value}) == {"x": ConstHyperparameter(val=value)}


def test_int_range_may_be_a_single_value(config_with: With) -> None:
    got = hparams(config_with, {"i": {"type": "int", "minval": 4, "maxval": 4}})
    assert got["i"] == IntHyperparameter(minval=4, maxval=4)


def test_nested_groups_of_any_depth(config_with: With) -> None:
    space = {
        "lr": {"type": "log", "minval": -4, "maxval": -1},
        "model": {
            "width": 128,
            "block": {"depth": {"type": "int", "minval": 2, "maxval": 6}, "act": "relu"},
        },
    }
    got = hparams(config_with, space)
    assert got["model"]["block"]["depth"] == IntHyperparameter(minval=2, maxval=6)
    assert got["model"]["width"] == ConstHyperparameter(val=128)
    assert hyperparameter_leaves(got) == [
        HyperparameterLeaf("lr", LogHyperparameter(minval=-4, maxval=-1)),
        HyperparameterLeaf("model.width", ConstHyperparameter(val=128)),
        HyperparameterLeaf("model.block.depth", IntHyperparameter(minval=2, maxval=6)),
        HyperparameterLeaf("model.block.act", ConstHyperparameter(val="relu")),
    ]


def test_leaves_unpack_as_path_and_spec(config_with: With) -> None:
    leaves = hyperparameter_leaves(hparams(config_with, {"g": {"x": 1}}))
    [(path, spec)] = leaves
    assert (path, spec.type) == ("g.x", "const")


def test_a_null_space_is_empty(config_with: With) -> None:
    assert hparams(config_with, None) == {}


@pytest.mark.parametrize(
    ("space", "lines"),
    [
        (
            {"lr": {"type": "double", "minval": 0.5, "maxval": 0.1}},
            ["hyperparameters.lr.minval: must be < maxval (0.1), got 0.5"],
        ),
        (
            {"lr": {"type": "double", "minval": 0.5, "maxval": 0.5}},
            ["hyperparameters.lr.minval: must be < maxval (0.5), got 0.5"],
        ),
        (
            {"lr": {"type": "log", "minval": -1, "maxval": -3}},
            ["hyperparameters.lr.minval: must be < maxval (-3), got -1"],
        ),
        (
            {"n": {"type": "int", "minval": 9, "maxval": 3}},
            ["hyperparameters.n.minval: must be <= maxval (3), got 9"],
        ),
        (
            {"n": {"type": "int", "minval": 1.5, "maxval": 3}},
            ["hyperparameters.n.minval: must be an integer, got 1.5"],
        ),
        ({"n": {"type": "int", "minval": 1}}, ["hyperparameters.n.maxval: required"]),
        (
            {"n": {"type": "int", "minval": 1, "maxval": 3, "count": 0}},
            ["hyperparameters.n.count: must be >= 1, got 0"],
        ),
        (
            {"d": {"type": "double", "minval": "a", "maxval": 1}},
            ["hyperparameters.d.minval: must be a number, got 'a'"],
        ),
        (
            {"d": {"type": "double", "minval": 0, "maxval": float("inf")}},
            ["hyperparameters.d.maxval: must be a finite number, got inf"],
        ),
        (
            {"l": {"type": "log", "minval": 0, "maxval": 1, "base": 1}},
            ["hyperparameters.l.base: must not be 1"],
        ),
        (
            {"l": {"type": "log", "minval": 0, "maxval": 1, "base": 0}},
            ["hyperparameters.l.base: must be > 0, got 0"],
        ),
        (
            {"k": {"type": "categorical", "vals": []}},
            ["hyperparameters.k.vals: must not be empty, got []"],
        ),
        ({"k": {"type": "categorical"}}, ["hyperparameters.k.vals: required"]),
        (
            {"k": {"type": "categorical", "vals": "ab"}},
            ["hyperparameters.k.vals: must be a list, got 'ab'"],
        ),
        ({"c": {"type": "const"}}, ["hyperparameters.c.val: required"]),
        (
            {"x": {"type": "float", "minval": 0, "maxval": 1}},
            [
                "hyperparameters.x.type: must be one of const, int, double, log, categorical, "
                "got 'float'"
            ],
        ),
        (
            {"x": {"type": "int", "minval": 0, "maxval": 1, "step": 1}},
            ["hyperparameters.x.step: unknown field"],
        ),
        (
            {"x": {"type": "double", "minval": 0, "maxval": 1, "cout": 3}},
            ["hyperparameters.x.cout: unknown field (did you mean 'count'?)"],
        ),
        (
            {"a.b": 1},
            [
                "hyperparameters['a.b']: a hyperparameter name must be a non-empty string "
                "without '.'"
            ],
        ),
        (
            {"g": {"": 1}},
            ["hyperparameters.g['']: a hyperparameter name must be a non-empty string without '.'"],
        ),
        ([1, 2], ["hyperparameters: must be a map of name: hyperparameter, got [1, 2]"]),
    ],
)
def test_errors(space: Any, lines: list[str], config_with: With, errors: Errors) -> None:
    assert errors(config_with(hyperparameters=space)) == lines


def test_every_problem_in_a_nested_tree_at_once(config_with: With, errors: Errors) -> None:
    space = {
        "ok": 1,
        "opt": {
            "lr": {"type": "log", "minval": 0, "maxval": -2, "count": 0},
            "deep": {"mom": {"type": "double", "minval": 1, "maxval": 0}},
        },
        "k": {"type": "categorical", "vals": []},
    }
    assert errors(config_with(hyperparameters=space)) == [
        "hyperparameters.opt.lr.count: must be >= 1, got 0",
        "hyperparameters.opt.lr.minval: must be < maxval (-2), got 0",
        "hyperparameters.opt.deep.mom.minval: must be < maxval (0), got 1",
        "hyperparameters.k.vals: must not be empty, got []",
    ]


class TestGrid:
    def grid(self, config_with: With, space: Any) -> dict[str, Any]:
        return config_with(
            hyperparameters=space,
            searcher={"name": "grid", "metric": "loss", "max_length": {"batches": 10}},
        )

    def test_int_double_and_log_need_a_count(self, config_with: With, errors: Errors) -> None:
        space = {
            "i": {"type": "int", "minval": 1, "maxval": 3},
            "g": {"d": {"type": "double", "minval": 0, "maxval": 1}},
            "l": {"type": "log", "minval": -3, "maxval": -1, "count": None},
            "k": {"type": "categorical", "vals": [1, 2]},
            "c": 5,
        }
        assert errors(self.grid(config_with, space)) == [
            "hyperparameters.i.count: required by the grid searcher",
            "hyperparameters.g.d.count: required by the grid searcher",
            "hyperparameters.l.count: required by the grid searcher",
        ]

    def test_with_counts_it_loads(self, config_with: With) -> None:
        space = {"i": {"type": "int", "minval": 1, "maxval": 3, "count": 3}, "c": 5}
        config = load_experiment_config(self.grid(config_with, space))
        assert config.hyperparameters["i"].count == 3  # type: ignore[union-attr]

    def test_other_searchers_do_not_need_counts(self, config_with: With) -> None:
        space = {"i": {"type": "int", "minval": 1, "maxval": 3}}
        assert load_experiment_config(config_with(hyperparameters=space)).hyperparameters
