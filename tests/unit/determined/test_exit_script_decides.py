"""Exit rule for searches whose training script decides the length (Determined 0.38): a trial
that exits 0 on its own has finished; preemption and failures keep their meaning."""

from __future__ import annotations

from dataclasses import replace

import pytest

from trainyard.config import load_experiment_config
from trainyard.master.runtime._exits import ExitDecision, ExitFacts, Outcome, decide_exit
from trainyard.master.states import ExperimentState, TrialState

# A 0.38 hpsearch trial: target max_time (100) pending, trained to 60, exits 0 on its own.
SCRIPT_DECIDED = ExitFacts(
    code=0,
    trial_state=TrialState.RUNNING,
    experiment_state=ExperimentState.ACTIVE,
    preempt_reason=None,
    exited_reason=None,
    closed=False,
    stop_requested=False,
    target_length=100,
    completed_length=60,
    checkpoint_covers_work=True,
    restarts=0,
    max_restarts=0,
    script_decides_length=True,
)


def test_exit_0_completes_the_trial() -> None:
    assert decide_exit(SCRIPT_DECIDED) == ExitDecision(Outcome.COMPLETE, TrialState.COMPLETED)
    lengthless = replace(SCRIPT_DECIDED, target_length=None, completed_length=0)
    assert decide_exit(lengthless).outcome is Outcome.COMPLETE


def test_before_the_fix_the_same_exit_was_a_failure() -> None:
    # the 0.37 rule (the searcher decides the length): exit 0 with work pending is a failure
    decision = decide_exit(replace(SCRIPT_DECIDED, script_decides_length=False))
    assert decision.outcome is Outcome.ERROR
    assert "exited 0 before finishing its searcher work" in decision.reason


@pytest.mark.parametrize("reason", ["pause", "preempt", "idle"])
def test_preempted_trials_resume(reason: str) -> None:
    decision = decide_exit(replace(SCRIPT_DECIDED, preempt_reason=reason))
    assert decision.outcome is Outcome.REQUEUE


def test_a_crash_is_still_a_failure() -> None:
    assert decide_exit(replace(SCRIPT_DECIDED, code=1)).outcome is Outcome.ERROR


def test_stopped_by_the_searcher_completes() -> None:
    stopped = replace(SCRIPT_DECIDED, closed=True, stop_requested=True, preempt_reason="stop")
    assert decide_exit(stopped).outcome is Outcome.COMPLETE


@pytest.mark.parametrize(
    ("searcher", "decides"),
    [
        ({"name": "single"}, True),
        ({"name": "random", "max_trials": 2}, True),
        ({"name": "grid"}, True),
        ({"name": "single", "max_length": {"batches": 5}}, False),
        ({"name": "adaptive_asha", "max_trials": 2, "time_metric": "b", "max_time": 9}, True),
        ({"name": "adaptive_asha", "max_trials": 2, "max_length": {"batches": 9}}, False),
        ({"name": "custom", "searcher_class": "m:C"}, False),
    ],
)
def test_which_searches_the_script_decides(searcher: dict[str, object], decides: bool) -> None:
    config = load_experiment_config(
        {"entrypoint": "python3 t.py", "searcher": {"metric": "x", **searcher}}
    )
    assert config.searcher.script_decides_length is decides


def test_time_metric_points_read_numbers_and_wire_strings_only() -> None:
    from trainyard.master.runtime._time_metric import _point

    assert _point({"batches": 40.0, "x": 2}, "batches", "x") == (40, 2.0)
    nan = _point({"batches": 5, "x": "NaN"}, "batches", "x")
    assert nan is not None and nan[0] == 5 and nan[1] != nan[1]
    assert _point({"batches": 5, "x": "inf"}, "batches", "x") is None
    assert _point({"batches": True, "x": 1.0}, "batches", "x") is None
    assert _point({"batches": -1, "x": 1.0}, "batches", "x") is None
    assert _point({"x": 1.0}, "batches", "x") is None, "no time metric: not fed"
