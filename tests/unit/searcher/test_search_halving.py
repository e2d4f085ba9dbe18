"""SHA and ASHA (promotion variant): exact counts per rung, failures, closing out."""

from __future__ import annotations

import collections
import random

import pytest
from searcher_driver import Driver, new_trial

from trainyard.errors import ConfigError
from trainyard.searcher import (
    AsyncHalving,
    Close,
    Create,
    ExitedReason,
    Shutdown,
    SyncHalving,
    ValidateAfter,
)
from trainyard.searcher._rungs import Divisor, fitting_rungs, rung_lengths

SPACE = {"lr": {"type": "log", "minval": -4, "maxval": -1}}


def constant(rid: int, length: int, rnd: random.Random) -> float:
    return 0.5


def worse_each_trial(rid: int, length: int, rnd: random.Random) -> float:
    return float(rid)


def stops(driver: Driver) -> dict[int, int]:
    """How many trials ended at each length."""
    return dict(sorted(collections.Counter(driver.final_lengths().values()).items()))


def test_rung_lengths_use_exact_integer_arithmetic() -> None:
    assert rung_lengths(9000, Divisor.of(3), 3) == [1000, 3000, 9000]
    assert rung_lengths(1000, Divisor.of(10), 9) == [1, 10, 100, 1000], "4 rungs fit, not 3"
    assert fitting_rungs(1000, Divisor.of(10)) == 4
    assert rung_lengths(100, Divisor.of(2.5), 3) == [16, 40, 100]
    assert rung_lengths(1, Divisor.of(4), 5) == [1]


@pytest.mark.parametrize("bad", [1, 0.5, True, "4"])
def test_divisor_must_be_a_number_above_one(bad: object) -> None:
    with pytest.raises(ConfigError, match=r"searcher\.divisor"):
        Divisor.of(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(4))
def test_sha_16_trials_divisor_4_three_rungs(seed: int) -> None:
    s = SyncHalving(SPACE, max_length=1600, max_trials=16, num_rungs=3, divisor=4)
    driver = Driver(s, seed=seed, max_length=1600).run()
    driver.check_finished()
    # 16 trials reach rung 0 (100), 4 reach rung 1 (400), 1 reaches rung 2 (1600).
    assert stops(driver) == {100: 12, 400: 3, 1600: 1}


def test_sha_promotes_the_best_and_waits_for_the_whole_rung() -> None:
    s = SyncHalving(SPACE, max_length=16, max_trials=4, num_rungs=2, divisor=2)
    ops = s.initial_operations()
    assert [op.length for op in ops if isinstance(op, ValidateAfter)] == [8, 8, 8, 8]
    assert s.on_validation_completed(1, 0.4, 8) == []
    assert s.on_validation_completed(2, 0.1, 8) == []
    assert s.on_validation_completed(3, 0.1, 8) == []
    ops = s.on_validation_completed(4, 0.9, 8)
    # ties go to the lower request id; the losers are closed
    assert ops == [Close(1), Close(4), ValidateAfter(2, 16), ValidateAfter(3, 16)]


def test_sha_respects_max_concurrent_trials() -> None:
    s = SyncHalving(
        SPACE, max_length=16, max_trials=5, num_rungs=2, divisor=2, max_concurrent_trials=2
    )
    assert sum(isinstance(op, Create) for op in s.initial_operations()) == 2
    assert [type(op) for op in s.on_validation_completed(1, 0.1, 8)] == [Create, ValidateAfter]


def test_sha_failed_trials_are_worst_and_never_promoted() -> None:
    s = SyncHalving(SPACE, max_length=4, max_trials=2, num_rungs=2, divisor=2)
    s.initial_operations()
    assert s.on_trial_exited_early(1, ExitedReason.ERRORED) == []
    assert s.on_validation_completed(2, 5.0, 2) == [ValidateAfter(2, 4)]


def test_sha_replaces_invalid_hparams_in_rung_zero() -> None:
    s = SyncHalving(SPACE, max_length=4, max_trials=2, num_rungs=2, divisor=2)
    s.initial_operations()
    ops = s.on_trial_exited_early(2, ExitedReason.INVALID_HP)
    assert new_trial(ops).request_id == 3


