"""The trial-facing routes of docs/trial-api.md, authenticated by the per-allocation token.

A token opens only its own allocation's and trial's routes (anything else is 403), and only
while that allocation is live: once it has ended (TERMINATED) every route answers 401 and
changes nothing, so a token dies with its allocation.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Annotated, Any, Literal, NotRequired, cast

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, TypeAdapter, ValidationError, field_validator
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from trainyard.master.api import _prom
from trainyard.master.api._types import CheckpointUuid, Id, NonNegInt, Rank, Timestamp
from trainyard.master.api.deps import AllocationIdentity, ApiContext, Context, CurrentAllocation
from trainyard.master.db import Allocation, Experiment, Trial
from trainyard.master.db import logs as logs_repo
from trainyard.master.states import AllocationState

__all__ = ["router"]

router = APIRouter(tags=["trial API"])
_POLL_INTERVAL = 0.25
NumberOrStr = float | Literal["NaN", "Infinity", "-Infinity"]


def _own_allocation(ident: AllocationIdentity, allocation_id: str) -> None:
    if ident.allocation_id != allocation_id:
        raise HTTPException(403, f"this token does not open allocation {allocation_id}")


def _own_trial(ident: AllocationIdentity, trial_id: int) -> None:
    if ident.trial_id != trial_id:
        raise HTTPException(403, f"this token does not open trial {trial_id}")


def require_live(ctx: ApiContext, ident: AllocationIdentity) -> None:
    """401 once the token's allocation has ended: a token dies with its allocation. Blocking
    (one primary-key read); async routes call it in the thread pool."""
    with ctx.db.session(read_only=True) as session:
        state = session.scalar(select(Allocation.state).where(Allocation.id == ident.allocation_id))
    if state is None or state == AllocationState.TERMINATED:
        raise HTTPException(
            401, f"allocation {ident.allocation_id} has ended; its token no longer opens any route"
        )


def _to_float(value: NumberOrStr) -> float:
    return float(value)


@router.get("/allocations/{allocation_id}/info")
def allocation_info(ctx: Context, ident: CurrentAllocation, allocation_id: str) -> dict[str, Any]:
    """What the trial needs to start: ids, hparams, seed, checkpoint to restore, config."""
    _own_allocation(ident, allocation_id)
    require_live(ctx, ident)
    with ctx.db.session(read_only=True) as session:
        alloc = session.get(Allocation, allocation_id)
        trial = session.get(Trial, ident.trial_id)
        assert alloc is not None and trial is not None  # the token proved they exist
        exp = session.get(Experiment, trial.experiment_id)
        assert exp is not None
        return {
            "trial_id": trial.id,
            "experiment_id": trial.experiment_id,
            "hparams": trial.hparams,
            "trial_seed": trial.seed,
            "latest_checkpoint": trial.latest_checkpoint_uuid or trial.warm_start_checkpoint_uuid,
            "slots": alloc.slots,
            "config": exp.config,
            "trial_run_id": trial.restarts,
        }


def _preempt_reason(ctx: ApiContext, allocation_id: str) -> tuple[bool, str | None]:
    with ctx.db.session(read_only=True) as session:
        alloc = session.get(Allocation, allocation_id)
        assert alloc is not None
        if alloc.preempt_reason:
            return True, alloc.preempt_reason
        ending = alloc.state in (AllocationState.TERMINATING, AllocationState.TERMINATED)
        return ending, ("kill" if ending else None)


@router.get("/allocations/{allocation_id}/preemption")
async def preemption(
    ctx: Context,
    ident: CurrentAllocation,
    allocation_id: str,
    timeout_seconds: Annotated[float, Query(ge=0, le=60)] = 0,
) -> dict[str, Any]:
    """Long poll: answers as soon as the allocation is asked to stop, else after the timeout."""
    _own_allocation(ident, allocation_id)
    await run_in_threadpool(require_live, ctx, ident)
    deadline = time.monotonic() + timeout_seconds
    while True:
        preempt, reason = await run_in_threadpool(_preempt_reason, ctx, allocation_id)
        if preempt or time.monotonic() >= deadline:
            return {"preempt": preempt, "reason": reason}
        await asyncio.sleep(_POLL_INTERVAL)


@router.get("/trials/{trial_id}/searcher/operation")
def searcher_operation(ctx: Context, ident: CurrentAllocation, trial_id: Id) -> dict[str, Any]:
    _own_trial(ident, trial_id)
    require_live(ctx, ident)
    length, completed = ctx.service.searcher_operation(trial_id)
    return {"length": length, "completed": completed}


@router.get("/trials/{trial_id}/searcher/experiment_best")
def experiment_best(ctx: Context, ident: CurrentAllocation, trial_id: Id) -> dict[str, Any]:
    """The best searcher metric reported so far in the trial's experiment (null before the
    first): what `checkpoint_policy: best` compares a new validation with."""
    _own_trial(ident, trial_id)
    require_live(ctx, ident)
    with ctx.db.session(read_only=True) as session:
        trial = session.get(Trial, trial_id)
        assert trial is not None  # the token proved it exists
        exp = session.get(Experiment, trial.experiment_id)
        best = exp.best_searcher_metric if exp is not None else None
    return {"metric": best if best is None or math.isfinite(best) else None}


class CompletedIn(BaseModel):
    length: NonNegInt
    metric: NumberOrStr

    @field_validator("metric", mode="before")
    @classmethod
    def _a_number(cls, value: Any) -> Any:
        """Numbers only (no numeric strings, no booleans), like metric values."""
        if type(value) in (int, float) or (isinstance(value, str) and value in _NON_FINITE):
            return value
        raise ValueError(
            f"the searcher metric is {_json_kind(value)}; it must be a number "
            '(non-finite ones as "NaN", "Infinity", "-Infinity")'
        )


@router.post("/trials/{trial_id}/searcher/completed_operation")
def completed_operation(
    ctx: Context, ident: CurrentAllocation, trial_id: Id, body: CompletedIn
) -> dict[str, Any]:
    _own_trial(ident, trial_id)
    require_live(ctx, ident)
    ctx.service.complete_operation(trial_id, body.length, _to_float(body.metric))
    return {}


class ReportIn(TypedDict):
    """One report; a missing timestamp means "when the master received it"."""

    steps: NonNegInt
    metrics: dict[str, Any]
    timestamp: NotRequired[Timestamp]


class MetricsIn(TypedDict):
    group: Literal["training", "validation"]
    reports: list[ReportIn]


# The body is validated straight from its bytes by pydantic-core (no stdlib JSON decode, no
# per-report model objects): the largest Python cost of ingest before the database.
_METRICS_IN: TypeAdapter[MetricsIn] = TypeAdapter(MetricsIn)


def _inlined(schema: Any, defs: dict[str, Any]) -> Any:
    """`schema` with its local `$ref`s replaced by their definitions (OpenAPI has no `$defs`)."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _inlined(defs[schema["$ref"].rsplit("/", 1)[1]], defs)
        return {k: _inlined(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inlined(v, defs) for v in schema]
    return schema


_SCHEMA = _METRICS_IN.json_schema()
_METRICS_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": _inlined(_SCHEMA, _SCHEMA.get("$defs", {}))}},
    }
}


