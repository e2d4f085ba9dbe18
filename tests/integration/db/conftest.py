"""Fixtures for the DB contract tests: every test runs once on SQLite and once on PostgreSQL.

PostgreSQL cases use the server named by TRAINYARD_TEST_POSTGRES_URL (set by
scripts/test_env.sh after scripts/ensure_postgres.sh); each test gets its own fresh schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from postgres_schema import postgres_schema_url

from trainyard.master.db import Database
from trainyard.master.db import experiments as experiments_repo
from trainyard.master.db import trials as trials_repo
from trainyard.master.db.models import Experiment, Trial


def _postgres_database() -> Iterator[Database]:
    with postgres_schema_url("t") as url:
        db = Database(url)
        try:
            yield db
        finally:
            db.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A `Database` on a brand-new, unmigrated database of each backend."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'trainyard.db'}")
        yield db
        db.dispose()
    else:
        yield from _postgres_database()


@pytest.fixture
def db(empty_db: Database) -> Database:
    """A migrated `Database` of each backend."""
    empty_db.migrate()
    return empty_db


def make_experiment(
    db: Database, *, smaller_is_better: bool = True, metric: str = "loss"
) -> Experiment:
    """An ACTIVE experiment with a minimal config and a tiny model definition."""
    with db.session() as session:
        return experiments_repo.create_experiment(
            session,
            name="exp",
            config={"searcher": {"name": "single", "metric": metric}},
            config_yaml="searcher: {name: single}\n",
            searcher_metric=metric,
            smaller_is_better=smaller_is_better,
            model_definition=b"tarball-bytes",
        )


def make_trials(db: Database, experiment_id: int, count: int) -> list[Trial]:
    """`count` QUEUED trials with request ids 0..count-1."""
    with db.session() as session:
        return [
            trials_repo.create_trial(session, experiment_id, i, {"lr": 0.1 * i}, seed=i)
            for i in range(count)
        ]
