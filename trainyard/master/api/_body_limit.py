"""Request bodies over a size limit are refused with `413` before a route reads them whole.

    app.add_middleware(BodyLimitMiddleware, default_limit=32 * MiB, limits={...})

`limits` maps `(METHOD, path)` to that route's own limit (the experiment upload: the model
directory limit plus room for the config); every other request may send `default_limit` bytes.
A declared `Content-Length` over the limit is refused without reading anything; a chunked body
is counted as it arrives: past the limit, reading it raises inside the route, which so never acts
on a cut body, and the answer is the 413. The answer is the API's one error body:
`{"detail": "request body is over the 32.0 MiB limit of POST /api/v1/trials/{id}/metrics"}`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["DEFAULT_MAX_BODY_BYTES", "BodyLimitMiddleware", "MiB"]

MiB = 1024 * 1024
DEFAULT_MAX_BODY_BYTES = 32 * MiB
"""What any request may send (a metrics batch of 500 reports or a log batch of 1,000 lines is far
below it)."""


class BodyLimitMiddleware:
    """Pure ASGI middleware (no buffering, no thread hop); see the module docstring."""

    def __init__(
        self, app: ASGIApp, *, default_limit: int, limits: Mapping[tuple[str, str], int]
    ) -> None:
        self.app = app
        self.default_limit = default_limit
        self.limits = dict(limits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get((scope["method"], scope["path"]), self.default_limit)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, send, limit)
            return
        seen = 0
        over = False
        started = False

        async def counted_receive() -> Message:
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    over = True
                    raise _BodyTooLarge  # the route never runs on a cut body
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                if started:
                    return
                started = True
                if over:  # e.g. FastAPI's "error parsing the body" for the raised read
                    await _refuse(scope, send, limit)
                    return
            elif over:
                return
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except _BodyTooLarge:
            if not started:
                await _refuse(scope, send, limit)


class _BodyTooLarge(Exception):
    """Raised by the counted `receive` past the limit; caught by the middleware."""


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(scope: Scope, send: Send, limit: int) -> None:
    where = f"{scope['method']} {scope['path'][:200]}"
    detail = f"request body is over the {limit / MiB:.1f} MiB limit of {where}"
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    # The unread rest of the body is left to the server: uvicorn closes the connection.
    headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
