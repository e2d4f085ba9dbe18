"""The per-trial validation summary ingest keeps (last steps, latest value) and the reads on it."""

from __future__ import annotations

import random
from typing import Any

from conftest import make_experiment, make_trials
from sqlalchemy import select

from trainyard.master.db import Database, Experiment, Metric, Trial
from trainyard.master.db import _metric_writes as _writes
from trainyard.master.db import metrics as metrics_repo


def _validate(db: Database, trial_id: int, *reports: tuple[int, Any]) -> None:
    batch = [{"steps": s, "metrics": {"loss": v}, "timestamp": 0.0} for s, v in reports]
    with db.session() as session:
        metrics_repo.add_metrics(session, trial_id, "validation", batch)


def _summary(db: Database, trial_id: int) -> tuple[int | None, float | None]:
    with db.session(read_only=True) as session:
        trial = session.get(Trial, trial_id)
        assert trial is not None
        return trial.last_validation_steps, trial.latest_validation


def test_the_latest_validation_is_the_report_with_the_most_steps(db: Database) -> None:
    experiment = make_experiment(db)
    trial, silent = make_trials(db, experiment.id, 2)  # `silent` never validates
    assert _summary(db, trial.id) == (None, None)
    _validate(db, trial.id, (30, 0.3))
    _validate(db, trial.id, (20, 0.2))  # late, out of order: not the latest
    assert _summary(db, trial.id) == (30, 0.3)
    _validate(db, trial.id, (30, 0.35))  # resent after a restart: replaces the value
    assert _summary(db, trial.id) == (30, 0.35)
    _validate(db, trial.id, (50, 0.5), (40, 0.4))  # within a batch, too, the most steps wins
    assert _summary(db, trial.id) == (50, 0.5)
    with db.session(read_only=True) as session:
        expected = {trial.id: {"loss": 0.5}}
        assert metrics_repo.last_validations(session, experiment_id=experiment.id) == expected
        assert metrics_repo.last_validations(session, trial_ids=[trial.id, silent.id]) == expected
        assert metrics_repo.last_validations(session, trial_ids=[]) == {}
    _validate(db, trial.id, (60, None))  # no searcher metric in the last report
    assert _summary(db, trial.id) == (60, None)
    with db.session(read_only=True) as session:
        curves = metrics_repo.experiment_metrics(
            session, experiment.id, "validation", max_points_per_trial=10
        )
    assert curves == {trial.id: [(20, 0.2), (30, 0.35), (40, 0.4), (50, 0.5)]}


def test_the_searcher_metric_read_equals_reading_the_same_metric_from_the_reports(
    db: Database,
) -> None:
    """The searcher metric's curves take each trial's last point from its trial row; reading the
    same metric by name takes it from the metric rows. Random out-of-order, resent, NaN, infinite,
    missing and non-numeric values must never make the two disagree."""
    rng = random.Random(7)
    experiment = make_experiment(db)
    trials = make_trials(db, experiment.id, 6)
    values: list[Any] = [None, "NaN", "Infinity", "-Infinity", True, [1.0], {"a": 1.0}]
    for _ in range(60):
        trial = rng.choice(trials)
        steps = rng.sample(range(1, 40), rng.randint(1, 4))
        _validate(db, trial.id, *((s, rng.choice([*values, *[rng.random()] * 6])) for s in steps))
        with db.session(read_only=True) as session:
            for per_trial in (1, 2, 5, 100):
                by_column = metrics_repo.experiment_metrics(
                    session, experiment.id, "validation", max_points_per_trial=per_trial
                )
                by_name = metrics_repo.experiment_metrics(
                    session, experiment.id, "validation", "loss", max_points_per_trial=per_trial
                )
                assert by_column == by_name
    assert any(len(points) > 3 for points in by_column.values())


def test_a_wrong_cached_owner_costs_a_reload_never_a_wrong_row(db: Database) -> None:
    """Ingest remembers each trial's experiment per connection. If that memory is wrong (SQLite
    reuses a deleted trial's id), the rows still get the trial's real experiment and metric."""
    other = make_experiment(db, metric="loss")
    experiment = make_experiment(db, metric="acc", smaller_is_better=False)
    (trial,) = make_trials(db, experiment.id, 1)
    with db.session() as session:
        owners = session.connection().info.setdefault(_writes._OWNERS_KEY, {})
        owners[trial.id] = _writes.Owner(other.id, "loss", True)
        report = {"steps": 5, "metrics": {"acc": 0.9, "loss": 0.1}, "timestamp": 0.0}
        metrics_repo.add_metrics(session, trial.id, "validation", [report])
        assert owners[trial.id] == _writes.Owner(experiment.id, "acc", False)
    with db.session(read_only=True) as session:
        row = session.execute(select(Metric.experiment_id, Metric.searcher_metric)).one()
        assert tuple(row) == (experiment.id, 0.9)
        rows = session.execute(select(Experiment.id, Experiment.best_trial_id))
        best = {experiment_id: best_trial for experiment_id, best_trial in rows}
        assert best == {other.id: None, experiment.id: trial.id}
