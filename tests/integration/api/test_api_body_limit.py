"""Oversized request bodies are a one-line 413 before any route reads them.

Before, every body was read whole (a multipart upload spooled to disk first), whatever its size.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from api_support import Api, seed
from master_process import RunningMaster

from trainyard.master.api._body_limit import DEFAULT_MAX_BODY_BYTES, MiB

OVER = DEFAULT_MAX_BODY_BYTES + 1


def _assert_413(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text[:300]
    detail = response.json()["detail"]
    assert detail.startswith("request body is over the ") and "\n" not in detail


def test_a_declared_oversized_body_is_413(api: Api) -> None:
    _assert_413(api.http.post("/api/v1/preview", content=b" " * OVER, headers=api.auth))


def test_a_chunked_oversized_body_is_413_and_the_route_never_acts(api: Api) -> None:
    seeded = seed(api.db)

    def chunks() -> Iterator[bytes]:
        yield b'{"group": "training", "reports": ['
        for _ in range(OVER // MiB + 1):
            yield b" " * MiB
        yield b'{"steps": 1, "metrics": {"loss": 1.0}}]}'

    url = f"/api/v1/trials/{seeded.trial_ids[0]}/metrics"
    bearer = {"Authorization": f"Bearer {seeded.allocation_token}"}
    _assert_413(api.http.post(url, content=chunks(), headers=bearer))
    points = api.get(f"/trials/{seeded.trial_ids[0]}/metrics").json()["points"]
    assert points == []


def test_the_upload_limit_follows_max_model_dir_bytes(api: Api) -> None:
    over = api.settings.max_model_dir_bytes + 2 * MiB + 1
    files = {"model_def": ("m.tar.gz", b"\0" * over, "application/gzip")}
    response = api.post("/experiments", data={"config": "name: x"}, files=files)
    _assert_413(response)
    assert "POST /api/v1/experiments" in response.json()["detail"]


def test_a_body_under_the_limit_is_read(api: Api) -> None:
    response = api.post("/preview", json={"config": "x" * (2 * MiB)})
    assert response.status_code == 400, response.text[:300]  # read, and refused as a config


@pytest.mark.slow
def test_a_real_master_refuses_before_reading(shared_master: RunningMaster) -> None:
    headers = {"Authorization": f"Bearer {shared_master.token}"}
    with httpx.Client(base_url=shared_master.url, headers=headers, timeout=60) as http:
        _assert_413(http.post("/api/v1/preview", content=b" " * OVER))
        assert http.get("/api/v1/me").status_code == 200
