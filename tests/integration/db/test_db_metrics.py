"""Metrics: idempotent batched upsert, searcher metric column, non-finite values, downsampling."""

from __future__ import annotations

import math
from typing import Any

import pytest
from conftest import make_experiment, make_trials
from sqlalchemy import select

from trainyard.errors import NotFoundError, TrainyardError
from trainyard.master.db import Database, Experiment, Metric, Trial
from trainyard.master.db import metrics as metrics_repo


def _reports(steps: range, value: Any = None, name: str = "loss") -> list[dict[str, Any]]:
    return [
        {"steps": s, "metrics": {name: (1.0 / s if value is None else value)}, "timestamp": s}
        for s in steps
    ]


def test_a_resent_batch_replaces_rows_instead_of_duplicating_them(db: Database) -> None:
    experiment = make_experiment(db)
    (trial,) = make_trials(db, experiment.id, 1)
    with db.session() as session:
        assert metrics_repo.add_metrics(session, trial.id, "training", _reports(range(1, 6))) == 5
    with db.session() as session:  # the trial restarts and resends steps 4..5 with new values
        metrics_repo.add_metrics(
            session, trial.id, "training", _reports(range(4, 8), value=9.0), trial_run_id=1
        )
    with db.session(read_only=True) as session:
        rows = metrics_repo.trial_metrics(session, trial.id, "training")
    assert [r.steps for r in rows] == [1, 2, 3, 4, 5, 6, 7]
    assert [r.metrics["loss"] for r in rows[3:]] == [9.0, 9.0, 9.0, 9.0]
    assert [r.trial_run_id for r in rows] == [0, 0, 0, 1, 1, 1, 1]


def test_training_and_validation_groups_are_separate(db: Database) -> None:
    experiment = make_experiment(db)
    (trial,) = make_trials(db, experiment.id, 1)
    with db.session() as session:
        metrics_repo.add_metrics(session, trial.id, "training", _reports(range(1, 4)))
        metrics_repo.add_metrics(session, trial.id, "validation", _reports(range(3, 4)))
    with db.session(read_only=True) as session:
        assert len(metrics_repo.trial_metrics(session, trial.id, "training")) == 3
        assert len(metrics_repo.trial_metrics(session, trial.id, "validation")) == 1


def test_validation_keeps_trial_and_experiment_best_and_latest(db: Database) -> None:
    experiment = make_experiment(db, smaller_is_better=False, metric="acc")
    first, second = make_trials(db, experiment.id, 2)
    with db.session() as session:
        metrics_repo.add_metrics(
            session, first.id, "validation", _reports(range(10, 40, 10), 0.5, "acc")
        )
        metrics_repo.add_metrics(
            session, second.id, "validation", [{"steps": 10, "metrics": {"acc": 0.7}}]
        )
        metrics_repo.add_metrics(
            session, second.id, "validation", [{"steps": 20, "metrics": {"acc": 0.6}}]
        )
        metrics_repo.add_metrics(
            session, second.id, "validation", [{"steps": 30, "metrics": {"acc": "NaN"}}]
        )
    with db.session(read_only=True) as session:
        t2 = session.get(Trial, second.id)
        exp = session.get(Experiment, experiment.id)
        assert t2 is not None and exp is not None
        assert t2.best_validation == 0.7
        # The latest report was NaN: NaN on PostgreSQL, NULL on SQLite (no NaN there).
        assert t2.latest_validation is None or math.isnan(t2.latest_validation)
        t1 = session.get(Trial, first.id)
        assert t1 is not None and (t1.best_validation, t1.latest_validation) == (0.5, 0.5)
        assert t2.total_batches == 30
        assert exp.best_searcher_metric == 0.7 and exp.best_trial_id == second.id


