"""In-process API helpers: the real app on a real SQLite DB through FastAPI's TestClient.

The runtime service is replaced by `StoreBackedService`, which does what the read-side and
trial-side routes need straight on the store (the routes only see the `MasterService` Protocol).
Lifecycle actions are tested against a real master in `test_real_master.py`.
"""

from __future__ import annotations

import shutil
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from postgres_schema import fresh_postgres_database

from trainyard.master.app import create_app
from trainyard.master.db import Database
from trainyard.master.db import allocations as allocations_repo
from trainyard.master.db import checkpoints as checkpoints_repo
from trainyard.master.db import experiments as experiments_repo
from trainyard.master.db import metrics as metrics_repo
from trainyard.master.db import trials as trials_repo
from trainyard.master.settings import MasterSettings, load_master_settings
from trainyard.master.states import TrialState

with warnings.catch_warnings():
    # starlette asks for the `httpx2` package; httpx works and is what we ship.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


class StoreBackedService:
    """The runtime's trial-side handlers reduced to their store writes; actions unsupported."""

    def __init__(self, settings: MasterSettings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.completed: list[tuple[int, int, float]] = []

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def report_metrics(self, trial_id: int, group: str, reports: list[dict[str, Any]]) -> None:
        with self.db.session() as session:
            metrics_repo.add_metrics(session, trial_id, group, reports)

    def register_checkpoint(
        self, trial_id: int, allocation_id: str, checkpoint: dict[str, Any]
    ) -> None:
        with self.db.session() as session:
            checkpoints_repo.register_checkpoint(
                session,
                trial_id,
                uuid=checkpoint["uuid"],
                steps_completed=checkpoint["steps"],
                metadata=checkpoint["metadata"],
                resources=checkpoint["resources"],
                allocation_id=allocation_id,
            )

    def searcher_operation(self, trial_id: int) -> tuple[int | None, bool]:
        with self.db.session(read_only=True) as session:
            trial = trials_repo.get_trial(session, trial_id)
            return trial.target_length, trial.closed

    def complete_operation(self, trial_id: int, length: int, metric: float) -> None:
        self.completed.append((trial_id, length, metric))

    def report_progress(self, trial_id: int, progress: float) -> None:
        pass

    def early_exit(self, trial_id: int, reason: str, message: str | None = None) -> None:
        pass

    def cluster_state(self) -> dict[str, Any]:
        pools = [
            {"name": p.name, "slot_type": p.slot_type, "slots": p.slots, "used_slots": 0}
            for p in self.settings.resource_pools
        ]
        return {"pools": pools, "allocations": [], "queue": []}


@dataclass
class Api:
    """A signed-in TestClient plus direct DB access for arranging data."""

    http: TestClient
    token: str
    db: Database
    settings: MasterSettings
    service: StoreBackedService

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.http.get("/api/v1" + path, headers=self.auth, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.http.post("/api/v1" + path, headers=self.auth, **kwargs)


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at the schema head, copied by each test (migrating takes ~0.5 s)."""
    path = tmp_path_factory.mktemp("template") / "trainyard.db"
    db = Database(f"sqlite:///{path}")
    db.migrate()
    db.dispose()
    return path


@pytest.fixture
def api(tmp_path: Path, migrated_db: Path) -> Iterator[Api]:
    (tmp_path / "data").mkdir()
    shutil.copyfile(migrated_db, tmp_path / "data" / "trainyard.db")
    with running_api(tmp_path) as running:
        yield running


@pytest.fixture(params=["sqlite", "postgres"])
def api_any_db(request: pytest.FixtureRequest, tmp_path: Path, migrated_db: Path) -> Iterator[Api]:
    """`api` on SQLite, then on a fresh database of the test PostgreSQL (skipped without one)."""
    (tmp_path / "data").mkdir()
    if request.param == "sqlite":
        shutil.copyfile(migrated_db, tmp_path / "data" / "trainyard.db")
        with running_api(tmp_path) as running:
            yield running
        return
    with fresh_postgres_database("trainyard_apitest") as url, running_api(tmp_path, url) as running:
        yield running


@contextmanager
def running_api(tmp_path: Path, db_url: str | None = None) -> Iterator[Api]:
    """The app with a `StoreBackedService` on `<tmp_path>/data` (or `db_url`), signed in."""
    settings = load_master_settings(
        None,
        env={},
        data_dir=tmp_path / "data",
        checkpoint_root=tmp_path / "ckpts",
        cpu_slots=2,
        max_model_dir_bytes=1_000_000,
        db_url=db_url,
    )
    holder: dict[str, StoreBackedService] = {}

    def factory(s: MasterSettings, db: Database) -> StoreBackedService:
        holder["service"] = StoreBackedService(s, db)
        return holder["service"]

    app = create_app(settings, service_factory=factory, announce=lambda _msg: None)
    with TestClient(app) as http:
        token = settings.admin_token_path.read_text().strip()
        db = app.state.ctx.db
        yield Api(http, token, db, settings, holder["service"])


@dataclass(frozen=True)
class Seeded:
    experiment_id: int
    trial_ids: list[int]
    allocation_id: str
    allocation_token: str
    other_allocation_token: str


CONFIG = {
    "name": "seeded",
    "searcher": {"name": "random", "metric": "val_loss", "max_trials": 3},
    "resources": {"slots_per_trial": 1},
    "checkpoint_storage": {"type": "shared_fs"},
}


def seed(db: Database, *, name: str = "seeded", trials: int = 3) -> Seeded:
    """One experiment with `trials` trials (the first RUNNING with an allocation, and a second
    allocation on the second trial), arranged through the store's repositories."""
    with db.session() as session:
        exp = experiments_repo.create_experiment(
            session,
            name=name,
            config={**CONFIG, "name": name},
            searcher_metric="val_loss",
            smaller_is_better=True,
            config_yaml="",
            model_definition=b"",
        )
        ids = [
            trials_repo.create_trial(
                session, exp.id, rid, {"lr": 0.1 * (rid + 1)}, target_length=100
            ).id
            for rid in range(trials)
        ]
        trials_repo.set_trial_state(session, ids[0], TrialState.RUNNING)
        alloc, token = allocations_repo.create_allocation(session, ids[0])
        _, other = allocations_repo.create_allocation(session, ids[min(1, trials - 1)])
        return Seeded(exp.id, ids, alloc.id, token, other)


def report(
    db: Database, trial_id: int, group: str, points: list[tuple[int, dict[str, Any]]]
) -> None:
    with db.session() as session:
        metrics_repo.add_metrics(
            session,
            trial_id,
            group,
            [{"steps": s, "metrics": m, "timestamp": time.time()} for s, m in points],
        )
