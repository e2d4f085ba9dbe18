"""HTTP to the master with the allocation token, retrying connection errors with backoff."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from trainyard.core._errors import MasterError

_RETRY_STATUS = {502, 503, 504}

# httpx logs every request at INFO: a trial script's `logging.basicConfig(level=INFO)` would fill
# its log with the platform's own metric and preemption calls. Levels the user set are kept.
for _name in ("httpx", "httpcore"):
    if logging.getLogger(_name).level == logging.NOTSET:
        logging.getLogger(_name).setLevel(logging.WARNING)


class MasterClient:
    """A thin httpx client for `docs/trial-api.md`.

    Connection errors, timeouts and 502/503/504 are retried with exponential backoff (0.2 s
    doubling to 5 s) until `retry_for_s` has passed; other non-2xx answers raise `MasterError`
    at once with the master's `detail`. `stop_retrying()` makes later retries give up (for
    background threads at exit). Thread-safe (httpx clients are).
    """

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        retry_for_s: float = 120.0,
        timeout_s: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.Client(
            base_url=base_url.rstrip("/") + "/api/v1",
            headers=headers,
            timeout=timeout_s,
            transport=transport,
            # Plain-HTTP master: no TLS ever happens (redirects are not followed), so skip
            # loading the CA bundle (~50 ms per client, paid before a trial's first batch).
            verify=base_url.lower().startswith("https:"),
        )
        self.retry_for_s = retry_for_s
        self._give_up = False
        self._sleep: Callable[[float], None] = time.sleep

    def stop_retrying(self) -> None:
        """Make requests fail after their current attempt instead of retrying."""
        self._give_up = True

    def close(self) -> None:
        self._client.close()

    def get(self, path: str, *, params: Mapping[str, Any] | None = None, **kw: Any) -> Any:
        return self.request("GET", path, params=params, **kw)

    def post(self, path: str, body: Any, **kw: Any) -> Any:
        return self.request("POST", path, body=body, **kw)

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        timeout_s: float | None = None,
        not_found_ok: bool = False,
    ) -> Any:
        """Send one request, retrying transient failures; returns the decoded JSON answer.

        With `not_found_ok`, a 404/405 (a master without this route) answers None.
        """
        deadline = time.monotonic() + self.retry_for_s
        delay = 0.2
        content = None if body is None else json.dumps(body, allow_nan=False).encode()
        headers = {"Content-Type": "application/json"} if content is not None else None
        while True:
            problem: str
            try:
                resp = self._client.request(
                    method,
                    path,
                    content=content,
                    params=dict(params) if params else None,
                    headers=headers,
                    timeout=timeout_s if timeout_s is not None else httpx.USE_CLIENT_DEFAULT,
                )
            except httpx.TransportError as err:
                problem = f"{type(err).__name__}: {err}"
            else:
                if resp.status_code < 300:
                    return resp.json() if resp.content else {}
                if resp.status_code in (404, 405) and not_found_ok:  # no such route (yet)
                    return None
                if resp.status_code not in _RETRY_STATUS:
                    raise MasterError(
                        f"master answered {resp.status_code} to {method} {path}: {_detail(resp)}"
                    )
                problem = f"HTTP {resp.status_code}"
            if self._give_up or time.monotonic() + delay > deadline:
                raise MasterError(
                    f"master at {self._client.base_url} unreachable for {method} {path} "
                    f"({problem}); check TRAINYARD_MASTER_URL and that the master is running"
                )
            self._sleep(delay)
            delay = min(delay * 2, 5.0)


def _detail(resp: httpx.Response) -> str:
    try:
        return str(resp.json().get("detail", resp.text))[:300]
    except (ValueError, AttributeError):
        return resp.text[:300]
