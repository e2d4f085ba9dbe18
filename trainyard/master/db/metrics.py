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

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from trainyard.errors import NotFoundError, TrainyardError
from trainyard.master.db import _metric_writes as _writes
from trainyard.master.db._metric_reads import (
    MetricRow,
    experiment_metrics,
    last_validations,
    metric_names,
    to_float,
    trial_metrics,
)
from trainyard.master.db.checkpoints import attach_validation

__all__ = [
    "MetricReport",
    "MetricRow",
    "add_metrics",
    "experiment_metrics",
    "last_validations",
    "metric_names",
    "steps_level",
    "to_float",
    "trial_metrics",
]

TRAINING = "training"
VALIDATION = "validation"


@dataclass(frozen=True)
class MetricReport:
    """One report as the trial sends it; `metrics` values are numbers or "NaN"-style strings."""

    steps: int
    metrics: Mapping[str, Any]
    timestamp: float


def steps_level(steps: int) -> int:
    """Trailing zero bits of `steps` (0 for odd, capped at 62 for 0): the downsampling level."""
    if steps == 0:
        return _writes.MAX_LEVEL
    return min((steps & -steps).bit_length() - 1, _writes.MAX_LEVEL)


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
    trial's current run (its `restarts`, returned by the summary UPDATE).
    A whole batch is one statement (an `INSERT ... SELECT` over the batch encoded once as JSON),
    the summaries one or two conditional UPDATEs, and the trial's experiment is read only the
    first time a database connection sees the trial (the summary UPDATE checks it).
    """
    if not group or len(group) > 32:
        raise TrainyardError(f"metric group {group!r} must be 1 to 32 characters")
    validation = group == VALIDATION
    if not isinstance(reports, Sequence):
        reports = list(reports)  # read twice if the cached owner is wrong
    owner = _writes.cached_owner(session, trial_id)
    for attempt in range(2):  # a cached owner found wrong is reloaded once
        if owner is None or attempt:
            owner = _writes.load_owner(session, trial_id)
            if owner is None:
                raise NotFoundError(f"trial {trial_id} does not exist")
        rows = _writes.rows_of(reports, owner.searcher_metric if validation else None)
        if not rows:
            return 0
        restarts = _writes.update_summaries(session, trial_id, owner, validation, rows)
        if restarts is not None:
            break
    else:  # the trial was there when loaded, yet not updated: deleted in between
        raise NotFoundError(f"trial {trial_id} does not exist")
    run_id = restarts if trial_run_id is None else trial_run_id
    _writes.store_rows(session, trial_id, owner, group, run_id, rows)
    if validation and _writes.has_checkpoints(session, trial_id):
        for steps, _, metrics, value, _ in rows:
            stored = json.loads(_writes.dumps(metrics))  # as stored: non-finite as strings
            attach_validation(session, trial_id, steps, stored, value)
    return len(rows)
