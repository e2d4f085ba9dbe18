"""Allocations, checkpoints, logs, users and tasks repositories."""

from __future__ import annotations

import pytest
from conftest import make_experiment, make_trials

from trainyard.errors import InvalidTransitionError, NotFoundError, TrainyardError
from trainyard.master.db import Database
from trainyard.master.db import allocations as allocations_repo
from trainyard.master.db import checkpoints as checkpoints_repo
from trainyard.master.db import logs as logs_repo
from trainyard.master.db import metrics as metrics_repo
from trainyard.master.db import tasks as tasks_repo
from trainyard.master.db import trials as trials_repo
from trainyard.master.db import users as users_repo
from trainyard.master.states import AllocationState, CheckpointState, TaskState


def test_allocation_tokens_are_stored_hashed_and_found_by_token(db: Database) -> None:
    experiment = make_experiment(db)
    (trial,) = make_trials(db, experiment.id, 1)
    with db.session() as session:
        allocation, token = allocations_repo.create_allocation(
            session, trial.id, slots=2, slot_ids=[0, 1]
        )
        allocations_repo.set_allocation_state(session, allocation.id, AllocationState.STARTING)
        allocations_repo.set_processes(session, allocation.id, [101, 102], 101)
    with db.session(read_only=True) as session:
        found = allocations_repo.allocation_for_token(session, token)
        assert found is not None and found.id == allocation.id
        assert found.token_hash == users_repo.hash_token(token) and token not in found.token_hash
        assert (found.pids, found.pgid, found.slot_ids) == ([101, 102], 101, [0, 1])
        assert allocations_repo.allocation_for_token(session, token + "x") is None
        assert trials_repo.get_trial(session, trial.id).run_count == 1
        live = allocations_repo.list_allocations(session, states=[AllocationState.STARTING])
        assert [a.id for a in live] == [allocation.id]


def test_preemption_reasons_only_escalate_and_finish_is_idempotent(db: Database) -> None:
    experiment = make_experiment(db)
    (trial,) = make_trials(db, experiment.id, 1)
    with db.session() as session:
        allocation, _ = allocations_repo.create_allocation(session, trial.id)
        allocations_repo.request_preemption(session, allocation.id, "preempt")
        allocations_repo.request_preemption(session, allocation.id, "pause")
        assert allocation.preempt_reason == "preempt"
        allocations_repo.request_preemption(session, allocation.id, "kill")
        assert allocation.preempt_reason == "kill"
        allocations_repo.finish_allocation(session, allocation.id, exit_code=137)
        allocations_repo.finish_allocation(session, allocation.id, exit_code=0)
        assert (allocation.state, allocation.exit_code) == ("TERMINATED", 137)
    with pytest.raises(InvalidTransitionError, match="already ended"), db.session() as session:
        allocations_repo.set_allocation_state(session, allocation.id, AllocationState.RUNNING)
    with pytest.raises(TrainyardError, match="not one of"), db.session() as session:
        allocations_repo.request_preemption(session, allocation.id, "nap")


def test_checkpoints_register_once_and_pick_up_validation_metrics(db: Database) -> None:
    experiment = make_experiment(db)
    (trial,) = make_trials(db, experiment.id, 1)
    with db.session() as session:
        metrics_repo.add_metrics(
            session, trial.id, "validation", [{"steps": 10, "metrics": {"loss": 0.5}}]
        )
        a = checkpoints_repo.register_checkpoint(
            session, trial.id, uuid="a", steps_completed=10, resources={"w.pt": 5, "x/y": 7}
        )
        again = checkpoints_repo.register_checkpoint(
            session, trial.id, uuid="a", steps_completed=10, resources={}
        )
        assert again is a
        checkpoints_repo.register_checkpoint(session, trial.id, uuid="b", steps_completed=20)
        # The validation at 20 arrives after the checkpoint: it is attached all the same.
        metrics_repo.add_metrics(
            session, trial.id, "validation", [{"steps": 20, "metrics": {"loss": 0.25}}]
        )
    with db.session(read_only=True) as session:
        rows = checkpoints_repo.list_checkpoints(session, trial_id=trial.id)
        latest = trials_repo.get_trial(session, trial.id).latest_checkpoint_uuid
    assert [(c.uuid, c.size_bytes, c.searcher_metric) for c in rows] == [
        ("a", 12, 0.5),
        ("b", 0, 0.25),
    ]
    assert rows[1].metrics == {"loss": 0.25} and latest == "b"