def test_non_finite_values_survive_in_json_and_in_the_numeric_column(db: Database) -> None:
    experiment = make_experiment(db)
    (trial,) = make_trials(db, experiment.id, 1)
    values = [math.inf, -math.inf, math.nan, "Infinity", "NaN", 0.5]
    with db.session() as session:
        metrics_repo.add_metrics(
            session,
            trial.id,
            "validation",
            [{"steps": i + 1, "metrics": {"loss": v, "x": v}} for i, v in enumerate(values)],
        )
    with db.session(read_only=True) as session:
        rows = metrics_repo.trial_metrics(session, trial.id, "validation")
        stored = session.scalars(
            select(Metric.searcher_metric).where(Metric.trial_id == trial.id).order_by(Metric.steps)
        ).all()
        curve = metrics_repo.experiment_metrics(
            session, experiment.id, "validation", max_points_per_trial=100
        )
    assert [r.metrics["x"] for r in rows] == [
        "Infinity", "-Infinity", "NaN", "Infinity", "NaN", 0.5
    ]  # fmt: skip
    assert stored[0] == math.inf and stored[1] == -math.inf and stored[3] == math.inf
    # PostgreSQL stores NaN; SQLite cannot and stores NULL. Readers treat both as "no value".
    assert stored[2] is None or math.isnan(stored[2])
    assert curve == {trial.id: [(1, math.inf), (2, -math.inf), (4, math.inf), (6, 0.5)]}


