"""The served OpenAPI spec declares the statuses each route answers, with the one error body.

Walks the live spec: every operation is probed without a token, with the wrong kind of token,
with unknown ids and with a bad value, and each status seen must be declared on that operation
(schemathesis, in `test_schemathesis_api.py`, checks the same on a real master for every answer).
"""

from __future__ import annotations

import re
from typing import Any

from api_support import Api, Seeded, seed

from trainyard.master.api._types import ID_MAX

ERROR_REF = {"$ref": "#/components/schemas/Error"}


def _operations(api: Api) -> tuple[dict[str, Any], list[tuple[str, str, dict[str, Any]]]]:
    spec: dict[str, Any] = api.http.get("/openapi.json").json()
    ops = [
        (method.upper(), path, op)
        for path, methods in spec["paths"].items()
        for method, op in methods.items()
    ]
    return spec, ops


def test_no_route_declares_the_422_the_api_never_sends(api: Api) -> None:
    spec, ops = _operations(api)
    assert len(ops) > 40
    for method, path, op in ops:
        assert "422" not in op["responses"], (method, path)
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_every_declared_error_has_the_one_line_error_body(api: Api) -> None:
    spec, ops = _operations(api)
    assert spec["components"]["schemas"]["Error"]["required"] == ["detail"]
    for method, path, op in ops:
        errors = {k: v for k, v in op["responses"].items() if k.startswith("4")}
        assert errors, (method, path)
        for status, response in errors.items():
            schema = response["content"]["application/json"]["schema"]
            assert schema == ERROR_REF, (method, path, status)


def _url(path: str, seeded: Seeded, *, unknown: bool) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "allocation_id":
            return "no-such-allocation" if unknown else seeded.allocation_id
        if name.endswith("_id"):
            return str(ID_MAX) if unknown else str(seeded.trial_ids[0])
        return "no-such-object"

    return re.sub(r"\{([^}]+)\}", fill, path)


def _probes(
    api: Api, seeded: Seeded, method: str, path: str, op: dict[str, Any]
) -> list[tuple[str, int]]:
    """(what, status) of each probe of one operation."""
    user = {"Authorization": f"Bearer {api.token}"}
    trial = {"Authorization": f"Bearer {seeded.allocation_token}"}
    seen = [("no token", api.http.request(method, _url(path, seeded, unknown=False)).status_code)]
    for name, headers in (("user token", user), ("allocation token", trial)):
        if method != "GET" and "trial API" not in op.get("tags", []):
            continue  # user actions need the real runtime: schemathesis covers them
        if path.endswith("/stream") or "preemption" in path:
            continue  # long-lived answers
        for unknown in (False, True):
            url = _url(path, seeded, unknown=unknown)
            status = api.http.request(method, url, headers=headers).status_code
            seen.append((f"{name}, unknown ids={unknown}", status))
        ints = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
        if ints:
            url = _url(path, seeded, unknown=False)
            response = api.http.request(method, url, headers=headers, params={ints[0]: "\x00" * 3})
            seen.append((f"{name}, bad {ints[0]}", response.status_code))
    return seen


def test_every_status_a_route_answers_is_declared_on_it(api: Api) -> None:
    seeded = seed(api.db)
    _, ops = _operations(api)
    undeclared = []
    for method, path, op in ops:
        for what, status in _probes(api, seeded, method, path, op):
            assert status < 500, (method, path, what)
            if str(status) not in op["responses"]:
                undeclared.append(f"{method} {path}: {status} ({what})")
    assert not undeclared, "\n".join(undeclared)
