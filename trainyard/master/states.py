"""Lifecycle states of experiments, trials, allocations, checkpoints and tasks.

Each state is a `StrEnum` member (its value is the upper-case name stored in the DB and sent over
the API). Changes go through `state.transition_to(target, subject=...)`, which returns `target`
when the move is allowed and otherwise raises `InvalidTransitionError` with one line that names the
object, its current state and what to do:

    >>> ExperimentState.COMPLETED.transition_to(ExperimentState.PAUSED, subject="experiment 4")
    Traceback (most recent call last):
    ...
    trainyard.errors.InvalidTransitionError: cannot pause experiment 4: it has already ended \
(COMPLETED); fork it to run it again
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Self

from trainyard.errors import InvalidTransitionError

__all__ = [
    "AllocationState",
    "CheckpointState",
    "ExperimentState",
    "TaskState",
    "TrialState",
]


class _Lifecycle(enum.StrEnum):
    """Shared transition logic; the per-enum rules live in `_RULES` below."""

    @property
    def is_terminal(self) -> bool:
        """True when no further transition (other than deletion) is possible."""
        return self in _TERMINAL[type(self)]

    @property
    def is_stopping(self) -> bool:
        """True for the STOPPING_* states: work is winding down towards a terminal state."""
        return self.value.startswith("STOPPING_")

    def can_transition_to(self, target: Self) -> bool:
        """Whether `self -> target` is allowed (moving to the same state never is)."""
        return target in _RULES[type(self)].get(self, frozenset())

    def transition_to(self, target: Self, *, subject: str | None = None) -> Self:
        """Return `target` if `self -> target` is allowed; else raise `InvalidTransitionError`.

        `subject` names the object in the message ("experiment 4"); it defaults to the kind.
        """
        if self.can_transition_to(target):
            return target
        raise InvalidTransitionError(_explain(self, target, subject or _KIND[type(self)]))


class ExperimentState(_Lifecycle):
    """Where an experiment is in its life; `archived` is a separate flag, not a state."""

    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    STOPPING_CANCELED = "STOPPING_CANCELED"
    STOPPING_KILLED = "STOPPING_KILLED"
    STOPPING_COMPLETED = "STOPPING_COMPLETED"
    STOPPING_ERROR = "STOPPING_ERROR"
    COMPLETED = "COMPLETED"
    CANCELED = "CANCELED"
    ERRORED = "ERRORED"
    DELETING = "DELETING"
    DELETE_FAILED = "DELETE_FAILED"


class TrialState(_Lifecycle):
    """Where a trial is: QUEUED waits for slots, RUNNING has an allocation, PAUSED waits for
    its experiment to be activated."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    STOPPING_CANCELED = "STOPPING_CANCELED"
    STOPPING_KILLED = "STOPPING_KILLED"
    STOPPING_COMPLETED = "STOPPING_COMPLETED"
    STOPPING_ERROR = "STOPPING_ERROR"
    COMPLETED = "COMPLETED"
    CANCELED = "CANCELED"
    ERRORED = "ERRORED"


class AllocationState(_Lifecycle):
    """One run of one trial on some slots: PENDING (waiting for slots) -> STARTING (processes
    launched) -> RUNNING (the trial called in) -> TERMINATING (asked to stop) -> TERMINATED."""

    PENDING = "PENDING"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    TERMINATING = "TERMINATING"
    TERMINATED = "TERMINATED"


class CheckpointState(_Lifecycle):
    """A registered checkpoint is ACTIVE until garbage collection or a delete removes its files."""

    ACTIVE = "ACTIVE"
    DELETED = "DELETED"


