"""Downsampled reads of stored metrics (re-exported by `trainyard.master.db.metrics`).

A trial's curve is thinned to every k-th row plus the last one by a window function; an
experiment's curves are thinned through the steps level (trailing zero bits of steps) over a
covering index, then per trial in Python; each trial's last point comes from its trial row (the
searcher metric) or one index seek.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select, true
from sqlalchemy.orm import Session, aliased

from trainyard.errors import TrainyardError
from trainyard.master.db.models import Metric, Trial

__all__ = [
    "MetricRow",
    "experiment_metrics",
    "last_validations",
    "metric_names",
    "to_float",
    "trial_metrics",
]

_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


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
    rows, L the lowest level that fits the budget) plus each trial's last row: for the searcher
    metric straight from the trial rows, otherwise one index seek per trial.
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
    value: Any = (
        Metric.searcher_metric
        if metric_name is None
        else _json_value(session.get_bind().dialect.name, metric_name)
    )
    # Core rows on the session's connection: this loop handles up to ~2 x max_total_points rows,
    # where ORM row processing would cost more than the query.
    with _gc_paused(), _index_scans(session):
        return _experiment_curves(
            session,
            experiment_id,
            group,
            where,
            value,
            per_trial,
            n_trials,
            trial_ids,
            numeric=metric_name is None,
        )


def _json_value(dialect: str, name: str) -> Any:
    """The value of `metrics[name]`, numbers exact: on SQLite a bare `json_extract` (a REAL for
    numbers, text for "NaN"-style strings, NULL for booleans as elsewhere), as SQLAlchemy's JSON
    path re-quotes numbers to 15 significant digits there."""
    if dialect == "sqlite" and '"' not in name and "\\" not in name:
        path = f'$."{name}"'
        boolean = func.json_type(Metric.metrics, path).in_(("true", "false"))
        return case((boolean, None), else_=func.json_extract(Metric.metrics, path))
    return Metric.metrics[name]


@contextmanager
def _index_scans(session: Session) -> Iterator[None]:
    """On PostgreSQL, no sequential scans within: the covering index always serves these reads,
    but right after a burst of ingest the planner's statistics can still describe a table of
    mostly validation rows and it would read the whole table (85 ms instead of ~5 ms for 11,000
    rows of a 511,000-row table, measured before autoanalyze caught up)."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        yield
        return
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    yield  # on an error the transaction rolls back, and SET LOCAL with it
    conn.exec_driver_sql("RESET enable_seqscan")


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a read builds tens of thousands of small tuples and
    lists: a full collection triggered by them walks the master's whole heap (~100 ms at 10,000
    trials, measured) and frees nothing, as they are all alive. Reference counting still frees
    everything; a collection runs again once the collector is back on."""
    if not gc.isenabled():  # someone else paused it: leave it to them
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _experiment_curves(
    session: Session,
    experiment_id: int,
    group: str,
    where: ColumnElement[bool],
    value: Any,
    per_trial: int,
    n_trials: int,
    trial_ids: Sequence[int] | None,
    *,
    numeric: bool,
) -> dict[int, list[tuple[int, float]]]:
    conn = session.connection()
    curves: dict[int, list[tuple[int, Any]]] = {}
    if per_trial > 1:
        level = _pick_level(session, where, budget=2 * (per_trial - 1) * max(n_trials, 1))
        thinned = (
            select(Metric.trial_id, Metric.steps, value)
            .where(where, Metric.steps_level >= level)
            .order_by(Metric.trial_id, Metric.steps)
        )
        for trial_id, steps, val in conn.execute(thinned).all():  # fetchall: no per-row calls
            points = curves.get(trial_id)
            if points is None:
                curves[trial_id] = points = []
            points.append((steps, val))
        for trial_id, points in curves.items():
            if len(points) >= per_trial:
                curves[trial_id] = _every_kth(points, per_trial - 1)
    if numeric and group == "validation":  # kept on the trial rows by ingest
        last_points = _summarised_last_points(experiment_id, trial_ids)
    else:
        last_points = _last_points(conn.dialect.name, experiment_id, group, value, trial_ids)
    for trial_id, steps, val in conn.execute(last_points).all():
        points = curves.setdefault(trial_id, [])
        if not points or points[-1][0] != steps:
            points.append((steps, val))
    return {
        trial_id: kept
        for trial_id in sorted(curves)
        if (kept := _finite_or_inf(curves[trial_id], numeric=numeric))
    }


def _finite_or_inf(points: list[tuple[int, Any]], *, numeric: bool) -> list[tuple[int, float]]:
    """Points with a usable value as floats (NaN, None and non-numbers dropped)."""
    if numeric:  # the float column: None (SQLite NaN) or a float
        return [(steps, val) for steps, val in points if val is not None and val == val]
    out = []
    for steps, val in points:
        number = to_float(val)
        if number is not None and not math.isnan(number):
            out.append((steps, number))
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


def _summarised_last_points(experiment_id: int, trial_ids: Sequence[int] | None) -> Any:
    """Each trial's last validation (steps, searcher metric) as ingest keeps it on the trial row:
    one scan of the experiment's trials, no metric rows read."""
    query = select(Trial.id, Trial.last_validation_steps, Trial.latest_validation).where(
        Trial.experiment_id == experiment_id, Trial.last_validation_steps.is_not(None)
    )
    if trial_ids is not None:
        query = query.where(Trial.id.in_(list(trial_ids)))
    return query


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


def last_validations(
    session: Session, *, experiment_id: int | None = None, trial_ids: Sequence[int] | None = None
) -> dict[int, dict[str, Any]]:
    """{trial id: metrics of its validation report with the most steps} for an experiment's
    trials or the given ones (trials without validations left out): one unique-index lookup
    per trial, as its last validation steps are on the trial row."""
    query = select(Metric.trial_id, Metric.metrics).join(
        Trial,
        and_(
            Metric.trial_id == Trial.id,
            Metric.group == "validation",
            Metric.steps == Trial.last_validation_steps,
        ),
    )
    if experiment_id is not None:
        query = query.where(Trial.experiment_id == experiment_id)
    if trial_ids is not None:
        query = query.where(Trial.id.in_(list(trial_ids)))
    return {trial_id: metrics or {} for trial_id, metrics in session.execute(query)}