def parse_metrics(raw: bytes) -> MetricsIn:
    """The validated body of `POST /trials/{tid}/metrics`, missing timestamps set to now.

    Raises `RequestValidationError` (a one-line 400 from the API's handler) for bad input.
    """
    try:
        body = _METRICS_IN.validate_json(raw)
    except ValidationError as err:
        raise RequestValidationError(err.errors(include_url=False, include_input=False)) from None
    now = time.time()
    for index, report in enumerate(body["reports"]):
        if "timestamp" not in report:
            report["timestamp"] = now
        for name, value in report["metrics"].items():
            kind = type(value)
            if kind is not float and kind is not int and value not in _NON_FINITE:
                raise HTTPException(
                    400,
                    f"reports.{index}.metrics: metric {name!r} is {_json_kind(value)}; "
                    'metric values must be numbers (non-finite ones as "NaN", "Infinity", '
                    '"-Infinity")',
                )
    return body


_NON_FINITE = ("NaN", "Infinity", "-Infinity")


def _json_kind(value: Any) -> str:
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    return {dict: "an object", list: "an array", type(None): "null"}.get(
        type(value), "not a number"
    )


def _ingest(
    ctx: ApiContext, ident: AllocationIdentity, trial_id: int, group: str, reports: Any
) -> None:
    require_live(ctx, ident)
    ctx.service.report_metrics(trial_id, group, reports)


