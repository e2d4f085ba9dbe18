"""Adaptive ASHA plans its brackets exactly as Determined (0.37.0 and 0.38.1) does.

The vectors below are the ones of Determined's own unit tests (master/pkg/searcher/
adaptive_asha_test.go: TestBracketMaxTrials, TestBracketMaxConcurrentTrials, TestMakeBrackets,
TestAdaptiveASHASearchMethod), re-stated against Trainyard's functions.
"""

from __future__ import annotations

import pytest

from trainyard.config import load_experiment_config
from trainyard.errors import TrainyardError
from trainyard.searcher import (
    AdaptiveASHA,
    Close,
    Create,
    Shutdown,
    ValidateAfter,
    make_searcher,
    preview_search,
)
from trainyard.searcher._adaptive import (
    bracket_rungs_for,
    capped_max_rungs,
    split_concurrency,
    split_max_trials,
)


@pytest.mark.parametrize(
    ("max_trials", "divisor", "rungs", "expected"),
    [
        (20, 3.0, [3, 2, 1], [12, 5, 3]),
        (50, 3.0, [4, 3], [35, 15]),
        (50, 4.0, [3, 2], [37, 13]),
        (100, 4.0, [4, 3, 2], [70, 22, 8]),
    ],
)
def test_bracket_max_trials(
    max_trials: int, divisor: float, rungs: list[int], expected: list[int]
) -> None:
    assert split_max_trials(max_trials, divisor, rungs) == expected


@pytest.mark.parametrize(
    ("concurrent", "divisor", "trials", "expected"),
    [
        (0, 3.0, [9, 3, 1], [3, 3, 3]),
        (11, 3.0, [9, 3, 1], [4, 4, 3]),
        (0, 4.0, [40, 10], [10, 10]),  # the narrowest bracket's full parallelism
        (2, 4.0, [5, 3, 1], [1, 1, 1]),  # raised to one per bracket
    ],
)
def test_bracket_max_concurrent_trials(
    concurrent: int, divisor: float, trials: list[int], expected: list[int]
) -> None:
    assert split_concurrency(concurrent, divisor, trials) == expected


def test_make_brackets_standard_time_metric() -> None:
    # max_time 100, max_trials 10, divisor 4 (default), max_rungs 5 (default), 2 at once
    s = AdaptiveASHA(
        None, max_length=100, max_trials=10, max_concurrent_trials=2, trial_driven=True
    )
    assert [len(b.rungs) for b in s.brackets] == [2, 1]
    assert [b.max_trials for b in s.brackets] == [7, 3]
    assert [b.max_concurrent_trials for b in s.brackets] == [1, 1]


def test_make_brackets_conservative_divisor_3() -> None:
    s = AdaptiveASHA(
        None,
        max_length=1000,
        max_trials=10,
        divisor=3.0,
        max_concurrent_trials=5,
        mode="conservative",
        trial_driven=True,
    )
    assert [len(b.rungs) for b in s.brackets] == [3, 2, 1]
    assert [b.max_trials for b in s.brackets] == [7, 2, 1]
    assert [b.max_concurrent_trials for b in s.brackets] == [2, 2, 1]


def test_max_trials_caps_the_rung_count() -> None:
    # ln(937)/ln(4) = 4.93 allows 5 rungs; ln(16)/ln(4) = 2 allows 3.
    assert capped_max_rungs(5, 937, 16, 4.0) == 3
    s = AdaptiveASHA(None, max_length=937, max_trials=16, divisor=4)
    assert [b.rung_lengths for b in s.brackets] == [[58, 234, 937], [234, 937]]
    assert [b.max_trials for b in s.brackets] == [12, 4]


def test_the_cap_uses_floating_point_logs_like_determined() -> None:
    # ln(1000)/ln(10) is 2.9999999999999996: Determined plans 3 rungs, not 4.
    assert capped_max_rungs(5, 1000, 1000, 10.0) == 3
    assert bracket_rungs_for("conservative", 5, None, 1000, 10.0, 1000) == [3, 2, 1]


@pytest.mark.parametrize(
    ("mode", "max_rungs", "expected"),
    [
        ("standard", 5, [5, 4, 3]),
        ("standard", 4, [4, 3, 2]),
        ("standard", 2, [2, 1]),
        ("standard", 1, [1]),
        ("conservative", 3, [3, 2, 1]),
        ("aggressive", 4, [4]),
    ],
)
def test_modes(mode: str, max_rungs: int, expected: list[int]) -> None:
    assert bracket_rungs_for(mode, max_rungs, None, 10**6, 4.0, 10**6) == expected


def test_explicit_bracket_rungs_are_not_capped_only_sorted() -> None:
    assert bracket_rungs_for("standard", 5, [2, 6], 100, 4.0, 2) == [6, 2]


