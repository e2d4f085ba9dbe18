"""Read routes only the web UI needs, under `/api/v1/webui` (user identity required).

- `GET /webui/experiments/{id}/trial_table`: query `state`, `where` (`hp.lr<0.01`,
  `state=COMPLETED`, `~` means contains), `sort` (any column, `-` reverses), `limit`, `offset`
  → `{"hparams", "metrics", "items", "total", "limit", "offset"}`.
- `GET /webui/experiments/{id}/hpo` → `{"metric", "smaller_is_better", "hparams": [{"name",
  "kind", "values"}], "trials": [{"id", "state", "trained_length", "metric", "hp"}],
  }` (hparams that never vary are left out).
- `GET /webui/experiments/{id}/importance` → `{hparam: share}` (random forest; {} when
  there are fewer than 5 scored trials).
- `GET /webui/experiments/{id}/rungs` → `[{"length", "trials"}]`: trials that trained at least
  `length` so far.
- `GET /webui/trials/{id}/events` → `[{"kind", "time", "exit_code", "reason"}]`.
- `GET /webui/compare?trial_ids=3,7` (1 to 20 ids, any experiments) → `[{"trial": Trial,
  "experiment": {...}, "hp": {...}}]`.
"""

from __future__ import annotations

import threading
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import func, select

from trainyard.config import flatten_hparams
from trainyard.errors import ConfigError
from trainyard.master.api import _reads
from trainyard.master.api.deps import Context, current_user
from trainyard.master.api.schemas import enc, trial_out
from trainyard.master.db import Trial
from trainyard.master.db import trials as trials_repo
from trainyard.webui._importance import importance_cached
from trainyard.webui._tables import TrialTable, select_rows, trial_rows

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/webui", tags=["webui"], dependencies=[Depends(current_user)])

_TABLE_TTL = 2.0
_tables: dict[tuple[int, int], tuple[float, TrialTable]] = {}
"""(id of the app's Database, experiment id) → (expiry, table): one process may serve several."""
_tables_lock = threading.Lock()


def _table(ctx: Context, experiment_id: int) -> tuple[TrialTable, bool, str, int]:
    """(table, smaller_is_better, searcher metric, searcher version), the table reused for
    `_TABLE_TTL` seconds so paging and sorting a 10,000-trial table stays quick."""
    with ctx.db.session(read_only=True) as session:
        exp = _reads.get_experiment(session, experiment_id)
        meta = (exp.smaller_is_better, exp.searcher_metric, exp.searcher_version)
        key = (id(ctx.db), experiment_id)
        with _tables_lock:
            hit = _tables.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return (hit[1], *meta)
        table = trial_rows(session, experiment_id)
    with _tables_lock:
        if len(_tables) > 64:
            _tables.clear()
        _tables[key] = (time.monotonic() + _TABLE_TTL, table)
    return (table, *meta)