def test_sha_all_failed_shuts_down_as_failure() -> None:
    s = SyncHalving(SPACE, max_length=4, max_trials=2, num_rungs=2, divisor=2)
    s.initial_operations()
    assert s.on_trial_exited_early(1, ExitedReason.ERRORED) == []
    assert s.on_trial_exited_early(2, ExitedReason.USER_CANCELED) == [Shutdown(failure=True)]


@pytest.mark.parametrize("metric", [constant, worse_each_trial])
def test_asha_issue_example_3_rungs_divisor_3_12_trials_sequential(metric: object) -> None:
    s = AsyncHalving(
        SPACE, max_length=9000, max_trials=12, num_rungs=3, divisor=3, max_concurrent_trials=1
    )
    driver = Driver(s, seed=0, max_length=9000, metric=metric).run()  # type: ignore[arg-type]
    driver.check_finished()
    assert len(driver.trials) == 12
    assert stops(driver) == {1000: 8, 3000: 3, 9000: 1}


@pytest.mark.parametrize("seed", range(6))
def test_asha_promotes_at_least_the_top_third_whatever_the_metrics(seed: int) -> None:
    s = AsyncHalving(
        SPACE, max_length=9000, max_trials=12, num_rungs=3, divisor=3, max_concurrent_trials=3
    )
    driver = Driver(s, seed=seed, max_length=9000).run()
    driver.check_finished()
    lengths = list(driver.final_lengths().values())
    reached_1 = sum(length >= 3000 for length in lengths)
    assert reached_1 >= 4, "the top floor(12/3) of rung 0 are always promoted"
    assert sum(length >= 9000 for length in lengths) >= reached_1 // 3
    assert len(lengths) == 12


def test_asha_promotes_as_soon_as_a_trial_is_in_the_top_fraction() -> None:
    s = AsyncHalving(
        SPACE, max_length=4, max_trials=10, num_rungs=2, divisor=2, max_concurrent_trials=2
    )
    s.initial_operations()
    ops = s.on_validation_completed(1, 0.5, 2)
    assert [type(op) for op in ops] == [Create, ValidateAfter], "nothing to promote: new trial"
    # two results, floor(2/2) = 1: the better one goes on at once
    assert s.on_validation_completed(2, 0.1, 2) == [ValidateAfter(2, 4)]
    assert s.on_validation_completed(2, 0.1, 4)[0] == Close(2), "top rung: done"


def test_asha_closes_out_unpromotable_trials_once_all_exist() -> None:
    s = AsyncHalving(
        SPACE, max_length=4, max_trials=2, num_rungs=2, divisor=2, max_concurrent_trials=2
    )
    s.initial_operations()
    assert s.on_validation_completed(1, 0.9, 2) == []
    ops = s.on_validation_completed(2, 0.1, 2)
    assert ops == [ValidateAfter(2, 4), Close(1)]
    assert s.on_trial_closed(1) == []
    assert s.on_validation_completed(2, 0.1, 4) == [Close(2)]
    assert s.on_trial_closed(2) == [Shutdown(failure=False)]


def test_asha_small_rung_still_sends_its_best_to_the_top() -> None:
    s = AsyncHalving(
        SPACE, max_length=16, max_trials=3, num_rungs=2, divisor=4, max_concurrent_trials=3
    )
    s.initial_operations()
    s.on_validation_completed(1, 0.5, 4)
    s.on_validation_completed(2, 0.2, 4)
    ops = s.on_validation_completed(3, 0.7, 4)
    assert ops == [ValidateAfter(2, 16), Close(1), Close(3)]


def test_asha_failed_trial_counts_as_worst_and_is_followed_by_a_new_one() -> None:
    s = AsyncHalving(
        SPACE, max_length=4, max_trials=3, num_rungs=2, divisor=2, max_concurrent_trials=1
    )
    s.initial_operations()
    ops = s.on_trial_exited_early(1, ExitedReason.ERRORED)
    new_trial(ops)
    # the failed trial ranks last, so trial 2 is promoted as soon as it reports
    assert s.on_validation_completed(2, 1e9, 2) == [ValidateAfter(2, 4)]


