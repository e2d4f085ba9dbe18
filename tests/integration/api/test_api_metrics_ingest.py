"""`POST /trials/{tid}/metrics` (body validated from its bytes) and the experiment-wide read."""

from __future__ import annotations

import json
import math
import time
from typing import Any

from api_support import Api, Seeded, report, seed


def _post_raw(api: Api, seeded: Seeded, trial_id: int, body: bytes) -> Any:
    headers = {
        "Authorization": f"Bearer {seeded.allocation_token}",
        "Content-Type": "application/json",
    }
    return api.http.post(f"/api/v1/trials/{trial_id}/metrics", content=body, headers=headers)


def _validation_points(api: Api, trial_id: int) -> list[dict[str, Any]]:
    reply = api.get(f"/trials/{trial_id}/metrics", params={"group": "validation"})
    points: list[dict[str, Any]] = reply.json()["points"]
    return points


def test_repeated_steps_in_one_post_are_stored_once_with_the_last_report(api: Api) -> None:
    seeded = seed(api.db)
    tid = seeded.trial_ids[0]
    reports = [
        {"steps": 10, "metrics": {"val_loss": 0.9}, "timestamp": 1.0},
        {"steps": 20, "metrics": {"val_loss": 0.8}, "timestamp": 2.0},
        {"steps": 10, "metrics": {"val_loss": 0.7}, "timestamp": 3.0},
    ]
    body = json.dumps({"group": "validation", "reports": reports}).encode()
    assert _post_raw(api, seeded, tid, body).json() == {}
    assert _post_raw(api, seeded, tid, body).status_code == 200  # resent: still one row each
    assert _validation_points(api, tid) == [
        {"steps": 10, "metrics": {"val_loss": 0.7}, "timestamp": 3.0},
        {"steps": 20, "metrics": {"val_loss": 0.8}, "timestamp": 2.0},
    ]
    trial = api.get(f"/trials/{tid}").json()
    assert (trial["best_metric"], trial["latest_metric"]) == (0.7, 0.8)


def test_non_finite_values_and_literals_are_kept_as_strings(api: Api) -> None:
    seeded = seed(api.db)
    tid = seeded.trial_ids[0]
    # Python's json.dumps writes bare NaN/Infinity; the Core API sends strings. Both are kept.
    body = (
        b'{"group": "validation", "reports": [{"steps": 5, "timestamp": 1.5, "metrics": '
        b'{"val_loss": NaN, "a": Infinity, "b": "-Infinity", "c": 1e-05, "d": 7}}]}'
    )
    assert _post_raw(api, seeded, tid, body).status_code == 200
    (point,) = _validation_points(api, tid)
    assert point["metrics"] == {
        "val_loss": "NaN",
        "a": "Infinity",
        "b": "-Infinity",
        "c": 1e-05,
        "d": 7,  # values are numbers only (tests/integration/master/test_runtime_hardening.py)
    }
    assert api.get(f"/trials/{tid}").json()["best_metric"] is None  # NaN is never best


def test_a_report_without_timestamp_gets_the_time_it_arrived(api: Api) -> None:
    seeded = seed(api.db)
    tid = seeded.trial_ids[0]
    before = time.time()
    body = json.dumps({"group": "validation", "reports": [{"steps": 1, "metrics": {}}]})
    assert _post_raw(api, seeded, tid, body.encode()).status_code == 200
    (point,) = _validation_points(api, tid)
    assert before <= point["timestamp"] <= time.time()


def test_malformed_bodies_are_one_line_400s_naming_the_field(api: Api) -> None:
    seeded = seed(api.db)
    tid = seeded.trial_ids[0]
    cases = {
        b'{"group": "validation", "reports": [{"steps": -1, "metrics": {}}]}': "reports.0.steps:",
        b'{"group": "validation", "reports": [{"steps": 1}]}': "reports.0.metrics:",
        b'{"group": "validation", "reports": [{"steps": 1, "metrics": 3}]}': "reports.0.metrics:",
        b'{"group": "testing", "reports": []}': "group:",
        b'{"group": "validation", "reports": [': "request: Invalid JSON",
        b"": "request: Invalid JSON",
    }
    for body, start in cases.items():
        reply = _post_raw(api, seeded, tid, body)
        assert reply.status_code == 400, body
        detail = reply.json()["detail"]
        assert detail.startswith(start) and "\n" not in detail, (body, detail)
    assert _validation_points(api, tid) == []


def test_experiment_metrics_body_keeps_its_schema_with_infinities_as_strings(api: Api) -> None:
    seeded = seed(api.db)
    first, second, third = seeded.trial_ids
    report(api.db, first, "validation", [(10, {"val_loss": 0.5}), (20, {"val_loss": 1e-05})])
    report(api.db, second, "validation", [(10, {"val_loss": "Infinity"})])
    report(api.db, third, "validation", [(10, {"val_loss": "-Infinity"}), (20, {"val_loss": 2})])
    reply = api.get(f"/experiments/{seeded.experiment_id}/metrics")
    assert reply.headers["content-type"] == "application/json"
    assert reply.json() == {
        "name": "val_loss",
        "group": "validation",
        "trials": [
            {"trial_id": first, "points": [[10, 0.5], [20, 1e-05]]},
            {"trial_id": second, "points": [[10, "Infinity"]]},
            {"trial_id": third, "points": [[10, "-Infinity"], [20, 2.0]]},
        ],
    }
    loss = api.get(
        f"/experiments/{seeded.experiment_id}/metrics",
        params={"name": "val_loss", "trial_ids": f"{third}"},
    ).json()
    assert loss["trials"] == [{"trial_id": third, "points": [[10, "-Infinity"], [20, 2.0]]}]
    assert all(math.isfinite(p[1]) for t in loss["trials"] for p in t["points"][1:])


def test_the_openapi_document_describes_the_metrics_body(api: Api) -> None:
    spec = api.http.get("/openapi.json").json()
    body = spec["paths"]["/api/v1/trials/{trial_id}/metrics"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert schema["properties"]["group"]["enum"] == ["training", "validation"]
    report = schema["properties"]["reports"]["items"]
    assert report["required"] == ["steps", "metrics"]
    assert "$ref" not in json.dumps(schema)
