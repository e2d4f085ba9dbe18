"""Tasks (notebooks, TensorBoards): a minimal repository for later features."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trainyard.errors import TrainyardError
from trainyard.master.db._common import get_or_raise, now
from trainyard.master.db.models import Task
from trainyard.master.states import TaskState

__all__ = ["create_task", "get_task", "list_tasks", "set_task_state"]

TASK_TYPES = ("notebook", "tensorboard")


def create_task(
    session: Session,
    task_type: str,
    *,
    owner_id: int | None = None,
    config: dict[str, Any] | None = None,
) -> Task:
    if task_type not in TASK_TYPES:
        raise TrainyardError(f"task type {task_type!r} is not one of {TASK_TYPES}")
    task = Task(
        id=str(uuid.uuid4()),
        type=task_type,
        state=TaskState.PENDING.value,
        owner_id=owner_id,
        config=dict(config or {}),
        created_at=now(),
    )
    session.add(task)
    session.flush()
    return task


def get_task(session: Session, task_id: str) -> Task:
    return get_or_raise(session, Task, task_id, "task")


def list_tasks(session: Session, *, task_type: str | None = None) -> list[Task]:
    query = select(Task).order_by(Task.created_at)
    if task_type is not None:
        query = query.where(Task.type == task_type)
    return list(session.scalars(query))


def set_task_state(
    session: Session, task_id: str, target: TaskState, *, url: str | None = None
) -> Task:
    task = get_task(session, task_id)
    TaskState(task.state).transition_to(target, subject=f"task {task_id}")
    task.state = target.value
    if url is not None:
        task.url = url
    if target.is_terminal:
        task.ended_at = now()
    return task
