"""How fast the searcher simulation runs: a 10,000-trial adaptive ASHA search on 64 slots.

Times `trainyard.searcher._simulate.simulate` end to end (config loading, searcher, event loop)
on the synthetic learning-curve problem, and prints the figures with the command that made them.

    python bench/searcher_speed.py [--trials 10000] [--workers 64] [--seed 0] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats
import shlex
import sys
import time
from typing import Any

from trainyard.searcher._sim_synthetic import LearningCurveProblem
from trainyard.searcher._simulate import simulate


def build_config(problem: LearningCurveProblem, trials: int) -> dict[str, Any]:
    """Adaptive ASHA, 5 rungs, divisor 4: rung lengths max_length / 4**k."""
    return problem.config(
        {
            "name": "adaptive_asha",
            "max_trials": trials,
            "max_rungs": 5,
            "divisor": 4,
            "mode": "standard",
            "max_concurrent_trials": 0,
        },
        name="searcher-speed",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", action="store_true", help="print the top 25 functions")
    args = parser.parse_args()

    problem = LearningCurveProblem(max_length=4**4 * 100, noise=0.002)
    config = build_config(problem, args.trials)
    profiler = cProfile.Profile() if args.profile else None
    started, cpu_started = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    result = simulate(config, problem.objective, problem.cost, workers=args.workers, seed=args.seed)
    if profiler is not None:
        profiler.disable()
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started

    print(f"command          {shlex.join(['python', *sys.argv])}")
    machine = platform.processor() or platform.machine()
    print(f"machine          {machine}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"trials           {len(result.trials):,}")
    print(f"searcher events  {result.events:,}")
    print(f"wall seconds     {seconds:.2f}")
    print(f"CPU seconds      {cpu_seconds:.2f}")
    print(f"events/second    {result.events / seconds:,.0f}")
    print(f"simulated hours  {result.end_time / 3600:,.1f}")
    print(f"utilization      {result.utilization:.1%}")
    print(f"best metric      {result.best_metric}")
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
