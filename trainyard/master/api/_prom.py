"""Prometheus metrics of the master, served at `/metrics` (prometheus_client)."""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi import FastAPI, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trainyard.master.db import Database, Trial

__all__ = ["METRIC_POINTS", "REGISTRY", "install_metrics"]

REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "trainyard_http_requests",
    "HTTP requests served",
    ["method", "route", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "trainyard_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    registry=REGISTRY,
)
METRIC_POINTS = Counter(
    "trainyard_metric_points_ingested", "Metric reports stored", ["group"], registry=REGISTRY
)
TRIALS = Gauge("trainyard_trials", "Trials per state", ["state"], registry=REGISTRY)


class _MeasureRequests:
    """ASGI middleware: count and time every HTTP request by method, route template and status.

    A plain ASGI wrapper, not Starlette's `BaseHTTPMiddleware`, which costs every request a task
    group and a memory stream (a sizeable share of a small request's CPU). Times run until the
    response is complete (a followed log stream counts as one long request).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            template = _template(scope)
            LATENCY.labels(scope["method"], template).observe(time.perf_counter() - start)
            REQUESTS.labels(scope["method"], template, str(status)).inc()


def _template(scope: Scope) -> str:
    """The matched route's path template ("unmatched" when no route matched)."""
    template: str | None = getattr(scope.get("route"), "path", None)
    if template is None:
        return "unmatched"
    if str(scope["path"]).startswith("/api/") and not template.startswith("/api/"):
        return "/api/v1" + template  # routes of included routers keep their own path
    return template


def install_metrics(app: FastAPI, db_of: Callable[[], Database]) -> None:
    """Count and time every request (by route template) and serve `GET /metrics`."""
    app.add_middleware(_MeasureRequests)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        with db_of().session(read_only=True) as session:
            counts = session.execute(select(Trial.state, func.count()).group_by(Trial.state))
            TRIALS.clear()
            for state, n in counts:
                TRIALS.labels(state).set(n)
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
