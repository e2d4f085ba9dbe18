"""A simulated clock with `workers` slots for peers that only offer ask/tell (Optuna).

The peer decides; this loop plays time: each running trial's next report happens when its
training reaches the next report length, paying `cost(hp, next) - cost(hp, previous)` seconds.
Nothing sleeps. This is the same model of training `trainyard.searcher.simulate` uses.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bench.hpo.problems import Problem
from bench.hpo.trace import RunTrace, improvements


@dataclass
class RunningTrial:
    """A trial on a slot: `handle` is the peer's object; `step` indexes `report_lengths`."""

    handle: Any
    hparams: dict[str, Any]
    started: float
    step: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


Start = Callable[[], RunningTrial | None]
"""Ask the peer for a new trial (None: the peer has nothing more to run)."""
Report = Callable[[RunningTrial, int, float], bool]
"""Tell the peer `trial` reached `length` with `accuracy`; True to go on training, False to stop."""


def run_clock(
    problem: Problem, *, workers: int, budget: float, start: Start, report: Report
) -> tuple[list[tuple[float, float]], int, float, float]:
    """Play the search until `budget`; return (validations, trials started, busy, end time)."""
    lengths = problem.report_lengths
    queue: list[tuple[float, int, RunningTrial]] = []
    seq = 0
    validations: list[tuple[float, float]] = []
    trials = 0
    busy = 0.0

    def launch(now: float) -> bool:
        nonlocal seq, trials
        trial = start()
        if trial is None:
            return False
        trial.started = now
        trials += 1
        seq += 1
        heapq.heappush(queue, (now + _step_cost(problem, trial.hparams, 0), seq, trial))
        return True

    for _ in range(workers):
        if not launch(0.0):
            break
    end = 0.0
    while queue:
        now, _, trial = heapq.heappop(queue)
        if now > budget:
            busy += budget - trial.started
            for _, _, other in queue:
                busy += budget - other.started
            return validations, trials, busy, budget
        length = lengths[trial.step]
        accuracy = problem.objective(trial.hparams, length)
        validations.append((now, accuracy))
        go_on = report(trial, length, accuracy) and trial.step + 1 < len(lengths)
        end = now
        if go_on:
            trial.step += 1
            seq += 1
            heapq.heappush(
                queue, (now + _step_cost(problem, trial.hparams, trial.step), seq, trial)
            )
        else:
            busy += now - trial.started
            launch(now)
    return validations, trials, busy, end


def _step_cost(problem: Problem, hparams: Mapping[str, Any], step: int) -> float:
    lengths = problem.report_lengths
    previous = problem.cost(hparams, lengths[step - 1]) if step else 0.0
    return max(problem.cost(hparams, lengths[step]) - previous, 1e-9)


def trace_from_clock(
    method: str,
    problem: Problem,
    workers: int,
    seed: int,
    budget: float,
    played: tuple[list[tuple[float, float]], int, float, float],
) -> RunTrace:
    """The `RunTrace` of a `run_clock` result."""
    validations, trials, busy, end = played
    return RunTrace(
        method=method,
        problem=problem.name,
        workers=workers,
        seed=seed,
        budget=budget,
        trajectory=improvements(validations),
        trials=trials,
        utilization=busy / (workers * end) if end > 0 else 0.0,
        end_time=end,
    )
