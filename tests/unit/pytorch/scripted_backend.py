"""The real Core API in local mode, with a scripted searcher and preemption, for trainer tests.

`ScriptedBackend` is `trainyard.core.LocalBackend` (real run folder, real checkpoint storage and
manifests) whose searcher hands out several lengths and which asks for preemption at the n-th
check; `TrialRun` wraps the resulting `trainyard.core.Context` and what the backend recorded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

import trainyard.core as core
from trainyard.config import load_experiment_config


class ScriptedBackend(core.LocalBackend):
    def __init__(
        self,
        run_dir: Path,
        *,
        config: Any,
        hparams: dict[str, Any],
        lengths: Sequence[int],
        preempt_at_call: int | None,
    ) -> None:
        super().__init__(run_dir, config=config, hparams=hparams, echo=False, handle_sigterm=False)
        self.lengths = list(lengths)
        self.preempt_at_call = preempt_at_call
        self.preempt_checks = 0
        self.training: list[tuple[int, dict[str, float]]] = []
        self.validation: list[tuple[int, dict[str, float]]] = []
        self.reported: list[float] = []

    def next_operation(self, after_length: int) -> int | None:
        return next((n for n in self.lengths if n > after_length), None)

    def should_preempt(self) -> bool:
        self.preempt_checks += 1
        return self.preempt_at_call is not None and self.preempt_checks >= self.preempt_at_call

    def report_metrics(self, group: Any, steps: int, metrics: Mapping[str, float | str]) -> None:
        super().report_metrics(group, steps, metrics)
        decoded = {k: float(v) for k, v in metrics.items()}
        (self.training if group == "training" else self.validation).append((steps, decoded))

    def complete_operation(self, length: int, metric: float | str) -> None:
        super().complete_operation(length, metric)
        self.reported.append(float(metric))


class TrialRun:
    """One trial run folder opened through the Core API (reopening it resumes)."""

    def __init__(self, run_dir: Path, config: dict[str, Any], hparams: dict[str, Any], **kw: Any):
        self.run_dir = run_dir
        self.backend = ScriptedBackend(
            run_dir, config=load_experiment_config(config), hparams=hparams, **kw
        )
        self.ctx = core.Context(
            info=self.backend.trial_info(),
            distributed=core.DistributedContext.single(),
            backend=self.backend,
            owns_distributed=False,
        )
        self.training, self.validation = self.backend.training, self.backend.validation
        self.reported = self.backend.reported

    def checkpoints(self) -> list[str]:
        """Registered checkpoint uuids, oldest first."""
        return list(reversed(self.backend.checkpoint_history()))

    def corrupt(self, uuid: str) -> None:
        """Damage one file of checkpoint `uuid` so its manifest no longer matches."""
        target = self.run_dir / "checkpoints" / uuid / "trainer_state.pt"
        target.write_bytes(target.read_bytes()[:100])

    def metrics_file(self) -> list[dict[str, Any]]:
        path = self.run_dir / "metrics.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()]


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


def final_state(run: TrialRun, uuid: str | None) -> dict[str, Any]:
    """The trainer state saved in checkpoint `uuid`, read back through the Core API."""
    assert uuid is not None
    with run.ctx.checkpoint.restore_path(uuid) as path:
        state: dict[str, Any] = torch.load(Path(path) / "trainer_state.pt", weights_only=True)
    return state
