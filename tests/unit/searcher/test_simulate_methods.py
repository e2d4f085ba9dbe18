"""The built-in search methods played through `simulate`, from experiment-config dicts."""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from typing import Any

import pytest

from trainyard.errors import ConfigError
from trainyard.searcher._sim_synthetic import LearningCurveProblem
from trainyard.searcher._simulate import simulate

PROBLEM = LearningCurveProblem(max_length=1600, spread=0.3)


def unit_cost(hparams: Mapping[str, Any], length: int) -> float:
    return float(length)


def adaptive(max_trials: int = 40, **extra: Any) -> dict[str, Any]:
    return PROBLEM.config(
        {"name": "adaptive_asha", "max_trials": max_trials, "max_rungs": 3, "divisor": 4, **extra}
    )


def test_a_seed_replays_the_same_search_and_another_seed_does_not() -> None:
    def run(seed: int) -> tuple[Any, ...]:
        result = simulate(adaptive(), PROBLEM.objective, PROBLEM.cost, workers=3, seed=seed)
        trials = [(t.request_id, t.hparams, t.length, t.metrics) for t in result.trials]
        return result.trajectory, trials, result.end_time, result.utilization

    first = run(1)

    assert run(1) == first
    assert run(2)[1] != first[1]
    assert first[0] != run(2)[0]


def test_results_add_up() -> None:
    result = simulate(adaptive(), PROBLEM.objective, PROBLEM.cost, workers=4, seed=0)

    assert result.shutdown and not result.truncated
    assert len(result.trials) == 40
    assert all(t.closed_at is not None and t.closed_at <= result.end_time for t in result.trials)
    assert result.total_length == sum(t.length for t in result.trials)
    assert 0.0 < result.utilization <= 1.0
    best = max(m for t in result.trials for _, m in t.metrics)
    assert result.best_metric == best
    assert result.best_trial is not None and best in [m for _, m in result.best_trial.metrics]
    bests = [b for _, b in result.trajectory]
    assert bests == sorted(bests) and len(set(bests)) == len(bests)
    # One event per creation, validation and close, plus the initial operations.
    validations = sum(len(t.metrics) for t in result.trials)
    assert result.events == 1 + 2 * len(result.trials) + validations


def test_max_time_ends_the_search_at_that_simulated_time() -> None:
    full = simulate(adaptive(), PROBLEM.objective, unit_cost, workers=4)
    cut = simulate(adaptive(), PROBLEM.objective, unit_cost, workers=4, max_time=1000.0)

    assert full.end_time > 1000.0
    assert cut.truncated and cut.end_time == 1000.0
    assert all(time <= 1000.0 for time, _ in cut.trajectory)
    assert cut.trajectory == [p for p in full.trajectory if p[0] <= 1000.0]
    assert cut.total_length == 4 * 1000
    assert cut.utilization == 1.0


def test_pbt_children_continue_from_their_parents_checkpoints() -> None:
    config = PROBLEM.config(
        {
            "name": "pbt",
            "population_size": 4,
            "num_rounds": 3,
            "length_per_round": {"batches": 100},
            "replace_function": {"truncate_fraction": 0.5},
            "explore_function": {"resample_probability": 0.2, "perturb_factor": 0.2},
        }
    )
    config["searcher"].pop("max_length")

    result = simulate(config, PROBLEM.objective, unit_cost, workers=2)

    by_id = {t.request_id: t for t in result.trials}
    children = [t for t in result.trials if t.checkpoint_from is not None]
    assert children
    for child in children:
        parent = by_id[child.checkpoint_from or 0]
        assert child.start_length > 0 and child.start_length % 100 == 0
        assert parent.length >= child.start_length
        assert child.metrics[0][0] > child.start_length
        assert child.trained_length == child.length - child.start_length
    assert result.total_length == sum(t.trained_length for t in result.trials)
    # Every slot-second went into training a length unit, no parent's part paid twice.
    assert result.utilization * 2 * result.end_time == pytest.approx(result.total_length)


def test_trial_driven_asha_stops_losers_at_rung_boundaries() -> None:
    config = PROBLEM.config(
        {
            "name": "async_halving",
            "max_trials": 24,
            "num_rungs": 3,
            "divisor": 4,
            "time_metric": "batches",
            "max_time": 1600,
        }
    )
    config["searcher"].pop("max_length")

    result = simulate(config, PROBLEM.objective, unit_cost, workers=4)

    stopped = [t for t in result.trials if t.stopped]
    finished = [t for t in result.trials if not t.stopped]
    assert stopped and finished
    assert {t.length for t in stopped} <= {100, 400}
    assert all(t.length == 1600 for t in finished)
    assert all(
        [n for n, _ in t.metrics] == [100, 400, 1600][: len(t.metrics)] for t in result.trials
    )


def test_asha_runs_twice_the_trials_of_sha_in_less_than_twice_the_time() -> None:
    # The seed material's claim: with 4 slots, divisor 4 and 3 rungs, ASHA runs 32 trials in less
    # than twice the time SHA takes for 16, keeping the slots busier.
    def run(name: str, trials: int) -> Any:
        config = PROBLEM.config({"name": name, "max_trials": trials, "num_rungs": 3, "divisor": 4})
        return simulate(config, PROBLEM.objective, unit_cost, workers=4)

    sha, asha = run("sync_halving", 16), run("async_halving", 32)

    assert len(sha.trials) == 16 and len(asha.trials) >= 2 * len(sha.trials)
    assert sha.end_time == 100 * 16 / 4 + 300 + 1200  # rungs 100, 400, 1600 in lockstep
    assert asha.end_time < 2 * sha.end_time
    assert asha.utilization > sha.utilization


def test_halving_finds_a_near_optimal_config_sooner_than_random_search() -> None:
    # Same slots and the same simulated-time budget (20 full-length trials' worth per slot) for
    # every method; a method that misses the target is charged the whole budget.
    full = PROBLEM.cost(PROBLEM.optimum(), PROBLEM.max_length)
    budget = 20 * full
    target = 0.99 * PROBLEM.objective(PROBLEM.optimum(), PROBLEM.max_length)
    searchers = {
        "random": {"name": "random", "max_trials": 1000, "max_concurrent_trials": 4},
        "asha": {"name": "async_halving", "max_trials": 1000, "num_rungs": 3, "divisor": 4},
        "adaptive": {"name": "adaptive_asha", "max_trials": 1000, "max_rungs": 3, "divisor": 4},
    }
    mean_time = {}
    for name, searcher in searchers.items():
        times = []
        for seed in range(5):
            result = simulate(
                PROBLEM.config({**searcher, "max_concurrent_trials": 4}),
                PROBLEM.objective,
                PROBLEM.cost,
                workers=4,
                max_time=budget,
                seed=seed,
            )
            reached = result.time_to_reach(target)
            times.append(budget if reached is None else reached)
        mean_time[name] = statistics.mean(times)

    assert mean_time["asha"] < mean_time["random"]
    assert mean_time["adaptive"] < mean_time["random"]
    assert mean_time["asha"] < budget and mean_time["adaptive"] < budget


def test_a_bad_config_is_a_config_error() -> None:
    config = adaptive()
    config["searcher"]["divisor"] = 1

    with pytest.raises(ConfigError, match="divisor"):
        simulate(config, PROBLEM.objective, PROBLEM.cost, workers=1)
