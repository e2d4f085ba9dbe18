"""User read routes against a real SQLite store: filters, sorting, paging, errors."""

from __future__ import annotations

import math
import threading
import time

from api_support import Api, report, seed

from trainyard.master.db import experiments as experiments_repo
from trainyard.master.db import logs as logs_repo
from trainyard.master.db import trials as trials_repo
from trainyard.master.states import ExperimentState, TrialState


def test_list_experiments_filters_sorts_and_pages(api: Api) -> None:
    ids = [seed(api.db, name=f"exp-{i}", trials=1).experiment_id for i in range(5)]
    with api.db.session() as session:
        experiments_repo.set_experiment_state(session, ids[1], ExperimentState.PAUSED)
    page = api.get("/experiments", params={"limit": 2, "offset": 1}).json()
    assert page["total"] == 5
    assert [e["id"] for e in page["items"]] == sorted(ids, reverse=True)[1:3]
    paused = api.get("/experiments", params={"state": "paused"}).json()
    assert [e["id"] for e in paused["items"]] == [ids[1]]
    by_name = api.get("/experiments", params={"sort": "name", "name": "exp-"}).json()
    assert [e["name"] for e in by_name["items"]] == [f"exp-{i}" for i in range(5)]
    first = by_name["items"][0]
    assert first["trial_counts"] == {"RUNNING": 1}
    assert first["owner"] is None and first["config"] is None


def test_get_experiment_has_config_and_one_line_404(api: Api) -> None:
    seeded = seed(api.db)
    exp = api.get(f"/experiments/{seeded.experiment_id}").json()
    assert exp["config"]["searcher"]["name"] == "random"
    assert exp["searcher_name"] == "random"
    assert exp["trial_counts"] == {"RUNNING": 1, "QUEUED": 2}
    missing = api.get("/experiments/999")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "experiment 999 does not exist"}


def test_bad_query_values_are_one_line_400s(api: Api) -> None:
    bad_sort = api.get("/experiments", params={"sort": "colour"})
    assert bad_sort.status_code == 400
    assert bad_sort.json()["detail"].startswith("sort: unknown field 'colour'")
    bad_limit = api.get("/experiments", params={"limit": 0})
    assert bad_limit.status_code == 400
    assert bad_limit.json()["detail"].startswith("limit:")


def test_trials_sort_best_first_with_nulls_last(api: Api) -> None:
    seeded = seed(api.db, trials=3)
    t0, t1, t2 = seeded.trial_ids
    report(api.db, t0, "validation", [(10, {"val_loss": 0.5})])
    report(api.db, t1, "validation", [(10, {"val_loss": 0.2})])
    path = f"/experiments/{seeded.experiment_id}/trials"
    best = api.get(path, params={"sort": "best_metric"}).json()
    assert [t["id"] for t in best["items"]] == [t1, t0, t2]
    assert best["items"][0]["best_metric"] == 0.2
    running = api.get(path, params={"state": "RUNNING"}).json()
    assert [t["id"] for t in running["items"]] == [t0]
    exp = api.get(f"/experiments/{seeded.experiment_id}").json()
    assert (exp["best_trial_id"], exp["best_metric"]) == (t1, 0.2)


def test_trial_metrics_are_downsampled_keeping_first_and_last(api: Api) -> None:
    seeded = seed(api.db, trials=1)
    tid = seeded.trial_ids[0]
    report(api.db, tid, "training", [(s, {"loss": 1.0 / s, "acc": 0.5}) for s in range(1, 101)])
    data = api.get(f"/trials/{tid}/metrics", params={"max_points": 10, "names": "loss"}).json()
    steps = [p["steps"] for p in data["points"]]
    assert len(steps) <= 10 and steps[0] == 1 and steps[-1] == 100
    assert steps == sorted(steps)
    assert set(data["points"][0]["metrics"]) == {"loss"}
    assert api.get(f"/trials/{tid}/metrics").json()["points"][50]["metrics"]["acc"] == 0.5


