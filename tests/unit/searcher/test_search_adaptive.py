"""Adaptive ASHA: bracket plans computed by hand, routing, global ids, one Shutdown."""

from __future__ import annotations

import pytest
from searcher_driver import Driver

from trainyard.errors import ConfigError
from trainyard.searcher import (
    AdaptiveASHA,
    AsyncHalving,
    AsyncHalvingStopping,
    Create,
    ExitedReason,
    Shutdown,
    ValidateAfter,
)
from trainyard.searcher._adaptive import split_concurrency

SPACE = {"lr": {"type": "double", "minval": 0.0, "maxval": 1.0}}

# Weights divisor**(r-1)/r for divisor 4: r=5: 51.2, r=4: 16, r=3: 16/3, r=2: 2, r=1: 1.
# conservative: sum 75.533 → 1000 * w / sum = 677.8, 211.8, 70.6, 26.5, 13.2 → 677, 211, 70,
# 26, 13 (997) and the remaining 3 go to the 5-rung bracket.
# standard (5, 4, 3): sum 72.533 → 705.9, 220.6, 73.5 → 705, 220, 73 (998) + 2.
# (Determined's arithmetic, see test_search_adaptive_determined.py; 1000 trials allow 5 rungs.)
CASES = [
    ("conservative", [5, 4, 3, 2, 1], [680, 211, 70, 26, 13]),
    ("standard", [5, 4, 3], [707, 220, 73]),
    ("aggressive", [5], [1000]),
]


@pytest.mark.parametrize(("mode", "rungs", "trials"), CASES)
def test_bracket_plan_for_1000_trials_divisor_4_five_rungs(
    mode: str, rungs: list[int], trials: list[int]
) -> None:
    s = AdaptiveASHA(SPACE, max_length=10_000, max_trials=1000, divisor=4, max_rungs=5, mode=mode)
    assert [len(b.rungs) for b in s.brackets] == rungs
    assert [b.max_trials for b in s.brackets] == trials
    assert all(isinstance(b, AsyncHalving) for b in s.brackets)


def test_explicit_bracket_rungs_override_the_mode() -> None:
    s = AdaptiveASHA(
        SPACE, max_length=100, max_trials=20, divisor=2, bracket_rungs=[2, 4], mode="aggressive"
    )
    assert [len(b.rungs) for b in s.brackets] == [4, 2]


def test_concurrency_split_evenly_remainder_one_each_to_the_first() -> None:
    assert split_concurrency(16, 4, [1, 1, 1, 1, 1]) == [4, 3, 3, 3, 3]
    assert split_concurrency(16, 4, [1, 1, 1]) == [6, 5, 5]
    s = AdaptiveASHA(
        SPACE,
        max_length=10_000,
        max_trials=1000,
        max_rungs=5,
        max_concurrent_trials=16,
        mode="standard",
    )
    assert [b.max_concurrent_trials for b in s.brackets] == [6, 5, 5]


def test_ids_are_global_sequential_and_events_reach_the_owner() -> None:
    s = AdaptiveASHA(
        SPACE,
        max_length=64,
        max_trials=30,
        divisor=4,
        max_rungs=3,
        max_concurrent_trials=3,
        mode="conservative",
    )
    ops = s.initial_operations()
    creates = [op for op in ops if isinstance(op, Create)]
    assert [op.request_id for op in creates] == list(range(1, len(creates) + 1))
    owners = {s.owner[op.request_id - 1][0] for op in creates}
    assert owners == {0, 1, 2}, "every bracket starts trials"
    lr = {op.request_id: op.hparams["lr"] for op in creates}
    assert len(set(lr.values())) == len(lr), "brackets draw from different generators"
    # the first trial of the last bracket (1 rung) trains to max_length directly
    last = next(op for op in creates if s.owner[op.request_id - 1][0] == 2)
    assert ValidateAfter(last.request_id, 64) in ops
    assert s.on_validation_completed(999, 0.1, 64) == []


def test_stop_once_or_trial_driven_uses_stopping_brackets() -> None:
    s = AdaptiveASHA(SPACE, max_length=64, max_trials=10, divisor=4, max_rungs=3, stop_once=True)
    assert all(isinstance(b, AsyncHalvingStopping) for b in s.brackets)


@pytest.mark.parametrize("mode", ["conservative", "standard", "aggressive"])
def test_search_ends_once_every_bracket_is_done(mode: str) -> None:
    s = AdaptiveASHA(
        SPACE,
        max_length=256,
        max_trials=60,
        divisor=4,
        max_rungs=4,
        max_concurrent_trials=5,
        mode=mode,
    )
    driver = Driver(s, seed=3, max_length=256, exit_probability=0.05).run()
    driver.check_finished()
    replaced = sum(
        t.exited == ExitedReason.INVALID_HP and not t.reports for t in driver.trials.values()
    )
    assert len(driver.trials) == 60 + replaced, "invalid hyperparameters are not counted"
    shutdown_at = next(
        i
        for i, (_, ops) in enumerate(driver.log)
        if Shutdown() in ops or Shutdown(failure=True) in ops
    )
    assert shutdown_at == len(driver.log) - 1, "Shutdown comes with the very last event"
    assert any(t.length == 256 for t in driver.trials.values())


def test_progress_grows_to_one() -> None:
    s = AdaptiveASHA(SPACE, max_length=256, max_trials=40, divisor=4, max_rungs=4)
    driver = Driver(s, seed=0, max_length=256).run()
    assert driver.progress[-1] == 1.0
    assert all(0.0 <= p <= 1.0 for p in driver.progress)
    assert driver.progress[len(driver.progress) // 2] < 1.0


def test_unknown_mode_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"searcher\.mode is 'wild'; it must be one of"):
        AdaptiveASHA(SPACE, max_length=100, max_trials=10, mode="wild")
