"""Prometheus metrics of the master, served at `/metrics` (prometheus_client)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from sqlalchemy import func, select

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


def install_metrics(app: FastAPI, db_of: Callable[[], Database]) -> None:
    """Count and time every request (by route template) and serve `GET /metrics`."""

    @app.middleware("http")
    async def _measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", None)
        if template is None:
            template = "unmatched"
        elif request.url.path.startswith("/api/") and not template.startswith("/api/"):
            template = "/api/v1" + template  # routes of included routers keep their own path
        LATENCY.labels(request.method, template).observe(time.perf_counter() - start)
        REQUESTS.labels(request.method, template, str(response.status_code)).inc()
        return response

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        with db_of().session(read_only=True) as session:
            counts = session.execute(select(Trial.state, func.count()).group_by(Trial.state))
            TRIALS.clear()
            for state, n in counts:
                TRIALS.labels(state).set(n)
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
