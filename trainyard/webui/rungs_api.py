"""The search's structure for the overview, under `/api/v1/webui` (user identity required):
`GET .../experiments/{id}/lineage` (a population search's family tree, see `lineage`) and
`GET .../experiments/{id}/rungs_plan`: the rungs as planned and as they went.

Answer: `{"unit", "smaller_is_better", "plan": {"trials", "length"} | null, "plan_pending",
"rungs": [{"length", "reached", "planned", "promoted", "stopped", "cutoff", "best_stopped"}]}`
(`plan_pending`: the preview is still being computed in the background; ask again).
A rung is a length trials validated at; `reached` counts the trials that trained at least that
far, `planned` what the preview expected there, `promoted` the trials that went past it and
`stopped` those that ended there. `cutoff` is the worst searcher metric, at that length, among
the promoted trials (the bar a trial had to clear), `best_stopped` the best among the stopped:
both null when unknown (lengths not in batches, or nothing promoted/stopped yet).
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from trainyard.config import flatten_hparams
from trainyard.master.api import _reads
from trainyard.master.api._types import Id
from trainyard.master.api.deps import Context, current_user
from trainyard.master.db import webui_reads as reads
from trainyard.webui._cache import VersionedCache, data_version
from trainyard.webui._progress import length_unit, plan_pending, search_plan

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/webui", tags=["webui"], dependencies=[Depends(current_user)])


@router.get("/experiments/{experiment_id}/rungs_plan")
def rungs_plan(ctx: Context, experiment_id: Id) -> dict[str, Any]:
    """Per rung: planned and actual trials, promotions, stops and the promotion cutoff."""
    with ctx.db.session(read_only=True) as session:
        exp = _reads.get_experiment(session, experiment_id)
        config, smaller = exp.config or {}, exp.smaller_is_better
        key = (id(ctx.db), experiment_id)
        planned = search_plan(key, config) is not None  # the plan arrives in the background
        version = f"{data_version(session, experiment_id)}/{planned}"
        answer = _rungs.get(key, version, lambda: _rungs_plan(session, key, config, smaller))
    return {**answer, "plan_pending": plan_pending(key)}


_rungs: VersionedCache[dict[str, Any]] = VersionedCache()
"""Rebuilt only when the experiment's trials changed (a poll of an idle search reads nothing)."""


def _rungs_plan(
    session: Session, key: tuple[int, int], config: dict[str, Any], smaller: bool
) -> dict[str, Any]:
    experiment_id = key[1]
    ends = reads.trial_ends(session, experiment_id)
    unit = length_unit(config)
    plan = search_plan(key, config)
    lengths = sorted({done for _, done, _ in ends if done > 0} | set(plan.reaching if plan else ()))
    values = reads.values_at(session, experiment_id, lengths) if unit == "batches" else {}
    best, worst = (min, max) if smaller else (max, min)
    rungs = []
    for length in lengths:
        promoted = [tid for tid, done, _ in ends if done > length]
        stopped = [tid for tid, done, ended in ends if done == length and ended]
        at = values.get(length, {})
        passed = [at[t] for t in promoted if t in at]
        failed = [at[t] for t in stopped if t in at]
        rungs.append(
            {
                "length": length,
                "reached": sum(1 for _, done, _ in ends if done >= length),
                "planned": plan.reaching.get(length) if plan else None,
                "promoted": len(promoted),
                "stopped": len(stopped),
                "cutoff": worst(passed) if passed else None,
                "best_stopped": best(failed) if failed else None,
            }
        )
    return {
        "unit": unit,
        "smaller_is_better": smaller,
        "plan": {"trials": plan.trials, "length": plan.length} if plan else None,
        "rungs": rungs,
    }


@router.get("/experiments/{experiment_id}/lineage")
def lineage(ctx: Context, experiment_id: Id) -> list[dict[str, Any]]:
    """A population search's family tree: `[{"id", "request_id", "parent_id", "checkpoint",
    "changed": {hparam: [parent's, own]}, "metric", "state"}]`, oldest first; `parent_id` is
    null for a trial sampled from scratch, and `[]` when no trial has a parent."""
    with ctx.db.session(read_only=True) as session:
        _reads.get_experiment(session, experiment_id)
        rows = reads.lineage(session, experiment_id)
    if not any(r.parent_request_id is not None for r in rows):
        return []
    by_request = {r.request_id: r for r in rows}
    out = []
    for r in rows:
        parent = by_request.get(r.parent_request_id) if r.parent_request_id is not None else None
        own = flatten_hparams(r.hparams)
        before = flatten_hparams(parent.hparams) if parent is not None else {}
        changed = {k: [before.get(k), v] for k, v in own.items() if parent and before.get(k) != v}
        out.append(
            {
                "id": r.id,
                "request_id": r.request_id,
                "parent_id": parent.id if parent is not None else None,
                "checkpoint": r.checkpoint,
                "changed": changed,
                "metric": r.metric if r.metric is not None and math.isfinite(r.metric) else None,
                "state": r.state,
            }
        )
    return out
