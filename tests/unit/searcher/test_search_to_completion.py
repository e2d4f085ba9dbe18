"""Single, grid and random search: every trial trains to max_length, concurrency is respected."""

from __future__ import annotations

import math

from searcher_driver import Driver, new_trial

from trainyard.searcher import (
    Close,
    Create,
    ExitedReason,
    GridSearch,
    RandomSearch,
    Shutdown,
    SingleSearch,
    ValidateAfter,
)

SPACE = {"lr": {"type": "double", "minval": 0.0, "maxval": 1.0}, "width": 64}
GRID = {
    "x": {"type": "int", "minval": 0, "maxval": 20, "count": 3},
    "y": {"type": "int", "minval": 0, "maxval": 10, "count": 3},
}


def test_single_trains_one_trial_to_max_length() -> None:
    s = SingleSearch(SPACE, max_length=500)
    ops = s.initial_operations()
    new_trial(ops)
    assert ops[1] == ValidateAfter(1, 500)
    assert s.progress() == 0.0
    assert s.on_validation_completed(1, 0.3, 250) == [], "short of max_length: keep training"
    assert s.on_validation_completed(1, 0.3, 500) == [Close(1)]
    assert s.progress() == 1.0, "all training is done once the trial validated"
    assert s.on_trial_closed(1) == [Shutdown(failure=False)]
    assert s.progress() == 1.0


def test_grid_runs_the_nine_points_of_the_issue_example() -> None:
    driver = Driver(GridSearch(GRID, max_length=10, max_concurrent_trials=2), seed=0).run()
    driver.check_finished()
    points = sorted((t.hparams["x"], t.hparams["y"]) for t in driver.trials.values())
    assert points == [(x, y) for x in (0, 10, 20) for y in (0, 5, 10)]
    assert set(driver.final_lengths().values()) == {10}


def test_random_keeps_at_most_max_concurrent_trials_open() -> None:
    s = RandomSearch(SPACE, max_length=10, max_trials=7, max_concurrent_trials=3)
    driver = Driver(s, seed=1)
    driver.apply(("start",), s.initial_operations())
    peak = 0
    while driver.step():
        open_trials = sum(not t.ended for t in driver.trials.values())
        peak = max(peak, open_trials)
        assert open_trials <= 3
    driver.check_finished()
    assert peak == 3 and len(driver.trials) == 7


def test_random_with_no_concurrency_limit_creates_all_at_once() -> None:
    ops = RandomSearch(SPACE, max_length=10, max_trials=5, max_concurrent_trials=0)
    assert sum(isinstance(op, Create) for op in ops.initial_operations()) == 5


def test_random_replaces_invalid_hparams_without_counting_them() -> None:
    s = RandomSearch(SPACE, max_length=10, max_trials=2, max_concurrent_trials=2)
    s.initial_operations()
    ops = s.on_trial_exited_early(1, ExitedReason.INVALID_HP)
    assert new_trial(ops).request_id == 3
    for rid in (2, 3):
        assert s.on_validation_completed(rid, 0.5, 10) == [Close(rid)]
    assert s.on_trial_closed(2) == []
    assert s.on_trial_closed(3) == [Shutdown(failure=False)]


def test_errored_trials_are_not_replaced_and_all_failed_is_a_failure() -> None:
    s = RandomSearch(SPACE, max_length=10, max_trials=2, max_concurrent_trials=1)
    s.initial_operations()
    ops = s.on_trial_exited_early(1, ExitedReason.ERRORED)
    assert new_trial(ops).request_id == 2
    assert s.on_trial_exited_early(2, ExitedReason.USER_CANCELED) == [Shutdown(failure=True)]
    assert s.on_trial_exited_early(2, ExitedReason.ERRORED) == [], "a second exit is ignored"


def test_grid_does_not_retry_an_invalid_point() -> None:
    s = GridSearch(GRID, max_length=10, max_concurrent_trials=9)
    assert sum(isinstance(op, Create) for op in s.initial_operations()) == 9
    assert s.on_trial_exited_early(4, ExitedReason.INVALID_HP) == []
    for rid in (1, 2, 3, 5, 6, 7, 8, 9):
        s.on_validation_completed(rid, math.nan, 10)
        ops = s.on_trial_closed(rid)
    assert ops == [Shutdown(failure=False)]


def test_events_for_unknown_or_closed_trials_are_ignored() -> None:
    s = RandomSearch(SPACE, max_length=10, max_trials=1, max_concurrent_trials=1)
    s.initial_operations()
    assert s.on_validation_completed(99, 0.1, 10) == []
    assert s.on_trial_closed(99) == []
    assert s.on_validation_completed(1, 0.1, 10) == [Close(1)]
    assert s.on_validation_completed(1, 0.1, 10) == [], "closed: no more work"
    assert s.on_trial_exited_early(1, ExitedReason.ERRORED) == [Shutdown(failure=False)]
