"""The `Master` service in process on a real SQLite file, driven as a trial would drive it
(no processes, no loop): searcher bookkeeping, idempotent handlers, guarded actions, restarts."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from master_runner import experiment_yaml

from trainyard.errors import ConfigError, InvalidTransitionError, NotFoundError
from trainyard.master.db import Checkpoint, Database, Experiment, Trial
from trainyard.master.db import allocations as alloc_repo
from trainyard.master.db import trials as trial_repo
from trainyard.master.runtime import Master
from trainyard.master.settings import MasterSettings, ResourcePoolSettings

GRID = experiment_yaml(
    {"name": "grid", "max_length": {"batches": 3}},
    {"x": {"type": "categorical", "vals": [0.1, 0.3]}},
)


@pytest.fixture
def settings(tmp_path: Path) -> MasterSettings:
    return MasterSettings(
        data_dir=tmp_path,
        checkpoint_root=tmp_path / "checkpoints",
        resource_pools=[ResourcePoolSettings(name="default", slots=2)],
    )


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'trainyard.db'}")
    database.migrate()
    yield database
    database.dispose()


def trials_of(db: Database, experiment_id: int) -> list[Trial]:
    with db.session(read_only=True) as session:
        return trial_repo.list_trials(session, experiment_id)


def experiment(db: Database, experiment_id: int) -> Experiment:
    with db.session(read_only=True) as session:
        row = session.get(Experiment, experiment_id)
        assert row is not None
        return row


def test_create_applies_initial_operations_with_the_snapshot(
    settings: MasterSettings, db: Database
) -> None:
    master = Master(settings, db)
    eid = master.create_experiment(GRID, b"", owner_id=None)
    trials = trials_of(db, eid)
    assert [(t.request_id, t.state, t.target_length) for t in trials] == [
        (1, "QUEUED", 3),
        (2, "QUEUED", 3),
    ]
    row = experiment(db, eid)
    assert row.searcher_snapshot is not None and row.searcher_snapshot["pending"] == {
        "1": [3],
        "2": [3],
    }
    assert master.searcher_operation(trials[0].id) == (3, False)


def test_bad_configs_are_one_line_config_errors(settings: MasterSettings, db: Database) -> None:
    master = Master(settings, db)
    with pytest.raises(ConfigError):
        master.create_experiment("searcher: {name: nope}", b"", owner_id=None)
    pool = experiment_yaml(
        {"name": "single", "max_length": {"batches": 1}}, {}, resources={"resource_pool": "x"}
    )
    with pytest.raises(ConfigError) as err:
        master.create_experiment(pool, b"", owner_id=None)
    assert str(err.value) == "resource pool 'x' does not exist; known pools: default"


def test_a_resent_validation_is_counted_once(settings: MasterSettings, db: Database) -> None:
    master = Master(settings, db)
    eid = master.create_experiment(GRID, b"", owner_id=None)
    first, second = trials_of(db, eid)
    master.complete_operation(first.id, 3, 0.5)
    version = experiment(db, eid).searcher_version
    master.complete_operation(first.id, 3, 0.1)  # a resend after a restart
    assert experiment(db, eid).searcher_version == version  # the searcher never saw it
    done = trials_of(db, eid)[0]
    assert (done.completed_length, done.state, done.closed) == (3, "COMPLETED", True)
    assert master.searcher_operation(first.id) == (None, True)

    # A new Master (a restarted process) restores the searcher from the snapshot and finishes.
    restarted = Master(settings, db)
    restarted.complete_operation(second.id, 3, 0.2)
    assert experiment(db, eid).state == "COMPLETED"
    assert [t.state for t in trials_of(db, eid)] == ["COMPLETED", "COMPLETED"]


def test_early_exit_and_checkpoints_are_idempotent(settings: MasterSettings, db: Database) -> None:
    master = Master(settings, db)
    eid = master.create_experiment(GRID, b"", owner_id=None)
    first, _ = trials_of(db, eid)
    body = {"uuid": "c1", "steps": 2, "metadata": {"steps_completed": 2}, "resources": {"a": 3}}
    with db.session() as session:  # checkpoints come from a live allocation of the trial
        alloc, _ = alloc_repo.create_allocation(
            session, first.id, resource_pool="default", slots=1, slot_ids=(0,)
        )
        aid = alloc.id
    master.register_checkpoint(first.id, aid, body)
    master.register_checkpoint(first.id, aid, body)
    with db.session(read_only=True) as session:
        assert session.query(Checkpoint).count() == 1
    assert trials_of(db, eid)[0].latest_checkpoint_uuid == "c1"

    master.early_exit(first.id, "invalid_hp")
    master.early_exit(first.id, "invalid_hp")
    with db.session(read_only=True) as session:
        kinds = [e.kind for e in trial_repo.list_events(session, first.id)]
    assert kinds == ["early_exit"]
    assert trials_of(db, eid)[0].exited_reason == "invalid_hp"
    assert master.searcher_operation(first.id) == (None, True)


def test_actions_are_guarded_with_one_line_messages(settings: MasterSettings, db: Database) -> None:
    master = Master(settings, db)
    eid = master.create_experiment(GRID, b"", owner_id=None)
    first, second = trials_of(db, eid)
    master.kill_trial(first.id)
    killed = trials_of(db, eid)[0]
    assert (killed.state, killed.exited_reason) == ("CANCELED", "user_canceled")
    with pytest.raises(InvalidTransitionError) as err:
        master.kill_trial(first.id)
    assert "\n" not in str(err.value) and f"trial {first.id}" in str(err.value)
    with pytest.raises(InvalidTransitionError, match="archive it once it has ended"):
        master.archive_experiment(eid)
    master.pause_experiment(eid)
    assert trials_of(db, eid)[1].state == "PAUSED"
    master.cancel_experiment(eid)
    assert experiment(db, eid).state == "CANCELED"
    with pytest.raises(InvalidTransitionError, match="fork it to run it again"):
        master.activate_experiment(eid)
    with pytest.raises(NotFoundError):
        master.pause_experiment(eid + 100)
    assert second.id != first.id


def test_wait_preemption_returns_when_asked_or_after_the_timeout(
    settings: MasterSettings, db: Database
) -> None:
    master = Master(settings, db)
    eid = master.create_experiment(GRID, b"", owner_id=None)
    trial = trials_of(db, eid)[0]
    with db.session() as session:
        alloc, _token = alloc_repo.create_allocation(session, trial.id)
        aid = alloc.id
    assert master.wait_preemption(aid, 0.2) == (False, None)

    def pause_soon() -> None:
        time.sleep(0.3)
        master.pause_experiment(eid)

    thread = threading.Thread(target=pause_soon)
    started = time.monotonic()
    thread.start()
    assert master.wait_preemption(aid, 10) == (True, "pause")
    assert time.monotonic() - started < 5
    thread.join()
