"""The master's storage: `Database` (engine + units of work + migrations), models, repositories.

Repository modules (`users`, `experiments`, `trials`, `allocations`, `metrics`, `checkpoints`,
`logs`, `tasks`) hold plain functions that take a `Session` first and never commit.
"""

from trainyard.master.db.database import Database, dumps_json, normalize_db_url
from trainyard.master.db.models import (
    Allocation,
    ApiToken,
    Base,
    Checkpoint,
    Experiment,
    LogLine,
    Metric,
    ModelDefinition,
    Task,
    Trial,
    TrialEvent,
    User,
)

__all__ = [
    "Allocation",
    "ApiToken",
    "Base",
    "Checkpoint",
    "Database",
    "Experiment",
    "LogLine",
    "Metric",
    "ModelDefinition",
    "Task",
    "Trial",
    "TrialEvent",
    "User",
    "dumps_json",
    "normalize_db_url",
]
