"""Shared helpers: a Core API context for one in-process trial run."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))

from standin_core import StandinCore


class CoreFactory:
    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir

    def __call__(self, hparams: dict[str, Any], *, run: str = "run", **kw: Any) -> StandinCore:
        """A context for trial run folder `run` (the same name resumes from its checkpoints)."""
        return StandinCore(self.run_dir / run, {"global_batch_size": 8, **hparams}, **kw)


@pytest.fixture
def make_core(tmp_path: Path) -> Iterator[CoreFactory]:
    yield CoreFactory(tmp_path)


def final_state(core: Any, uuid: str | None) -> dict[str, Any]:
    assert uuid is not None
    with core.checkpoint.restore_path(uuid) as path:
        state: dict[str, Any] = torch.load(Path(path) / "trainer_state.pt", weights_only=True)
    return state