@router.post("/trials/{trial_id}/metrics", openapi_extra=_METRICS_BODY)
async def report_metrics(
    ctx: Context, ident: CurrentAllocation, trial_id: Id, request: Request
) -> dict[str, Any]:
    """A batch of reports; idempotent per (trial, group, steps)."""
    _own_trial(ident, trial_id)
    body = parse_metrics(await request.body())
    reports = cast(list[dict[str, Any]], body["reports"])
    await run_in_threadpool(_ingest, ctx, ident, trial_id, body["group"], reports)
    _prom.METRIC_POINTS.labels(group=body["group"]).inc(len(reports))
    return {}


class ProgressIn(BaseModel):
    progress: float = Field(ge=0, le=1)


@router.post("/trials/{trial_id}/progress")
def report_progress(
    ctx: Context, ident: CurrentAllocation, trial_id: Id, body: ProgressIn
) -> dict[str, Any]:
    _own_trial(ident, trial_id)
    require_live(ctx, ident)
    ctx.service.report_progress(trial_id, body.progress)
    return {}


class EarlyExitIn(BaseModel):
    reason: Literal["invalid_hp", "errored"]
    message: str | None = Field(default=None, max_length=1000)
    """Why, in one line (kept as the trial's error for `errored`)."""


@router.post("/trials/{trial_id}/early_exit")
def early_exit(
    ctx: Context, ident: CurrentAllocation, trial_id: Id, body: EarlyExitIn
) -> dict[str, Any]:
    _own_trial(ident, trial_id)
    require_live(ctx, ident)
    ctx.service.early_exit(trial_id, body.reason, body.message)
    return {}


class CheckpointIn(BaseModel):
    uuid: CheckpointUuid
    steps: NonNegInt
    metadata: dict[str, Any] = Field(default_factory=dict)
    resources: dict[str, NonNegInt] = Field(default_factory=dict)
    sharded: bool = False


@router.post("/trials/{trial_id}/checkpoints")
def register_checkpoint(
    ctx: Context, ident: CurrentAllocation, trial_id: Id, body: CheckpointIn
) -> dict[str, Any]:
    """Record a checkpoint already committed to storage."""
    _own_trial(ident, trial_id)
    require_live(ctx, ident)
    ctx.service.register_checkpoint(trial_id, ident.allocation_id, body.model_dump())
    return {}


class LogLineIn(BaseModel):
    rank: Rank | None = None
    stream: Literal["stdout", "stderr"] = "stdout"
    timestamp: Timestamp
    line: str
    seq: NonNegInt | None = None
    """The launcher's number for the line; a line already stored under it is not added again."""


class LogsIn(BaseModel):
    lines: list[LogLineIn]


@router.post("/allocations/{allocation_id}/logs")
def ship_logs(
    ctx: Context, ident: CurrentAllocation, allocation_id: str, body: LogsIn
) -> dict[str, Any]:
    """Store a batch of the allocation's output lines (sent by the launcher)."""
    _own_allocation(ident, allocation_id)
    require_live(ctx, ident)
    if body.lines:
        lines = [line.model_dump() for line in body.lines]
        with ctx.db.session() as session:
            logs_repo.add_logs(session, ident.trial_id, lines, allocation_id=allocation_id)
    return {}
