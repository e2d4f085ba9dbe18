"""The model-based sampler (`TPESampler`): native axes, no repeats, fidelity, determinism.

Every test drives the real sampler (and, where it says so, a real searcher through the test
driver or `simulate`); nothing is mocked.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Mapping
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from searcher_driver import Driver

from trainyard.searcher import PBT, AdaptiveASHA, HParamSpace, TPESampler, UniformSampler
from trainyard.searcher._sampler import make_sampler
from trainyard.searcher._simulate import simulate

MIXED = HParamSpace.of(
    {
        "x": {"type": "double", "minval": 0.0, "maxval": 1.0},
        "lr": {"type": "log", "minval": -5, "maxval": -1},
        "width": {"type": "int", "minval": 8, "maxval": 64},
        "opt": {"type": "categorical", "vals": ["sgd", "adam", "lamb"]},
        "fixed": {"deep": 3},
    }
)


def flat_values(space: HParamSpace, h: Mapping[str, Any]) -> list[Any]:
    flat = space.flat(h)
    return [flat[p.keys] for p in space.params]


def key(space: HParamSpace, h: Mapping[str, Any]) -> str:
    return json.dumps(flat_values(space, h))


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    cards=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    ints=st.integers(1, 4),
    seed=st.integers(0, 1000),
)
def test_a_finite_space_of_n_configs_gets_n_distinct_draws_before_any_repeat(
    cards: list[int], ints: int, seed: int
) -> None:
    spec: dict[str, Any] = {
        f"c{i}": {"type": "categorical", "vals": list(range(k))} for i, k in enumerate(cards)
    }
    spec["n"] = {"type": "int", "minval": 3, "maxval": 2 + ints}
    spec["k"] = 7
    space = HParamSpace.of(spec)
    size = math.prod(cards) * ints
    sampler = TPESampler(n_startup=2)
    rng = np.random.default_rng(seed)
    draws = []
    for i in range(2 * size):
        h = sampler.sample(space, rng)
        draws.append(key(space, h))
        sampler.observe(flat_values(space, h), 1 + i % 3, float(sum(flat_values(space, h)[:-1])))
    assert len(set(draws[:size])) == size
    assert len(set(draws[size:])) == size  # the second round again has no repeat


def test_an_asha_search_over_twenty_learners_trains_each_once_before_repeating() -> None:
    config = {
        "name": "finite",
        "entrypoint": "python3 train.py",
        "hyperparameters": {"learner": {"type": "categorical", "vals": list(range(20))}},
        "searcher": {
            "name": "async_halving",
            "metric": "loss",
            "max_trials": 20,
            "num_rungs": 3,
            "max_length": {"batches": 16},
            "max_concurrent_trials": 4,
            "sampler": "tpe",
        },
    }
    result = simulate(
        config, lambda h, n: abs(h["learner"] - 13) / n, lambda h, n: float(n), workers=4
    )
    assert sorted(t.hparams["learner"] for t in result.trials) == list(range(20))


def test_ints_and_choices_are_drawn_natively_in_range() -> None:
    sampler = TPESampler(n_startup=3)
    rng = np.random.default_rng(0)
    for _ in range(80):
        h = sampler.sample(MIXED, rng)
        assert isinstance(h["width"], int) and 8 <= h["width"] <= 64
        assert isinstance(h["x"], float) and 0.0 <= h["x"] <= 1.0
        assert 1e-5 <= h["lr"] <= 1e-1 and h["opt"] in ("sgd", "adam", "lamb")
        assert h["fixed"] == {"deep": 3}
        sampler.observe(flat_values(MIXED, h), 1, (h["width"] - 40) ** 2 + h["x"])


def quadratic_distances(sampler: TPESampler | UniformSampler, seed: int) -> list[float]:
    """After 60 observed draws of a quadratic with its optimum at (0.8, 0.3): the next 60
    draws' distances to the optimum (the draws are not observed)."""
    space = HParamSpace.of(
        {
            "a": {"type": "double", "minval": 0.0, "maxval": 1.0},
            "b": {"type": "double", "minval": 0.0, "maxval": 1.0},
        }
    )
    rng = np.random.default_rng(seed)
    for _ in range(60):
        h = sampler.sample(space, rng)
        sampler.observe([h["a"], h["b"]], 10, (h["a"] - 0.8) ** 2 + (h["b"] - 0.3) ** 2)
    later = [sampler.sample(space, rng) for _ in range(60)]
    return [math.hypot(h["a"] - 0.8, h["b"] - 0.3) for h in later]


