"""The API's one catch site: `TrainyardError`s and request validation errors become JSON
`{"detail": "<one line>"}` with the status code that fits (docs/rest-api.md, "Errors").

A value the database refuses (an integer past its range that slipped past the bounded types of
`_types.py`, a NUL byte in a PostgreSQL text field) is the caller's input, not a server fault:
`400 {"detail": "invalid value: <the database's one line>"}` (logged with its traceback).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DisconnectionError, OperationalError

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

    @app.exception_handler(DataError)
    @app.exception_handler(OverflowError)
    async def _bad_value(request: Request, err: Exception) -> JSONResponse:
        _log.warning("refused value on %s %s", request.method, request.url.path, exc_info=err)
        return JSONResponse({"detail": f"invalid value: {_db_message(err)}"}, status_code=400)

    @app.exception_handler(OperationalError)
    @app.exception_handler(DisconnectionError)
    async def _database_unavailable(request: Request, err: Exception) -> JSONResponse:
        # The database restarted, was unreachable or busy: the unit of work did not commit (or
        # its answer was lost). Trials retry a 503, and their writes are idempotent.
        _log.warning("database unavailable on %s %s: %s", request.method, request.url.path, err)
        return JSONResponse(
            {"detail": "database unavailable; retry shortly"},
            status_code=503,
            headers={"Retry-After": "1"},
        )

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


def _db_message(err: Exception) -> str:
    if isinstance(err, OverflowError):
        return "an integer in the request is out of range"
    orig = getattr(err, "orig", None) or err
    lines = str(orig).strip().splitlines()
    return lines[0] if lines else type(orig).__name__
