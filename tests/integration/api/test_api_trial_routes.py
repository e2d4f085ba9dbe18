"""The trial-facing routes of docs/trial-api.md, called with a real allocation token."""

from __future__ import annotations

import threading
import time
from typing import Any

from api_support import Api, Seeded, seed

from trainyard.master.db import allocations as allocations_repo
from trainyard.storage import SharedFSStorage


def _as_trial(api: Api, seeded: Seeded) -> dict[str, str]:
    return {"Authorization": f"Bearer {seeded.allocation_token}"}


def _post(api: Api, seeded: Seeded, path: str, body: dict[str, Any]) -> Any:
    return api.http.post("/api/v1" + path, json=body, headers=_as_trial(api, seeded))


def test_info_tells_the_trial_what_to_run(api: Api) -> None:
    seeded = seed(api.db)
    info = api.http.get(
        f"/api/v1/allocations/{seeded.allocation_id}/info", headers=_as_trial(api, seeded)
    ).json()
    assert info["trial_id"] == seeded.trial_ids[0]
    assert info["experiment_id"] == seeded.experiment_id
    assert info["hparams"] == {"lr": 0.1}
    assert info["latest_checkpoint"] is None
    assert info["config"]["searcher"]["metric"] == "val_loss"
    assert info["slots"] == 1 and info["trial_run_id"] == 0


def test_metrics_with_non_finite_values_are_stored_and_read_back(api: Api) -> None:
    seeded = seed(api.db)
    tid = seeded.trial_ids[0]
    body = {
        "group": "validation",
        "reports": [{"steps": 5, "metrics": {"val_loss": "NaN", "acc": 0.5}, "timestamp": 1.0}],
    }
    assert _post(api, seeded, f"/trials/{tid}/metrics", body).json() == {}
    # Resent after a restart: replaces, never duplicates.
    body["reports"][0]["metrics"]["acc"] = 0.75
    _post(api, seeded, f"/trials/{tid}/metrics", body)
    points = api.get(f"/trials/{tid}/metrics", params={"group": "validation"}).json()["points"]
    assert points == [{"steps": 5, "metrics": {"val_loss": "NaN", "acc": 0.75}, "timestamp": 1.0}]


def test_bad_trial_input_is_a_one_line_400(api: Api) -> None:
    seeded = seed(api.db)
    tid = seeded.trial_ids[0]
    bad = _post(api, seeded, f"/trials/{tid}/metrics", {"group": "testing", "reports": []})
    assert bad.status_code == 400
    assert bad.json()["detail"].startswith("group:")
    bad_progress = _post(api, seeded, f"/trials/{tid}/progress", {"progress": 2})
    assert bad_progress.status_code == 400
    assert "\n" not in bad_progress.json()["detail"]


def test_a_checkpoint_name_storage_would_refuse_is_a_400(api: Api) -> None:
    """Found by schemathesis: `"§D"` was registered, and deleting its experiment then failed."""
    seeded = seed(api.db)
    tid = seeded.trial_ids[0]
    for uuid in ("§D", "../x", ".hidden", "a/b", "x" * 65, ""):
        response = _post(api, seeded, f"/trials/{tid}/checkpoints", {"uuid": uuid, "steps": 1})
        assert response.status_code == 400, (uuid, response.text)
        assert response.json()["detail"].startswith("uuid:"), response.text
    assert api.get(f"/trials/{tid}/checkpoints").json()["total"] == 0


def test_a_timestamp_that_is_not_a_finite_time_is_a_400(api: Api) -> None:
    """JSON's `1e400` reads as infinity; it was stored as the report's or line's time."""
    seeded = seed(api.db)
    tid = seeded.trial_ids[0]
    bodies = {
        f"/trials/{tid}/metrics": b'{"group": "training", "reports": '
        b'[{"steps": 1, "metrics": {"loss": 1}, "timestamp": 1e400}]}',
        f"/allocations/{seeded.allocation_id}/logs": b'{"lines": '
        b'[{"timestamp": 1e400, "line": "x"}]}',
        f"/trials/{tid}/metrics#negative": b'{"group": "training", "reports": '
        b'[{"steps": 1, "metrics": {"loss": 1}, "timestamp": -1}]}',
    }
    headers = {**_as_trial(api, seeded), "Content-Type": "application/json"}
    for path, raw in bodies.items():
        url = "/api/v1" + path.split("#")[0]
        response = api.http.post(url, content=raw, headers=headers)
        assert response.status_code == 400, (path, response.text)
        assert "timestamp" in response.json()["detail"], response.text


