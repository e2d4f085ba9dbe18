"""The synthetic learning-curve problem that demos, tests and benchmarks simulate against."""

from __future__ import annotations

import math

import numpy as np
import pytest

from trainyard.searcher._sim_synthetic import LearningCurveProblem, ParamRange


def test_the_optimum_is_the_best_any_trial_reaches() -> None:
    problem = LearningCurveProblem()
    best = problem.objective(problem.optimum(), problem.max_length)
    rng = np.random.default_rng(0)
    others = [
        {
            "lr": float(10 ** rng.uniform(-4, -1)),
            "width": int(rng.integers(16, 257)),
            "dropout": float(rng.uniform(0, 0.5)),
        }
        for _ in range(500)
    ]

    assert best == pytest.approx(0.95 * (1 - math.exp(-20)))
    assert all(problem.objective(h, problem.max_length) < best for h in others)


def test_learning_curves_rise_with_length_and_cost_grows_with_width() -> None:
    problem = LearningCurveProblem()
    h = {"lr": 1e-3, "width": 64, "dropout": 0.1}
    curve = [problem.objective(h, n) for n in (0, 100, 400, 1600)]
    wide = {**h, "width": 256}

    assert curve == sorted(curve) and curve[0] == 0.0
    assert problem.cost(h, 0) == 0.0
    assert problem.cost(wide, 100) > problem.cost(h, 100) > 0.0


def test_noise_is_deterministic_and_bounded() -> None:
    noisy = LearningCurveProblem(noise=0.01)
    clean = LearningCurveProblem()
    h = {"lr": 1e-2, "width": 100, "dropout": 0.3}
    values = [noisy.objective(h, n) - clean.objective(h, n) for n in range(1, 200)]

    assert noisy.objective(h, 50) == noisy.objective(h, 50)
    assert all(abs(v) <= 0.01 for v in values)
    assert len(set(values)) > 100


def test_a_problem_follows_a_configs_numeric_hyperparameters() -> None:
    hyperparameters = {
        "global_batch_size": 32,
        "lr": {"type": "log", "minval": -4, "maxval": -1.5, "base": 10},
        "filters": {"type": "int", "minval": 4, "maxval": 32},
        "act": {"type": "categorical", "vals": ["relu", "tanh"]},
    }
    problem = LearningCurveProblem.for_hyperparameters(hyperparameters, max_length=320)

    assert problem.space == {
        "lr": ParamRange(-4.0, -1.5, log=True),
        "filters": ParamRange(4.0, 32.0),
    }
    assert (problem.speed, problem.size, problem.max_length) == ("lr", "filters", 320)
    optimum = problem.optimum()
    assert optimum["lr"] == pytest.approx(10**-2.5)
    assert problem.final_accuracy({**optimum, "act": "relu"}) == pytest.approx(problem.best)


def test_config_carries_the_space_and_the_searcher_section() -> None:
    problem = LearningCurveProblem(max_length=800)
    config = problem.config({"name": "random", "max_trials": 5})

    assert config["searcher"] == {
        "name": "random",
        "max_trials": 5,
        "metric": "accuracy",
        "smaller_is_better": False,
        "max_length": {"batches": 800},
    }
    assert config["hyperparameters"]["width"] == {"type": "int", "minval": 16, "maxval": 256}
    assert config["hyperparameters"]["lr"]["type"] == "log"
