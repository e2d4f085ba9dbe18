"""The statements behind `metrics.add_metrics`, at the driver level (the ingest hot path).

Each POST of metrics is a few statements in one transaction: the trial's owner, one upsert of the
whole batch, one UPDATE of the trial's summaries and, for validation, the experiment's best.
They are plain SQL strings run with `exec_driver_sql`: SQLAlchemy's statement building and ORM
bookkeeping cost more than these queries themselves. ORM objects already loaded in the session
are refreshed afterwards, so callers still see the new values.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from pydantic_core import PydanticSerializationError, to_json
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from trainyard.errors import TrainyardError
from trainyard.master.db._metric_reads import to_float
from trainyard.master.db.database import dumps_json
from trainyard.master.db.models import Experiment, Trial

__all__ = [
    "Owner",
    "Row",
    "cached_owner",
    "coerce",
    "dumps",
    "has_checkpoints",
    "load_owner",
    "rows_of",
    "store_rows",
    "update_summaries",
]

MAX_LEVEL = 62
MAX_STEPS = 2**63 - 1

Row = tuple[int, int, Mapping[str, Any], float | None, float]
"""(steps, steps level, metrics, searcher metric value or None, timestamp)."""


class Owner(NamedTuple):
    """What ingest needs of a trial's experiment; fixed for the trial's life."""

    experiment_id: int
    searcher_metric: str
    smaller_is_better: bool


def _sql(template: str, dialect: str) -> str:
    """`template` with `{p}` as the driver's positional placeholder."""
    return template.replace("{p}", "%s" if dialect == "postgresql" else "?")


_OWNER = (
    "SELECT t.experiment_id, e.searcher_metric, e.smaller_is_better "
    "FROM trials AS t JOIN experiments AS e ON e.id = t.experiment_id WHERE t.id = {p}"
)
_OWNERS_KEY = "trainyard_metric_owners"
_OWNERS_MAX = 100_000


def cached_owner(session: Session, trial_id: int) -> Owner | None:
    """The trial's `Owner` as last loaded on this database connection, if it was.

    A hint, not a fact: the trial may since have been deleted and its id reused (SQLite reuses
    the largest ids). `update_summaries` checks it in the same statement that updates the trial,
    so a wrong hint costs a reload, never a wrong row.
    """
    owners = session.connection().info.get(_OWNERS_KEY)
    return None if owners is None else owners.get(trial_id)


def load_owner(session: Session, trial_id: int) -> Owner | None:
    """The trial's experiment, searcher metric and direction (cached on the connection for
    `cached_owner`); None if there is no such trial."""
    conn = session.connection()
    row = conn.exec_driver_sql(_sql(_OWNER, conn.dialect.name), (trial_id,)).first()
    owners: dict[int, Owner] = conn.info.setdefault(_OWNERS_KEY, {})
    if row is None:
        owners.pop(trial_id, None)
        return None
    if len(owners) >= _OWNERS_MAX:
        owners.clear()
    owners[trial_id] = owner = Owner(row[0], row[1], bool(row[2]))
    return owner


def rows_of(reports: Iterable[Any], searcher_metric: str | None) -> list[Row]:
    """Checked rows, the last report of each `steps` kept (at its first position).

    Runs once per stored report: reports from the API are already validated dicts, so the common
    case is a few type checks; anything else goes through `coerce` for a precise message.
    """
    rows: dict[int, Row] = {}
    for report in reports:
        if type(report) is dict:
            steps = report.get("steps")
            metrics = report.get("metrics")
            timestamp = report.get("timestamp")
            if not (
                type(steps) is int
                and 0 <= steps <= MAX_STEPS
                and type(metrics) is dict
                and type(timestamp) is float
            ):
                steps, metrics, timestamp = coerce(report)
        elif isinstance(report, Mapping):
            steps, metrics, timestamp = coerce(report)
        else:  # a MetricReport
            steps, metrics, timestamp = report.steps, report.metrics, report.timestamp
        value = None if searcher_metric is None else to_float(metrics.get(searcher_metric))
        level = min((steps & -steps).bit_length() - 1, MAX_LEVEL) if steps else MAX_LEVEL
        rows[steps] = (steps, level, metrics, value, timestamp)
    return list(rows.values())


