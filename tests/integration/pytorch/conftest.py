"""Fixture: a factory of `TrialRun`s (model dir + config + run folder) under tmp_path."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from trial_process import TrialRun


@pytest.fixture
def trial_run(tmp_path: Path) -> Callable[..., TrialRun]:
    def make(hparams: dict[str, Any], name: str = "a", **config: Any) -> TrialRun:
        return TrialRun(tmp_path / name, hparams, **config)

    return make
