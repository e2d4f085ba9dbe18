"""The served OpenAPI spec states the error statuses each route really answers.

FastAPI lists a `422` on every route with parameters, which this API never sends (request
validation errors are folded into a one-line `400` by `errors.py`), and none of the statuses it
does send. `install_openapi(app)` replaces `app.openapi` with one that drops the `422` and adds,
to each operation, the error statuses its shape allows, each with the one error body
`{"detail": "<one line>"}` (`#/components/schemas/Error`):

| status | declared on |
| --- | --- |
| 400 | a route that reads any parameter or body (a bad value) |
| 401, 403 | a route behind an identity dependency (401: no or unknown token; 403: the wrong kind |
|          | of token, another trial's, or a cross-origin cookie request) |
| 401, 403 | a public route that reads a body (`POST /auth/login`: an unknown token, or a |
|          | browser's login from another site) |
| 404 | a route with a path parameter, or a query parameter naming ids (`trial_ids`) |
| 409 | a mutating route (POST/PUT/PATCH/DELETE) on an object named in its path |
| 413 | a route that reads a body (`_body_limit.py`: the request size limit) |

`tests/integration/api/test_api_openapi_statuses.py` checks that the statuses the API is seen
answering are declared; `test_schemathesis*.py` checks every response against the spec.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import PlainTextResponse, StreamingResponse

__all__ = [
    "ERROR_SCHEMA",
    "CsvResponse",
    "EventStreamResponse",
    "error_statuses",
    "install_openapi",
]

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "properties": {"detail": {"type": "string", "title": "Detail"}},
    "required": ["detail"],
}
_DESCRIPTIONS = {
    400: "Invalid input: one line naming the field and the rule",
    401: "No token, an unknown token, or one that no longer opens this route",
    403: "A token not allowed here (another kind, another trial's) or a cross-origin request",
    404: "No such object",
    409: "Not allowed in the object's current state",
    413: "The request body is over the size limit",
}
_MUTATING = {"post", "put", "patch", "delete"}
# Before OpenAPI 3.2, the `schema` of `text/event-stream` describes each event.
_SSE_EVENT: dict[str, Any] = {
    "title": "ServerSentEvent",
    "type": "object",
    "properties": {
        "data": {"type": "string"},
        "event": {"type": "string"},
        "id": {"type": "string"},
        "retry": {"type": "integer", "minimum": 0},
    },
}


def error_statuses(method: str, path: str, op: dict[str, Any], *, public: bool) -> set[int]:
    """The error statuses the operation `method path` (as in the spec, `op` its object) may
    answer, per the table in the module docstring; `public` for a route without identity."""
    params = op.get("parameters", [])
    has_body = "requestBody" in op
    found: set[int] = set()
    if params or has_body:
        found.add(400)
    if has_body or not public:
        found |= {401, 403}
    in_path = any(p["in"] == "path" for p in params)
    if in_path or any(p["in"] == "query" and p["name"].endswith("_ids") for p in params):
        found.add(404)
    if in_path and method.lower() in _MUTATING:
        found.add(409)
    if has_body:
        found.add(413)
    return found


def install_openapi(app: FastAPI, public: set[tuple[str, str]]) -> None:
    """Serve the spec with honest error statuses (see the module docstring); `public` holds the
    (METHOD, path) of the routes without identity (a login route answers 401 for a bad token)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        _declare(spec, public)
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override


def _declare(spec: dict[str, Any], public: set[tuple[str, str]]) -> None:
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            responses = op.setdefault("responses", {})
            responses.pop("422", None)
            for response in responses.values():
                stream = response.get("content", {}).get("text/event-stream")
                if stream is not None:
                    stream["schema"] = _SSE_EVENT
            is_public = (method.upper(), path) in public
            for status in sorted(error_statuses(method, path, op, public=is_public)):
                responses.setdefault(
                    str(status), {"description": _DESCRIPTIONS[status], "content": error}
                )
    if "HTTPValidationError" not in str(spec["paths"]):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)


class EventStreamResponse(StreamingResponse):
    """`response_class` of a server-sent-events route, so the spec says `text/event-stream`."""

    media_type = "text/event-stream"


class CsvResponse(PlainTextResponse):
    """`response_class` of a CSV download, so the spec says `text/csv`."""

    media_type = "text/csv"
