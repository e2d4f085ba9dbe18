"""The seed's claim: with the same slots, ASHA runs twice SHA's trials in < 2x SHA's time.

For each problem: SHA (`sync_halving`) with `n` trials and ASHA (`async_halving`, promotion) with
`2n` trials, both with the problem's rungs and divisor, `workers` slots, run to the end (no budget),
over several seeds. `n = divisor**(rungs-1) * 2`, so SHA's top rung holds two trials.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.hpo.ours import config_for
from bench.hpo.problems import Problem
from trainyard.searcher import simulate


@dataclass(frozen=True)
class ClaimRow:
    """Means over seeds of SHA with `n` and ASHA with `2n` trials on one problem."""

    problem: str
    workers: int
    sha_trials: float
    asha_trials: float
    sha_time: float
    asha_time: float
    sha_utilization: float
    asha_utilization: float

    @property
    def time_ratio(self) -> float:
        """ASHA's time over SHA's: the claim is that this stays below 2."""
        return self.asha_time / self.sha_time

    @property
    def holds(self) -> bool:
        """Twice the trials, under twice the time, with higher utilisation."""
        return (
            self.asha_trials >= 2 * self.sha_trials - 1e-9
            and self.time_ratio < 2
            and self.asha_utilization > self.sha_utilization
        )


def claim_row(problem: Problem, *, workers: int, seeds: list[int]) -> ClaimRow:
    """Run SHA (n trials) and ASHA (2n trials) on `problem` for each seed; average."""
    n = problem.divisor ** (problem.rungs - 1) * 2
    figures: dict[str, list[tuple[int, float, float]]] = {"sha": [], "asha": []}
    for method, trials in (("sha", n), ("asha", 2 * n)):
        for seed in seeds:
            config = config_for(method, problem, workers, budget=0.0)
            config["searcher"]["max_trials"] = trials
            result = simulate(config, problem.objective, problem.cost, workers=workers, seed=seed)
            figures[method].append((len(result.trials), result.end_time, result.utilization))
    sha, asha = np.array(figures["sha"]), np.array(figures["asha"])
    return ClaimRow(
        problem.name,
        workers,
        float(sha[:, 0].mean()),
        float(asha[:, 0].mean()),
        float(sha[:, 1].mean()),
        float(asha[:, 1].mean()),
        float(sha[:, 2].mean()),
        float(asha[:, 2].mean()),
    )
