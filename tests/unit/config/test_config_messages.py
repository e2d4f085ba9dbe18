"""Error messages: one line per problem, a dotted path and a rule, every problem at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from trainyard.config import ExperimentConfig, Length, load_experiment_config
from trainyard.config._errors import describe_error, describe_validation_error, format_path
from trainyard.errors import ConfigError, TrainyardError

Errors = Callable[[Any], list[str]]

BROKEN = """\
name: broken
entrypoint: model_def:MNistTrial
bind_mounts: []
hyperparameters:
  lr:
    type: log
    minval: -1
    maxval: -4
  dropout:
    type: double
    minval: 0.2
    maxval: 0.8
    count: 0
  optimizer:
    type: categorical
    vals: []
resources:
  slots_per_trial: 0
  priority: 120
searcher:
  name: adaptive_asha
  metric: validation_loss
  max_trials: 16
  divisor: 1
  max_lenght:
    batches: 937
max_restart: 3
"""


def test_every_problem_is_listed_at_once(errors: Errors) -> None:
    assert errors(BROKEN) == [
        "resources.slots_per_trial: must be >= 1, got 0",
        "resources.priority: must be <= 99, got 120",
        "hyperparameters.lr.minval: must be < maxval (-4), got -1",
        "hyperparameters.dropout.count: must be >= 1, got 0",
        "hyperparameters.optimizer.vals: must not be empty, got []",
        "searcher.divisor: must be > 1, got 1",
        "searcher.max_lenght: unknown field (did you mean 'max_length'?)",
        "searcher: needs max_length (e.g. {batches: 1000}) or time_metric with max_time",
        "max_restart: unknown field (did you mean 'max_restarts'?)",
    ]


def test_the_error_is_a_config_error_with_no_pydantic_text() -> None:
    with pytest.raises(ConfigError) as caught:
        load_experiment_config(BROKEN)
    assert isinstance(caught.value, TrainyardError)
    text = str(caught.value)
    assert "pydantic" not in text
    assert "validation error" not in text
    assert "Input should" not in text
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_each_problem_is_reported_once(errors: Errors) -> None:
    lines = errors(BROKEN)
    assert len(lines) == len(set(lines))


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        ((), "config"),
        (("searcher",), "searcher"),
        (("searcher", "bracket_rungs", 0), "searcher.bracket_rungs[0]"),
        (("hyperparameters", "a.b"), "hyperparameters['a.b']"),
        (
            ("environment", "environment_variables", "MY-VAR_1"),
            "environment.environment_variables.MY-VAR_1",
        ),
        (("labels", 2), "labels[2]"),
    ],
)
def test_paths(loc: tuple[str | int, ...], path: str) -> None:
    assert format_path(loc) == path


def test_python_construction_raises_pydantic_errors_that_translate_the_same() -> None:
    with pytest.raises(ValidationError) as caught:
        ExperimentConfig(  # type: ignore[arg-type]
            entrypoint="", searcher={"name": "adaptive_asha", "metric": "m", "max_trials": 1}
        )
    assert describe_validation_error(caught.value) == [
        "entrypoint: must not be empty, got ''",
        "searcher: needs max_length (e.g. {batches: 1000}) or time_metric with max_time",
    ]


def test_unknown_error_types_keep_pydantics_sentence_on_one_line() -> None:
    err: Any = {"type": "something_new", "loc": ("a", 1), "msg": "Input is odd", "input": 3}
    assert describe_error(err) == "a[1]: input is odd, got 3"


def test_unknown_fields_of_the_long_length_form() -> None:
    with pytest.raises(ValidationError) as caught:
        Length.model_validate({"unit": "batches", "value": 10, "extra": 1})
    assert describe_validation_error(caught.value) == ["extra: unknown field"]