def test_the_model_concentrates_on_a_known_optimum() -> None:
    uniform = statistics.median(
        d for s in range(3) for d in quadratic_distances(UniformSampler(), s)
    )
    model = statistics.median(d for s in range(3) for d in quadratic_distances(TPESampler(), s))
    assert model < 0.4 * uniform, (model, uniform)


def test_it_follows_the_longest_length_group_with_enough_results() -> None:
    space = HParamSpace.of({"opt": {"type": "categorical", "vals": ["a", "b", "c", "d", "e"]}})
    sampler = TPESampler(n_startup=4, random_fraction=0.0)
    # Short runs favour "a"; the longer runs (enough of them) say "c" is best.
    for name, short, long in [("a", 0.1, 0.9), ("b", 0.5, 0.8), ("c", 0.6, 0.1), ("d", 0.7, 0.7)]:
        sampler.observe([name], 10, short)
        sampler.observe([name], 100, long)
    sampler.observe(["e"], 10, 0.9)
    rng = np.random.default_rng(1)
    draws = []
    for _ in range(40):
        draws.append(sampler.sample(space, rng)["opt"])
        sampler.seen.clear()  # look at the model's preference, not at the no-repeat rule
    assert draws.count("c") > 20, draws


def test_short_runs_guide_the_model_while_longer_ones_are_too_few() -> None:
    space = HParamSpace.of({"opt": {"type": "categorical", "vals": ["a", "b", "c", "d", "e"]}})
    sampler = TPESampler(n_startup=4, random_fraction=0.0)
    for name, score in [("a", 0.9), ("b", 0.8), ("c", 0.7), ("d", 0.1), ("e", 0.6)]:
        sampler.observe([name], 10, score)
    sampler.observe(["a"], 100, 0.05)  # one long result: not enough to trust yet
    rng = np.random.default_rng(2)
    draws = []
    for _ in range(40):
        draws.append(sampler.sample(space, rng)["opt"])
        sampler.seen.clear()
    assert draws.count("d") > 20, draws


def tpe_adaptive() -> AdaptiveASHA:
    return AdaptiveASHA(
        {
            "x": {"type": "double", "minval": 0.0, "maxval": 1.0},
            "width": {"type": "int", "minval": 8, "maxval": 64},
            "opt": {"type": "categorical", "vals": ["sgd", "adam", "lamb"]},
        },
        max_length=64,
        max_trials=40,
        max_rungs=3,
        divisor=2,
        max_concurrent_trials=3,
        seed=5,
        sampler=make_sampler("tpe"),
    )


def tpe_pbt() -> PBT:
    return PBT(
        {
            "x": {"type": "double", "minval": 0.0, "maxval": 1.0},
            "opt": {"type": "categorical", "vals": ["sgd", "adam", "lamb"]},
        },
        population_size=6,
        num_rounds=4,
        length_per_round=10,
        truncate_fraction=0.5,
        resample_probability=0.5,
        perturb_factor=0.2,
        seed=3,
        sampler=make_sampler("tpe"),
    )


