"""single, grid and random without a length (Determined 0.38): the training script decides."""

from __future__ import annotations

import pytest

from trainyard.config import load_experiment_config
from trainyard.errors import ConfigError
from trainyard.searcher import (
    Create,
    ExitedReason,
    GridSearch,
    RandomSearch,
    Shutdown,
    SingleSearch,
    ValidateAfter,
    make_searcher,
    preview_search,
    simulate,
)

SPACE = {"lr": {"type": "double", "minval": 0.0, "maxval": 1.0}}


def _config(searcher: dict[str, object]) -> dict[str, object]:
    return {
        "name": "x",
        "entrypoint": "python3 train.py",
        "searcher": {"metric": "loss", **searcher},
        "hyperparameters": {"n": {"type": "int", "minval": 1, "maxval": 3, "count": 3}},
    }


@pytest.mark.parametrize(
    ("searcher", "cls"),
    [
        ({"name": "single"}, SingleSearch),
        ({"name": "random", "max_trials": 3}, RandomSearch),
        ({"name": "grid"}, GridSearch),
    ],
)
def test_configs_without_a_length_load_and_build(searcher: dict[str, object], cls: type) -> None:
    config = load_experiment_config(_config(searcher))
    built = make_searcher(config)
    assert isinstance(built, cls)
    ops = built.initial_operations()
    lengths = [op.length for op in ops if isinstance(op, ValidateAfter)]
    assert lengths and set(lengths) == {0}, "work without a length: the script decides"


def test_a_trial_that_exits_on_its_own_has_finished_and_the_search_succeeds() -> None:
    s = RandomSearch(SPACE, max_length=None, max_trials=3, max_concurrent_trials=2)
    ops = s.initial_operations()
    assert [op.request_id for op in ops if isinstance(op, Create)] == [1, 2]
    assert s.on_validation_completed(1, 0.5, 100) == [], "validations do not end the trial"
    more = s.on_trial_closed(1)
    assert [op.request_id for op in more if isinstance(op, Create)] == [3]
    assert s.on_trial_closed(2) == []
    assert s.progress() == pytest.approx(2 / 3)
    assert s.on_trial_closed(3) == [Shutdown(failure=False)]


def test_errored_trials_still_fail_a_lengthless_search() -> None:
    s = SingleSearch(SPACE, max_length=None)
    s.initial_operations()
    assert s.on_trial_exited_early(1, ExitedReason.ERRORED) == [Shutdown(failure=True)]


def test_lengthless_snapshot_round_trips() -> None:
    s = RandomSearch(SPACE, max_length=None, max_trials=2, max_concurrent_trials=1)
    s.initial_operations()
    s.on_trial_closed(1)
    copy = RandomSearch(SPACE, max_length=None, max_trials=2, max_concurrent_trials=1)
    copy.restore(s.snapshot())
    assert copy.on_trial_closed(2) == s.on_trial_closed(2) == [Shutdown(failure=False)]


def test_preview_says_the_script_decides_and_simulate_refuses_in_one_line() -> None:
    config = _config({"name": "random", "max_trials": 4})
    preview = preview_search(config)
    assert preview.script_decides_length and preview.total_trials == 4
    with pytest.raises(ConfigError) as caught:
        simulate(config, lambda h, n: 0.0, lambda h, n: float(n), workers=1)
    assert "\n" not in str(caught.value) and "has no max_length" in str(caught.value)


def test_halving_searchers_still_need_a_length() -> None:
    with pytest.raises(ConfigError, match="needs max_length"):
        load_experiment_config(_config({"name": "adaptive_asha", "max_trials": 4}))
