"""The UI's own read routes (`/api/v1/webui/...`) and page plumbing, in-process on a real SQLite
store (FastAPI's TestClient; no browser). Expected values are recomputed from the store."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ui_support import SeededSearch, StoreService, seed_search

from trainyard.master.app import create_app
from trainyard.master.db import Database, Trial
from trainyard.master.settings import load_master_settings
from trainyard.webui import PLOTLY_JS
from trainyard.webui._importance import hparam_importance

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's TestClient asks for an optional package
    from fastapi.testclient import TestClient


class Ui:
    def __init__(self, http: TestClient, token: str, db: Database, search: SeededSearch) -> None:
        self.http, self.token, self.db, self.search = http, token, db, search

    def get(self, path: str, **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.http.get("/api/v1/webui" + path, params=params, headers=headers)


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ui]:
    data: Path = tmp_path_factory.mktemp("webui-api")
    settings = load_master_settings(None, env={}, data_dir=data, checkpoint_root=data / "c")
    app = create_app(settings, service_factory=StoreService, announce=lambda _m: None)
    with TestClient(app) as http:
        db = app.state.ctx.db
        search = seed_search(db, n_trials=18, max_length=900, with_extras=False)
        yield Ui(http, settings.admin_token_path.read_text().strip(), db, search)


def _trials(ui: Ui) -> list[Trial]:
    with ui.db.session(read_only=True) as session:
        rows = session.query(Trial).filter(Trial.experiment_id == ui.search.experiment_id).all()
        session.expunge_all()
        return rows


def test_routes_need_a_signed_in_user(ui: Ui) -> None:
    eid = ui.search.experiment_id
    assert ui.http.get(f"/api/v1/webui/experiments/{eid}/hpo").status_code == 401
    page = ui.http.get("/ui/experiments", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/ui/login")


def test_trial_table_has_every_hparam_and_metric_column_and_sorts_best_first(ui: Ui) -> None:
    eid = ui.search.experiment_id
    page = ui.get(f"/experiments/{eid}/trial_table", sort="searcher_metric", limit=5).json()
    assert page["hparams"] == ["dropout", "layers", "lr", "optimizer"]
    assert page["metrics"] == ["accuracy", "val_loss"]
    trials = sorted(_trials(ui), key=lambda t: t.latest_validation or 0.0)
    assert page["total"] == len(trials)
    assert [r["id"] for r in page["items"]] == [t.id for t in trials[:5]]
    first = page["items"][0]
    assert first["m"]["val_loss"] == pytest.approx(trials[0].latest_validation)
    assert first["trained_length"] == ui.search.lengths[first["id"]]


def test_trial_table_filters_by_any_column(ui: Ui) -> None:
    eid = ui.search.experiment_id
    trials = _trials(ui)
    sgd = ui.get(f"/experiments/{eid}/trial_table", where="hp.optimizer=sgd").json()
    assert sorted(r["id"] for r in sgd["items"]) == sorted(
        t.id for t in trials if t.hparams["optimizer"] == "sgd"
    )
    long = ui.get(f"/experiments/{eid}/trial_table", where="trained_length>=300").json()
    assert sorted(r["id"] for r in long["items"]) == sorted(
        tid for tid, n in ui.search.lengths.items() if n >= 300
    )
    bad = ui.get(f"/experiments/{eid}/trial_table", where="hp.nope<1")
    assert bad.status_code == 400 and "unknown column 'hp.nope'" in bad.json()["detail"]
    assert ui.get(f"/experiments/{eid}/trial_table", sort="wat").status_code == 400
    assert ui.get("/experiments/999/trial_table").status_code == 404


def test_hpo_marks_kinds_and_log_scale_and_rungs_count_trials(ui: Ui) -> None:
    eid = ui.search.experiment_id
    hpo = ui.get(f"/experiments/{eid}/hpo").json()
    kinds = {h["name"]: (h["kind"], h["log"]) for h in hpo["hparams"]}
    assert kinds == {
        "dropout": ("numeric", False),
        "layers": ("numeric", False),
        "lr": ("numeric", True),
        "optimizer": ("categorical", False),
    }
    assert len(hpo["trials"]) == 18 and all(t["metric"] is not None for t in hpo["trials"])
    rungs = ui.get(f"/experiments/{eid}/rungs").json()
    lengths = ui.search.lengths.values()
    assert rungs == [
        {"length": r, "trials": sum(1 for n in lengths if n >= r)} for r in ui.search.rungs
    ]


def test_importance_ranks_the_hparam_the_metric_depends_on() -> None:
    rows = [{"a": i / 40, "b": (i * 7) % 5, "c": "x"} for i in range(40)]
    scores = hparam_importance(["a", "b", "c"], rows, [10 * r["a"] for r in rows])
    assert max(scores, key=lambda k: scores[k]) == "a"
    assert scores["c"] == 0.0 and sum(scores.values()) == pytest.approx(1.0)
    assert hparam_importance(["a"], rows[:4], [1.0] * 4) == {}  # too few trials


def test_events_compare_and_plotly_served_locally(ui: Ui) -> None:
    ids = ui.search.trial_ids[:2]
    items = ui.get("/compare", trial_ids=",".join(map(str, ids))).json()
    assert [i["trial"]["id"] for i in items] == ids
    assert items[0]["experiment"]["id"] == ui.search.experiment_id and "lr" in items[0]["hp"]
    assert ui.get("/compare", trial_ids="1,x").status_code == 400
    assert ui.get(f"/trials/{ids[0]}/events").json() == []
    js = ui.http.get("/ui/static/plotly.min.js")
    assert js.status_code == 200 and len(js.content) == PLOTLY_JS.stat().st_size