@router.get("/experiments/{experiment_id}/trial_table")
def trial_table(
    ctx: Context,
    experiment_id: int,
    state: str | None = None,
    where: str | None = None,
    sort: str = "id",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """One page of the trials table with every hparam and latest validation metric as a column."""
    table, smaller, _metric, _version = _table(ctx, experiment_id)
    rows = select_rows(table, state=state, where=where, sort=sort, smaller_is_better=smaller)
    page = rows[offset : offset + limit]
    return {
        "hparams": table.hparams,
        "metrics": table.metrics,
        "items": [
            {
                "id": r.id,
                "request_id": r.request_id,
                "state": r.state,
                "trained_length": r.trained_length,
                "target_length": r.target_length,
                "restarts": r.restarts,
                "searcher_metric": r.searcher_metric,
                "best_metric": r.best_metric,
                "exit_reason": r.exit_reason,
                "hp": r.hp,
                "m": r.m,
            }
            for r in page
        ],
        "total": len(rows),
        "limit": limit,
        "offset": offset,
    }


@router.get("/experiments/{experiment_id}/hpo")
def hpo(ctx: Context, experiment_id: int) -> dict[str, Any]:
    """Each trial's hparams and final searcher metric, and the kind of each varying hparam."""
    table, smaller, metric, _version = _table(ctx, experiment_id)
    with ctx.db.session(read_only=True) as session:
        log_scaled = _log_hparams(_reads.get_experiment(session, experiment_id).config or {})
    hparams: list[dict[str, Any]] = []
    for name in table.hparams:
        values = [r.hp.get(name) for r in table.rows]
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        distinct = sorted({repr(v) for v in values})
        if len(distinct) <= 1:
            continue  # a constant explains nothing; keep it out of the charts
        hparams.append(
            {
                "name": name,
                "kind": "numeric" if numeric else "categorical",
                "log": numeric and name in log_scaled,
                "values": [] if numeric else sorted({str(v) for v in values}),
            }
        )
    names: list[str] = [h["name"] for h in hparams]
    return {
        "metric": metric,
        "smaller_is_better": smaller,
        "hparams": hparams,
        "trials": [
            {
                "id": r.id,
                "state": r.state,
                "trained_length": r.trained_length,
                "metric": r.searcher_metric,
                "hp": {n: r.hp.get(n) for n in names},
            }
            for r in table.rows
        ],
    }


@router.get("/experiments/{experiment_id}/importance")
def importance(ctx: Context, experiment_id: int) -> dict[str, float]:
    """{hparam: share of importance} from a random forest on (hparams → final searcher metric);
    {} with fewer than 5 scored trials or no varying hparam. Cached per searcher version."""
    table, _smaller, _metric, version = _table(ctx, experiment_id)
    scored = [r for r in table.rows if r.searcher_metric is not None]
    names = [n for n in table.hparams if len({repr(r.hp.get(n)) for r in table.rows}) > 1]
    return importance_cached(
        (id(ctx.db), experiment_id, version, len(scored)),
        names,
        [r.hp for r in scored],
        [r.searcher_metric for r in scored if r.searcher_metric is not None],
    )


def _log_hparams(config: dict[str, Any]) -> set[str]:
    """Flattened names of the `type: log` hyperparameters of an experiment config."""
    out: set[str] = set()

    def walk(node: Any, prefix: str) -> None:
        if not isinstance(node, dict):
            return
        if isinstance(node.get("type"), str):
            if node["type"] == "log":
                out.add(prefix)
            return
        for key, child in node.items():
            walk(child, f"{prefix}.{key}" if prefix else str(key))

    walk(config.get("hyperparameters") or {}, "")
    return out


@router.get("/experiments/{experiment_id}/rungs")
def rungs(ctx: Context, experiment_id: int) -> list[dict[str, int]]:
    """How many trials trained at least each length reached so far (the searcher's rungs)."""
    with ctx.db.session(read_only=True) as session:
        _reads.get_experiment(session, experiment_id)
        counts = session.execute(
            select(Trial.completed_length, func.count())
            .where(Trial.experiment_id == experiment_id, Trial.completed_length > 0)
            .group_by(Trial.completed_length)
            .order_by(Trial.completed_length)
        ).all()
    out: list[dict[str, int]] = []
    remaining = sum(n for _, n in counts)
    for length, n in counts:
        out.append({"length": int(length), "trials": int(remaining)})
        remaining -= n
    return out


@router.get("/trials/{trial_id}/events")
def trial_events(ctx: Context, trial_id: int) -> list[dict[str, Any]]:
    """The trial's history: exits, restarts, preemptions, with their reasons."""
    with ctx.db.session(read_only=True) as session:
        _reads.get_trial(session, trial_id)
        events = trials_repo.list_events(session, trial_id)
        return [
            {"kind": e.kind, "time": e.time, "exit_code": e.exit_code, "reason": e.reason}
            for e in events
        ]


@router.get("/compare")
def compare(ctx: Context, trial_ids: str) -> list[dict[str, Any]]:
    """Trials (from any experiments) with their experiment and flattened hparams."""
    try:
        ids = [int(t) for t in trial_ids.split(",") if t.strip()]
    except ValueError:
        raise ConfigError("trial_ids: write trial ids separated by commas, e.g. 3,7,12") from None
    if not ids or len(ids) > 20:
        raise ConfigError(f"trial_ids: give 1 to 20 trial ids, not {len(ids)}")
    out: list[dict[str, Any]] = []
    with ctx.db.session(read_only=True) as session:
        for tid in ids:
            row = _reads.get_trial(session, tid)
            exp = _reads.get_experiment(session, row.experiment_id)
            out.append(
                {
                    "trial": trial_out(row).model_dump(mode="json"),
                    "experiment": {
                        "id": exp.id,
                        "name": exp.name,
                        "searcher_metric": exp.searcher_metric,
                        "smaller_is_better": exp.smaller_is_better,
                        "best_metric": enc(exp.best_searcher_metric),
                    },
                    "hp": flatten_hparams(row.hparams or {}),
                }
            )
    return out
