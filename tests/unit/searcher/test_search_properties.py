"""Properties of every method under random configs and random event orders (hypothesis).

The in-test driver (`searcher_driver.Driver`) executes operations and delivers events in a
seeded random order, with NaN/inf metrics, late reports and early exits of every kind. For each
case: no rule of the driver is broken (no work for a closed trial, no length past max_length,
sequential ids, one Shutdown), every trial ends, at most `max_trials` counted trials exist, and a
snapshot taken at any event and restored through JSON gives the identical operation sequence.
The methods that take a sampler are drawn with the uniform one and with TPE (which learns from
the metrics, so its snapshot must carry what it has seen).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from searcher_driver import Driver

from trainyard.searcher import (
    PBT,
    AdaptiveASHA,
    AsyncHalving,
    AsyncHalvingStopping,
    ExitedReason,
    GridSearch,
    RandomSearch,
    Searcher,
    SingleSearch,
    SyncHalving,
    TPESampler,
)

SPACE = {
    "lr": {"type": "log", "minval": -4, "maxval": -1, "count": 2},
    "n": {"type": "int", "minval": 1, "maxval": 5, "count": 2},
    "opt": {"kind": {"type": "categorical", "vals": ["a", "b"]}, "beta": 0.9},
}

# derandomize: the same examples on every run, so the suite never flakes; raise max_examples
# locally to search harder.
PROPERTY = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@dataclass
class Case:
    build: Callable[[], Searcher]
    max_length: int
    max_trials: int | None
    report_every: int | None = None


@st.composite
def cases(draw: st.DrawFn) -> Case:
    kind = draw(
        st.sampled_from(["single", "grid", "random", "sha", "asha", "stopping", "adaptive", "pbt"])
    )
    max_length = draw(st.integers(1, 300))
    max_trials = draw(st.integers(1, 25))
    concurrency = draw(st.integers(0, 6))
    divisor = draw(st.sampled_from([2, 3, 4, 2.5]))
    rungs = draw(st.integers(1, 5))
    smaller = draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    tpe = draw(st.booleans())

    def sampler() -> TPESampler | None:
        return TPESampler(n_startup=3, n_candidates=4) if tpe else None

    common: dict[str, Any] = {"smaller_is_better": smaller, "seed": seed}
    halving: dict[str, Any] = {
        "max_length": max_length,
        "max_trials": max_trials,
        "divisor": divisor,
        "max_concurrent_trials": concurrency,
        **common,
    }
    if kind == "single":
        return Case(lambda: SingleSearch(SPACE, max_length=max_length, **common), max_length, 1)
    if kind == "grid":
        return Case(
            lambda: GridSearch(
                SPACE, max_length=max_length, max_concurrent_trials=concurrency, **common
            ),
            max_length,
            8,
        )
    if kind == "random":
        return Case(
            lambda: RandomSearch(
                SPACE,
                max_length=max_length,
                max_trials=max_trials,
                max_concurrent_trials=concurrency,
                sampler=sampler(),
                **common,
            ),
            max_length,
            max_trials,
        )
    if kind == "sha":
        return Case(
            lambda: SyncHalving(SPACE, num_rungs=rungs, sampler=sampler(), **halving),
            max_length,
            max_trials,
        )
    if kind == "asha":
        return Case(
            lambda: AsyncHalving(SPACE, num_rungs=rungs, sampler=sampler(), **halving),
            max_length,
            max_trials,
        )
    if kind == "stopping":
        stop_once, trial_driven = draw(st.booleans()), draw(st.booleans())
        return Case(
            lambda: AsyncHalvingStopping(
                SPACE,
                num_rungs=rungs,
                stop_once=stop_once,
                trial_driven=trial_driven,
                sampler=sampler(),
                **halving,
            ),
            max_length,
            max_trials,
            report_every=draw(st.integers(1, 50)) if trial_driven else None,
        )
    if kind == "adaptive":
        mode = draw(st.sampled_from(["aggressive", "standard", "conservative"]))
        stop_once = draw(st.booleans())
        return Case(
            lambda: AdaptiveASHA(
                SPACE,
                max_rungs=rungs,
                mode=mode,
                stop_once=stop_once,
                sampler=sampler(),
                **halving,
            ),
            max_length,
            max_trials,
        )
    population, rounds = draw(st.integers(1, 8)), draw(st.integers(1, 4))
    per_round = max(1, max_length // rounds)
    fraction = draw(st.sampled_from([0.1, 0.25, 0.5]))
    return Case(
        lambda: PBT(
            SPACE,
            population_size=population,
            num_rounds=rounds,
            length_per_round=per_round,
            truncate_fraction=fraction,
            resample_probability=0.3,
            perturb_factor=0.5,
            sampler=sampler(),
            **common,
        ),
        rounds * per_round,
        None,
    )


def play(case: Case, seed: int, exits: float, swap_at: int | None = None) -> Driver:
    return Driver(
        case.build(),
        seed=seed,
        max_length=case.max_length,
        report_every=case.report_every,
        exit_probability=exits,
        rebuild=case.build,
        swap_at=swap_at,
    ).run()


@PROPERTY
@given(case=cases(), seed=st.integers(0, 10_000), exits=st.sampled_from([0.0, 0.05, 0.3]))
def test_every_search_ends_within_its_limits(case: Case, seed: int, exits: float) -> None:
    driver = play(case, seed, exits)
    driver.check_finished()
    assert all(0.0 <= p <= 1.0 for p in driver.progress)
    if case.max_trials is not None:
        redrawn = sum(t.exited == ExitedReason.INVALID_HP for t in driver.trials.values())
        assert len(driver.trials) <= case.max_trials + redrawn
    if exits == 0.0:
        assert driver.shutdowns[0].failure is False
        assert any(t.length == case.max_length for t in driver.trials.values()), (
            "some trial trains to the end"
        )


@PROPERTY
@given(
    case=cases(),
    seed=st.integers(0, 10_000),
    exits=st.sampled_from([0.0, 0.1]),
    where=st.floats(0.0, 1.0),
)
def test_snapshot_and_restore_replay_exactly(
    case: Case, seed: int, exits: float, where: float
) -> None:
    straight = play(case, seed, exits)
    swap_at = int(where * straight.steps)
    resumed = play(case, seed, exits, swap_at=swap_at)
    assert repr(resumed.log) == repr(straight.log)


@pytest.mark.parametrize(
    "kind",
    ["stopping-trial-driven", "stopping", "sha", "asha", "pbt", "asha-tpe", "adaptive-tpe"],
)
def test_snapshot_mid_search_replays_each_method(kind: str) -> None:
    build: Callable[[], Searcher] = {
        "stopping-trial-driven": lambda: AsyncHalvingStopping(
            SPACE, max_length=64, max_trials=12, num_rungs=3, divisor=2, trial_driven=True
        ),
        "stopping": lambda: AsyncHalvingStopping(
            SPACE, max_length=64, max_trials=12, num_rungs=3, divisor=2
        ),
        "sha": lambda: SyncHalving(SPACE, max_length=64, max_trials=12, num_rungs=3),
        "asha": lambda: AsyncHalving(SPACE, max_length=64, max_trials=12, num_rungs=3),
        "asha-tpe": lambda: AsyncHalving(
            SPACE, max_length=64, max_trials=12, num_rungs=3, sampler=TPESampler(n_startup=2)
        ),
        "adaptive-tpe": lambda: AdaptiveASHA(
            SPACE, max_length=64, max_trials=12, max_rungs=3, sampler=TPESampler(n_startup=2)
        ),
        "pbt": lambda: PBT(
            SPACE,
            population_size=6,
            num_rounds=3,
            length_per_round=20,
            truncate_fraction=0.5,
            resample_probability=0.5,
            perturb_factor=0.5,
        ),
    }[kind]
    case = Case(build, 64, None, report_every=5 if kind == "stopping-trial-driven" else None)
    straight = play(case, 1, 0.1)
    for swap_at in (1, straight.steps // 3, straight.steps // 2):
        assert repr(play(case, 1, 0.1, swap_at=swap_at).log) == repr(straight.log)
