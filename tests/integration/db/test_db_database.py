"""Database: migrations at start-up, schema version guard, units of work, SQLite pragmas."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from conftest import make_experiment, make_trials
from postgres_schema import postgres_schema_url
from sqlalchemy import create_engine, select, text

from trainyard.errors import TrainyardError
from trainyard.master.db import Database, Experiment, Trial
from trainyard.master.db import checkpoints as checkpoints_repo
from trainyard.master.db import database as database_module
from trainyard.master.db import experiments as experiments_repo
from trainyard.master.db import logs as logs_repo
from trainyard.master.db import metrics as metrics_repo
from trainyard.master.db import trials as trials_repo
from trainyard.master.db.schema import head_revision

DATA = Path(__file__).parent / "data"


def test_migrate_brings_an_empty_database_to_head_and_is_idempotent(empty_db: Database) -> None:
    assert empty_db.current_revision() is None
    assert empty_db.migrate() == head_revision()
    assert empty_db.migrate() == head_revision()
    assert empty_db.current_revision() == head_revision()


def test_a_schema_newer_than_the_code_is_refused_with_the_fix(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00dcafe9999'"))
    with pytest.raises(TrainyardError) as err:
        db.migrate()
    message = str(err.value)
    assert "f00dcafe9999" in message and head_revision() in message
    assert "upgrade Trainyard or point --db-url at another database" in message
    assert "\n" not in message


def test_a_database_made_by_revision_0001_upgrades_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    shutil.copy(DATA / "trainyard-0001.db", path)
    db = Database(f"sqlite:///{path}")
    assert db.current_revision() == "0001"
    assert db.migrate() == head_revision()
    with db.session(read_only=True) as session:
        (experiment,) = experiments_repo.list_experiments(session)
        assert experiment.name == "made-by-0001"
        assert experiments_repo.get_model_definition(session, experiment.id).startswith(b"\x1f\x8b")
        trial = session.scalars(select(Trial)).one()
        rows = metrics_repo.trial_metrics(session, trial.id, "training")
        assert [r.steps for r in rows] == list(range(1, 11))
        # 0003 filled the new summary column from the stored validation report.
        assert (trial.last_validation_steps, trial.latest_validation) == (10, 0.25)
        (ckpt,) = checkpoints_repo.list_checkpoints(session, trial_id=trial.id)
        assert ckpt.metrics == {"loss": 0.25, "acc": "NaN"}
        assert [line.line for line in logs_repo.trial_logs(session, trial.id)] == [
            "hello from 0001"
        ]
    db.dispose()


def test_a_unit_of_work_commits_all_or_nothing(db: Database) -> None:
    experiment = make_experiment(db)
    with pytest.raises(RuntimeError), db.session() as session:
        experiments_repo.update_experiment(session, experiment.id, name="renamed")
        assert session.get(Experiment, experiment.id).name == "renamed"  # type: ignore[union-attr]
        raise RuntimeError("boom")
    with db.session(read_only=True) as session:
        assert experiments_repo.get_experiment(session, experiment.id).name == "exp"


def test_deleting_an_experiment_deletes_its_rows_and_no_other_experiments(db: Database) -> None:
    kept = make_experiment(db)
    experiment = make_experiment(db)
    for exp in (kept, experiment):
        (trial,) = make_trials(db, exp.id, 1)
        with db.session() as session:
            report = {"steps": 1, "metrics": {"loss": 1}, "timestamp": 0}
            metrics_repo.add_metrics(session, trial.id, "training", [report])
            metrics_repo.add_metrics(session, trial.id, "validation", [report])
            logs_repo.add_logs(session, trial.id, [{"line": "x", "timestamp": 1.0}])
            checkpoints_repo.register_checkpoint(
                session, trial.id, uuid=f"c{exp.id}", steps_completed=1
            )
    with db.session() as session:
        experiments_repo.delete_experiment(session, experiment.id)
    with db.session(read_only=True) as session:
        for table in ("trials", "metrics", "logs", "checkpoints", "model_definitions"):
            left = session.scalar(text(f"SELECT count(*) FROM {table}"))
            assert left == (2 if table == "metrics" else 1), table
        assert session.scalar(text("SELECT DISTINCT experiment_id FROM metrics")) == kept.id


@pytest.mark.postgres
def test_a_pooled_postgres_connection_killed_while_idle_is_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The server ends an idle pooled connection (restart, idle timeout): the next unit of work
    still runs, on a new connection."""
    monkeypatch.setattr(database_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    with postgres_schema_url("ping") as url:
        db = Database(url)
        with db.session(read_only=True) as session:
            first = session.scalar(text("SELECT pg_backend_pid()"))
        killer = create_engine(url)
        with killer.connect() as conn:
            assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        killer.dispose()
        with db.session(read_only=True) as session:
            assert session.scalar(text("SELECT pg_backend_pid()")) not in (None, first)
        db.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'sub' / 'x.db'}")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    db.dispose()


def test_sqlite_units_of_work_that_write_reuse_one_connection(tmp_path: Path) -> None:
    """SQLite drops a connection's page cache when another connection wrote in between: writes
    spread over a pool would each start cold."""
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    db.migrate()

    def raw(session: Any) -> Any:
        return session.connection().connection.dbapi_connection

    seen = []
    for _ in range(3):
        with db.session() as session:
            seen.append(raw(session))
            with db.session(read_only=True) as reader:
                assert raw(reader) is not seen[-1]
    assert seen[0] is seen[1] is seen[2]
    db.dispose()


def test_concurrent_writers_on_sqlite_queue_instead_of_failing(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    db.migrate()
    experiment = make_experiment(db)
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            for i in range(20):
                with db.session() as session:
                    # Read first, then write: the case a deferred BEGIN turns into SQLITE_BUSY.
                    row = experiments_repo.get_experiment(session, experiment.id)
                    row.progress = row.progress + 1
                    trials_repo.create_trial(session, experiment.id, worker * 100 + i, {})
        except BaseException as err:  # collected and asserted on below
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.session(read_only=True) as session:
        assert experiments_repo.get_experiment(session, experiment.id).progress == 80
        assert session.scalar(text("SELECT count(*) FROM trials")) == 80
    db.dispose()


def test_a_bad_url_is_one_line_naming_the_accepted_forms() -> None:
    with pytest.raises(TrainyardError, match="only sqlite and postgresql are supported"):
        Database("mysql://u@h/db")
    assert "postgresql+psycopg" in Database("postgresql://u:secret@h/db").url
    assert "secret" not in repr(Database("postgresql://u:secret@h/db"))
