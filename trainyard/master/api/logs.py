"""Log routes: paged reads with long poll, and a server-sent-events stream (follow)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from trainyard.master.api import _reads
from trainyard.master.api._openapi import EventStreamResponse
from trainyard.master.api._types import Id, NonNegInt, Rank
from trainyard.master.api.deps import ApiContext, Context
from trainyard.master.api.schemas import log_line_out
from trainyard.master.states import ExperimentState, TrialState

__all__ = ["router"]

router = APIRouter(tags=["logs"])
_POLL_INTERVAL = 0.25


@dataclass(frozen=True)
class _LogQuery:
    trial_id: int | None
    experiment_id: int | None
    rank: int | None
    stream: str | None
    search: str | None


def _fetch(ctx: ApiContext, q: _LogQuery, after_id: int, limit: int) -> tuple[list[Any], bool]:
    """(lines newer than after_id, whether the owner has ended) in one read."""
    with ctx.db.session(read_only=True) as session:
        if q.trial_id is not None:
            ended = TrialState(_reads.get_trial(session, q.trial_id).state).is_terminal
        else:
            assert q.experiment_id is not None
            exp = _reads.get_experiment(session, q.experiment_id)
            ended = ExperimentState(exp.state).is_terminal
        rows = _reads.read_logs(
            session,
            trial_ids=None if q.trial_id is None else [q.trial_id],
            experiment_id=q.experiment_id,
            after_id=after_id,
            limit=limit,
            rank=q.rank,
            stream=q.stream,
            search=q.search,
        )
        return [log_line_out(r).model_dump() for r in rows], ended


async def _page(
    ctx: ApiContext, q: _LogQuery, after_id: int, limit: int, timeout: float
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        lines, ended = await run_in_threadpool(_fetch, ctx, q, after_id, limit)
        if lines or ended or time.monotonic() >= deadline:
            next_id = lines[-1]["id"] if lines else after_id
            return {"lines": lines, "next_after_id": next_id, "ended": ended and not lines}
        await asyncio.sleep(_POLL_INTERVAL)


Limit = Annotated[int, Query(ge=1, le=10000)]
Timeout = Annotated[float, Query(ge=0, le=60)]


@router.get("/trials/{trial_id}/logs")
async def trial_logs(
    ctx: Context,
    trial_id: Id,
    after_id: NonNegInt = 0,
    limit: Limit = 1000,
    rank: Rank | None = None,
    stream: str | None = None,
    search: str | None = None,
    timeout_seconds: Timeout = 0,
) -> dict[str, Any]:
    """Lines newer than `after_id`; with `timeout_seconds`, waits for one (long poll)."""
    q = _LogQuery(trial_id, None, rank, stream, search)
    return await _page(ctx, q, after_id, limit, timeout_seconds)


@router.get("/experiments/{experiment_id}/logs")
async def experiment_logs(
    ctx: Context,
    experiment_id: Id,
    after_id: NonNegInt = 0,
    limit: Limit = 1000,
    rank: Rank | None = None,
    stream: str | None = None,
    search: str | None = None,
    timeout_seconds: Timeout = 0,
) -> dict[str, Any]:
    """Like trial logs, over every trial of the experiment."""
    q = _LogQuery(None, experiment_id, rank, stream, search)
    return await _page(ctx, q, after_id, limit, timeout_seconds)


@router.get("/trials/{trial_id}/logs/stream", response_class=EventStreamResponse)
async def trial_log_stream(
    ctx: Context,
    trial_id: Id,
    rank: Rank | None = None,
    stream: str | None = None,
    search: str | None = None,
    last_event_id: Annotated[NonNegInt | None, Header()] = None,
) -> StreamingResponse:
    """Server-sent events: one `data:` event per line, `event: end` once the trial has ended."""
    q = _LogQuery(trial_id, None, rank, stream, search)
    await run_in_threadpool(_fetch, ctx, q, 0, 1)  # 404 before the stream starts

    async def events() -> AsyncIterator[str]:
        after = last_event_id or 0
        while True:
            page = await _page(ctx, q, after, 1000, 15.0)
            for line in page["lines"]:
                yield f"id: {line['id']}\ndata: {json.dumps(line)}\n\n"
            after = page["next_after_id"]
            if page["ended"]:
                yield "event: end\ndata: {}\n\n"
                return
            if not page["lines"]:
                yield ": keep-alive\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")
