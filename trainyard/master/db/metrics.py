"""Metrics repository: batched idempotent ingest and downsampled reads.

One row per (trial, group, steps). `add_metrics` upserts a whole batch in one statement: a report
resent after a restart replaces the stored one, never duplicates it. Validation rows also carry
the experiment's searcher metric in the numeric column `searcher_metric`, and ingest keeps
`Trial.best_validation`/`latest_validation`/`total_batches` and `Experiment.best_searcher_metric`/
`best_trial_id` up to date in the same transaction (NaN is never "best").

Non-finite values: the JSON keeps "NaN"/"Infinity"/"-Infinity" strings. The numeric column keeps
±inf on both backends; NaN is NaN on PostgreSQL but NULL on SQLite (SQLite has no NaN), so readers
here treat NULL and NaN alike: `experiment_metrics` leaves such points out.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from trainyard.errors import NotFoundError, TrainyardError
from trainyard.master.db._metric_reads import (
    MetricRow,
    experiment_metrics,
    metric_names,
    to_float,
    trial_metrics,
)
from trainyard.master.db.checkpoints import attach_validation
from trainyard.master.db.database import dumps_json
from trainyard.master.db.models import Checkpoint, Experiment, Trial

__all__ = [
    "MetricReport",
    "MetricRow",
    "add_metrics",
    "experiment_metrics",
    "metric_names",
    "steps_level",
    "to_float",
    "trial_metrics",
]

TRAINING = "training"
VALIDATION = "validation"
_MAX_LEVEL = 62


@dataclass(frozen=True)
class MetricReport:
    """One report as the trial sends it; `metrics` values are numbers or "NaN"-style strings."""

    steps: int
    metrics: Mapping[str, Any]
    timestamp: float


def steps_level(steps: int) -> int:
    """Trailing zero bits of `steps` (0 for odd, capped at 62 for 0): the downsampling level."""
    if steps == 0:
        return _MAX_LEVEL
    return min((steps & -steps).bit_length() - 1, _MAX_LEVEL)


def add_metrics(
    session: Session,
    trial_id: int,
    group: str,
    reports: Iterable[MetricReport | Mapping[str, Any]],
    *,
    trial_run_id: int | None = 0,
) -> int:
    """Upsert `reports` (MetricReport or {"steps", "metrics", "timestamp"}); return the count.

    Within one batch the last report for a given `steps` wins. `trial_run_id=None` stores the
    trial's current run (its `restarts`), read in the same query as the trial's experiment.
    """
    if not group or len(group) > 32:
        raise TrainyardError(f"metric group {group!r} must be 1 to 32 characters")
    owner = session.execute(
        select(
            Trial.experiment_id,
            Experiment.searcher_metric,
            Experiment.smaller_is_better,
            Trial.restarts,
        )
        .join(Experiment, Experiment.id == Trial.experiment_id)
        .where(Trial.id == trial_id)
    ).one_or_none()
    if owner is None:
        raise NotFoundError(f"trial {trial_id} does not exist")
    experiment_id, metric_name, smaller_is_better, restarts = owner
    run_id = restarts if trial_run_id is None else trial_run_id
    validation = group == VALIDATION
    rows: dict[int, tuple[Any, ...]] = {}
    for report in reports:
        steps, metrics, timestamp = (
            (report.steps, report.metrics, report.timestamp)
            if isinstance(report, MetricReport)
            else _coerce(report)
        )
        value = to_float(metrics.get(metric_name)) if validation else None
        rows[steps] = (
            trial_id,
            experiment_id,
            group,
            steps,
            steps_level(steps),
            dumps_json(metrics),
            value,
            timestamp,
            run_id,
        )
    if not rows:
        return 0
    values = list(rows.values())
    # The hot path of ingest: one pre-rendered statement through the driver's executemany
    # (SQLAlchemy's per-row bind processing costs more than the insert itself here).
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # One statement per batch: each column travels as one array parameter.
        conn.exec_driver_sql(_upsert_sql("postgresql"), tuple(map(list, zip(*values, strict=True))))
    else:
        conn.exec_driver_sql(_upsert_sql(conn.dialect.name), values)
    _maintain_summaries(session, trial_id, experiment_id, smaller_is_better, group, values)
    return len(values)


def _coerce(report: Mapping[str, Any]) -> tuple[int, Mapping[str, Any], float]:
    try:
        steps = int(report["steps"])
        metrics = report["metrics"]
        timestamp = float(report.get("timestamp") or 0.0)
    except (KeyError, TypeError, ValueError) as err:
        raise TrainyardError(
            f"metric report {dict(report)!r} is malformed ({err}); "
            'expected {"steps": int, "metrics": {...}, "timestamp": float}'
        ) from None
    if steps < 0 or not isinstance(metrics, Mapping):
        raise TrainyardError(f"metric report at steps {steps}: steps must be >= 0, metrics a map")
    return steps, metrics, timestamp


_COLUMNS = (
    "trial_id",
    "experiment_id",
    "metric_group",
    "steps",
    "steps_level",
    "metrics",
    "searcher_metric",
    "timestamp",
    "trial_run_id",
)
_REPLACED = ("metrics", "searcher_metric", "timestamp", "trial_run_id", "steps_level")


_PG_ARRAY_TYPES = ("int", "int", "text", "bigint", "smallint", "jsonb", "float8", "float8", "int")


@functools.cache
def _upsert_sql(dialect: str) -> str:
    """INSERT ... ON CONFLICT (trial_id, metric_group, steps) DO UPDATE, in the driver's style.

    SQLite: one row of `?` for executemany. PostgreSQL: `unnest` of one array per column.
    """
    columns = ", ".join(f'"{c}"' for c in _COLUMNS)
    if dialect == "postgresql":
        arrays = ", ".join(f"%s::{t}[]" for t in _PG_ARRAY_TYPES)
        source = f"SELECT * FROM unnest({arrays})"
    else:
        source = f"VALUES ({', '.join('?' * len(_COLUMNS))})"
    replaced = ", ".join(f'"{c}" = excluded."{c}"' for c in _REPLACED)
    return (
        f"INSERT INTO metrics ({columns}) {source} "
        f'ON CONFLICT ("trial_id", "metric_group", "steps") DO UPDATE SET {replaced}'
    )


def _maintain_summaries(
    session: Session,
    trial_id: int,
    experiment_id: int,
    smaller: bool,
    group: str,
    rows: Sequence[tuple[Any, ...]],
) -> None:
    steps_at, json_at, value_at = 3, 5, 6
    max_steps = max(row[steps_at] for row in rows)
    session.execute(
        update(Trial)
        .where(Trial.id == trial_id, Trial.total_batches < max_steps)
        .values(total_batches=max_steps)
    )
    if group != VALIDATION:
        return
    has_checkpoints = session.scalar(
        select(Checkpoint.uuid).where(Checkpoint.trial_id == trial_id).limit(1)
    )
    if has_checkpoints is not None:
        for row in rows:
            metrics = json.loads(row[json_at])
            attach_validation(session, trial_id, row[steps_at], metrics, row[value_at])
    latest = max(rows, key=lambda row: row[steps_at])[value_at]
    if latest is not None:
        session.execute(update(Trial).where(Trial.id == trial_id).values(latest_validation=latest))
    candidates = [r[value_at] for r in rows if r[value_at] is not None]
    candidates = [v for v in candidates if not math.isnan(v)]
    if not candidates:
        return
    best = min(candidates) if smaller else max(candidates)
    # Conditional UPDATEs: correct under concurrent ingest without reading first. ORM-enabled,
    # so objects already loaded in this session see the new values.
    session.execute(
        update(Trial)
        .where(Trial.id == trial_id, _improves(Trial.best_validation, best, smaller))
        .values(best_validation=best)
    )
    session.execute(
        update(Experiment)
        .where(
            Experiment.id == experiment_id,
            _improves(Experiment.best_searcher_metric, best, smaller),
        )
        .values(best_searcher_metric=best, best_trial_id=trial_id)
    )


def _improves(column: Any, value: float, smaller: bool) -> ColumnElement[bool]:
    better = column > value if smaller else column < value
    return or_(column.is_(None), better)
