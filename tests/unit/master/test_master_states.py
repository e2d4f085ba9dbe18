"""Lifecycle enums: which transitions are allowed and what an illegal one says."""

from __future__ import annotations

import itertools

import pytest

from trainyard.errors import InvalidTransitionError
from trainyard.master import states
from trainyard.master.states import (
    AllocationState,
    CheckpointState,
    ExperimentState,
    TaskState,
    TrialState,
)

E, T = ExperimentState, TrialState
ALL_ENUMS = (ExperimentState, TrialState, AllocationState, CheckpointState, TaskState)


def test_public_surface() -> None:
    assert sorted(states.__all__) == sorted(e.__name__ for e in ALL_ENUMS)


def test_values_are_the_upper_case_names_stored_in_the_db() -> None:
    for enum in ALL_ENUMS:
        for member in enum:
            assert member.value == member.name


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (E.ACTIVE, E.PAUSED),
        (E.PAUSED, E.ACTIVE),
        (E.ACTIVE, E.STOPPING_CANCELED),
        (E.STOPPING_CANCELED, E.STOPPING_KILLED),
        (E.STOPPING_COMPLETED, E.COMPLETED),
        (E.STOPPING_KILLED, E.CANCELED),
        (E.COMPLETED, E.DELETING),
        (E.DELETING, E.DELETE_FAILED),
        (T.QUEUED, T.RUNNING),
        (T.RUNNING, T.QUEUED),
        (T.RUNNING, T.PAUSED),
        (T.PAUSED, T.QUEUED),
        (T.RUNNING, T.STOPPING_COMPLETED),
        (T.STOPPING_ERROR, T.ERRORED),
    ],
)
def test_the_normal_lifecycle_is_allowed(current: E | T, target: E | T) -> None:
    assert current.can_transition_to(target)
    assert current.transition_to(target) is target


@pytest.mark.parametrize(
    ("current", "target", "message"),
    [
        (E.PAUSED, E.PAUSED, "cannot pause experiment 7: it is already PAUSED"),
        (
            E.COMPLETED,
            E.ACTIVE,
            "cannot activate experiment 7: it has already ended (COMPLETED); "
            "fork it to run it again",
        ),
        (
            E.STOPPING_CANCELED,
            E.ACTIVE,
            "cannot activate experiment 7: it is stopping (STOPPING_CANCELED); wait until it has "
            "ended",
        ),
        (
            E.ACTIVE,
            E.DELETING,
            "cannot delete experiment 7: it is ACTIVE; cancel or kill it and wait until it has "
            "ended",
        ),
        (E.DELETING, E.ACTIVE, "cannot activate experiment 7: it is being deleted (DELETING)"),
        (
            E.STOPPING_KILLED,
            E.STOPPING_CANCELED,
            "cannot cancel experiment 7: it is already stopping (STOPPING_KILLED)",
        ),
    ],
)
def test_illegal_experiment_moves_say_why_in_one_line(current: E, target: E, message: str) -> None:
    with pytest.raises(InvalidTransitionError) as err:
        current.transition_to(target, subject="experiment 7")
    assert str(err.value) == message


def test_a_finished_trial_points_to_continuing_from_a_checkpoint() -> None:
    with pytest.raises(InvalidTransitionError, match="continue it from a checkpoint"):
        T.CANCELED.transition_to(T.QUEUED, subject="trial 3")


@pytest.mark.parametrize("enum", ALL_ENUMS)
def test_terminal_states_lead_nowhere_but_deletion(enum: type[E]) -> None:
    for current, target in itertools.product(enum, enum):
        if current.is_terminal and target is not E.DELETING:
            assert not current.can_transition_to(target)


@pytest.mark.parametrize("enum", ALL_ENUMS)
def test_every_refusal_is_a_single_line_naming_the_subject(enum: type[E]) -> None:
    for current, target in itertools.product(enum, enum):
        if current.can_transition_to(target):
            continue
        with pytest.raises(InvalidTransitionError) as err:
            current.transition_to(target, subject="thing 1")
        assert "thing 1" in str(err.value) and "\n" not in str(err.value)
        assert current.value in str(err.value)


def test_every_non_terminal_state_can_reach_a_terminal_one() -> None:
    for enum in ALL_ENUMS:
        for start in enum:
            seen, frontier = {start}, [start]
            while frontier:
                state = frontier.pop()
                for nxt in enum:
                    if state.can_transition_to(nxt) and nxt not in seen:
                        seen.add(nxt)
                        frontier.append(nxt)
            assert any(s.is_terminal for s in seen) or start.value.startswith("DELET"), start


def test_stopping_flags() -> None:
    assert E.STOPPING_ERROR.is_stopping and not E.ACTIVE.is_stopping
    assert T.STOPPING_KILLED.is_stopping and not T.CANCELED.is_stopping