def coerce(report: Mapping[str, Any]) -> tuple[int, Mapping[str, Any], float]:
    """(steps, metrics, timestamp) of a report given as a mapping; `TrainyardError` if bad."""
    try:
        steps = int(report["steps"])
        metrics = report["metrics"]
        timestamp = float(report.get("timestamp") or 0.0)
    except (KeyError, TypeError, ValueError) as err:
        raise TrainyardError(
            f"metric report {dict(report)!r} is malformed ({err}); "
            'expected {"steps": int, "metrics": {...}, "timestamp": float}'
        ) from None
    if not 0 <= steps <= MAX_STEPS or not isinstance(metrics, Mapping):
        raise TrainyardError(
            f"metric report at steps {steps}: steps must be 0 to 2**63 - 1, metrics a map"
        )
    return steps, metrics, timestamp


def dumps(value: Any) -> str:
    """JSON text, non-finite floats as "NaN"/"Infinity"/"-Infinity" (like `dumps_json`).

    pydantic-core's encoder, several times faster than the stdlib's on small dicts; anything it
    cannot encode goes through `dumps_json`, which raises the stdlib's error.
    """
    try:
        return to_json(value, inf_nan_mode="strings").decode()
    except PydanticSerializationError:
        return dumps_json(value)


_COLUMNS = (
    "trial_id",
    "experiment_id",
    "metric_group",
    "trial_run_id",
    "steps",
    "steps_level",
    "metrics",
    "searcher_metric",
    "timestamp",
)
_REPLACED = ("metrics", "searcher_metric", "timestamp", "trial_run_id", "steps_level")
# The batch is one JSON array of [steps, level, metrics, searcher value, timestamp] rows, encoded
# once and taken apart by the database (PostgreSQL's text-array parameters cost the master a
# regex per element to quote, measured ~30 us per report). JSON has no NaN or infinities: they
# arrive as the strings "NaN"/"Infinity"/"-Infinity". PostgreSQL's float8 reads those strings;
# SQLite has no NaN (stored NULL, like a bound NaN) and 9e999 is its inf.
_SQLITE_SOURCE = (
    "SELECT ?1, ?2, ?3, ?4, json_extract(value, '$[0]'), json_extract(value, '$[1]'), "
    "json_extract(value, '$[2]'), CASE json_type(value, '$[3]') WHEN 'text' THEN "
    "CASE json_extract(value, '$[3]') WHEN 'Infinity' THEN 9e999 "
    "WHEN '-Infinity' THEN -9e999 END ELSE json_extract(value, '$[3]') END, "
    "json_extract(value, '$[4]') FROM json_each(?5) WHERE true"
)
_PG_SOURCE = (
    "SELECT %s::int, %s::int, %s::text, %s::int, (e->>0)::bigint, (e->>1)::smallint, "
    "(e->2)::jsonb, (e->>3)::float8, (e->>4)::float8 FROM json_array_elements(%s::json) AS e"
)


@functools.cache
def _upsert_sql(dialect: str) -> str:
    """INSERT ... ON CONFLICT (trial_id, metric_group, steps) DO UPDATE of a whole batch.

    (`WHERE true` is SQLite's required disambiguation of INSERT ... SELECT ... ON CONFLICT.)
    """
    source = _PG_SOURCE if dialect == "postgresql" else _SQLITE_SOURCE
    replaced = ", ".join(f'"{c}" = excluded."{c}"' for c in _REPLACED)
    return (
        f"INSERT INTO metrics ({', '.join(_COLUMNS)}) {source} "
        f'ON CONFLICT ("trial_id", "metric_group", "steps") DO UPDATE SET {replaced}'
    )


def store_rows(
    session: Session, trial_id: int, owner: Owner, group: str, run_id: int, rows: Sequence[Row]
) -> None:
    """Upsert `rows` in one statement."""
    conn = session.connection()
    batch = dumps(rows)
    params = (trial_id, owner.experiment_id, group, run_id, batch)
    conn.exec_driver_sql(_upsert_sql(conn.dialect.name), params)


