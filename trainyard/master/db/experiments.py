"""Experiments repository: config, lifecycle state, model definition, searcher snapshot.

The model definition tarball is stored in its own table: `list_experiments` never loads it; read
it with `get_model_definition`. The searcher snapshot is saved with `save_searcher_snapshot`,
which bumps `searcher_version` and can refuse a stale writer (`expected_version`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Text, cast, delete, func, select, update
from sqlalchemy.orm import Session

from trainyard.errors import InvalidTransitionError, NotFoundError, TrainyardError
from trainyard.master.db._common import get_or_raise, now
from trainyard.master.db.models import Experiment, Metric, ModelDefinition
from trainyard.master.states import ExperimentState

__all__ = [
    "count_experiments",
    "create_experiment",
    "delete_experiment",
    "get_experiment",
    "get_model_definition",
    "list_experiments",
    "save_searcher_snapshot",
    "set_archived",
    "set_experiment_state",
    "set_priority",
    "update_experiment",
]


def create_experiment(
    session: Session,
    *,
    name: str,
    config: dict[str, Any],
    searcher_metric: str,
    smaller_is_better: bool,
    config_yaml: str = "",
    model_definition: bytes | None = None,
    owner_id: int | None = None,
    parent_id: int | None = None,
    description: str = "",
    labels: Sequence[str] = (),
    notes: str = "",
    state: ExperimentState = ExperimentState.ACTIVE,
) -> Experiment:
    """Insert an experiment (and its model definition tarball, when given); returns it with id."""
    experiment = Experiment(
        name=name,
        config=config,
        config_yaml=config_yaml,
        searcher_metric=searcher_metric,
        smaller_is_better=smaller_is_better,
        owner_id=owner_id,
        parent_id=parent_id,
        description=description,
        labels=list(labels),
        notes=notes,
        state=state.value,
        archived=False,
        searcher_version=0,
        progress=0.0,
        created_at=now(),
    )
    session.add(experiment)
    session.flush()
    if model_definition is not None:
        session.add(
            ModelDefinition(
                experiment_id=experiment.id,
                tarball=model_definition,
                size_bytes=len(model_definition),
            )
        )
    return experiment


def get_experiment(session: Session, experiment_id: int, *, for_update: bool = False) -> Experiment:
    """The experiment, or `NotFoundError("experiment N does not exist")`."""
    return get_or_raise(session, Experiment, experiment_id, "experiment", for_update=for_update)


def get_model_definition(session: Session, experiment_id: int) -> bytes:
    """The model directory tarball; `NotFoundError` when the experiment has none."""
    row = session.get(ModelDefinition, experiment_id)
    if row is None:
        get_experiment(session, experiment_id)
        raise NotFoundError(f"experiment {experiment_id} has no model definition")
    return row.tarball


def _filters(
    states: Iterable[ExperimentState] | None,
    archived: bool | None,
    owner_id: int | None,
    name_contains: str | None,
    label: str | None,
) -> list[Any]:
    where: list[Any] = []
    if states is not None:
        where.append(Experiment.state.in_([s.value for s in states]))
    if archived is not None:
        where.append(Experiment.archived.is_(archived))
    if owner_id is not None:
        where.append(Experiment.owner_id == owner_id)
    if name_contains:
        where.append(Experiment.name.contains(name_contains, autoescape=True))
    if label is not None:
        # Labels are few per experiment; a LIKE on the JSON text keeps this dialect-neutral.
        where.append(func.lower(cast(Experiment.labels, Text)).contains(f'"{label.lower()}"'))
    return where


def list_experiments(
    session: Session,
    *,
    states: Iterable[ExperimentState] | None = None,
    archived: bool | None = None,
    owner_id: int | None = None,
    name_contains: str | None = None,
    label: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    newest_first: bool = True,
) -> list[Experiment]:
    """Experiments matching every given filter (None = any), newest first by default."""
    order = Experiment.id.desc() if newest_first else Experiment.id.asc()
    query = (
        select(Experiment)
        .where(*_filters(states, archived, owner_id, name_contains, label))
        .order_by(order)
        .offset(offset)
        .limit(limit)
    )
    return list(session.scalars(query))


def count_experiments(
    session: Session,
    *,
    states: Iterable[ExperimentState] | None = None,
    archived: bool | None = None,
    owner_id: int | None = None,
    name_contains: str | None = None,
    label: str | None = None,
) -> int:
    """How many experiments `list_experiments` would return without limit/offset."""
    query = select(func.count()).select_from(Experiment)
    query = query.where(*_filters(states, archived, owner_id, name_contains, label))
    return session.scalar(query) or 0


def set_experiment_state(
    session: Session, experiment_id: int, target: ExperimentState
) -> Experiment:
    """Move the experiment to `target` if its lifecycle allows it (`InvalidTransitionError`
    otherwise); a terminal target also records `ended_at`."""
    experiment = get_experiment(session, experiment_id, for_update=True)
    current = ExperimentState(experiment.state)
    current.transition_to(target, subject=f"experiment {experiment_id}")
    experiment.state = target.value
    if target.is_terminal:
        experiment.ended_at = now()
    return experiment


def set_archived(session: Session, experiment_id: int, archived: bool) -> Experiment:
    """Archive or unarchive; only an experiment that has ended can be archived."""
    experiment = get_experiment(session, experiment_id)
    state = ExperimentState(experiment.state)
    if archived and not state.is_terminal:
        raise InvalidTransitionError(
            f"cannot archive experiment {experiment_id}: it is {state.value}; "
            "archive it once it has ended"
        )
    experiment.archived = archived
    return experiment


def set_priority(session: Session, experiment_id: int, priority: int | None) -> Experiment:
    """Override the config's priority (1..99, lower runs first); None restores the config's."""
    if priority is not None and not 1 <= priority <= 99:
        raise TrainyardError(f"priority is {priority}; it must be between 1 and 99")
    experiment = get_experiment(session, experiment_id)
    experiment.priority = priority
    return experiment


def update_experiment(
    session: Session,
    experiment_id: int,
    *,
    name: str | None = None,
    description: str | None = None,
    notes: str | None = None,
    labels: Sequence[str] | None = None,
    progress: float | None = None,
) -> Experiment:
    """Change the given descriptive fields (None leaves a field unchanged)."""
    experiment = get_experiment(session, experiment_id)
    if name is not None:
        experiment.name = name
    if description is not None:
        experiment.description = description
    if notes is not None:
        experiment.notes = notes
    if labels is not None:
        experiment.labels = list(labels)
    if progress is not None:
        experiment.progress = progress
    return experiment


def save_searcher_snapshot(
    session: Session,
    experiment_id: int,
    snapshot: dict[str, Any],
    *,
    progress: float | None = None,
    expected_version: int | None = None,
) -> int:
    """Store the searcher snapshot and return the new `searcher_version` (old + 1).

    With `expected_version`, the write only happens if the stored version still equals it;
    otherwise `TrainyardError` (another writer saved a newer snapshot: reload and replay).
    Non-finite floats in the snapshot are stored as "NaN"/"Infinity"/"-Infinity" strings.
    """
    values: dict[str, Any] = {
        "searcher_snapshot": snapshot,
        "searcher_version": Experiment.searcher_version + 1,
    }
    if progress is not None:
        values["progress"] = progress
    query = update(Experiment).where(Experiment.id == experiment_id)
    if expected_version is not None:
        query = query.where(Experiment.searcher_version == expected_version)
    result = session.execute(query.values(**values).returning(Experiment.searcher_version))
    version = result.scalar()
    if version is None:
        current = get_experiment(session, experiment_id)
        raise TrainyardError(
            f"experiment {experiment_id}: searcher snapshot version is "
            f"{current.searcher_version}, expected {expected_version}; reload the searcher"
        )
    return int(version)


def delete_experiment(session: Session, experiment_id: int) -> None:
    """Delete the experiment, its metrics and, by cascade, its trials, checkpoint rows and logs.

    Checkpoint files are the caller's to remove (before this, from `checkpoints.list_*`).
    """
    experiment = get_experiment(session, experiment_id)
    session.execute(delete(Metric).where(Metric.experiment_id == experiment_id))
    session.delete(experiment)
    session.flush()
