"""User routes on trials: get, kill, continue, metrics, checkpoints (docs/rest-api.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from trainyard.master.api import _reads
from trainyard.master.api._types import Id, NonNegInt
from trainyard.master.api.deps import AllocationIdentity, Context, UserOrTrial
from trainyard.master.api.schemas import CheckpointOut, Page, TrialOut, checkpoint_out, trial_out
from trainyard.master.api.trial_api import require_live
from trainyard.master.db import metrics as metrics_repo

__all__ = ["router", "shared_router"]

router = APIRouter(tags=["trials"])
shared_router = APIRouter(tags=["trials"])
"""Routes open to users and to the trial's own allocation."""


def _load_trial(ctx: Context, trial_id: int) -> TrialOut:
    with ctx.db.session(read_only=True) as session:
        return trial_out(_reads.get_trial(session, trial_id))


@router.get("/trials/{trial_id}", response_model=TrialOut)
def get_trial(ctx: Context, trial_id: Id) -> TrialOut:
    return _load_trial(ctx, trial_id)


@router.post("/trials/{trial_id}/kill", response_model=TrialOut)
def kill_trial(ctx: Context, trial_id: Id) -> TrialOut:
    """Kill one trial; the searcher sees it as canceled by the user."""
    ctx.service.kill_trial(trial_id)
    return _load_trial(ctx, trial_id)


class ContinueIn(BaseModel):
    checkpoint_uuid: str | None = None
    max_length: NonNegInt | None = Field(default=None, ge=1)


@router.post("/trials/{trial_id}/continue", status_code=201)
def continue_trial(ctx: Context, trial_id: Id, body: ContinueIn) -> dict[str, int]:
    """Continue training a trial from a checkpoint (default: its latest)."""
    experiment_id, new_trial_id = ctx.service.continue_trial(
        trial_id, checkpoint_uuid=body.checkpoint_uuid, max_length=body.max_length
    )
    return {"experiment_id": experiment_id, "trial_id": new_trial_id}


@router.get("/trials/{trial_id}/metrics")
def trial_metrics(
    ctx: Context,
    trial_id: Id,
    group: Annotated[str, Query(pattern="^(training|validation)$")] = "training",
    names: str | None = None,
    max_points: Annotated[int, Query(ge=1, le=10000)] = 1000,
) -> dict[str, Any]:
    """A trial's reports of one group by steps, evenly downsampled (first and last kept)."""
    wanted = {n.strip() for n in names.split(",") if n.strip()} if names else None
    with ctx.db.session(read_only=True) as session:
        _reads.get_trial(session, trial_id)
        rows = metrics_repo.trial_metrics(session, trial_id, group, max_points=max_points)
    points = [
        {
            "steps": r.steps,
            "metrics": r.metrics if wanted is None else {k: r.metrics.get(k) for k in wanted},
            "timestamp": r.timestamp,
        }
        for r in rows
    ]
    return {"trial_id": trial_id, "group": group, "points": points}


class TrialCheckpoints(BaseModel):
    """The trial-facing answer (docs/trial-api.md)."""

    checkpoints: list[CheckpointOut]


@shared_router.get(
    "/trials/{trial_id}/checkpoints", response_model=Page[CheckpointOut] | TrialCheckpoints
)
def list_trial_checkpoints(
    ctx: Context,
    caller: UserOrTrial,
    trial_id: Id,
    state: str | None = None,
    sort: str = "-created_at",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[NonNegInt, Query()] = 0,
) -> Page[CheckpointOut] | TrialCheckpoints:
    """A trial's checkpoints as a page. Called with the trial's own allocation token, the answer
    is docs/trial-api.md's `{"checkpoints": [...]}` (every ACTIVE checkpoint, newest first)."""
    is_trial = isinstance(caller, AllocationIdentity)
    if isinstance(caller, AllocationIdentity):
        if caller.trial_id != trial_id:
            raise HTTPException(403, f"this token does not open trial {trial_id}")
        require_live(ctx, caller)  # 401 once its allocation has ended
    if is_trial:
        state, sort, limit, offset = "ACTIVE", "-steps", 1000, 0
    with ctx.db.session(read_only=True) as session:
        trial = _reads.get_trial(session, trial_id)
        exp = _reads.get_experiment(session, trial.experiment_id)
        rows, total = _reads.page_checkpoints(
            session,
            experiment=exp,
            trial_id=trial_id,
            state=state,
            sort=sort,
            limit=limit,
            offset=offset,
        )
    items = [checkpoint_out(r) for r in rows]
    if is_trial:
        return TrialCheckpoints(checkpoints=items)
    return Page[CheckpointOut](items=items, total=total, limit=limit, offset=offset)
