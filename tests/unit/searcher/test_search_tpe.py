"""`sampler: tpe`: hyperparameters drawn from what the search has seen, purely and replayably."""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

from trainyard.errors import ConfigError
from trainyard.searcher import AdaptiveASHA, HParamSpace, TPESampler, make_searcher
from trainyard.searcher._simulate import simulate

SPACE = HParamSpace.of(
    {
        "x": {"type": "double", "minval": 0.0, "maxval": 1.0},
        "lr": {"type": "log", "minval": -5, "maxval": -1},
        "width": {"type": "int", "minval": 8, "maxval": 64},
        "opt": {"type": "categorical", "vals": ["sgd", "adam", "lamb", "rmsprop"]},
        "fixed": 3,
    }
)


def loss(h: Mapping[str, Any]) -> float:
    """Best at x=0.8, lr=1e-3, width=48, opt=lamb."""
    return (
        (h["x"] - 0.8) ** 2
        + (math.log10(h["lr"]) + 3) ** 2 / 16
        + ((h["width"] - 48) / 56) ** 2
        + (0.0 if h["opt"] == "lamb" else 0.3)
    )


def values(h: Mapping[str, Any]) -> list[Any]:
    flat = SPACE.flat(h)
    return [flat[p.keys] for p in SPACE.params]


def sequential_search(sampler: TPESampler | None, seed: int, trials: int = 80) -> list[float]:
    """Losses of `trials` configs drawn one after another, each seen before the next draw."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(trials):
        h = SPACE.sample(rng) if sampler is None else sampler.sample(SPACE, rng)
        out.append(loss(h))
        if sampler is not None:
            sampler.observe(values(h), 1, out[-1])
    return out


def test_it_concentrates_where_the_good_results_are() -> None:
    uniform = [statistics.mean(sequential_search(None, seed)[40:]) for seed in range(5)]
    tpe = [statistics.mean(sequential_search(TPESampler(), seed)[40:]) for seed in range(5)]
    assert statistics.mean(tpe) < 0.5 * statistics.mean(uniform)
    assert min(min(sequential_search(TPESampler(), s)) for s in range(5)) < 0.01


def test_values_keep_their_types_and_ranges() -> None:
    sampler = TPESampler(n_startup=3)
    rng = np.random.default_rng(0)
    for _ in range(60):
        h = sampler.sample(SPACE, rng)
        assert 0.0 <= h["x"] <= 1.0 and isinstance(h["x"], float)
        assert 1e-5 <= h["lr"] <= 1e-1
        assert isinstance(h["width"], int) and 8 <= h["width"] <= 64
        assert h["opt"] in ("sgd", "adam", "lamb", "rmsprop") and h["fixed"] == 3
        sampler.observe(values(h), 1, loss(h))


def test_nan_and_inf_results_rank_last_and_survive_a_snapshot() -> None:
    sampler = TPESampler(n_startup=2)
    sampler.observe([0.5, 1e-3, 16, "sgd", 3], 5, math.inf)
    sampler.observe([0.2, 1e-2, 32, "adam", 3], 5, 0.3)
    copy = TPESampler(n_startup=2)
    copy.load(json.loads(json.dumps(sampler.dump())))
    assert copy.results == sampler.results
    a, b = np.random.default_rng(9), np.random.default_rng(9)
    assert [sampler.sample(SPACE, a) for _ in range(5)] == [copy.sample(SPACE, b) for _ in range(5)]


def test_kept_results_are_bounded_oldest_first() -> None:
    sampler = TPESampler(max_kept=3)
    for i in range(5):
        sampler.observe([float(i)], 1, float(i))
    assert [v for v, _ in sampler.results.values()] == [[2.0], [3.0], [4.0]]


def test_adaptive_asha_brackets_share_one_sampler_kept_once_in_the_snapshot() -> None:
    search = AdaptiveASHA(
        {"x": {"type": "double", "minval": 0, "maxval": 1}},
        max_length=64,
        max_trials=20,
        max_rungs=3,
        divisor=2,
        sampler=TPESampler(n_startup=2),
    )
    ops = search.initial_operations()
    created = [op for op in ops if type(op).__name__ == "Create"]
    for op in created:
        search.on_validation_completed(op.request_id, op.hparams["x"], 16)
    assert {id(b.sampler) for b in search.brackets} == {id(search.sampler)}
    snapshot = json.loads(json.dumps(search.snapshot()))
    assert len(snapshot["sampler"]["results"]) == len(created)
    assert all("sampler" not in bracket for bracket in snapshot["brackets"])
    assert any(bracket.get("sampled") for bracket in snapshot["brackets"])


def synthetic_config(sampler: str) -> dict[str, Any]:
    return {
        "name": "tpe-vs-uniform",
        "entrypoint": "python3 train.py",
        "hyperparameters": {
            "x": {"type": "double", "minval": 0.0, "maxval": 1.0},
            "y": {"type": "double", "minval": 0.0, "maxval": 1.0},
        },
        "searcher": {
            "name": "random",
            "metric": "loss",
            "max_trials": 60,
            "max_concurrent_trials": 2,
            "max_length": {"batches": 10},
            "sampler": sampler,
        },
    }


def test_a_random_search_config_with_sampler_tpe_finds_better_configs() -> None:
    def objective(h: Mapping[str, Any], length: int) -> float:
        return (h["x"] - 0.7) ** 2 + (h["y"] - 0.2) ** 2

    def best(sampler: str, seed: int) -> float:
        result = simulate(
            synthetic_config(sampler), objective, lambda h, n: float(n), workers=2, seed=seed
        )
        return min(m for t in result.trials for _, m in t.metrics)

    uniform = statistics.mean(best("random", s) for s in range(6))
    tpe = statistics.mean(best("tpe", s) for s in range(6))
    assert tpe < 0.5 * uniform


def test_sampler_is_refused_by_methods_that_do_not_draw_freely() -> None:
    config = synthetic_config("tpe")
    config["searcher"] = {**config["searcher"], "name": "grid"}
    del config["searcher"]["max_trials"]
    config["hyperparameters"] = {"x": {"type": "double", "minval": 0, "maxval": 1, "count": 3}}
    with pytest.raises(ConfigError, match=r"searcher\.sampler.*not a field of the grid searcher"):
        make_searcher(config)


def test_an_unknown_sampler_name_is_a_one_line_error() -> None:
    with pytest.raises(ConfigError) as err:
        make_searcher(synthetic_config("bayes"))
    assert str(err.value) == "searcher.sampler: must be one of tpe, uniform, random, got 'bayes'"
