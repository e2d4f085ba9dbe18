"""The master's FastAPI application: `create_app(settings) -> FastAPI`.

    app = create_app(load_master_settings(Path("master.yaml")))
    uvicorn.run(app, host=settings.host, port=settings.port)

The lifespan opens the `Database`, applies migrations (refusing a newer schema), makes sure the
admin user and `<data_dir>/admin_token` exist (printing a new token once), starts the runtime
`Master` service and stops it on shutdown. Every user route depends on `current_user`, every
trial route on `current_allocation`; the only routes without identity are `/healthz`, `/metrics`,
the OpenAPI spec and `POST /api/v1/auth/login`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI

import trainyard
from trainyard.master.api import (
    checkpoints,
    cluster,
    experiments,
    logs,
    trial_api,
    trials,
    users,
)
from trainyard.master.api._body_limit import DEFAULT_MAX_BODY_BYTES, BodyLimitMiddleware, MiB
from trainyard.master.api._openapi import install_openapi
from trainyard.master.api._prom import install_metrics
from trainyard.master.api._service import MasterService
from trainyard.master.api.deps import ApiContext, current_allocation, current_user
from trainyard.master.api.errors import install_error_handlers
from trainyard.master.auth import ensure_admin_token
from trainyard.master.db import Database
from trainyard.master.settings import MasterSettings

__all__ = ["API_PREFIX", "PUBLIC_ROUTES", "ServiceFactory", "create_app"]

API_PREFIX = "/api/v1"
ServiceFactory = Callable[[MasterSettings, Database], MasterService]
_log = logging.getLogger(__name__)
PUBLIC_ROUTES = {("POST", f"{API_PREFIX}/auth/login")}
"""The spec's routes without identity (`/healthz`, `/metrics` and the docs are not in it)."""


def runtime_service(settings: MasterSettings, db: Database) -> MasterService:
    """The real runtime service (engineer B's `trainyard.master.runtime.Master`)."""
    from trainyard.master.runtime import Master

    service: MasterService = Master(settings, db)
    return service


def create_app(
    settings: MasterSettings,
    *,
    service_factory: ServiceFactory | None = None,
    announce: Callable[[str], None] | None = None,
) -> FastAPI:
    """Build the app. `service_factory` replaces the runtime (tests of read routes);
    `announce` receives the one-time admin-token message (default: printed to stdout)."""
    factory = service_factory or runtime_service
    say = announce or _print

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings.db_url)
        db.migrate()
        token = ensure_admin_token(db, settings.admin_token_path)
        if token is not None:
            say(
                f"Trainyard admin token (shown once, saved to {settings.admin_token_path}): {token}"
            )
        service = factory(settings, db)
        app.state.ctx = ApiContext(settings=settings, db=db, service=service)
        service.start()
        try:
            yield
        finally:
            service.stop()
            db.dispose()

    app = FastAPI(
        title="Trainyard master",
        version=trainyard.__version__,
        description="REST API of the Trainyard master (docs/rest-api.md, docs/trial-api.md).",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(
        BodyLimitMiddleware,
        default_limit=DEFAULT_MAX_BODY_BYTES,
        # The upload: the model directory's limit (checked with its own message by the route)
        # plus room for the config (at most 1 MB) and the multipart framing.
        limits={("POST", f"{API_PREFIX}/experiments"): settings.max_model_dir_bytes + 2 * MiB},
    )
    install_metrics(app, lambda: _ctx(app).db)

    user_api = APIRouter(prefix=API_PREFIX, dependencies=[Depends(current_user)])
    for module in (experiments, trials, logs, checkpoints, cluster, users):
        user_api.include_router(module.router)
    app.include_router(user_api)
    app.include_router(users.public_router, prefix=API_PREFIX)
    app.include_router(trials.shared_router, prefix=API_PREFIX)  # its own identity dependency
    app.include_router(
        trial_api.router, prefix=API_PREFIX, dependencies=[Depends(current_allocation)]
    )

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, Any]:
        return {"ok": True}

    _mount_webui(app)
    install_openapi(app, PUBLIC_ROUTES)
    return app


def _ctx(app: FastAPI) -> ApiContext:
    ctx: ApiContext = app.state.ctx
    return ctx


def _mount_webui(app: FastAPI) -> None:
    """Let the web UI package add its pages when it provides `install(app)`."""
    try:
        import trainyard.webui as webui
    except ImportError:  # pragma: no cover - the package always exists
        return
    install = getattr(webui, "install", None)
    if callable(install):
        install(app)


def _print(message: str) -> None:
    print(message, file=sys.stdout, flush=True)
