"""`flatten_hparams` / `unflatten_hparams`: dotted keys for nested hyperparameter values."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainyard.config import (
    ConstHyperparameter,
    flatten_hparams,
    load_experiment_config,
    unflatten_hparams,
)


def test_flatten_nested_values() -> None:
    nested = {"lr": 0.1, "optimizer": {"name": "sgd", "momentum": {"beta": 0.9}}, "layers": [1, 2]}
    assert flatten_hparams(nested) == {
        "lr": 0.1,
        "optimizer.name": "sgd",
        "optimizer.momentum.beta": 0.9,
        "layers": [1, 2],
    }


def test_unflatten_is_the_inverse() -> None:
    flat = {"a": 1, "g.x": 2, "g.h.y": 3}
    assert unflatten_hparams(flat) == {"a": 1, "g": {"x": 2, "h": {"y": 3}}}
    assert flatten_hparams(unflatten_hparams(flat)) == flat


def test_an_empty_map_is_kept_as_a_value() -> None:
    nested: dict[str, Any] = {"opts": {}, "g": {"inner": {}}}
    assert flatten_hparams(nested) == {"opts": {}, "g.inner": {}}
    assert unflatten_hparams(flatten_hparams(nested)) == nested


def test_flatten_works_on_a_validated_space(minimal: dict[str, Any]) -> None:
    minimal["hyperparameters"] = {"opt": {"lr": 0.1}}
    config = load_experiment_config(minimal)
    assert flatten_hparams(config.hyperparameters) == {"opt.lr": ConstHyperparameter(val=0.1)}


@pytest.mark.parametrize(
    ("flat", "message"),
    [
        ({"a": 1, "a.b": 2}, "hyperparameter 'a' is both a value and a group"),
        ({"a.b": 2, "a": 1}, "hyperparameter 'a' is both a value and a group"),
        ({"a.b": 1, "a.b.c": 2}, "hyperparameter 'a.b' is both a value and a group"),
        ({"x": {}, "x.y": 1}, "hyperparameter 'x' is both a value and a group"),
    ],
)
def test_unflatten_refuses_a_key_that_is_both_value_and_group(
    flat: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError) as caught:
        unflatten_hparams(flat)
    assert str(caught.value) == message


keys = st.text(alphabet="abcxyz_0", min_size=1, max_size=4)
values = st.one_of(
    st.integers(), st.text(max_size=3), st.none(), st.lists(st.integers(), max_size=2)
)
trees = st.recursive(
    st.dictionaries(keys, values, max_size=3),
    lambda inner: st.dictionaries(keys, st.one_of(values, inner), max_size=3),
    max_leaves=10,
)


@settings(max_examples=100, deadline=None)
@given(trees)
def test_unflatten_of_flatten_is_identity(tree: dict[str, Any]) -> None:
    flat = flatten_hparams(tree)
    assert all(not isinstance(v, dict) or v == {} for v in flat.values())
    assert unflatten_hparams(flat) == tree
