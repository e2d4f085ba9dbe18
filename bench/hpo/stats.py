"""From many `RunTrace`s to the benchmark's figures: curves with 95% CIs, time to target, regret.

A *cell* is one (problem, workers) pair; every method in a cell ran with the same slots, the same
simulated budget and the same seeds. The target of a cell is an accuracy within 1% (relative) of
the best accuracy any method found in any seed of that cell. A seed that never reaches the target
counts with the whole budget (a censored time; `reached` says how often that happened).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats  # type: ignore[import-untyped, unused-ignore]  # no stubs

from bench.hpo.trace import RunTrace

TARGET_FRACTION = 0.99


def mean_ci(values: list[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95% Student-t confidence interval (0 for one value)."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return float(x.mean()) if len(x) else math.nan, 0.0
    half = scipy_stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return float(x.mean()), float(half)


@dataclass(frozen=True)
class MethodSummary:
    """One method in one cell, over its seeds."""

    method: str
    seeds: int
    time_to_target: tuple[float, float]
    reached: float
    final_regret: tuple[float, float]
    trials: float
    utilization: float


@dataclass(frozen=True)
class Cell:
    """A (problem, workers) pair and the summaries of every method that ran in it."""

    problem: str
    workers: int
    budget: float
    best_any: float
    target: float
    optimum: float
    methods: dict[str, MethodSummary]
    traces: dict[str, list[RunTrace]]


def summarise(traces: list[RunTrace], optimum: dict[str, float]) -> list[Cell]:
    """Group `traces` into cells; `optimum[problem]` is the best accuracy the problem allows."""
    grouped: dict[tuple[str, int], dict[str, list[RunTrace]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for trace in traces:
        grouped[(trace.problem, trace.workers)][trace.method].append(trace)
    cells = []
    for (problem, workers), by_method in sorted(grouped.items()):
        finals = [t.trajectory[-1][1] for ts in by_method.values() for t in ts if t.trajectory]
        best_any = max(finals)
        target = TARGET_FRACTION * best_any
        budget = next(iter(by_method.values()))[0].budget
        methods = {
            method: _summary(method, runs, target, optimum[problem])
            for method, runs in by_method.items()
        }
        cells.append(
            Cell(
                problem,
                workers,
                budget,
                best_any,
                target,
                optimum[problem],
                methods,
                dict(by_method),
            )
        )
    return cells


def _summary(method: str, runs: list[RunTrace], target: float, optimum: float) -> MethodSummary:
    times, reached = [], 0
    for run in runs:
        t = run.time_to(target)
        reached += t is not None
        times.append(run.budget if t is None else t)
    regrets = [optimum - _final(run) for run in runs]
    return MethodSummary(
        method=method,
        seeds=len(runs),
        time_to_target=mean_ci(times),
        reached=reached / len(runs),
        final_regret=mean_ci(regrets),
        trials=float(np.mean([r.trials for r in runs])),
        utilization=float(np.mean([r.utilization for r in runs])),
    )


def _final(run: RunTrace) -> float:
    value = run.best_at(run.budget)
    return 0.0 if math.isnan(value) else value


def regret_curve(
    runs: list[RunTrace], optimum: float, grid: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mean regret and its 95% CI half-width at each time of `grid` (NaN best counts as 0)."""
    values = np.array(
        [[optimum - (0.0 if math.isnan(b := r.best_at(t)) else b) for t in grid] for r in runs]
    )
    mean = values.mean(axis=0)
    if len(runs) < 2:
        return mean, np.zeros_like(mean)
    half = scipy_stats.t.ppf(0.975, len(runs) - 1) * values.std(axis=0, ddof=1)
    return mean, half / math.sqrt(len(runs))
