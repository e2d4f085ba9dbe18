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

from sqlalchemy import ColumnElement, and_, func, or_, select, true, update
from sqlalchemy.orm import Session, aliased

from trainyard.errors import NotFoundError, TrainyardError
from trainyard.master.db.checkpoints import attach_validation
from trainyard.master.db.database import dumps_json
from trainyard.master.db.models import Checkpoint, Experiment, Metric, Trial

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
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


@dataclass(frozen=True)
class MetricReport:
    """One report as the trial sends it; `metrics` values are numbers or "NaN"-style strings."""

    steps: int
    metrics: Mapping[str, Any]
    timestamp: float


@dataclass(frozen=True)
class MetricRow:
    """One stored report, as read back (JSON values unchanged, "NaN" strings included)."""

    steps: int
    metrics: dict[str, Any]
    timestamp: float
    trial_run_id: int


def to_float(value: Any) -> float | None:
    """A metric value as a float ("NaN"/"Infinity"/"-Infinity" understood); None if not numeric."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return _NON_FINITE.get(value)
    return None


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
    trial_run_id: int = 0,
) -> int:
    """Upsert `reports` (MetricReport or {"steps", "metrics", "timestamp"}); return the count.

    Within one batch the last report for a given `steps` wins.
    """
    if not group or len(group) > 32:
        raise TrainyardError(f"metric group {group!r} must be 1 to 32 characters")
    owner = session.execute(
        select(Trial.experiment_id, Experiment.searcher_metric, Experiment.smaller_is_better)
        .join(Experiment, Experiment.id == Trial.experiment_id)
        .where(Trial.id == trial_id)
    ).one_or_none()
    if owner is None:
        raise NotFoundError(f"trial {trial_id} does not exist")
    experiment_id, metric_name, smaller_is_better = owner
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
            trial_run_id,
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


def trial_metrics(
    session: Session, trial_id: int, group: str, *, max_points: int | None = None
) -> list[MetricRow]:
    """A trial's reports of `group`, by increasing steps.

    With `max_points`, at most that many rows come back: every k-th row plus the last one, picked
    in the database (k = the smallest stride that fits), so a long trial costs one indexed scan.
    """
    where = and_(Metric.trial_id == trial_id, Metric.group == group)
    columns = (Metric.steps, Metric.metrics, Metric.timestamp, Metric.trial_run_id)
    if max_points is not None:
        if max_points < 1:
            raise TrainyardError(f"max_points is {max_points}; it must be >= 1")
        total = session.scalar(select(func.count()).select_from(Metric).where(where)) or 0
        if total > max_points:
            return _strided(session, where, total, max_points)
    result = session.execute(select(*columns).where(where).order_by(Metric.steps))
    return [MetricRow(s, m, t, r) for s, m, t, r in result]


def _strided(
    session: Session, where: ColumnElement[bool], total: int, max_points: int
) -> list[MetricRow]:
    """Every k-th row and the last (just the last when `max_points` is 1)."""
    rn = func.row_number().over(order_by=Metric.steps).label("rn")
    inner = (
        select(Metric.steps, Metric.metrics, Metric.timestamp, Metric.trial_run_id, rn)
        .where(where)
        .subquery()
    )
    keep: ColumnElement[bool] = inner.c.rn == total
    if max_points > 1:
        stride = math.ceil((total - 1) / (max_points - 1))
        keep = or_(keep, (inner.c.rn - 1) % stride == 0)
    query = (
        select(inner.c.steps, inner.c.metrics, inner.c.timestamp, inner.c.trial_run_id)
        .where(keep)
        .order_by(inner.c.steps)
    )
    return [MetricRow(s, m, t, r) for s, m, t, r in session.execute(query)]


def experiment_metrics(
    session: Session,
    experiment_id: int,
    group: str,
    metric_name: str | None = None,
    *,
    max_points_per_trial: int,
    trial_ids: Sequence[int] | None = None,
    max_total_points: int = 20_000,
) -> dict[int, list[tuple[int, float]]]:
    """{trial_id: [(steps, value), ...]} for one metric over an experiment's trials.

    `metric_name` None reads the searcher metric (validation rows, one indexed numeric column).
    Each trial gets at most `max_points_per_trial` points, fewer when the trials together would
    exceed `max_total_points` (10,000 trials and the default 20,000: first and last point of each).
    Each trial's last point is always included; points whose value is missing or NaN are left out.

    Cost is proportional to the points returned, not to the rows stored: the database reads only
    rows whose steps have at least L trailing zero bits (an index range holding ~1/2^L of the
    rows, L the lowest level that fits the budget) plus one index seek per trial for its last row.
    """
    if max_points_per_trial < 1:
        raise TrainyardError(f"max_points_per_trial is {max_points_per_trial}; it must be >= 1")
    where = and_(Metric.experiment_id == experiment_id, Metric.group == group)
    if trial_ids is not None:
        if not trial_ids:
            return {}
        where = and_(where, Metric.trial_id.in_(list(trial_ids)))
        n_trials = len(set(trial_ids))
    else:
        query = select(func.count()).select_from(Trial).where(Trial.experiment_id == experiment_id)
        n_trials = session.scalar(query) or 0
    per_trial = min(max_points_per_trial, max(1, max_total_points // max(n_trials, 1)))
    value: Any = Metric.searcher_metric if metric_name is None else Metric.metrics[metric_name]
    curves: dict[int, list[tuple[int, Any]]] = {}
    if per_trial > 1:
        level = _pick_level(session, where, budget=2 * (per_trial - 1) * max(n_trials, 1))
        thinned = select(Metric.trial_id, Metric.steps, value).where(
            where, Metric.steps_level >= level
        )
        for trial_id, steps, val in session.execute(thinned):
            curves.setdefault(trial_id, []).append((steps, val))
        for trial_id, points in curves.items():
            points.sort(key=lambda point: point[0])
            curves[trial_id] = _every_kth(points, per_trial - 1)
    for trial_id, steps, val in session.execute(
        _last_points(session.get_bind().dialect.name, experiment_id, group, value, trial_ids)
    ):
        points = curves.setdefault(trial_id, [])
        if not points or points[-1][0] != steps:
            points.append((steps, val))
    out: dict[int, list[tuple[int, float]]] = {}
    for trial_id in sorted(curves):
        for steps, val in curves[trial_id]:
            number = to_float(val)
            if number is not None and not math.isnan(number):
                out.setdefault(trial_id, []).append((steps, number))
    return out


def _every_kth(points: list[tuple[int, Any]], limit: int) -> list[tuple[int, Any]]:
    """At most `limit` of `points`: every k-th from the first, and the last when limit > 1."""
    if len(points) <= limit:
        return points
    if limit == 1:
        return points[-1:]
    stride = math.ceil((len(points) - 1) / (limit - 1))
    picked = points[::stride]
    if picked[-1] != points[-1]:
        picked.append(points[-1])
    return picked


def _last_points(
    dialect: str, experiment_id: int, group: str, value: Any, trial_ids: Sequence[int] | None
) -> Any:
    """Each trial's row with the most steps: one backward index seek per trial.

    PostgreSQL gets a LATERAL join (otherwise its planner hashes every row of the group);
    SQLite has no LATERAL but runs the correlated form below as exactly that nested loop.
    """
    trials = select(Trial.id).where(Trial.experiment_id == experiment_id)
    if trial_ids is not None:
        trials = trials.where(Trial.id.in_(list(trial_ids)))
    if dialect == "postgresql":
        trial_rows = trials.subquery()
        last = (
            select(Metric.steps, value.label("value"))
            .where(Metric.trial_id == trial_rows.c.id, Metric.group == group)
            .order_by(Metric.steps.desc())
            .limit(1)
            .lateral()
        )
        return select(trial_rows.c.id, last.c.steps, last.c.value).select_from(
            trial_rows.join(last, true())
        )
    other = aliased(Metric)
    last_steps = (
        select(func.max(other.steps))
        .where(other.trial_id == Trial.id, other.group == group)
        .correlate(Trial)
        .scalar_subquery()
    )
    sub = trials.add_columns(last_steps.label("last")).subquery()
    return (
        select(Metric.trial_id, Metric.steps, value)
        .join(sub, and_(Metric.trial_id == sub.c.id, Metric.steps == sub.c.last))
        .where(Metric.group == group)
    )


def _pick_level(session: Session, where: ColumnElement[bool], *, budget: int) -> int:
    """Lowest steps level whose row count is within `budget` (counting from coarse to fine)."""
    level = 16
    while level > 0:
        count = session.scalar(
            select(func.count()).select_from(Metric).where(where, Metric.steps_level >= level - 1)
        )
        if (count or 0) > budget:
            break
        level -= 1
    return level


def metric_names(
    session: Session, experiment_id: int, group: str, *, sample: int = 200
) -> list[str]:
    """Metric names seen in `group` across an experiment (from up to `sample` recent rows)."""
    query = (
        select(Metric.metrics)
        .where(Metric.experiment_id == experiment_id, Metric.group == group)
        .order_by(Metric.id.desc())
        .limit(sample)
    )
    names: set[str] = set()
    for metrics in session.scalars(query):
        names.update(metrics)
    return sorted(names)