def test_gc_selection_on_db_rows_follows_the_retention_policy(db: Database) -> None:
    experiment = make_experiment(db)
    first, second = make_trials(db, experiment.id, 2)
    with db.session() as session:
        for trial, losses in ((first, [0.9, 0.2, 0.5]), (second, [0.8, 0.7, 0.6])):
            for i, loss in enumerate(losses):
                steps = (i + 1) * 10
                metrics_repo.add_metrics(
                    session, trial.id, "validation", [{"steps": steps, "metrics": {"loss": loss}}]
                )
                checkpoints_repo.register_checkpoint(
                    session, trial.id, uuid=f"{trial.request_id}-{steps}", steps_completed=steps
                )
    with db.session() as session:
        doomed = checkpoints_repo.checkpoints_to_delete(
            session,
            experiment.id,
            save_experiment_best=0,
            save_trial_best=1,
            save_trial_latest=1,
            protected={"1-10"},
        )
        assert sorted(c.uuid for c in doomed) == ["0-10", "1-20"]
        assert checkpoints_repo.mark_deleted(session, [c.uuid for c in doomed]) == 2
    with db.session(read_only=True) as session:
        left = checkpoints_repo.list_checkpoints(session, experiment_id=experiment.id)
        gone = checkpoints_repo.list_checkpoints(
            session, experiment_id=experiment.id, states=[CheckpointState.DELETED]
        )
    assert sorted(c.uuid for c in left) == ["0-20", "0-30", "1-10", "1-30"]
    assert sorted(c.uuid for c in gone) == ["0-10", "1-20"]


def test_logs_page_by_id_filter_and_tail(db: Database) -> None:
    experiment = make_experiment(db)
    first, second = make_trials(db, experiment.id, 2)
    with db.session() as session:
        lines = [
            {"rank": i % 2, "stream": "stdout", "timestamp": float(i), "line": f"step {i} 100%"}
            for i in range(25)
        ]
        assert logs_repo.add_logs(session, first.id, lines, allocation_id="alloc") == 25
        logs_repo.add_logs(session, second.id, [{"line": "other", "stream": "stderr"}])
    with db.session(read_only=True) as session:
        page1 = logs_repo.trial_logs(session, first.id, limit=10)
        page2 = logs_repo.trial_logs(session, first.id, after_id=page1[-1].id, limit=10)
        page3 = logs_repo.trial_logs(session, first.id, after_id=page2[-1].id, limit=10)
        found = logs_repo.trial_logs(session, first.id, search="STEP 1")
        percent = logs_repo.trial_logs(session, first.id, search="1 100%")
        tail = logs_repo.trial_logs(session, first.id, limit=3, tail=True)
        rank1 = logs_repo.trial_logs(session, first.id, rank=1)
        assert logs_repo.count_logs(session, first.id) == 25
    texts = [row.line for row in page1 + page2 + page3]
    assert texts == [f"step {i} 100%" for i in range(25)]
    assert [r.line for r in found] == ["step 1 100%"] + [f"step {i} 100%" for i in range(10, 20)]
    assert [r.line for r in percent] == ["step 1 100%", "step 11 100%", "step 21 100%"]
    assert [r.line for r in tail] == ["step 22 100%", "step 23 100%", "step 24 100%"]
    assert len(rank1) == 12 and all(r.rank == 1 for r in rank1)
    with pytest.raises(TrainyardError, match="stream"), db.session() as session:
        logs_repo.add_logs(session, first.id, [{"line": "x", "stream": "stdin"}])


def test_admin_bootstrap_gives_its_token_once_and_tokens_can_be_revoked(db: Database) -> None:
    with db.session() as session:
        admin, token = users_repo.ensure_admin(session)
        again, no_token = users_repo.ensure_admin(session)
        assert token is not None and no_token is None and again.id == admin.id
        bob = users_repo.create_user(session, "bob")
        bob_token = users_repo.create_token(session, bob.id, description="ci")
    with db.session() as session:
        found = users_repo.user_for_token(session, token)
        assert found is not None and found.admin and found.username == "admin"
        (stored,) = users_repo.list_tokens(session, bob.id)
        assert stored.token_hash != bob_token
        users_repo.revoke_token(session, stored.id)
        assert users_repo.user_for_token(session, bob_token) is None
        users_repo.set_user_active(session, admin.id, False)
        assert users_repo.user_for_token(session, token) is None
    with pytest.raises(TrainyardError, match="already exists"), db.session() as session:
        users_repo.create_user(session, "bob")
    with pytest.raises(NotFoundError), db.session() as session:
        users_repo.revoke_token(session, 999)


def test_tasks_follow_their_lifecycle(db: Database) -> None:
    with db.session() as session:
        task = tasks_repo.create_task(session, "tensorboard", config={"experiment_ids": [1]})
        tasks_repo.set_task_state(session, task.id, TaskState.RUNNING, url="/tb/1")
    with db.session() as session:
        (listed,) = tasks_repo.list_tasks(session, task_type="tensorboard")
        assert (listed.state, listed.url) == ("RUNNING", "/tb/1")
        tasks_repo.set_task_state(session, task.id, TaskState.TERMINATED)
    with pytest.raises(InvalidTransitionError), db.session() as session:
        tasks_repo.set_task_state(session, task.id, TaskState.RUNNING)
    with pytest.raises(TrainyardError, match="not one of"), db.session() as session:
        tasks_repo.create_task(session, "shell")
