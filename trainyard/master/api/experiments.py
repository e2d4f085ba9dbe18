"""User routes on experiments (docs/rest-api.md, "Experiments")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Response, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from trainyard.config import load_config_text
from trainyard.errors import NotFoundError
from trainyard.master.api import _reads
from trainyard.master.api._types import Id, NonNegInt, id_list
from trainyard.master.api._upload import check_model_def
from trainyard.master.api.deps import ApiContext, Context, CurrentUser
from trainyard.master.api.schemas import (
    CheckpointOut,
    ExperimentOut,
    Page,
    TrialOut,
    checkpoint_out,
    experiment_out,
    trial_out,
)
from trainyard.master.db import ModelDefinition
from trainyard.master.db import metrics as metrics_repo

__all__ = ["load_experiment", "router"]

router = APIRouter(tags=["experiments"])

Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[NonNegInt, Query()]
_ACTIONS = ("pause", "activate", "cancel", "kill", "archive", "unarchive")


def load_experiment(ctx: ApiContext, experiment_id: int, *, with_config: bool) -> ExperimentOut:
    """The experiment as the API shows it; `NotFoundError` if there is none."""
    with ctx.db.session(read_only=True) as session:
        row = _reads.get_experiment(session, experiment_id)
        owners = _reads.owner_names(session, [row.owner_id])
        counts = _reads.trial_counts(session, [row.id])[row.id]
    owner = owners.get(row.owner_id) if row.owner_id is not None else None
    return experiment_out(row, owner=owner, trial_counts=counts, with_config=with_config)


@router.post("/experiments", status_code=201, response_model=ExperimentOut)
async def create_experiment(
    ctx: Context,
    user: CurrentUser,
    config: Annotated[str, Form(description="experiment config, YAML")],
    model_def: UploadFile | None = None,
    activate: Annotated[bool, Form()] = True,
) -> ExperimentOut:
    """Create an experiment from a config and a model directory tarball."""
    limit = ctx.settings.max_model_dir_bytes
    data = b"" if model_def is None else await model_def.read(limit + 1)
    if model_def is not None and len(data) > limit:
        data += await model_def.read()  # the whole size, for an honest message
    check_model_def(data, limit)

    def _create() -> int:
        return ctx.service.create_experiment(config, data, owner_id=user.user_id, activate=activate)

    experiment_id = await run_in_threadpool(_create)
    out = await run_in_threadpool(load_experiment, ctx, experiment_id, with_config=False)
    out.warnings = load_config_text(config).warnings  # ignored/translated (Determined) fields
    return out


@router.get("/experiments", response_model=Page[ExperimentOut])
def list_experiments(
    ctx: Context,
    state: str | None = None,
    archived: bool | None = None,
    name: str | None = None,
    label: str | None = None,
    owner: str | None = None,
    sort: str = "-id",
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[ExperimentOut]:
    with ctx.db.session(read_only=True) as session:
        rows, total = _reads.page_experiments(
            session,
            state=state,
            archived=archived,
            name=name,
            label=label,
            owner=owner,
            sort=sort,
            limit=limit,
            offset=offset,
        )
        counts = _reads.trial_counts(session, [r.id for r in rows])
        owners = _reads.owner_names(session, [r.owner_id for r in rows])
    items = [
        experiment_out(
            r,
            owner=owners.get(r.owner_id) if r.owner_id is not None else None,
            trial_counts=counts[r.id],
        )
        for r in rows
    ]
    return Page[ExperimentOut](items=items, total=total, limit=limit, offset=offset)


@router.get("/experiments/{experiment_id}", response_model=ExperimentOut)
def get_experiment(ctx: Context, experiment_id: Id) -> ExperimentOut:
    return load_experiment(ctx, experiment_id, with_config=True)


@router.get("/experiments/{experiment_id}/model_def", response_class=Response)
def get_model_def(ctx: Context, experiment_id: Id) -> Response:
    """The model directory tarball as uploaded."""
    with ctx.db.session(read_only=True) as session:
        _reads.get_experiment(session, experiment_id)
        row = session.get(ModelDefinition, experiment_id)
        data = b"" if row is None else row.tarball
    if not data:
        raise NotFoundError(f"experiment {experiment_id} has no model definition files")
    headers = {"Content-Disposition": f'attachment; filename="experiment-{experiment_id}.tar.gz"'}
    return Response(data, media_type="application/gzip", headers=headers)


def _action_route(action: str) -> None:
    def _run(ctx: Context, experiment_id: Id) -> ExperimentOut:
        getattr(ctx.service, f"{action}_experiment")(experiment_id)
        return load_experiment(ctx, experiment_id, with_config=False)

    _run.__name__ = f"{action}_experiment"
    _run.__doc__ = f"{action.capitalize()} the experiment."
    router.add_api_route(
        f"/experiments/{{experiment_id}}/{action}",
        _run,
        methods=["POST"],
        response_model=ExperimentOut,
        name=f"{action}_experiment",
    )


for _action in _ACTIONS:
    _action_route(_action)


@router.delete("/experiments/{experiment_id}", status_code=202, response_model=ExperimentOut)
def delete_experiment(ctx: Context, experiment_id: Id) -> ExperimentOut:
    """Delete an ended experiment and its checkpoints (in the background)."""
    ctx.service.delete_experiment(experiment_id)
    return load_experiment(ctx, experiment_id, with_config=False)


class ForkIn(BaseModel):
    config: str | None = Field(default=None, description="YAML; null keeps the old config")


@router.post("/experiments/{experiment_id}/fork", status_code=201, response_model=ExperimentOut)
def fork_experiment(
    ctx: Context, user: CurrentUser, experiment_id: Id, body: ForkIn
) -> ExperimentOut:
    new_id = ctx.service.fork_experiment(experiment_id, body.config, owner_id=user.user_id)
    return load_experiment(ctx, new_id, with_config=False)


class PriorityIn(BaseModel):
    priority: int = Field(ge=1, le=99)


@router.post("/experiments/{experiment_id}/priority", response_model=ExperimentOut)
def set_priority(ctx: Context, experiment_id: Id, body: PriorityIn) -> ExperimentOut:
    ctx.service.set_priority(experiment_id, body.priority)
    return load_experiment(ctx, experiment_id, with_config=False)


@router.get("/experiments/{experiment_id}/trials", response_model=Page[TrialOut])
def list_trials(
    ctx: Context,
    experiment_id: Id,
    state: str | None = None,
    sort: str = "id",
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[TrialOut]:
    with ctx.db.session(read_only=True) as session:
        exp = _reads.get_experiment(session, experiment_id)
        rows, total = _reads.page_trials(
            session, exp, state=state, sort=sort, limit=limit, offset=offset
        )
    items = [trial_out(r) for r in rows]
    return Page[TrialOut](items=items, total=total, limit=limit, offset=offset)


@router.get("/experiments/{experiment_id}/checkpoints", response_model=Page[CheckpointOut])
def list_experiment_checkpoints(
    ctx: Context,
    experiment_id: Id,
    state: str | None = None,
    sort: str = "-created_at",
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[CheckpointOut]:
    with ctx.db.session(read_only=True) as session:
        exp = _reads.get_experiment(session, experiment_id)
        rows, total = _reads.page_checkpoints(
            session, experiment=exp, state=state, sort=sort, limit=limit, offset=offset
        )
    items = [checkpoint_out(r) for r in rows]
    return Page[CheckpointOut](items=items, total=total, limit=limit, offset=offset)


@router.get("/experiments/{experiment_id}/metrics")
def experiment_metrics(
    ctx: Context,
    experiment_id: Id,
    group: Annotated[str, Query(pattern="^(training|validation)$")] = "validation",
    name: str | None = None,
    max_points: Annotated[int, Query(ge=1, le=5000)] = 200,
    trial_ids: str | None = None,
) -> Response:
    """Every trial's curve of one metric (default: the searcher metric), downsampled:
    `{"name", "group", "trials": [{"trial_id", "points": [[steps, value], ...]}]}`."""
    ids = id_list(trial_ids, "trial_ids")
    with ctx.db.session(read_only=True) as session:
        exp = _reads.get_experiment(session, experiment_id)
        series = metrics_repo.experiment_metrics(
            session,
            experiment_id,
            group,
            None
            if name in (None, exp.searcher_metric) and group == "validation"
            else name or exp.searcher_metric,
            max_points_per_trial=max_points,
            trial_ids=ids,
        )
        metric = name or exp.searcher_metric
    body = _reads.curves_json(metric, group, series)
    return Response(body, media_type="application/json")