def test_trial_metrics_downsamples_to_at_most_max_points_keeping_first_and_last(
    db: Database,
) -> None:
    experiment = make_experiment(db)
    (trial,) = make_trials(db, experiment.id, 1)
    with db.session() as session:
        metrics_repo.add_metrics(session, trial.id, "training", _reports(range(1, 1001)))
    with db.session(read_only=True) as session:
        for max_points in (1, 2, 7, 100, 999, 1000, 5000):
            steps = [r.steps for r in metrics_repo.trial_metrics(
                session, trial.id, "training", max_points=max_points
            )]  # fmt: skip
            assert 1 <= len(steps) <= max_points, max_points
            assert steps == sorted(set(steps))
            assert steps[-1] == 1000
            if max_points > 1:
                assert steps[0] == 1
            if max_points >= 7:
                assert len(steps) >= min(max_points // 2, 1000)  # a fair share, not a handful
        everything = metrics_repo.trial_metrics(session, trial.id, "training")
    assert [r.steps for r in everything] == list(range(1, 1001))


def test_experiment_metrics_downsamples_every_trial_and_reads_any_metric(db: Database) -> None:
    experiment = make_experiment(db)
    trials = make_trials(db, experiment.id, 5)
    with db.session() as session:
        for k, trial in enumerate(trials):
            reports = [
                {"steps": s * 10, "metrics": {"loss": k + s / 1000, "acc": -s}, "timestamp": s}
                for s in range(1, 301)
            ]
            metrics_repo.add_metrics(session, trial.id, "validation", reports)
    with db.session(read_only=True) as session:
        curves = metrics_repo.experiment_metrics(
            session, experiment.id, "validation", max_points_per_trial=20
        )
        acc = metrics_repo.experiment_metrics(
            session, experiment.id, "validation", "acc", max_points_per_trial=20,
            trial_ids=[trials[1].id, trials[3].id],
        )  # fmt: skip
        names = metrics_repo.metric_names(session, experiment.id, "validation")
        capped = metrics_repo.experiment_metrics(
            session, experiment.id, "validation", max_points_per_trial=20, max_total_points=10
        )
    assert sorted(curves) == sorted(t.id for t in trials)
    for k, trial in enumerate(trials):
        points = curves[trial.id]
        assert 10 <= len(points) <= 20
        assert points[-1] == (3000, k + 0.3)
        assert all(value == k + steps / 10_000 for steps, value in points)
    assert sorted(acc) == [trials[1].id, trials[3].id]
    assert all(value == -steps / 10 for steps, value in acc[trials[1].id])
    assert names == ["acc", "loss"]
    # 5 trials sharing 10 points: 2 each, the last one always among them.
    assert all(len(points) <= 2 and points[-1][0] == 3000 for points in capped.values())
    assert len(capped) == 5


def test_reports_for_an_unknown_trial_are_refused(db: Database) -> None:
    with pytest.raises(NotFoundError, match="trial 999 does not exist"), db.session() as session:
        metrics_repo.add_metrics(session, 999, "training", _reports(range(1, 3)))


@pytest.mark.parametrize(
    ("steps", "level"), [(0, 62), (1, 0), (2, 1), (12, 2), (1024, 10), (3 * 2**20, 20)]
)
def test_steps_level_is_the_number_of_trailing_zero_bits(steps: int, level: int) -> None:
    assert metrics_repo.steps_level(steps) == level


def test_a_batch_repeating_steps_stores_each_steps_once_with_its_last_report(
    db: Database,
) -> None:
    experiment = make_experiment(db)
    (trial,) = make_trials(db, experiment.id, 1)
    batch = [
        {"steps": 1, "metrics": {"loss": 0.9}, "timestamp": 1.0},
        {"steps": 2, "metrics": {"loss": 0.8}, "timestamp": 2.0},
        {"steps": 1, "metrics": {"loss": 0.1}, "timestamp": 3.0},
    ]
    with db.session() as session:
        assert metrics_repo.add_metrics(session, trial.id, "validation", batch) == 2
    with db.session() as session:  # the same batch again: nothing new
        assert metrics_repo.add_metrics(session, trial.id, "validation", batch) == 2
    with db.session(read_only=True) as session:
        rows = metrics_repo.trial_metrics(session, trial.id, "validation")
        count = len(session.scalars(select(Metric.id).where(Metric.trial_id == trial.id)).all())
    assert [(r.steps, r.metrics, r.timestamp) for r in rows] == [
        (1, {"loss": 0.1}, 3.0),
        (2, {"loss": 0.8}, 2.0),
    ]
    assert count == 2


def test_values_round_trip_exactly_through_the_batch_encoding(db: Database) -> None:
    experiment = make_experiment(db)
    (trial,) = make_trials(db, experiment.id, 1)
    metrics = {
        "loss": 0.1 + 0.2,
        "tiny": 1e-05,
        "count": 2**53 + 1,
        "text": "naïve ✓",
        "nested": [1, {"a": None, "b": True}],
    }
    with db.session() as session:
        metrics_repo.add_metrics(
            session, trial.id, "validation", [{"steps": 2**62, "metrics": metrics}]
        )
    with db.session(read_only=True) as session:
        (row,) = metrics_repo.trial_metrics(session, trial.id, "validation")
        level = session.scalar(select(Metric.steps_level).where(Metric.trial_id == trial.id))
    assert row.steps == 2**62 and level == 62
    assert row.metrics == metrics


def test_objects_loaded_in_the_session_see_the_new_summaries(db: Database) -> None:
    experiment = make_experiment(db, metric="loss")
    (trial,) = make_trials(db, experiment.id, 1)
    with db.session() as session:
        loaded_trial = session.get(Trial, trial.id)
        loaded_experiment = session.get(Experiment, experiment.id)
        assert loaded_trial is not None and loaded_experiment is not None
        metrics_repo.add_metrics(session, trial.id, "validation", _reports(range(5, 8), 0.25))
        assert loaded_trial.total_batches == 7
        assert (loaded_trial.best_validation, loaded_trial.latest_validation) == (0.25, 0.25)
        assert loaded_experiment.best_searcher_metric == 0.25
        assert loaded_experiment.best_trial_id == trial.id


@pytest.mark.parametrize("bad", [{"steps": -1, "metrics": {}}, {"steps": 2**63, "metrics": {}}])
def test_steps_outside_the_stored_range_are_refused(db: Database, bad: dict[str, Any]) -> None:
    experiment = make_experiment(db)
    (trial,) = make_trials(db, experiment.id, 1)
    with pytest.raises(TrainyardError, match="steps must be 0 to 2"), db.session() as session:
        metrics_repo.add_metrics(session, trial.id, "training", [bad])
