"""ASHA, stopping variant: trial-driven and searcher-driven, with and without stop_once."""

from __future__ import annotations

import pytest
from searcher_driver import Driver, new_trial

from trainyard.searcher import (
    AsyncHalvingStopping,
    Close,
    Create,
    ExitedReason,
    Shutdown,
    Stop,
    ValidateAfter,
)

SPACE = {"lr": {"type": "double", "minval": 0.0, "maxval": 1.0}}


def trial_driven(stop_once: bool, max_trials: int = 4) -> AsyncHalvingStopping:
    return AsyncHalvingStopping(
        SPACE,
        max_length=16,
        max_trials=max_trials,
        num_rungs=3,
        divisor=2,
        max_concurrent_trials=2,
        stop_once=stop_once,
        trial_driven=True,
    )


def test_trial_driven_trials_get_one_target_and_losers_are_stopped() -> None:
    s = trial_driven(stop_once=True)
    ops = s.initial_operations()
    assert [op for op in ops if isinstance(op, ValidateAfter)] == [
        ValidateAfter(1, 16),
        ValidateAfter(2, 16),
    ]
    assert s.rung_lengths == [4, 8, 16]
    assert s.on_validation_completed(1, 0.2, 2) == [], "before the first rung: nothing to judge"
    assert s.on_validation_completed(1, 0.2, 4) == [], "alone in the rung: top max(1, 0)"
    ops = s.on_validation_completed(2, 0.9, 5)
    assert ops[0] == Stop(2) and isinstance(ops[1], Create), "outside the top: stopped, replaced"
    assert s.on_validation_completed(2, 0.1, 8) == [], "a report after Stop is ignored"


def test_stop_once_judges_each_rung_only_when_reached() -> None:
    s = trial_driven(stop_once=True)
    s.initial_operations()
    s.on_validation_completed(1, 0.5, 4)
    s.on_validation_completed(2, 0.4, 4)  # 1 is now outside the top of rung 0 (1 of 2 kept)
    assert s.on_validation_completed(1, 0.5, 6) == [], "rung 0 judged trial 1 already"


def test_without_stop_once_every_report_rechecks_reached_rungs() -> None:
    s = trial_driven(stop_once=False)
    s.initial_operations()
    s.on_validation_completed(1, 0.5, 4)
    s.on_validation_completed(2, 0.4, 4)
    ops = s.on_validation_completed(1, 0.5, 6)
    assert ops[0] == Stop(1)


def test_a_trial_reaching_max_length_is_closed() -> None:
    s = trial_driven(stop_once=True, max_trials=2)
    s.initial_operations()
    assert s.on_validation_completed(1, 0.1, 16) == [Close(1)], "passes every rung, top: done"
    assert s.on_trial_closed(1) == []


def test_searcher_driven_goes_rung_by_rung_and_closes_losers() -> None:
    s = AsyncHalvingStopping(
        SPACE, max_length=16, max_trials=2, num_rungs=3, divisor=2, max_concurrent_trials=2
    )
    ops = s.initial_operations()
    assert [op.length for op in ops if isinstance(op, ValidateAfter)] == [4, 4]
    assert s.on_validation_completed(1, 0.1, 2) == [], "short of the target: ignored"
    assert s.on_validation_completed(1, 0.1, 4) == [ValidateAfter(1, 8)]
    assert s.on_validation_completed(2, 0.9, 4) == [Close(2)]
    assert s.on_validation_completed(1, 0.1, 8) == [ValidateAfter(1, 16)]
    assert s.on_trial_closed(2) == []
    assert s.on_validation_completed(1, 0.1, 16) == [Close(1)]
    assert s.on_trial_closed(1) == [Shutdown(failure=False)]


def test_failures_count_as_worst_and_invalid_hparams_are_replaced() -> None:
    s = trial_driven(stop_once=True, max_trials=3)
    s.initial_operations()
    ops = s.on_trial_exited_early(1, ExitedReason.INVALID_HP)
    assert new_trial(ops).request_id == 3
    s.on_validation_completed(2, 0.5, 4)
    ops = s.on_trial_exited_early(2, ExitedReason.ERRORED)
    assert new_trial(ops).request_id == 4
    assert s.rungs[1].entries == [(float("inf"), 2)], "worst at the rung it trained towards"
    assert s.on_trial_exited_early(3, ExitedReason.ERRORED) == []
    assert s.on_trial_exited_early(4, ExitedReason.ERRORED) == [Shutdown(failure=True)]


@pytest.mark.parametrize("stop_once", [True, False])
@pytest.mark.parametrize("seed", range(3))
def test_trial_driven_search_ends_with_each_trial_stopped_or_finished(
    stop_once: bool, seed: int
) -> None:
    s = AsyncHalvingStopping(
        SPACE,
        max_length=64,
        max_trials=30,
        num_rungs=3,
        divisor=4,
        max_concurrent_trials=4,
        stop_once=stop_once,
        trial_driven=True,
    )
    driver = Driver(s, seed=seed, max_length=64, report_every=3).run()
    driver.check_finished()
    assert len(driver.trials) == 30
    finished = [t for t in driver.trials.values() if not t.stopped]
    assert all(t.length == 64 for t in finished) and finished
    assert all(t.length < 64 for t in driver.trials.values() if t.stopped)
