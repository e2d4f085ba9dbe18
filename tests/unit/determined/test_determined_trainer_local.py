"""`det.pytorch.Trainer` in-process in local mode: evaluate_full_dataset, the one-argument
evaluate_batch, per-metric reducers, LR step modes, stop requests, checkpoint policies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from trainyard.core import CoreUsageError
from trainyard.determined import pytorch

X = torch.arange(16, dtype=torch.float32).reshape(16, 1)
DATA = torch.utils.data.TensorDataset(X, 2 * X)


class Trial(pytorch.PyTorchTrial):
    def __init__(self, context: pytorch.PyTorchTrialContext, stop_at: int = 0) -> None:
        self.context = context
        self.stop_at = stop_at
        self.model = context.wrap_model(torch.nn.Linear(1, 1))
        self.opt = context.wrap_optimizer(torch.optim.SGD(self.model.parameters(), lr=1e-3))
        self.sched = context.wrap_lr_scheduler(
            torch.optim.lr_scheduler.StepLR(self.opt, step_size=1, gamma=0.5),
            pytorch.LRScheduler.StepMode.STEP_EVERY_BATCH,
            frequency=2,
        )

    def build_training_data_loader(self) -> pytorch.DataLoader:
        return pytorch.DataLoader(DATA, batch_size=4)

    def build_validation_data_loader(self) -> pytorch.DataLoader:
        return pytorch.DataLoader(DATA, batch_size=4)

    def train_batch(self, batch: Any, epoch_idx: int, batch_idx: int) -> torch.Tensor:
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.model(x), y)
        self.context.backward(loss)
        self.context.step_optimizer(self.opt)
        if self.stop_at and batch_idx + 1 == self.stop_at:
            self.context.set_stop_requested(True)
        return loss


class ByBatch(Trial):
    def evaluate_batch(self, batch: Any) -> dict[str, Any]:  # type: ignore[override]  # the older form
        x, _ = batch
        return {"first": float(x[0]), "largest": float(x.max())}

    def evaluation_reducer(self) -> dict[str, pytorch.Reducer]:  # type: ignore[override]
        return {"first": pytorch.Reducer.MIN, "largest": pytorch.Reducer.MAX}


class FullDataset(Trial):
    def evaluate_full_dataset(self, data_loader: Any) -> dict[str, Any]:
        return {"records": sum(len(x) for x, _ in data_loader)}


def _fit(tmp_path: Path, cls: type[Trial], **fit: Any) -> tuple[Trial, list[dict[str, Any]]]:
    run_dir = tmp_path / "run"
    with pytorch.init(hparams={"global_batch_size": 4}) as ctx:
        trial = cls(ctx, **fit.pop("trial_kwargs", {}))
        pytorch.Trainer(trial, ctx).fit(**fit)
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return trial, rows


@pytest.fixture(autouse=True)
def _local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRAINYARD_MASTER_URL", raising=False)
    monkeypatch.delenv("TRAINYARD_CONFIG", raising=False)
    monkeypatch.setenv("TRAINYARD_RUN_DIR", str(tmp_path / "run"))


def test_one_argument_evaluate_batch_and_per_metric_reducers(tmp_path: Path) -> None:
    trial, rows = _fit(tmp_path, ByBatch, max_length=pytorch.Epoch(1))
    (validation,) = [r for r in rows if r["group"] == "validation"]
    assert validation["steps"] == 4
    assert validation["metrics"]["first"] == 0.0 and validation["metrics"]["largest"] == 15.0
    assert validation["metrics"]["epochs"] == 1 and validation["metrics"]["batches"] == 4
    assert trial.sched.get_last_lr() == [pytest.approx(1e-3 / 4)]  # every 2nd of 4 batches


def test_full_dataset_evaluation_sees_every_record(tmp_path: Path) -> None:
    _, rows = _fit(tmp_path, FullDataset, max_length=pytorch.Batch(2))
    (validation,) = [r for r in rows if r["group"] == "validation"]
    assert validation["metrics"]["records"] == 16


def test_stop_requested_ends_training_with_a_validation_and_a_checkpoint(tmp_path: Path) -> None:
    _, rows = _fit(
        tmp_path,
        FullDataset,
        max_length=pytorch.Batch(8),
        trial_kwargs={"stop_at": 3},
        step_zero_validation=True,
    )
    assert [r["steps"] for r in rows if r["group"] == "validation"] == [0, 3]
    checkpoints = (tmp_path / "run" / "checkpoints.jsonl").read_text().splitlines()
    assert [json.loads(c)["steps"] for c in checkpoints] == [3]


def test_a_bad_checkpoint_policy_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(CoreUsageError, match="checkpoint_policy 'sometimes'"):
        _fit(tmp_path, FullDataset, max_length=pytorch.Batch(1), checkpoint_policy="sometimes")


def test_without_max_length_or_a_searcher_length_fit_says_what_to_give(tmp_path: Path) -> None:
    with pytest.raises(CoreUsageError, match="give max_length"):
        _fit(tmp_path, FullDataset)
