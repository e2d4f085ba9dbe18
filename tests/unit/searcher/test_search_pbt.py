"""PBT: truncation selection, children from top parents' checkpoints, constant population."""

from __future__ import annotations

import random
from typing import Any

import pytest
from searcher_driver import Driver, new_trial

from trainyard.errors import ConfigError
from trainyard.searcher import PBT, Close, Create, ExitedReason, Shutdown, ValidateAfter

SPACE = {
    "lr": {"type": "log", "minval": -4, "maxval": -1},
    "layers": {"type": "int", "minval": 1, "maxval": 8},
    "dropout": {"type": "double", "minval": 0.0, "maxval": 0.5},
    "act": {"type": "categorical", "vals": ["relu", "tanh"]},
    "batch": 32,
}


def pbt(population: int = 8, rounds: int = 4, **kw: float) -> PBT:
    args: dict[str, Any] = {
        "truncate_fraction": 0.25,
        "resample_probability": 0.2,
        "perturb_factor": 0.2,
        **kw,
    }
    return PBT(
        SPACE, population_size=population, num_rounds=rounds, length_per_round=10, seed=5, **args
    )


def by_id(rid: int, length: int, rnd: random.Random) -> float:
    """Lower request ids are better, whatever the round."""
    return float(rid)


def test_a_round_replaces_the_worst_quarter_with_children_of_the_best() -> None:
    s = pbt()
    ops = s.initial_operations()
    assert [op.length for op in ops if isinstance(op, ValidateAfter)] == [10] * 8
    out: list[object] = []
    for rid in range(1, 9):
        out = s.on_validation_completed(rid, float(rid), 10)  # type: ignore[assignment]
    assert out[:2] == [Close(7), Close(8)]
    survivors = [op for op in out if isinstance(op, ValidateAfter) and op.request_id <= 6]
    assert survivors == [ValidateAfter(rid, 20) for rid in range(1, 7)]
    children = [op for op in out if isinstance(op, Create)]
    assert [(c.request_id, c.checkpoint_from) for c in children] == [(9, 1), (10, 2)]
    assert ValidateAfter(9, 20) in out and ValidateAfter(10, 20) in out
    assert children[0].hparams["batch"] == 32


@pytest.mark.parametrize("seed", range(3))
def test_population_stays_constant_and_runs_the_rounds(seed: int) -> None:
    s = pbt(population=8, rounds=4)
    driver = Driver(s, seed=seed, max_length=40, metric=by_id).run()
    driver.check_finished()
    # 8 initial trials + 2 children in each of the 3 rounds that are followed by another
    assert len(driver.trials) == 8 + 3 * 2
    assert sorted(driver.final_lengths().values()) == [10, 10, 20, 20, 30, 30] + [40] * 8
    for trial in driver.trials.values():
        if trial.checkpoint_from is not None:
            parent = driver.trials[trial.checkpoint_from]
            assert trial.request_id > parent.request_id
            assert parent.request_id <= 2 or parent.checkpoint_from is not None


def test_children_hparams_stay_within_bounds() -> None:
    driver = Driver(pbt(population=10, rounds=6, perturb_factor=0.9), seed=0).run()
    driver.check_finished()
    for trial in driver.trials.values():
        hp = trial.hparams
        assert 1e-4 <= hp["lr"] <= 1e-1 and 1 <= hp["layers"] <= 8
        assert 0.0 <= hp["dropout"] <= 0.5 and hp["act"] in ("relu", "tanh")


def test_parents_come_from_the_top_fraction() -> None:
    s = pbt(population=10, rounds=2, truncate_fraction=0.3)
    s.initial_operations()
    out = []
    for rid in range(1, 11):
        out = s.on_validation_completed(rid, -float(rid), 10)  # 10 is best
    children = [op for op in out if isinstance(op, Create)]
    assert [c.checkpoint_from for c in children] == [10, 9, 8]
    assert [op for op in out if isinstance(op, Close)] == [Close(3), Close(2), Close(1)]


def test_failed_members_are_replaced_and_invalid_ones_redrawn() -> None:
    s = pbt(population=4, rounds=2)
    s.initial_operations()
    ops = s.on_trial_exited_early(1, ExitedReason.INVALID_HP)
    assert new_trial(ops).request_id == 5
    assert new_trial(ops).checkpoint_from is None
    s.on_validation_completed(2, 0.1, 10)
    s.on_trial_exited_early(2, ExitedReason.ERRORED)  # after its result: gone, replaced
    s.on_validation_completed(3, 0.2, 10)
    out = s.on_validation_completed(4, 0.3, 10) + s.on_validation_completed(5, 0.4, 10)
    # truncate floor(0.25 * 4) = 1 → trial 5 closed; failed trial 2 replaced too
    assert Close(5) in out and Close(2) not in out
    children = [op for op in out if isinstance(op, Create)]
    assert len(children) == 2 and {c.checkpoint_from for c in children} == {3}


def test_whole_population_failing_ends_the_search_as_failure() -> None:
    s = pbt(population=2, rounds=3, truncate_fraction=0.5)
    s.initial_operations()
    assert s.on_trial_exited_early(1, ExitedReason.ERRORED) == []
    assert s.on_trial_exited_early(2, ExitedReason.USER_CANCELED) == [Shutdown(failure=True)]


def test_progress_counts_results_per_round() -> None:
    s = pbt(population=4, rounds=2)
    s.initial_operations()
    assert s.on_validation_completed(1, 0.5, 5) == [], "short of the round's length"
    s.on_validation_completed(1, 0.5, 10)
    assert s.on_validation_completed(1, 0.1, 10) == [], "one result per round"
    assert s.progress() == pytest.approx(1 / 8)


@pytest.mark.parametrize(
    ("field", "value"),
    [("truncate_fraction", 0.7), ("resample_probability", 1.5), ("perturb_factor", -0.1)],
)
def test_bad_fractions_are_config_errors(field: str, value: float) -> None:
    with pytest.raises(ConfigError, match=f"searcher.{field}"):
        pbt(**{field: value})  # type: ignore[arg-type]