def test_experiment_metrics_curve_per_trial(api: Api) -> None:
    seeded = seed(api.db, trials=2)
    t0, t1 = seeded.trial_ids
    report(api.db, t0, "validation", [(s, {"val_loss": 1.0 / s}) for s in (1, 2, 4)])
    report(api.db, t1, "validation", [(2, {"val_loss": math.inf})])
    data = api.get(f"/experiments/{seeded.experiment_id}/metrics").json()
    assert data["name"] == "val_loss"
    curves = {t["trial_id"]: t["points"] for t in data["trials"]}
    assert curves[t0] == [[1, 1.0], [2, 0.5], [4, 0.25]]
    assert curves[t1] == [[2, "Infinity"]]


def _add_log(api: Api, trial_id: int, line: str) -> None:
    with api.db.session() as session:
        logs_repo.add_logs(
            session,
            trial_id,
            [{"rank": 0, "stream": "stdout", "timestamp": time.time(), "line": line}],
        )


def test_logs_page_search_and_long_poll(api: Api) -> None:
    seeded = seed(api.db, trials=1)
    tid = seeded.trial_ids[0]
    for i in range(5):
        _add_log(api, tid, f"epoch {i}")
    page = api.get(f"/trials/{tid}/logs", params={"limit": 3}).json()
    assert [line["line"] for line in page["lines"]] == ["epoch 0", "epoch 1", "epoch 2"]
    rest = api.get(f"/trials/{tid}/logs", params={"after_id": page["next_after_id"]}).json()
    assert [line["line"] for line in rest["lines"]] == ["epoch 3", "epoch 4"]
    assert rest["ended"] is False
    found = api.get(f"/trials/{tid}/logs", params={"search": "och 3"}).json()
    assert [line["line"] for line in found["lines"]] == ["epoch 3"]

    timer = threading.Timer(0.5, _add_log, args=(api, tid, "late line"))
    timer.start()
    started = time.monotonic()
    waited = api.get(
        f"/trials/{tid}/logs",
        params={"after_id": rest["next_after_id"], "timeout_seconds": 10},
    ).json()
    timer.join()
    assert [line["line"] for line in waited["lines"]] == ["late line"]
    assert time.monotonic() - started < 5


def test_log_stream_ends_once_the_trial_has_ended(api: Api) -> None:
    seeded = seed(api.db, trials=1)
    tid = seeded.trial_ids[0]
    _add_log(api, tid, "hello")
    with api.db.session() as session:
        trials_repo.set_trial_state(session, tid, TrialState.COMPLETED)
    with api.http.stream("GET", f"/api/v1/trials/{tid}/logs/stream", headers=api.auth) as resp:
        body = "".join(resp.iter_text())
    assert '"line": "hello"' in body
    assert body.rstrip().endswith("event: end\ndata: {}")
    ended = api.get(f"/trials/{tid}/logs", params={"after_id": 10_000}).json()
    assert ended["ended"] is True


def test_experiment_logs_cover_every_trial(api: Api) -> None:
    seeded = seed(api.db, trials=2)
    for tid in seeded.trial_ids:
        _add_log(api, tid, f"from {tid}")
    data = api.get(f"/experiments/{seeded.experiment_id}/logs").json()
    assert {line["trial_id"] for line in data["lines"]} == set(seeded.trial_ids)


def test_cluster_info_me_and_prometheus(api: Api) -> None:
    cluster = api.get("/cluster").json()
    assert cluster["pools"][0]["name"] == "default"
    assert cluster["pools"][0]["slots"] == 2
    info = api.get("/info").json()
    assert info["db"] == "sqlite" and info["resource_pools"] == ["default"]
    seed(api.db, trials=2)
    text = api.http.get("/metrics").text
    assert (
        'trainyard_http_requests_total{method="GET",route="/api/v1/cluster",status="200"}' in text
    )
    assert 'trainyard_trials{state="QUEUED"} 1.0' in text


def test_openapi_spec_describes_the_routes(api: Api) -> None:
    spec = api.http.get("/openapi.json").json()
    assert spec["info"]["title"] == "Trainyard master"
    for path in (
        "/api/v1/experiments",
        "/api/v1/experiments/{experiment_id}/trials",
        "/api/v1/trials/{trial_id}/logs/stream",
        "/api/v1/checkpoints/{uuid}/download",
        "/api/v1/allocations/{allocation_id}/preemption",
        "/api/v1/trials/{trial_id}/searcher/completed_operation",
    ):
        assert path in spec["paths"], path