def test_asha_promoting_a_gone_trial_completes_it_at_once_as_worst() -> None:
    s = AsyncHalving(
        SPACE, max_length=8, max_trials=4, num_rungs=2, divisor=2, max_concurrent_trials=2
    )
    s.initial_operations()
    ops = s.on_validation_completed(1, 0.1, 4)  # one result: floor(1/2) = 0, so a new trial
    assert new_trial(ops).request_id == 3
    assert s.on_trial_exited_early(1, ExitedReason.USER_CANCELED) == [], "idle: nothing frees"
    ops = s.on_validation_completed(2, 0.5, 4)
    # trial 1 (gone) is the best of two: promoted, it completes the top rung at once as worst,
    # so no slot was filled and trial 2 waits while a new trial starts
    assert new_trial(ops).request_id == 4
    assert s.rungs[1].entries == [(float("inf"), 1)]


def test_asha_invalid_hparams_are_replaced_and_not_counted() -> None:
    s = AsyncHalving(
        SPACE, max_length=4, max_trials=2, num_rungs=2, divisor=2, max_concurrent_trials=2
    )
    s.initial_operations()
    ops = s.on_trial_exited_early(1, ExitedReason.INVALID_HP)
    assert new_trial(ops).request_id == 3
    driver_ops = s.on_validation_completed(2, 0.3, 2) + s.on_validation_completed(3, 0.2, 2)
    assert ValidateAfter(3, 4) in driver_ops and Close(2) in driver_ops


def test_asha_default_concurrency_is_one_wave() -> None:
    s = AsyncHalving(
        SPACE, max_length=160, max_trials=100, num_rungs=3, divisor=4, max_concurrent_trials=0
    )
    assert s.asynchronous_concurrency() == 16
    assert sum(isinstance(op, Create) for op in s.initial_operations()) == 16


def test_asha_ignores_reports_short_of_the_rung_or_from_waiting_trials() -> None:
    s = AsyncHalving(
        SPACE, max_length=8, max_trials=4, num_rungs=2, divisor=2, max_concurrent_trials=2
    )
    s.initial_operations()
    assert s.on_validation_completed(1, 0.1, 3) == [], "rung 0 is at 4"
    assert len(s.on_validation_completed(1, 0.9, 4)) == 2, "a new trial starts"
    assert s.on_validation_completed(1, 0.1, 4) == [], "waiting: a repeated report changes nothing"
    assert s.rungs[0].entries == [(0.9, 1)]


def test_sha_ignores_reports_from_waiting_trials_and_drops_gone_promotions() -> None:
    s = SyncHalving(
        SPACE, max_length=8, max_trials=4, num_rungs=2, divisor=2, max_concurrent_trials=1
    )
    s.initial_operations()
    for rid in (1, 2, 3):
        s.on_validation_completed(rid, float(rid), 4)
        assert s.on_validation_completed(rid, 0.0, 4) == [], "already reported at this rung"
    ops = s.on_validation_completed(4, 4.0, 4)
    assert ops == [Close(3), Close(4), ValidateAfter(1, 8)], "one at a time: 2 waits in the queue"
    assert s.on_trial_exited_early(2, ExitedReason.ERRORED) == []
    assert s.on_validation_completed(1, 1.0, 8) == [Close(1)]


def test_a_trial_that_exits_without_close_counts_as_failed() -> None:
    s = SyncHalving(SPACE, max_length=8, max_trials=2, num_rungs=2, divisor=2)
    s.initial_operations()
    assert s.on_trial_closed(1) == [], "closed by the platform, not by us: a failure"
    assert s.on_validation_completed(2, 9.0, 4) == [ValidateAfter(2, 8)]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"max_trials": 0}, "max_trials"),
        ({"max_length": -1}, "max_length"),
        ({"num_rungs": True}, "num_rungs"),
        ({"max_concurrent_trials": -1}, "max_concurrent_trials"),
    ],
)
def test_bad_arguments_are_config_errors(args: dict[str, object], field: str) -> None:
    kwargs: dict[str, object] = {"max_length": 8, "max_trials": 2, "num_rungs": 2, **args}
    with pytest.raises(ConfigError, match=f"searcher.{field} is"):
        AsyncHalving(SPACE, **kwargs)  # type: ignore[arg-type]