def test_searcher_operation_and_completion(api: Api) -> None:
    seeded = seed(api.db)
    tid = seeded.trial_ids[0]
    op = api.http.get(
        f"/api/v1/trials/{tid}/searcher/operation", headers=_as_trial(api, seeded)
    ).json()
    assert op == {"length": 100, "completed": False}
    done = _post(
        api,
        seeded,
        f"/trials/{tid}/searcher/completed_operation",
        {"length": 100, "metric": "Infinity"},
    )
    assert done.status_code == 200
    assert api.service.completed == [(tid, 100, float("inf"))]
    assert _post(api, seeded, f"/trials/{tid}/progress", {"progress": 0.5}).json() == {}
    exit_ = _post(api, seeded, f"/trials/{tid}/early_exit", {"reason": "invalid_hp"})
    assert exit_.json() == {}


def test_checkpoint_registration_then_user_download(api: Api, tmp_path: Any) -> None:
    seeded = seed(api.db)
    tid = seeded.trial_ids[0]
    storage = SharedFSStorage(str(api.settings.checkpoint_root))
    with storage.store_path() as (path, uuid):
        (path / "model.pt").write_bytes(b"weights")
    body = {
        "uuid": uuid,
        "steps": 100,
        "metadata": {"steps_completed": 100},
        "resources": {"model.pt": 7},
        "sharded": False,
    }
    assert _post(api, seeded, f"/trials/{tid}/checkpoints", body).status_code == 200
    listed = api.get(f"/trials/{tid}/checkpoints").json()
    assert [c["uuid"] for c in listed["items"]] == [uuid]
    assert api.get(f"/trials/{tid}").json()["latest_checkpoint"] == uuid
    response = api.get(f"/checkpoints/{uuid}/download")
    assert response.status_code == 200
    archive = tmp_path / "ckpt.tar.gz"
    archive.write_bytes(response.content)
    import tarfile

    with tarfile.open(archive) as tar:
        names = tar.getnames()
        assert "model.pt" in names
        member = tar.extractfile("model.pt")
        assert member is not None and member.read() == b"weights"
    assert api.get("/checkpoints/nope/download").status_code == 404


def test_logs_shipped_by_the_launcher_are_readable(api: Api) -> None:
    seeded = seed(api.db)
    lines = [
        {"rank": r, "stream": "stderr" if r else "stdout", "timestamp": 1.0 + r, "line": f"r{r}"}
        for r in range(2)
    ]
    shipped = _post(api, seeded, f"/allocations/{seeded.allocation_id}/logs", {"lines": lines})
    assert shipped.status_code == 200
    tid = seeded.trial_ids[0]
    read = api.get(f"/trials/{tid}/logs", params={"rank": 1}).json()["lines"]
    assert [(line["line"], line["stream"]) for line in read] == [("r1", "stderr")]


def test_preemption_long_poll_returns_when_asked_to_stop(api: Api) -> None:
    seeded = seed(api.db)
    path = f"/api/v1/allocations/{seeded.allocation_id}/preemption"
    headers = _as_trial(api, seeded)
    quiet = api.http.get(path, params={"timeout_seconds": 0.3}, headers=headers).json()
    assert quiet == {"preempt": False, "reason": None}

    def ask() -> None:
        with api.db.session() as session:
            allocations_repo.request_preemption(session, seeded.allocation_id, "pause")

    timer = threading.Timer(0.4, ask)
    timer.start()
    started = time.monotonic()
    answer = api.http.get(path, params={"timeout_seconds": 20}, headers=headers).json()
    timer.join()
    assert answer == {"preempt": True, "reason": "pause"}
    assert time.monotonic() - started < 5


def test_a_trial_reads_its_own_checkpoints_but_no_others(api: Api) -> None:
    seeded = seed(api.db)
    own, other = seeded.trial_ids[0], seeded.trial_ids[1]
    headers = _as_trial(api, seeded)
    mine = api.http.get(f"/api/v1/trials/{own}/checkpoints", headers=headers)
    assert mine.status_code == 200 and mine.json() == {"checkpoints": []}
    theirs = api.http.get(f"/api/v1/trials/{other}/checkpoints", headers=headers)
    assert theirs.status_code == 403
