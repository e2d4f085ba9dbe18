"""Fixture: a factory of `TrialRun`s (model dir + config + run folder) under tmp_path."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))

from trial_process import TrialRun


@pytest.fixture
def trial_run(tmp_path: Path) -> Callable[..., TrialRun]:
    def make(hparams: dict[str, Any], name: str = "a", **config: Any) -> TrialRun:
        return TrialRun(tmp_path / name, hparams, **config)

    return make


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Train with one intra-op thread, as each trial process of a busy 2-core machine should:
    several threads per process on shared cores make small models many times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