def test_same_seed_same_search_and_a_json_snapshot_restore_continues_identically() -> None:
    for build in (tpe_adaptive, tpe_pbt):
        straight = Driver(build(), seed=4, max_length=64).run()
        again = Driver(build(), seed=4, max_length=64).run()
        assert repr(again.log) == repr(straight.log)
        for swap_at in (straight.steps // 4, straight.steps // 2, straight.steps - 2):
            resumed = Driver(build(), seed=4, max_length=64, rebuild=build, swap_at=swap_at).run()
            assert repr(resumed.log) == repr(straight.log), (build.__name__, swap_at)


def test_the_sampler_state_round_trips_through_json_mid_stream() -> None:
    a = TPESampler(n_startup=3)
    rng_a = np.random.default_rng(11)
    for _ in range(15):
        h = a.sample(MIXED, rng_a)
        a.observe(flat_values(MIXED, h), 5, h["x"] if h["opt"] != "sgd" else math.inf)
    b = TPESampler(n_startup=3)
    b.load(json.loads(json.dumps(a.dump(), allow_nan=False)))
    rng_b = np.random.default_rng()
    rng_b.bit_generator.state = rng_a.bit_generator.state
    assert [a.sample(MIXED, rng_a) for _ in range(10)] == [
        b.sample(MIXED, rng_b) for _ in range(10)
    ]


def test_sampler_uniform_is_determineds_draw_exactly() -> None:
    rng_a, rng_b = np.random.default_rng(7), np.random.default_rng(7)
    sampler = make_sampler("uniform")
    assert [sampler.sample(MIXED, rng_a) for _ in range(5)] == [
        MIXED.sample(rng_b) for _ in range(5)
    ]
    assert not make_sampler("random").learns and make_sampler("tpe").learns


def test_asha_promotes_instead_of_repeating_once_a_finite_space_is_used_up() -> None:
    config = {
        "name": "finite",
        "entrypoint": "python3 train.py",
        "hyperparameters": {"learner": {"type": "categorical", "vals": list(range(6))}},
        "searcher": {
            "name": "async_halving",
            "metric": "loss",
            "max_trials": 12,
            "num_rungs": 3,
            "divisor": 2,
            "max_length": {"batches": 16},
            "max_concurrent_trials": 1,
            "sampler": "tpe",
        },
    }
    result = simulate(
        config, lambda h, n: abs(h["learner"] - 4) / n, lambda h, n: float(n), workers=1
    )
    first = result.trials[:6]
    assert sorted(t.hparams["learner"] for t in first) == list(range(6))
    # with a sampler that repeats (uniform), most of them would have stopped at the first rung
    assert [t.trained_length for t in first] == [16] * 6
    uniform = simulate(
        {**config, "searcher": {**config["searcher"], "sampler": "uniform"}},
        lambda h, n: abs(h["learner"] - 4) / n,
        lambda h, n: float(n),
        workers=1,
    )
    assert len(uniform.trials) == 12 and sum(t.trained_length == 16 for t in uniform.trials) < 6


def test_new_configs_get_tpe_and_aggressive_and_determineds_search_is_one_field_away() -> None:
    from trainyard.searcher import make_searcher

    def adaptive(**extra: Any) -> dict[str, Any]:
        return {
            "name": "defaults",
            "entrypoint": "python3 train.py",
            "hyperparameters": {"x": {"type": "double", "minval": 0.0, "maxval": 1.0}},
            "searcher": {
                "name": "adaptive_asha",
                "metric": "loss",
                "max_trials": 16,
                "max_length": {"batches": 1024},
                **extra,
            },
        }

    default = make_searcher(adaptive())
    assert isinstance(default, AdaptiveASHA) and isinstance(default.sampler, TPESampler)
    assert len(default.brackets) == 1  # aggressive: one bracket with every rung
    determined = make_searcher(adaptive(sampler="uniform", mode="standard"))
    assert isinstance(determined, AdaptiveASHA)
    assert isinstance(determined.sampler, UniformSampler) and len(determined.brackets) > 1
    pbt = make_searcher(
        {
            **adaptive(),
            "searcher": {
                "name": "pbt",
                "metric": "loss",
                "population_size": 4,
                "num_rounds": 2,
                "length_per_round": {"batches": 10},
                "replace_function": {"truncate_fraction": 0.5},
                "explore_function": {"resample_probability": 0.5, "perturb_factor": 0.2},
            },
        }
    )
    assert isinstance(pbt, PBT) and isinstance(pbt.sampler, UniformSampler)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    lo=st.floats(-5, 5),
    width=st.sampled_from([0.0, 0.4, 1.0, 7.5]),
    seed=st.integers(0, 1000),
)
def test_draws_stay_valid_on_narrow_and_degenerate_ranges(
    lo: float, width: float, seed: int
) -> None:
    space = HParamSpace.of(
        {
            "d": {"type": "double", "minval": lo, "maxval": lo + width},
            "i": {"type": "int", "minval": lo, "maxval": lo + width},
            "g": {"type": "log", "minval": lo, "maxval": lo + width, "base": 2},
            "c": {"type": "categorical", "vals": [True, None, {"k": 1}]},
        }
    )
    allowed_ints = set(range(int(lo), int(lo + width) + 1))
    sampler = TPESampler(n_startup=2, random_fraction=0.0)
    rng = np.random.default_rng(seed)
    for step in range(12):
        h = sampler.sample(space, rng)
        assert lo <= h["d"] <= lo + width and isinstance(h["d"], float)
        assert isinstance(h["i"], int) and h["i"] in allowed_ints
        assert 2**lo * (1 - 1e-12) <= h["g"] <= 2 ** (lo + width) * (1 + 1e-12)
        assert h["c"] in (True, None, {"k": 1})
        sampler.observe(flat_values(space, h), 1 + step % 2, float(h["d"] + h["i"]))
