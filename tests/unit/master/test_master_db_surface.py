"""The storage package exports what callers rely on, and nothing by accident."""

from __future__ import annotations

from trainyard.master import db
from trainyard.master.db import metrics


def test_db_package_exports_the_database_and_every_model() -> None:
    helpers = ["Database", "Base", "dumps_json", "normalize_db_url"]
    models = ["Allocation", "ApiToken", "Checkpoint", "Experiment", "LogLine", "Metric"]
    models += ["ModelDefinition", "Task", "Trial", "TrialEvent", "User"]
    assert sorted(db.__all__) == sorted([*helpers, *models])
    assert all(hasattr(db, name) for name in db.__all__)


def test_metrics_repository_surface() -> None:
    assert sorted(metrics.__all__) == [
        "MetricReport",
        "MetricRow",
        "add_metrics",
        "experiment_metrics",
        "last_validations",
        "metric_names",
        "steps_level",
        "to_float",
        "trial_metrics",
    ]
    assert metrics.to_float("-Infinity") == float("-inf") and metrics.to_float(True) is None
