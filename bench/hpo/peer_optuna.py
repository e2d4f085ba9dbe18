"""Optuna (ask/tell) with `SuccessiveHalvingPruner` / `HyperbandPruner` on the simulated clock.

The sampler is Optuna's default, TPE (seeded); the pruners get the same minimum resource and
reduction factor as our halving searchers (`problem.max_length / divisor**(rungs-1)`, `divisor`).
Every trial reports at each of the problem's report lengths, as a user's training loop would.
"""

from __future__ import annotations

import warnings
from typing import Any

from bench.hpo.problems import Problem
from bench.hpo.simclock import RunningTrial, run_clock, trace_from_clock
from bench.hpo.trace import RunTrace

METHODS = ["sha", "hyperband"]


def _suggest(trial: Any, hyperparameters: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, spec in hyperparameters.items():
        kind = spec["type"]
        if kind == "categorical":
            out[name] = trial.suggest_categorical(name, spec["vals"])
        elif kind == "int":
            out[name] = trial.suggest_int(name, int(spec["minval"]), int(spec["maxval"]))
        elif kind == "log":
            base = float(spec.get("base", 10.0))
            low, high = base ** float(spec["minval"]), base ** float(spec["maxval"])
            out[name] = trial.suggest_float(name, low, high, log=True)
        else:
            out[name] = trial.suggest_float(name, float(spec["minval"]), float(spec["maxval"]))
    return out


def run_optuna(
    method: str, problem: Problem, *, workers: int, budget: float, seed: int
) -> RunTrace:
    """Optuna TPE + the `method` pruner ("sha" or "hyperband") on `problem` for `budget` seconds."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    min_resource = max(1, problem.max_length // problem.divisor ** (problem.rungs - 1))
    pruner: Any
    if method == "sha":
        pruner = optuna.pruners.SuccessiveHalvingPruner(
            min_resource=min_resource, reduction_factor=problem.divisor
        )
    elif method == "hyperband":
        pruner = optuna.pruners.HyperbandPruner(
            min_resource=min_resource,
            max_resource=problem.max_length,
            reduction_factor=problem.divisor,
        )
    else:
        raise ValueError(f"unknown Optuna method {method!r}; choose from {METHODS}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optuna.create_study(
            direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed), pruner=pruner
        )

    def start() -> RunningTrial:
        trial = study.ask()
        return RunningTrial(trial, _suggest(trial, problem.hyperparameters), 0.0)

    def report(running: RunningTrial, length: int, accuracy: float) -> bool:
        trial = running.handle
        trial.report(accuracy, length)
        if length >= problem.max_length:
            study.tell(trial, accuracy)
            return False
        if trial.should_prune():
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            return False
        return True

    played = run_clock(problem, workers=workers, budget=budget, start=start, report=report)
    return trace_from_clock(f"optuna:{method}", problem, workers, seed, budget, played)
