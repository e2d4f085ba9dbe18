"""`trainyard.pytorch` exports exactly the names users and other packages rely on."""

from __future__ import annotations

import trainyard.pytorch as pt


def test_exported_names() -> None:
    assert sorted(pt.__all__) == [
        "EpochGeometry",
        "FitResult",
        "Length",
        "PyTorchTrial",
        "PyTorchTrialContext",
        "Trainer",
        "TrainerOptions",
    ]
    for name in pt.__all__:
        assert getattr(pt, name).__module__.startswith("trainyard.pytorch.")


def test_the_entry_modules_have_mains() -> None:
    from trainyard.pytorch import local, run

    assert callable(run.main) and callable(local.main)
