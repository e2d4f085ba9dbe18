"""Shared helpers: a real Core API context (local mode, scripted searcher) per trial run."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))

from scripted_backend import TrialRun


def experiment_config(**kw: Any) -> dict[str, Any]:
    """A valid experiment config for the tiny trial; keyword arguments override top-level keys."""
    searcher = {
        "name": "single",
        "metric": kw.pop("metric", "validation_loss"),
        "max_length": kw.pop("max_length", {"batches": 1000}),
    }
    base = {"name": "tiny", "entrypoint": "tiny_trial:TinyTrial", "searcher": searcher}
    return {**base, "hyperparameters": {"global_batch_size": 8}, **kw}


class RunFactory:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.opened: list[TrialRun] = []

    def __call__(
        self,
        hparams: dict[str, Any],
        *,
        run: str = "run",
        lengths: Sequence[int] = (10,),
        config: dict[str, Any] | None = None,
        preempt_at_call: int | None = None,
    ) -> TrialRun:
        """Open trial run folder `run` (the same name again resumes from its checkpoints)."""
        opened = TrialRun(
            self.root / run,
            config or experiment_config(),
            {"global_batch_size": 8, **hparams},
            lengths=lengths,
            preempt_at_call=preempt_at_call,
        )
        self.opened.append(opened)
        return opened


@pytest.fixture
def make_core(tmp_path: Path) -> Iterator[RunFactory]:
    factory = RunFactory(tmp_path)
    yield factory
    for opened in factory.opened:
        opened.ctx.close()


def final_state(run: TrialRun, uuid: str | None) -> dict[str, Any]:
    """The trainer state saved in checkpoint `uuid`, read back through the Core API."""
    assert uuid is not None
    with run.ctx.checkpoint.restore_path(uuid) as path:
        state: dict[str, Any] = torch.load(Path(path) / "trainer_state.pt", weights_only=True)
    return state
