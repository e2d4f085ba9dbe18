"""One page of the trials table straight from SQL, for the common views: no `where` filter and
a sort on a trial column (id, request id, state, trained length, restarts, searcher metric).

The database sorts and pages; only the page's trials (50 by default) get their latest validation
metrics read, so the first call on a 10,000-trial experiment costs a few milliseconds instead of
building the whole table. Order and columns match `select_rows` on the full table: empty cells
last, ties by trial id, the searcher metric best first in the searcher's direction.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from trainyard.config import flatten_hparams
from trainyard.master.db import Experiment, Trial
from trainyard.master.db import metrics as metrics_repo
from trainyard.webui._tables import TRIAL_COLUMNS, TrialRow, trial_row

__all__ = ["SQL_SORTS", "config_hparam_names", "config_hparam_specs", "sql_page"]

SQL_SORTS: dict[str, Any] = {
    "id": Trial.id,
    "request_id": Trial.request_id,
    "state": Trial.state,
    "trained_length": Trial.completed_length,
    "restarts": Trial.restarts,
    "searcher_metric": Trial.latest_validation,
    "best_metric": Trial.best_validation,
}
"""Table columns the database can sort by (column name → trials column)."""
_NAME_SAMPLE = 20


def sql_page(
    session: Session,
    exp: Experiment,
    *,
    state: str | None,
    sort: str,
    limit: int,
    offset: int,
) -> tuple[list[str], list[str], list[TrialRow], int] | None:
    """(hparam names, metric names, rows of the page, total) or None when `sort` is not in
    `SQL_SORTS` (the caller then filters the full table)."""
    key = sort.lstrip("-")
    column = SQL_SORTS.get(key)
    if column is None:
        return None
    descending = sort.startswith("-")
    if key in ("searcher_metric", "best_metric") and not exp.smaller_is_better:
        descending = not descending
    where: ColumnElement[bool] = Trial.experiment_id == exp.id
    wanted = sorted({s.strip().upper() for s in (state or "").split(",") if s.strip()})
    if wanted:
        where = and_(where, Trial.state.in_(wanted))
    total = session.scalar(select(func.count()).select_from(Trial).where(where)) or 0
    empty = column.is_(None)
    if key in ("searcher_metric", "best_metric"):  # the table shows NaN and ±inf as empty
        # NaN: SQLite stores NULL; PostgreSQL's NaN equals NaN and sorts above every number.
        empty = or_(empty, column == math.nan, column == math.inf, column == -math.inf)
    query = (
        select(*TRIAL_COLUMNS)
        .where(where)
        .order_by(case((empty, 1), else_=0), column.desc() if descending else column, Trial.id)
        .limit(limit)
        .offset(offset)
    )
    trials = session.execute(query).all()
    ids = [t[0] for t in trials]
    latest = metrics_repo.last_validations(session, trial_ids=[*ids, *_ends(session, exp.id)])
    rows = [trial_row(t, latest.get(t[0]) or {}) for t in trials]
    hparams = set(config_hparam_names(exp.config or {}))
    metrics = {name for m in latest.values() for name in m}
    for row in rows:
        hparams.update(row.hp)
    return sorted(hparams), sorted(metrics), rows, total


def _ends(session: Session, experiment_id: int, n: int = _NAME_SAMPLE) -> list[int]:
    """Ids of the experiment's first and last `n` trials, whose latest validations name the
    metric columns along with the page's own (a column set that does not change page to page)."""
    where = Trial.experiment_id == experiment_id
    first = session.scalars(select(Trial.id).where(where).order_by(Trial.id).limit(n)).all()
    last = session.scalars(select(Trial.id).where(where).order_by(Trial.id.desc()).limit(n)).all()
    return [*first, *last]


def config_hparam_specs(config: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(dotted path, spec) of each hyperparameter of a stored experiment config, in YAML
    order; a spec is a mapping with a string `type`."""
    out: list[tuple[str, dict[str, Any]]] = []

    def walk(node: Any, prefix: str) -> None:
        if not isinstance(node, dict):
            return
        if isinstance(node.get("type"), str):
            out.append((prefix, node))
            return
        for key, child in node.items():
            walk(child, f"{prefix}.{key}" if prefix else str(key))

    walk(config.get("hyperparameters") or {}, "")
    return out


def config_hparam_names(config: dict[str, Any]) -> list[str]:
    """Flattened names of an experiment config's hyperparameters (`optimizer.lr`), the names
    every trial's hparams carry; a `const` holding a mapping contributes its flattened keys."""
    out: list[str] = []
    for path, spec in config_hparam_specs(config):
        value = spec.get("val")
        if spec["type"] == "const" and isinstance(value, dict) and value:
            out.extend(f"{path}.{k}" for k in flatten_hparams(value))
        else:
            out.append(path)
    return out
