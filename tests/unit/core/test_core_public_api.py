"""The names `trainyard.core` exports are exactly the documented surface."""

from __future__ import annotations

import trainyard.core as core


def test_exports() -> None:
    assert set(core.__all__) == {
        "Backend",
        "CheckpointContext",
        "Context",
        "CoreUsageError",
        "DistributedContext",
        "InvalidHP",
        "LocalBackend",
        "MasterBackend",
        "MasterError",
        "PreemptContext",
        "SearcherContext",
        "SearcherOperation",
        "TrainContext",
        "TrialInfo",
        "init",
    }
    for name in core.__all__:
        assert getattr(core, name) is not None


def test_errors_are_trainyard_errors() -> None:
    from trainyard.errors import TrainyardError

    assert issubclass(core.CoreUsageError, TrainyardError)
    assert issubclass(core.MasterError, TrainyardError)
    assert issubclass(core.InvalidHP, TrainyardError)
