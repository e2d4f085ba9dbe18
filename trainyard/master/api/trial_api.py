"""The trial-facing routes of docs/trial-api.md, authenticated by the per-allocation token.

A token opens only its own allocation's and trial's routes; anything else is 403.
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any, Literal, NotRequired, cast

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from trainyard.master.api import _prom
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


def _to_float(value: NumberOrStr) -> float:
    return float(value)


@router.get("/allocations/{allocation_id}/info")
def allocation_info(ctx: Context, ident: CurrentAllocation, allocation_id: str) -> dict[str, Any]:
    """What the trial needs to start: ids, hparams, seed, checkpoint to restore, config."""
    _own_allocation(ident, allocation_id)
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
    deadline = time.monotonic() + timeout_seconds
    while True:
        preempt, reason = await run_in_threadpool(_preempt_reason, ctx, allocation_id)
        if preempt or time.monotonic() >= deadline:
            return {"preempt": preempt, "reason": reason}
        await asyncio.sleep(_POLL_INTERVAL)


@router.get("/trials/{trial_id}/searcher/operation")
def searcher_operation(ctx: Context, ident: CurrentAllocation, trial_id: int) -> dict[str, Any]:
    _own_trial(ident, trial_id)
    length, completed = ctx.service.searcher_operation(trial_id)
    return {"length": length, "completed": completed}


class CompletedIn(BaseModel):
    length: int = Field(ge=0)
    metric: NumberOrStr


@router.post("/trials/{trial_id}/searcher/completed_operation")
def completed_operation(
    ctx: Context, ident: CurrentAllocation, trial_id: int, body: CompletedIn
) -> dict[str, Any]:
    _own_trial(ident, trial_id)
    ctx.service.complete_operation(trial_id, body.length, _to_float(body.metric))
    return {}


class ReportIn(TypedDict):
    """One report; a missing timestamp means "when the master received it"."""

    steps: Annotated[int, Field(ge=0, le=2**63 - 1)]
    metrics: dict[str, Any]
    timestamp: NotRequired[float]


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
    for report in body["reports"]:
        if "timestamp" not in report:
            report["timestamp"] = now
    return body


@router.post("/trials/{trial_id}/metrics", openapi_extra=_METRICS_BODY)
async def report_metrics(
    ctx: Context, ident: CurrentAllocation, trial_id: int, request: Request
) -> dict[str, Any]:
    """A batch of reports; idempotent per (trial, group, steps)."""
    _own_trial(ident, trial_id)
    body = parse_metrics(await request.body())
    reports = cast(list[dict[str, Any]], body["reports"])
    await run_in_threadpool(ctx.service.report_metrics, trial_id, body["group"], reports)
    _prom.METRIC_POINTS.labels(group=body["group"]).inc(len(reports))
    return {}


class ProgressIn(BaseModel):
    progress: float = Field(ge=0, le=1)


@router.post("/trials/{trial_id}/progress")
def report_progress(
    ctx: Context, ident: CurrentAllocation, trial_id: int, body: ProgressIn
) -> dict[str, Any]:
    _own_trial(ident, trial_id)
    ctx.service.report_progress(trial_id, body.progress)
    return {}


class EarlyExitIn(BaseModel):
    reason: Literal["invalid_hp", "errored"]


@router.post("/trials/{trial_id}/early_exit")
def early_exit(
    ctx: Context, ident: CurrentAllocation, trial_id: int, body: EarlyExitIn
) -> dict[str, Any]:
    _own_trial(ident, trial_id)
    ctx.service.early_exit(trial_id, body.reason)
    return {}


class CheckpointIn(BaseModel):
    uuid: str = Field(min_length=1, max_length=64)
    steps: int = Field(ge=0)
    metadata: dict[str, Any] = Field(default_factory=dict)
    resources: dict[str, int] = Field(default_factory=dict)
    sharded: bool = False


@router.post("/trials/{trial_id}/checkpoints")
def register_checkpoint(
    ctx: Context, ident: CurrentAllocation, trial_id: int, body: CheckpointIn
) -> dict[str, Any]:
    """Record a checkpoint already committed to storage."""
    _own_trial(ident, trial_id)
    ctx.service.register_checkpoint(trial_id, ident.allocation_id, body.model_dump())
    return {}


class LogLineIn(BaseModel):
    rank: int | None = None
    stream: Literal["stdout", "stderr"] = "stdout"
    timestamp: float
    line: str
    seq: int | None = Field(default=None, ge=0, le=2**62)
    """The launcher's number for the line; a line already stored under it is not added again."""


class LogsIn(BaseModel):
    lines: list[LogLineIn]


@router.post("/allocations/{allocation_id}/logs")
def ship_logs(
    ctx: Context, ident: CurrentAllocation, allocation_id: str, body: LogsIn
) -> dict[str, Any]:
    """Store a batch of the allocation's output lines (sent by the launcher)."""
    _own_allocation(ident, allocation_id)
    if body.lines:
        lines = [line.model_dump() for line in body.lines]
        with ctx.db.session() as session:
            logs_repo.add_logs(session, ident.trial_id, lines, allocation_id=allocation_id)
    return {}
