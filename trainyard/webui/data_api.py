"""Read routes only the web UI needs, under `/api/v1/webui` (user identity required).

- `GET /webui/experiments/{id}/trial_table`: query `state`, `where` (`hp.lr<0.01`,
  `state=COMPLETED`, `~` means contains), `sort` (any column, `-` reverses), `limit`, `offset`
  → `{"hparams", "metrics", "items", "total", "limit", "offset"}`.
- `GET /webui/experiments/{id}/hpo?max_trials=2000` → `{"metric", "smaller_is_better",
  "hparams": [{"name", "kind", "log", "values"}], "scored", "note", "trials": [{"id", "state",
  "trained_length", "metric", "started_at", "ended_at", "hp"}]}` (hparams that never vary are
  left out; past `max_trials` scored trials, the best half and a seeded random half, `note`
  saying so).
- `GET /webui/experiments/{id}/curves?max_points=200&max_total_points=50000` → `{"metric",
  "trials", "points", "traces": [{"name", "x", "y", "trial_ids"}]}`: all trials' searcher-metric
  curves, downsampled, one trace per rung reached (or state) with `null` between trials.
- `GET /webui/experiments/{id}/importance` → `{hparam: share}` (random forest; {} when
  there are fewer than 5 scored trials).
- `GET /webui/experiments/{id}/rungs` → `[{"length", "trials"}]`: trials that trained at least
  `length` so far.
- `GET /webui/trials/{id}/events` → `[{"kind", "time", "exit_code", "reason"}]`.
- `GET /webui/compare?trial_ids=3,7` (1 to 20 ids, any experiments) → `[{"trial": Trial,
  "experiment": {...}, "hp": {...}}]`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import func, select

from trainyard.config import flatten_hparams
from trainyard.errors import ConfigError
from trainyard.master.api import _reads
from trainyard.master.api._types import Id, NonNegInt, id_list
from trainyard.master.api.deps import ApiContext, Context, current_user
from trainyard.master.api.schemas import enc, trial_out
from trainyard.master.db import Trial
from trainyard.master.db import metrics as metrics_repo
from trainyard.master.db import trials as trials_repo
from trainyard.webui._cache import VersionedCache, data_version
from trainyard.webui._hpo import HpoTrial, curve_traces, hpo_trials, sample_trials
from trainyard.webui._importance import importance_cached
from trainyard.webui._table_page import config_hparam_specs, sql_page
from trainyard.webui._tables import TrialRow, TrialTable, select_rows, trial_rows

__all__ = ["importance_of", "router"]

router = APIRouter(prefix="/api/v1/webui", tags=["webui"], dependencies=[Depends(current_user)])

_tables: VersionedCache[TrialTable] = VersionedCache()
_hpo_rows: VersionedCache[list[HpoTrial]] = VersionedCache()
"""Keyed by (id of the app's Database, experiment id): one process may serve several."""


def _table(ctx: ApiContext, experiment_id: int) -> tuple[TrialTable, bool]:
    """(the whole table, smaller_is_better), rebuilt only when the experiment's data changed."""
    with ctx.db.session(read_only=True) as session:
        exp = _reads.get_experiment(session, experiment_id)
        version = data_version(session, experiment_id)
        table = _tables.get(
            (id(ctx.db), experiment_id), version, lambda: trial_rows(session, experiment_id)
        )
        return table, exp.smaller_is_better


@dataclass(frozen=True)
class _Exp:
    searcher_metric: str
    smaller_is_better: bool
    config: dict[str, Any]


def _trials(ctx: ApiContext, experiment_id: int) -> tuple[list[HpoTrial], _Exp]:
    """(every trial's hparams and final metric, the experiment), the trials cached like
    `_table`."""
    with ctx.db.session(read_only=True) as session:
        row = _reads.get_experiment(session, experiment_id)
        exp = _Exp(row.searcher_metric, row.smaller_is_better, row.config or {})
        version = data_version(session, experiment_id)
        trials = _hpo_rows.get(
            (id(ctx.db), experiment_id), version, lambda: hpo_trials(session, experiment_id)
        )
        return trials, exp


@router.get("/experiments/{experiment_id}/trial_table")
def trial_table(
    ctx: Context,
    experiment_id: Id,
    state: str | None = None,
    where: str | None = None,
    sort: str = "id",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[NonNegInt, Query()] = 0,
) -> dict[str, Any]:
    """One page of the trials table with every hparam and latest validation metric as a column.

    Sorting by a trial column with no `where` is done by the database (only the page is read);
    other views filter and sort the whole table, kept in memory until the experiment changes."""
    page = None
    if not (where or "").strip():
        with ctx.db.session(read_only=True) as session:
            exp = _reads.get_experiment(session, experiment_id)
            page = sql_page(session, exp, state=state, sort=sort, limit=limit, offset=offset)
    if page is not None:
        hparams, metrics, items, total = page
    else:
        table, smaller = _table(ctx, experiment_id)
        rows = select_rows(table, state=state, where=where, sort=sort, smaller_is_better=smaller)
        hparams, metrics = table.hparams, table.metrics
        items, total = rows[offset : offset + limit], len(rows)
    return {
        "hparams": hparams,
        "metrics": metrics,
        "items": [_item(r) for r in items],
        "total": total,
        "limit": limit,
        "offset": offset,
    }


def _item(r: TrialRow) -> dict[str, Any]:
    return {
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


@router.get("/experiments/{experiment_id}/hpo")
def hpo(
    ctx: Context,
    experiment_id: Id,
    max_trials: Annotated[int, Query(ge=2, le=20_000)] = 2000,
) -> dict[str, Any]:
    """The varying hparams (kind, log scale, categories) and at most `max_trials` scored
    trials: all of them, or the best half and a seeded random half with `note` saying so."""
    trials, exp = _trials(ctx, experiment_id)
    log_scaled = _log_hparams(exp.config)
    hparams: list[dict[str, Any]] = []
    for name in _varying(trials):
        values = [t.hp.get(name) for t in trials]
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        hparams.append(
            {
                "name": name,
                "kind": "numeric" if numeric else "categorical",
                "log": numeric and name in log_scaled,
                "values": [] if numeric else sorted({str(v) for v in values}),
            }
        )
    shown, note = sample_trials(
        trials, max_trials=max_trials, smaller_is_better=exp.smaller_is_better, seed=experiment_id
    )
    names: list[str] = [h["name"] for h in hparams]
    return {
        "metric": exp.searcher_metric,
        "smaller_is_better": exp.smaller_is_better,
        "hparams": hparams,
        "scored": sum(1 for t in trials if t.metric is not None),
        "note": note,
        "trials": [
            {
                "id": t.id,
                "state": t.state,
                "trained_length": t.trained_length,
                "metric": t.metric,
                "started_at": t.started_at,
                "ended_at": t.ended_at,
                "hp": {n: t.hp.get(n) for n in names},
            }
            for t in shown
        ],
    }


def _varying(trials: list[HpoTrial]) -> list[str]:
    """Sorted names of the hparams that take more than one value (a constant explains nothing)."""
    names = sorted({n for t in trials for n in t.hp})
    return [n for n in names if len({repr(t.hp.get(n)) for t in trials}) > 1]


@router.get("/experiments/{experiment_id}/curves")
def curves(
    ctx: Context,
    experiment_id: Id,
    max_points: Annotated[int, Query(ge=1, le=5000)] = 200,
    max_total_points: Annotated[int, Query(ge=100, le=200_000)] = 50_000,
) -> dict[str, Any]:
    """Every trial's searcher-metric curve, downsampled in the database (at most `max_points`
    per trial and `max_total_points` in all, each trial's last point kept), packed as one
    plotly trace per group with `null` between trials: `{"metric", "trials", "points",
    "traces": [{"name", "x", "y", "trial_ids"}]}`."""
    trials, exp = _trials(ctx, experiment_id)
    with ctx.db.session(read_only=True) as session:
        series = metrics_repo.experiment_metrics(
            session,
            experiment_id,
            "validation",
            None,
            max_points_per_trial=max_points,
            max_total_points=max_total_points,
        )
    traces = curve_traces(trials, series)
    return {
        "metric": exp.searcher_metric,
        "trials": sum(1 for t in trials if series.get(t.id)),
        "points": sum(len(series[t.id]) for t in trials if t.id in series),
        "traces": traces,
    }


@router.get("/experiments/{experiment_id}/importance")
def importance(ctx: Context, experiment_id: Id) -> dict[str, float]:
    """{hparam: share of importance} from a random forest on (hparams → final searcher metric);
    {} with fewer than 5 scored trials or no varying hparam. Fitted once per set of scores."""
    return importance_of(ctx, experiment_id)


def importance_of(ctx: ApiContext, experiment_id: int) -> dict[str, float]:
    """What `GET .../importance` answers; the HPO page calls it early in a background thread so
    the fit (and scikit-learn's slow first import) is under way before the browser asks."""
    trials, _exp = _trials(ctx, experiment_id)
    scored = [t for t in trials if t.metric is not None]
    version = repr((len(scored), sum(t.metric for t in scored if t.metric is not None)))
    return importance_cached(
        (id(ctx.db), experiment_id),
        version,
        _varying(trials),
        [t.hp for t in scored],
        [t.metric for t in scored if t.metric is not None],
    )


def _log_hparams(config: dict[str, Any]) -> set[str]:
    """Flattened names of the `type: log` hyperparameters of an experiment config."""
    return {path for path, spec in config_hparam_specs(config) if spec["type"] == "log"}


@router.get("/experiments/{experiment_id}/rungs")
def rungs(ctx: Context, experiment_id: Id) -> list[dict[str, int]]:
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
def trial_events(ctx: Context, trial_id: Id) -> list[dict[str, Any]]:
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
    ids = id_list(trial_ids, "trial_ids") or []
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
