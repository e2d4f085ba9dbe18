"""Trainyard's search methods on a benchmark problem, through `trainyard.searcher.simulate`."""

from __future__ import annotations

from typing import Any

from bench.hpo.problems import Problem
from bench.hpo.trace import RunTrace
from trainyard.searcher import simulate

GRID_COUNT = 3  # grid points per numeric hyperparameter
OPEN_ENDED = (
    100_000  # max_trials for searches the budget, not the trial count, ends (the config limit)
)


def searcher_section(method: str, problem: Problem, workers: int, budget: float) -> dict[str, Any]:
    """The `searcher:` section of method `method` (a key of `METHODS`) on `problem`.

    A `_tpe` suffix is the same method with `sampler: tpe` (hyperparameters drawn by the model
    from the results so far); without it, methods that sample say `sampler: uniform`
    (Determined's draws). `default` is adaptive ASHA as a new config gets it: no `mode`, no
    `sampler`, whatever the config defaults are.
    """
    if method.endswith("_tpe"):
        section = searcher_section(method.removesuffix("_tpe"), problem, workers, budget)
        return {**section, "sampler": "tpe"}
    rungs, divisor = problem.rungs, problem.divisor
    common: dict[str, Any] = {"max_concurrent_trials": workers}
    if method == "default":
        return {
            "name": "adaptive_asha",
            "max_rungs": rungs,
            "divisor": divisor,
            "max_trials": OPEN_ENDED,
            **common,
        }
    if method not in ("grid", "pbt"):
        common["sampler"] = "uniform"
    if method == "random":
        return {"name": "random", "max_trials": OPEN_ENDED, **common}
    if method == "grid":
        return {"name": "grid", **common}
    if method == "sha":
        return {
            "name": "sync_halving",
            "num_rungs": rungs,
            "divisor": divisor,
            "max_trials": sha_trials(problem, workers, budget),
            **common,
        }
    if method in ("asha", "asha_stop"):
        return {
            "name": "async_halving",
            "num_rungs": rungs,
            "divisor": divisor,
            "max_trials": OPEN_ENDED,
            "stop_once": method == "asha_stop",
            **common,
        }
    if method.startswith("adaptive_"):
        mode = method.removeprefix("adaptive_")
        return {
            "name": "adaptive_asha",
            "max_rungs": rungs,
            "divisor": divisor,
            "mode": mode,
            "max_trials": OPEN_ENDED,
            **common,
        }
    if method == "pbt":
        return {**pbt_section(problem, workers), "sampler": "uniform"}
    raise ValueError(f"unknown method {method!r}")


def sha_trials(problem: Problem, workers: int, budget: float) -> int:
    """Rung-0 trials for one SHA bracket that about fills `budget` on `workers` slots.

    A bracket of `n` trials costs `n * sum_k divisor**-k * mean(cost(L_k) - cost(L_k-1))`
    slot-seconds (a promoted trial resumes), so `n` is `workers * budget` over that sum, rounded
    down to a multiple of `workers` (and at least `workers`).
    """
    configs = problem.sample_configs()
    lengths = [0, *problem.report_lengths]
    per_trial = sum(
        problem.divisor**-k
        * sum(problem.cost(c, lengths[k + 1]) - problem.cost(c, lengths[k]) for c in configs)
        / len(configs)
        for k in range(problem.rungs)
    )
    n = int(workers * budget / per_trial)
    return max(workers, n - n % workers)


def pbt_section(problem: Problem, workers: int) -> dict[str, Any]:
    """PBT with a population of `workers` over the problem's full length in 9 rounds."""
    per_round = max(1, problem.max_length // 9)
    return {
        "name": "pbt",
        "population_size": workers,
        "num_rounds": problem.max_length // per_round,
        "length_per_round": {"batches": per_round},
        "replace_function": {"truncate_fraction": 0.25},
        "explore_function": {"resample_probability": 0.25, "perturb_factor": 0.2},
    }


def config_for(method: str, problem: Problem, workers: int, budget: float) -> dict[str, Any]:
    """A complete experiment config for `method` on `problem`."""
    section = searcher_section(method, problem, workers, budget)
    section.update(metric="accuracy", smaller_is_better=False)
    if not method.startswith("pbt"):
        section["max_length"] = {"batches": problem.max_length}
    hyperparameters = problem.hyperparameters
    if method == "grid":
        hyperparameters = {
            n: spec if spec["type"] == "categorical" else {**spec, "count": GRID_COUNT}
            for n, spec in hyperparameters.items()
        }
    return {
        "name": f"bench-{problem.name}-{method}",
        "entrypoint": "python3 train.py",
        "hyperparameters": hyperparameters,
        "searcher": section,
    }


def run_ours(method: str, problem: Problem, *, workers: int, budget: float, seed: int) -> RunTrace:
    """Simulate our `method` on `problem` for `budget` simulated seconds."""
    config = config_for(method, problem, workers, budget)
    result = simulate(
        config, problem.objective, problem.cost, workers=workers, max_time=budget, seed=seed
    )
    return RunTrace(
        method=f"ours:{method}",
        problem=problem.name,
        workers=workers,
        seed=seed,
        budget=budget,
        trajectory=list(result.trajectory),
        trials=len(result.trials),
        utilization=result.utilization,
        end_time=result.end_time,
    )


METHODS = [
    "default",
    "random",
    "grid",
    "sha",
    "asha",
    "asha_stop",
    "adaptive_aggressive",
    "adaptive_standard",
    "adaptive_conservative",
    "random_tpe",
    "asha_tpe",
    "adaptive_aggressive_tpe",
    "adaptive_standard_tpe",
    "pbt",
    "pbt_tpe",
]
