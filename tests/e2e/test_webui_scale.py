"""The UI's read routes stay bounded at scale: the trials table pages in SQL (same rows as the
in-memory path), the HPO charts get a sample that always holds the best trials, the learning
curves come packed and capped, and cached results follow the store as it changes."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from postgres_schema import postgres_schema_url
from ui_support import SeededSearch, StoreService, seed_search

from trainyard.master.app import create_app
from trainyard.master.db import Database, Metric, Trial
from trainyard.master.db import metrics as metrics_repo
from trainyard.master.settings import load_master_settings
from trainyard.webui._cache import VersionedCache

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's TestClient asks for an optional package
    from fastapi.testclient import TestClient


class Ui:
    def __init__(self, http: TestClient, token: str, db: Database, search: SeededSearch) -> None:
        self.http, self.token, self.db, self.search = http, token, db, search
        self.eid = search.experiment_id

    def get(self, path: str, **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        response = self.http.get(
            f"/api/v1/webui/experiments/{self.eid}" + path, params=params, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def ui(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ui]:
    data: Path = tmp_path_factory.mktemp("webui-scale")
    with _database_url(request.param) as url:
        settings = load_master_settings(
            None, env={}, data_dir=data, checkpoint_root=data / "c", **url
        )
        app = create_app(settings, service_factory=StoreService, announce=lambda _m: None)
        with TestClient(app) as http:
            db = app.state.ctx.db
            search = seed_search(
                db, n_trials=18, max_length=900, running=2, queued=2, with_extras=False
            )
            yield Ui(http, settings.admin_token_path.read_text().strip(), db, search)


@contextmanager
def _database_url(backend: str) -> Iterator[dict[str, str]]:
    """{} for SQLite in the data dir; {"db_url": ...} for a fresh PostgreSQL schema."""
    if backend == "sqlite":
        yield {}
        return
    with postgres_schema_url("ui") as url:
        yield {"db_url": url}


def _scores(ui: Ui) -> dict[int, float]:
    with ui.db.session(read_only=True) as session:
        rows = session.query(Trial.id, Trial.latest_validation).filter(
            Trial.experiment_id == ui.eid
        )
        return {tid: v for tid, v in rows if v is not None}


@pytest.mark.parametrize(
    "sort",
    [
        "id",
        "-id",
        "searcher_metric",
        "-searcher_metric",
        "trained_length",
        "-trained_length",
        "state",
        "-state",
        "restarts",
        "request_id",
    ],
)
@pytest.mark.parametrize("state", [None, "COMPLETED,RUNNING", "QUEUED"])
def test_sql_paged_table_matches_the_filtered_in_memory_table(
    ui: Ui, sort: str, state: str | None
) -> None:
    params: dict[str, Any] = {"sort": sort, "limit": 7, "offset": 3}
    if state:
        params["state"] = state
    paged = ui.get("/trial_table", **params)
    whole = ui.get("/trial_table", where="id>0", **params)  # any `where`: the in-memory path
    assert paged == whole
    assert paged["total"] == sum(
        1 for t in ui.search.trial_ids if not state or _state(ui, t) in state.split(",")
    )


def _state(ui: Ui, tid: int) -> str:
    with ui.db.session(read_only=True) as session:
        row = session.get(Trial, tid)
        assert row is not None
        return row.state


def test_hpo_sample_keeps_the_best_half_and_says_so(ui: Ui) -> None:
    scores = _scores(ui)
    best = sorted(scores, key=lambda t: scores[t])[:4]
    sampled = ui.get("/hpo", max_trials=8)
    ids = [t["id"] for t in sampled["trials"]]
    assert len(ids) == 8 == len(set(ids)) and set(best) <= set(ids) and ids == sorted(ids)
    assert sampled["scored"] == len(scores)
    assert sampled["note"] == f"showing 8 of {len(scores)} trials: the best 4 and a random 4"
    assert ui.get("/hpo", max_trials=8)["trials"] == sampled["trials"]  # stable between polls
    everything = ui.get("/hpo")
    assert everything["note"] == "" and {t["id"] for t in everything["trials"]} == set(scores)


def test_curves_are_packed_per_rung_and_capped_per_trial(ui: Ui) -> None:
    with ui.db.session(read_only=True) as session:
        stored = {
            tid: session.query(Metric)
            .filter(Metric.trial_id == tid, Metric.group == "validation")
            .count()
            for tid in ui.search.trial_ids
        }
    full = ui.get("/curves")
    counted = _points_per_trial(full)
    assert counted == {tid: n for tid, n in stored.items() if n}
    assert full["trials"] == len(counted) and full["points"] == sum(counted.values())
    capped = ui.get("/curves", max_points=2)
    per_trial = _points_per_trial(capped)
    assert per_trial.keys() == counted.keys()
    assert all(n == min(2, counted[tid]) for tid, n in per_trial.items())
    for trace in capped["traces"]:  # each trial's last point is kept: its curve ends at its length
        ends = {tid: x for x, tid in zip(trace["x"], trace["trial_ids"], strict=True) if tid}
        assert all(x == ui.search.lengths[tid] for tid, x in ends.items())


def _points_per_trial(curves: dict[str, Any]) -> dict[int, int]:
    out: dict[int, int] = {}
    for trace in curves["traces"]:
        assert len(trace["x"]) == len(trace["y"]) == len(trace["trial_ids"])
        for x, tid in zip(trace["x"], trace["trial_ids"], strict=True):
            assert (x is None) == (tid is None)
            if tid is not None:
                out[tid] = out.get(tid, 0) + 1
    return out


def test_cached_table_and_importance_follow_new_validations(ui: Ui) -> None:
    before = ui.get("/trial_table", where="id>0", sort="searcher_metric", limit=1)
    importance = ui.get("/importance")
    tid = ui.search.trial_ids[-5]
    assert before["items"][0]["id"] != tid
    with ui.db.session() as session:
        metrics_repo.add_metrics(
            session,
            tid,
            "validation",
            [{"steps": 5000, "metrics": {"val_loss": -1.0}, "timestamp": 0}],
        )
    after = ui.get("/trial_table", where="id>0", sort="searcher_metric", limit=1)
    assert after["items"][0]["id"] == tid and after["items"][0]["searcher_metric"] == -1.0
    refit = ui.get("/importance")
    assert refit != importance and sum(refit.values()) == pytest.approx(1.0)


def test_versioned_cache_builds_once_for_concurrent_callers_and_again_on_a_new_version() -> None:
    cache: VersionedCache[int] = VersionedCache()
    builds: list[str] = []
    gate = threading.Event()

    def build(version: str) -> int:
        builds.append(version)
        gate.wait(5)
        return len(builds)

    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get("k", "v1", lambda: build("v1"))))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    time.sleep(0.2)
    gate.set()
    for t in threads:
        t.join()
    assert builds == ["v1"] and results == [1, 1, 1, 1]
    assert cache.get("k", "v2", lambda: build("v2")) == 2 and builds == ["v1", "v2"]
    with pytest.raises(ValueError):
        cache.get("k", "v3", lambda: int("x"))
    assert cache.get("k", "v3", lambda: 7) == 7  # a failed build is not kept
