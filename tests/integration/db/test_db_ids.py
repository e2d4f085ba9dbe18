"""Ids are never reused: deleting the newest rows must not hand their ids to the next ones.

Experiment and trial ids name files (work directories, TensorBoard `trial_<id>`) and log ids are
the cursors clients follow with; a reused id mixes a deleted run's files into a new one's.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import make_experiment, make_trials
from sqlalchemy import select, text

from trainyard.master.db import Database, Trial
from trainyard.master.db import experiments as experiments_repo
from trainyard.master.db import logs as logs_repo
from trainyard.master.db import trials as trials_repo
from trainyard.master.db import users as users_repo
from trainyard.master.db.schema import head_revision

DATA = Path(__file__).parent / "data"

# Tables whose integer ids are seen outside the DB (files, URLs, cursors, tokens).
ID_TABLES = ("users", "api_tokens", "experiments", "trials", "trial_events", "logs")


def _delete_newest_and_recreate(db: Database) -> None:
    make_experiment(db)
    doomed = make_experiment(db)
    (doomed_trial,) = make_trials(db, doomed.id, 1)
    with db.session() as session:
        trials_repo.record_event(session, doomed_trial.id, "exit")
        logs_repo.add_logs(session, doomed_trial.id, [{"line": "old", "timestamp": 1.0}])
        old_event = max(e.id for e in trials_repo.list_events(session, doomed_trial.id))
        old_log = logs_repo.trial_logs(session, doomed_trial.id)[-1].id
        experiments_repo.delete_experiment(session, doomed.id)
    fresh = make_experiment(db)
    (fresh_trial,) = make_trials(db, fresh.id, 1)
    with db.session() as session:
        trials_repo.record_event(session, fresh_trial.id, "exit")
        logs_repo.add_logs(session, fresh_trial.id, [{"line": "new", "timestamp": 1.0}])
        new_event = max(e.id for e in trials_repo.list_events(session, fresh_trial.id))
        new_log = logs_repo.trial_logs(session, fresh_trial.id)[-1].id
    assert fresh.id > doomed.id
    assert fresh_trial.id > doomed_trial.id
    assert new_event > old_event
    assert new_log > old_log


def test_deleting_the_newest_experiment_never_frees_its_ids(db: Database) -> None:
    _delete_newest_and_recreate(db)


def test_deleting_the_newest_user_never_frees_its_id(db: Database) -> None:
    with db.session() as session:
        users_repo.create_user(session, "keep")
        doomed = users_repo.create_user(session, "doomed").id
    with db.session() as session:
        session.execute(text("DELETE FROM users WHERE id = :id"), {"id": doomed})
    with db.session() as session:
        assert users_repo.create_user(session, "next").id > doomed


def test_an_old_sqlite_database_upgrades_to_ids_that_are_never_reused(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    shutil.copy(DATA / "trainyard-0001.db", path)
    db = Database(f"sqlite:///{path}")
    assert db.migrate() == head_revision()
    with db.engine.connect() as conn:
        for table in ID_TABLES:
            sql = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).scalar()
            assert "AUTOINCREMENT" in str(sql).upper(), table
        # The rebuild kept every foreign key pointing at a real row and kept the data.
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    with db.session(read_only=True) as session:
        (old,) = experiments_repo.list_experiments(session)
        assert old.name == "made-by-0001"
        old_trial = session.scalars(select(Trial)).one()
        assert [line.line for line in logs_repo.trial_logs(session, old_trial.id)] == [
            "hello from 0001"
        ]
    # Deleting the old experiment cascades to its trials (the rebuilt keys still cascade).
    with db.session() as session:
        experiments_repo.delete_experiment(session, old.id)
    with db.session(read_only=True) as session:
        assert session.scalar(text("SELECT count(*) FROM trials")) == 0
        assert session.scalar(text("SELECT count(*) FROM logs")) == 0
    fresh = make_experiment(db)
    (fresh_trial,) = make_trials(db, fresh.id, 1)
    assert fresh.id > old.id and fresh_trial.id > old_trial.id
    _delete_newest_and_recreate(db)
    db.dispose()
