"""Syne Tune on its simulator backend: a `Blackbox` over a benchmark problem, simulated time.

Syne Tune's own simulator (`UserBlackboxBackend` + `SimulatorCallback`) plays the search: a trial
reports the problem's accuracy at each report length with `elapsed_time = cost(hp, length)`, and
a paused trial resumes from its checkpoint, as in our `simulate`. Schedulers: `RandomSearch`,
`ASHA` (Syne Tune's ASHA is the stopping variant) and Hyperband (`ASHA` with one bracket per
rung), with our halving searchers' grace period (`max_length / divisor**(rungs-1)`) and divisor.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import warnings
from typing import Any

import numpy as np

from bench.hpo.problems import Problem
from bench.hpo.trace import RunTrace, improvements

METHODS = ["random", "asha", "hyperband"]
FIDELITY = "length"
TIME_SCALE = 10_000.0


def _config_space(hyperparameters: dict[str, Any]) -> dict[str, Any]:
    from syne_tune.config_space import choice, loguniform, randint, uniform  # type: ignore[import-untyped, import-not-found, unused-ignore]

    space: dict[str, Any] = {}
    for name, spec in hyperparameters.items():
        kind = spec["type"]
        if kind == "categorical":
            space[name] = choice(list(spec["vals"]))
        elif kind == "int":
            space[name] = randint(int(spec["minval"]), int(spec["maxval"]))
        elif kind == "log":
            base = float(spec.get("base", 10.0))
            space[name] = loguniform(base ** float(spec["minval"]), base ** float(spec["maxval"]))
        else:
            space[name] = uniform(float(spec["minval"]), float(spec["maxval"]))
    return space


def _blackbox(problem: Problem, scale: float) -> Any:
    from syne_tune.blackbox_repository.blackbox import Blackbox  # type: ignore[import-untyped, import-not-found, unused-ignore]
    from syne_tune.config_space import randint  # type: ignore[import-untyped, import-not-found, unused-ignore]

    class ProblemBlackbox(Blackbox):  # type: ignore[misc]  # Syne Tune ships no type hints
        """Every report length's accuracy and cumulative cost, for one configuration."""

        def __init__(self) -> None:
            super().__init__(
                configuration_space=_config_space(problem.hyperparameters),
                fidelity_space={FIDELITY: randint(1, problem.max_length)},
                objectives_names=["accuracy", "elapsed_time"],
            )

        @property
        def fidelity_values(self) -> np.ndarray:
            return np.array(problem.report_lengths)

        def _objective_function(
            self, configuration: dict[str, Any], fidelity: Any = None, seed: Any = None
        ) -> np.ndarray:
            rows = [
                (problem.objective(configuration, n), scale * problem.cost(configuration, n))
                for n in problem.report_lengths
            ]
            return np.array(rows, dtype=float)

    return ProblemBlackbox()


def run_synetune(
    method: str, problem: Problem, *, workers: int, budget: float, seed: int
) -> RunTrace:
    """Syne Tune's `method` (one of `METHODS`) on `problem` for `budget` simulated seconds."""
    logging.getLogger("syne_tune").setLevel(logging.ERROR)
    with (
        tempfile.TemporaryDirectory() as folder,
        warnings.catch_warnings(),
        contextlib.redirect_stdout(io.StringIO()),  # its tuner prints a status table per run
    ):
        warnings.simplefilter("ignore")
        os.environ["SYNETUNE_FOLDER"] = folder
        return _run(method, problem, workers=workers, budget=budget, seed=seed)


def _run(method: str, problem: Problem, *, workers: int, budget: float, seed: int) -> RunTrace:
    from syne_tune import StoppingCriterion, Tuner  # type: ignore[import-untyped, import-not-found, unused-ignore]
    from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback  # type: ignore[import-untyped, import-not-found, unused-ignore]
    from syne_tune.blackbox_repository.simulated_tabular_backend import UserBlackboxBackend  # type: ignore[import-untyped, import-not-found, unused-ignore]
    from syne_tune.optimizer.baselines import ASHA, RandomSearch  # type: ignore[import-untyped, import-not-found, unused-ignore]

    # Syne Tune's simulator adds fixed delays (~0.05 s) per event and 0.01 s minimum steps; with
    # costs of a few seconds (digits, LCDB) those would dominate, so time is scaled so that one
    # full training takes TIME_SCALE seconds, and scaled back in the trace.
    scale = TIME_SCALE / problem.mean_full_cost
    blackbox = _blackbox(problem, scale)
    space = dict(blackbox.configuration_space)
    grace = max(1, problem.max_length // problem.divisor ** (problem.rungs - 1))
    scheduler: Any
    if method == "random":
        scheduler = RandomSearch(space, metrics=["accuracy"], do_minimize=False, random_seed=seed)
    elif method in ("asha", "hyperband"):
        scheduler = ASHA(
            space,
            metric="accuracy",
            time_attr=FIDELITY,
            max_t=problem.max_length,
            do_minimize=False,
            random_seed=seed,
            grace_period=grace,
            reduction_factor=problem.divisor,
            brackets=1 if method == "asha" else problem.rungs,
        )
    else:
        raise ValueError(f"unknown Syne Tune method {method!r}; choose from {METHODS}")
    backend = UserBlackboxBackend(blackbox=blackbox, elapsed_time_attr="elapsed_time", seed=0)
    callback = SimulatorCallback()
    tuner = Tuner(
        trial_backend=backend,
        scheduler=scheduler,
        stop_criterion=StoppingCriterion(max_wallclock_time=budget * scale),
        n_workers=workers,
        sleep_time=0,
        callbacks=[callback],
        tuner_name=f"bench-{problem.name}-{method}-{seed}",
        save_tuner=False,
        print_update_interval=10**9,
        results_update_interval=10**9,
    )
    tuner.run()
    frame = callback.dataframe()
    return _trace(f"synetune:{method}", problem, workers, seed, budget, frame, scale)


def _trace(
    method: str, problem: Problem, workers: int, seed: int, budget: float, frame: Any, scale: float
) -> RunTrace:
    from syne_tune.constants import ST_TUNER_TIME  # type: ignore[import-untyped, import-not-found, unused-ignore]

    frame = frame.assign(
        **{
            ST_TUNER_TIME: frame[ST_TUNER_TIME] / scale,
            "elapsed_time": frame["elapsed_time"] / scale,
        }
    )
    frame = frame[frame[ST_TUNER_TIME] <= budget]
    validations = list(
        zip(frame[ST_TUNER_TIME].astype(float), frame["accuracy"].astype(float), strict=True)
    )
    busy = 0.0
    for _, rows in frame.sort_values(ST_TUNER_TIME).groupby("trial_id"):
        previous = 0.0
        for elapsed in rows["elapsed_time"].astype(float):
            busy += elapsed - previous if elapsed >= previous else elapsed
            previous = elapsed
    end = float(frame[ST_TUNER_TIME].max()) if len(frame) else 0.0
    return RunTrace(
        method=method,
        problem=problem.name,
        workers=workers,
        seed=seed,
        budget=budget,
        trajectory=improvements(validations),
        trials=int(frame["trial_id"].nunique()),
        utilization=busy / (workers * end) if end > 0 else 0.0,
        end_time=end,
    )
