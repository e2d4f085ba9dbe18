"""Integers past the database's range are a one-line 400 naming the field, never a 500.

Walks the served OpenAPI spec, so a route added later without bounds fails here too. Runs on
SQLite (where such a value raised `OverflowError`) and PostgreSQL.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from api_support import Api, Seeded, seed

from trainyard.master.api._types import JSON_INT_MAX

HUGE = 2**64  # past SQLite's INTEGER and PostgreSQL's bigint
NEGATIVE_HUGE = -(2**64)


def _spec(api: Api) -> dict[str, Any]:
    spec: dict[str, Any] = api.http.get("/openapi.json").json()
    return spec


def _resolve(spec: dict[str, Any], node: Any) -> Any:
    if isinstance(node, dict) and "$ref" in node:
        return _resolve(spec, spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]])
    return node


def _unbounded(spec: dict[str, Any], node: Any, where: str, seen: set[str]) -> list[str]:
    """Every integer schema under `node` without both bounds inside ±JSON_INT_MAX."""
    if isinstance(node, list):
        return [
            bad for i, v in enumerate(node) for bad in _unbounded(spec, v, f"{where}[{i}]", seen)
        ]
    if not isinstance(node, dict):
        return []
    if "$ref" in node:
        if node["$ref"] in seen:
            return []
        return _unbounded(spec, _resolve(spec, node), node["$ref"], {*seen, node["$ref"]})
    found = []
    if node.get("type") == "integer":
        low, high = node.get("minimum"), node.get("maximum")
        if low is None or high is None or low < -JSON_INT_MAX or high > JSON_INT_MAX:
            found.append(where)
    for key, value in node.items():
        found += _unbounded(spec, value, f"{where}/{key}", seen)
    return found


def test_every_integer_a_route_reads_is_bounded_in_the_spec(api: Api) -> None:
    spec = _spec(api)
    bad = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            name = f"{method.upper()} {path}"
            bad += _unbounded(spec, op.get("parameters", []), f"{name} parameters", set())
            bad += _unbounded(spec, op.get("requestBody", {}), f"{name} body", set())
    assert not bad, "unbounded integer inputs:\n" + "\n".join(bad)


def _int_params(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], str]]:
    """(method, path, operation, parameter name) for every integer path/query/header parameter."""
    out = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for param in op.get("parameters", []):
                schema = param["schema"]
                kinds = [schema.get("type")] + [s.get("type") for s in schema.get("anyOf", [])]
                if "integer" in kinds:
                    out.append((method.upper(), path, op, param["name"]))
    return out


def _call(
    api: Api, seeded: Seeded, method: str, path: str, op: dict[str, Any], name: str, value: int
) -> Any:
    params: dict[str, Any] = {}
    headers: dict[str, str] = {}
    url = path
    for param in op.get("parameters", []):
        if param["in"] == "path":
            filled = str(value) if param["name"] == name else _valid_path_value(param, seeded)
            url = url.replace("{" + param["name"] + "}", filled)
        elif param["name"] == name and param["in"] == "query":
            params[name] = str(value)
        elif param["name"] == name and param["in"] == "header":
            headers[name] = str(value)
    for token in (api.token, seeded.allocation_token):
        response = api.http.request(
            method, url, params=params, headers={**headers, "Authorization": f"Bearer {token}"}
        )
        if response.status_code != 403:
            return response
    return response


def _valid_path_value(param: dict[str, Any], seeded: Seeded) -> str:
    if param["name"] == "allocation_id":
        return seeded.allocation_id
    if param["name"] == "experiment_id":
        return str(seeded.experiment_id)
    if param["name"] == "trial_id":
        return str(seeded.trial_ids[0])
    return "x"


@pytest.mark.parametrize("value", [HUGE, NEGATIVE_HUGE])
def test_huge_integer_in_any_parameter_is_a_400_naming_it(api_any_db: Api, value: int) -> None:
    api = api_any_db
    seeded = seed(api.db)
    cases = _int_params(_spec(api))
    assert len(cases) > 30
    for method, path, op, name in cases:
        response = _call(api, seeded, method, path, op, name, value)
        assert response.status_code == 400, (method, path, name, response.text)
        detail = response.json()["detail"]
        assert "\n" not in detail and re.search(rf"\b{re.escape(name)}\b", detail), detail


def test_huge_ids_in_comma_lists_are_a_400(api_any_db: Api) -> None:
    api = api_any_db
    seeded = seed(api.db)
    exp = seeded.experiment_id
    for path in (f"/experiments/{exp}/metrics", "/webui/compare"):
        for bad in (str(HUGE), "1,x"):
            response = api.get(path, params={"trial_ids": bad})
            assert response.status_code == 400, (path, bad, response.text)
            assert "trial_ids" in response.json()["detail"]


BODIES: list[tuple[str, str, dict[str, Any], str]] = [
    ("user", "/trials/{trial}/continue", {"max_length": HUGE}, "max_length"),
    ("user", "/experiments/{exp}/priority", {"priority": HUGE}, "priority"),
    (
        "trial",
        "/trials/{trial}/searcher/completed_operation",
        {"length": HUGE, "metric": 1},
        "length",
    ),
    (
        "trial",
        "/trials/{trial}/metrics",
        {"group": "training", "reports": [{"steps": HUGE, "metrics": {"loss": 1.0}}]},
        "steps",
    ),
    ("trial", "/trials/{trial}/checkpoints", {"uuid": "u1", "steps": HUGE}, "steps"),
    (
        "trial",
        "/trials/{trial}/checkpoints",
        {"uuid": "u1", "steps": 1, "resources": {"a": HUGE}},
        "resources",
    ),
    (
        "trial",
        "/allocations/{alloc}/logs",
        {"lines": [{"rank": HUGE, "timestamp": 1.0, "line": "x"}]},
        "rank",
    ),
]


@pytest.mark.parametrize(("who", "path", "body", "field"), BODIES)
def test_huge_integer_in_a_body_is_a_400_naming_it(
    api_any_db: Api, who: str, path: str, body: dict[str, Any], field: str
) -> None:
    api = api_any_db
    seeded = seed(api.db)
    url = "/api/v1" + path.format(
        trial=seeded.trial_ids[0], exp=seeded.experiment_id, alloc=seeded.allocation_id
    )
    token = api.token if who == "user" else seeded.allocation_token
    response = api.http.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert "\n" not in detail and field in detail, detail


def test_largest_accepted_integer_in_any_read_parameter_is_no_server_error(
    api_any_db: Api,
) -> None:
    """Each parameter's declared maximum passes validation and must still be a clean answer
    (e.g. PostgreSQL's 32-bit id columns). Actions are fuzzed on a real master by schemathesis."""
    api = api_any_db
    seeded = seed(api.db)
    for method, path, op, name in _int_params(_spec(api)):
        if method != "GET" or path.endswith("/stream"):  # a stream lasts as long as its trial
            continue
        param = next(p for p in op["parameters"] if p["name"] == name)
        schema = param["schema"]
        high = next(s["maximum"] for s in [schema, *schema.get("anyOf", [])] if "maximum" in s)
        response = _call(api, seeded, method, path, op, name, int(high))
        assert response.status_code < 500, (method, path, name, response.text)


def test_a_value_the_database_refuses_is_a_400_not_a_500(api_any_db: Api) -> None:
    """PostgreSQL text cannot hold NUL; SQLite can (and simply finds nothing)."""
    api = api_any_db
    response = api.get("/experiments", params={"name": "a\x00b", "label": "\x00"})
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert response.json()["detail"].startswith("invalid value: "), response.text
    else:
        assert response.json()["items"] == []


def test_an_integer_the_database_cannot_bind_is_a_400_wherever_it_comes_from(api: Api) -> None:
    """The last line of defence behind the bounded types: a route that hands SQLite an integer
    it cannot bind (here straight through the store) answers 400, not 500."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from sqlalchemy import text

    from trainyard.master.api.errors import install_error_handlers

    app = FastAPI()
    install_error_handlers(app)

    @app.get("/probe")
    def probe() -> dict[str, Any]:
        with api.db.session(read_only=True) as session:
            session.execute(text("SELECT :n"), {"n": HUGE})
        return {}

    response = TestClient(app).get("/probe")
    assert response.status_code == 400, response.text
    assert response.json() == {"detail": "invalid value: an integer in the request is out of range"}