def test_more_brackets_than_trials_gives_each_bracket_one() -> None:
    s = AdaptiveASHA(None, max_length=10_000, max_trials=1, max_rungs=5, mode="conservative")
    # ln(1)/ln(4) = 0 caps the rungs at 1: one bracket, one trial
    assert [(len(b.rungs), b.max_trials) for b in s.brackets] == [(1, 1)]
    s = AdaptiveASHA(None, max_length=10_000, max_trials=2, bracket_rungs=[3, 2, 1])
    assert [b.max_trials for b in s.brackets] == [1, 1, 1]


def _play(smaller_is_better: bool, metrics: list[float]) -> dict[int, list[int]]:
    """Determined's TestAdaptiveASHASearchMethod: 900 batches, 5 trials, standard, 2 rungs,
    divisor 3. Trial i reports metrics[i] at every length; returns each trial's lengths."""
    s = AdaptiveASHA(
        None,
        max_length=900,
        max_trials=5,
        mode="standard",
        max_rungs=2,
        divisor=3,
        smaller_is_better=smaller_is_better,
    )
    trained: dict[int, list[int]] = {}
    queue = list(s.initial_operations())
    while queue:
        op = queue.pop(0)
        if isinstance(op, Create):
            trained[op.request_id] = []
        elif isinstance(op, ValidateAfter):
            trained[op.request_id].append(op.length)
            queue += s.on_validation_completed(op.request_id, metrics[op.request_id - 1], op.length)
        elif isinstance(op, Close):
            queue += s.on_trial_closed(op.request_id)
        else:
            assert isinstance(op, Shutdown)
    assert s.shut_down
    return trained


def test_search_method_smaller_is_better() -> None:
    trained = _play(True, [0.1, 0.2, 0.3, 0.4, 0.5])
    assert trained == {1: [300, 900], 2: [300], 3: [300], 4: [900], 5: [900]}


def test_search_method_smaller_is_not_better() -> None:
    trained = _play(False, [0.5, 0.4, 0.3, 0.2, 0.1])
    assert trained == {1: [300, 900], 2: [300], 3: [300], 4: [900], 5: [900]}


def test_preview_config_plans_determined_rungs() -> None:
    config = load_experiment_config(
        {
            "name": "x",
            "entrypoint": "python3 train.py",
            "searcher": {
                "name": "adaptive_asha",
                "metric": "loss",
                "max_trials": 16,
                "divisor": 4,
                "mode": "standard",  # Determined's default (Trainyard's is aggressive)
                "max_length": {"batches": 937},
            },
            "hyperparameters": {"lr": {"type": "double", "minval": 0.0, "maxval": 1.0}},
        }
    )
    s = make_searcher(config)
    assert isinstance(s, AdaptiveASHA)
    assert s.brackets[0].rung_lengths == [58, 234, 937]
    preview = preview_search(config)  # what `trainyard preview` prints
    assert [[r.length for r in b.rungs] for b in preview.brackets] == [[58, 234, 937], [234, 937]]
    assert [b.trials for b in preview.brackets] == [12, 4]


def test_a_snapshot_keeps_its_bracket_plan() -> None:
    # A search saved under one plan continues under that plan, whatever the arithmetic (or the
    # arguments) of the searcher it is restored into.
    space = {"lr": {"type": "double", "minval": 0.0, "maxval": 1.0}}
    first = AdaptiveASHA(space, max_length=937, max_trials=16, divisor=4, max_concurrent_trials=4)
    ops = first.initial_operations()
    rid = next(op.request_id for op in ops if isinstance(op, Create))
    first.on_validation_completed(rid, 0.5, 58)
    snapshot = first.snapshot()
    assert snapshot["plan"] == [[3, 12, 2], [2, 4, 2]]
    other = AdaptiveASHA(space, max_length=937, max_trials=100, divisor=4)
    other.restore(snapshot)
    assert other.plan == first.plan
    assert [b.rung_lengths for b in other.brackets] == [[58, 234, 937], [234, 937]]
    events = [(2, 0.1, 58), (3, 0.2, 58), (4, 0.05, 58), (1, 0.3, 234)]
    for rid_, metric, length in events:
        expected = first.on_validation_completed(rid_, metric, length)
        assert other.on_validation_completed(rid_, metric, length) == expected
    assert other.snapshot() == first.snapshot()


def test_an_old_snapshot_with_another_bracket_count_is_refused_in_one_line() -> None:
    s = AdaptiveASHA(None, max_length=937, max_trials=16, divisor=4)
    old = s.snapshot()
    del old["plan"]
    old["brackets"] = old["brackets"][:1]
    with pytest.raises(TrainyardError, match="saved by an older Trainyard"):
        AdaptiveASHA(None, max_length=937, max_trials=16, divisor=4).restore(old)
