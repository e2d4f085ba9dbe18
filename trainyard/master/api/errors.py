"""The API's one catch site: `TrainyardError`s and request validation errors become JSON
`{"detail": "<one line>"}` with the status code that fits (docs/rest-api.md, "Errors")."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from trainyard.errors import ConfigError, InvalidTransitionError, NotFoundError, TrainyardError

__all__ = ["PayloadTooLargeError", "install_error_handlers", "status_for"]

_log = logging.getLogger(__name__)


class PayloadTooLargeError(TrainyardError):
    """An upload is over a configured size limit (413)."""


def status_for(err: TrainyardError) -> int:
    """The HTTP status a `TrainyardError` maps to."""
    if isinstance(err, NotFoundError):
        return 404
    if isinstance(err, InvalidTransitionError):
        return 409
    if isinstance(err, PayloadTooLargeError):
        return 413
    if isinstance(err, ConfigError):
        return 400
    return 400


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on `app`."""

    @app.exception_handler(TrainyardError)
    async def _trainyard_error(_request: Request, err: TrainyardError) -> JSONResponse:
        return JSONResponse({"detail": str(err)}, status_code=status_for(err))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, err: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _one_line(err)}, status_code=400)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, err: Exception) -> JSONResponse:
        _log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": f"internal error: {type(err).__name__}"}, status_code=500)


def _one_line(err: RequestValidationError) -> str:
    parts = []
    for item in err.errors():
        loc = [str(p) for p in item.get("loc", ()) if p not in ("body", "query", "path")]
        where = ".".join(loc) or "request"
        parts.append(f"{where}: {item.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"
