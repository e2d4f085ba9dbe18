"""`decide_exit`: the runtime's exit rule as a pure function, one spec per rule plus an
exhaustive sweep over every combination of the facts it reads."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from trainyard.master.runtime._completion import work_is_saved
from trainyard.master.runtime._exits import (
    ExitDecision,
    ExitFacts,
    Outcome,
    decide_exit,
    describe_exit,
)
from trainyard.master.states import ExperimentState, TrialState

_ASKED = ("pause", "preempt", "stop", "idle")
RUNNING = ExitFacts(
    code=0,
    trial_state=TrialState.RUNNING,
    experiment_state=ExperimentState.ACTIVE,
    preempt_reason=None,
    exited_reason=None,
    closed=False,
    stop_requested=False,
    target_length=10,
    completed_length=5,
    checkpoint_covers_work=True,
    restarts=0,
    max_restarts=1,
)
DONE = replace(RUNNING, closed=True, target_length=None, completed_length=10)
"""Searcher work done: the searcher closed the trial after its last validation."""


def test_work_done_and_exit_0_completes() -> None:
    assert decide_exit(DONE) == ExitDecision(Outcome.COMPLETE, TrialState.COMPLETED)


@pytest.mark.parametrize("code", [137, -9, 1, 250])
def test_killed_after_last_validation_before_its_checkpoint_is_a_failure_that_redoes_it(
    code: int,
) -> None:
    facts = replace(DONE, code=code, checkpoint_covers_work=False)
    decision = decide_exit(facts)
    assert decision.outcome is Outcome.RESTART and decision.state is TrialState.QUEUED
    assert decision.redo_final_checkpoint
    assert "before its final checkpoint was registered" in decision.reason
    out_of_restarts = decide_exit(replace(facts, restarts=1))
    assert out_of_restarts.outcome is Outcome.ERROR
    assert out_of_restarts.state is TrialState.ERRORED


def test_a_crash_after_the_final_checkpoint_is_registered_still_completes() -> None:
    # e.g. a distributed teardown that exits 250 after the trial finished and checkpointed
    assert decide_exit(replace(DONE, code=250)).outcome is Outcome.COMPLETE


def test_work_done_lost_with_the_master_before_its_checkpoint_is_requeued_without_a_failure() -> (
    None
):
    decision = decide_exit(replace(DONE, code=None, checkpoint_covers_work=False))
    assert decision == ExitDecision(Outcome.REQUEUE, TrialState.QUEUED, redo_final_checkpoint=True)


def test_stopped_by_the_searcher_and_killed_before_its_checkpoint_redoes_it() -> None:
    facts = replace(RUNNING, closed=True, stop_requested=True, target_length=None, code=137)
    assert decide_exit(facts).outcome is Outcome.COMPLETE  # covered: nothing lost
    lost = decide_exit(replace(facts, checkpoint_covers_work=False))
    assert lost.outcome is Outcome.RESTART and lost.redo_final_checkpoint


def test_a_redo_target_is_pending_work() -> None:
    redo = replace(DONE, target_length=10, completed_length=10, code=0)
    decision = decide_exit(redo)  # exited 0 without resending its validation
    assert decision.outcome is Outcome.RESTART and not decision.redo_final_checkpoint


def test_restarts_count_restarts_not_failures() -> None:
    crash = replace(RUNNING, code=3)
    first = decide_exit(crash)
    assert first.outcome is Outcome.RESTART and first.reason == "exited with code 3"
    second = decide_exit(replace(crash, restarts=1))
    assert second.outcome is Outcome.ERROR
    assert second.reason == "exited with code 3; no restarts left (max_restarts 1)"
    assert decide_exit(replace(crash, max_restarts=0)).outcome is Outcome.ERROR


def test_preemption_pause_idle_and_a_lost_master_are_not_failures() -> None:
    for reason in ("pause", "preempt", "stop", "idle"):
        assert decide_exit(replace(RUNNING, code=137, preempt_reason=reason)) == ExitDecision(
            Outcome.REQUEUE, TrialState.QUEUED
        )
    assert decide_exit(replace(RUNNING, code=None)).outcome is Outcome.REQUEUE
    paused = replace(RUNNING, code=0, preempt_reason="pause")
    paused = replace(paused, experiment_state=ExperimentState.PAUSED)
    assert decide_exit(paused).state is TrialState.PAUSED


def test_exit_0_without_pending_work_waits_idle_and_with_pending_work_is_a_failure() -> None:
    idle = replace(RUNNING, target_length=None)
    assert decide_exit(idle) == ExitDecision(Outcome.REQUEUE, TrialState.QUEUED)
    unfinished = decide_exit(RUNNING)
    assert unfinished.outcome is Outcome.RESTART
    assert unfinished.reason == "exited 0 before finishing its searcher work"


def test_early_exits_person_kills_and_stopping_experiments() -> None:
    assert decide_exit(replace(RUNNING, exited_reason="invalid_hp")).state is TrialState.COMPLETED
    assert decide_exit(replace(RUNNING, exited_reason="errored")).state is TrialState.ERRORED
    kill = decide_exit(replace(DONE, code=-9, preempt_reason="kill"))
    assert kill == ExitDecision(Outcome.USER_CANCELED, TrialState.CANCELED)
    canceling = replace(DONE, experiment_state=ExperimentState.STOPPING_CANCELED)
    assert decide_exit(canceling) == ExitDecision(Outcome.END, TrialState.CANCELED)
    failing = replace(RUNNING, experiment_state=ExperimentState.STOPPING_ERROR)
    assert decide_exit(failing) == ExitDecision(Outcome.END, TrialState.ERRORED)
    assert decide_exit(replace(DONE, trial_state=TrialState.COMPLETED)).outcome is Outcome.IGNORE


def test_a_failure_says_why_in_one_line() -> None:
    crash = replace(RUNNING, code=2, last_output="python3: can't open file 'missing.py'")
    assert decide_exit(crash).reason == "exited with code 2: python3: can't open file 'missing.py'"
    killed = replace(crash, code=137)  # a kill's last output line is not its cause
    assert decide_exit(killed).reason == "was killed by SIGKILL (exit 137; out of memory?)"
    unstarted = decide_exit(replace(crash, code=127, start_error="no such interpreter"))
    assert unstarted.reason == "could not start: no such interpreter"
    redo = replace(DONE, code=127, checkpoint_covers_work=False, start_error="no such interpreter")
    assert decide_exit(redo).reason == (
        "could not start: no such interpreter before its final checkpoint was registered"
    )


def test_describe_exit_names_signals() -> None:
    assert describe_exit(137) == "was killed by SIGKILL (exit 137; out of memory?)"
    assert describe_exit(-9) == "was killed by SIGKILL (exit -9; out of memory?)"
    assert describe_exit(143) == "was killed by SIGTERM (exit 143)"
    assert describe_exit(3) == "exited with code 3"
    assert describe_exit(None) == "was lost with the master"


def _all_facts() -> list[ExitFacts]:
    combos = itertools.product(
        [0, 1, 137, -9, None],
        [TrialState.RUNNING, TrialState.QUEUED, TrialState.COMPLETED],
        [ExperimentState.ACTIVE, ExperimentState.PAUSED, ExperimentState.STOPPING_KILLED],
        [None, "pause", "preempt", "stop", "idle", "kill"],
        [None, "errored", "invalid_hp"],
        [False, True],
        [False, True],
        [None, 5, 10],
        [5, 10],
        [False, True],
        [0, 1],
    )
    return [
        ExitFacts(code, ts, es, pr, er, closed, stop, target, done, covers, restarts, 1)
        for code, ts, es, pr, er, closed, stop, target, done, covers, restarts in combos
        if target is None or target >= done
    ]


def test_every_combination_of_facts_gets_a_consistent_decision() -> None:
    facts_list = _all_facts()
    assert len(facts_list) > 10_000
    for f in facts_list:
        d = decide_exit(f)
        assert d == decide_exit(f)  # deterministic
        assert (d.outcome is Outcome.IGNORE) == (d.state is None), f
        if f.trial_state.is_terminal:
            assert d.outcome is Outcome.IGNORE
            continue
        assert d.state is not None and d.state is not TrialState.RUNNING, f
        saved = work_is_saved(
            last_exit_code=f.code, checkpoint_covers_work=f.checkpoint_covers_work
        )
        if d.outcome is Outcome.COMPLETE:
            # completed only with its searcher work done and nothing lost
            pending = f.target_length is not None
            assert f.closed and (not pending or f.stop_requested), f
            assert saved, f
        work_done = f.closed and (f.target_length is None or f.stop_requested)
        if work_done and not saved and d.outcome in (Outcome.REQUEUE, Outcome.RESTART):
            # a lost final checkpoint is always redone, counted only for an unasked exit
            assert d.redo_final_checkpoint, f
            counted = f.code is not None and f.preempt_reason not in _ASKED
            assert (d.outcome is Outcome.RESTART) == counted, f
        if d.outcome is Outcome.RESTART:
            assert f.restarts < f.max_restarts and d.reason, f
            assert f.code is not None, f  # a lost master is never counted as a failure
        if d.outcome is Outcome.ERROR:
            assert f.restarts >= f.max_restarts and d.reason, f
        if d.redo_final_checkpoint:
            assert d.outcome in (Outcome.RESTART, Outcome.REQUEUE) and f.closed, f
        if f.code not in (0, None) and f.closed and not f.checkpoint_covers_work:
            # a kill after the last validation never ends COMPLETED
            assert d.outcome is not Outcome.COMPLETE, f


@pytest.mark.parametrize("reason", ["preempt", "idle", "pause", "stop"])
def test_killed_while_asked_to_stop_after_its_last_validation_redoes_it_without_a_failure(
    reason: str,
) -> None:
    # kill -9 (or OOM) while being preempted, after the validation, before the checkpoint
    facts = replace(DONE, code=137, preempt_reason=reason, checkpoint_covers_work=False)
    decision = decide_exit(facts)
    assert decision == ExitDecision(Outcome.REQUEUE, TrialState.QUEUED, redo_final_checkpoint=True)
    assert decide_exit(replace(facts, checkpoint_covers_work=True)).outcome is Outcome.COMPLETE


def test_work_is_saved_is_the_one_completion_rule() -> None:
    assert work_is_saved(last_exit_code=0, checkpoint_covers_work=False)
    assert work_is_saved(last_exit_code=137, checkpoint_covers_work=True)
    assert work_is_saved(last_exit_code=None, checkpoint_covers_work=True)
    for code in (None, 1, 137, -9, 250):
        assert not work_is_saved(last_exit_code=code, checkpoint_covers_work=False)
