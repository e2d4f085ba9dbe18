"""`trainyard.predict`: estimates from history records, with intervals, and no answer from
too little history. Real sklearn models on generated histories; nothing is mocked."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from trainyard.predict import (
    MIN_ROWS,
    Ensemble,
    Estimate,
    Predictor,
    QueueState,
    RunRecord,
    queue_state,
)


def history(n: int = 80, seed: int = 0) -> list[RunRecord]:
    """Runs whose step time grows with width (1 ms per unit) and halves with 2 slots, one after
    another on a 4-slot pool, with peak memory proportional to width."""
    rng = np.random.default_rng(seed)
    out, t = [], 0.0
    for i in range(n):
        width = int(rng.choice([16, 64, 256]))
        slots = int(rng.choice([1, 2]))
        length = float(rng.choice([100, 1000, 5000]))
        run = length * width * 1e-3 / slots * float(rng.lognormal(0, 0.05))
        out.append(
            RunRecord(
                user=("ann", "bob")[i % 2],
                experiment_id=i // 10,
                slots=slots,
                queued_at=t,
                hparams={"model": {"width": width}, "opt": "adam"},
                length=length,
                started_at=t + 5.0,
                ended_at=t + 5.0 + run,
                peak_memory=1e6 * width * float(rng.lognormal(0, 0.05)),
            )
        )
        t += 60.0
    return out


@pytest.fixture(scope="module")
def fitted() -> Predictor:
    return Predictor(history(), capacity=4)


def test_run_time_follows_the_config_and_the_length_within_its_interval(
    fitted: Predictor,
) -> None:
    predictor = fitted
    for width, slots, length in [(16, 1, 1000), (256, 2, 5000), (64, 1, 100)]:
        query = RunRecord(
            "ann",
            99,
            slots=slots,
            queued_at=0.0,
            length=length,
            hparams={"model": {"width": width}, "opt": "adam"},
        )
        truth = length * width * 1e-3 / slots
        estimate = predictor.trial_seconds(query)
        assert estimate is not None
        assert abs(estimate.value - truth) / truth < 0.25, (width, slots, length, estimate)
        assert estimate.low <= estimate.value <= estimate.high


def test_a_search_spreads_over_its_concurrency_but_never_beats_its_longest_trial(
    fitted: Predictor,
) -> None:
    predictor = fitted
    trial = RunRecord(
        "ann",
        99,
        slots=1,
        queued_at=0.0,
        length=1000,
        hparams={"model": {"width": 64}, "opt": "adam"},
    )
    one = predictor.trial_seconds(trial)
    four = predictor.search_seconds([trial] * 4, concurrency=2)
    single = predictor.search_seconds([trial], concurrency=8)
    assert one is not None and four is not None and single is not None
    assert four.value == pytest.approx(2 * one.value)
    assert single.value == pytest.approx(one.value)


def test_peak_memory_is_estimated_from_the_config(fitted: Predictor) -> None:
    predictor = fitted
    query = RunRecord("bob", 99, slots=1, queued_at=0.0, hparams={"model": {"width": 256}})
    estimate = predictor.peak_memory(query)
    assert estimate is not None and abs(estimate.value - 256e6) / 256e6 < 0.25


def test_too_little_history_gives_no_answer_rather_than_a_guess(fitted: Predictor) -> None:
    few = history(MIN_ROWS - 1)
    predictor = Predictor(few, capacity=4)
    query = RunRecord("ann", 1, slots=1, queued_at=0.0, length=100)
    state = queue_state(few, 0.0, slots=1, user="ann", capacity=4)
    assert predictor.trial_seconds(query) is None
    assert predictor.queue_wait(state) is None
    assert predictor.peak_memory(query) is None
    assert fitted.trial_seconds(RunRecord("a", 1, 1, 0.0)) is None  # no length: no estimate
    with pytest.raises(ValueError, match="at least 5 rows, got 2"):
        Ensemble(np.zeros((2, 1)), np.ones(2))


def test_the_queue_is_rebuilt_from_the_records_at_a_moment() -> None:
    records = [
        RunRecord("ann", 1, slots=2, queued_at=0.0, started_at=1.0, ended_at=100.0),
        RunRecord("bob", 2, slots=1, queued_at=5.0, started_at=50.0, ended_at=60.0),
        RunRecord("ann", 3, slots=4, queued_at=10.0),  # still waiting
        RunRecord("cho", 4, slots=1, queued_at=30.0, started_at=31.0, ended_at=40.0),
    ]
    state = queue_state(records, 20.0, slots=1, user="ann", capacity=8)
    assert (state.pending, state.pending_slots, state.user_pending) == (2, 5, 1)
    assert (state.running, state.running_slots, state.user_running_slots) == (1, 2, 2)
    assert state.oldest_wait == 15.0 and state.shortest_elapsed == 19.0
    assert len(state.vector()) == 12


def test_queue_wait_grows_with_the_queue_ahead() -> None:
    records, t = [], 0.0
    rng = np.random.default_rng(1)
    for i in range(60):  # wait = 30 s per request already waiting when it was queued
        ahead = int(rng.integers(0, 6))
        records.append(
            RunRecord(
                "ann",
                i,
                slots=1,
                queued_at=t,
                started_at=t + 30.0 * ahead,
                ended_at=t + 30.0 * ahead + 10.0,
            )
        )
        t += 1000.0
    met = [
        QueueState(
            1,
            "ann",
            4,
            pending=int((r.wait_seconds or 0) // 30),
            pending_slots=0,
            running=0,
            running_slots=0,
            user_pending=0,
            user_running_slots=0,
            oldest_wait=0.0,
            shortest_elapsed=0.0,
        )
        for r in records
    ]
    predictor = Predictor(records, capacity=4, met=met)
    short = predictor.queue_wait(dataclasses.replace(met[0], pending=0))
    long = predictor.queue_wait(dataclasses.replace(met[0], pending=5))
    assert short is not None and long is not None
    assert short.value < 10.0 and 100.0 < long.value < 200.0


def test_the_same_history_gives_the_same_estimates() -> None:
    query = RunRecord(
        "ann",
        9,
        slots=1,
        queued_at=0.0,
        length=700,
        hparams={"model": {"width": 64}, "opt": "adam"},
    )
    a = Predictor(history(30, seed=3), capacity=4).trial_seconds(query)
    b = Predictor(history(30, seed=3), capacity=4).trial_seconds(query)
    assert a == b and isinstance(a, Estimate) and math.isfinite(a.spread)


def test_a_record_is_built_from_the_masters_rows() -> None:
    from trainyard.predict import record_from_rows

    allocation = {
        "id": "a1",
        "slots": 2,
        "resource_pool": "gpu",
        "created_at": 100.0,
        "started_at": 130.0,
        "ended_at": None,
    }
    trial = {"experiment_id": 7, "hparams": {"opt": {"lr": 0.1}}}
    experiment = {"owner_id": 3, "config": {"entrypoint": "python3 train.py"}}
    record = record_from_rows(allocation, trial, experiment, length=500)
    assert record == RunRecord(
        user="3",
        experiment_id=7,
        slots=2,
        queued_at=100.0,
        hparams={"opt": {"lr": 0.1}},
        context={"pool": "gpu", "entrypoint": "python3 train.py"},
        length=500,
        started_at=130.0,
        ended_at=None,
    )
    assert record.wait_seconds == 30.0 and record.run_seconds is None