# The summary UPDATEs match the trial only if it still belongs to the expected experiment (a
# check of the cached `Owner`) and return its restarts (the run the rows belong to).
_TOTAL_BATCHES = (
    "UPDATE trials SET total_batches = CASE WHEN total_batches < {p} THEN {p} "
    "ELSE total_batches END WHERE id = {p} AND experiment_id = {p} RETURNING restarts"
)
# Every SET expression sees the row as it was: latest_validation and last_validation_steps move
# together, only forward (a report resent at the same steps replaces the value).
_VALIDATED = (
    "UPDATE trials SET "
    "total_batches = CASE WHEN total_batches < {p} THEN {p} ELSE total_batches END, "
    "latest_validation = CASE WHEN last_validation_steps IS NULL OR last_validation_steps <= {p} "
    "THEN CAST({p} AS DOUBLE PRECISION) ELSE latest_validation END, "
    "last_validation_steps = CASE WHEN last_validation_steps IS NULL "
    "OR last_validation_steps < {p} THEN {p} ELSE last_validation_steps END, "
    "best_validation = CASE WHEN {p} = 1 AND (best_validation IS NULL OR best_validation "
    "{cmp} {p}) THEN CAST({p} AS DOUBLE PRECISION) ELSE best_validation END "
    "WHERE id = {p} AND experiment_id = {p} RETURNING restarts"
)
_VALIDATION_SUMMARIES = (
    "total_batches",
    "latest_validation",
    "last_validation_steps",
    "best_validation",
)
_EXPERIMENT_BEST = (
    "UPDATE experiments SET best_searcher_metric = {p}, best_trial_id = {p} WHERE id = {p} "
    "AND (best_searcher_metric IS NULL OR best_searcher_metric {cmp} {p})"
)


def update_summaries(
    session: Session, trial_id: int, owner: Owner, validation: bool, rows: Sequence[Row]
) -> int | None:
    """Trial.total_batches, and for validation rows Trial.latest/best_validation,
    Trial.last_validation_steps and the experiment's best (NaN is never best); returns the
    trial's restarts, or None (nothing changed) if the trial is not `owner.experiment_id`'s.
    Conditional UPDATEs: correct under concurrent ingest and out-of-order batches without
    reading first."""
    conn = session.connection()
    dialect = conn.dialect.name
    max_steps = max(row[0] for row in rows)
    owned = (trial_id, owner.experiment_id)
    if not validation:
        sql = _sql(_TOTAL_BATCHES, dialect)
        restarts = conn.exec_driver_sql(sql, (max_steps, max_steps, *owned)).scalar()
        if restarts is None:
            return None
        _refresh(session, Trial, trial_id, ("total_batches",))
        return int(restarts)
    latest = max(rows, key=lambda row: row[0])[3]
    candidates = [r[3] for r in rows if r[3] is not None and not math.isnan(r[3])]
    smaller = owner.smaller_is_better
    best = (min(candidates) if smaller else max(candidates)) if candidates else None
    cmp = ">" if smaller else "<"
    has_best = int(best is not None)
    steps_and_latest = (max_steps, max_steps, max_steps, latest, max_steps, max_steps)
    sql = _sql(_VALIDATED, dialect).replace("{cmp}", cmp)
    restarts = conn.exec_driver_sql(sql, (*steps_and_latest, has_best, best, best, *owned)).scalar()
    if restarts is None:
        return None
    _refresh(session, Trial, trial_id, _VALIDATION_SUMMARIES)
    if best is not None:
        sql = _sql(_EXPERIMENT_BEST, dialect).replace("{cmp}", cmp)
        conn.exec_driver_sql(sql, (best, trial_id, owner.experiment_id, best))
        _refresh(
            session, Experiment, owner.experiment_id, ("best_searcher_metric", "best_trial_id")
        )
    return int(restarts)


def _refresh(session: Session, model: Any, pk: int, attributes: Sequence[str]) -> None:
    """Reload `attributes` of the object if this session holds it (it rarely does)."""
    obj = session.identity_map.get(identity_key(model, pk))
    if obj is not None:
        session.refresh(obj, attribute_names=list(attributes))


_CHECKPOINTED = "SELECT 1 FROM checkpoints WHERE trial_id = {p} LIMIT 1"


def has_checkpoints(session: Session, trial_id: int) -> bool:
    """Whether the trial has any checkpoint row (validation metrics are copied onto them)."""
    conn = session.connection()
    row = conn.exec_driver_sql(_sql(_CHECKPOINTED, conn.dialect.name), (trial_id,)).first()
    return row is not None
