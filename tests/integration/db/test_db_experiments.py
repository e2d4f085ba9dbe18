"""Experiments and trials repositories: lifecycle, listing, snapshot versions, bookkeeping."""

from __future__ import annotations

import math

import pytest
from conftest import make_experiment, make_trials

from trainyard.errors import InvalidTransitionError, NotFoundError, TrainyardError
from trainyard.master.db import Database
from trainyard.master.db import experiments as experiments_repo
from trainyard.master.db import trials as trials_repo
from trainyard.master.states import ExperimentState, TrialState


def test_listing_filters_and_never_needs_the_model_definition(db: Database) -> None:
    first = make_experiment(db)
    second = make_experiment(db)
    with db.session() as session:
        experiments_repo.update_experiment(
            session, second.id, name="resnet_50%", labels=["Vision", "big"], notes="n"
        )
        experiments_repo.set_experiment_state(session, first.id, ExperimentState.COMPLETED)
        experiments_repo.set_archived(session, first.id, True)
    with db.session(read_only=True) as session:
        assert [e.id for e in experiments_repo.list_experiments(session)] == [second.id, first.id]
        assert [e.id for e in experiments_repo.list_experiments(session, archived=False)] == [
            second.id
        ]
        active = experiments_repo.list_experiments(session, states=[ExperimentState.ACTIVE])
        assert [e.id for e in active] == [second.id]
        assert [e.id for e in experiments_repo.list_experiments(session, name_contains="50%")] == [
            second.id
        ]
        assert [e.id for e in experiments_repo.list_experiments(session, label="vision")] == [
            second.id
        ]
        assert experiments_repo.count_experiments(session, archived=True) == 1
        page = experiments_repo.list_experiments(session, limit=1, offset=1, newest_first=True)
        assert [e.id for e in page] == [first.id]
        assert experiments_repo.get_model_definition(session, first.id) == b"tarball-bytes"
        ended = experiments_repo.get_experiment(session, first.id)
        assert ended.ended_at is not None and ended.archived


def test_illegal_experiment_actions_are_refused_with_one_line(db: Database) -> None:
    experiment = make_experiment(db)
    with db.session() as session:
        experiments_repo.set_experiment_state(session, experiment.id, ExperimentState.PAUSED)
    with pytest.raises(InvalidTransitionError, match="it is already PAUSED"), db.session() as s:
        experiments_repo.set_experiment_state(s, experiment.id, ExperimentState.PAUSED)
    with pytest.raises(InvalidTransitionError, match="archive it once it has ended"), db.session(
    ) as session:  # fmt: skip
        experiments_repo.set_archived(session, experiment.id, True)
    with pytest.raises(NotFoundError, match="experiment 4242 does not exist"), db.session() as s:
        experiments_repo.get_experiment(s, 4242)
    with pytest.raises(TrainyardError, match="between 1 and 99"), db.session() as session:
        experiments_repo.set_priority(session, experiment.id, 0)


def test_searcher_snapshots_are_versioned_and_stale_writers_refused(db: Database) -> None:
    experiment = make_experiment(db)
    with db.session() as session:
        v1 = experiments_repo.save_searcher_snapshot(session, experiment.id, {"rng": [1, 2]})
        v2 = experiments_repo.save_searcher_snapshot(
            session, experiment.id, {"rng": [3], "best": math.inf}, progress=0.5, expected_version=1
        )
    assert (v1, v2) == (1, 2)
    with pytest.raises(TrainyardError, match="version is 2, expected 1"), db.session() as session:
        experiments_repo.save_searcher_snapshot(
            session, experiment.id, {"x": 1}, expected_version=1
        )
    with db.session(read_only=True) as session:
        stored = experiments_repo.get_experiment(session, experiment.id)
        assert stored.searcher_snapshot == {"rng": [3], "best": "Infinity"}
        assert stored.searcher_version == 2 and stored.progress == 0.5


def test_trials_are_unique_per_request_and_listed_in_order(db: Database) -> None:
    experiment = make_experiment(db)
    trials = make_trials(db, experiment.id, 3)
    with pytest.raises(TrainyardError, match="already has a trial for request 1"), db.session(
    ) as session:  # fmt: skip
        trials_repo.create_trial(session, experiment.id, 1, {})
    with db.session() as session:
        for trial, best in zip(trials, (0.3, None, 0.1), strict=True):
            row = trials_repo.get_trial(session, trial.id)
            row.best_validation = best
        trials_repo.set_trial_state(session, trials[2].id, TrialState.RUNNING)
    with db.session(read_only=True) as session:
        by_best = trials_repo.list_trials(session, experiment.id, order_by="best_validation")
        assert [t.id for t in by_best] == [trials[2].id, trials[0].id, trials[1].id]
        running = trials_repo.list_trials(session, experiment.id, states=[TrialState.RUNNING])
        assert [t.id for t in running] == [trials[2].id]
        assert running[0].started_at is not None
        assert trials_repo.count_trials(session, experiment.id) == 3
        assert trials_repo.trial_state_counts(session, [experiment.id, 999]) == {
            experiment.id: {"QUEUED": 2, "RUNNING": 1},
            999: {},
        }
        found = trials_repo.get_trial_by_request(session, experiment.id, 2)
        assert found is not None and found.hparams == {"lr": 0.2}


def test_restarts_and_exits_are_recorded_in_the_trial_history(db: Database) -> None:
    experiment = make_experiment(db)
    (trial,) = make_trials(db, experiment.id, 1)
    with db.session() as session:
        trials_repo.set_trial_state(session, trial.id, TrialState.RUNNING)
        assert trials_repo.record_restart(session, trial.id, reason="exit 1", exit_code=1) == 1
        assert trials_repo.record_restart(session, trial.id, reason="exit 2", exit_code=2) == 2
        trials_repo.record_event(session, trial.id, "exit", reason="errored", exit_code=2)
        trials_repo.set_trial_state(session, trial.id, TrialState.ERRORED)
    with db.session(read_only=True) as session:
        events = trials_repo.list_events(session, trial.id)
        row = trials_repo.get_trial(session, trial.id)
    assert [(e.kind, e.exit_code) for e in events] == [("restart", 1), ("restart", 2), ("exit", 2)]
    assert row.restarts == 2 and row.ended_at is not None
    with pytest.raises(InvalidTransitionError, match="already ended"), db.session() as session:
        trials_repo.set_trial_state(session, trial.id, TrialState.QUEUED)