class TaskState(_Lifecycle):
    """A notebook or TensorBoard task."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    TERMINATING = "TERMINATING"
    TERMINATED = "TERMINATED"


E = ExperimentState
T = TrialState
A = AllocationState
C = CheckpointState
K = TaskState

_E_STOPPING = {E.STOPPING_CANCELED, E.STOPPING_KILLED, E.STOPPING_COMPLETED, E.STOPPING_ERROR}
_E_ENDED = {E.COMPLETED, E.CANCELED, E.ERRORED}
_T_STOPPING = {T.STOPPING_CANCELED, T.STOPPING_KILLED, T.STOPPING_COMPLETED, T.STOPPING_ERROR}
_T_ENDED = {T.COMPLETED, T.CANCELED, T.ERRORED}

_RULES: Mapping[type[_Lifecycle], Mapping[_Lifecycle, frozenset[_Lifecycle]]] = {
    ExperimentState: {
        E.ACTIVE: frozenset({E.PAUSED, *_E_STOPPING, *_E_ENDED}),
        E.PAUSED: frozenset({E.ACTIVE, *_E_STOPPING, *_E_ENDED}),
        E.STOPPING_COMPLETED: frozenset(
            {E.COMPLETED, E.ERRORED, E.STOPPING_CANCELED, E.STOPPING_KILLED, E.STOPPING_ERROR}
        ),
        E.STOPPING_CANCELED: frozenset({E.CANCELED, E.ERRORED, E.STOPPING_KILLED}),
        E.STOPPING_KILLED: frozenset({E.CANCELED, E.ERRORED}),
        E.STOPPING_ERROR: frozenset({E.ERRORED, E.STOPPING_KILLED}),
        E.COMPLETED: frozenset({E.DELETING}),
        E.CANCELED: frozenset({E.DELETING}),
        E.ERRORED: frozenset({E.DELETING}),
        E.DELETING: frozenset({E.DELETE_FAILED}),
        E.DELETE_FAILED: frozenset({E.DELETING}),
    },
    TrialState: {
        T.QUEUED: frozenset({T.RUNNING, T.PAUSED, *_T_STOPPING, *_T_ENDED}),
        T.RUNNING: frozenset({T.QUEUED, T.PAUSED, *_T_STOPPING, *_T_ENDED}),
        T.PAUSED: frozenset({T.QUEUED, *_T_STOPPING, *_T_ENDED}),
        T.STOPPING_COMPLETED: frozenset(
            {T.COMPLETED, T.ERRORED, T.STOPPING_CANCELED, T.STOPPING_KILLED, T.STOPPING_ERROR}
        ),
        T.STOPPING_CANCELED: frozenset({T.CANCELED, T.ERRORED, T.STOPPING_KILLED}),
        T.STOPPING_KILLED: frozenset({T.CANCELED, T.ERRORED}),
        T.STOPPING_ERROR: frozenset({T.ERRORED, T.STOPPING_KILLED}),
    },
    AllocationState: {
        A.PENDING: frozenset({A.STARTING, A.TERMINATED}),
        A.STARTING: frozenset({A.RUNNING, A.TERMINATING, A.TERMINATED}),
        A.RUNNING: frozenset({A.TERMINATING, A.TERMINATED}),
        A.TERMINATING: frozenset({A.TERMINATED}),
    },
    CheckpointState: {C.ACTIVE: frozenset({C.DELETED})},
    TaskState: {
        K.PENDING: frozenset({K.RUNNING, K.TERMINATING, K.TERMINATED}),
        K.RUNNING: frozenset({K.TERMINATING, K.TERMINATED}),
        K.TERMINATING: frozenset({K.TERMINATED}),
    },
}

_TERMINAL: Mapping[type[_Lifecycle], frozenset[_Lifecycle]] = {
    ExperimentState: frozenset(_E_ENDED),
    TrialState: frozenset(_T_ENDED),
    AllocationState: frozenset({A.TERMINATED}),
    CheckpointState: frozenset({C.DELETED}),
    TaskState: frozenset({K.TERMINATED}),
}

_KIND: Mapping[type[_Lifecycle], str] = {
    ExperimentState: "experiment",
    TrialState: "trial",
    AllocationState: "allocation",
    CheckpointState: "checkpoint",
    TaskState: "task",
}

# What a person or the runtime is doing when it asks for each target state.
_VERB: Mapping[str, str] = {
    "ACTIVE": "activate",
    "QUEUED": "queue",
    "RUNNING": "run",
    "PAUSED": "pause",
    "STOPPING_CANCELED": "cancel",
    "STOPPING_KILLED": "kill",
    "STOPPING_COMPLETED": "complete",
    "STOPPING_ERROR": "fail",
    "COMPLETED": "mark as COMPLETED",
    "CANCELED": "mark as CANCELED",
    "ERRORED": "mark as ERRORED",
    "DELETING": "delete",
    "DELETE_FAILED": "mark as DELETE_FAILED",
    "PENDING": "make PENDING",
    "STARTING": "start",
    "TERMINATING": "terminate",
    "TERMINATED": "mark as TERMINATED",
    "DELETED": "delete",
}


def _explain(current: _Lifecycle, target: _Lifecycle, subject: str) -> str:
    """One line saying why `current -> target` is refused and, where there is one, the fix."""
    verb = _VERB.get(target.value, f"move to {target.value}")
    head = f"cannot {verb} {subject}"
    if current == target:
        return f"{head}: it is already {current.value}"
    if current.value == "DELETING":
        return f"{head}: it is being deleted (DELETING)"
    if current.is_terminal:
        fix = ""
        if isinstance(current, ExperimentState) and target in (E.ACTIVE, E.PAUSED):
            fix = "; fork it to run it again"
        elif isinstance(current, TrialState) and target in (T.QUEUED, T.RUNNING, T.PAUSED):
            fix = "; continue it from a checkpoint to train it further"
        return f"{head}: it has already ended ({current.value}){fix}"
    if target.value in ("DELETING", "DELETED") and isinstance(current, ExperimentState):
        return f"{head}: it is {current.value}; cancel or kill it and wait until it has ended"
    if current.is_stopping:
        if target.is_stopping:
            return f"{head}: it is already stopping ({current.value})"
        return f"{head}: it is stopping ({current.value}); wait until it has ended"
    return f"{head}: not allowed from {current.value}"
